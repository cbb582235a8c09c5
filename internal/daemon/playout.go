package daemon

import (
	"genesissync/internal/config"
	"genesissync/internal/playout"
	"genesissync/internal/samba"
)

// newPlayout builds the playout-aware pacing that every share's
// transfers share, from the config, before anything that reads the
// status starts; Run starts its detector once Samba is up.
func (d *Daemon) newPlayout() *playout.Pacing {
	pc := d.cfg.Playout
	switch {
	case !pc.IsAware():
		return playout.Off("turned off (playout.aware: false)")
	case d.cfg.Samba.Mode == config.SambaOff:
		return playout.Off("Samba is not managed (samba.mode: off): no SMB clients to watch")
	}
	// The system's smbd listens on Samba's default "smb ports"; a
	// standalone one on its configured port.
	ports := samba.SystemPorts
	if d.cfg.Samba.Mode == config.SambaStandalone {
		ports = []int{d.cfg.Samba.Port}
	}
	return playout.New(playout.Options{
		Ports:     ports,
		Limits:    playout.Limits{Rate: int64(pc.Rate), Transfers: pc.Transfers},
		Threshold: int64(pc.Threshold), QuietAfter: pc.QuietAfter,
		Log:    d.log.With().Str("component", "playout").Logger(),
		Events: d.events,
	})
}
