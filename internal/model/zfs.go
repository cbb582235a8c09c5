package model

import "time"

// Pool is one ZFS pool's health as last checked (every minute).
type Pool struct {
	Name   string `json:"name"`
	Health string `json:"health"` // ONLINE, DEGRADED, FAULTED, ...
	// Healthy is zpool status -x's verdict for the pool; Problem its
	// report when not healthy.
	Healthy bool   `json:"healthy"`
	Problem string `json:"problem,omitempty"`
	// CapacityPercent is the pool's used share of its size.
	CapacityPercent float64 `json:"capacity_percent"`
	// Size, Allocated and Free are bytes; SizesExact is false where the
	// tool prints rounded figures only (zfs-fuse).
	Size       uint64 `json:"size"`
	Allocated  uint64 `json:"allocated"`
	Free       uint64 `json:"free"`
	SizesExact bool   `json:"sizes_exact"`
	// Scan is the last or running scrub or resilver: none, finished,
	// canceled, in-progress, paused or unknown; LastScrub is when the
	// last scrub finished, if one did.
	Scan      string    `json:"scan"`
	LastScrub time.Time `json:"last_scrub,omitzero"`
	// CheckedAt is when these figures were read.
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Error is why the pool could not be checked.
	Error string `json:"error,omitempty"`
}

// Snapshots is a share's ZFS snapshot state.
type Snapshots struct {
	// Enabled is false for shares not on ZFS or with snapshots off;
	// Reason then says why.
	Enabled bool   `json:"enabled"`
	Reason  string `json:"reason,omitempty"`
	Dataset string `json:"dataset,omitempty"`
	// DatasetUsed and DatasetAvailable are the dataset's bytes, as last
	// checked.
	DatasetUsed      uint64 `json:"dataset_used"`
	DatasetAvailable uint64 `json:"dataset_available"`
	// IntervalSeconds is the schedule's period.
	IntervalSeconds float64 `json:"interval_seconds,omitempty"`
	// PreviousVersions is how SMB clients see the snapshots: "snapdir"
	// (.zfs/snapshot), "clones" (read-only clones, zfs-fuse) or "off".
	PreviousVersions string `json:"previous_versions,omitempty"`
	// Count is the number of snapshots of the dataset; Recent the newest
	// ten, newest first.
	Count  int            `json:"count"`
	Recent []SnapshotInfo `json:"recent"`
	// NextScheduled is when the next scheduled snapshot is due.
	NextScheduled time.Time `json:"next_scheduled,omitzero"`
	// LastError is the last failed snapshot or listing, while failing.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// SnapshotInfo is one snapshot of a share's dataset.
type SnapshotInfo struct {
	Name string `json:"name"`
	// Kind is scheduled, pre-operation or foreign.
	Kind    string    `json:"kind"`
	Created time.Time `json:"created"`
	// Used is the space only this snapshot holds, in bytes.
	Used uint64 `json:"used"`
	Held bool   `json:"held"`
}
