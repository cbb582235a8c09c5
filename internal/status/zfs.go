package status

// Pool is one ZFS pool's health as last checked.
type Pool struct {
	Name   string `json:"name"`
	Health string `json:"health"` // ONLINE, DEGRADED, FAULTED, ...
	// CapacityPercent is the pool's used share of its size.
	CapacityPercent float64 `json:"capacity_percent"`
	// Error is why the pool could not be checked.
	Error string `json:"error,omitempty"`
}

// Snapshots is a share's ZFS snapshot state.
type Snapshots struct {
	// Enabled is false for shares not on ZFS; Reason then says why.
	Enabled bool   `json:"enabled"`
	Reason  string `json:"reason,omitempty"`
}
