package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"genesissync/internal/admin"
	"genesissync/internal/eventlog"
	"genesissync/internal/objstore"
	"genesissync/internal/reconcile"
	"genesissync/internal/restore"
	"genesissync/internal/snapshot"
)

// onTrip gathers a trip's evidence the moment a share's tripwire trips:
// first the SMB clients that had the files open (the files may still be),
// then a held ZFS snapshot of the share as it is. It runs on the
// pipeline's tripwire goroutine and returns when done or when ctx ends.
func (d *Daemon) onTrip(ctx context.Context, t reconcile.Trip) reconcile.TripEvidence {
	var ev reconcile.TripEvidence
	select {
	case <-d.partsReady:
	case <-ctx.Done():
		return ev
	}
	log := d.log.With().Str("share", t.Share).Str("component", "tripwire").Logger()
	log.Error().Str("reason", t.Reason).Strs("first_files", t.Paths).
		Msg("ransomware tripwire tripped: changes and deletes of existing files are held back from the bucket until a person decides")

	if d.clients == nil {
		ev.Problems = append(ev.Problems, "the appliance does not run Samba (samba.mode: off), so no SMB client can be named")
	} else {
		for _, s := range d.clients.Suspects(ctx, t.Share, t.Paths) {
			ev.Clients = append(ev.Clients, reconcile.TripClient{User: s.User, Machine: s.Machine, Evidence: s.Evidence, Paths: s.Paths})
		}
		if len(ev.Clients) == 0 {
			ev.Problems = append(ev.Problems, "smbd showed no client on the share")
		}
	}

	snap, err := d.snapshots.AtTrip(ctx, t.Share)
	ev.Snapshot = snap
	switch {
	case errors.Is(err, snapshot.ErrNoSnapshots):
		ev.Problems = append(ev.Problems, "no snapshot: "+err.Error())
	case err != nil:
		ev.Problems = append(ev.Problems, err.Error())
		log.Error().Err(err).Msg("tripwire: the share's snapshot")
	}

	msg := fmt.Sprintf("ransomware tripwire tripped: %s; first files: %s", t.Reason, strings.Join(t.Paths[:min(len(t.Paths), 5)], ", "))
	var who []string
	for _, c := range ev.Clients {
		who = append(who, c.User+" on "+c.Machine+" ("+c.Evidence+")")
	}
	if len(who) > 0 {
		msg += "; SMB client(s): " + strings.Join(who, "; ")
	}
	if ev.Snapshot != "" {
		msg += "; held snapshot " + ev.Snapshot
	}
	d.events.Add(eventlog.Event{Level: eventlog.Error, Kind: "tripwire.tripped", Share: t.Share, Message: msg})
	log.Error().Strs("clients", who).Str("snapshot", ev.Snapshot).Strs("problems", ev.Problems).Msg("tripwire evidence gathered")
	return ev
}

// suspectWatch is how long the SMB clients of a share are polled every
// second after a suspicious change: a window of the tripwire's default.
const suspectWatch = 10 * time.Minute

// onSuspect watches a share's SMB clients closely after a suspicious
// change, so that a trip can name who had the files open even though
// each stays open for milliseconds. Safe for concurrent use; never blocks
// for long.
func (d *Daemon) onSuspect(share string) {
	select {
	case <-d.partsReady:
		d.clients.Watch(share, suspectWatch) // a nil watcher does nothing
	default: // still starting: the trip asks smbd itself
	}
}

// releaseTripwire is a person's word that a share's held changes are
// legitimate: the pipeline lets them through, and the trip's snapshot
// loses its hold (it then expires like any pre-operation snapshot).
func (d *Daemon) releaseTripwire(ctx context.Context, rt *shareRuntime) (string, error) {
	tw := rt.share.Tripwire()
	if tw == nil {
		return "", errors.New("the tripwire is off for this share (tripwire.enabled: false)")
	}
	if !tw.Tripped && tw.HeldCount == 0 {
		return "", errors.New("the tripwire holds nothing on this share")
	}
	paths, err := rt.share.ReleaseTripwire(ctx)
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("Tripwire of %s released: %d held change(s) leave for the bucket.", rt.name, len(paths))
	if ev := tw.Evidence; ev != nil && ev.Snapshot != "" {
		if err := d.snapshots.ReleaseTrip(ctx, rt.name, ev.Snapshot); err != nil {
			msg += " The hold on snapshot " + ev.Snapshot + " could not be released: " + err.Error()
		} else {
			msg += " Snapshot " + ev.Snapshot + " is no longer held."
		}
	}
	return msg, nil
}

// startRestoreBeforeTrip restores the share as it was just before its
// first suspicious change, from the bucket, which the tripwire kept clean:
// the versions current a second before it where the target keeps
// versions, else the current ones (the held changes never reached them).
// Files an SMB client holds open are skipped, and a ZFS share gets its
// pre-restore snapshot, as every restore. Once the restore finished, the
// tripwire is re-armed (reconcile.Share.Rearm): the files the attack
// created go to the share's trash and every held change is judged again,
// none let through. It returns the job's id and what it does.
func (d *Daemon) startRestoreBeforeTrip(rt *shareRuntime) (id, msg string, err error) {
	tw := rt.share.Tripwire()
	switch {
	case tw == nil:
		return "", "", errors.New("the tripwire is off for this share (tripwire.enabled: false)")
	case !tw.Tripped && tw.HeldCount == 0:
		return "", "", errors.New("the tripwire holds nothing on this share")
	}
	req := admin.RestoreRequest{Overwrite: true}
	from := "the bucket's current versions, which the held changes never reached"
	if !tw.SuspectSince.IsZero() && d.versioned(rt.name) {
		req.At = tw.SuspectSince.Add(-time.Second)
		from = "the bucket's versions of " + req.At.Local().Format(time.DateTime) + ", just before the first suspicious change"
	}
	id, err = d.startRestore(rt.name, req, func(ctx context.Context, res restore.Result, err error) string {
		if err != nil || res.Failed > 0 {
			return "the tripwire stays tripped: the restore did not finish"
		}
		rr, err := rt.share.Rearm(ctx, true)
		if err != nil {
			return "the tripwire could not be re-armed: " + err.Error()
		}
		return fmt.Sprintf("tripwire re-armed: %d held change(s) judged again, %d file(s) the attack created moved to the share's trash", len(rr.Rejudged), len(rr.Trashed))
	})
	if err != nil {
		return "", "", err
	}
	return id, fmt.Sprintf("Restore of %s from %s started (job %s); the tripwire re-arms when it is done.", rt.name, from, id), nil
}

// versioned reports whether the share's target keeps versions, as its
// last capability probes found: every probed endpoint of it (a replica
// without versions would answer a restore of an old version with
// nothing).
func (d *Daemon) versioned(share string) bool {
	yes := false
	for _, ep := range d.endpoints.Status() {
		if !slices.Contains(ep.Shares, share) || ep.Capabilities == nil {
			continue
		}
		if ep.Capabilities.Versioning.State != objstore.TriYes {
			return false
		}
		yes = true
	}
	return yes
}
