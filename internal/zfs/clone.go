package zfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

// This file serves Previous Versions where ZFS has no .zfs/snapshot
// directory (zfs-fuse): read-only clones of snapshots, mounted where Samba
// looks.

// CloneInfo is a clone of a dataset's snapshot, living as its direct child.
type CloneInfo struct {
	// Name is the clone's dataset name, e.g. tank/media/gs-shadow-2026-11-22-0300.
	Name string `json:"name"`
	// Origin is the snapshot it was cloned from, dataset@name.
	Origin string `json:"origin"`
	// Snapshot is the origin's short name (after '@').
	Snapshot   string `json:"snapshot"`
	Mountpoint string `json:"mountpoint"`
	Mounted    bool   `json:"mounted"`
}

// Clone creates clone (a dataset name) from dataset@snap, read-only and
// mounted at mountpoint, an absolute, clean path whose directory the
// caller made. zfs-fuse 0.7 mounts it read-only but reports the readonly
// property as off ("temporary"). Safe for concurrent use.
func Clone(ctx context.Context, dataset, snap, clone, mountpoint string) error {
	return cloneSnapshot(ctx, execRunner{}, dataset, snap, clone, mountpoint)
}

func cloneSnapshot(ctx context.Context, r runner, dataset, snap, clone, mountpoint string) error {
	full, err := snapshotName(dataset, snap)
	if err != nil {
		return err
	}
	if err := checkDataset(clone); err != nil {
		return err
	}
	if err := checkMountpoint(mountpoint); err != nil {
		return fmt.Errorf("clone %q: %w", full, err)
	}
	if _, err := r.run(ctx, "zfs", "clone", "-o", "readonly=on", "-o", "mountpoint="+mountpoint, full, clone); err != nil {
		return fmt.Errorf("clone %q to %q: %w", full, clone, err)
	}
	return nil
}

// checkMountpoint refuses a mountpoint that is not an absolute, clean path
// of printable characters.
func checkMountpoint(mp string) error {
	if !filepath.IsAbs(mp) || filepath.Clean(mp) != mp || mp == "/" ||
		strings.ContainsFunc(mp, func(r rune) bool { return !unicode.IsPrint(r) || r == ',' }) {
		return fmt.Errorf("mountpoint %q: %w: want an absolute, clean path without control characters or commas", mp, ErrInvalidName)
	}
	return nil
}

var cloneProps = []string{"type", "origin", "mountpoint", "mounted"}

// Clones lists the clones of dataset's snapshots that are direct children
// of dataset, in name order. Safe for concurrent use.
func Clones(ctx context.Context, dataset string) ([]CloneInfo, error) {
	return clones(ctx, execRunner{}, dataset)
}

func clones(ctx context.Context, r runner, dataset string) ([]CloneInfo, error) {
	if err := checkDataset(dataset); err != nil {
		return nil, err
	}
	out, err := r.run(ctx, "zfs", "get", "-H", "-p", "-r", "-d", "1", "-o", "name,property,value",
		strings.Join(cloneProps, ","), dataset)
	if err != nil {
		return nil, fmt.Errorf("list clones of %q: %w", dataset, err)
	}
	cs, err := parseClones(out, dataset)
	if err != nil {
		return nil, fmt.Errorf("list clones of %q: %w", dataset, err)
	}
	return cs, nil
}

// parseClones reads `zfs get -H -p -r -d 1 -o name,property,value
// type,origin,mountpoint,mounted DATASET` and keeps the direct children
// that are file systems cloned from one of dataset's snapshots.
func parseClones(out []byte, dataset string) ([]CloneInfo, error) {
	sets, err := parseProps(out)
	if err != nil {
		return nil, err
	}
	var cs []CloneInfo
	for _, s := range sets {
		child, ok := strings.CutPrefix(s.name, dataset+"/")
		if !ok || strings.ContainsAny(child, "/@") || s.props["type"] != "filesystem" {
			continue
		}
		snap, ok := strings.CutPrefix(s.props["origin"], dataset+"@")
		if !ok {
			continue
		}
		c := CloneInfo{Name: s.name, Origin: s.props["origin"], Snapshot: snap, Mountpoint: s.props["mountpoint"]}
		if c.Mounted, err = s.yesNo("mounted"); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// DestroyClone unmounts and destroys clone, retrying a busy answer (Samba
// or a client may be reading in it) a bounded number of times. It refuses,
// before anything is changed, a dataset whose origin property is empty:
// it never destroys a file system that is not a clone, and never one
// with children or snapshots (zfs destroy without -r refuses those).
// Safe for concurrent use.
func DestroyClone(ctx context.Context, clone string) error {
	return destroyClone(ctx, execRunner{}, clone, busyRetry)
}

func destroyClone(ctx context.Context, r runner, clone string, p retryPolicy) error {
	if err := checkDataset(clone); err != nil {
		return err
	}
	out, err := r.run(ctx, "zfs", "get", "-H", "-p", "-o", "name,property,value", "origin", clone)
	if err != nil {
		return fmt.Errorf("destroy clone %q: %w", clone, err)
	}
	sets, err := parseProps(out)
	if err != nil {
		return fmt.Errorf("destroy clone %q: %w", clone, err)
	}
	if len(sets) != 1 || sets[0].name != clone || !strings.Contains(sets[0].props["origin"], "@") {
		return fmt.Errorf("destroy clone %q: it is not a clone (no origin snapshot); refusing", clone)
	}
	return retryBusy(ctx, p, "destroy clone "+clone, func() error {
		_, err := r.run(ctx, "zfs", "destroy", clone)
		return err
	})
}

// retryBusy runs try until it does not fail with ErrBusy, at most p.attempts times.
func retryBusy(ctx context.Context, p retryPolicy, what string, try func() error) error {
	delay := p.first
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrBusy) {
			return fmt.Errorf("%s: %w", what, err)
		}
		if attempt >= p.attempts {
			return fmt.Errorf("%s: still busy after %d attempts: %w", what, attempt, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (last answer: %w)", what, ctx.Err(), err)
		case <-t.C:
		}
		delay = min(2*delay, p.max)
	}
}

// HasSnapdir reports whether the dataset mounted at mountpoint shows its
// snapshots under .zfs/snapshot (OpenZFS, never zfs-fuse), where Samba's
// shadow_copy2 reads them without clones.
func HasSnapdir(mountpoint string) bool {
	fi, err := os.Stat(filepath.Join(mountpoint, ".zfs", "snapshot"))
	return err == nil && fi.IsDir()
}
