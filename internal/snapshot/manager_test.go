package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/layout"
	"genesissync/internal/zfs"
	"genesissync/internal/zfs/zfstest"
)

// clock is a test clock the manager reads through Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func names(snaps []zfs.SnapshotInfo, kind zfs.Kind) []string {
	var out []string
	for _, s := range snaps {
		if s.Kind() == kind {
			out = append(out, s.Name)
		}
	}
	return out
}

func shadowEntries(t *testing.T, mountpoint string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(mountpoint, layout.SnapshotDir))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestScheduleOnRealPool drives a schedule through 30 hours and three days
// of an injected clock on a real zfs-fuse pool: snapshots are taken once
// per interval, pruned by retention, a held and a pre-operation snapshot
// survive pruning, the pre-operation one expires after its own retention,
// and the Previous Versions clones follow every change.
func TestScheduleOnRealPool(t *testing.T) {
	ctx := context.Background()
	pool := zfstest.NewPool(t)
	dataset, mp := pool.Dataset(t, "studio")
	clk := &clock{t: time.Date(2026, 11, 20, 0, 10, 0, 0, time.UTC)}
	var evMu sync.Mutex
	var events []string
	m := New(Options{
		Dataset: dataset, Mountpoint: mp, Interval: time.Hour,
		Keep:           zfs.Retention{Hourly: 3, Daily: 2},
		PreOpRetention: 48 * time.Hour, PreviousVersions: true, Now: clk.Now,
		Event: func(level, kind, msg string) { evMu.Lock(); events = append(events, kind); evMu.Unlock() },
		Log:   zerolog.New(zerolog.NewTestWriter(t)),
	})
	require.Equal(t, ModeClones, m.Mode(), "zfs-fuse has no .zfs/snapshot")
	require.NoError(t, m.Start(ctx))

	song := filepath.Join(mp, "song.mp3")
	pre, err := m.PreOp(ctx, zfs.PreDelete)
	require.NoError(t, err)
	require.Equal(t, "gs-pre-delete-2026-11-20-001000", pre)

	for h := 0; h < 30; h++ {
		require.NoError(t, os.WriteFile(song, []byte(clk.Now().Format("v-2006-01-02-1504")), 0o644))
		r, err := m.Tick(ctx)
		require.NoError(t, err)
		require.Equal(t, zfs.ScheduleName(clk.Now()), r.Created, "hour %d", h)
		if h == 1 {
			require.NoError(t, zfs.Hold(ctx, dataset, r.Created, "gs-test"))
			t.Cleanup(func() { _ = zfs.Release(context.Background(), dataset, "gs-2026-11-20-0110", "gs-test") })
		}
		// Half an hour later nothing is due.
		clk.Set(clk.Now().Add(30 * time.Minute))
		r, err = m.Tick(ctx)
		require.NoError(t, err)
		require.Empty(t, r.Created, "a second snapshot in one interval")
		clk.Set(clk.Now().Add(30 * time.Minute))
	}
	// The last tick ran at 2026-11-21 05:40; 30 snapshots were taken.
	snaps, err := m.List(ctx)
	require.NoError(t, err)
	want := []string{
		"gs-2026-11-20-0110", // held
		"gs-2026-11-20-2310", // daily: the last of 11-20
		"gs-2026-11-21-0310", // hourly x3, the newest also daily
		"gs-2026-11-21-0410",
		"gs-2026-11-21-0510",
	}
	require.Equal(t, want, names(snaps, zfs.Scheduled))
	require.Equal(t, []string{pre}, names(snaps, zfs.PreOperation), "pre-operation snapshots are never pruned by the schedule")
	require.Equal(t, want, shadowEntries(t, mp), "one clone per scheduled snapshot")
	old, err := os.ReadFile(filepath.Join(mp, layout.SnapshotDir, "gs-2026-11-20-2310", "song.mp3"))
	require.NoError(t, err)
	require.Equal(t, "v-2026-11-20-2310", string(old), "the clone shows the snapshot's content")
	require.True(t, m.Status().NextDue.Equal(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)), "next due %s", m.Status().NextDue)

	// Three days later: the pre-operation snapshot has expired, the held
	// one is still there; hourly keeps the three newest hours that have one.
	clk.Set(time.Date(2026, 11, 24, 6, 5, 0, 0, time.UTC))
	r, err := m.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{pre}, r.Expired)
	snaps, err = m.List(ctx)
	require.NoError(t, err)
	require.Empty(t, names(snaps, zfs.PreOperation))
	require.Equal(t, []string{"gs-2026-11-20-0110", "gs-2026-11-21-0410", "gs-2026-11-21-0510", "gs-2026-11-24-0605"}, names(snaps, zfs.Scheduled))
	require.Equal(t, names(snaps, zfs.Scheduled), shadowEntries(t, mp))

	// Previous Versions turned off: a new manager's start removes every
	// clone; turned on again, they come back.
	off := New(Options{Dataset: dataset, Mountpoint: mp, Interval: config.DefaultSnapshotInterval, Keep: zfs.DefaultRetention(), PreOpRetention: config.DefaultPreOpRetention, Now: clk.Now})
	require.Equal(t, ModeOff, off.Mode())
	require.NoError(t, off.Start(ctx))
	require.Empty(t, shadowEntries(t, mp))
	cs, err := zfs.Clones(ctx, dataset)
	require.NoError(t, err)
	require.Empty(t, cs)
	require.NoError(t, m.Start(ctx))
	require.Equal(t, names(snaps, zfs.Scheduled), shadowEntries(t, mp))

	// A manual snapshot is named like the schedule's; a second one in the
	// same minute is refused.
	clk.Set(clk.Now().Add(7 * time.Minute))
	require.NoError(t, os.WriteFile(song, []byte("overwritten by mistake"), 0o644))
	manual, err := m.Create(ctx)
	require.NoError(t, err)
	require.Equal(t, "gs-2026-11-24-0612", manual)
	_, err = m.Create(ctx)
	require.ErrorIs(t, err, zfs.ErrExists)

	// Rollback past a newer snapshot must be asked for.
	err = m.Rollback(ctx, "gs-2026-11-24-0605", false)
	require.ErrorIs(t, err, zfs.ErrNewerSnapshots)
	require.NoError(t, m.Rollback(ctx, "gs-2026-11-24-0605", true))
	got, err := os.ReadFile(song)
	require.NoError(t, err)
	require.Equal(t, "v-2026-11-21-0510", string(got), "the rollback restored the file")
	snaps, err = m.List(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"gs-2026-11-20-0110", "gs-2026-11-21-0410", "gs-2026-11-21-0510", "gs-2026-11-24-0605"}, names(snaps, zfs.Scheduled))
	require.Equal(t, names(snaps, zfs.Scheduled), shadowEntries(t, mp), "clones rebuilt after the rollback")
	evMu.Lock()
	require.Contains(t, events, KindRolledBack)
	evMu.Unlock()
}
