package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// healthEvery is the period of the pool and dataset health check.
const healthEvery = time.Minute

// zfsState is the daemon's snapshot managers and last health figures.
// The Daemon struct is shared with other parts; this state hangs off it
// through Daemon.zfsState.
type zfsState struct {
	mu       sync.Mutex
	managers map[string]*snapshot.Manager // by share; only shares with snapshots on
	pools    map[string]model.Pool        // by pool
	datasets map[string]zfs.DatasetInfo   // by share
	listed   map[string]listing           // by share
	capLevel map[string]int               // by pool: 0, 1 (capacity warning), 2 (critical)
	bad      map[string]bool              // by pool: degraded or not healthy
}

// listing is a share's snapshots as last listed.
type listing struct {
	snaps []zfs.SnapshotInfo
	err   string
	at    time.Time
}

func newZFSState() *zfsState {
	return &zfsState{
		managers: map[string]*snapshot.Manager{}, pools: map[string]model.Pool{},
		datasets: map[string]zfs.DatasetInfo{}, listed: map[string]listing{},
		capLevel: map[string]int{}, bad: map[string]bool{},
	}
}

func (d *Daemon) zfs() *zfsState { return d.zfsState }

func (z *zfsState) manager(share string) *snapshot.Manager {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.managers[share]
}

// poolOf is the pool a dataset lives on.
func poolOf(dataset string) string {
	p, _, _ := strings.Cut(dataset, "/")
	return p
}

// startSnapshots starts each ZFS share's snapshot schedule and the pool
// health checks in g. ZFS failures at start are logged and reported as
// events, never fatal: the schedule and the health loop retry.
func (d *Daemon) startSnapshots(ctx context.Context, g *errgroup.Group) error {
	z := d.zfs()
	onZFS := false
	for _, rt := range d.runtimes {
		if rt.cfg.Dataset == "" {
			continue
		}
		onZFS = true
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
	return nil
}

// checkHealth reads every pool's and ZFS share's figures once and raises
// events on transitions.
func (d *Daemon) checkHealth(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	z := d.zfs()
	seen := map[string]bool{}
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
		pool := poolOf(rt.cfg.Dataset)
		if seen[pool] {
			continue
		}
		seen[pool] = true
		p := readPool(ctx, pool)
		if ctx.Err() != nil {
			return
		}
		d.poolEvents(p)
		z.mu.Lock()
		z.pools[pool] = p
		z.mu.Unlock()
	}
}

// readPool is one pool's model.Pool.
func readPool(ctx context.Context, pool string) model.Pool {
	p := model.Pool{Name: pool, CheckedAt: time.Now()}
	info, err := zfs.PoolStatus(ctx, pool)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Health, p.CapacityPercent = info.Health, float64(info.CapacityPercent)
	p.Size, p.Allocated, p.Free, p.SizesExact = info.Size, info.Allocated, info.Free, info.SizesExact
	p.Scan = info.Scan.State
	if t, ok := info.LastScrub(); ok {
		p.LastScrub = t
	}
	ok, msg, err := zfs.Healthy(ctx, pool)
	switch {
	case err != nil:
		p.Error = err.Error()
	case ok:
		p.Healthy = true
	default:
		p.Problem = msg
	}
	return p
}

// poolEvents compares p with the pool's last state and adds events for
// what changed: degraded or back, capacity over alerts.capacity_warning
// and alerts.capacity_critical or back.
func (d *Daemon) poolEvents(p model.Pool) {
	capacityWarn, capacityCritical := d.cfg.Alerts.CapacityWarning, d.cfg.Alerts.CapacityCritical
	if p.Error != "" && p.Health == "" {
		return // not read: no transition to report
	}
	z := d.zfs()
	z.mu.Lock()
	wasBad, knownBad := z.bad[p.Name]
	wasLevel, knownLevel := z.capLevel[p.Name]
	bad := p.Health != "ONLINE" || (!p.Healthy && p.Error == "")
	level := 0
	switch {
	case p.CapacityPercent >= capacityCritical:
		level = 2
	case p.CapacityPercent >= capacityWarn:
		level = 1
	}
	z.bad[p.Name], z.capLevel[p.Name] = bad, level
	z.mu.Unlock()

	if bad && (!knownBad || !wasBad) {
		msg := fmt.Sprintf("pool %s is %s", p.Name, p.Health)
		if p.Problem != "" {
			msg += ": " + firstLines(p.Problem, 3)
		}
		d.events.Add(eventlog.Event{Level: eventlog.Error, Kind: "pool.degraded", Message: msg})
	} else if !bad && knownBad && wasBad {
		d.events.Add(eventlog.Event{Level: eventlog.Info, Kind: "pool.recovered", Message: fmt.Sprintf("pool %s is healthy again (%s)", p.Name, p.Health)})
	}
	if !knownLevel {
		wasLevel = 0
	}
	switch {
	case level > wasLevel:
		lv, limit := eventlog.Warning, capacityWarn
		if level == 2 {
			lv, limit = eventlog.Error, capacityCritical
		}
		d.events.Add(eventlog.Event{Level: lv, Kind: "pool.capacity", Message: fmt.Sprintf("pool %s is %.0f%% full (over %g%%)", p.Name, p.CapacityPercent, limit)})
	case level < wasLevel:
		d.events.Add(eventlog.Event{Level: eventlog.Info, Kind: "pool.capacity", Message: fmt.Sprintf("pool %s is back to %.0f%% full", p.Name, p.CapacityPercent)})
	}
}

func firstLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	for i := range ls {
		ls[i] = strings.TrimSpace(ls[i])
	}
	return strings.Join(ls[:min(n, len(ls))], "; ")
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

// pools is the health of the pools under the shares, as last checked.
func (d *Daemon) pools() []model.Pool {
	z := d.zfs()
	z.mu.Lock()
	defer z.mu.Unlock()
	out := make([]model.Pool, 0, len(z.pools))
	for _, p := range z.pools {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b model.Pool) int { return strings.Compare(a.Name, b.Name) })
	return out
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
