package playout

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/eventlog"
	"genesissync/internal/model"
)

// Options configure the appliance's playout-aware transfers (New).
type Options struct {
	// Ports are smbd's TCP ports: bytes sent from them are client reads.
	Ports []int
	// Read samples smbd's client connections; nil means SentBytes(Ports).
	Read Counters
	// Limits are what transfers may do while playout is active.
	Limits Limits
	// Threshold and QuietAfter are as in DetectorOptions.
	Threshold  int64
	QuietAfter time.Duration
	// Every is the sampling period; 0 means the Detector's default.
	Every time.Duration
	// Log and Events receive each switch between quiet and active.
	Log    zerolog.Logger
	Events *eventlog.Log
}

// Pacing is the appliance's playout-aware transfers: the one Governor all
// shares' transfers wait on and its Detector, or why they are off. Built
// before the transfers and not changed after, so any goroutine may call
// its methods. A nil *Pacing is off.
type Pacing struct {
	gov       *Governor
	detector  *Detector
	threshold int64
	reason    string // why it is off
}

// Off returns pacing that never holds transfers back, for reason.
func Off(reason string) *Pacing { return &Pacing{reason: reason} }

// New returns pacing that, once Run, holds transfers to o.Limits while
// SMB clients read at least o.Threshold per second; each switch is
// logged and added to o.Events.
func New(o Options) *Pacing {
	gov := NewGovernor(o.Limits)
	read := o.Read
	if read == nil {
		read = func() (map[uint64]int64, error) { return SentBytes(o.Ports) }
	}
	lim := gov.Limits()
	log := o.Log
	det := NewDetector(gov, DetectorOptions{
		Read: read, Every: o.Every, Threshold: o.Threshold, QuietAfter: o.QuietAfter,
		OnChange: func(active bool, bps int64) {
			if active {
				msg := fmt.Sprintf("SMB clients reading %s/s: transfers held to %s/s, %d at a time",
					model.HumanBytes(bps), model.HumanBytes(lim.Rate), lim.Transfers)
				log.Info().Int64("client_read_bytes_per_second", bps).Int64("rate_limit", lim.Rate).Int("transfers", lim.Transfers).Msg("playout detected: transfers yield")
				o.Events.Add(eventlog.Event{Kind: "playout.active", Level: eventlog.Info, Message: msg})
				return
			}
			msg := fmt.Sprintf("SMB clients quiet for %s: transfers back to full speed", o.QuietAfter)
			log.Info().Dur("quiet_after", o.QuietAfter).Msg("playout over: transfers at full speed")
			o.Events.Add(eventlog.Event{Kind: "playout.quiet", Level: eventlog.Info, Message: msg})
		},
	})
	return &Pacing{gov: gov, detector: det, threshold: o.Threshold}
}

// Governor is what transfers wait on; nil when pacing is off.
func (p *Pacing) Governor() *Governor {
	if p == nil {
		return nil
	}
	return p.gov
}

// Run runs the detector until ctx ends; when pacing is off it returns
// at once. It always returns nil.
func (p *Pacing) Run(ctx context.Context) error {
	if p == nil || p.detector == nil {
		return nil
	}
	return p.detector.Run(ctx)
}

// Status is the state of playout-aware transfers as people see it.
func (p *Pacing) Status() model.Playout {
	if p == nil || p.gov == nil {
		reason := "not started"
		if p != nil {
			reason = p.reason
		}
		return model.Playout{Reason: reason, Summary: "off: " + reason}
	}
	lim := p.gov.Limits()
	out := model.Playout{
		Aware:                   true,
		ThresholdBytesPerSecond: p.threshold,
		RateLimitBytesPerSecond: lim.Rate,
		Transfers:               lim.Transfers,
		Summary:                 "quiet: transfers at full speed",
	}
	st := p.detector.State()
	out.Active, out.ClientReadBytesPerSecond, out.Error = st.Active, st.ReadRate, st.Err
	if !st.Since.IsZero() {
		since := st.Since
		out.Since = &since
	}
	if st.Active {
		out.Summary = fmt.Sprintf("playout: transfers held to %s/s, %d at a time", model.HumanBytes(lim.Rate), lim.Transfers)
	}
	return out
}
