package transfer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/transfer"
)

func TestTempFileDuringDownload(t *testing.T) {
	root := t.TempDir()
	rel := "Adverts/spot.mp3"
	data := randomData(50, 256<<10)
	sum := sha256.Sum256(data)

	var seen []fs.DirEntry
	var seenMode fs.FileMode
	g := &fakeGetter{
		obj: objstore.Object{Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])},
		body: func() io.Reader {
			return &hookReader{r: bytes.NewReader(data), left: int64(len(data) / 2), hook: func() {
				var err error
				seen, err = os.ReadDir(filepath.Join(root, "Adverts"))
				require.NoError(t, err)
				if len(seen) == 1 {
					fi, err := seen[0].Info()
					require.NoError(t, err)
					seenMode = fi.Mode()
				}
			}}
		},
	}
	_, err := transfer.NewDownloader(root, g, -1, -1).Download(context.Background(), rel, nil)
	require.NoError(t, err)

	require.Len(t, seen, 1, "mid-download the directory holds exactly the temp file")
	name := seen[0].Name()
	require.True(t, strings.HasPrefix(name, layout.TempPrefix), name)
	require.True(t, strings.HasSuffix(name, "-spot.mp3"), name)
	require.True(t, seenMode.IsRegular())
	require.Equal(t, fs.FileMode(0o664), seenMode.Perm())
	_, err = os.Lstat(filepath.Join(root, "Adverts", name))
	require.ErrorIs(t, err, fs.ErrNotExist, "the temp name is gone after the rename")
}

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

	n, err := transfer.CleanTemp(root)
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

	n, err = transfer.CleanTemp(root)
	require.NoError(t, err)
	require.Zero(t, n, "a second run finds nothing")

	_, err = transfer.CleanTemp(filepath.Join(root, "missing"))
	require.Error(t, err)
}
