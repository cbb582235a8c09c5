package main

import "github.com/spf13/cobra"

func alertsCmd() *cobra.Command {
	return &cobra.Command{Use: "alerts", Short: "not implemented yet", Hidden: true}
}
