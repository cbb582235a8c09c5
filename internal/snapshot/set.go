package snapshot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/model"
	"genesissync/internal/zfs"
)

// KindRestored is the event kind of a restore from a snapshot (Set.Restore).
const KindRestored = "snapshot.restored"

// ErrNoShare is a share name the Set does not hold.
var ErrNoShare = errors.New("no share")

// ErrNoSnapshots is a share without a snapshot schedule.
var ErrNoSnapshots = errors.New("snapshots are off for this share (not on a ZFS dataset, or snapshots.enabled: false)")

// Share is one of a daemon's shares as a Set holds it.
type Share struct {
	Name string
	// Dataset is the share's ZFS file system; "" for a plain directory.
	Dataset string
	// Manager runs the share's snapshots; nil when the share is not on
	// ZFS or its snapshots are off.
	Manager *Manager
	// Pipeline is the share's sync pipeline, held still by Rollback and
	// asked for a full scan by Restore; Settle is its settle window.
	Pipeline Pipeline
	Settle   time.Duration
}

// Set is a daemon's shares as their snapshots see them: each share's
// Manager, its dataset's space and its snapshots as last listed (every
// minute, and after each change made through the Set). NewSet builds it;
// Run runs the schedules and the listings until its context ends; every
// other method may be called from any goroutine at any time.
type Set struct {
	shares []Share // fixed by NewSet
	log    zerolog.Logger

	mu       sync.Mutex
	datasets map[string]zfs.DatasetInfo // by share
	listed   map[string]listing         // by share
}

// listing is a share's snapshots as last listed.
type listing struct {
	snaps []zfs.SnapshotInfo
	err   string
	at    time.Time
}

// NewSet returns the set of shares; nothing runs until Run.
func NewSet(shares []Share, log zerolog.Logger) *Set {
	return &Set{shares: shares, log: log, datasets: map[string]zfs.DatasetInfo{}, listed: map[string]listing{}}
}

// Run starts each share's schedule (after preparing its clones) and reads
// every ZFS share's dataset and snapshots now and then every minute, until
// ctx ends. ZFS failures are logged or kept for Status, never returned: the
// schedules and the listing retry.
func (s *Set) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	onZFS := false
	for _, sh := range s.shares {
		if sh.Dataset == "" {
			continue
		}
		onZFS = true
		m := sh.Manager
		if m == nil {
			continue
		}
		log := s.log.With().Str("share", sh.Name).Logger()
		g.Go(func() error {
			if err := m.Start(ctx); err != nil && ctx.Err() == nil {
				log.Warn().Err(err).Str("component", "snapshot").Msg("preparing Previous Versions clones failed; the schedule retries")
			}
			return m.Run(ctx)
		})
	}
	if onZFS {
		g.Go(func() error {
			everyMinute(ctx, s.check)
			return nil
		})
	}
	return g.Wait()
}

// check reads every ZFS share's dataset and, with snapshots on, its snapshots.
func (s *Set) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	for _, sh := range s.shares {
		if sh.Dataset == "" {
			continue
		}
		if info, err := zfs.Dataset(ctx, sh.Dataset); err == nil {
			s.mu.Lock()
			s.datasets[sh.Name] = info
			s.mu.Unlock()
		}
		if sh.Manager != nil {
			s.refresh(ctx, sh)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// find is the named share.
func (s *Set) find(share string) (Share, bool) {
	for _, sh := range s.shares {
		if sh.Name == share {
			return sh, true
		}
	}
	return Share{}, false
}

// Manager is the share's Manager, or an error naming why not: ErrNoShare
// or ErrNoSnapshots.
func (s *Set) Manager(share string) (*Manager, error) {
	sh, ok := s.find(share)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrNoShare, share)
	}
	if sh.Manager == nil {
		return nil, fmt.Errorf("share %s: %w", share, ErrNoSnapshots)
	}
	return sh.Manager, nil
}

// Refresh lists the share's snapshots again for Status; a share without
// snapshots is left alone.
func (s *Set) Refresh(ctx context.Context, share string) {
	if sh, ok := s.find(share); ok && sh.Manager != nil {
		s.refresh(ctx, sh)
	}
}

// refresh lists sh's snapshots; when listing fails the last good list
// stays, with the error beside it.
func (s *Set) refresh(ctx context.Context, sh Share) {
	snaps, err := zfs.Snapshots(ctx, sh.Dataset)
	l := listing{snaps: snaps, at: time.Now()}
	if err != nil {
		l.err = err.Error()
	}
	s.mu.Lock()
	if err != nil {
		l.snaps = s.listed[sh.Name].snaps // keep the last good list
	}
	s.listed[sh.Name] = l
	s.mu.Unlock()
}

// Status is the share's snapshot state as people see it: the schedule's
// state, the dataset's space and the newest ten snapshots as last listed.
// It calls no ZFS tool.
func (s *Set) Status(share string) model.Snapshots {
	sh, _ := s.find(share)
	if sh.Dataset == "" {
		return model.Snapshots{Reason: "the share is a plain directory, not a ZFS dataset"}
	}
	s.mu.Lock()
	ds := s.datasets[share]
	l := s.listed[share]
	s.mu.Unlock()
	st := model.Snapshots{Dataset: sh.Dataset, DatasetUsed: ds.Used, DatasetAvailable: ds.Available}
	m := sh.Manager
	if m == nil {
		st.Reason = "snapshots are turned off for this share (snapshots.enabled: false)"
		return st
	}
	ms := m.Status()
	st.Enabled = true
	st.IntervalSeconds = m.o.Interval.Seconds()
	st.PreviousVersions = ms.Mode
	st.NextScheduled = ms.NextDue
	st.LastError, st.LastErrorAt = ms.LastError, ms.LastErrorAt
	if st.LastError == "" && l.err != "" {
		st.LastError, st.LastErrorAt = l.err, l.at
	}
	st.Count = len(l.snaps)
	for i := len(l.snaps) - 1; i >= 0 && len(st.Recent) < 10; i-- {
		sn := l.snaps[i]
		st.Recent = append(st.Recent, model.SnapshotInfo{Name: sn.Name, Kind: sn.Kind().String(), Created: sn.Created, Used: sn.Used, Held: sn.Held()})
	}
	return st
}

// Create takes a manual snapshot of the share (Manager.Create).
func (s *Set) Create(ctx context.Context, share string) (string, error) {
	m, err := s.Manager(share)
	if err != nil {
		return "", err
	}
	name, err := m.Create(ctx)
	s.Refresh(ctx, share)
	return name, err
}

// BeforeDeletes takes the pre-delete snapshot of the share before an
// approved mass delete is released; the approval must fail when it
// cannot be taken. Shares without snapshots pass.
func (s *Set) BeforeDeletes(ctx context.Context, share string) error {
	m, err := s.Manager(share)
	if err != nil {
		if errors.Is(err, ErrNoSnapshots) {
			return nil
		}
		return err
	}
	name, err := m.PreOp(ctx, zfs.PreDelete)
	if err != nil {
		return fmt.Errorf("snapshot before the approved deletes: %w", err)
	}
	s.log.Info().Str("share", share).Str("snapshot", name).Msg("snapshot taken before approved deletes")
	s.Refresh(ctx, share)
	return nil
}

// TripwireHold is the user hold tag on a tripwire's snapshot: no prune and
// no `zfs destroy` removes it until the hold is released.
const TripwireHold = "genesissync-tripwire"

// AtTrip takes the share's pre-tripwire snapshot and holds it
// (TripwireHold), returning its name. A share without snapshots fails
// with ErrNoSnapshots; a snapshot taken but not held is returned with the
// error. Safe for concurrent use.
func (s *Set) AtTrip(ctx context.Context, share string) (string, error) {
	m, err := s.Manager(share)
	if err != nil {
		return "", err
	}
	name, err := m.PreOp(ctx, zfs.PreTripwire)
	if err != nil {
		return "", fmt.Errorf("snapshot at the tripwire's trip: %w", err)
	}
	defer s.Refresh(ctx, share)
	if err := zfs.Hold(ctx, m.Dataset(), name, TripwireHold); err != nil {
		return name, fmt.Errorf("hold the tripwire's snapshot %s: %w", name, err)
	}
	s.log.Warn().Str("share", share).Str("snapshot", name).Str("hold", TripwireHold).Msg("snapshot taken and held at the tripwire's trip")
	return name, nil
}

// ReleaseTrip releases the hold AtTrip placed on snap: the snapshot then
// expires like any pre-operation snapshot. A hold already released
// passes. Safe for concurrent use.
func (s *Set) ReleaseTrip(ctx context.Context, share, snap string) error {
	m, err := s.Manager(share)
	if err != nil {
		return err
	}
	defer s.Refresh(ctx, share)
	if err := zfs.Release(ctx, m.Dataset(), snap, TripwireHold); err != nil && !errors.Is(err, zfs.ErrNotFound) {
		return err
	}
	return nil
}

// Prune prunes the share's snapshots now (Manager.Prune).
func (s *Set) Prune(ctx context.Context, share string) (pruned, expired []string, err error) {
	m, err := s.Manager(share)
	if err != nil {
		return nil, nil, err
	}
	pruned, expired, err = m.Prune(ctx)
	s.Refresh(ctx, share)
	return pruned, expired, err
}

// Rollback rolls the share back to snap (Manager.RollbackShare).
func (s *Set) Rollback(ctx context.Context, share, snap string, destroyNewer bool) error {
	m, err := s.Manager(share)
	if err != nil {
		return err
	}
	sh, _ := s.find(share)
	if err := m.RollbackShare(ctx, sh.Pipeline, sh.Settle, snap, destroyNewer); err != nil {
		return err
	}
	s.Refresh(ctx, share)
	return nil
}

// Restore copies rel (a file or folder, share-relative) from the named
// snapshot back into the live share (Manager.Restore), raises the
// snapshot.restored event naming what SMB clients held open, and asks the
// share's pipeline for a full scan.
func (s *Set) Restore(ctx context.Context, share, snap, rel string, o RestoreOptions) error {
	m, err := s.Manager(share)
	if err != nil {
		return err
	}
	skipped, err := m.Restore(ctx, snap, rel, o)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s restored from snapshot %s", rel, snap)
	if len(skipped) > 0 {
		msg += fmt.Sprintf("; %d file(s) open over SMB not replaced: %s", len(skipped), strings.Join(skipped[:min(len(skipped), 5)], ", "))
	}
	m.event(LevelInfo, KindRestored, msg)
	sh, _ := s.find(share)
	sh.Pipeline.SyncNow()
	return nil
}
