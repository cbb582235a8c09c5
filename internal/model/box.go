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
