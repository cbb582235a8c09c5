package daemon

import (
	"context"
	"fmt"

	"genesissync/internal/eventlog"
	"genesissync/internal/status"
)

// statusOptions configures the status server: the admin accounts and
// session settings from the config, and the admin actions.
func (d *Daemon) statusOptions() status.Options {
	c := &d.cfg.Status
	return status.Options{
		Actions:      actions{d},
		Admins:       c.AdminHashes(),
		Public:       c.IsPublic(),
		SessionTTL:   c.SessionTTL,
		SecureCookie: c.IsSecureCookie(),
		History:      d.history.History,
	}
}

// actions carries out the status page's admin actions on the running
// shares. Safe for concurrent use: every call it makes is.
type actions struct{ d *Daemon }

var _ status.Actions = actions{}

// Do implements status.Actions. Each action done is also written to the
// event log, with the admin who asked.
func (a actions) Do(ctx context.Context, act status.Action) (status.Result, error) {
	d := a.d
	var res status.Result
	var err error
	level := eventlog.Info
	if act.Kind == status.ActionTestAlert {
		if err = d.testAlert(ctx); err != nil {
			return res, fmt.Errorf("test alert: %w", err)
		}
		res.Message = "Test alert sent to every alert channel."
		d.events.Add(eventlog.Event{Level: level, Kind: "admin.test-alert", Message: act.User + ": " + res.Message})
		return res, nil
	}
	rt := d.runtime(act.Share)
	if rt == nil {
		return res, fmt.Errorf("share %q: %w", act.Share, status.ErrUnknownShare)
	}
	switch act.Kind {
	case status.ActionSync:
		rt.share.SyncNow()
		res.Message = "Full reconcile of " + act.Share + " requested."
	case status.ActionPause:
		rt.share.Pause("paused by " + act.User + " on the status page")
		res.Message = "Transfers of " + act.Share + " paused."
		level = eventlog.Warning
	case status.ActionResume:
		rt.share.Resume()
		res.Message = "Transfers of " + act.Share + " resumed."
	case status.ActionApprove:
		// A snapshot first, as on the admin socket, so that the released
		// deletes can be undone.
		if err = d.snapshots.BeforeDeletes(ctx, act.Share); err == nil {
			err = rt.share.Approve(ctx, act.Batch)
		}
		if err != nil {
			return res, fmt.Errorf("approve delete batch %s of %s: %w", act.Batch, act.Share, err)
		}
		res.Message = "Delete batch " + act.Batch + " of " + act.Share + " approved."
		level = eventlog.Warning
	case status.ActionTripwireRelease:
		if res.Message, err = d.releaseTripwire(ctx, rt); err != nil {
			return res, fmt.Errorf("release the tripwire of %s: %w", act.Share, err)
		}
		level = eventlog.Warning
	case status.ActionTripwireRestore:
		if res.Job, res.Message, err = d.startRestoreBeforeTrip(rt); err != nil {
			return res, fmt.Errorf("restore %s from before the trip: %w", act.Share, err)
		}
		level = eventlog.Warning
	case status.ActionSnapshot:
		var name string
		if name, err = d.snapshots.Create(ctx, act.Share); err != nil {
			return res, fmt.Errorf("snapshot %s: %w", act.Share, err)
		}
		res.Message = "Snapshot " + name + " of " + act.Share + " taken."
	case status.ActionVerify:
		if res.Job, err = d.startVerifyJob(act.Share, act.Deep, act.SamplePercent); err != nil {
			return res, fmt.Errorf("verify %s: %w", act.Share, err)
		}
		res.Message = "Verify of " + act.Share + " started (job " + res.Job + ")."
	case status.ActionRestore:
		what := act.Path
		if what == "" {
			what = "everything"
		}
		level = eventlog.Warning
		if act.Snapshot != "" {
			if err = d.restoreFromSnapshot(ctx, act.Share, act.Snapshot, act.Path); err != nil {
				return res, fmt.Errorf("restore %s of %s from snapshot %s: %w", what, act.Share, act.Snapshot, err)
			}
			res.Message = "Restored " + what + " of " + act.Share + " from snapshot " + act.Snapshot + "."
			break
		}
		if res.Job, err = d.startRestoreJob(act.Share, act.Path); err != nil {
			return res, fmt.Errorf("restore %s of %s from the bucket: %w", what, act.Share, err)
		}
		res.Message = "Restore of " + what + " of " + act.Share + " from the bucket started (job " + res.Job + ")."
	default:
		return res, fmt.Errorf("%w: unknown action %q", status.ErrInvalid, act.Kind)
	}
	d.events.Add(eventlog.Event{Level: level, Kind: "admin." + act.Kind, Share: act.Share, Message: act.User + ": " + res.Message})
	return res, nil
}
