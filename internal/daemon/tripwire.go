package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"genesissync/internal/eventlog"
	"genesissync/internal/reconcile"
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
