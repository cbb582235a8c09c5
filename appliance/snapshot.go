package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"genesissync/internal/admin"
	"genesissync/internal/config"
	"genesissync/internal/snapshot"
	"genesissync/internal/station"
	"genesissync/internal/zfs"
)

// snapshotCmd is `genesissync snapshot list|create|rollback|prune SHARE`.
// With the daemon running every command goes through its admin socket;
// without it, list, create and prune work on ZFS directly, and rollback
// refuses (only the daemon can hold the deletes a rollback causes).
func snapshotCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{Use: "snapshot", Short: "List, take, prune and roll back a share's ZFS snapshots"}
	configFlag(cmd.PersistentFlags(), &path)

	// target loads the config, checks the share and says whether the
	// daemon answers on its admin socket.
	target := func(share string) (*config.Config, *config.Share, *admin.Client, error) {
		cfg, err := loadConfig(path)
		if err != nil {
			return nil, nil, nil, err
		}
		sc, ok := cfg.Shares[share]
		if !ok {
			return nil, nil, nil, configError{fmt.Errorf("no share %q in %s", share, path)}
		}
		if sc.Dataset == "" || !sc.Snapshots.On() {
			return nil, nil, nil, fmt.Errorf("share %s: snapshots are off (not on a ZFS dataset, or snapshots.enabled: false)", share)
		}
		if admin.Running(cfg.StateDir) {
			return cfg, sc, admin.NewClient(cfg.StateDir), nil
		}
		return cfg, sc, nil, nil
	}
	offline := func(name string, sc *config.Share) *snapshot.Manager {
		return snapshot.New(station.SnapshotOptions(name, sc, zerolog.New(os.Stderr).Level(zerolog.WarnLevel)))
	}

	cmd.AddCommand(&cobra.Command{
		Use:   "list SHARE",
		Short: "List the share's snapshots, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, sc, client, err := target(args[0])
			if err != nil {
				return err
			}
			var snaps []zfs.SnapshotInfo
			if client != nil {
				l, err := client.Snapshots(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				snaps = l.Snapshots
			} else if snaps, err = offline(args[0], sc).List(cmd.Context()); err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tKIND\tCREATED (UTC)\tUSED\tHELD")
			for _, s := range snaps {
				held := ""
				if s.Held() {
					held = "held"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", s.Name, s.Kind(), s.Created.UTC().Format("2006-01-02 15:04:05"), s.Used, held)
			}
			return w.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "create SHARE",
		Short: "Take a snapshot now (named like the schedule's, shown as a Previous Version)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, sc, client, err := target(args[0])
			if err != nil {
				return err
			}
			var name string
			if client != nil {
				name, err = client.CreateSnapshot(cmd.Context(), args[0])
			} else {
				name, err = offline(args[0], sc).Create(cmd.Context())
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Snapshot %s@%s taken.\n", sc.Dataset, name)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "prune SHARE",
		Short: "Destroy the scheduled snapshots the retention no longer keeps, and expired pre-operation ones",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, sc, client, err := target(args[0])
			if err != nil {
				return err
			}
			var res admin.PruneResult
			if client != nil {
				res, err = client.PruneSnapshots(cmd.Context(), args[0])
			} else {
				res.Pruned, res.Expired, err = offline(args[0], sc).Prune(cmd.Context())
			}
			out := cmd.OutOrStdout()
			for _, n := range res.Pruned {
				fmt.Fprintf(out, "pruned  %s\n", n)
			}
			for _, n := range res.Expired {
				fmt.Fprintf(out, "expired %s\n", n)
			}
			if err == nil && len(res.Pruned)+len(res.Expired) == 0 {
				fmt.Fprintln(out, "Nothing to prune.")
			}
			return err
		},
	})

	var yes, destroyNewer bool
	rollback := &cobra.Command{
		Use:   "rollback SHARE SNAPSHOT",
		Short: "Return the share to a snapshot (the daemon must run; the deletes it causes wait for approval)",
		Long: "Rolls the share's dataset back to SNAPSHOT, discarding every change since. It refuses while\n" +
			"the share is syncing. Files the rollback removes are not deleted from the bucket until a person\n" +
			"approves the held delete batch (genesissync deletes approve). Snapshots newer than SNAPSHOT are\n" +
			"destroyed by ZFS, so rolling back past them needs --destroy-newer.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			share, snap := args[0], args[1]
			_, sc, client, err := target(share)
			if err != nil {
				return err
			}
			if client == nil {
				return errors.New("the daemon is not running: a rollback needs it, so that the deletes it causes wait for approval instead of reaching the bucket; start it and retry")
			}
			if !yes {
				if !term.IsTerminal(int(os.Stdin.Fd())) {
					return errors.New("rollback discards every change since the snapshot: confirm on a terminal, or pass --yes")
				}
				what := "every change since then"
				if destroyNewer {
					what += " and every newer snapshot"
				}
				if !confirmed(cmd, fmt.Sprintf("Roll %s (%s) back to %s, discarding %s?", share, sc.Dataset, snap, what)) {
					return errors.New("not rolled back")
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			if err := client.Rollback(ctx, share, snap, destroyNewer); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Share %s rolled back to %s. Files it removed wait for approval before they leave the bucket: genesissync deletes show %s\n", share, snap, share)
			return nil
		},
	}
	rollback.Flags().BoolVarP(&yes, "yes", "y", false, "roll back without asking")
	rollback.Flags().BoolVar(&destroyNewer, "destroy-newer", false, "allow destroying the snapshots newer than SNAPSHOT (zfs rollback -r)")
	cmd.AddCommand(rollback)
	return cmd
}
