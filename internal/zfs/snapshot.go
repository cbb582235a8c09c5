package zfs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SnapshotInfo is one snapshot of a dataset.
type SnapshotInfo struct {
	// Dataset is the file system the snapshot belongs to.
	Dataset string `json:"dataset"`
	// Name is the part after '@'.
	Name string `json:"name"`
	// Created is when ZFS took it, to the second (UTC).
	Created time.Time `json:"created"`
	// CreateTxg orders snapshots exactly where Created ties.
	CreateTxg uint64 `json:"createtxg"`
	// Used is the space only this snapshot holds, in bytes; Referenced the
	// size of the data it shows.
	Used       uint64 `json:"used"`
	Referenced uint64 `json:"referenced"`
	// Holds is the number of user holds (the userrefs property). A held
	// snapshot cannot be destroyed.
	Holds uint64 `json:"holds"`
}

// FullName is dataset@name.
func (s SnapshotInfo) FullName() string { return s.Dataset + "@" + s.Name }

// Held reports whether the snapshot has user holds.
func (s SnapshotInfo) Held() bool { return s.Holds > 0 }

// Kind classifies the snapshot by its name.
func (s SnapshotInfo) Kind() Kind { return KindOf(s.Name) }

var snapshotProps = []string{"type", "creation", "createtxg", "used", "referenced", "userrefs"}

// Snapshot takes the snapshot dataset@name. An existing name fails with
// ErrExists. Safe for concurrent use; see Rollback for the one exception.
func Snapshot(ctx context.Context, dataset, name string) error {
	return snapshot(ctx, execRunner{}, dataset, name)
}

func snapshot(ctx context.Context, r runner, dataset, name string) error {
	full, err := snapshotName(dataset, name)
	if err != nil {
		return err
	}
	if _, err := r.run(ctx, "zfs", "snapshot", full); err != nil {
		return fmt.Errorf("snapshot %q: %w", full, err)
	}
	return nil
}

// Snapshots lists the snapshots of dataset (not of its children), oldest
// first. Names outside this package's grammar (spaces, say) are listed
// too; the functions that change snapshots refuse them. Safe for concurrent use.
func Snapshots(ctx context.Context, dataset string) ([]SnapshotInfo, error) {
	return snapshots(ctx, execRunner{}, dataset)
}

func snapshots(ctx context.Context, r runner, dataset string) ([]SnapshotInfo, error) {
	if err := checkDataset(dataset); err != nil {
		return nil, err
	}
	// zfs-fuse's get has no -t; -d 1 limits the walk to the dataset, its
	// snapshots and its direct children, which parseSnapshots drops.
	out, err := r.run(ctx, "zfs", "get", "-H", "-p", "-r", "-d", "1", "-o", "name,property,value",
		strings.Join(snapshotProps, ","), dataset)
	if err != nil {
		return nil, fmt.Errorf("list snapshots of %q: %w", dataset, err)
	}
	snaps, err := parseSnapshots(out, dataset)
	if err != nil {
		return nil, fmt.Errorf("list snapshots of %q: %w", dataset, err)
	}
	return snaps, nil
}

// parseSnapshots reads `zfs get -H -p -r -d 1` output and keeps the
// snapshots of dataset, ordered by creation (txg, then time, then name).
func parseSnapshots(out []byte, dataset string) ([]SnapshotInfo, error) {
	sets, err := parseProps(out)
	if err != nil {
		return nil, err
	}
	var snaps []SnapshotInfo
	for _, s := range sets {
		name, ok := strings.CutPrefix(s.name, dataset+"@")
		if !ok {
			continue
		}
		if t := s.props["type"]; t != "snapshot" {
			return nil, fmt.Errorf("%s: type is %q, want snapshot", s.name, t)
		}
		info := SnapshotInfo{Dataset: dataset, Name: name}
		if info.Created, err = s.time("creation"); err != nil {
			return nil, err
		}
		if info.CreateTxg, err = s.uint("createtxg"); err != nil {
			return nil, err
		}
		if info.Used, err = s.uint("used"); err != nil {
			return nil, err
		}
		if info.Referenced, err = s.uint("referenced"); err != nil {
			return nil, err
		}
		if info.Holds, err = s.uintOrDash("userrefs"); err != nil {
			return nil, err
		}
		snaps = append(snaps, info)
	}
	slices.SortFunc(snaps, func(a, b SnapshotInfo) int {
		return cmp.Or(cmp.Compare(a.CreateTxg, b.CreateTxg), a.Created.Compare(b.Created), strings.Compare(a.Name, b.Name))
	})
	return snaps, nil
}

// busyRetry bounds the retries of a busy answer, which zfs-fuse gives
// briefly after a dataset is created or mounted (docs/zfs.md): eight tries
// over about 4.5 s.
var busyRetry = retryPolicy{attempts: 8, first: 100 * time.Millisecond, max: time.Second}

type retryPolicy struct {
	attempts   int
	first, max time.Duration
}

// DestroySnapshot destroys dataset@name, retrying a busy answer a bounded
// number of times; a held snapshot fails at once with ErrHeld, a missing one
// with ErrNotFound. Taking the name apart from the dataset, it can never
// destroy a file system. It ignores the snapshot's kind: keeping
// pre-operation snapshots is Prune's rule and the caller's. Safe for
// concurrent use.
func DestroySnapshot(ctx context.Context, dataset, name string) error {
	return destroySnapshot(ctx, execRunner{}, busyRetry, dataset, name)
}

func destroySnapshot(ctx context.Context, r runner, p retryPolicy, dataset, name string) error {
	full, err := snapshotName(dataset, name)
	if err != nil {
		return err
	}
	delay := p.first
	for attempt := 1; ; attempt++ {
		_, err := r.run(ctx, "zfs", "destroy", full)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrBusy) {
			return fmt.Errorf("destroy snapshot %q: %w", full, err)
		}
		// ZFS says busy for a held snapshot too: that never passes.
		if holds, herr := userrefs(ctx, r, full); herr == nil && holds > 0 {
			return fmt.Errorf("destroy snapshot %q: %w (%d holds)", full, ErrHeld, holds)
		}
		if attempt >= p.attempts {
			return fmt.Errorf("destroy snapshot %q: still busy after %d attempts: %w", full, attempt, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("destroy snapshot %q: %w (last answer: %w)", full, ctx.Err(), err)
		case <-t.C:
		}
		delay = min(2*delay, p.max)
	}
}

// userrefs is the number of holds on a snapshot.
func userrefs(ctx context.Context, r runner, full string) (uint64, error) {
	out, err := r.run(ctx, "zfs", "get", "-H", "-p", "-o", "name,property,value", "userrefs", full)
	if err != nil {
		return 0, err
	}
	sets, err := parseProps(out)
	if err != nil {
		return 0, err
	}
	for _, s := range sets {
		if s.name == full {
			return s.uintOrDash("userrefs")
		}
	}
	return 0, fmt.Errorf("zfs get printed no userrefs for %s", full)
}

// RollbackOptions change what Rollback may do. The zero value is the safe
// default: refuse when newer snapshots exist.
type RollbackOptions struct {
	// DestroyNewer lets the rollback destroy the snapshots newer than its
	// target (zfs rollback -r), pre-operation snapshots included. It still
	// refuses, before changing anything, when one of them is held.
	DestroyNewer bool
}

// NewerSnapshotsError is a rollback refused because of newer snapshots.
// errors.Is(err, ErrNewerSnapshots) matches it.
type NewerSnapshotsError struct {
	// Newer are the short names of the newer snapshots, oldest first.
	Newer []string
}

func (e *NewerSnapshotsError) Error() string {
	return fmt.Sprintf("%s: %s (rolling back would destroy them)", ErrNewerSnapshots, strings.Join(e.Newer, ", "))
}

func (e *NewerSnapshotsError) Is(target error) bool { return target == ErrNewerSnapshots }

// Rollback returns dataset to the snapshot snap, discarding every change
// since. Without opts.DestroyNewer it refuses, with a *NewerSnapshotsError,
// when newer snapshots exist. A snapshot taken of the same dataset while a
// rollback with DestroyNewer runs would be destroyed with the others:
// callers serialize Rollback with Snapshot per dataset. Open files do not
// stop a rollback; the caller pauses whatever writes to the dataset.
func Rollback(ctx context.Context, dataset, snap string, opts RollbackOptions) error {
	return rollback(ctx, execRunner{}, dataset, snap, opts)
}

func rollback(ctx context.Context, r runner, dataset, snap string, opts RollbackOptions) error {
	full, err := snapshotName(dataset, snap)
	if err != nil {
		return err
	}
	snaps, err := snapshots(ctx, r, dataset)
	if err != nil {
		return fmt.Errorf("rollback %q: %w", full, err)
	}
	i := slices.IndexFunc(snaps, func(s SnapshotInfo) bool { return s.Name == snap })
	if i < 0 {
		return fmt.Errorf("rollback %q: snapshot %w", full, ErrNotFound)
	}
	var newer, held []string
	for _, s := range snaps[i+1:] {
		newer = append(newer, s.Name)
		if s.Held() {
			held = append(held, s.Name)
		}
	}
	args := []string{"rollback"}
	if len(newer) > 0 {
		if !opts.DestroyNewer {
			return fmt.Errorf("rollback %q: %w", full, &NewerSnapshotsError{Newer: newer})
		}
		if len(held) > 0 {
			return fmt.Errorf("rollback %q: newer snapshots that it would destroy are held: %s: %w", full, strings.Join(held, ", "), ErrHeld)
		}
		args = append(args, "-r")
	}
	if _, err := r.run(ctx, "zfs", append(args, full)...); err != nil {
		return fmt.Errorf("rollback %q: %w", full, err)
	}
	return nil
}

// Hold places the user hold tag on dataset@snap: until released, the
// snapshot cannot be destroyed. A tag already there fails with ErrExists.
// Holds are counted by SnapshotInfo.Holds, since zfs-fuse cannot run `zfs
// holds`. Safe for concurrent use.
func Hold(ctx context.Context, dataset, snap, tag string) error {
	return holdRelease(ctx, execRunner{}, "hold", dataset, snap, tag)
}

// Release removes the user hold tag from dataset@snap. A tag that is not
// there fails with ErrNotFound. Safe for concurrent use.
func Release(ctx context.Context, dataset, snap, tag string) error {
	return holdRelease(ctx, execRunner{}, "release", dataset, snap, tag)
}

func holdRelease(ctx context.Context, r runner, verb, dataset, snap, tag string) error {
	full, err := snapshotName(dataset, snap)
	if err != nil {
		return err
	}
	if err := checkTag(tag); err != nil {
		return err
	}
	if _, err := r.run(ctx, "zfs", verb, tag, full); err != nil {
		return fmt.Errorf("%s %q on %q: %w", verb, tag, full, err)
	}
	return nil
}
