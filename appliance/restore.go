package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"genesissync/internal/admin"
	"genesissync/internal/config"
	"genesissync/internal/jobs"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/restore"
	"genesissync/internal/station"
)

// exitMismatch is verify's exit code when it ran and found mismatches.
const exitMismatch = 3

// codedError carries its own exit code (see exitCode in main.go).
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

// shareConfig loads the config and returns the named share.
func shareConfig(path, share string) (*config.Config, *config.Share, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	sc, ok := cfg.Shares[share]
	if !ok {
		return nil, nil, configError{fmt.Errorf("no share %q in %s", share, path)}
	}
	return cfg, sc, nil
}

func verifyCmd() *cobra.Command {
	var (
		path, dir, prefix string
		deep, asJSON      bool
		sample            float64
	)
	cmd := &cobra.Command{
		Use:   "verify SHARE",
		Short: "Compare a share, its index and its bucket; exit 0 clean, 3 mismatches found, 1 could not run",
		Long: `Compare the share, its index and its bucket by listings and stored SHA-256
hashes (or, with --deep, by reading and hashing the data on both sides).
Reports files missing on either side, size and hash mismatches, objects
without hash metadata and refused object names.

While the daemon runs, the verify runs inside it (admin socket); otherwise
in this process. --dir checks a directory (a restore target) strictly
against the bucket instead, without the index.

Exit codes: 0 clean, 3 mismatches found, 1 failed to run, 2 bad usage.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sample < 0 || sample > 100 {
				return configError{fmt.Errorf("--sample %g: want a percentage from 0 to 100", sample)}
			}
			cfg, sc, err := shareConfig(path, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			pr := newProgressPrinter(cmd.ErrOrStderr(), "verify", asJSON)
			var rep restore.Report
			switch {
			case dir == "" && prefix == "" && admin.Running(cfg.StateDir):
				st, err := runJob(ctx, cfg, args[0], jobs.Verify, pr, func(a *admin.Client) (string, error) {
					return a.StartVerify(ctx, args[0], deep, sample)
				})
				if err != nil {
					return err
				}
				rep = *st.Verify
			default:
				o := restore.VerifyOptions{Root: sc.Path, Prefix: prefix, Deep: deep, SamplePercent: sample,
					Matcher: station.Matcher(sc), Progress: pr.update}
				if dir != "" {
					o.Root = dir
				} else {
					ix, err := station.OpenIndex(cfg)
					if err != nil {
						return err
					}
					defer ix.Close()
					// An empty index (a share never synced here) has nothing to
					// say about sync state: compare strictly.
					if empty, err := ix.Share(args[0]).Empty(); err != nil {
						return err
					} else if !empty {
						o.Index = ix.Share(args[0])
					}
				}
				store, err := objstore.NewS3(ctx, station.S3Options(sc.Target), zerolog.Nop())
				if err != nil {
					return err
				}
				o.Bucket = store
				rep, err = restore.Verify(ctx, o)
				pr.done()
				if err != nil {
					return err
				}
			}
			if err := printReport(cmd.OutOrStdout(), asJSON, rep); err != nil {
				return err
			}
			if !rep.Clean() {
				return codedError{exitMismatch, fmt.Errorf("verify %s: %d mismatches", args[0], rep.Mismatches)}
			}
			return nil
		},
	}
	configFlag(cmd.Flags(), &path)
	cmd.Flags().BoolVar(&deep, "deep", false, "read and hash the data on both sides")
	cmd.Flags().Float64Var(&sample, "sample", 0, "check the content of only this random percentage of the files (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (progress as JSON lines on stderr)")
	cmd.Flags().StringVar(&dir, "dir", "", "verify this directory (a restore target) strictly against the bucket, without the index")
	cmd.Flags().StringVar(&prefix, "prefix", "", "only paths starting with this prefix (runs in this process)")
	return cmd
}

func restoreCmd() *cobra.Command {
	var (
		path, prefix, glob, at, to string
		dryRun, overwrite, asJSON  bool
		concurrency                int
	)
	cmd := &cobra.Command{
		Use:   "restore SHARE",
		Short: "Restore files from the bucket: full, selective (--prefix, --glob) or point-in-time (--at)",
		Long: `Restore files from the share's bucket, each verified against its SHA-256
before it is renamed into place, with its mtime. Existing files with the
right content are skipped (a rerun continues an interrupted restore);
existing files that differ are left alone unless --overwrite, and a file an
SMB client holds open is never replaced.

--to DIR restores into another directory (created if missing) and never
needs the daemon. Without --to the restore goes into the live share: a ZFS
snapshot is taken first when the share is on ZFS; while the daemon runs it
does the restore. Into an empty share with an empty index (a cold boot)
the index is rebuilt from what was restored, so the daemon's first start
finds everything in sync.

--at restores every file as it was at that time (RFC 3339, or local
"2006-01-02 15:04[:05]"), from bucket versions.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if prefix != "" && glob != "" {
				return configError{errors.New("--prefix and --glob exclude each other")}
			}
			var when time.Time
			if at != "" {
				var err error
				if when, err = parseTime(at); err != nil {
					return configError{err}
				}
			}
			cfg, sc, err := shareConfig(path, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			pr := newProgressPrinter(cmd.ErrOrStderr(), "restore", asJSON)
			if to != "" && filepath.Clean(to) == filepath.Clean(sc.Path) {
				to = "" // the share itself: a live restore
			}
			var res restore.Result
			if to == "" && admin.Running(cfg.StateDir) {
				st, err := runJob(ctx, cfg, args[0], jobs.Restore, pr, func(a *admin.Client) (string, error) {
					return a.StartRestore(ctx, args[0], admin.RestoreRequest{Prefix: prefix, Glob: glob, At: when, Overwrite: overwrite, DryRun: dryRun})
				})
				if st.Restore != nil {
					res = *st.Restore
				}
				if err != nil {
					return err
				}
			} else {
				store, err := objstore.NewS3(ctx, station.S3Options(sc.Target), zerolog.Nop())
				if err != nil {
					return err
				}
				o := restore.Options{Root: to, Bucket: store, Versions: store, Prefix: prefix, Glob: glob, At: when,
					Overwrite: overwrite, DryRun: dryRun, Concurrency: concurrency, UID: -1, GID: -1,
					CleanTemp: true, Matcher: station.Matcher(sc),
					Progress: pr.update, Log: newLogger(cfg).Level(zerolog.WarnLevel)}
				if to != "" {
					if !dryRun {
						if err := os.MkdirAll(to, 0o755); err != nil {
							return err
						}
					}
				} else {
					// The live share, daemon stopped: this process is the
					// only writer. Files are owned as the daemon would own them.
					o.Root, o.Dataset = sc.Path, sc.Dataset
					if o.UID, o.GID, err = station.Owner(cfg); err != nil {
						return err
					}
					o.OpenFiles = station.OfflineOpenFiles(cfg, args[0], newLogger(cfg))
					ix, err := station.OpenIndex(cfg)
					if err != nil {
						return err
					}
					defer ix.Close()
					o.Index, o.Share = ix.Share(args[0]), args[0]
				}
				lessGC()
				res, err = restore.Restore(ctx, o)
				pr.done()
				if err != nil {
					return err
				}
			}
			if err := printResult(cmd.OutOrStdout(), asJSON, res); err != nil {
				return err
			}
			if res.Failed > 0 {
				return fmt.Errorf("restore %s: %d files failed", args[0], res.Failed)
			}
			return nil
		},
	}
	configFlag(cmd.Flags(), &path)
	cmd.Flags().StringVar(&prefix, "prefix", "", "restore only paths starting with this prefix (\"jingles/\" is a folder)")
	cmd.Flags().StringVar(&glob, "glob", "", "restore only paths matching this glob (no \"/\": the file name; with \"/\": the whole path)")
	cmd.Flags().StringVar(&at, "at", "", "restore the files as they were at this time (needs bucket versioning)")
	cmd.Flags().StringVar(&to, "to", "", "restore into this directory instead of the live share")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be restored; write nothing")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace existing files that differ (never files open over SMB)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (progress as JSON lines on stderr)")
	cmd.Flags().IntVar(&concurrency, "concurrency", 0, fmt.Sprintf("files restored at once (0: %d; in-process only)", restore.DefaultConcurrency))
	return cmd
}

// lessGC makes this process collect garbage less often while it
// restores, unless GOGC or GOMEMLIMIT say otherwise. A restore keeps
// little alive (the object list) but allocates per file (SDK requests,
// the downloader's copy buffer), so GOGC 400 lets the heap grow to five
// times what is alive, capped at 1 GiB (docs/restore.md has the profile).
func lessGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(1 << 30)
	}
}

// parseTime reads --at: RFC 3339, or a local date and time.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: want RFC 3339 (2025-03-01T14:00:00+01:00) or local \"2025-03-01 14:00\"", s)
}

// runJob starts a job on the daemon and follows it to its end.
func runJob(ctx context.Context, cfg *config.Config, share, kind string, pr *progressPrinter, start func(*admin.Client) (string, error)) (jobs.Job, error) {
	client := admin.NewClient(cfg.StateDir)
	id, err := start(client)
	if err != nil {
		return jobs.Job{}, err
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			pr.done()
			return jobs.Job{}, fmt.Errorf("%s job %s keeps running in the daemon: %w", kind, id, ctx.Err())
		case <-tick.C:
		}
		st, err := client.Job(ctx, share, kind, id)
		if err != nil {
			pr.done()
			return st, err
		}
		pr.update(st.Progress)
		switch st.State {
		case jobs.Done:
			pr.done()
			return st, nil
		case jobs.Failed:
			pr.done()
			return st, fmt.Errorf("%s job %s: %s", kind, id, st.Error)
		}
	}
}

// progressPrinter renders progress: a bar per phase on a terminal
// (schollz/progressbar), a plain line every few seconds otherwise, JSON
// lines with --json. Safe for concurrent use.
type progressPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	what  string
	tty   bool
	json  bool
	last  time.Time
	bar   *progressbar.ProgressBar
	phase string
	total int64
}

func newProgressPrinter(w io.Writer, what string, asJSON bool) *progressPrinter {
	p := &progressPrinter{w: w, what: what, json: asJSON}
	if f, ok := w.(*os.File); ok && !asJSON {
		p.tty = term.IsTerminal(int(f.Fd()))
	}
	return p
}

func (p *progressPrinter) update(pg restore.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.json:
		b, _ := json.Marshal(map[string]any{"progress": pg})
		fmt.Fprintf(p.w, "%s\n", b)
	case p.tty:
		// Bytes when the phase knows them, else files; a spinner while
		// the total is not known yet (listing).
		total, cur, bytes := pg.BytesTotal, pg.Bytes, true
		if total <= 0 {
			total, cur, bytes = int64(pg.FilesTotal), int64(pg.Files), false
		}
		if total <= 0 {
			total = -1
		}
		// A new bar for a new phase; "done" finishes the phase's own.
		if p.bar == nil || (p.phase != pg.Phase && pg.Phase != "done") || p.total != total {
			p.finish()
			p.bar, p.phase, p.total = newBar(p.w, total, bytes), pg.Phase, total
		}
		p.bar.Describe(fmt.Sprintf("%s %s %d/%d files", p.what, pg.Phase, pg.Files, pg.FilesTotal))
		_ = p.bar.Set64(cur)
	case time.Since(p.last) >= 5*time.Second || pg.Phase == "done":
		p.last = time.Now()
		fmt.Fprintln(p.w, progressLine(p.what, pg))
	}
}

// done ends the bar's line.
func (p *progressPrinter) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finish()
}

func (p *progressPrinter) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

// newBar is the CLI's progress bar on a terminal: of total bytes (or
// files), with rate and time left; total -1 is a spinner.
func newBar(w io.Writer, total int64, bytes bool) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200 * time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionShowCount(),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString("files"))
	}
	return progressbar.NewOptions64(total, opts...)
}

// progressLine is one plain line of progress: files, bytes, rate and
// time left.
func progressLine(what string, pg restore.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-9s %d/%d files", what, pg.Phase, pg.Files, pg.FilesTotal)
	if pg.BytesTotal > 0 || pg.Bytes > 0 {
		fmt.Fprintf(&b, "  %s/%s", model.HumanBytes(pg.Bytes), model.HumanBytes(pg.BytesTotal))
	}
	fmt.Fprintf(&b, "  %s/s", model.HumanBytes(int64(pg.Rate)))
	if pg.ETA > 0 {
		fmt.Fprintf(&b, "  %s left", pg.ETA.Round(time.Second))
	}
	return b.String()
}

func printReport(w io.Writer, asJSON bool, rep restore.Report) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	verdict := "clean"
	if !rep.Clean() {
		verdict = fmt.Sprintf("%d MISMATCHES", rep.Mismatches)
	}
	fmt.Fprintf(w, "verify (%s, %g%% sampled): %s\n", rep.Mode, rep.SamplePercent, verdict)
	fmt.Fprintf(w, "  share %d files, bucket %d objects, index %d entries; %d compared, %d pending sync\n",
		rep.Local, rep.Remote, rep.Indexed, rep.Checked, rep.Pending)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if rep.Truncated {
		fmt.Fprintf(w, "  ... more problems not listed; counts: %v\n", rep.Counts)
	}
	return nil
}

func printResult(w io.Writer, asJSON bool, res restore.Result) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	verb := "restored"
	if res.DryRun {
		verb = "would restore"
	}
	fmt.Fprintf(w, "restore into %s: %s %d files (%s), %d already present, %d skipped, %d failed",
		res.Root, verb, res.Restored, model.HumanBytes(res.RestoredBytes), res.Present, res.Skipped, res.Failed)
	if res.Rate > 0 {
		fmt.Fprintf(w, ", %s/s", model.HumanBytes(int64(res.Rate)))
	}
	fmt.Fprintln(w)
	if res.Snapshot != "" {
		fmt.Fprintf(w, "  snapshot %s taken first\n", res.Snapshot)
	}
	if res.Indexed > 0 {
		fmt.Fprintf(w, "  index rebuilt: %d entries (cold boot)\n", res.Indexed)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	for _, warning := range res.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warning)
	}
	return nil
}
