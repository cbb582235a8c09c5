package config

import "time"

// Snapshot policy defaults.
const (
	// DefaultSnapshotInterval is how often a share's dataset is
	// snapshotted on schedule.
	DefaultSnapshotInterval = time.Hour
	// DefaultPreOpRetention is how long snapshots taken before a restore,
	// a rollback or an approved mass delete are kept: longer than hourly
	// ones, as the operation they undo may be noticed late.
	DefaultPreOpRetention = 30 * 24 * time.Hour
	// Retention counts of the schedule (grandfather-father-son).
	DefaultKeepHourly  = 48
	DefaultKeepDaily   = 30
	DefaultKeepWeekly  = 8
	DefaultKeepMonthly = 6
	// maxKeep bounds each retention count.
	maxKeep = 10000
)

// SnapshotPolicy is a share's ZFS snapshot schedule and retention:
//
//	snapshots:
//	  enabled: true            # default: true when the share has a dataset
//	  interval: 1h             # 1m to 24h, whole minutes
//	  keep: {hourly: 48, daily: 30, weekly: 8, monthly: 6}
//	  pre_op_retention: 720h   # snapshots before restores, rollbacks, mass deletes
//	  previous_versions: true  # Windows "Previous Versions" through Samba
//
// After Load every pointer is set; use the accessor methods.
type SnapshotPolicy struct {
	// Enabled turns scheduled snapshots on; unset means on when the share
	// has a dataset.
	Enabled *bool `mapstructure:"enabled"`
	// Interval is the time between scheduled snapshots: 1m to 24h, whole
	// minutes.
	Interval time.Duration `mapstructure:"interval"`
	// Keep is the retention of scheduled snapshots.
	Keep SnapshotKeep `mapstructure:"keep"`
	// PreOpRetention is how long pre-operation snapshots are kept
	// (unless held).
	PreOpRetention time.Duration `mapstructure:"pre_op_retention"`
	// PreviousVersions exports the scheduled snapshots to SMB clients
	// (vfs_shadow_copy2).
	PreviousVersions *bool `mapstructure:"previous_versions"`
}

// SnapshotKeep is how many scheduled snapshots each class keeps; 0 keeps
// none for that class, and all four 0 turns pruning off.
type SnapshotKeep struct {
	// Hourly is how many of the newest hourly snapshots are kept.
	Hourly *int `mapstructure:"hourly"`
	// Daily is how many daily snapshots (the newest of each day) are kept.
	Daily *int `mapstructure:"daily"`
	// Weekly is how many weekly snapshots (the newest of each week) are kept.
	Weekly *int `mapstructure:"weekly"`
	// Monthly is how many monthly snapshots (the newest of each month) are
	// kept.
	Monthly *int `mapstructure:"monthly"`
}

// On reports whether the share takes scheduled snapshots.
func (p SnapshotPolicy) On() bool { return p.Enabled != nil && *p.Enabled }

// ShowPreviousVersions reports whether SMB clients see the snapshots as
// Previous Versions (only when snapshots are on).
func (p SnapshotPolicy) ShowPreviousVersions() bool {
	return p.On() && p.PreviousVersions != nil && *p.PreviousVersions
}

// Counts returns hourly, daily, weekly and monthly, 0 for any unset.
func (k SnapshotKeep) Counts() (hourly, daily, weekly, monthly int) {
	v := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	return v(k.Hourly), v(k.Daily), v(k.Weekly), v(k.Monthly)
}

func (p *SnapshotPolicy) applyDefaults(s *Share) {
	if p.Enabled == nil {
		on := s.Dataset != ""
		p.Enabled = &on
	}
	if p.Interval == 0 {
		p.Interval = DefaultSnapshotInterval
	}
	if p.PreOpRetention == 0 {
		p.PreOpRetention = DefaultPreOpRetention
	}
	if p.PreviousVersions == nil {
		pv := true
		p.PreviousVersions = &pv
	}
	for _, k := range []struct {
		dst **int
		def int
	}{{&p.Keep.Hourly, DefaultKeepHourly}, {&p.Keep.Daily, DefaultKeepDaily}, {&p.Keep.Weekly, DefaultKeepWeekly}, {&p.Keep.Monthly, DefaultKeepMonthly}} {
		if *k.dst == nil {
			n := k.def
			*k.dst = &n
		}
	}
}

func (p *SnapshotPolicy) validate(key string, s *Share, add addFunc) {
	if p.On() && s.Dataset == "" {
		add(key+".enabled", "snapshots need a ZFS dataset: set %s.dataset, or set enabled: false", keyParent(key))
	}
	if p.Interval < time.Minute || p.Interval > 24*time.Hour || p.Interval%time.Minute != 0 {
		add(key+".interval", "must be whole minutes from 1m to 24h (snapshot names have minute resolution); got %s", p.Interval)
	}
	if p.PreOpRetention < time.Hour {
		add(key+".pre_op_retention", "must be at least 1h; got %s", p.PreOpRetention)
	}
	for _, k := range []struct {
		name string
		v    *int
	}{{"hourly", p.Keep.Hourly}, {"daily", p.Keep.Daily}, {"weekly", p.Keep.Weekly}, {"monthly", p.Keep.Monthly}} {
		if k.v != nil && (*k.v < 0 || *k.v > maxKeep) {
			add(key+".keep."+k.name, "must be 0-%d; got %d", maxKeep, *k.v)
		}
	}
}

// keyParent is key without its last element: "shares.studio" for
// "shares.studio.snapshots".
func keyParent(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '.' {
			return key[:i]
		}
	}
	return key
}
