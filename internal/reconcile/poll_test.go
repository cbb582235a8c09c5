package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/index"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
)

// memRemote is the in-memory store as the pipeline's remote; the listing
// tests never copy.
type memRemote struct{ *objstore.Memory }

func (memRemote) Copy(context.Context, string, string, string) (objstore.Object, error) {
	return objstore.Object{}, errors.New("copy: not in these tests")
}

func putObject(t *testing.T, m *objstore.Memory, key, body string) objstore.Object {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	o, err := m.Put(context.Background(), objstore.PutInput{
		Key: key, Body: bytes.NewReader([]byte(body)), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]),
	})
	require.NoError(t, err)
	return o
}

// pollShare is a share over a fresh index and an in-memory bucket that
// holds the marker.
func pollShare(t *testing.T, interval time.Duration) (*Share, *index.Share, *objstore.Memory) {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ix.Close() })
	m := objstore.NewMemory()
	putObject(t, m, layout.ShareMarker, "marker")
	idx := ix.Share("t")
	s := New(Options{Name: "t", Root: t.TempDir(), Index: idx, Remote: memRemote{m}, RemoteInterval: interval, Log: zerolog.Nop(),
		Settle: config.DefaultSettle, Uploaders: config.DefaultUploaders})
	return s, idx, m
}

func TestPollOnceComparesTheListingWithTheIndex(t *testing.T) {
	s, idx, m := pollShare(t, time.Hour)
	synced := func(o objstore.Object, at time.Time) index.Entry {
		return index.Entry{Size: o.Size, ETag: o.ETag, SyncedAt: at}
	}
	long := time.Now().Add(-time.Hour)
	for _, k := range []string{"a/same.mp3", "b/same.mp3", "z.mp3"} {
		require.NoError(t, idx.Put(k, synced(putObject(t, m, k, "same "+k), long)))
	}
	// Changed in the bucket since synced.
	old := putObject(t, m, "a/changed.mp3", "old")
	require.NoError(t, idx.Put("a/changed.mp3", synced(old, long)))
	putObject(t, m, "a/changed.mp3", "new version")
	// New in the bucket.
	putObject(t, m, "a/new.mp3", "new")
	putObject(t, m, "a-new-too.mp3", "new")
	// Deleted in the bucket, and one synced after the listing began
	// (the listing may have passed its key before the upload).
	require.NoError(t, idx.Put("a/gone.mp3", index.Entry{Size: 1, ETag: "x", SyncedAt: long}))
	require.NoError(t, idx.Put("a/never-synced.mp3", index.Entry{Size: 1, ETag: "x"}))
	require.NoError(t, idx.Put("a/just-uploaded.mp3", index.Entry{Size: 1, ETag: "x", SyncedAt: time.Now().Add(time.Hour)}))

	foundc := make(chan found, 100)
	before := time.Now()
	require.NoError(t, s.pollOnce(context.Background(), foundc))
	close(foundc)
	var got []string
	for f := range foundc {
		require.True(t, f.remote)
		got = append(got, f.rel)
	}
	slices.Sort(got)
	require.Equal(t, []string{"a-new-too.mp3", "a/changed.mp3", "a/gone.mp3", "a/never-synced.mp3", "a/new.mp3"}, got)

	st := s.Status()
	require.False(t, st.LastRemoteList.Before(before), "the listing's start")
	require.True(t, st.LastRemoteListDone.After(st.LastRemoteList), "the listing's finish")
}

func TestTrackedSetFind(t *testing.T) {
	ts := &trackedSet{entries: []tracked{{path: "a"}, {path: "a/b"}, {path: "b"}, {path: "c"}}}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"a", true}, {"a/b", true}, {"a0", false}, {"c", true}, {"a/b", true}, {"b", true}, {"0", false}, {"d", false},
	} {
		got := ts.find(tc.path)
		if !tc.want {
			require.Nil(t, got, tc.path)
			continue
		}
		require.NotNil(t, got, tc.path)
		require.Equal(t, tc.path, got.path)
	}
}

func TestSyncNowListsTheBucketAtOnce(t *testing.T) {
	for _, interval := range []time.Duration{time.Hour, 0} { // 0: only when asked
		s, _, _ := pollShare(t, interval)
		ctx, cancel := context.WithCancel(context.Background())
		foundc := make(chan found, 100)
		done := make(chan error, 1)
		go func() { done <- s.poller(ctx, foundc) }()

		// The first listing runs at start; the next would wait an hour,
		// or for ever.
		require.Eventually(t, func() bool { return !s.Status().LastRemoteListDone.IsZero() }, 5*time.Second, time.Millisecond)
		first := s.Status().LastRemoteList
		time.Sleep(50 * time.Millisecond)
		require.Equal(t, first, s.Status().LastRemoteList, "interval %s: no listing until asked", interval)
		asked := time.Now()
		s.SyncNow()
		require.Eventually(t, func() bool {
			st := s.Status()
			return st.LastRemoteList.After(asked) && st.LastRemoteListDone.After(st.LastRemoteList)
		}, 5*time.Second, time.Millisecond, "SyncNow started a listing")
		cancel()
		require.NoError(t, <-done)
	}
}

// unconditional is a store that ignores conditional writes, as older S3
// servers do.
type unconditional struct{ memRemote }

func (u unconditional) Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error) {
	in.IfAbsent, in.IfMatch = false, ""
	return u.memRemote.Put(ctx, in)
}

func TestListingProbesConditionalWrites(t *testing.T) {
	t.Run("honored", func(t *testing.T) {
		s, _, m := pollShare(t, time.Hour)
		before, err := m.Head(context.Background(), layout.ShareMarker)
		require.NoError(t, err)
		require.Equal(t, condUnknown, s.conditions.Load(), "no upload skips the HEAD before the store has been asked")
		require.NoError(t, s.pollOnce(context.Background(), make(chan found, 10)))
		require.Equal(t, condHonored, s.conditions.Load())
		after, err := m.Head(context.Background(), layout.ShareMarker)
		require.NoError(t, err)
		require.Equal(t, before.ETag, after.ETag, "the refused probe left the marker alone")
	})
	t.Run("ignored", func(t *testing.T) {
		s, _, m := pollShare(t, time.Hour)
		s.opts.Remote = unconditional{memRemote{m}}
		require.NoError(t, s.pollOnce(context.Background(), make(chan found, 10)))
		require.Equal(t, condUnsupported, s.conditions.Load(), "a store that ignores conditions keeps every upload behind a HEAD; asked once")
	})
	t.Run("rejected", func(t *testing.T) {
		s, _, m := pollShare(t, time.Hour)
		s.opts.Remote = failingConditions{memRemote{m}, errors.New("api error NotImplemented: A header you provided implies functionality that is not implemented")}
		require.NoError(t, s.pollOnce(context.Background(), make(chan found, 10)))
		require.Equal(t, condUnsupported, s.conditions.Load(), "a permanent refusal is an answer")
	})
	t.Run("transient error: asked again", func(t *testing.T) {
		s, _, m := pollShare(t, time.Hour)
		s.opts.Remote = failingConditions{memRemote{m}, fmt.Errorf("put: %w", context.DeadlineExceeded)}
		require.NoError(t, s.pollOnce(context.Background(), make(chan found, 10)))
		require.Equal(t, condUnknown, s.conditions.Load(), "asked again after the next listing")
		s.opts.Remote = memRemote{m}
		require.NoError(t, s.pollOnce(context.Background(), make(chan found, 10)))
		require.Equal(t, condHonored, s.conditions.Load())
	})
	t.Run("first start writes the marker, then probes", func(t *testing.T) {
		s, _, m := pollShare(t, time.Hour)
		require.NoError(t, m.Delete(context.Background(), layout.ShareMarker))
		require.NoError(t, s.pollOnce(context.Background(), make(chan found, 10)))
		_, err := m.Head(context.Background(), layout.ShareMarker)
		require.NoError(t, err)
		require.Equal(t, condHonored, s.conditions.Load())
	})
}

// failingConditions fails every conditional write with err.
type failingConditions struct {
	memRemote
	err error
}

func (f failingConditions) Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error) {
	if in.IfAbsent || in.IfMatch != "" {
		return objstore.Object{}, f.err
	}
	return f.memRemote.Put(ctx, in)
}

// failingList is a remote whose listing fails while fail is set.
type failingList struct {
	memRemote
	fail *atomic.Bool
}

func (f failingList) List(ctx context.Context, prefix string, fn func(objstore.Object) error) error {
	if f.fail.Load() {
		return errors.New("list: 500 InternalError")
	}
	return f.memRemote.List(ctx, prefix, fn)
}

func TestListingThatKeepsFailingPutsTheShareInError(t *testing.T) {
	ix, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ix.Close() })
	m := objstore.NewMemory()
	putObject(t, m, layout.ShareMarker, "marker")
	var fail atomic.Bool
	fail.Store(true)
	const grace = time.Second
	s := New(Options{Name: "t", Root: t.TempDir(), Index: ix.Share("t"), Remote: failingList{memRemote{m}, &fail},
		RemoteInterval: 10 * time.Millisecond, ListingGrace: grace, Uploaders: 1, Log: zerolog.Nop()})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.poller(ctx, make(chan found, 100)) }()

	// Failing, but within the grace: recorded, not yet an error.
	require.Eventually(t, func() bool { st := s.Status(); return st.ListingError != nil && st.ListingError.Attempts >= 3 },
		5*time.Second, time.Millisecond)
	s.publish()
	st := s.Status()
	require.False(t, st.ListingFailing, "within the grace")
	require.NotEqual(t, StateError, st.State)
	require.Contains(t, st.ListingError.Message, "500 InternalError")

	// Past the grace: the share is in error, with the cause.
	time.Sleep(grace)
	s.publish()
	st = s.Status()
	require.True(t, st.ListingFailing)
	require.Equal(t, StateError, st.State)
	require.Contains(t, st.LastError.Message, "list bucket")

	// A completed listing clears it.
	fail.Store(false)
	require.Eventually(t, func() bool { return s.Status().ListingError == nil }, 5*time.Second, time.Millisecond)
	s.publish()
	st = s.Status()
	require.False(t, st.ListingFailing)
	require.NotEqual(t, StateError, st.State)
	require.False(t, st.LastRemoteListDone.IsZero())

	// A new streak counts from the last completed listing, not from the
	// start of the pipeline.
	fail.Store(true)
	require.Eventually(t, func() bool { return s.Status().ListingError != nil }, 5*time.Second, time.Millisecond)
	require.False(t, s.Status().ListingError.Since.Before(st.LastRemoteListDone))
	cancel()
	require.NoError(t, <-done)
}

// TestExcludedKeysStayInTheBucket: objects whose names the share excludes
// (Windows' Thumbs.db, AzuraCast's .waveforms folder when excluded) are
// neither candidates of the listing nor downloaded by a bucket event: a
// download would be followed by the scan's "not seen" and a delete in the
// bucket.
func TestExcludedKeysStayInTheBucket(t *testing.T) {
	s, _, m := pollShare(t, time.Hour)
	s.opts.Matcher = scan.NewMatcher([]string{"Thumbs.db"}, []string{".waveforms"})
	for _, k := range []string{"Music/Thumbs.db", ".waveforms/track.json", "Music/.waveforms/t.json", "Music/track.mp3",
		".genesissync/probe/0123/race"} { // the capability probe's: skipped, not refused
		putObject(t, m, k, "x")
	}
	foundc := make(chan found, 100)
	require.NoError(t, s.pollOnce(context.Background(), foundc))
	close(foundc)
	var got []string
	for f := range foundc {
		got = append(got, f.rel)
	}
	require.Equal(t, []string{"Music/track.mp3"}, got)
	require.Zero(t, s.Status().RefusedCount)

	s.opts.Downloader = transfer.NewDownloader(s.opts.Root, m, -1, -1)
	r := s.process(context.Background(), job{rel: "Music/.waveforms/t.json"})
	require.NoError(t, r.err)
	require.Equal(t, outNone, r.out)
	_, err := os.Stat(filepath.Join(s.opts.Root, "Music/.waveforms/t.json"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
