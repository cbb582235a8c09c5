package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/eventlog"
	"genesissync/internal/layout"
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
		so := station.SnapshotOptions(rt.cfg, log)
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

// rollbackIdleWait bounds how long a rollback waits for transfers in
// flight to finish once the share is paused; under the admin client's
// 30 s timeout. It starts only when nothing is in flight, so it rarely waits.
const rollbackIdleWait = 20 * time.Second

// rollback returns the share's dataset to snap. It refuses while the
// share is syncing, or when a change turns up within a settle window after
// transfers were paused; otherwise it waits until none is in flight, rolls
// back, and makes the next deletes (the files the rollback
// removed) wait for a person's approval, so that no object vanishes from
// the bucket by surprise; then it resumes and asks for a full scan. Files
// the rollback changed back are uploaded as ordinary changes.
func (d *Daemon) rollback(ctx context.Context, share, snap string, destroyNewer bool) error {
	m, rt, err := d.snapshotManager(share)
	if err != nil {
		return err
	}
	if st := rt.share.Status(); st.State != reconcile.StateInSync || st.InFlight != 0 {
		return fmt.Errorf("share %s is %s (%d transfers in flight, %d uploads pending): roll back once it is in sync", share, st.State, st.InFlight, st.PendingUploads)
	}
	reason := "rollback to " + snap
	rt.share.Pause(reason)
	defer rt.share.Resume()
	// A file saved a moment ago may not be noticed yet: watch a settle
	// window (and a second) with transfers paused; any change in it means
	// the studio is still working, and its unsynced work must not be
	// rolled away.
	quiet := time.NewTimer(rt.cfg.Settle + time.Second)
	defer quiet.Stop()
	for waiting := true; waiting; {
		if st := rt.share.Status(); st.PendingUploads != 0 || st.PendingFailures != 0 {
			return fmt.Errorf("share %s is syncing (%d uploads pending): roll back once it is in sync", share, st.PendingUploads)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-quiet.C:
			waiting = false
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Before and after: deletes noticed while rolling back are held, and
	// the request counts from the first full scan after the rollback.
	rt.share.HoldNextDeletes(reason)
	wctx, cancel := context.WithTimeout(ctx, rollbackIdleWait)
	err = rt.share.WaitIdle(wctx)
	cancel()
	if err != nil {
		return fmt.Errorf("rollback %s: transfers still in flight after %s: %w", share, rollbackIdleWait, err)
	}
	if err := m.Rollback(ctx, snap, destroyNewer); err != nil {
		return err
	}
	rt.share.HoldNextDeletes(reason)
	d.log.Warn().Str("share", share).Str("snapshot", snap).Bool("destroy_newer", destroyNewer).Msg("share rolled back; the deletes it causes wait for approval")
	rt.share.Resume()
	rt.share.SyncNow()
	d.refreshListing(ctx, share, rt.cfg.Dataset)
	return nil
}

// restoreFromSnapshot copies rel (a file or folder, share-relative) from
// the named snapshot back into the live share. A pre-restore snapshot is
// taken first. Each file is written to a hidden temp name beside its
// target, synced and renamed over it; files present in the share but not
// in the snapshot are left alone.
func (d *Daemon) restoreFromSnapshot(ctx context.Context, share, snap, rel string) error {
	m, rt, err := d.snapshotManager(share)
	if err != nil {
		return err
	}
	clean := filepath.Clean("/" + rel)[1:]
	if rel == "" || clean != filepath.ToSlash(rel) && clean != rel || strings.HasPrefix(filepath.Base(clean), layout.ReservedPrefix) {
		return fmt.Errorf("restore %q: want a clean share-relative path", rel)
	}
	uid, gid, err := station.Owner(d.cfg)
	if err != nil {
		return err
	}
	// A restore from a snapshot that does not exist fails before it takes
	// a pre-restore snapshot, which would otherwise be left behind for
	// nothing (and take the name of this second from a real restore).
	snaps, err := m.List(ctx)
	if err != nil {
		return fmt.Errorf("restore %q from %s: %w", rel, snap, err)
	}
	if !slices.ContainsFunc(snaps, func(s zfs.SnapshotInfo) bool { return s.Name == snap }) {
		return fmt.Errorf("restore %q: snapshot %s@%s: %w", rel, rt.cfg.Dataset, snap, zfs.ErrNotFound)
	}
	if _, err := m.PreOp(ctx, zfs.PreRestore); err != nil {
		return fmt.Errorf("restore %q: snapshot before restoring: %w", rel, err)
	}
	// A file an SMB client holds open is never replaced under it: it is
	// skipped and named; the restore can be repeated once it is closed.
	var skipped []string
	open := func(string) bool { return false }
	if of := station.OpenFiles(d.cfg, share, d.log); of != nil {
		open = func(p string) bool { return of.Open(ctx, p) }
	}
	err = m.WithSnapshotDir(ctx, snap, func(dir string) error {
		return copyTree(ctx, filepath.Join(dir, clean), rt.cfg.Path, clean, uid, gid, open, &skipped)
	})
	if err != nil {
		return fmt.Errorf("restore %q from %s: %w", rel, snap, err)
	}
	msg := fmt.Sprintf("%s restored from snapshot %s", rel, snap)
	if len(skipped) > 0 {
		msg += fmt.Sprintf("; %d file(s) open over SMB not replaced: %s", len(skipped), strings.Join(skipped[:min(len(skipped), 5)], ", "))
	}
	d.events.Add(eventlog.Event{Level: eventlog.Info, Kind: "snapshot.restored", Share: share, Message: msg})
	rt.share.SyncNow()
	return nil
}

// copyTree copies the file or directory src to dst, atomically per file.
func copyTree(ctx context.Context, src, root, rel string, uid, gid int, open func(string) bool, skipped *[]string) error {
	dst := filepath.Join(root, rel)
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sub, _ := filepath.Rel(src, p)
		if strings.HasPrefix(e.Name(), layout.ReservedPrefix) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, sub)
		switch {
		case e.IsDir():
			if err := os.MkdirAll(target, 0o775); err != nil {
				return err
			}
			if uid >= 0 {
				return os.Lchown(target, uid, gid)
			}
			return nil
		case e.Type().IsRegular():
			shareRel := filepath.ToSlash(filepath.Join(rel, sub))
			if open(shareRel) {
				*skipped = append(*skipped, shareRel)
				return nil
			}
			return copyFile(p, target, uid, gid)
		}
		return nil // symlinks and devices are not restored
	})
}

func copyFile(src, dst string, uid, gid int) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o775); err != nil {
		return err
	}
	if cur, err := os.Lstat(dst); err == nil && !cur.Mode().IsRegular() {
		return fmt.Errorf("restore %s: a %s is in the way, not a file", dst, cur.Mode().Type())
	}
	// The download temp prefix: vetoed over SMB, never synced, and
	// removed at the next start if a crash leaves it.
	tmp, err := os.CreateTemp(filepath.Dir(dst), layout.TempPrefix+"*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), fi.Mode().Perm())
	}
	if err == nil && uid >= 0 {
		err = os.Chown(tmp.Name(), uid, gid)
	}
	if err == nil {
		err = os.Chtimes(tmp.Name(), fi.ModTime(), fi.ModTime())
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", dst, err)
	}
	return nil
}
