package reconcile

import "time"

// Alive reports whether the share's loop went round within the last
// `within`. The loop goes round on every event and every tick (at most
// 100 ms), so one silent for seconds is stuck, not busy. Before the first
// round the share counts as alive (Run first walks the share for a crash's
// temp files, which takes as long as the share is large); after Run
// returned it is not. Cheap and safe for concurrent use.
func (s *Share) Alive(within time.Duration) bool {
	select {
	case <-s.stopped:
		return false
	default:
	}
	beat := s.beat.Load()
	return beat == 0 || time.Since(time.Unix(0, beat)) <= within
}
