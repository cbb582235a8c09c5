package reconcile

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"
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
// runs again allowed.
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
	s.allow(s.guard.release())
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

// TestTrippedBatchThatEmptiesIsNoLongerTripped: when every held delete of
// a tripped batch is settled otherwise (a restore brought the files back),
// nothing is left for a person to approve and the guard says so.
func TestTrippedBatchThatEmptiesIsNoLongerTripped(t *testing.T) {
	s, now := guardShare(t)
	for i := range 60 {
		holdOne(s, fmt.Sprintf("%02d.mp3", i), now)
	}
	s.considerDeletes(now)
	require.True(t, s.guard.tripped)
	for i := range 60 {
		s.guard.settled(fmt.Sprintf("%02d.mp3", i))
	}
	s.publish()
	require.True(t, s.Status().DeleteGuardTripped, "until the next judgement")
	s.considerDeletes(now.Add(time.Second))
	s.publish()
	st := s.Status()
	require.False(t, st.DeleteGuardTripped)
	require.Empty(t, st.DeleteBatch)
	require.NotEqual(t, StateError, st.State)
}

func TestOneDeleteIsReleasedByDefault(t *testing.T) {
	s, now := guardShare(t)
	holdOne(s, "a.mp3", now)
	s.considerDeletes(now)
	require.False(t, s.guard.tripped)
	require.Empty(t, s.guard.held)
	require.True(t, s.pend["a.mp3"].allowDelete)
}

func TestHoldNextDeletesTripsAnySize(t *testing.T) {
	s, now := guardShare(t)
	s.HoldNextDeletes("rollback to gs-2026-01-01-0000")
	holdOne(s, "a.mp3", now)
	s.considerDeletes(now)
	require.True(t, s.guard.tripped, "one delete after a rollback waits for approval")
	require.Contains(t, s.guard.held, "a.mp3")
	require.Nil(t, s.pend["a.mp3"])

	// Approved: released, and the request is used up.
	require.NoError(t, s.approve(s.guard.batch))
	holdOne(s, "b.mp3", now)
	s.considerDeletes(now)
	require.False(t, s.guard.tripped, "the hold applies to one batch only")
	require.True(t, s.pend["b.mp3"].allowDelete)
}

func TestHoldNextDeletesExpiresAfterACleanScan(t *testing.T) {
	s, now := guardShare(t)
	s.HoldNextDeletes("rollback")
	// A full scan that started before the request does not count.
	s.guard.scanDone(now.Add(-time.Hour))
	s.considerDeletes(now.Add(time.Hour))
	forced, _ := s.guard.forced(now.Add(time.Hour), true) // nothing pending
	require.False(t, forced)
	require.False(t, s.guard.force.at.IsZero(), "still armed: no scan since the request")

	// A full scan after it found nothing to delete: the request expires
	// once the delete quiet period passed.
	s.guard.scanDone(time.Now())
	s.considerDeletes(time.Now())
	require.False(t, s.guard.force.at.IsZero(), "still armed within the quiet period")
	later := time.Now().Add(s.guard.quiet + time.Second)
	s.pend["restored.mp3"] = &pending{since: now, lastEvent: now}
	s.considerDeletes(later)
	require.False(t, s.guard.force.at.IsZero(), "still armed while what the scan found waits")
	delete(s.pend, "restored.mp3")
	s.considerDeletes(later)
	require.True(t, s.guard.force.at.IsZero(), "expired")

	holdOne(s, "a.mp3", later)
	s.considerDeletes(later)
	require.False(t, s.guard.tripped)
}

func TestHoldNextDeletesExpiresAtLast(t *testing.T) {
	s, now := guardShare(t)
	s.HoldNextDeletes("rollback")
	s.pend["busy.mp3"] = &pending{since: now, lastEvent: now}
	s.considerDeletes(now.Add(forceHoldMax - time.Minute))
	require.False(t, s.guard.force.at.IsZero())
	s.considerDeletes(now.Add(forceHoldMax + time.Minute))
	require.True(t, s.guard.force.at.IsZero())
}

// TestGuardApprovesOnlyTheBatchShown: a batch over the thresholds trips
// once it has been quiet; an approval must name the batch as it is now,
// and a delete that joined after it was shown makes it a new batch.
func TestGuardApprovesOnlyTheBatchShown(t *testing.T) {
	now := time.Now()
	g := newDeleteGuard(2, 100, time.Second, zerolog.Nop())
	tracked := func() int { return 1000 }
	for _, rel := range []string{"a.mp3", "b.mp3", "c.mp3"} {
		require.False(t, g.hold(rel, DeleteRemote, false, now))
	}
	require.Nil(t, g.judge(now.Add(500*time.Millisecond), false, false, tracked), "judged only once quiet")
	require.False(t, g.tripped)
	require.Nil(t, g.judge(now.Add(2*time.Second), false, false, tracked))
	require.True(t, g.tripped, "3 deletes, more than 2")
	shown := g.view(maxListed)
	require.Equal(t, 3, shown.count)
	require.Equal(t, []HeldDelete{{"a.mp3", "delete-remote"}, {"b.mp3", "delete-remote"}, {"c.mp3", "delete-remote"}}, shown.held)

	_, err := g.approve("0123456789abcdef")
	require.ErrorContains(t, err, "not the waiting batch")
	require.False(t, g.hold("d.mp3", DeleteLocal, false, now.Add(3*time.Second)))
	_, err = g.approve(shown.batch)
	require.ErrorContains(t, err, "not the waiting batch", "d.mp3 joined after the batch was shown")
	require.True(t, g.tripped)

	paths, err := g.approve(g.view(maxListed).batch)
	require.NoError(t, err)
	slices.Sort(paths)
	require.Equal(t, []string{"a.mp3", "b.mp3", "c.mp3", "d.mp3"}, paths)
	require.False(t, g.tripped)
	require.Zero(t, g.view(maxListed).count)
	_, err = g.approve(shown.batch)
	require.ErrorContains(t, err, "no delete batch is waiting")
}

func TestGuardHoldsNothingWhilePaused(t *testing.T) {
	now := time.Now()
	g := newDeleteGuard(50, 10, time.Second, zerolog.Nop())
	g.hold("a.mp3", DeleteLocal, false, now)
	require.Nil(t, g.judge(now.Add(time.Hour), false, true, func() int { return 100 }), "not judged while paused")
	require.Equal(t, []string{"a.mp3"}, g.judge(now.Add(time.Hour), false, false, func() int { return 100 }))
}
