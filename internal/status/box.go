package status

import "time"

// Endpoint is one bucket endpoint's reachability as last probed.
type Endpoint struct {
	URL       string    `json:"url"`
	Bucket    string    `json:"bucket"`
	Shares    []string  `json:"shares"`
	Reachable bool      `json:"reachable"`
	LatencyMs float64   `json:"latency_ms"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}
