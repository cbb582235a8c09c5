package reconcile

import (
	"context"
	"sync"
	"time"
)

// StatePaused is a share whose transfers are paused by a person or by an
// operation (a rollback) that needs the share still.
const StatePaused = "paused"

// control is what other goroutines ask of the loop: pause transfers, and
// hold the next deletes for approval whatever their count. Guarded by mu;
// the loop reads it on every round.
type control struct {
	mu          sync.Mutex
	pausedBy    string    // why transfers are paused; "" = running
	forceAt     time.Time // when HoldNextDeletes was asked; zero = not asked
	forceReason string
	forceScan   time.Time // when the first full scan after forceAt finished
}

// Pause stops handing work to the transfer workers: what is in flight
// finishes, changes keep being noticed and wait. reason is shown on the
// status page. Safe for concurrent use.
func (s *Share) Pause(reason string) {
	if reason == "" {
		reason = "paused"
	}
	s.ctl.mu.Lock()
	s.ctl.pausedBy = reason
	s.ctl.mu.Unlock()
	s.log.Warn().Str("reason", reason).Msg("share paused")
}

// Resume undoes Pause. Safe for concurrent use.
func (s *Share) Resume() {
	s.ctl.mu.Lock()
	was := s.ctl.pausedBy
	s.ctl.pausedBy = ""
	s.ctl.mu.Unlock()
	if was != "" {
		s.log.Info().Str("was", was).Msg("share resumed")
	}
}

// pausedReason is why the share is paused, or "".
func (s *Share) pausedReason() string {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	return s.ctl.pausedBy
}

// WaitIdle blocks until no transfer is in flight (after Pause, until the
// running ones finished) or ctx ends. Safe for concurrent use.
func (s *Share) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if s.Status().InFlight == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stopped:
			return nil
		case <-t.C:
		}
	}
}

// HoldNextDeletes makes the deletes found by the next full scan wait for
// a person's approval whatever their count, as after a rollback: a mass
// change that the guard's thresholds might let through. It lasts until a
// batch trips, or until a full scan that started after this call finished
// and everything it found was dealt with without any delete (at most
// forceHoldMax). Safe for concurrent use.
func (s *Share) HoldNextDeletes(reason string) {
	s.ctl.mu.Lock()
	s.ctl.forceAt, s.ctl.forceReason, s.ctl.forceScan = time.Now(), reason, time.Time{}
	s.ctl.mu.Unlock()
	s.log.Warn().Str("reason", reason).Msg("the next deletes will wait for approval")
}

// forcedHold reports whether the current batch must trip whatever its
// size, and clears the request once it has nothing left to hold. Loop
// goroutine only.
func (s *Share) forcedHold(now time.Time) (bool, string) {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	if s.ctl.forceAt.IsZero() {
		return false, ""
	}
	if len(s.guard.held) > 0 {
		return true, s.ctl.forceReason
	}
	// Nothing to hold yet. The request is used up once the scan after it
	// finished and nothing it found still waits: a delete could still be
	// queued behind the uploads a rollback causes.
	settled := !s.ctl.forceScan.IsZero() && now.Sub(s.ctl.forceScan) > s.deleteQuiet() &&
		len(s.pend) == 0 && len(s.inflight) == 0
	if settled || now.Sub(s.ctl.forceAt) > forceHoldMax {
		s.ctl.forceAt, s.ctl.forceReason, s.ctl.forceScan = time.Time{}, "", time.Time{}
	}
	return false, ""
}

// forceHoldMax bounds a HoldNextDeletes request on a share that is never
// idle.
const forceHoldMax = 24 * time.Hour

// forcedTripped clears the request once a batch tripped under it.
func (s *Share) forcedTripped() {
	s.ctl.mu.Lock()
	s.ctl.forceAt, s.ctl.forceReason, s.ctl.forceScan = time.Time{}, "", time.Time{}
	s.ctl.mu.Unlock()
}

// fullScanDone notes a finished full scan that started at started.
func (s *Share) fullScanDone(started time.Time) {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	if !s.ctl.forceAt.IsZero() && s.ctl.forceScan.IsZero() && !started.Before(s.ctl.forceAt) {
		s.ctl.forceScan = time.Now()
	}
}
