package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// The daemon speaks systemd's notify protocol (the unit is Type=notify
// with WatchdogSec=): READY=1 once every part has started, WATCHDOG=1 while
// the share pipelines are alive, STOPPING=1 when shutdown begins. Outside
// systemd (no NOTIFY_SOCKET, no WATCHDOG_USEC) every call is a no-op.

// ready tells systemd that the daemon is up and starts the watchdog in g,
// which owns it until ctx ends. Call it once, after every part started.
func (d *Daemon) ready(ctx context.Context, g *errgroup.Group) {
	sdNotify(d.log, fmt.Sprintf("%s\nSTATUS=running, %d shares", sd.SdNotifyReady, len(d.runtimes)))
	g.Go(func() error { return watchdog(ctx, d.log, d.stalledShares) })
}

// sdNotify sends one state to systemd and logs, never fails: the daemon
// works the same whether or not systemd listens.
func sdNotify(log zerolog.Logger, state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		log.Warn().Err(err).Str("state", state).Msg("systemd notify failed")
	}
}

// watchdog pings systemd every half watchdog interval while stalled reports
// nothing, so that a stuck share pipeline lets the ping lapse and systemd
// restarts the daemon. When ctx ends it sends STOPPING=1 and returns nil.
// Without a watchdog (WATCHDOG_USEC unset, or meant for another process) it
// only waits for ctx. stalled names the pipelines without progress within
// the interval it is given; it is called from this goroutine only.
func watchdog(ctx context.Context, log zerolog.Logger, stalled func(within time.Duration) []string) error {
	log = log.With().Str("component", "systemd").Logger()
	defer sdNotify(log, sd.SdNotifyStopping)
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn().Err(err).Msg("systemd watchdog setting unreadable; not pinging")
	}
	if interval <= 0 {
		<-ctx.Done()
		return nil
	}
	log.Info().Dur("interval", interval).Msg("systemd watchdog on")
	tick := time.NewTicker(interval / 2)
	defer tick.Stop()
	wasStalled := false
	for {
		// A pipeline is stuck when its loop has not gone round for a whole
		// interval: the last ping then lapses within 1.5 to 2 intervals of
		// the stall, and systemd restarts the daemon (Restart=on-failure).
		if s := stalled(interval); len(s) > 0 {
			if !wasStalled {
				log.Error().Strs("shares", s).Dur("within", interval).Msg("share pipeline stuck; no more watchdog pings, systemd will restart the daemon")
				sdNotify(log, fmt.Sprintf("STATUS=share pipeline stuck: %s", strings.Join(s, ", ")))
			}
			wasStalled = true
		} else {
			if wasStalled {
				log.Warn().Msg("share pipelines moving again; watchdog pings resumed")
				sdNotify(log, "STATUS=running, share pipelines moving again")
			}
			wasStalled = false
			sdNotify(log, sd.SdNotifyWatchdog)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// stalledShares names the share pipelines that are not Alive within the
// given time. d.runtimes is complete before watchdog starts.
func (d *Daemon) stalledShares(within time.Duration) []string {
	var names []string
	for _, rt := range d.runtimes {
		if !rt.share.Alive(within) {
			names = append(names, rt.name)
		}
	}
	return names
}
