package model

import (
	"math"
	"time"

	"genesissync/internal/reconcile"
)

// StateStale is the state of a share whose oldest unsynced change is
// older than the share's target (StaleAfterSeconds): its recovery point
// is missed. MarkStale sets it.
const StateStale = "stale"

// Staleness is a share's recovery point measured against its target. It
// is a value.
type Staleness struct {
	// Age is how long the oldest unsynced change has waited; 0 when
	// nothing waits.
	Age time.Duration
	// Target is the share's stale_after; 0 means none: never stale.
	Target time.Duration
	// Stale is true when Age is past a set Target.
	Stale bool
}

// StalenessAt measures the share's oldest unsynced change (OldestPending)
// at now against its stale_after (StaleAfterSeconds). It is the one rule of
// "stale", used by MarkStale and the alert rules. Safe for concurrent use.
func (sh Share) StalenessAt(now time.Time) Staleness {
	// Rounded, not truncated: the seconds come from a config duration,
	// which they give back exactly.
	st := Staleness{Target: time.Duration(math.Round(sh.StaleAfterSeconds * float64(time.Second)))}
	if !sh.OldestPending.IsZero() {
		st.Age = now.Sub(sh.OldestPending)
	}
	st.Stale = st.Target > 0 && st.Age > st.Target
	return st
}

// MarkStale sets Stale on every share that is stale at the snapshot's
// moment (StalenessAt(s.Now)), and its State to StateStale unless the
// share is in error, which says more. It changes s only.
func (s *Snapshot) MarkStale() {
	for i := range s.Shares {
		sh := &s.Shares[i]
		if sh.StalenessAt(s.Now).Stale {
			sh.Stale = true
			if sh.State != reconcile.StateError {
				sh.State = StateStale
			}
		}
	}
}
