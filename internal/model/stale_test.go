package model

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/reconcile"
)

func TestStalenessAt(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		oldest time.Time // zero: nothing waits
		target float64   // stale_after in seconds; 0: none
		want   Staleness
	}{
		{"nothing waits", time.Time{}, 900, Staleness{Target: 15 * time.Minute}},
		{"within target", now.Add(-10 * time.Second), 900, Staleness{Age: 10 * time.Second, Target: 15 * time.Minute}},
		{"at the target: not yet", now.Add(-15 * time.Minute), 900, Staleness{Age: 15 * time.Minute, Target: 15 * time.Minute}},
		{"past target", now.Add(-901 * time.Second), 900, Staleness{Age: 901 * time.Second, Target: 15 * time.Minute, Stale: true}},
		{"no target: never stale", now.Add(-48 * time.Hour), 0, Staleness{Age: 48 * time.Hour}},
		{"a fractional target is the configured duration", now.Add(-time.Minute), (1500 * time.Millisecond).Seconds(),
			Staleness{Age: time.Minute, Target: 1500 * time.Millisecond, Stale: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sh := Share{Status: reconcile.Status{Name: "a", OldestPending: tc.oldest}, StaleAfterSeconds: tc.target}
			require.Equal(t, tc.want, sh.StalenessAt(now))
		})
	}
}

func TestMarkStale(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		state string
		age   time.Duration
		goal  float64
		want  string
		stale bool
	}{
		{"within target", reconcile.StateSyncing, 10 * time.Second, 900, reconcile.StateSyncing, false},
		{"past target", reconcile.StateSyncing, 901 * time.Second, 900, StateStale, true},
		{"paused past target", reconcile.StatePaused, 901 * time.Second, 900, StateStale, true},
		{"error stays error", reconcile.StateError, 901 * time.Second, 900, reconcile.StateError, true},
		{"no target", reconcile.StateSyncing, 901 * time.Second, 0, reconcile.StateSyncing, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := Snapshot{Now: now, Shares: []Share{{
				Status:            reconcile.Status{Name: "a", State: tc.state, OldestPending: now.Add(-tc.age)},
				StaleAfterSeconds: tc.goal,
			}}}
			snap.MarkStale()
			require.Equal(t, tc.want, snap.Shares[0].State)
			require.Equal(t, tc.stale, snap.Shares[0].Stale)
			again := snap
			again.Shares = slices.Clone(snap.Shares)
			again.MarkStale()
			require.Equal(t, snap, again, "marking twice changes nothing")
		})
	}
}
