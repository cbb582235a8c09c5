package model

import "time"

// Peers are the appliances that sync with a share's bucket prefix, as
// this appliance last saw their heartbeats (internal/peers): one object
// per appliance under the prefix's .genesissync/appliances/, written by
// that appliance every minute or so.
type Peers struct {
	// Self is this appliance's name (appliance.name).
	Self string `json:"self"`
	// StaleAfterSeconds is how long an appliance may go without a
	// heartbeat before it is Stale (appliance.stale_after).
	StaleAfterSeconds float64 `json:"stale_after_seconds"`
	// Appliances are the appliances with a heartbeat on the prefix, by
	// name, this one included (Self set).
	Appliances []Peer `json:"appliances"`
	// Duplicate, when set, says in a sentence that another appliance
	// with this one's name is live on the prefix (named by its version,
	// start and last heartbeat): the two overwrite each other's
	// heartbeat and their conflict copies name the same writer. It
	// clears StaleAfterSeconds after the last overwrite seen.
	Duplicate string `json:"duplicate,omitempty"`
	// Skipped are the objects of the last listing that are no heartbeat
	// (a name that is no appliance name, a body that is not a heartbeat
	// or over 64 KiB), a sentence each.
	Skipped []string `json:"skipped,omitempty"`
	// Error is the last failure to write this appliance's heartbeat or
	// to list or read the others, ErrorAt when it happened; empty once a
	// heartbeat did both.
	Error   string    `json:"error,omitempty"`
	ErrorAt time.Time `json:"error_at,omitzero"`
	// CheckedAt is when the appliances were last listed; zero before the
	// first listing.
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Peer is one appliance on a bucket prefix, from its heartbeat.
type Peer struct {
	// Name is the appliance's name (its appliance.name); Version the
	// GenesisSync version it runs.
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// Self marks this appliance.
	Self bool `json:"self,omitempty"`
	// Started is when its daemon started; LastSeen when its heartbeat was
	// last written, by the store's clock (this appliance's own: its last
	// heartbeat written).
	Started  time.Time `json:"started,omitzero"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	// Shares are its shares on this prefix.
	Shares []string `json:"shares,omitempty"`
	// LastWrotePath and LastWroteAt are the last file it wrote to the
	// bucket and when, as it reported them; empty when it has written
	// none since it started.
	LastWrotePath string    `json:"last_wrote_path,omitempty"`
	LastWroteAt   time.Time `json:"last_wrote_at,omitzero"`
	// Stopped says its last heartbeat was its daemon stopping. Stale
	// says it is not stopped but its heartbeat is older than the
	// prefix's StaleAfterSeconds: it may be down or cut off.
	Stopped bool `json:"stopped,omitempty"`
	Stale   bool `json:"stale,omitempty"`
}

// State is the peer's state as the page shows it: "stopped", "stale" or
// "live".
func (p Peer) State() string {
	switch {
	case p.Stopped:
		return "stopped"
	case p.Stale:
		return "stale"
	}
	return "live"
}
