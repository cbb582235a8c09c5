package index

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPutGetReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "index.db")
	ix, err := Open(path)
	require.NoError(t, err)
	studio := ix.Share("studio")
	empty, err := studio.Empty()
	require.NoError(t, err)
	require.True(t, empty)
	e := Entry{Size: 3, Mtime: time.Unix(1700000000, 5).UTC(), Inode: 42, SHA256: "ab", ETag: "e", SyncedAt: time.Unix(1700000001, 0).UTC()}
	require.NoError(t, studio.Put("a/b.mp3", e))
	require.NoError(t, studio.Put("c.mp3", Entry{Size: 7}))
	empty, err = studio.Empty()
	require.NoError(t, err)
	require.False(t, empty)

	// Shares are separate.
	_, ok, err := ix.Share("news").Get("a/b.mp3")
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, ix.Close())
	ix, err = Open(path)
	require.NoError(t, err)
	defer ix.Close()
	got, ok, err := ix.Share("studio").Get("a/b.mp3")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, e, got)

	st, err := ix.Share("studio").Stats()
	require.NoError(t, err)
	require.Equal(t, Stats{Files: 2, Bytes: 10}, st)

	var paths []string
	require.NoError(t, ix.Share("studio").ForEach(func(p string, _ Entry) error { paths = append(paths, p); return nil }))
	require.Equal(t, []string{"a/b.mp3", "c.mp3"}, paths)

	require.NoError(t, ix.Share("studio").Delete("c.mp3"))
	require.NoError(t, ix.Share("studio").Delete("never-there"))
	_, ok, _ = ix.Share("studio").Get("c.mp3")
	require.False(t, ok)
}

func TestConcurrentPuts(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	defer ix.Close()
	s := ix.Share("studio")
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, s.Put(filepath.Join("d", string(rune('a'+i%26)), time.Duration(i).String()), Entry{Size: 1}))
		}()
	}
	wg.Wait()
	st, err := s.Stats()
	require.NoError(t, err)
	require.Equal(t, 200, st.Files)
}

func TestSecondOpenFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := Open(path)
	require.NoError(t, err)
	defer ix.Close()
	// bbolt's flock is per open file description, so a second Open in the
	// same process contends like another daemon would.
	_, err = Open(path)
	require.ErrorContains(t, err, "locked by another process")
}
