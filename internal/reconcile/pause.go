package reconcile

import (
	"context"
	"sync"
	"time"
)

// StatePaused is a share whose transfers are paused by a person or by an
// operation (a rollback) that needs the share still.
const StatePaused = "paused"

// control is what other goroutines ask of the loop: pause transfers.
// Guarded by mu; the loop reads it on every round.
type control struct {
	mu       sync.Mutex
	pausedBy string // why transfers are paused; "" = running
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
