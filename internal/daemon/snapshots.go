package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/eventlog"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
	"genesissync/internal/snapshot"
	"genesissync/internal/station"
	"genesissync/internal/zfs"
)

// healthEvery is the period of the dataset and snapshot listing.
const healthEvery = time.Minute

// zfsState is the daemon's snapshot managers and their last listings.
// The Daemon struct is shared with other parts; this state hangs off it
// through Daemon.zfsState.
type zfsState struct {
	mu       sync.Mutex
	managers map[string]*snapshot.Manager // by share; only shares with snapshots on
	datasets map[string]zfs.DatasetInfo   // by share
	listed   map[string]listing           // by share
}

// listing is a share's snapshots as last listed.
type listing struct {
	snaps []zfs.SnapshotInfo
	err   string
	at    time.Time
}

func newZFSState() *zfsState {
	return &zfsState{
		managers: map[string]*snapshot.Manager{},
		datasets: map[string]zfs.DatasetInfo{}, listed: map[string]listing{},
	}
}

func (d *Daemon) zfs() *zfsState { return d.zfsState }

func (z *zfsState) manager(share string) *snapshot.Manager {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.managers[share]
}

// startSnapshots starts each ZFS share's snapshot schedule, the listing
// of their datasets and the pool health checks in g. ZFS failures at
// start are logged and reported as events, never fatal: the schedule and
// the health loops retry.
func (d *Daemon) startSnapshots(ctx context.Context, g *errgroup.Group) error {
	z := d.zfs()
	onZFS := false
	var datasets []string
	for _, rt := range d.runtimes {
		if rt.cfg.Dataset == "" {
			continue
		}
		onZFS = true
		datasets = append(datasets, rt.cfg.Dataset)
		if !rt.cfg.Snapshots.On() {
			continue
		}
		share := rt.name
		log := d.log.With().Str("share", share).Logger()
		so := station.SnapshotOptions(share, rt.cfg, log)
		so.Event = func(level, kind, msg string) {
			d.events.Add(eventlog.Event{Level: level, Kind: kind, Share: share, Message: msg})
		}
		m := snapshot.New(so)
		z.mu.Lock()
		z.managers[share] = m
		z.mu.Unlock()
		g.Go(func() error {
			if err := m.Start(ctx); err != nil && ctx.Err() == nil {
				log.Warn().Err(err).Str("component", "snapshot").Msg("preparing Previous Versions clones failed; the schedule retries")
			}
			return m.Run(ctx)
		})
	}
	if onZFS {
		g.Go(func() error {
			for {
				d.checkHealth(ctx)
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(healthEvery):
				}
			}
		})
	}
	d.pools = snapshot.NewPools(snapshot.PoolOptions{
		Datasets:         datasets,
		CapacityWarning:  d.cfg.Alerts.CapacityWarning,
		CapacityCritical: d.cfg.Alerts.CapacityCritical,
		Event: func(level, kind, msg string) {
			d.events.Add(eventlog.Event{Level: level, Kind: kind, Message: msg})
		},
	})
	g.Go(func() error { return d.pools.Run(ctx) })
	return nil
}

// checkHealth reads every ZFS share's dataset and snapshots once.
func (d *Daemon) checkHealth(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	z := d.zfs()
	for _, rt := range d.runtimes {
		if rt.cfg.Dataset == "" {
			continue
		}
		if info, err := zfs.Dataset(ctx, rt.cfg.Dataset); err == nil {
			z.mu.Lock()
			z.datasets[rt.name] = info
			z.mu.Unlock()
		}
		if rt.cfg.Snapshots.On() {
			d.refreshListing(ctx, rt.name, rt.cfg.Dataset)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// refreshListing lists the share's snapshots for the status API.
func (d *Daemon) refreshListing(ctx context.Context, share, dataset string) {
	snaps, err := zfs.Snapshots(ctx, dataset)
	l := listing{snaps: snaps, at: time.Now()}
	if err != nil {
		l.err = err.Error()
	}
	z := d.zfs()
	z.mu.Lock()
	if err != nil {
		l.snaps = z.listed[share].snaps // keep the last good list
	}
	z.listed[share] = l
	z.mu.Unlock()
}

// snapshotStatus is the share's snapshot state for the status API.
func (d *Daemon) snapshotStatus(rt *shareRuntime) model.Snapshots {
	if rt.cfg.Dataset == "" {
		return model.Snapshots{Reason: "the share is a plain directory, not a ZFS dataset"}
	}
	z := d.zfs()
	z.mu.Lock()
	m := z.managers[rt.name]
	ds := z.datasets[rt.name]
	l := z.listed[rt.name]
	z.mu.Unlock()
	st := model.Snapshots{Dataset: rt.cfg.Dataset, DatasetUsed: ds.Used, DatasetAvailable: ds.Available}
	if m == nil {
		st.Reason = "snapshots are turned off for this share (snapshots.enabled: false)"
		return st
	}
	ms := m.Status()
	st.Enabled = true
	st.IntervalSeconds = rt.cfg.Snapshots.Interval.Seconds()
	st.PreviousVersions = ms.Mode
	st.NextScheduled = ms.NextDue
	st.LastError, st.LastErrorAt = ms.LastError, ms.LastErrorAt
	if st.LastError == "" && l.err != "" {
		st.LastError, st.LastErrorAt = l.err, l.at
	}
	st.Count = len(l.snaps)
	for i := len(l.snaps) - 1; i >= 0 && len(st.Recent) < 10; i-- {
		s := l.snaps[i]
		st.Recent = append(st.Recent, model.SnapshotInfo{Name: s.Name, Kind: s.Kind().String(), Created: s.Created, Used: s.Used, Held: s.Held()})
	}
	return st
}

// errNoSnapshots is a share without a snapshot schedule.
var errNoSnapshots = errors.New("snapshots are off for this share (not on a ZFS dataset, or snapshots.enabled: false)")

// snapshotManager is the share's manager, or an error naming why not.
func (d *Daemon) snapshotManager(share string) (*snapshot.Manager, *shareRuntime, error) {
	for _, rt := range d.runtimes {
		if rt.name == share {
			if m := d.zfs().manager(share); m != nil {
				return m, rt, nil
			}
			return nil, rt, fmt.Errorf("share %s: %w", share, errNoSnapshots)
		}
	}
	return nil, nil, fmt.Errorf("no share %q", share)
}

// snapshotNow takes a manual snapshot of the share and returns its name.
func (d *Daemon) snapshotNow(ctx context.Context, share string) (string, error) {
	m, rt, err := d.snapshotManager(share)
	if err != nil {
		return "", err
	}
	name, err := m.Create(ctx)
	d.refreshListing(ctx, share, rt.cfg.Dataset)
	return name, err
}

// beforeApprove takes the pre-delete snapshot of a ZFS share before an
// approved mass delete is released; the approval fails when it cannot be
// taken. Shares without snapshots pass.
func (d *Daemon) beforeApprove(ctx context.Context, share string) error {
	m, rt, err := d.snapshotManager(share)
	if err != nil {
		if errors.Is(err, errNoSnapshots) {
			return nil
		}
		return err
	}
	name, err := m.PreOp(ctx, zfs.PreDelete)
	if err != nil {
		return fmt.Errorf("snapshot before the approved deletes: %w", err)
	}
	d.log.Info().Str("share", share).Str("snapshot", name).Msg("snapshot taken before approved deletes")
	d.refreshListing(ctx, share, rt.cfg.Dataset)
	return nil
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

// rollback returns the share's dataset to snap with its pipeline held
// still (snapshot.Manager.RollbackShare).
func (d *Daemon) rollback(ctx context.Context, share, snap string, destroyNewer bool) error {
	m, rt, err := d.snapshotManager(share)
	if err != nil {
		return err
	}
	if err := m.RollbackShare(ctx, pipeline{rt.share}, rt.cfg.Settle, snap, destroyNewer); err != nil {
		return err
	}
	d.refreshListing(ctx, share, rt.cfg.Dataset)
	return nil
}

// restoreFromSnapshot copies rel (a file or folder, share-relative) from
// the named snapshot back into the live share (snapshot.Manager.Restore),
// records the event and asks the pipeline for a full scan.
func (d *Daemon) restoreFromSnapshot(ctx context.Context, share, snap, rel string) error {
	m, rt, err := d.snapshotManager(share)
	if err != nil {
		return err
	}
	uid, gid, err := station.Owner(d.cfg)
	if err != nil {
		return err
	}
	skipped, err := m.Restore(ctx, snap, rel, snapshot.RestoreOptions{UID: uid, GID: gid, OpenFiles: station.OpenFiles(d.cfg, share, d.log)})
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s restored from snapshot %s", rel, snap)
	if len(skipped) > 0 {
		msg += fmt.Sprintf("; %d file(s) open over SMB not replaced: %s", len(skipped), strings.Join(skipped[:min(len(skipped), 5)], ", "))
	}
	d.events.Add(eventlog.Event{Level: eventlog.Info, Kind: "snapshot.restored", Share: share, Message: msg})
	rt.share.SyncNow()
	return nil
}
