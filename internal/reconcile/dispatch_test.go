package reconcile

import (
	"context"
	"fmt"
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

	jobs := make(chan job, 10)
	s.dispatch(context.Background(), jobs)
	require.Zero(t, s.idle)
	require.Equal(t, []string{"f0996", "f0995", "f0994"}, drain(jobs))

	// A finished transfer frees a worker: the next oldest, from the kept
	// batch.
	delete(s.pend, "f0996")
	delete(s.inflight, "f0996")
	s.idle++
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"f0993"}, drain(jobs))
	require.Equal(t, "f0992", s.ready[0], "the batch kept for the next dispatch")

	// Files done meanwhile are skipped; a tick walks again.
	delete(s.pend, "f0992")
	s.idle++
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"f0991"}, drain(jobs))
	s.ready = nil
	s.pend["f0999"].lastEvent = now.Add(-time.Hour) // settled now
	s.idle++
	s.dispatch(context.Background(), jobs)
	require.Equal(t, []string{"f0999"}, drain(jobs))
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
