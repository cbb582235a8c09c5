package zfs

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// snapAt is a scheduled snapshot of tank/media named for t.
func snapAt(t time.Time) SnapshotInfo {
	return SnapshotInfo{Dataset: "tank/media", Name: ScheduleName(t), Created: t.UTC().Truncate(time.Second)}
}

// hourly is one scheduled snapshot per hour from first to last, inclusive.
func hourly(first, last time.Time) []SnapshotInfo {
	var snaps []SnapshotInfo
	for t := first; !t.After(last); t = t.Add(time.Hour) {
		snaps = append(snaps, snapAt(t))
	}
	return snaps
}

func names(snaps []SnapshotInfo) []string {
	var ns []string
	for _, s := range snaps {
		ns = append(ns, s.Name)
	}
	return ns
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func TestPruneSmall(t *testing.T) {
	now := utc(2026, 11, 22, 3, 10)
	twoAndAHalfDays := hourly(utc(2026, 11, 19, 16, 0), utc(2026, 11, 22, 3, 0))
	tests := []struct {
		name   string
		snaps  []SnapshotInfo
		policy Retention
		keep   []string
	}{
		{
			name:   "three hours and two days",
			snaps:  twoAndAHalfDays,
			policy: Retention{Hourly: 3, Daily: 2},
			keep:   []string{"gs-2026-11-21-2300", "gs-2026-11-22-0100", "gs-2026-11-22-0200", "gs-2026-11-22-0300"},
		},
		{
			name:   "days only: the newest of each UTC day",
			snaps:  twoAndAHalfDays,
			policy: Retention{Daily: 10},
			keep:   []string{"gs-2026-11-19-2300", "gs-2026-11-20-2300", "gs-2026-11-21-2300", "gs-2026-11-22-0300"},
		},
		{
			name:   "weeks only: 2026-11-22 is a Sunday, so one ISO week",
			snaps:  twoAndAHalfDays,
			policy: Retention{Weekly: 4},
			keep:   []string{"gs-2026-11-22-0300"},
		},
		{
			name: "several snapshots in one hour: the newest of the hour",
			snaps: []SnapshotInfo{
				snapAt(utc(2026, 11, 22, 2, 0)), snapAt(utc(2026, 11, 22, 2, 30)),
				snapAt(utc(2026, 11, 22, 3, 0)), snapAt(utc(2026, 11, 22, 3, 5)),
			},
			policy: Retention{Hourly: 2},
			keep:   []string{"gs-2026-11-22-0230", "gs-2026-11-22-0305"},
		},
		{
			name:   "the newest is kept even when every class keeps nothing else",
			snaps:  twoAndAHalfDays,
			policy: Retention{Hourly: 0, Daily: 0, Weekly: 0, Monthly: 1},
			keep:   []string{"gs-2026-11-22-0300"},
		},
		{
			name:   "all counts zero: no pruning at all",
			snaps:  twoAndAHalfDays[:5],
			policy: Retention{},
			keep:   names(twoAndAHalfDays[:5]),
		},
		{
			name:   "negative counts read as zero",
			snaps:  twoAndAHalfDays,
			policy: Retention{Hourly: -5, Daily: 1},
			keep:   []string{"gs-2026-11-22-0300"},
		},
		{
			name: "pre-operation, foreign and future snapshots stay and fill no slot; a held one stays",
			snaps: []SnapshotInfo{
				snapAt(utc(2026, 11, 21, 22, 0)),
				{Dataset: "tank/media", Name: "gs-2026-11-21-2300", Holds: 1},
				{Dataset: "tank/media", Name: "gs-pre-restore-2026-11-22-000501"},
				{Dataset: "tank/media", Name: "manual-before-upgrade"},
				snapAt(utc(2026, 11, 22, 1, 0)),
				snapAt(utc(2026, 11, 22, 2, 0)),
				{Dataset: "tank/media", Name: "gs-pre-delete-2026-11-22-021000"},
				snapAt(utc(2026, 11, 22, 3, 0)),
				snapAt(utc(2027, 1, 1, 0, 0)), // after now: a clock that was ahead
			},
			policy: Retention{Hourly: 2},
			keep: []string{
				"gs-2026-11-21-2300", "gs-pre-restore-2026-11-22-000501", "manual-before-upgrade",
				"gs-2026-11-22-0200", "gs-pre-delete-2026-11-22-021000", "gs-2026-11-22-0300",
				"gs-2027-01-01-0000",
			},
		},
		{
			name:   "nothing to prune",
			snaps:  nil,
			policy: DefaultRetention(),
			keep:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keep, destroy := Prune(tt.snaps, tt.policy, now)
			require.Equal(t, tt.keep, names(keep))
			require.Len(t, destroy, len(tt.snaps)-len(keep))
			for _, d := range destroy {
				require.Equal(t, Scheduled, d.Kind())
				require.False(t, d.Held())
				require.NotContains(t, tt.keep, d.Name)
			}
		})
	}
}

// TestPruneSixMonths runs the default policy over a snapshot every hour
// from 1 June to 22 November 2026 03:00 UTC, a Sunday.
func TestPruneSixMonths(t *testing.T) {
	now := utc(2026, 11, 22, 3, 20)
	snaps := hourly(utc(2026, 6, 1, 0, 0), utc(2026, 11, 22, 3, 0))
	require.Len(t, snaps, 174*24+4)
	held := ScheduleName(utc(2026, 6, 15, 12, 0))
	for i := range snaps {
		if snaps[i].Name == held {
			snaps[i].Holds = 1
		}
	}
	preOp, _ := PreOpName(PreRestore, utc(2026, 7, 4, 10, 11))
	snaps = append(snaps,
		SnapshotInfo{Dataset: "tank/media", Name: preOp},
		SnapshotInfo{Dataset: "tank/media", Name: "before-samba-upgrade"},
	)

	keep, destroy := Prune(snaps, DefaultRetention(), now)
	kept := names(keep)

	// 48 hours; 27 more days (the last 3 fall in the 48 hours); 3 more
	// weeks (Sundays 4, 11, 18 October); 4 more months (ends of June to
	// September); the held, pre-operation and foreign ones.
	require.Len(t, keep, 48+27+3+4+3, "kept: %v", kept)
	require.Len(t, destroy, len(snaps)-len(keep))

	hours := hourly(utc(2026, 11, 20, 4, 0), now)
	require.Len(t, hours, 48)
	require.Subset(t, kept, names(hours))
	for _, want := range []string{
		"gs-2026-11-19-2300", "gs-2026-10-24-2300", // days
		"gs-2026-10-18-2300", "gs-2026-10-11-2300", "gs-2026-10-04-2300", // ISO weeks end on Sunday
		"gs-2026-10-31-2300", "gs-2026-09-30-2300", "gs-2026-08-31-2300", "gs-2026-07-31-2300", "gs-2026-06-30-2300", // months
		held, preOp, "before-samba-upgrade",
	} {
		require.Contains(t, kept, want)
	}
	for _, gone := range []string{
		"gs-2026-11-20-0300", // one hour past the 48
		"gs-2026-10-23-2300", // a Friday, one day past the 30
		"gs-2026-09-27-2300", // a Sunday, one week past the 8
		"gs-2026-06-01-0000", // not the newest of its hour, day, week or month
	} {
		require.NotContains(t, kept, gone)
	}

	// Pruning what was kept keeps it all: the plan is stable.
	keep2, destroy2 := Prune(keep, DefaultRetention(), now)
	require.Empty(t, destroy2)
	require.Equal(t, kept, names(keep2))

	// An hour later exactly one more hourly snapshot and one falls out.
	next := append(slices.Clone(keep), snapAt(utc(2026, 11, 22, 4, 0)))
	keep3, destroy3 := Prune(next, DefaultRetention(), utc(2026, 11, 22, 4, 1))
	require.Equal(t, []string{"gs-2026-11-20-0400"}, names(destroy3))
	require.Len(t, keep3, len(keep))
}

func TestPruneKeepsInputOrder(t *testing.T) {
	now := utc(2026, 11, 22, 3, 0)
	snaps := hourly(utc(2026, 11, 22, 0, 0), now)
	slices.Reverse(snaps)
	keep, destroy := Prune(snaps, Retention{Hourly: 2}, now)
	require.Equal(t, []string{"gs-2026-11-22-0300", "gs-2026-11-22-0200"}, names(keep))
	require.Equal(t, []string{"gs-2026-11-22-0100", "gs-2026-11-22-0000"}, names(destroy))
}
