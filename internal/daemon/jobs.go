package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/admin"
	"genesissync/internal/eventlog"
	"genesissync/internal/jobs"
	"genesissync/internal/model"
	"genesissync/internal/restore"
	"genesissync/internal/station"
)

// startVerify starts each share's scheduled verify in g: the first run
// VerifyFirstDelay after start (or the interval, if shorter), then every
// interval. Jobs started from the admin API also end with ctx.
func (d *Daemon) startVerify(ctx context.Context, g *errgroup.Group) error {
	d.jobs.SetParent(ctx)
	for _, rt := range d.runtimes {
		period := rt.cfg.Verify.Period()
		if period <= 0 {
			continue
		}
		g.Go(func() error {
			wait := min(period, VerifyFirstDelay)
			for {
				d.jobs.SetNext(rt.name, time.Now().Add(wait))
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
				wait = period
				if _, err := d.startVerifyJob(rt.name, rt.cfg.Verify.Deep, rt.cfg.Verify.SamplePercent); err != nil {
					d.log.Warn().Str("component", "verify").Str("share", rt.name).Err(err).Msg("scheduled verify not started")
				}
			}
		})
	}
	return nil
}

// VerifyFirstDelay is how long after start the first scheduled verify
// runs: after the first full scan and bucket listing have settled.
const VerifyFirstDelay = 10 * time.Minute

// verifyStatus is the share's verify state for the status API.
func (d *Daemon) verifyStatus(rt *shareRuntime) model.Verify {
	js := d.jobs.Share(rt.name)
	v := model.Verify{Interval: rt.cfg.Verify.Period(), NextRun: js.NextVerify}
	if st := js.Running; st != nil {
		p := st.Progress
		v.Running = &model.Job{ID: st.ID, Kind: st.Kind, StartedAt: st.StartedAt, Phase: p.Phase,
			Files: p.Files, FilesTotal: p.FilesTotal, Bytes: p.Bytes, BytesTotal: p.BytesTotal, Rate: p.Rate, ETA: p.ETA}
	}
	last := js.LastVerify
	if last == nil {
		return v
	}
	v.LastJob = last.ID
	v.Error = last.Error
	if rep := last.Verify; rep != nil {
		v.LastRun, v.Mode, v.SamplePercent = rep.FinishedAt, rep.Mode, rep.SamplePercent
		v.Checked, v.Pending, v.Mismatches = rep.Checked, rep.Pending, rep.Mismatches
		for k, n := range rep.Counts {
			if !k.Mismatch() {
				v.Warnings += n
			}
		}
		for _, p := range rep.Problems[:min(len(rep.Problems), 20)] {
			v.Problems = append(v.Problems, model.VerifyProblem{Path: p.Path, Kind: string(p.Kind), Detail: p.Detail})
		}
	}
	return v
}

// startVerifyJob starts a verify of the share in the background and
// returns its job id; its progress and result show in verifyStatus.
// samplePercent 0 checks every file.
func (d *Daemon) startVerifyJob(share string, deep bool, samplePercent float64) (string, error) {
	rt := d.runtime(share)
	if rt == nil {
		return "", fmt.Errorf("no share %q", share)
	}
	h, ctx, err := d.jobs.Begin(share, jobs.Verify)
	if err != nil {
		return "", err
	}
	log := d.log.With().Str("component", "verify").Str("share", share).Str("job", h.ID()).Logger()
	log.Info().Bool("deep", deep).Float64("sample_percent", samplePercent).Msg("verify started")
	go func() {
		rep, err := restore.Verify(ctx, restore.VerifyOptions{
			Root: rt.cfg.Path, Bucket: rt.store, Index: rt.index,
			Matcher: station.Matcher(rt.cfg),
			Deep:    deep, SamplePercent: samplePercent,
			// Beside playout: fewer requests in flight than a restore.
			Concurrency: 4,
			Progress:    h.Progress,
		})
		h.Finish(err, func(st *jobs.Job) { st.Verify = &rep })
		d.verifyFinished(log, share, rep, err)
	}()
	return h.ID(), nil
}

// verifyFinished logs a verify's outcome and adds it to the event log.
func (d *Daemon) verifyFinished(log zerolog.Logger, share string, rep restore.Report, err error) {
	switch {
	case err != nil:
		log.Error().Err(err).Msg("verify could not run")
		d.events.Add(eventlog.Event{Level: eventlog.Warning, Kind: "verify.failed", Share: share, Message: "verify could not run: " + err.Error()})
	case rep.Mismatches > 0:
		first := ""
		for _, p := range rep.Problems {
			if p.Kind.Mismatch() {
				first = p.String()
				break
			}
		}
		log.Error().Int("mismatches", rep.Mismatches).Int("checked", rep.Checked).Str("first", first).Msg("verify found mismatches")
		d.events.Add(eventlog.Event{Level: eventlog.Error, Kind: "verify.mismatch", Share: share,
			Message: fmt.Sprintf("%s verify found %d mismatches (%d files checked); first: %s", rep.Mode, rep.Mismatches, rep.Checked, first)})
	default:
		log.Info().Int("checked", rep.Checked).Int("pending", rep.Pending).Str("mode", rep.Mode).Msg("verify clean")
		d.events.Add(eventlog.Event{Level: eventlog.Info, Kind: "verify.clean", Share: share,
			Message: fmt.Sprintf("%s verify clean: %d files checked", rep.Mode, rep.Checked)})
	}
}

// startRestoreJob starts restoring rel (a file or folder, share-relative;
// "" is everything) from the bucket into the live share in the
// background, and returns its job id.
func (d *Daemon) startRestoreJob(share, rel string) (string, error) {
	return d.startRestore(share, admin.RestoreRequest{Path: rel}, nil)
}

// startRestore starts a restore into the live share: a ZFS snapshot
// first when the share is on ZFS; files SMB clients hold open are never
// replaced. The pipeline adopts what it restores (equal content on both
// sides), or uploads an older version restored to a point in time as the
// new current one.
//
// after, if set, runs on the job's goroutine once the restore returned,
// before the job finishes; what it says is added to the job's message.
func (d *Daemon) startRestore(share string, req admin.RestoreRequest, after func(ctx context.Context, res restore.Result, err error) string) (string, error) {
	rt := d.runtime(share)
	if rt == nil {
		return "", fmt.Errorf("no share %q", share)
	}
	uid, gid, err := station.Owner(d.cfg)
	if err != nil {
		return "", err
	}
	h, ctx, err := d.jobs.Begin(share, jobs.Restore)
	if err != nil {
		return "", err
	}
	log := d.log.With().Str("share", share).Str("job", h.ID()).Logger()
	log.Warn().Str("component", "restore").Str("path", req.Path).Str("prefix", req.Prefix).Str("glob", req.Glob).
		Time("at", req.At).Bool("overwrite", req.Overwrite).Bool("dry_run", req.DryRun).Msg("restore into the live share started")
	var open restore.OpenFiles
	if of := station.OpenFiles(d.cfg, share, d.log); of != nil {
		open = of
	}
	go func() {
		res, err := restore.Restore(ctx, restore.Options{
			Root: rt.cfg.Path, Bucket: rt.store, Versions: rt.store,
			Path: req.Path, Prefix: req.Prefix, Glob: req.Glob, At: req.At,
			Overwrite: req.Overwrite, DryRun: req.DryRun,
			OpenFiles: open, UID: uid, GID: gid, Dataset: rt.cfg.Dataset,
			Matcher:  station.Matcher(rt.cfg),
			Progress: h.Progress,
			Log:      d.log,
		})
		var then string
		if after != nil {
			then = after(ctx, res, err)
		}
		h.Finish(err, func(st *jobs.Job) { st.Restore = &res })
		level, msg := eventlog.Info, fmt.Sprintf("restore: %d files restored, %d already present, %d skipped, %d failed", res.Restored, res.Present, res.Skipped, res.Failed)
		if res.Snapshot != "" {
			msg += "; snapshot " + res.Snapshot + " taken first"
		}
		if then != "" {
			msg += "; " + then
		}
		switch {
		case err != nil:
			level, msg = eventlog.Error, "restore failed: "+err.Error()
		case res.Failed > 0:
			level = eventlog.Error
		case res.Skipped > 0:
			level = eventlog.Warning
		}
		d.events.Add(eventlog.Event{Level: level, Kind: "restore.finished", Share: share, Message: msg})
		log.Info().Str("component", "restore").Str("result", msg).Msg("restore job finished")
	}()
	return h.ID(), nil
}
