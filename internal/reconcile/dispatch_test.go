package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

func TestDispatchOldestSettledFirst(t *testing.T) {
	s := New(Options{Name: "t", Settle: time.Second, Uploaders: 3, Log: zerolog.Nop()})
	now := time.Now()
	// 1,000 settled files, since i minutes ago; a few not eligible.
	for i := range 1000 {
		s.pend[fmt.Sprintf("f%04d", i)] = &pending{since: now.Add(-time.Duration(i) * time.Minute), lastEvent: now.Add(-time.Hour)}
	}
	s.pend["f0999"].lastEvent = now                      // the oldest, but not settled
	s.pend["f0998"].notBefore = now.Add(time.Minute)     // backing off
	s.inflight["f0997"] = now                            // a worker has it
	s.pend["new"] = &pending{since: now, lastEvent: now} // not settled

	// None of them is on disk (the share's root is unset): all go in
	// the large lane, three (Uploaders) at once.
	jobs := make(chan job, 10)
	s.dispatch(context.Background(), jobs)
	require.Equal(t, smallWorkers, s.idle, "the small lane's workers wait")
	require.Equal(t, []string{"f0996", "f0995", "f0994"}, drain(jobs))

	// A finished transfer frees a worker: the next oldest, from the kept
	// batch.
	delete(s.pend, "f0996")
	s.finish(result{job: job{rel: "f0996", lane: laneLarge}})
	s.idle++
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"f0993"}, drain(jobs))
	require.Equal(t, "f0992", s.ready[0], "the batch kept for the next dispatch")

	// Files done meanwhile are skipped; a tick walks again.
	delete(s.pend, "f0992")
	s.finish(result{job: job{rel: "f0995", lane: laneLarge}})
	s.idle++
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"f0991"}, drain(jobs))
	s.ready = nil
	s.pend["f0999"].lastEvent = now.Add(-time.Hour) // settled now
	s.finish(result{job: job{rel: "f0994", lane: laneLarge}})
	s.idle++
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"f0999"}, drain(jobs))
}

// TestDispatchLanes checks that small files go up many at once beside
// the large ones, and are not stuck behind older large files while the
// large lane is full.
func TestDispatchLanes(t *testing.T) {
	root := t.TempDir()
	s := New(Options{Name: "t", Root: root, Settle: time.Second, Uploaders: 2, Log: zerolog.Nop()})
	now := time.Now()
	add := func(name string, size int, age time.Duration) {
		require.NoError(t, os.WriteFile(filepath.Join(root, name), make([]byte, size), 0o644))
		s.pend[name] = &pending{since: now.Add(-age), lastEvent: now.Add(-time.Hour)}
	}
	// The large files changed first: oldest first would take them all.
	for i := range 5 {
		add(fmt.Sprintf("large%d.wav", i), smallFileMax+1, time.Hour+time.Duration(i)*time.Minute)
	}
	for i := range 40 {
		add(fmt.Sprintf("jingle%02d.mp3", i), 16<<10, time.Duration(i)*time.Second)
	}
	jobs := make(chan job, 100)
	s.dispatch(context.Background(), jobs)
	got := drain(jobs)
	require.Len(t, got, 2+smallWorkers, "every worker busy")
	require.Equal(t, []string{"large4.wav", "large3.wav"}, got[:2], "the oldest large files, two (Uploaders) at once")
	require.Equal(t, 2, s.large)
	for _, rel := range got[2:] {
		require.Contains(t, rel, "jingle", "a third large file took a small-lane worker")
	}
	require.Equal(t, "jingle39.mp3", got[2], "small files oldest first")

	// A small transfer ends: the next small file, not a large one.
	s.finish(result{job: job{rel: got[2], lane: laneSmall}})
	delete(s.pend, got[2])
	s.idle++
	s.dispatch(context.Background(), jobs)
	next := drain(jobs)
	require.Len(t, next, 1)
	require.Contains(t, next[0], "jingle")

	// A large transfer ends: the next large file.
	s.finish(result{job: job{rel: "large4.wav", lane: laneLarge}})
	delete(s.pend, "large4.wav")
	s.idle++
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"large2.wav"}, drain(jobs))
}

func TestNewNeedsAnUploader(t *testing.T) {
	require.Panics(t, func() { New(Options{Name: "t", Log: zerolog.Nop()}) })
}

func drain(jobs chan job) []string {
	var got []string
	for {
		select {
		case j := <-jobs:
			got = append(got, j.rel)
		default:
			return got
		}
	}
}

// TestFetchGoesFirst: a path asked for by Fetch (a track due to air) is
// dispatched before older pending paths, also those of a batch already
// chosen, without becoming the share's recovery point.
func TestFetchGoesFirst(t *testing.T) {
	s := New(Options{Name: "t", Settle: time.Second, Uploaders: 1, Log: zerolog.Nop()})
	now := time.Now()
	for i := range 10 {
		s.pend[fmt.Sprintf("f%d", i)] = &pending{since: now.Add(-time.Duration(i+1) * time.Hour), lastEvent: now.Add(-time.Hour)}
	}
	jobs := make(chan job, 10)
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"f9"}, drain(jobs), "the oldest first, one large worker")
	require.NotEmpty(t, s.ready, "a batch is chosen")

	s.note(found{rel: "Music/due.mp3", remote: true})
	s.first("Music/due.mp3")
	s.first("Music/due.mp3") // asked twice: listed once
	s.finish(result{job: job{rel: "f9", lane: laneLarge}})
	delete(s.pend, "f9")
	s.idle++
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"Music/due.mp3"}, drain(jobs), "ahead of the older batch")
	require.Equal(t, "f8", s.ready[0], "the batch follows")
	require.True(t, s.pend["Music/due.mp3"].since.After(now.Add(-time.Minute)), "its recovery point is when it was asked for")
}
