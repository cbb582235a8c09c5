package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"genesissync/internal/admin"
	"genesissync/internal/jobs"
	"genesissync/internal/reconcile"
)

func tripwireCmd() *cobra.Command {
	var path string
	var yes bool
	cmd := &cobra.Command{Use: "tripwire", Short: "Review and release the changes a share's ransomware tripwire holds back from the bucket"}
	configFlag(cmd.PersistentFlags(), &path)
	// show prints the share's tripwire and returns it with the daemon's
	// admin client.
	show := func(cmd *cobra.Command, share string) (*reconcile.TripwireStatus, *admin.Client, error) {
		cfg, err := loadConfig(path)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := cfg.Shares[share]; !ok {
			return nil, nil, configError{fmt.Errorf("no share %q in %s", share, path)}
		}
		client := admin.NewClient(cfg.StateDir)
		tw, err := client.Tripwire(cmd.Context(), share)
		if err != nil {
			return nil, nil, err
		}
		printTripwire(cmd.OutOrStdout(), share, tw)
		return tw, client, nil
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show SHARE",
		Short: "Show whether the share's tripwire tripped, who was named, and what it holds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, _, err := show(cmd, args[0])
			return err
		},
	})
	release := &cobra.Command{
		Use:   "release SHARE",
		Short: "Say the held changes are legitimate: they leave for the bucket, and the trip's snapshot is no longer held",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tw, client, err := show(cmd, args[0])
			if err != nil {
				return err
			}
			if tw == nil || (!tw.Tripped && tw.HeldCount == 0) {
				return errors.New("nothing to release")
			}
			if !yes && !confirmed(cmd, fmt.Sprintf("Send these %d held changes to the bucket? Only if no PC is encrypting files.", tw.HeldCount)) {
				return errors.New("not released")
			}
			msg, err := client.ReleaseTripwire(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	release.Flags().BoolVar(&yes, "yes", false, "release without asking")
	cmd.AddCommand(release)

	restoreCmd := &cobra.Command{
		Use:   "restore SHARE",
		Short: "Restore the share from the bucket as it was before the first suspicious change, then re-arm the tripwire (the attack's new files go to the share's trash)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tw, client, err := show(cmd, args[0])
			if err != nil {
				return err
			}
			if tw == nil || (!tw.Tripped && tw.HeldCount == 0) {
				return errors.New("nothing to restore: the tripwire holds nothing")
			}
			if !yes && !confirmed(cmd, "Replace the share's changed files with the bucket's clean copies? Take the encrypting PC off the network first.") {
				return errors.New("not restored")
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			var msg string
			pr := newProgressPrinter(cmd.ErrOrStderr(), "restore", false)
			st, err := runJob(cmd.Context(), cfg, args[0], jobs.Restore, pr, func(a *admin.Client) (string, error) {
				id, m, err := a.RestoreBeforeTrip(cmd.Context(), args[0])
				msg = m
				return id, err
			})
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			if err != nil {
				return err
			}
			if r := st.Restore; r != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%d files restored, %d already right, %d skipped (open over SMB or kept), %d failed.\n", r.Restored, r.Present, r.Skipped, r.Failed)
			}
			tw, err = client.Tripwire(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			printTripwire(cmd.OutOrStdout(), args[0], tw)
			return nil
		},
	}
	restoreCmd.Flags().BoolVar(&yes, "yes", false, "restore without asking")
	cmd.AddCommand(restoreCmd)
	return cmd
}

// printTripwire writes the share's tripwire for a person.
func printTripwire(out io.Writer, share string, tw *reconcile.TripwireStatus) {
	switch {
	case tw == nil:
		fmt.Fprintf(out, "Share %s: the tripwire is off (tripwire.enabled: false).\n", share)
		return
	case tw.Tripped:
		fmt.Fprintf(out, "Share %s: TRIPPED at %s: %s\n", share, tw.TrippedAt.Local().Format(time.DateTime), tw.Reason)
	default:
		fmt.Fprintf(out, "Share %s: armed; %d of %d suspicious changes within %s.\n", share, tw.Counted, tw.MaxRewrites, time.Duration(tw.WindowSeconds*float64(time.Second)))
	}
	if ev := tw.Evidence; ev != nil {
		for _, c := range ev.Clients {
			fmt.Fprintf(out, "  SMB client %s on %s: %s %v\n", c.User, c.Machine, c.Evidence, c.Paths)
		}
		if ev.Snapshot != "" {
			fmt.Fprintf(out, "  held snapshot %s\n", ev.Snapshot)
		}
		for _, p := range ev.Problems {
			fmt.Fprintf(out, "  (%s)\n", p)
		}
	}
	fmt.Fprintf(out, "%d change(s) held back from the bucket:\n", tw.HeldCount)
	for _, h := range tw.Held {
		fmt.Fprintf(out, "  %s %q: %s\n", h.Change, h.Path, h.Reason)
	}
	if tw.HeldCount > len(tw.Held) {
		fmt.Fprintf(out, "  ... and %d more\n", tw.HeldCount-len(tw.Held))
	}
}
