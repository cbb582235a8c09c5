package index

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestForEachRemoteMatchesForEach(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	defer ix.Close()
	s := ix.Share("studio")
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	require.NoError(t, s.Put("a.mp3", Entry{Size: 3, Mtime: at, Inode: 7, SHA256: "ab", ETag: "e1", VersionID: "v1", HashedAt: at, SyncedAt: at}))
	require.NoError(t, s.Put("b/c.mp3", Entry{Size: 5, SHA256: "cd", ETag: "e2", LocalGone: true}))

	var want, got []string
	require.NoError(t, s.ForEach(func(p string, e Entry) error {
		want = append(want, fmt.Sprint(p, e.Size, e.ETag, e.VersionID, e.SyncedAt))
		return nil
	}))
	require.NoError(t, s.ForEachRemote(func(p string, r Remote) error {
		got = append(got, fmt.Sprint(p, r.Size, r.ETag, r.VersionID, r.SyncedAt))
		return nil
	}))
	require.Equal(t, want, got)
	require.Len(t, got, 2)
	require.NoError(t, ix.Share("empty").ForEachRemote(func(string, Remote) error {
		t.Fatal("an empty share has no entries")
		return nil
	}))
}

// BenchmarkForEach compares what one pass over 5,000 entries allocates
// whole and as Remote parts (go test -bench ForEach -benchmem).
func BenchmarkForEach(b *testing.B) {
	ix, err := Open(filepath.Join(b.TempDir(), "index.db"))
	require.NoError(b, err)
	defer ix.Close()
	s := ix.Share("studio")
	now := time.Now()
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Go(func() {
			for i := w; i < 5000; i += 50 {
				require.NoError(b, s.Put(fmt.Sprintf("data/dir%03d/file%06d.wav", i%50, i), Entry{
					Size: 16384, Mtime: now, Inode: uint64(i), SHA256: fmt.Sprintf("%064x", i),
					ETag: fmt.Sprintf("%032x", i), HashedAt: now, SyncedAt: now,
				}))
			}
		})
	}
	wg.Wait()
	b.Run("Entry", func(b *testing.B) {
		for b.Loop() {
			require.NoError(b, s.ForEach(func(string, Entry) error { return nil }))
		}
	})
	b.Run("Remote", func(b *testing.B) {
		for b.Loop() {
			require.NoError(b, s.ForEachRemote(func(string, Remote) error { return nil }))
		}
	})
}
