package daemon

import (
	"context"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/eventlog"
	"genesissync/internal/reconcile"
	"genesissync/internal/snapshot"
	"genesissync/internal/station"
)

// startSnapshots builds the shares' snapshot managers and the health of
// the pools under them from the config, and runs both in g.
func (d *Daemon) startSnapshots(ctx context.Context, g *errgroup.Group) error {
	var shares []snapshot.Share
	var datasets []string
	for _, rt := range d.runtimes {
		sh := snapshot.Share{Name: rt.name, Dataset: rt.cfg.Dataset, Pipeline: pipeline{rt.share}, Settle: rt.cfg.Settle}
		if rt.cfg.Dataset != "" {
			datasets = append(datasets, rt.cfg.Dataset)
			if rt.cfg.Snapshots.On() {
				sh.Manager = d.newSnapshotManager(rt)
			}
		}
		shares = append(shares, sh)
	}
	d.snapshots = snapshot.NewSet(shares, d.log)
	d.pools = snapshot.NewPools(snapshot.PoolOptions{
		Datasets:         datasets,
		CapacityWarning:  d.cfg.Alerts.CapacityWarning,
		CapacityCritical: d.cfg.Alerts.CapacityCritical,
		Event: func(level, kind, msg string) {
			d.events.Add(eventlog.Event{Level: level, Kind: kind, Message: msg})
		},
	})
	g.Go(func() error { return d.snapshots.Run(ctx) })
	g.Go(func() error { return d.pools.Run(ctx) })
	return nil
}

// newSnapshotManager is the snapshot manager of a share on ZFS, its
// events in the event log under the share's name.
func (d *Daemon) newSnapshotManager(rt *shareRuntime) *snapshot.Manager {
	share := rt.name
	so := station.SnapshotOptions(share, rt.cfg, d.log.With().Str("share", share).Logger())
	so.Event = func(level, kind, msg string) {
		d.events.Add(eventlog.Event{Level: level, Kind: kind, Share: share, Message: msg})
	}
	return snapshot.New(so)
}

// restoreFromSnapshot copies rel from the named snapshot back into the
// live share (snapshot.Set.Restore), its files owned by the service user
// and none replaced that an SMB client holds open.
func (d *Daemon) restoreFromSnapshot(ctx context.Context, share, snap, rel string) error {
	// The share is checked first: its open-files view needs its config.
	if _, err := d.snapshots.Manager(share); err != nil {
		return err
	}
	uid, gid, err := station.Owner(d.cfg)
	if err != nil {
		return err
	}
	return d.snapshots.Restore(ctx, share, snap, rel, snapshot.RestoreOptions{UID: uid, GID: gid, OpenFiles: station.OpenFiles(d.cfg, share, d.log)})
}

// pipeline adapts a share's pipeline to what a rollback drives.
type pipeline struct{ *reconcile.Share }

var _ snapshot.Pipeline = pipeline{}

func (p pipeline) State() snapshot.PipelineState {
	st := p.Status()
	return snapshot.PipelineState{
		State: st.State, InSync: st.State == reconcile.StateInSync,
		InFlight: st.InFlight, PendingUploads: st.PendingUploads, PendingFailures: st.PendingFailures,
	}
}
