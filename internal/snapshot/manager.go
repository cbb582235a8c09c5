package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/layout"
	"genesissync/internal/zfs"
)

// clonePrefix starts the short name of every clone this package makes.
const clonePrefix = "gs-shadow-"

// Previous Versions modes.
const (
	// ModeSnapdir: Samba reads <share>/.zfs/snapshot (OpenZFS).
	ModeSnapdir = "snapdir"
	// ModeClones: Samba reads read-only clones under layout.SnapshotDir (zfs-fuse).
	ModeClones = "clones"
	// ModeOff: Previous Versions are off for the share.
	ModeOff = "off"
)

// Event levels and kinds passed to Options.Event.
const (
	LevelInfo    = "info"
	LevelWarning = "warning"
	LevelError   = "error"

	KindCreated     = "snapshot.created"
	KindFailed      = "snapshot.failed"
	KindRecovered   = "snapshot.recovered"
	KindPruneFailed = "snapshot.prune_failed"
	KindRolledBack  = "snapshot.rolled_back"
)

// Options configure a Manager.
type Options struct {
	// Share is the share's name, for messages. Dataset is its ZFS file
	// system; Mountpoint its path, where the dataset is mounted.
	Share      string
	Dataset    string
	Mountpoint string
	// Interval between scheduled snapshots (config's snapshots.interval);
	// it must be positive.
	Interval time.Duration
	// Keep is the schedule's retention.
	Keep zfs.Retention
	// PreOpRetention is how long pre-operation snapshots are kept
	// (config's snapshots.pre_op_retention); it must be positive.
	PreOpRetention time.Duration
	// PreviousVersions keeps clones for Samba where the dataset has no
	// .zfs/snapshot directory.
	PreviousVersions bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Event is told about notable events (failures, manual and
	// pre-operation snapshots, rollbacks); nil drops them. It must not block.
	Event func(level, kind, message string)
	Log   zerolog.Logger
}

// Manager runs one dataset's snapshots. Create it with New.
type Manager struct {
	o   Options
	log zerolog.Logger

	op sync.Mutex // serializes everything that changes the dataset's snapshots

	mu        sync.Mutex // guards the fields below
	mode      string
	lastErr   string
	lastErrAt time.Time
	failing   bool
	lastTick  time.Time
	nextDue   time.Time
}

// New returns a Manager; nothing runs until Start, Run or Tick. It panics
// when Interval or PreOpRetention is not positive: config never gives
// such values, so a caller that does has a bug.
func New(o Options) *Manager {
	if o.Interval <= 0 || o.PreOpRetention <= 0 {
		panic(fmt.Sprintf("snapshot.New: interval %v and pre-op retention %v must be positive", o.Interval, o.PreOpRetention))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{o: o, log: o.Log.With().Str("component", "snapshot").Str("dataset", o.Dataset).Logger()}
	m.mode = m.detectMode()
	return m
}

// Dataset is the managed dataset.
func (m *Manager) Dataset() string { return m.o.Dataset }

// detectMode decides how Samba sees the snapshots.
func (m *Manager) detectMode() string {
	switch {
	case !m.o.PreviousVersions:
		return ModeOff
	case zfs.HasSnapdir(m.o.Mountpoint):
		return ModeSnapdir
	default:
		return ModeClones
	}
}

// Mode is how Previous Versions reach Samba: ModeSnapdir, ModeClones or ModeOff.
func (m *Manager) Mode() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mode
}

// ShadowDir is where Samba finds the snapshots, relative to the share
// root: ".zfs/snapshot", layout.SnapshotDir, or "" when off.
func ShadowDir(mode string) string {
	switch mode {
	case ModeSnapdir:
		return ".zfs/snapshot"
	case ModeClones:
		return layout.SnapshotDir
	}
	return ""
}

// DetectMode is the mode a share on mountpoint gets; the Samba
// definitions are rendered from it before any Manager runs.
func DetectMode(mountpoint string, previousVersions bool) string {
	return (&Manager{o: Options{Mountpoint: mountpoint, PreviousVersions: previousVersions}}).detectMode()
}

func (m *Manager) event(level, kind, msg string) {
	if m.o.Event != nil {
		m.o.Event(level, kind, msg)
	}
}

// Start prepares the dataset at daemon start: stale clones (of snapshots
// gone or not shown, mounted elsewhere, or left unmounted by a crash) are
// removed and missing ones made.
func (m *Manager) Start(ctx context.Context) error {
	m.op.Lock()
	defer m.op.Unlock()
	snaps, err := zfs.Snapshots(ctx, m.o.Dataset)
	if err != nil {
		return err
	}
	return m.syncClones(ctx, snaps)
}

// Run takes snapshots on the schedule until ctx ends, checking every
// minute (or interval, if shorter); a failure is logged, reported once
// through Options.Event and retried at the next check.
func (m *Manager) Run(ctx context.Context) error {
	every := min(time.Minute, m.o.Interval)
	for {
		if _, err := m.Tick(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn().Err(err).Msg("snapshot round failed; retrying at the next check")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// Round is what one Tick did.
type Round struct {
	// Created is the scheduled snapshot taken, "" when none was due.
	Created string
	// Pruned and Expired are the scheduled snapshots destroyed by
	// retention and the pre-operation ones past their retention.
	Pruned  []string
	Expired []string
}

// Tick runs one round at the clock's now: the scheduled snapshot if none
// was taken since the current interval began, retention, pre-operation
// expiry, and clones brought in step.
func (m *Manager) Tick(ctx context.Context) (Round, error) {
	m.op.Lock()
	defer m.op.Unlock()
	now := m.o.Now().UTC()
	var r Round
	snaps, err := zfs.Snapshots(ctx, m.o.Dataset)
	if err != nil {
		m.fail(now, err)
		return r, err
	}
	slot := now.Truncate(m.o.Interval)
	m.setNext(now, slot.Add(m.o.Interval))
	if latest, ok := latestScheduled(snaps); !ok || latest.Before(slot) {
		name := zfs.ScheduleName(now)
		if err := zfs.Snapshot(ctx, m.o.Dataset, name); err != nil && !errors.Is(err, zfs.ErrExists) {
			m.fail(now, err)
			return r, err
		}
		r.Created = name
		m.log.Info().Str("snapshot", name).Msg("scheduled snapshot taken")
		if snaps, err = zfs.Snapshots(ctx, m.o.Dataset); err != nil {
			m.fail(now, err)
			return r, err
		}
	}
	m.ok(now)
	var errs []error
	r.Pruned, r.Expired, errs = m.prune(ctx, snaps, now)
	if snaps, err = zfs.Snapshots(ctx, m.o.Dataset); err != nil {
		errs = append(errs, err)
	} else if err := m.syncClones(ctx, snaps); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		m.event(LevelWarning, KindPruneFailed, err.Error())
		return r, err
	}
	return r, nil
}

func (m *Manager) setNext(now, next time.Time) {
	m.mu.Lock()
	m.lastTick, m.nextDue = now, next
	m.mu.Unlock()
}

// fail records a failed snapshot; the first of a streak is an event.
func (m *Manager) fail(now time.Time, err error) {
	m.mu.Lock()
	first := !m.failing
	m.failing, m.lastErr, m.lastErrAt = true, err.Error(), now
	m.mu.Unlock()
	m.log.Error().Err(err).Msg("snapshot failed")
	if first {
		m.event(LevelError, KindFailed, "scheduled snapshot of "+m.o.Dataset+" failed: "+err.Error())
	}
}

func (m *Manager) ok(now time.Time) {
	m.mu.Lock()
	was := m.failing
	m.failing = false
	m.mu.Unlock()
	if was {
		m.event(LevelInfo, KindRecovered, "scheduled snapshots of "+m.o.Dataset+" work again")
	}
}

// latestScheduled is the time in the newest scheduled snapshot's name.
func latestScheduled(snaps []zfs.SnapshotInfo) (time.Time, bool) {
	var latest time.Time
	found := false
	for _, s := range snaps {
		if t, ok := zfs.ParseScheduleName(s.Name); ok && (!found || t.After(latest)) {
			latest, found = t, true
		}
	}
	return latest, found
}

// Prune destroys what retention and the pre-operation expiry select, now.
func (m *Manager) Prune(ctx context.Context) (pruned, expired []string, err error) {
	m.op.Lock()
	defer m.op.Unlock()
	snaps, err := zfs.Snapshots(ctx, m.o.Dataset)
	if err != nil {
		return nil, nil, err
	}
	pruned, expired, errs := m.prune(ctx, snaps, m.o.Now().UTC())
	return pruned, expired, errors.Join(errs...)
}

// prune destroys the scheduled snapshots zfs.Prune selects and the
// pre-operation ones older than PreOpRetention (unheld), each after its
// clone. Caller holds m.op.
func (m *Manager) prune(ctx context.Context, snaps []zfs.SnapshotInfo, now time.Time) (pruned, expired []string, errs []error) {
	_, destroy := zfs.Prune(snaps, m.o.Keep, now)
	for _, s := range snaps {
		if op, t, ok := zfs.ParsePreOpName(s.Name); ok && !s.Held() && now.Sub(t) > m.o.PreOpRetention {
			if err := m.destroy(ctx, s.Name); err != nil {
				errs = append(errs, err)
				continue
			}
			m.log.Info().Str("snapshot", s.Name).Str("op", string(op)).Msg("pre-operation snapshot expired")
			expired = append(expired, s.Name)
		}
	}
	for _, s := range destroy {
		if err := m.destroy(ctx, s.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		pruned = append(pruned, s.Name)
	}
	if len(pruned) > 0 {
		m.log.Info().Strs("snapshots", pruned).Msg("snapshots pruned by retention")
	}
	return pruned, expired, errs
}

// destroy removes snap's clone, if any, then snap. The snapshot is never
// destroyed while its clone could not be removed.
func (m *Manager) destroy(ctx context.Context, snap string) error {
	cs, err := zfs.Clones(ctx, m.o.Dataset)
	if err != nil {
		return fmt.Errorf("prune %s: %w", snap, err)
	}
	for _, c := range cs {
		if c.Snapshot != snap {
			continue
		}
		if !m.ownClone(c) {
			return fmt.Errorf("prune %s: it has the clone %s, which GenesisSync did not make; kept", snap, c.Name)
		}
		if err := zfs.DestroyClone(ctx, c.Name); err != nil {
			return fmt.Errorf("prune %s: kept, its Previous Versions clone could not be removed: %w", snap, err)
		}
	}
	return zfs.DestroySnapshot(ctx, m.o.Dataset, snap)
}

// ownClone reports whether c is one of this package's clones.
func (m *Manager) ownClone(c zfs.CloneInfo) bool {
	return strings.HasPrefix(c.Name, m.o.Dataset+"/"+clonePrefix)
}

// cloneName and cloneMountpoint are where snap's clone goes.
func (m *Manager) cloneName(snap string) string {
	return m.o.Dataset + "/" + clonePrefix + strings.TrimPrefix(snap, "gs-")
}

func (m *Manager) cloneMountpoint(snap string) string {
	return filepath.Join(m.o.Mountpoint, layout.SnapshotDir, snap)
}

// syncClones makes the clones match the scheduled snapshots in ModeClones
// and removes all of this package's clones otherwise. Caller holds m.op.
func (m *Manager) syncClones(ctx context.Context, snaps []zfs.SnapshotInfo) error {
	want := map[string]bool{}
	if m.Mode() == ModeClones {
		for _, s := range snaps {
			if s.Kind() == zfs.Scheduled {
				want[s.Name] = true
			}
		}
	}
	cs, err := zfs.Clones(ctx, m.o.Dataset)
	if err != nil {
		return fmt.Errorf("previous versions clones: %w", err)
	}
	var errs []error
	have := map[string]bool{}
	for _, c := range cs {
		if !m.ownClone(c) {
			continue
		}
		if want[c.Snapshot] && c.Mounted && c.Mountpoint == m.cloneMountpoint(c.Snapshot) && c.Name == m.cloneName(c.Snapshot) {
			have[c.Snapshot] = true
			continue
		}
		if err := zfs.DestroyClone(ctx, c.Name); err != nil {
			errs = append(errs, fmt.Errorf("remove stale clone: %w", err))
		} else {
			m.log.Debug().Str("clone", c.Name).Msg("stale Previous Versions clone removed")
		}
	}
	var missing []string
	for name := range want {
		if !have[name] {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		// Never make mountpoints in the bare directory of an unmounted
		// dataset: the dataset would not mount over them again.
		if info, err := zfs.DatasetForPath(ctx, m.o.Mountpoint); err != nil || info.Name != m.o.Dataset {
			return errors.Join(append(errs, fmt.Errorf("previous versions clones not made: %s is not the mounted %s: %v", m.o.Mountpoint, m.o.Dataset, err))...)
		}
	}
	for _, name := range missing {
		mp := m.cloneMountpoint(name)
		if err := os.MkdirAll(mp, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("previous versions clone of %s: %w", name, err))
			continue
		}
		if err := zfs.Clone(ctx, m.o.Dataset, name, m.cloneName(name), mp); err != nil {
			errs = append(errs, err)
		}
	}
	m.removeEmptyMountpoints(want)
	return errors.Join(errs...)
}

// removeEmptyMountpoints rmdirs the shadow directory's entries that no
// clone uses; a mounted or non-empty one stays.
func (m *Manager) removeEmptyMountpoints(want map[string]bool) {
	dir := filepath.Join(m.o.Mountpoint, layout.SnapshotDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !want[e.Name()] {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if len(want) == 0 {
		_ = os.Remove(dir)
	}
}

// List is the dataset's snapshots, oldest first.
func (m *Manager) List(ctx context.Context) ([]zfs.SnapshotInfo, error) {
	return zfs.Snapshots(ctx, m.o.Dataset)
}

// Create takes a manual snapshot now, named like the schedule's (so that
// Previous Versions shows it and retention prunes it), and returns its
// name. A second one within the same minute fails with zfs.ErrExists.
func (m *Manager) Create(ctx context.Context) (string, error) {
	m.op.Lock()
	defer m.op.Unlock()
	name := zfs.ScheduleName(m.o.Now())
	if err := zfs.Snapshot(ctx, m.o.Dataset, name); err != nil {
		if errors.Is(err, zfs.ErrExists) {
			return name, fmt.Errorf("a snapshot was taken this minute already (%s); try again in a minute: %w", name, err)
		}
		return "", err
	}
	m.event(LevelInfo, KindCreated, "snapshot "+m.o.Dataset+"@"+name+" taken by hand")
	snaps, err := zfs.Snapshots(ctx, m.o.Dataset)
	if err == nil {
		err = m.syncClones(ctx, snaps)
	}
	if err != nil {
		m.log.Warn().Err(err).Msg("previous versions clones not in step")
	}
	return name, nil
}

// PreOp takes the pre-operation snapshot for op now and returns its name.
// It is kept for Options.PreOpRetention, never pruned by the schedule.
func (m *Manager) PreOp(ctx context.Context, op zfs.PreOp) (string, error) {
	m.op.Lock()
	defer m.op.Unlock()
	name, err := TakePreOp(ctx, m.o.Dataset, op, m.o.Now, zfs.Snapshot)
	if err != nil {
		return "", err
	}
	m.event(LevelInfo, KindCreated, "snapshot "+m.o.Dataset+"@"+name+" taken before "+string(op))
	return name, nil
}

// TakePreOp takes dataset's pre-operation snapshot for op, named by
// zfs.PreOpName at now(), with take (zfs.Snapshot, or a test's stand-in),
// and returns its name. A name already taken (a second operation in the
// same second) is tried again in the next second, twice at most; a clock
// that does not move gets the error. Safe for concurrent use; of two
// callers racing for a name on one dataset, the loser retries.
func TakePreOp(ctx context.Context, dataset string, op zfs.PreOp, now func() time.Time, take func(ctx context.Context, dataset, name string) error) (string, error) {
	if now == nil {
		now = time.Now
	}
	for attempt := 0; ; attempt++ {
		name, err := zfs.PreOpName(op, now())
		if err != nil {
			return "", err
		}
		err = take(ctx, dataset, name)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, zfs.ErrExists) || attempt == 2 {
			return "", err
		}
		t := time.Now()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(t.Truncate(time.Second).Add(time.Second).Sub(t)):
		}
		if next, _ := zfs.PreOpName(op, now()); next == name {
			return "", err
		}
	}
}

// Rollback returns the dataset to snap. Without destroyNewer it refuses
// (a *zfs.NewerSnapshotsError) when newer snapshots exist; with it, they
// are destroyed, as zfs rollback -r does. Clones are removed first and
// rebuilt afterwards. The caller keeps writers away (pauses the share).
func (m *Manager) Rollback(ctx context.Context, snap string, destroyNewer bool) error {
	m.op.Lock()
	defer m.op.Unlock()
	snaps, err := zfs.Snapshots(ctx, m.o.Dataset)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(snaps, func(s zfs.SnapshotInfo) bool { return s.Name == snap })
	if i < 0 {
		return fmt.Errorf("rollback to %s@%s: snapshot %w", m.o.Dataset, snap, zfs.ErrNotFound)
	}
	if newer := snaps[i+1:]; len(newer) > 0 && !destroyNewer {
		var names []string
		for _, s := range newer {
			names = append(names, s.Name)
		}
		return fmt.Errorf("rollback to %s@%s: %w", m.o.Dataset, snap, &zfs.NewerSnapshotsError{Newer: names})
	}
	// A rollback can remove the directories the clones are mounted on
	// (leaving them unremovable until the pool is exported): remove them all.
	if err := m.removeClones(ctx); err != nil {
		return fmt.Errorf("rollback to %s@%s: %w", m.o.Dataset, snap, err)
	}
	rbErr := zfs.Rollback(ctx, m.o.Dataset, snap, zfs.RollbackOptions{DestroyNewer: destroyNewer})
	if snaps, err := zfs.Snapshots(ctx, m.o.Dataset); err == nil {
		if err := m.syncClones(ctx, snaps); err != nil {
			m.log.Warn().Err(err).Msg("previous versions clones not rebuilt after rollback")
		}
	}
	if rbErr != nil {
		return rbErr
	}
	m.event(LevelWarning, KindRolledBack, "dataset "+m.o.Dataset+" rolled back to "+snap)
	return nil
}

// removeClones removes every clone of this package. Caller holds m.op.
func (m *Manager) removeClones(ctx context.Context) error {
	cs, err := zfs.Clones(ctx, m.o.Dataset)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Snapshot != "" && !m.ownClone(c) {
			continue
		}
		if err := zfs.DestroyClone(ctx, c.Name); err != nil {
			return err
		}
	}
	return nil
}

// Status is the manager's state for the status page.
type Status struct {
	Mode string
	// NextDue is when the next scheduled snapshot is due, after the first round.
	NextDue time.Time
	// LastError is the last failed snapshot, if the last attempt failed.
	LastError   string
	LastErrorAt time.Time
}

// Status reports the schedule's state without calling ZFS.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{Mode: m.mode, NextDue: m.nextDue}
	if m.failing {
		st.LastError, st.LastErrorAt = m.lastErr, m.lastErrAt
	}
	return st
}

// WithSnapshotDir calls fn with a directory that shows snap's content,
// read-only: <share>/.zfs/snapshot/<snap> where ZFS has it, the snapshot's
// Previous Versions clone, or a temporary clone removed when fn returns.
// The schedule waits meanwhile.
func (m *Manager) WithSnapshotDir(ctx context.Context, snap string, fn func(dir string) error) error {
	m.op.Lock()
	defer m.op.Unlock()
	snaps, err := zfs.Snapshots(ctx, m.o.Dataset)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(snaps, func(s zfs.SnapshotInfo) bool { return s.Name == snap }) {
		return fmt.Errorf("snapshot %s@%s: %w", m.o.Dataset, snap, zfs.ErrNotFound)
	}
	if zfs.HasSnapdir(m.o.Mountpoint) {
		return fn(filepath.Join(m.o.Mountpoint, ".zfs", "snapshot", snap))
	}
	cs, err := zfs.Clones(ctx, m.o.Dataset)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if m.ownClone(c) && c.Snapshot == snap && c.Mounted && c.Mountpoint == m.cloneMountpoint(snap) {
			return fn(c.Mountpoint)
		}
	}
	name := m.o.Dataset + "/" + clonePrefix + "tmp-" + strings.TrimPrefix(snap, "gs-")
	mp := filepath.Join(m.o.Mountpoint, layout.SnapshotDir, ".tmp-"+snap)
	if err := os.MkdirAll(mp, 0o755); err != nil {
		return fmt.Errorf("snapshot %s: %w", snap, err)
	}
	defer os.Remove(mp)
	if err := zfs.Clone(ctx, m.o.Dataset, snap, name, mp); err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := zfs.DestroyClone(dctx, name); err != nil {
			m.log.Warn().Err(err).Str("clone", name).Msg("temporary clone left behind; the next round removes it")
		}
	}()
	return fn(mp)
}
