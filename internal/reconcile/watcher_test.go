package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/scan"
	"genesissync/internal/watch"
)

// TestWatcherStartsOnceTheRootIsThere: a share whose dataset is mounted
// after the daemon started. The supervisor reports that the watcher
// cannot start, tries again, and once it runs asks for a full scan (the
// events of the gap are lost) and delivers changes.
func TestWatcherStartsOnceTheRootIsThere(t *testing.T) {
	root := filepath.Join(t.TempDir(), "share")
	var failed, lost atomic.Int32
	w := &watchSupervisor{
		root: root, matcher: scan.NewMatcher([]string{"*.tmp"}), retry: 20 * time.Millisecond, log: zerolog.Nop(),
		failed: func(error) { failed.Add(1) },
		lost:   func() { lost.Add(1) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan []watch.Change, 16)
	done := make(chan error, 1)
	go func() { done <- w.run(ctx, changes) }()

	require.Eventually(t, func() bool { return failed.Load() >= 2 }, 5*time.Second, time.Millisecond, "retried while the root is missing")
	require.Zero(t, lost.Load())
	require.NoError(t, os.Mkdir(root, 0o755))
	require.Eventually(t, func() bool { return lost.Load() == 1 }, 5*time.Second, time.Millisecond, "a full scan asked for after the restart")

	// The watches are in place before lost is called (watch.New adds
	// them).
	require.NoError(t, os.WriteFile(filepath.Join(root, "skip.tmp"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "jingle.mp3"), []byte("x"), 0o644))
	var seen []string
	require.Eventually(t, func() bool {
		for {
			select {
			case batch := <-changes:
				for _, ch := range batch {
					seen = append(seen, ch.Path)
				}
			default:
				return len(seen) > 0
			}
		}
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"jingle.mp3"}, seen, "excluded names are not reported")

	cancel()
	require.NoError(t, <-done)
	require.Equal(t, int32(1), lost.Load())
}

func TestRouteChanges(t *testing.T) {
	q := newScanQueue()
	q.next() // the first full scan is running
	var noted []found
	route([]watch.Change{{Path: "a.mp3"}, {Path: "New", Dir: true}}, q, func(f found) { noted = append(noted, f) })
	require.Equal(t, []found{{rel: "a.mp3", event: true}}, noted, "a file is a candidate seen by the watcher")
	q.done()
	dir, ok := q.next()
	require.True(t, ok)
	require.Equal(t, "New", dir, "a directory is scanned")
	q.done()

	route([]watch.Change{{Full: true}}, q, func(found) { t.Fatal("an overflow names no file") })
	dir, ok = q.next()
	require.True(t, ok)
	require.Empty(t, dir, "an overflow is a full scan")
}
