package daemon

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/config"
	"genesissync/internal/eventlog"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/playout"
	"genesissync/internal/transfer"
)

// playoutEvery is how often the bytes smbd sent its clients are sampled.
const playoutEvery = 500 * time.Millisecond

// playoutState is the daemon's playout-aware transfer machinery: nil
// parts when it is off. Built before the daemon's goroutines start and
// not changed after, so any goroutine may read it.
type playoutState struct {
	gov      *playout.Governor
	detector *playout.Detector
	reason   string // why it is off
}

// newPlayout builds the governor the shares' transfers share and its
// detector, before anything that reads the status starts;
// startPlayout runs the detector once Samba is up.
func (d *Daemon) newPlayout() *playoutState {
	p := &playoutState{}
	pc := d.cfg.Playout
	switch {
	case !pc.IsAware():
		p.reason = "turned off (playout.aware: false)"
	case d.cfg.Samba.Mode == config.SambaOff:
		p.reason = "Samba is not managed (samba.mode: off): no SMB clients to watch"
	default:
		p.gov = playout.NewGovernor(playout.Limits{Rate: int64(pc.Rate), Transfers: pc.Transfers})
		p.detector = d.newDetector(p.gov)
	}
	return p
}

// pacer is what the shares' uploaders and downloaders wait for: nil
// (no pacing) when playout-aware transfers are off.
func (p *playoutState) pacer() transfer.Pacer {
	if p.gov == nil {
		return nil
	}
	return p.gov
}

// wire paces the bytes the shares' stores send and receive: nil (no
// pacing) when playout-aware transfers are off.
func (p *playoutState) wire() objstore.WirePacer {
	if p.gov == nil {
		return nil
	}
	return p.gov
}

// newDetector watches the bytes smbd sends its clients and switches gov,
// logging each switch and adding it to the event log.
func (d *Daemon) newDetector(gov *playout.Governor) *playout.Detector {
	log := d.log.With().Str("component", "playout").Logger()
	// The system's smbd listens on Samba's default "smb ports"; a
	// standalone one on its configured port.
	ports := []int{445, 139}
	if d.cfg.Samba.Mode == config.SambaStandalone {
		ports = []int{d.cfg.Samba.Port}
	}
	pc := d.cfg.Playout
	lim := gov.Limits()
	return playout.NewDetector(gov, playout.DetectorOptions{
		Read:  func() (map[uint64]int64, error) { return playout.SentBytes(ports) },
		Every: playoutEvery, Threshold: int64(pc.Threshold), QuietAfter: pc.QuietAfter,
		OnChange: func(active bool, bps int64) {
			if active {
				msg := fmt.Sprintf("SMB clients reading %s/s: transfers held to %s/s, %d at a time",
					model.HumanBytes(bps), model.HumanBytes(lim.Rate), lim.Transfers)
				log.Info().Int64("client_read_bytes_per_second", bps).Int64("rate_limit", lim.Rate).Int("transfers", lim.Transfers).Msg("playout detected: transfers yield")
				d.events.Add(eventlog.Event{Kind: "playout.active", Level: eventlog.Info, Message: msg})
				return
			}
			msg := fmt.Sprintf("SMB clients quiet for %s: transfers back to full speed", pc.QuietAfter)
			log.Info().Dur("quiet_after", pc.QuietAfter).Msg("playout over: transfers at full speed")
			d.events.Add(eventlog.Event{Kind: "playout.quiet", Level: eventlog.Info, Message: msg})
		},
	})
}

// startPlayout runs the detector in g.
func (d *Daemon) startPlayout(ctx context.Context, g *errgroup.Group) error {
	if det := d.playout.detector; det != nil {
		g.Go(func() error { return det.Run(ctx) })
	}
	return nil
}

// playoutStatus is the status API's view of playout-aware transfers.
func (d *Daemon) playoutStatus() model.Playout {
	p := d.playout
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
		ThresholdBytesPerSecond: int64(d.cfg.Playout.Threshold),
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
