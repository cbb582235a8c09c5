package playout

import (
	"context"
	"sync"
	"time"

	"genesissync/internal/periodic"
)

// Counters reads the cumulative bytes sent to each SMB client connection,
// keyed by connection (SentBytes: the socket cookie). A new connection
// counts from its first sample.
type Counters func() (map[uint64]int64, error)

// DetectorOptions configure a Detector.
type DetectorOptions struct {
	// Read samples the SMB client connections.
	Read Counters
	// Every is the sampling period.
	Every time.Duration
	// Threshold is the rate (bytes per second sent to SMB clients) from
	// which they count as playing out.
	Threshold int64
	// QuietAfter is how long reads must stay under Threshold before
	// transfers go back to full speed.
	QuietAfter time.Duration
	// OnChange, if set, is called from the Detector's goroutine on each
	// switch, with the read rate that made it.
	OnChange func(active bool, bytesPerSecond int64)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// State is what the Detector last saw.
type State struct {
	Active bool
	// Since is when Active last changed (zero: never active).
	Since time.Time
	// ReadRate is SMB clients' read rate over the last sample, bytes/s.
	ReadRate int64
	// LastActive is the last time the rate was at or above the threshold.
	LastActive time.Time
	// Err is the last sampling error, if the latest sample failed.
	Err string
}

// Detector switches a Governor to active while SMB clients read at or
// above Threshold, and back to quiet after QuietAfter under it.
type Detector struct {
	opts DetectorOptions
	gov  *Governor

	prev   map[uint64]int64
	prevAt time.Time

	mu    sync.Mutex
	state State
}

// NewDetector returns a detector that drives gov.
func NewDetector(gov *Governor, opts DetectorOptions) *Detector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Every <= 0 {
		opts.Every = 500 * time.Millisecond
	}
	return &Detector{opts: opts, gov: gov}
}

// State returns what the detector last saw.
func (d *Detector) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// Run samples every opts.Every until ctx ends, then leaves the governor
// quiet; it always returns nil.
func (d *Detector) Run(ctx context.Context) error {
	defer d.gov.SetActive(false)
	periodic.Run(ctx, d.opts.Every, d.Sample)
	return nil
}

// Sample takes one sample and updates the state (Run's step; tests call
// it with a fake clock).
func (d *Detector) Sample() {
	now := d.opts.Now()
	cur, err := d.opts.Read()
	d.mu.Lock()
	was := d.state.Active
	d.sample(now, cur, err)
	st := d.state
	d.mu.Unlock()
	if st.Active != was {
		d.gov.SetActive(st.Active)
		if d.opts.OnChange != nil {
			d.opts.OnChange(st.Active, st.ReadRate)
		}
	}
}

// sample applies one reading; d.mu must be held.
func (d *Detector) sample(now time.Time, cur map[uint64]int64, err error) {
	if err != nil {
		// Unknown counts as quiet after the quiet period: a failing
		// sampler must neither hold transfers back for ever nor flap.
		d.state.Err = err.Error()
		d.settle(now, 0)
		return
	}
	d.state.Err = ""
	var moved int64
	for id, n := range cur {
		if p, ok := d.prev[id]; ok && n >= p {
			moved += n - p
		}
	}
	var bps int64
	if !d.prevAt.IsZero() {
		if dt := now.Sub(d.prevAt); dt > 0 {
			bps = int64(float64(moved) / dt.Seconds())
		}
	}
	d.prev, d.prevAt = cur, now
	d.settle(now, bps)
}

// settle applies one rate sample; d.mu must be held.
func (d *Detector) settle(now time.Time, bps int64) {
	d.state.ReadRate = bps
	if bps >= d.opts.Threshold && d.opts.Threshold > 0 {
		d.state.LastActive = now
		if !d.state.Active {
			d.state.Active, d.state.Since = true, now
		}
		return
	}
	if d.state.Active && now.Sub(d.state.LastActive) >= d.opts.QuietAfter {
		d.state.Active, d.state.Since = false, now
	}
}
