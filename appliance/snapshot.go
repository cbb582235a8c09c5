package main

import "github.com/spf13/cobra"

func snapshotCmd() *cobra.Command {
	return &cobra.Command{Use: "snapshot", Short: "not implemented yet", Hidden: true}
}
