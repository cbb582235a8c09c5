package main

import (
	"fmt"
	"genesissync/internal/admin"

	"github.com/spf13/cobra"
)

// shareCmd is "genesissync share pause|resume|sync SHARE": the running
// daemon's share controls, through its admin socket.
func shareCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{Use: "share", Short: "Pause, resume or sync a share of the running daemon"}
	configFlag(cmd.PersistentFlags(), &path)
	for _, c := range []struct{ verb, short, done string }{
		{"pause", "Stop starting transfers (what runs finishes; changes keep being noticed)", "paused"},
		{"resume", "Start transfers again after a pause", "resumed"},
		{"sync", "Run a full reconcile pass now", "full pass requested"},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   c.verb + " SHARE",
			Short: c.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := loadConfig(path)
				if err != nil {
					return err
				}
				if _, ok := cfg.Shares[args[0]]; !ok {
					return configError{fmt.Errorf("no share %q in %s", args[0], path)}
				}
				if err := admin.NewClient(cfg.StateDir).ShareAction(cmd.Context(), args[0], c.verb); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Share %s: %s.\n", args[0], c.done)
				return nil
			},
		})
	}
	return cmd
}
