package zfs

import (
	"cmp"
	"slices"
	"time"
)

// Retention is how many scheduled snapshots a dataset keeps, classic
// grandfather-father-son: the newest snapshot of each of the last Hourly
// hours that have one, of the last Daily days, Weekly ISO weeks and Monthly
// months. One snapshot can fill a slot in several classes. A count of 0
// keeps nothing for its class; negative counts read as 0.
type Retention struct {
	Hourly  int `json:"hourly"`
	Daily   int `json:"daily"`
	Weekly  int `json:"weekly"`
	Monthly int `json:"monthly"`
}

// DefaultRetention is the policy of a share that sets none: two days of
// hours, a month of days, two months of weeks, half a year of months.
func DefaultRetention() Retention {
	return Retention{Hourly: 48, Daily: 30, Weekly: 8, Monthly: 6}
}

func (r Retention) zero() bool {
	return r.Hourly <= 0 && r.Daily <= 0 && r.Weekly <= 0 && r.Monthly <= 0
}

// Prune plans which of one dataset's snapshots the schedule destroys. It is
// pure: it reads names, holds and policy, never the clock or ZFS.
//
// Only unheld scheduled snapshots (ScheduleName) are ever destroyed; a held
// one fills its slot like any other and stays even without one.
// Pre-operation and foreign snapshots are kept and fill no slot, and so are
// snapshots named after now, so that a clock once ahead cannot make the
// plan destroy the snapshots taken while it was right. Buckets come from
// the UTC time in the name: no DST hour is doubled or lost. The newest
// scheduled snapshot is always kept; every count 0 destroys nothing.
//
// keep and destroy are in the order of snaps. Safe for concurrent use.
func Prune(snaps []SnapshotInfo, policy Retention, now time.Time) (keep, destroy []SnapshotInfo) {
	type cand struct {
		i int
		t time.Time
	}
	var cands []cand
	kept := make([]bool, len(snaps))
	for i, s := range snaps {
		t, ok := ParseScheduleName(s.Name)
		if !ok || s.Held() || t.After(now) {
			kept[i] = true
		}
		if ok && !t.After(now) {
			cands = append(cands, cand{i, t})
		}
	}
	if policy.zero() {
		return snaps, nil
	}
	// Newest first; equal names (several datasets' snapshots passed at
	// once) in a stable order.
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Or(b.t.Compare(a.t), cmp.Compare(a.i, b.i)) })
	if len(cands) > 0 {
		kept[cands[0].i] = true
	}
	classes := []struct {
		n      int
		bucket func(time.Time) int64
	}{
		{policy.Hourly, func(t time.Time) int64 { return t.Unix() / 3600 }},
		{policy.Daily, func(t time.Time) int64 { return t.Unix() / 86400 }},
		{policy.Weekly, func(t time.Time) int64 { y, w := t.ISOWeek(); return int64(y)*100 + int64(w) }},
		{policy.Monthly, func(t time.Time) int64 { return int64(t.Year())*100 + int64(t.Month()) }},
	}
	for _, c := range classes {
		filled, last := 0, int64(-1)
		for _, cd := range cands {
			if filled >= c.n {
				break
			}
			if b := c.bucket(cd.t.UTC()); b != last {
				last = b
				kept[cd.i] = true
				filled++
			}
		}
	}
	for i, s := range snaps {
		if kept[i] {
			keep = append(keep, s)
		} else {
			destroy = append(destroy, s)
		}
	}
	return keep, destroy
}
