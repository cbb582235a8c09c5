package main

import "github.com/spf13/cobra"

func verifyCmd() *cobra.Command {
	return &cobra.Command{Use: "verify", Short: "not implemented yet", Hidden: true}
}

func restoreCmd() *cobra.Command {
	return &cobra.Command{Use: "restore", Short: "not implemented yet", Hidden: true}
}
