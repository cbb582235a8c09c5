package daemon

import (
	"context"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/alert"
	"genesissync/internal/config"
	"genesissync/internal/eventlog"
	"genesissync/internal/model"
)

// testAlertTimeout bounds a test alert: the admin client waits 30s.
const testAlertTimeout = 20 * time.Second

// startAlerts starts the alert rules over the daemon's snapshots in g:
// every alerts.interval the rules are evaluated over d.Snapshot() and the
// engine told; delivery runs beside it. A channel that fails never stops
// the daemon. Fails only when a channel's secret cannot be read.
func (d *Daemon) startAlerts(ctx context.Context, g *errgroup.Group) error {
	ac := d.cfg.Alerts
	senders, err := alertSenders(ac, d.version)
	if err != nil {
		return err
	}
	engine := alert.NewEngine(alert.Options{
		Senders:   senders,
		For:       ac.For,
		Repeat:    ac.Repeat,
		Appliance: ac.Name,
		Version:   d.version,
		Events:    d.events,
		Log:       d.log,
	})
	d.alerts = engine
	targets := alertTargets(d.cfg)
	log := d.log.With().Str("component", "alert").Logger()
	names := make([]string, len(senders))
	for i, s := range senders {
		names[i] = s.Name()
	}
	log.Info().Strs("channels", names).Dur("interval", ac.Interval).Dur("for", ac.For).Dur("repeat", ac.Repeat).Msg("alert rules running")

	g.Go(func() error { return engine.Run(ctx) })
	g.Go(func() error {
		t := time.NewTicker(ac.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				engine.Observe(alert.Evaluate(d.Snapshot(), targets, time.Now()))
			case <-d.alertNow:
				engine.Observe(alert.Evaluate(d.Snapshot(), targets, time.Now()))
			}
		}
	})
	return nil
}

// evaluateAlertsNow asks the alert loop for an evaluation at once. Safe
// for concurrent use; never blocks.
func (d *Daemon) evaluateAlertsNow() {
	select {
	case d.alertNow <- struct{}{}:
	default: // one is asked for already
	}
}

// alertTargets is what the rules need from the config beside the snapshot
// (each share's stale_after the snapshot carries; see fillBox).
func alertTargets(cfg *config.Config) alert.Targets {
	return alert.Targets{
		FailureStreak:    cfg.Alerts.FailureStreak,
		CapacityWarning:  cfg.Alerts.CapacityWarning,
		CapacityCritical: cfg.Alerts.CapacityCritical,
	}
}

// alertSenders builds the configured channels, reading the bot token file.
func alertSenders(ac config.Alerts, version string) ([]alert.Sender, error) {
	var out []alert.Sender
	if ac.Telegram.Enabled() {
		tok, err := ac.Telegram.ResolveToken()
		if err != nil {
			return nil, err
		}
		out = append(out, alert.NewTelegram(ac.Telegram.APIURL, tok.Reveal(), ac.Telegram.ChatID))
	}
	for _, w := range ac.Webhooks {
		out = append(out, alert.NewWebhook(w.URL.Reveal(), w.Token.Reveal(), version))
	}
	return out, nil
}

// testAlert sends a test notice to every configured alert channel and
// waits for each answer; the error names each channel that failed.
func (d *Daemon) testAlert(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, testAlertTimeout)
	defer cancel()
	senders, err := alertSenders(d.cfg.Alerts, d.version)
	if err != nil {
		return err
	}
	err = alert.SendTest(ctx, senders, d.cfg.Alerts.Name, d.version, time.Now())
	ev := eventlog.Event{Level: eventlog.Info, Kind: "alert.test", Message: "test alert sent to every channel"}
	if err != nil {
		ev.Level, ev.Message = eventlog.Warning, "test alert failed: "+err.Error()
	}
	d.events.Add(ev)
	return err
}

// firingAlerts is what the engine has notified and still sees, most severe
// first, for the status page.
func (d *Daemon) firingAlerts() []model.Alert {
	if d.alerts == nil {
		return nil
	}
	firing := d.alerts.Firing()
	sort.Slice(firing, func(i, j int) bool {
		if firing[i].Severity != firing[j].Severity {
			return firing[i].Severity == alert.Critical
		}
		return firing[i].Key < firing[j].Key
	})
	out := make([]model.Alert, 0, len(firing))
	for _, p := range firing {
		out = append(out, model.Alert{Rule: p.Rule, Severity: string(p.Severity), Share: p.Share, Path: p.Path, Message: p.Message})
	}
	return out
}
