package main

import (
	"errors"
	"fmt"
	"genesissync/internal/admin"

	"github.com/spf13/cobra"
)

func alertsCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{Use: "alerts", Short: "Alerts to Telegram and webhooks (see docs/alerts.md)"}
	configFlag(cmd.PersistentFlags(), &path)
	cmd.AddCommand(&cobra.Command{
		Use:   "test",
		Short: "Ask the running daemon to send a test alert to every configured channel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			n := len(cfg.Alerts.Webhooks)
			if cfg.Alerts.Telegram.Enabled() {
				n++
			}
			if n == 0 {
				return configError{errors.New("no alert channels configured: set alerts.telegram or alerts.webhooks")}
			}
			if err := admin.NewClient(cfg.StateDir).TestAlert(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Test alert sent to %d channel(s).\n", n)
			return nil
		},
	})
	return cmd
}
