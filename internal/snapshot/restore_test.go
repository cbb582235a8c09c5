package snapshot

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/atomicfile"
	"genesissync/internal/config"
	"genesissync/internal/layout"
	"genesissync/internal/zfs"
	"genesissync/internal/zfs/zfstest"
)

// put writes a file (and its parents) with a mode and an mtime.
func put(t *testing.T, p, data string, mode os.FileMode, mtime time.Time) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(data), mode))
	require.NoError(t, os.Chmod(p, mode))
	require.NoError(t, os.Chtimes(p, mtime, mtime))
}

func requireContent(t *testing.T, p, want string) {
	t.Helper()
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, want, string(got), p)
}

// noTemp fails when a temp name is left under root.
func noTemp(t *testing.T, root string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		require.False(t, strings.HasPrefix(d.Name(), layout.TempPrefix), "temp file left: %s", p)
		return nil
	}))
}

func owner() int {
	if os.Geteuid() == 0 {
		return 65534
	}
	return -1
}

// TestRestoreTree copies a snapshot's folder into a share on plain
// directories: files come back with their content, mode and times and the
// service user; empty folders too; files only the share has stay; open
// files, reserved names (in any case) and symlinks are not restored; what
// is in the way or leads through a symlink fails.
func TestRestoreTree(t *testing.T) {
	ctx := context.Background()
	id := owner()
	mtime := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

	t.Run("folder", func(t *testing.T) {
		snap, share := t.TempDir(), t.TempDir()
		put(t, filepath.Join(snap, "Music/a.mp3"), "a from the snapshot", 0o640, mtime)
		put(t, filepath.Join(snap, "Music/sub/b.mp3"), "b from the snapshot", 0o644, mtime)
		put(t, filepath.Join(snap, "Music/open.mp3"), "open from the snapshot", 0o644, mtime)
		put(t, filepath.Join(snap, "Music/.GenesisSync-share"), "reserved", 0o644, mtime)
		put(t, filepath.Join(snap, "Music/.genesissync-trash/c.mp3"), "trash", 0o644, mtime)
		require.NoError(t, os.MkdirAll(filepath.Join(snap, "Music/empty"), 0o755))
		require.NoError(t, os.Symlink("a.mp3", filepath.Join(snap, "Music/link.mp3")))

		put(t, filepath.Join(share, "Music/a.mp3"), "a, edited since", 0o600, time.Now())
		put(t, filepath.Join(share, "Music/open.mp3"), "open, playing", 0o644, time.Now())
		put(t, filepath.Join(share, "Music/extra.mp3"), "only on the share", 0o644, time.Now())

		tr := tree{files: atomicfile.New(share, id, id), uid: id, gid: id, open: func(rel string) bool { return rel == "Music/open.mp3" }}
		require.NoError(t, tr.copy(ctx, filepath.Join(snap, "Music"), share, "Music"))
		require.Equal(t, []string{"Music/open.mp3"}, tr.skipped)

		fi, err := os.Lstat(filepath.Join(share, "Music/a.mp3"))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "the snapshot's mode")
		require.True(t, fi.ModTime().Equal(mtime), "the snapshot's mtime: %s", fi.ModTime())
		require.EqualValues(t, mtime.Unix(), fi.Sys().(*syscall.Stat_t).Atim.Sec, "atime set to the mtime, before anything reads it")
		requireContent(t, filepath.Join(share, "Music/a.mp3"), "a from the snapshot")
		requireContent(t, filepath.Join(share, "Music/sub/b.mp3"), "b from the snapshot")
		requireContent(t, filepath.Join(share, "Music/open.mp3"), "open, playing")
		requireContent(t, filepath.Join(share, "Music/extra.mp3"), "only on the share")
		fi, err = os.Lstat(filepath.Join(share, "Music/empty"))
		require.NoError(t, err)
		require.True(t, fi.IsDir())
		for _, rel := range []string{"Music/.GenesisSync-share", "Music/.genesissync-trash", "Music/link.mp3"} {
			_, err := os.Lstat(filepath.Join(share, rel))
			require.ErrorIs(t, err, fs.ErrNotExist, rel)
		}
		if id != -1 {
			for _, rel := range []string{"Music", "Music/a.mp3", "Music/sub", "Music/sub/b.mp3", "Music/empty"} {
				fi, err := os.Lstat(filepath.Join(share, rel))
				require.NoError(t, err)
				require.EqualValues(t, id, fi.Sys().(*syscall.Stat_t).Uid, rel)
				require.EqualValues(t, id, fi.Sys().(*syscall.Stat_t).Gid, rel)
			}
		}
		noTemp(t, share)
	})

	t.Run("one file", func(t *testing.T) {
		snap, share := t.TempDir(), t.TempDir()
		put(t, filepath.Join(snap, "Music/a.mp3"), "a from the snapshot", 0o644, mtime)
		tr := tree{files: atomicfile.New(share, -1, -1), uid: -1, gid: -1, open: func(string) bool { return false }}
		require.NoError(t, tr.copy(ctx, filepath.Join(snap, "Music/a.mp3"), share, "Music/a.mp3"))
		requireContent(t, filepath.Join(share, "Music/a.mp3"), "a from the snapshot")
		noTemp(t, share)
	})

	t.Run("a folder in the way", func(t *testing.T) {
		snap, share := t.TempDir(), t.TempDir()
		put(t, filepath.Join(snap, "Music/a.mp3"), "a from the snapshot", 0o644, mtime)
		require.NoError(t, os.MkdirAll(filepath.Join(share, "Music/a.mp3/inside"), 0o755))
		tr := tree{files: atomicfile.New(share, -1, -1), uid: -1, gid: -1, open: func(string) bool { return false }}
		err := tr.copy(ctx, filepath.Join(snap, "Music"), share, "Music")
		require.ErrorContains(t, err, "is in the way, not a file")
		fi, err := os.Lstat(filepath.Join(share, "Music/a.mp3/inside"))
		require.NoError(t, err)
		require.True(t, fi.IsDir())
		noTemp(t, share)
	})

	t.Run("a symlinked folder in the share", func(t *testing.T) {
		snap, share, outside := t.TempDir(), t.TempDir(), t.TempDir()
		put(t, filepath.Join(snap, "Music/a.mp3"), "a from the snapshot", 0o644, mtime)
		require.NoError(t, os.Symlink(outside, filepath.Join(share, "Music")))
		tr := tree{files: atomicfile.New(share, -1, -1), uid: -1, gid: -1, open: func(string) bool { return false }}
		err := tr.copy(ctx, filepath.Join(snap, "Music"), share, "Music")
		require.ErrorIs(t, err, atomicfile.ErrUnsafePath)
		entries, err := os.ReadDir(outside)
		require.NoError(t, err)
		require.Empty(t, entries, "nothing written through the symlink")
	})
}

// TestRestoreOnRealPool restores a folder from a snapshot on a zfs-fuse
// pool (through a temporary clone: zfs-fuse has no .zfs/snapshot): a
// pre-restore snapshot first, then the snapshot's files. A path that is
// not clean and a snapshot that does not exist fail before any snapshot
// is taken.
func TestRestoreOnRealPool(t *testing.T) {
	ctx := context.Background()
	pool := zfstest.NewPool(t)
	dataset, mp := pool.Dataset(t, "studio")
	m := New(Options{Share: "studio", Dataset: dataset, Mountpoint: mp, Interval: config.DefaultSnapshotInterval, PreOpRetention: config.DefaultPreOpRetention, Log: zerolog.New(zerolog.NewTestWriter(t))})
	song := filepath.Join(mp, "Music", "song.mp3")
	put(t, song, "v1", 0o644, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, zfs.Snapshot(ctx, dataset, "gs-2026-11-20-0010"))
	put(t, song, "v2", 0o644, time.Now())

	count := func() int {
		snaps, err := m.List(ctx)
		require.NoError(t, err)
		return len(snaps)
	}
	for _, rel := range []string{"", "../etc", "/Music", "Music/../..", ".genesissync-trash", ".GenesisSync-share"} {
		_, err := m.Restore(ctx, "gs-2026-11-20-0010", rel, RestoreOptions{UID: -1, GID: -1})
		require.ErrorContains(t, err, "want a clean share-relative path", "%q", rel)
	}
	_, err := m.Restore(ctx, "gs-2026-11-20-0011", "Music", RestoreOptions{UID: -1, GID: -1})
	require.ErrorIs(t, err, zfs.ErrNotFound)
	require.Equal(t, 1, count(), "no pre-restore snapshot for a refused restore")

	skipped, err := m.Restore(ctx, "gs-2026-11-20-0010", "Music", RestoreOptions{UID: -1, GID: -1})
	require.NoError(t, err)
	require.Empty(t, skipped)
	requireContent(t, song, "v1")
	snaps, err := m.List(ctx)
	require.NoError(t, err)
	require.Len(t, snaps, 2)
	require.True(t, strings.HasPrefix(snaps[1].Name, "gs-pre-restore-"), snaps[1].Name)
	noTemp(t, mp)
}
