package daemon

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/config"
	"genesissync/internal/eventlog"
	"genesissync/internal/objstore"
	"genesissync/internal/playout"
	"genesissync/internal/status"
	"genesissync/internal/transfer"
)

// playoutEvery is how often the bytes smbd sent its clients are sampled.
const playoutEvery = 500 * time.Millisecond

// playoutState is the daemon's playout-aware transfer machinery: nil
// parts when it is off.
type playoutState struct {
	gov      *playout.Governor
	detector *playout.Detector
	reason   string // why it is off
}

// newPlayout builds the governor the shares' transfers share, before the
// shares start; startPlayout starts its detector once Samba is up.
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

// startPlayout samples smbd's clients in g and switches the governor.
func (d *Daemon) startPlayout(ctx context.Context, g *errgroup.Group) error {
	p := d.playout
	if p.gov == nil {
		return nil
	}
	log := d.log.With().Str("component", "playout").Logger()
	// The system's smbd listens on Samba's default "smb ports"; a
	// standalone one on its configured port.
	ports := []int{445, 139}
	if d.cfg.Samba.Mode == config.SambaStandalone {
		ports = []int{d.cfg.Samba.Port}
	}
	read := func() (map[uint64]int64, error) { return playout.SentBytes(ports) }
	pc := d.cfg.Playout
	lim := p.gov.Limits()
	p.detector = playout.NewDetector(p.gov, playout.DetectorOptions{
		Read: read, Every: playoutEvery, Threshold: int64(pc.Threshold), QuietAfter: pc.QuietAfter,
		OnChange: func(active bool, bps int64) {
			if active {
				msg := fmt.Sprintf("SMB clients reading %s/s: transfers held to %s/s, %d at a time",
					status.HumanBytes(bps), status.HumanBytes(lim.Rate), lim.Transfers)
				log.Info().Int64("client_read_bytes_per_second", bps).Int64("rate_limit", lim.Rate).Int("transfers", lim.Transfers).Msg("playout detected: transfers yield")
				d.events.Add(eventlog.Event{Kind: "playout.active", Level: eventlog.Info, Message: msg})
				return
			}
			msg := fmt.Sprintf("SMB clients quiet for %s: transfers back to full speed", pc.QuietAfter)
			log.Info().Dur("quiet_after", pc.QuietAfter).Msg("playout over: transfers at full speed")
			d.events.Add(eventlog.Event{Kind: "playout.quiet", Level: eventlog.Info, Message: msg})
		},
	})
	g.Go(func() error { return p.detector.Run(ctx) })
	return nil
}

// playoutStatus is the status API's view of playout-aware transfers.
func (d *Daemon) playoutStatus() status.Playout {
	p := d.playout
	if p == nil || p.gov == nil {
		reason := "not started"
		if p != nil {
			reason = p.reason
		}
		return status.Playout{Reason: reason, Summary: "off: " + reason}
	}
	lim := p.gov.Limits()
	out := status.Playout{
		Aware:                   true,
		ThresholdBytesPerSecond: int64(d.cfg.Playout.Threshold),
		RateLimitBytesPerSecond: lim.Rate,
		Transfers:               lim.Transfers,
		Summary:                 "quiet: transfers at full speed",
	}
	if p.detector == nil {
		return out
	}
	st := p.detector.State()
	out.Active, out.ClientReadBytesPerSecond, out.Error = st.Active, st.ReadRate, st.Err
	if !st.Since.IsZero() {
		since := st.Since
		out.Since = &since
	}
	if st.Active {
		out.Summary = fmt.Sprintf("playout: transfers held to %s/s, %d at a time", status.HumanBytes(lim.Rate), lim.Transfers)
	}
	return out
}
