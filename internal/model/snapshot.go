package model

import (
	"fmt"
	"time"

	"genesissync/internal/eventlog"
	"genesissync/internal/reconcile"
)

// Snapshot is everything the appliance shows about itself, taken at one
// moment (Now). It is a value: whoever receives one owns it and may keep
// or change it; it is not safe for concurrent mutation.
type Snapshot struct {
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	Now       time.Time `json:"now"`
	Samba     Samba     `json:"samba"`
	// Clients are the connected SMB sessions and open files (see box.go).
	Clients Clients `json:"clients"`
	Shares  []Share `json:"shares"`
	// Endpoints are the bucket endpoints' reachability (see box.go).
	Endpoints []Endpoint `json:"endpoints"`
	// Pools are the ZFS pools under the shares (see zfs.go).
	Pools []Pool `json:"pools"`
	// Warnings are standing warnings about the box itself (see
	// daemon.WarningsDir).
	Warnings []Warning `json:"warnings"`
	// Alerts are the problems firing now, most severe first.
	Alerts []Alert `json:"alerts"`
	// Playout is whether transfers are yielding to SMB clients now.
	Playout Playout `json:"playout"`
	// Events are the newest notable events, newest first.
	Events []eventlog.Event `json:"events"`
}

// Playout is the state of playout-aware transfers (config playout):
// while SMB clients read at or above the threshold, transfers are held
// to the configured rate, a few at a time.
type Playout struct {
	// Aware is true when transfers yield to playout; Reason says why not
	// otherwise.
	Aware  bool   `json:"aware"`
	Reason string `json:"reason,omitempty"`
	// Active is true while transfers are held back.
	Active bool `json:"active"`
	// Since is when Active last changed (absent: never active).
	Since *time.Time `json:"since,omitempty"`
	// ClientReadBytesPerSecond is what smbd's clients read over the last
	// sample; ThresholdBytesPerSecond is the rate that counts as playout.
	ClientReadBytesPerSecond int64 `json:"client_read_bytes_per_second"`
	ThresholdBytesPerSecond  int64 `json:"threshold_bytes_per_second"`
	// RateLimitBytesPerSecond and Transfers are the limits while active.
	RateLimitBytesPerSecond int64 `json:"rate_limit_bytes_per_second"`
	Transfers               int   `json:"transfers"`
	// Summary is a sentence for the page.
	Summary string `json:"summary"`
	// Error is the last failure to sample smbd's clients.
	Error string `json:"error,omitempty"`
}

// Share is one share's state: its sync pipeline's status plus what the
// daemon knows beside it. The pipeline's fields are embedded so that they
// stay top-level keys of the share in the JSON API.
type Share struct {
	reconcile.Status
	// StaleAfterSeconds is the share's recovery point target
	// (stale_after): a change unsynced for longer makes the share stale.
	StaleAfterSeconds float64 `json:"stale_after_seconds"`
	// Stale is what MarkStale decided (see Share.StalenessAt); State is
	// then "stale" unless it is "error".
	Stale bool `json:"stale"`
	// RecentErrors are the share's latest distinct errors, newest first.
	RecentErrors []reconcile.Failure `json:"recent_errors"`
	// UploadBytesPerSecond and DownloadBytesPerSecond are the transfer
	// rates over the last minute or so.
	UploadBytesPerSecond   float64 `json:"upload_bytes_per_second"`
	DownloadBytesPerSecond float64 `json:"download_bytes_per_second"`
	// Snapshots is the share's ZFS snapshot state (see zfs.go).
	Snapshots Snapshots `json:"snapshots"`
	// Verify is the share's last and running integrity checks (see verify.go).
	Verify Verify `json:"verify"`
	// Readiness is the last check of what the share's playlists will air
	// (see readiness.go).
	Readiness Readiness `json:"readiness"`
	// Peers are the appliances on the share's bucket prefix (see
	// peers.go); nil where the daemon keeps no heartbeat for the share.
	Peers *Peers `json:"peers,omitempty"`
}

// Samba is smbd's state as the daemon sees it.
type Samba struct {
	Mode  string `json:"mode"`
	Addr  string `json:"addr,omitempty"`
	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"`
}

// Healthy reports whether the appliance is fit to serve: smbd up (when
// managed) and no share in the error state.
func (s Snapshot) Healthy() (bool, string) {
	if s.Samba.Mode != "off" && !s.Samba.Up {
		return false, "smbd is down"
	}
	for _, sh := range s.Shares {
		if sh.State == reconcile.StateError {
			return false, fmt.Sprintf("share %s: %s", sh.Name, sh.State)
		}
	}
	return true, "ok"
}
