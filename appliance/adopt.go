package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"genesissync/internal/admin"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
	"genesissync/internal/station"
)

func adoptCmd() *cobra.Command {
	var (
		path           string
		dryRun, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "adopt SHARE --dry-run",
		Short: "Show what the first pass over an existing share and bucket prefix will do (identical, different, only on one side)",
		Long: `Before the first start on a share and a bucket prefix that already hold
files (an mc mirror cron's bucket, AzuraCast's storage, a restored
share), show what the daemon's first pass will do, decided by the same
code: files proven identical by our sha256 metadata, by their ETag (MD5 or
multipart, recomputed from the share's bytes) or by reading the object;
files that differ (each becomes a conflict: both versions kept); files on
one side only (uploaded or downloaded). It reads every local file that
has a counterpart, and the objects whose ETag proves nothing; it writes
nothing. The daemon must be stopped (it holds the index).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !dryRun {
				return configError{errors.New("adopt only shows the plan (--dry-run); the daemon's first pass carries it out: start the daemon")}
			}
			cfg, sc, err := shareConfig(path, args[0])
			if err != nil {
				return err
			}
			if admin.Running(cfg.StateDir) {
				return errors.New("the daemon is running: its first pass has run already; see the status page")
			}
			sv, err := station.Survey(cmd.Context(), cfg, args[0], newLogger(cfg).Level(zerolog.WarnLevel))
			if err != nil {
				return err
			}
			where := fmt.Sprintf("%s and s3://%s/%s", sc.Path, sc.Target.Bucket, sc.Target.Prefix)
			return printSurvey(cmd.OutOrStdout(), asJSON, args[0], where, sv)
		},
	}
	configFlag(cmd.Flags(), &path)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the plan; change nothing (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	return cmd
}

func printSurvey(w io.Writer, asJSON bool, share, where string, sv reconcile.Survey) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sv)
	}
	fmt.Fprintf(w, "adopt %s: the first pass over %s would find\n", share, where)
	row := func(what string, t reconcile.Tally, note string) {
		fmt.Fprintf(w, "  %-34s %7d files %10s", what, t.Files, model.HumanBytes(t.Bytes))
		if note != "" && t.Files > 0 {
			fmt.Fprintf(w, "  %s", note)
		}
		fmt.Fprintln(w)
	}
	row("identical by sha256 metadata", sv.IdenticalByMetadata, "adopted")
	row("identical by ETag", sv.IdenticalByETag, "adopted, nothing transferred")
	row("identical after reading the object", sv.IdenticalByReading, "adopted, nothing transferred")
	row("different", sv.Different, "each a conflict: both versions kept")
	row("only on the share", sv.OnlyLocal, "uploaded")
	row("only in the bucket", sv.OnlyRemote, "downloaded")
	row("already in sync (index)", sv.InSync, "")
	row("changed since the last sync", sv.Changed, "uploaded or downloaded")
	row("deletes", sv.Deletes, "subject to the mass-delete guard")
	row("refused names", sv.Refused, "not synced")
	row("being written or unreadable", sv.Waiting, "decided when they settle")
	fmt.Fprintf(w, "  read from the bucket to decide: %s\n", model.HumanBytes(sv.BytesRead))
	for _, c := range sv.Conflicts {
		fmt.Fprintf(w, "  conflict: %s\n", c)
	}
	for _, r := range sv.RefusedPaths {
		fmt.Fprintf(w, "  refused: %s\n", r)
	}
	for _, e := range sv.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	return nil
}
