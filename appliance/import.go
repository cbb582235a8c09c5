package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"genesissync/internal/config"
	"genesissync/internal/ingest"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/restore"
	"genesissync/internal/station"
)

func importCmd() *cobra.Command {
	var (
		path, share, into string
		dryRun, asJSON    bool
		concurrency       int
		from              ingest.From
	)
	cmd := &cobra.Command{
		Use:   "import [SRC...] [--from-bucket s3://BUCKET/PREFIX] --share SHARE [--into DIR]",
		Short: "Copy existing media trees (an old playout PC's folder, a USB disk, a NAS mount, another bucket) into a share, verified, never overwriting",
		Long: `Copy one or more existing media trees into a share: each file streamed into
a hidden temp file in its folder with its SHA-256 taken on the way, fsynced,
given its mtime and the service user, and renamed into place only while
the name is free. Files already there with the same size and mtime, or
the same bytes, are skipped; a path the share or an earlier SRC holds with
other bytes is a collision, reported and left alone; names the share
cannot hold (Windows-illegal, reserved, case collisions) are refused with
the reason. An interrupted import is resumed by running it again. While the
daemon runs, what appears is uploaded like any file saved on the share.

--from-bucket imports the objects under a bucket prefix too (after the SRC
trees, which win where both hold a path), each key below the prefix the
share path it names, through the same writer: verified while it streams
by its sha256 metadata, else by its ETag reproduced (single-part MD5 or
multipart); a mismatch fails the object and nothing is published, and an
object neither can prove is imported with a "not verified" note. The
bucket is reached at the share's target endpoint with its credentials,
or at --from-endpoint with --from-credentials-file (an AWS shared
credentials file, profile "default", as target.credentials_file). On
the target's endpoint each object is also copied server-side into the
share's target prefix with our metadata, where nothing is at its key
yet, so that the daemon adopts both sides without uploading.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && from.URL == "" {
				return errors.New("give at least one SRC directory or --from-bucket")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if share == "" {
				return configError{errors.New("--share is required")}
			}
			if from.URL == "" && (from.Endpoint != "" || from.CredentialsFile != "") {
				return configError{errors.New("--from-endpoint and --from-credentials-file go with --from-bucket")}
			}
			cfg, sc, err := shareConfig(path, share)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if check := station.RootCheck(sc); check != nil {
				if err := check(ctx); err != nil {
					return fmt.Errorf("share %s: %w; not importing into an unmounted dataset", share, err)
				}
			}
			uid, gid, err := station.Owner(cfg)
			if err != nil {
				return err
			}
			if !dryRun {
				// What an interrupted import left; the daemon's downloads
				// (if it runs) are not touched.
				if _, err := ingest.CleanTemp(sc.Path); err != nil {
					return err
				}
			}
			var bucket *ingest.BucketSource
			if from.URL != "" {
				if bucket, err = openBucketSource(ctx, sc.Target, from); err != nil {
					return err
				}
			}
			pr := newProgressPrinter(cmd.ErrOrStderr(), "import", asJSON)
			start := time.Now()
			res, err := ingest.Import(ctx, ingest.Options{
				Sources: args, Bucket: bucket, Root: sc.Path, Into: into, DryRun: dryRun, Concurrency: concurrency,
				Matcher: station.Matcher(sc), UID: uid, GID: gid,
				Progress: func(pg ingest.Progress) { pr.update(importProgress(pg, time.Since(start))) },
			})
			pr.done()
			if perr := printImport(cmd.OutOrStdout(), asJSON, share, bucket, res); perr != nil {
				return perr
			}
			if err != nil {
				return err
			}
			if res.Failed > 0 {
				return fmt.Errorf("import into %s: %d files failed", share, res.Failed)
			}
			return nil
		},
	}
	configFlag(cmd.Flags(), &path)
	cmd.Flags().StringVar(&share, "share", "", "the share to import into (required)")
	cmd.Flags().StringVar(&into, "into", "", "a folder of the share to put the trees in (default: its top)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be copied, skipped, refused and colliding; write nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "progress and the result as JSON lines")
	cmd.Flags().IntVar(&concurrency, "concurrency", 0, fmt.Sprintf("files copied at once (default %d)", ingest.DefaultConcurrency))
	cmd.Flags().StringVar(&from.URL, "from-bucket", "", "also import the objects under s3://BUCKET/PREFIX")
	cmd.Flags().StringVar(&from.Endpoint, "from-endpoint", "", "the source bucket's S3 endpoint URL (default: the share target's)")
	cmd.Flags().StringVar(&from.CredentialsFile, "from-credentials-file", "", "AWS shared credentials file for the source bucket, profile default (default: the share target's credentials)")
	return cmd
}

// openBucketSource opens the store of --from-bucket and, when it is on
// the share target's endpoint, the target for the server-side copies.
// Nothing here prints or returns a credential.
func openBucketSource(ctx context.Context, t config.Target, from ingest.From) (*ingest.BucketSource, error) {
	target := station.S3Options(t)
	opts, same, err := ingest.SourceOptions(target, from)
	if err != nil {
		return nil, configError{err}
	}
	src, err := objstore.NewS3(ctx, opts, zerolog.Nop())
	if err != nil {
		return nil, fmt.Errorf("source bucket: %w", err)
	}
	b := &ingest.BucketSource{Objects: src, Bucket: src.Bucket(), Prefix: src.Prefix()}
	if same {
		tgt, err := objstore.NewS3(ctx, target, zerolog.Nop())
		if err != nil {
			return nil, fmt.Errorf("share target: %w", err)
		}
		b.Target = tgt
	}
	return b, nil
}

func printImport(w io.Writer, asJSON bool, share string, bucket *ingest.BucketSource, res ingest.Result) error {
	if asJSON {
		b, err := json.Marshal(map[string]any{"result": res})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	verb := "copied"
	if res.DryRun {
		verb = "would copy"
	}
	fmt.Fprintf(w, "import into %s: %s %d files (%s), %d identical skipped, %d collisions, %d refused, %d failed",
		share, verb, res.Copied, model.HumanBytes(res.CopiedBytes), res.Identical, res.Collided, res.Refused, res.Failed)
	if bucket != nil {
		fmt.Fprintf(w, ", %d not verified", res.NotVerified)
	}
	if res.Rate > 0 && !res.DryRun {
		fmt.Fprintf(w, ", %s/s", model.HumanBytes(int64(res.Rate)))
	}
	fmt.Fprintln(w)
	if bucket != nil && len(res.VerifiedBy) > 0 {
		proofs := make([]string, 0, len(res.VerifiedBy))
		for p := range res.VerifiedBy {
			proofs = append(proofs, p)
		}
		sort.Strings(proofs)
		for i, p := range proofs {
			proofs[i] = fmt.Sprintf("%d by %s", res.VerifiedBy[p], p)
		}
		fmt.Fprintf(w, "  verified: %s\n", strings.Join(proofs, ", "))
	}
	if bucket != nil && bucket.Target != nil {
		verb := "copied"
		if res.DryRun {
			verb = "would copy"
		}
		fmt.Fprintf(w, "  share's target: %s %d objects server-side (%s), %d already there, %d not copied\n",
			verb, res.TargetCopied, model.HumanBytes(res.TargetCopiedBytes), res.TargetPresent, res.TargetSkipped)
	}
	for _, c := range res.Collisions {
		fmt.Fprintf(w, "  collision: %q from %s: the %s holds other bytes there (left alone)\n", c.Path, c.Source, existing(c.Existing))
	}
	for _, r := range res.Refusals {
		fmt.Fprintf(w, "  refused: %s: %s\n", r.Source, r.Reason)
	}
	for _, f := range res.Failures {
		fmt.Fprintf(w, "  failed: %s: %s\n", f.Source, f.Reason)
	}
	for _, u := range res.Unverified {
		fmt.Fprintf(w, "  imported: %s: %s\n", u.Source, u.Reason)
	}
	for _, n := range res.TargetNotes {
		fmt.Fprintf(w, "  target: %s: %s\n", n.Source, n.Reason)
	}
	return nil
}

func existing(e string) string {
	if e == "share" {
		return "share"
	}
	return "earlier source " + e
}

// importProgress is an import's progress in the terms of the CLI's one
// progress printer (restore's, verify's): phase "copying", with the rate
// and time left from the bytes done so far.
func importProgress(pg ingest.Progress, elapsed time.Duration) restore.Progress {
	p := restore.Progress{Phase: "copying", Files: pg.Files, FilesTotal: pg.FilesTotal,
		Bytes: pg.Bytes, BytesTotal: pg.BytesTotal, Elapsed: elapsed}
	if pg.Files == pg.FilesTotal {
		p.Phase = "done"
	}
	if s := elapsed.Seconds(); s > 0 && pg.Bytes > 0 {
		p.Rate = float64(pg.Bytes) / s
		p.ETA = time.Duration(float64(pg.BytesTotal-pg.Bytes) / p.Rate * float64(time.Second))
	}
	return p
}
