package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

// Generous: the test machine is loaded; these bound how long we wait for
// something that must happen, never how fast it must be.
const (
	eventually = 15 * time.Second
	poll       = 20 * time.Millisecond
)

// harness runs a real Watcher on a temp directory and records every batch.
type harness struct {
	t    *testing.T
	root string
	w    *Watcher

	mu      sync.Mutex
	batches [][]Change

	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, opts Options, setup ...func(t *testing.T, root string)) *harness {
	t.Helper()
	if opts.Root == "" {
		opts.Root = t.TempDir()
	}
	for _, s := range setup {
		s(t, opts.Root)
	}
	w, err := New(opts, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, root: w.root, w: w, cancel: cancel, done: make(chan error, 1)}
	out := make(chan []Change)
	go func() { h.done <- w.Run(ctx, out) }()
	go func() {
		for {
			select {
			case b := <-out:
				h.mu.Lock()
				h.batches = append(h.batches, b)
				h.mu.Unlock()
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			require.NoError(t, err)
		case <-time.After(eventually):
			t.Error("Run did not return after cancel")
		}
	})
	return h
}

func (h *harness) snapshot() [][]Change {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.batches)
}

func (h *harness) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batches = nil
}

// waitFor waits until some batch satisfies ok.
func (h *harness) waitFor(what string, ok func(b []Change) bool) {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		return slices.ContainsFunc(h.snapshot(), ok)
	}, eventually, poll, "no batch with %s; got %v", what, h.snapshot())
}

// waitChange waits until some batch holds exactly c.
func (h *harness) waitChange(c Change) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("%+v", c), func(b []Change) bool { return slices.Contains(b, c) })
}

// waitCovered waits until some batch holds a change covering rel.
func (h *harness) waitCovered(rel string) {
	h.t.Helper()
	h.waitFor("a change covering "+rel, func(b []Change) bool {
		return slices.ContainsFunc(b, func(c Change) bool { return covers(c, rel) })
	})
}

// settle waits until no batch has arrived for a while, so that everything
// caused so far has been delivered.
func (h *harness) settle(quiet time.Duration) {
	h.t.Helper()
	n, since := -1, time.Now()
	require.Eventually(h.t, func() bool {
		if m := len(h.snapshot()); m != n {
			n, since = m, time.Now()
		}
		return time.Since(since) > quiet
	}, eventually, poll)
}

func (h *harness) paths() []string {
	var ps []string
	for _, b := range h.snapshot() {
		for _, c := range b {
			ps = append(ps, c.Path)
		}
	}
	return ps
}

func (h *harness) watched(rel string) bool {
	return slices.Contains(h.w.fs.WatchList(), h.w.abs(rel))
}

func covers(c Change, rel string) bool {
	return c.Full || c.Path == rel || (c.Dir && strings.HasPrefix(rel, c.Path+"/"))
}

func write(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
}

func appendTo(t *testing.T, root, rel, data string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, filepath.FromSlash(rel)), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(data)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func mkdirs(rels ...string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		for _, r := range rels {
			require.NoError(t, os.MkdirAll(filepath.Join(root, filepath.FromSlash(r)), 0o755))
		}
	}
}

func TestFileLifecycle(t *testing.T) {
	h := start(t, Options{Quiet: 300 * time.Millisecond}, mkdirs("music"))
	file := filepath.Join(h.root, "music", "a.mp3")
	want := []Change{{Path: "music/a.mp3"}}

	// One harness for all steps, so the steps run in order on this goroutine.
	steps := []struct {
		name string
		do   func()
	}{
		{"create", func() {
			// Several writes and a close: one change, one batch.
			f, err := os.Create(file)
			require.NoError(t, err)
			for range 5 {
				_, err = f.WriteString("ID3 frame ")
				require.NoError(t, err)
			}
			require.NoError(t, f.Close())
		}},
		{"modify", func() { appendTo(t, h.root, "music/a.mp3", "more") }},
		{"times only", func() {
			// A timestamp-only change (Windows copy, SetFileTime) is IN_ATTRIB only.
			old := time.Now().Add(-time.Hour)
			require.NoError(t, os.Chtimes(file, old, old))
		}},
		{"remove", func() { require.NoError(t, os.Remove(file)) }},
	}
	for _, s := range steps {
		t.Log("step:", s.name)
		h.reset()
		s.do()
		h.waitChange(want[0])
		h.settle(time.Second)
		for _, b := range h.snapshot() {
			require.Equal(t, want, b, "step %s", s.name)
		}
	}
}

func TestFileRename(t *testing.T) {
	h := start(t, Options{}, mkdirs("in", "out"))
	write(t, h.root, "in/take1.wav", "x")
	h.waitChange(Change{Path: "in/take1.wav"})
	h.reset()

	require.NoError(t, os.Rename(filepath.Join(h.root, "in", "take1.wav"), filepath.Join(h.root, "out", "song.wav")))
	h.waitChange(Change{Path: "in/take1.wav"})
	h.waitChange(Change{Path: "out/song.wav"})
}

func TestMkdirPThenFiles(t *testing.T) {
	h := start(t, Options{})

	require.NoError(t, os.MkdirAll(filepath.Join(h.root, "a", "b", "c"), 0o755))
	write(t, h.root, "a/b/c/f1.mp3", "1")
	write(t, h.root, "a/b/f0.mp3", "0")
	h.waitCovered("a/b/c/f1.mp3")
	h.waitCovered("a/b/f0.mp3")
	require.Eventually(t, func() bool { return h.watched("a/b/c") }, eventually, poll)
	h.settle(time.Second)

	h.reset()
	write(t, h.root, "a/b/c/f2.mp3", "2")
	h.waitChange(Change{Path: "a/b/c/f2.mp3"})
	write(t, h.root, "a/b/c/d/f3.mp3", "3") // a directory made later, deeper
	h.waitCovered("a/b/c/d/f3.mp3")
	h.settle(time.Second)
	h.reset()
	appendTo(t, h.root, "a/b/c/d/f3.mp3", "more")
	h.waitChange(Change{Path: "a/b/c/d/f3.mp3"})
}

func TestDirectoryMovedIn(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "album/cd1/01.flac", "1")
	write(t, outside, "album/cd2/01.flac", "2")
	h := start(t, Options{})

	require.NoError(t, os.Rename(filepath.Join(outside, "album"), filepath.Join(h.root, "album")))
	h.waitChange(Change{Path: "album", Dir: true})
	require.Eventually(t, func() bool { return h.watched("album/cd2") }, eventually, poll)
	h.settle(time.Second)

	h.reset()
	write(t, h.root, "album/cd2/02.flac", "x")
	h.waitChange(Change{Path: "album/cd2/02.flac"})
}

func TestDirectoryRenamedWithin(t *testing.T) {
	h := start(t, Options{}, mkdirs("old/sub/deep"))

	require.NoError(t, os.Rename(filepath.Join(h.root, "old"), filepath.Join(h.root, "new")))
	h.waitChange(Change{Path: "old", Dir: true})
	h.waitChange(Change{Path: "new", Dir: true})
	h.settle(time.Second)
	require.False(t, h.watched("old"))
	require.False(t, h.watched("old/sub/deep"))
	require.True(t, h.watched("new/sub/deep"))

	// The moved watches must report the new names, never the old ones.
	h.reset()
	write(t, h.root, "new/sub/deep/f.mp3", "x")
	h.waitChange(Change{Path: "new/sub/deep/f.mp3"})
	h.settle(time.Second)
	for _, p := range h.paths() {
		require.False(t, strings.HasPrefix(p, "old"), "stale path %q", p)
	}

	// A new directory at the old name is a different directory.
	h.reset()
	write(t, h.root, "old/g.mp3", "y")
	h.waitCovered("old/g.mp3")
	h.settle(time.Second)
	h.reset()
	appendTo(t, h.root, "old/g.mp3", "z")
	h.waitChange(Change{Path: "old/g.mp3"})
}

func TestDirectoryRemoved(t *testing.T) {
	h := start(t, Options{}, mkdirs("keep", "gone/x/y"))
	write(t, h.root, "gone/x/y/f.mp3", "1")
	h.settle(time.Second)

	h.reset()
	require.NoError(t, os.RemoveAll(filepath.Join(h.root, "gone")))
	h.waitChange(Change{Path: "gone", Dir: true})
	require.Eventually(t, func() bool {
		return !h.watched("gone") && !h.watched("gone/x") && !h.watched("gone/x/y")
	}, eventually, poll)
	require.True(t, h.watched("keep"))
}

func TestCollapse(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		dirs  []string
		files int // per directory
		want  Change
	}{
		{"many files in one directory", Options{}, []string{"many"}, 200, Change{Path: "many", Dir: true}},
		{"too many changes overall", Options{FullCollapse: 50}, []string{"d1", "d2", "d3", "d4", "d5"}, 20, Change{Full: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A long quiet window so that a loaded machine still sees one burst.
			tt.opts.Quiet, tt.opts.MaxDelay = time.Second, 5*time.Second
			h := start(t, tt.opts, mkdirs(tt.dirs...))
			for _, d := range tt.dirs {
				for i := range tt.files {
					write(t, h.root, d+"/"+strconv.Itoa(i)+".mp3", "x")
				}
			}
			h.waitChange(tt.want)
			for _, b := range h.snapshot() {
				if slices.Contains(b, tt.want) {
					require.Equal(t, []Change{tt.want}, b, "the collapsed change replaces the files")
				}
			}
		})
	}
}

func TestIgnore(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	ignore := func(rel string, dir bool) bool {
		mu.Lock()
		asked = append(asked, rel)
		mu.Unlock()
		return strings.HasPrefix(filepath.Base(rel), "~gs-")
	}
	h := start(t, Options{Ignore: ignore}, mkdirs("~gs-old/inner", "music"))
	require.False(t, h.watched("~gs-old"), "ignored directories are not watched")
	require.False(t, h.watched("~gs-old/inner"))

	// Our own publish: temp name, written, renamed into place.
	write(t, h.root, "music/~gs-tmp-1", "data")
	appendTo(t, h.root, "music/~gs-tmp-1", "more")
	require.NoError(t, os.Rename(filepath.Join(h.root, "music", "~gs-tmp-1"), filepath.Join(h.root, "music", "song.mp3")))
	write(t, h.root, "~gs-new/f.mp3", "x")
	write(t, h.root, "~gs-old/inner/f.mp3", "x")
	write(t, h.root, "music/real.mp3", "x")

	h.waitChange(Change{Path: "music/song.mp3"})
	h.waitChange(Change{Path: "music/real.mp3"})
	h.settle(time.Second)
	for _, p := range h.paths() {
		require.NotContains(t, p, "~gs-")
	}
	require.False(t, h.watched("~gs-new"))
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, asked, "music/~gs-tmp-1")
}

func TestDebounce(t *testing.T) {
	h := start(t, Options{Quiet: 200 * time.Millisecond, MaxDelay: 500 * time.Millisecond})
	write(t, h.root, "live.wav", "")
	h.waitChange(Change{Path: "live.wav"})
	h.reset()

	// A recorder appending every 50ms for 1s: 20 writes.
	for range 20 {
		appendTo(t, h.root, "live.wav", "frame")
		time.Sleep(50 * time.Millisecond)
	}
	h.waitChange(Change{Path: "live.wav"})
	h.settle(time.Second)
	got := h.snapshot()
	t.Logf("%d batches for 20 writes", len(got))
	require.Less(t, len(got), 10, "writes are batched, not delivered one by one")
	for _, b := range got {
		require.Equal(t, []Change{{Path: "live.wav"}}, b)
	}
}

func TestSlowConsumer(t *testing.T) {
	// Nobody reads while batches come due: events keep being read and merged,
	// nothing is lost, each path is delivered, none twice in one batch.
	root := t.TempDir()
	w, err := New(Options{Root: root, Quiet: 20 * time.Millisecond}, zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan []Change)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, out) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

	write(t, root, "a.mp3", "x")
	time.Sleep(300 * time.Millisecond) // the batch with a.mp3 is due and blocked
	for i := range 10 {
		write(t, root, "b.mp3", strconv.Itoa(i))
		write(t, root, "c.mp3", strconv.Itoa(i))
	}

	seen := map[string]bool{}
	deadline := time.After(eventually)
	for len(seen) < 3 {
		select {
		case b := <-out:
			inBatch := map[string]bool{}
			for _, c := range b {
				require.False(t, inBatch[c.Path], "duplicate in batch %v", b)
				inBatch[c.Path] = true
				seen[c.Path] = true
			}
		case <-deadline:
			t.Fatalf("changes lost behind a slow consumer; saw %v", seen)
		}
	}
	require.Equal(t, map[string]bool{"a.mp3": true, "b.mp3": true, "c.mp3": true}, seen)
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name    string
		pending bool // a batch is waiting for a consumer that never reads
	}{
		{"idle", false},
		{"blocked on send", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			w, err := New(Options{Root: root, Quiet: 10 * time.Millisecond}, zerolog.Nop())
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx, make(chan []Change)) }()

			if tt.pending {
				write(t, root, "x.mp3", "x")
				time.Sleep(200 * time.Millisecond) // let the batch become due
			}
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
			require.Nil(t, w.fs.WatchList(), "inotify instance closed")
			require.Error(t, w.Run(context.Background(), make(chan []Change)), "Run twice")
		})
	}
}

func TestClosedUnderneath(t *testing.T) {
	w, err := New(Options{Root: t.TempDir()}, zerolog.Nop())
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background(), make(chan []Change)) }()
	require.NoError(t, w.Close())
	select {
	case err := <-done:
		require.ErrorContains(t, err, "inotify instance closed")
	case <-time.After(eventually):
		t.Fatal("Run did not return after Close")
	}
}

func TestRootGone(t *testing.T) {
	tests := []struct {
		name string
		do   func(root string) error
	}{
		{"removed", os.RemoveAll},
		{"renamed", func(root string) error { return os.Rename(root, root+".moved") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "share")
			require.NoError(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
			w, err := New(Options{Root: root}, zerolog.Nop())
			require.NoError(t, err)
			out := make(chan []Change, 10)
			done := make(chan error, 1)
			go func() { done <- w.Run(context.Background(), out) }()

			require.NoError(t, tt.do(root))
			select {
			case err := <-done:
				require.ErrorIs(t, err, ErrRootGone)
			case <-time.After(eventually):
				t.Fatal("Run did not return when the root went away")
			}
			var last []Change
			for len(out) > 0 {
				last = <-out
			}
			require.Equal(t, []Change{{Full: true}}, last)
		})
	}
}

func TestOverflow(t *testing.T) {
	raw, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	require.NoError(t, err)
	queue, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	require.NoError(t, err)

	root := t.TempDir()
	write(t, root, "a", "")
	write(t, root, "b", "")
	w, err := New(Options{Root: root}, zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, err)
	// Nobody reads events before Run: the kernel queue overflows. Alternate
	// two files so that the kernel cannot merge consecutive events.
	for i := range 2*queue + 8192 {
		ts := time.Unix(int64(i), 0)
		require.NoError(t, os.Chtimes(filepath.Join(root, []string{"a", "b"}[i%2]), ts, ts))
	}
	// A directory made during the overflow gets its watch from the resync.
	require.NoError(t, os.Mkdir(filepath.Join(root, "lost"), 0o755))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan []Change)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, out) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

	deadline := time.After(eventually)
	for full := false; !full; {
		select {
		case b := <-out:
			full = slices.Equal(b, []Change{{Full: true}})
		case <-deadline:
			t.Fatal("no Full change after an overflow")
		}
	}
	write(t, root, "lost/f.mp3", "x")
	for {
		select {
		case b := <-out:
			if slices.Contains(b, Change{Path: "lost/f.mp3"}) {
				return
			}
		case <-deadline:
			t.Fatal("directory made during the overflow is not watched")
		}
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))

	tests := []struct {
		name    string
		root    string
		is      error
		message string
	}{
		{"not set", "", nil, "share root not set"},
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist, "missing"},
		{"not a directory", file, nil, "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{Root: tt.root}, zerolog.Nop())
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.message)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func TestNewResolvesSymlinkedRoot(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "share")
	require.NoError(t, os.Symlink(real, link))
	h := start(t, Options{Root: link})
	write(t, real, "x.mp3", "x")
	h.waitChange(Change{Path: "x.mp3"})
}

func TestWatchLimitError(t *testing.T) {
	// The limit itself cannot be lowered in a test without changing the
	// machine's sysctl for everyone; check the error New would return.
	err := addErr("/srv/share/a", syscall.ENOSPC)
	require.ErrorIs(t, err, ErrWatchLimit)
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Contains(t, err.Error(), "fs.inotify.max_user_watches")
	require.Contains(t, err.Error(), "/srv/share/a")

	err = addErr("/srv/share/a", syscall.EACCES)
	require.False(t, errors.Is(err, ErrWatchLimit))
}
