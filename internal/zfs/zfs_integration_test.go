package zfs_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/zfs"
	"genesissync/internal/zfs/zfstest"
)

// Integration test against the real zfs-fuse daemon. It needs root and
// Debian's zfs-fuse; without them it fails, never skips. It starts the
// daemon when it is not running (and leaves it running), and works on a
// pool of its own, destroyed at the end.

func TestZFSIntegration(t *testing.T) {
	require.Equal(t, 0, os.Geteuid(), "the ZFS integration test must run as root (zfs-fuse, zpool create)")
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pool := zfstest.NewPool(t)
	require.True(t, pool.Daemon.Xattr, "zfs-fuse runs without -x: Samba needs extended attributes; restart it with -x")
	ds, mnt := pool.Dataset(t, "media")
	t.Logf("pool %s and dataset %s ready after %s", pool.Name, ds, time.Since(started).Round(time.Millisecond))

	file := filepath.Join(mnt, "jingle.wav")
	write := func(content string) {
		t.Helper()
		require.NoError(t, os.WriteFile(file, []byte(content), 0o644))
	}
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		return string(b)
	}

	t.Run("dataset", func(t *testing.T) {
		info, err := zfs.Dataset(ctx, ds)
		require.NoError(t, err)
		require.Equal(t, ds, info.Name)
		require.Equal(t, "filesystem", info.Type)
		require.Equal(t, mnt, info.Mountpoint)
		require.True(t, info.Mounted)
		require.Positive(t, info.Available)
		require.WithinDuration(t, time.Now(), info.Created, 5*time.Minute)

		_, err = zfs.Dataset(ctx, pool.Name+"/nope")
		require.ErrorIs(t, err, zfs.ErrNotFound)
	})

	t.Run("dataset for path", func(t *testing.T) {
		require.NoError(t, os.MkdirAll(filepath.Join(mnt, "ads", "2026"), 0o755))
		info, err := zfs.DatasetForPath(ctx, filepath.Join(mnt, "ads", "2026"))
		require.NoError(t, err)
		require.Equal(t, ds, info.Name)

		// A share whose dataset is not mounted: the directory is only the
		// empty mountpoint. This is what must stop deletes.
		off, offMnt := pool.Dataset(t, "offline")
		out, err := exec.CommandContext(ctx, "zfs", "umount", off).CombinedOutput()
		require.NoError(t, err, "zfs umount: %s", out)
		require.NoError(t, os.MkdirAll(offMnt, 0o755))
		info, err = zfs.DatasetForPath(ctx, offMnt)
		require.ErrorIs(t, err, zfs.ErrNotMounted)
		require.Equal(t, off, info.Name)

		_, err = zfs.DatasetForPath(ctx, t.TempDir())
		require.ErrorIs(t, err, zfs.ErrNoDataset)
	})

	var s1, s2 string
	t.Run("snapshot, overwrite, rollback", func(t *testing.T) {
		write("version 1")
		s1 = zfs.ScheduleName(time.Now().Add(-2 * time.Hour))
		require.NoError(t, zfs.Snapshot(ctx, ds, s1))
		require.ErrorIs(t, zfs.Snapshot(ctx, ds, s1), zfs.ErrExists)

		write("version 2, longer than the first")
		require.NoError(t, os.WriteFile(filepath.Join(mnt, "new.wav"), []byte("new"), 0o644))
		require.NoError(t, zfs.Rollback(ctx, ds, s1, zfs.RollbackOptions{}))
		require.Equal(t, "version 1", read())
		require.NoFileExists(t, filepath.Join(mnt, "new.wav"))
	})

	t.Run("newer snapshots and holds", func(t *testing.T) {
		write("version 3")
		s2 = zfs.ScheduleName(time.Now().Add(-time.Hour))
		require.NoError(t, zfs.Snapshot(ctx, ds, s2))
		pre, err := zfs.PreOpName(zfs.PreRestore, time.Now())
		require.NoError(t, err)
		require.NoError(t, zfs.Snapshot(ctx, ds, pre))
		require.NoError(t, zfs.Hold(ctx, ds, s2, "genesissync"))
		require.ErrorIs(t, zfs.Hold(ctx, ds, s2, "genesissync"), zfs.ErrExists)

		snaps, err := zfs.Snapshots(ctx, ds)
		require.NoError(t, err)
		require.Equal(t, []string{s1, s2, pre}, snapNames(snaps))
		require.Equal(t, []uint64{0, 1, 0}, []uint64{snaps[0].Holds, snaps[1].Holds, snaps[2].Holds})

		// Refused: newer snapshots exist; refused again with -r, because
		// one of them is held; the file is untouched either time.
		write("version 4")
		err = zfs.Rollback(ctx, ds, s1, zfs.RollbackOptions{})
		var newer *zfs.NewerSnapshotsError
		require.ErrorAs(t, err, &newer)
		require.Equal(t, []string{s2, pre}, newer.Newer)
		require.ErrorIs(t, zfs.Rollback(ctx, ds, s1, zfs.RollbackOptions{DestroyNewer: true}), zfs.ErrHeld)
		require.Equal(t, "version 4", read())

		// zfs-fuse answers "busy" for a held snapshot: no retrying that.
		before := time.Now()
		require.ErrorIs(t, zfs.DestroySnapshot(ctx, ds, s2), zfs.ErrHeld)
		require.Less(t, time.Since(before), 2*time.Second)

		require.NoError(t, zfs.Release(ctx, ds, s2, "genesissync"))
		require.ErrorIs(t, zfs.Release(ctx, ds, s2, "genesissync"), zfs.ErrNotFound)
		require.NoError(t, zfs.Rollback(ctx, ds, s1, zfs.RollbackOptions{DestroyNewer: true}))
		require.Equal(t, "version 1", read())
		snaps, err = zfs.Snapshots(ctx, ds)
		require.NoError(t, err)
		require.Equal(t, []string{s1}, snapNames(snaps))
	})

	t.Run("prune", func(t *testing.T) {
		require.NoError(t, zfs.DestroySnapshot(ctx, ds, s1))
		// Six hourly snapshots named for the six hours before an injected
		// clock, a pre-operation one and a foreign one.
		now := time.Date(2026, 11, 22, 12, 30, 0, 0, time.UTC)
		var want []string
		for h := 6; h >= 1; h-- {
			require.NoError(t, zfs.Snapshot(ctx, ds, zfs.ScheduleName(now.Add(-time.Duration(h)*time.Hour))))
		}
		pre, err := zfs.PreOpName(zfs.PreDelete, now)
		require.NoError(t, err)
		require.NoError(t, zfs.Snapshot(ctx, ds, pre))
		require.NoError(t, zfs.Snapshot(ctx, ds, "manual"))

		snaps, err := zfs.Snapshots(ctx, ds)
		require.NoError(t, err)
		keep, destroy := zfs.Prune(snaps, zfs.Retention{Hourly: 2}, now)
		for _, s := range destroy {
			require.NoError(t, zfs.DestroySnapshot(ctx, ds, s.Name))
		}
		for h := 2; h >= 1; h-- {
			want = append(want, zfs.ScheduleName(now.Add(-time.Duration(h)*time.Hour)))
		}
		left, err := zfs.Snapshots(ctx, ds)
		require.NoError(t, err)
		require.ElementsMatch(t, append(want, pre, "manual"), snapNames(left))
		require.Equal(t, snapNames(keep), snapNames(left))

		require.ErrorIs(t, zfs.DestroySnapshot(ctx, ds, "gs-2000-01-01-0000"), zfs.ErrNotFound)
	})

	t.Run("pool health", func(t *testing.T) {
		info, err := zfs.PoolStatus(ctx, pool.Name)
		require.NoError(t, err)
		require.Equal(t, "ONLINE", info.Health)
		require.False(t, info.SizesExact, "zfs-fuse prints rounded sizes")
		require.InDelta(t, float64(zfstest.VdevSize), float64(info.Size), float64(zfstest.VdevSize)/10)
		require.Positive(t, info.Allocated)
		require.Equal(t, zfs.ScanNone, info.Scan.State)
		require.Equal(t, pool.Name, info.Vdevs[0].Name)
		require.Equal(t, "No known data errors", info.Errors)

		ok, msg, err := zfs.Healthy(ctx, pool.Name)
		require.NoError(t, err)
		require.True(t, ok, msg)
		require.Equal(t, "pool '"+pool.Name+"' is healthy", msg)

		out, err := exec.CommandContext(ctx, "zpool", "scrub", pool.Name).CombinedOutput()
		require.NoError(t, err, "zpool scrub: %s", out)
		require.Eventually(t, func() bool {
			info, err := zfs.PoolStatus(ctx, pool.Name)
			require.NoError(t, err)
			_, done := info.LastScrub()
			return done
		}, 20*time.Second, 100*time.Millisecond)
	})

	t.Logf("whole test took %s", time.Since(started).Round(time.Millisecond))
}

func snapNames(snaps []zfs.SnapshotInfo) []string {
	var ns []string
	for _, s := range snaps {
		ns = append(ns, s.Name)
	}
	return ns
}
