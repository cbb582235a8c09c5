package model

import (
	"time"

	"genesissync/internal/objstore"
)

// Endpoint is one bucket endpoint's reachability as last probed.
type Endpoint struct {
	URL       string    `json:"url"`
	Bucket    string    `json:"bucket"`
	Shares    []string  `json:"shares"`
	Reachable bool      `json:"reachable"`
	LatencyMs float64   `json:"latency_ms"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Of a target with several endpoints (target.endpoints), the rest:
	// Order is the endpoint's place in the target's list from 1 (0 for
	// a target with one endpoint); Several says the target has several;
	// ReadOnly that it takes no writes (write: false); Writes that it
	// takes the target's writes now (the first reachable one that takes
	// writes); FirstWriter that it is the first in the list that takes
	// writes (writes elsewhere have failed over). Reachable is kept by
	// every request as well as by the probes: false from the first
	// failure of the endpoint's own, with DownSince when it began and
	// Error, until it answers again. Requests counts the requests sent
	// to it, Failures those that failed for its reason, Misses the reads
	// it answered with 404 that the next endpoint was asked; BytesRead
	// and BytesWritten the object bytes it served and took.
	// Target names the target the endpoint belongs to, the same for all
	// its endpoints: the first endpoint's URL and the bucket.
	Target       string    `json:"target,omitempty"`
	Order        int       `json:"order,omitempty"`
	Several      bool      `json:"several,omitempty"`
	ReadOnly     bool      `json:"read_only,omitempty"`
	Writes       bool      `json:"writes,omitempty"`
	FirstWriter  bool      `json:"first_writer,omitempty"`
	DownSince    time.Time `json:"down_since,omitzero"`
	Requests     int64     `json:"requests,omitempty"`
	Failures     int64     `json:"failures,omitempty"`
	Misses       int64     `json:"misses,omitempty"`
	BytesRead    int64     `json:"bytes_read,omitempty"`
	BytesWritten int64     `json:"bytes_written,omitempty"`
	// Capabilities is what the last capability probe (at start, then
	// hourly) found the target can do; nil before the first one ends.
	// Degradations say, a sentence each, what the appliance does without
	// what it lacks; CapabilitiesError is why the last probe could not run.
	Capabilities      *objstore.Capabilities `json:"capabilities,omitempty"`
	Degradations      []string               `json:"degradations,omitempty"`
	CapabilitiesError string                 `json:"capabilities_error,omitempty"`
}

// Clients are the SMB clients connected to smbd, as last asked
// (`smbstatus --json`).
type Clients struct {
	Sessions  []Session  `json:"sessions"`
	OpenFiles []OpenFile `json:"open_files"`
	// Error is why smbd could not be asked; the lists are then the last
	// ones known.
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Session is one SMB client logged on.
type Session struct {
	User    string `json:"user"`
	Machine string `json:"machine"` // the client's address
	Dialect string `json:"dialect"` // e.g. SMB3_11
	// Shares are the shares it has connected to (tree connects).
	Shares      []string  `json:"shares"`
	ConnectedAt time.Time `json:"connected_at,omitzero"`
	Encrypted   bool      `json:"encrypted"`
}

// OpenFile is a file an SMB client holds open.
type OpenFile struct {
	Share string `json:"share"` // the share's name; empty for a path outside every share
	Path  string `json:"path"`  // share-relative
	Write bool   `json:"write"`
}

// Uptime is how long the daemon had run when the snapshot was taken.
func (s Snapshot) Uptime() time.Duration {
	if s.StartedAt.IsZero() {
		return 0
	}
	now := s.Now
	if now.IsZero() {
		now = time.Now()
	}
	return now.Sub(s.StartedAt)
}
