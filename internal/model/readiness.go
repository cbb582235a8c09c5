package model

import "time"

// Readiness is a share's on-air readiness: the last check of the tracks
// its playlists will air within the horizon (see internal/onair).
type Readiness struct {
	// Enabled is false when the share has no readiness.playlists.
	Enabled bool `json:"enabled"`
	// CheckedAt is when the last check ran; zero before the first.
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Playlists is how many due playlists were read; Tracks how many of
	// their entries were checked, OK how many of those are ready to air.
	Playlists int `json:"playlists"`
	Tracks    int `json:"tracks"`
	OK        int `json:"ok"`
	// Problems are the entries (and playlists) that would air dead air,
	// soonest first; unscheduled ones (they may air at any time) before
	// all others.
	Problems []ReadinessProblem `json:"problems"`
	// Fetching are the tracks missing on the share but in the bucket,
	// asked for ahead of other downloads.
	Fetching []string `json:"fetching"`
	// FirstProblemAir is when the first scheduled problem airs; zero
	// when none does.
	FirstProblemAir time.Time `json:"first_problem_air,omitzero"`
	// Hours are the clock hours scheduled entries air in, soonest first:
	// the panel's hour by hour view.
	Hours []ReadinessHour `json:"hours"`
}

// ReadinessHour is one hour of scheduled air: how many entries air in it
// and how many of those are problems. Level is "info" for a ready hour,
// "error" for one with problems (the page colours it).
type ReadinessHour struct {
	Start    time.Time `json:"start"`
	Tracks   int       `json:"tracks"`
	Problems int       `json:"problems"`
	Level    string    `json:"level"`
}

// ReadinessProblem is one entry or playlist that would put dead air on.
type ReadinessProblem struct {
	Playlist string    `json:"playlist"`
	Line     int       `json:"line"`
	Air      time.Time `json:"air,omitzero"` // zero: unscheduled
	Artist   string    `json:"artist,omitempty"`
	Title    string    `json:"title,omitempty"`
	// Entry is the path as the playlist writes it; Share and Path where
	// it resolved (empty when outside every share).
	Entry string `json:"entry"`
	Share string `json:"share,omitempty"`
	Path  string `json:"path,omitempty"`
	// Reason is missing, refused-name, not-synced, conflict,
	// outside-share, unparsable or unreadable.
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}
