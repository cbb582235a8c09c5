package reconcile

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
)

// guardShare is a share with 100 tracked files and one delete held since
// long enough to be judged.
func guardShare(t *testing.T) (*Share, time.Time) {
	t.Helper()
	s := New(Options{Name: "t", Settle: 100 * time.Millisecond, Uploaders: config.DefaultUploaders, Log: zerolog.Nop(),
		MaxDeletes: config.DefaultMaxDeleteFiles, MaxDeletePercent: config.DefaultMaxDeletePercent})
	s.update(func(st *Status) { st.FilesTracked = 100 })
	return s, time.Now()
}

func holdOne(s *Share, rel string, now time.Time) {
	s.guard.held[rel] = heldDelete{action: DeleteRemote, at: now.Add(-time.Minute)}
	s.guard.lastAdd = now.Add(-time.Minute)
}

func TestPauseHoldsWorkAndDeletes(t *testing.T) {
	s, now := guardShare(t)
	s.Pause("maintenance")
	holdOne(s, "a.mp3", now)
	s.considerDeletes(now)
	require.Contains(t, s.guard.held, "a.mp3", "no delete is released while paused")

	s.pend["new.mp3"] = &pending{since: now.Add(-time.Minute), lastEvent: now.Add(-time.Minute)}
	jobs := make(chan job, 1)
	s.dispatch(context.Background(), jobs)
	require.Empty(t, jobs, "nothing is dispatched while paused")
	s.publish()
	st := s.Status()
	require.Equal(t, StatePaused, st.State)
	require.Equal(t, "maintenance", st.PausedReason)

	s.Resume()
	s.dispatch(context.Background(), jobs)
	require.Len(t, jobs, 1)
	s.publish()
	require.NotEqual(t, StatePaused, s.Status().State)
}

func TestFailingFilesAreListed(t *testing.T) {
	s, now := guardShare(t)
	s.pend["b.mp3"] = &pending{since: now.Add(-time.Minute), lastEvent: now.Add(-time.Minute)}
	s.pend["a.mp3"] = &pending{since: now.Add(-2 * time.Minute), lastEvent: now.Add(-2 * time.Minute)}
	s.pend["ok.mp3"] = &pending{since: now, lastEvent: now}
	for _, rel := range []string{"a.mp3", "b.mp3"} {
		s.inflight[rel] = now
		s.finish(result{job: job{rel: rel, started: now}, err: errors.New("put " + rel + ": connection refused")})
	}
	// A share-wide failure (a bucket listing) is the last error, but the
	// files that fail are still known.
	s.fail("", errors.New("list bucket: connection refused"))
	s.publish()
	st := s.Status()
	require.Equal(t, 2, st.PendingFailures)
	require.Len(t, st.Failing, 2)
	require.Equal(t, "a.mp3", st.Failing[0].Path, "longest failing first")
	require.Contains(t, st.Failing[0].Message, "connection refused")
	require.Equal(t, "b.mp3", st.Failing[1].Path)
	require.Empty(t, st.LastError.Path)
}
