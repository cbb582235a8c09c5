package atomicfile_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/atomicfile"
	"genesissync/internal/layout"
)

func TestCleanTemp(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write := func(dir, rel string) string {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
		return p
	}

	leftovers := []string{
		layout.TempPrefix + "0123456789abcdef-song.mp3",
		"Music/" + layout.TempPrefix + "aa-b.wav",
		"Music/2024/May/" + layout.TempPrefix + "bb-c.wav",
		layout.TempPrefix + "dir/" + layout.TempPrefix + "cc-d.wav", // inside a (foreign) dir with the prefix
	}
	kept := []string{
		"song.mp3",
		"Music/2024/May/c.wav",
		"Music/.genesissync-marker",
		"Music/genesissync-tmp-not-hidden.wav",
		"Music/x" + layout.TempPrefix + "inside.wav",
		".zfs/snapshot/hourly/" + layout.TempPrefix + "in-a-snapshot.wav",
	}
	for _, rel := range append(append([]string{}, leftovers...), kept...) {
		write(root, rel)
	}
	outsideTemp := write(outside, layout.TempPrefix+"dd-outside.wav")
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "Music", "linked")))
	require.NoError(t, os.Symlink(outsideTemp, filepath.Join(root, "Music", layout.TempPrefix+"symlink")))

	n, err := atomicfile.CleanTemp(root)
	require.NoError(t, err)
	require.Equal(t, len(leftovers), n)
	for _, rel := range leftovers {
		_, err := os.Lstat(filepath.Join(root, rel))
		require.ErrorIs(t, err, fs.ErrNotExist, rel)
	}
	for _, rel := range kept {
		_, err := os.Lstat(filepath.Join(root, rel))
		require.NoError(t, err, rel)
	}
	fi, err := os.Lstat(filepath.Join(root, layout.TempPrefix+"dir"))
	require.NoError(t, err)
	require.True(t, fi.IsDir(), "directories are not removed")
	_, err = os.Lstat(outsideTemp)
	require.NoError(t, err, "symlinks are not followed")
	_, err = os.Lstat(filepath.Join(root, "Music", layout.TempPrefix+"symlink"))
	require.NoError(t, err, "only regular files are removed")

	n, err = atomicfile.CleanTemp(root)
	require.NoError(t, err)
	require.Zero(t, n, "a second run finds nothing")

	_, err = atomicfile.CleanTemp(filepath.Join(root, "missing"))
	require.Error(t, err)
}
