package reconcile

import "time"

// Alive reports whether the share's pipeline is making progress: its loop
// went round within the last `within`. The loop goes round on every
// event and at least every 100 ms when idle, so a loop that has not gone
// round for seconds is stuck (a hung index write, a deadlock), not busy.
//
// Before the loop's first round the share counts as alive: Run first walks
// the whole share for temp files a crash left, which takes as long as the
// share is large, and declaring that stuck would restart the daemon into
// the same walk forever. After Run has returned the share is not alive.
//
// Alive is cheap (one atomic load) and safe for concurrent use.
func (s *Share) Alive(within time.Duration) bool {
	select {
	case <-s.stopped:
		return false
	default:
	}
	beat := s.beat.Load()
	return beat == 0 || time.Since(time.Unix(0, beat)) <= within
}
