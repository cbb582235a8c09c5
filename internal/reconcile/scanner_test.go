package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/index"
	"genesissync/internal/layout"
	"genesissync/internal/scan"
)

func TestScanQueue(t *testing.T) {
	q := newScanQueue()
	q.wantDir("a")
	dir, ok := q.next()
	require.True(t, ok)
	require.Empty(t, dir, "the first scan is a full one, and it covers a")
	q.wantDir("b")
	_, ok = q.next()
	require.False(t, ok, "one scan at a time")
	q.done()
	dir, ok = q.next()
	require.True(t, ok)
	require.Equal(t, "b", dir)
	q.done()
	_, ok = q.next()
	require.False(t, ok, "nothing wanted")

	q.wantDir("c")
	q.wantFull()
	dir, _ = q.next()
	require.Empty(t, dir)
	q.done()
	_, ok = q.next()
	require.False(t, ok, "the full scan superseded c")
}

// scanOnce runs one scan of dir through the scanner and returns the
// candidates it found and how it ended.
func scanOnce(t *testing.T, sc *scanner, dir string) ([]string, scanDone) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dirs := make(chan string)
	foundc := make(chan found, 100)
	done := make(chan scanDone)
	go func() { _ = sc.run(ctx, dirs, foundc, done) }()
	dirs <- dir
	var d scanDone
	select {
	case d = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no end of scan")
	}
	close(foundc)
	var got []string
	for f := range foundc {
		got = append(got, f.rel)
	}
	slices.Sort(got)
	return got, d
}

func TestScannerReportsDifferencesFromTheIndex(t *testing.T) {
	ix, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ix.Close() })
	idx := ix.Share("t")
	root := t.TempDir()
	sc := &scanner{root: &shareRoot{path: root, share: "t", index: idx, log: zerolog.Nop()},
		matcher: scan.NewMatcher(config.DefaultExcludes, []string{"Thumbs.db"}), index: idx, log: zerolog.Nop()}

	got, d := scanOnce(t, sc, "")
	require.NoError(t, d.err)
	require.True(t, d.full)
	require.Empty(t, got)
	require.FileExists(t, filepath.Join(root, layout.ShareMarker), "the first scan of an untracked share writes its marker")

	writeAged(t, root, "Music/same.mp3", []byte("same"))
	writeAged(t, root, "Music/edited.mp3", []byte("edited"))
	writeAged(t, root, "Music/new.mp3", []byte("new"))
	writeAged(t, root, "Music/Thumbs.db", []byte("excluded"))
	for _, rel := range []string{"Music/same.mp3", "Music/edited.mp3"} {
		f, err := scan.Stat(root, rel)
		require.NoError(t, err)
		require.NoError(t, idx.Put(rel, index.Entry{Size: f.Size, Mtime: f.Mtime, Inode: f.Inode, HashedAt: time.Now()}))
	}
	require.NoError(t, idx.Put("Music/deleted.mp3", index.Entry{Size: 1}))
	require.NoError(t, idx.Put("Music/kept-deleted.mp3", index.Entry{Size: 1, LocalGone: true}))
	require.NoError(t, idx.Put("Other/deleted.mp3", index.Entry{Size: 1}))
	writeAged(t, root, "Music/edited.mp3", []byte("edited again"))

	got, d = scanOnce(t, sc, "")
	require.NoError(t, d.err)
	require.Equal(t, []string{"Music/deleted.mp3", "Music/edited.mp3", "Music/new.mp3", "Other/deleted.mp3"}, got)

	got, d = scanOnce(t, sc, "Music")
	require.NoError(t, d.err)
	require.False(t, d.full)
	require.Equal(t, []string{"Music/deleted.mp3", "Music/edited.mp3", "Music/new.mp3"}, got, "a directory scan reports only what is under it")

	got, d = scanOnce(t, sc, "Gone")
	require.NoError(t, d.err, "a directory that came and went")
	require.Empty(t, got)

	// An unmounted dataset: the root holds no marker while files are
	// tracked. Nothing is reported, least of all as deleted.
	require.NoError(t, os.Remove(filepath.Join(root, layout.ShareMarker)))
	got, d = scanOnce(t, sc, "Music")
	require.ErrorIs(t, d.err, errRootUnhealthy)
	require.Empty(t, got)
}
