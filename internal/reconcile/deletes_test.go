package reconcile

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/index"
)

func TestTrips(t *testing.T) {
	cases := []struct {
		n, tracked int
		want       bool
	}{
		{0, 100, false},
		{1, 1, false},  // one delete never trips the percentage
		{2, 20, false}, // exactly 10 %
		{3, 20, true},  // 15 %
		{50, 1000, false},
		{51, 10000, true}, // over the count
		{200, 210, true},
		{10, 1000, false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, Trips(tc.n, tc.tracked, config.DefaultMaxDeleteFiles, config.DefaultMaxDeletePercent), "%d of %d", tc.n, tc.tracked)
	}
}

func TestBatchIDNamesTheBatch(t *testing.T) {
	a := map[string]heldDelete{"x": {action: DeleteRemote}, "y": {action: DeleteLocal}}
	b := map[string]heldDelete{"y": {action: DeleteLocal}, "x": {action: DeleteRemote}}
	require.Equal(t, batchID(a), batchID(b), "order does not matter")
	b["z"] = heldDelete{action: DeleteRemote}
	require.NotEqual(t, batchID(a), batchID(b), "a delete added after the batch was shown changes its ID")
	c := map[string]heldDelete{"x": {action: DeleteLocal}, "y": {action: DeleteLocal}}
	require.NotEqual(t, batchID(a), batchID(c), "the direction of a delete is part of the batch")
}

// TestReleaseIsNotUndoneByAJobInFlight: a held path is not planned again
// by the listing or a scan while it waits; a job decided before the
// release (in flight when a person approved) does not hold it again, it
// runs again allowed. Seen in CI: 20 of 60 approved first-pass conflicts
// held again, and the guard tripped on them.
func TestReleaseIsNotUndoneByAJobInFlight(t *testing.T) {
	s, _, _ := pollShare(t, time.Hour)
	held := result{job: job{rel: "a.mp3"}, action: Conflict, out: outHeldDelete}
	s.pend["a.mp3"] = &pending{since: time.Now()}
	s.finish(held)
	require.Contains(t, s.guard.held, "a.mp3")
	require.NotContains(t, s.pend, "a.mp3")

	// The listing finds the same difference again: nothing to do.
	s.note(found{rel: "a.mp3", remote: true})
	require.NotContains(t, s.pend, "a.mp3", "a held path is not re-planned by the listing")
	s.note(found{rel: "a.mp3", mtime: time.Now().Add(-time.Hour)})
	require.NotContains(t, s.pend, "a.mp3", "nor by a scan")

	// Approved; a job decided before comes back held.
	s.guard.tripped = true
	s.release()
	require.True(t, s.pend["a.mp3"].allowDelete)
	s.inflight["a.mp3"] = time.Now()
	s.finish(held)
	require.Empty(t, s.guard.held, "not held again")
	require.True(t, s.pend["a.mp3"].allowDelete, "it runs again, allowed")

	// The allowed job ran: the release is spent.
	s.finish(result{job: job{rel: "a.mp3", allowDelete: true}, action: Conflict, out: outConflict, entry: &index.Entry{}})
	require.Empty(t, s.guard.released)

	// A watcher event on a held path plans it again.
	s.finish(held)
	s.pend["b.mp3"] = &pending{since: time.Now()}
	s.finish(result{job: job{rel: "b.mp3"}, action: DeleteRemote, out: outHeldDelete})
	s.note(found{rel: "b.mp3", event: true})
	require.Contains(t, s.pend, "b.mp3")
}
