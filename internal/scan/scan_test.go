package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
)

func write(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
}

func TestMatcher(t *testing.T) {
	m := NewMatcher(config.DefaultExcludes, []string{"*.bak", "archive/old/*"})
	for rel, want := range map[string]bool{
		"song.mp3":                      false,
		"~$report.docx":                 true,
		"dir/~$x.doc":                   true,
		"a/b/THUMBS.DB":                 true,
		"Desktop.ini":                   true,
		"x.TMP":                         true,
		".genesissync-tmp-123-song.mp3": true,
		"dir/.genesissync-marker":       true,
		"take.bak":                      true,
		"archive/old/a.mp3":             true,
		"archive/new/a.mp3":             false,
		"genesissync.mp3":               false,
		"ü/Jingle – Morgen (final).mp3": false,
	} {
		require.Equal(t, want, m.Excluded(rel), rel)
	}

	// A bucket key is excluded where a walk would not reach it: in an
	// excluded directory too.
	m = NewMatcher(config.DefaultExcludes, []string{".waveforms", "archive/old"})
	for rel, want := range map[string]bool{
		".waveforms/track.json":        true,
		"Music/.waveforms/track.json":  true,
		"archive/old/a/b.mp3":          true,
		"archive/older/b.mp3":          false,
		".genesissync-trash/x/old.mp3": true,
		"Music/track.mp3":              false,
		"Music/Thumbs.db":              true,
		"waveforms/track.json":         false,
	} {
		require.Equal(t, want, m.ExcludedPath(rel), rel)
	}
}

func TestWalk(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.mp3", "a")
	write(t, root, "d/e/f.wav", "ffff")
	write(t, root, "d/Thumbs.db", "x")
	write(t, root, ".genesissync-trash/old.mp3", "x")
	write(t, root, "Ä/ö.mp3", "x")
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(root, "link")))
	var got []string
	err := Walk(context.Background(), root, "", NewMatcher(config.DefaultExcludes), func(f File) error {
		got = append(got, f.Path)
		require.NotZero(t, f.Inode)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"a.mp3", "d/e/f.wav", "Ä/ö.mp3"}, got)

	got = nil
	require.NoError(t, Walk(context.Background(), root, "d", NewMatcher(config.DefaultExcludes), func(f File) error {
		got = append(got, f.Path)
		return nil
	}))
	require.Equal(t, []string{"d/e/f.wav"}, got)

	err = Walk(context.Background(), filepath.Join(root, "missing"), "", nil, func(File) error { return nil })
	require.Error(t, err, "a missing share root must be an error, never an empty tree")
}

func TestHashFile(t *testing.T) {
	root := t.TempDir()
	write(t, root, "x.mp3", "hello")
	sum, f, err := HashFile(context.Background(), root, "x.mp3")
	require.NoError(t, err)
	want := sha256.Sum256([]byte("hello"))
	require.Equal(t, hex.EncodeToString(want[:]), sum)
	require.Equal(t, int64(5), f.Size)

	_, err = Stat(root, "missing")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.Mkdir(filepath.Join(root, "dir"), 0o755))
	_, err = Stat(root, "dir")
	require.ErrorIs(t, err, ErrNotRegular)
}

func TestStatParentReplacedByFile(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "shows"), []byte("now a file"), 0o644))
	_, err := Stat(root, "shows/a.mp3")
	require.ErrorIs(t, err, fs.ErrNotExist, "a path under a file is gone, not an error to retry")
}
