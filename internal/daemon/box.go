package daemon

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/config"
	"genesissync/internal/endpoints"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/onair"
	"genesissync/internal/peers"
	"genesissync/internal/reconcile"
	"genesissync/internal/samba"
	"genesissync/internal/sharehistory"
	"genesissync/internal/station"
)

// newBox builds the watchers beside the pipelines from the running
// shares: the targets' endpoint health, the SMB clients (when Samba is
// managed), each share's history (its charts kept in the index across
// restarts), the on-air readiness checks and the heartbeats on each
// share's prefix. Run calls it before anything
// that reads the status starts.
func (d *Daemon) newBox(ix sharehistory.Store) error {
	log := d.log.With().Str("component", "box").Logger()
	var stores []endpoints.Share
	var shares []sharehistory.Share
	var onAir []onair.Share
	for _, rt := range d.runtimes {
		stores = append(stores, endpointsShare(rt.name, rt.store, rt.cfg.Target))
		shares = append(shares, sharehistory.Share{Name: rt.name, Status: rt.share.Status})
		checker, err := station.ReadinessChecker(rt.name, rt.cfg)
		if err != nil {
			return err
		}
		onAir = append(onAir, onair.Share{Name: rt.name, Root: rt.cfg.Path, Checker: checker, Interval: rt.cfg.Readiness.Interval,
			Index: rt.index, Remote: rt.store, Status: rt.share.Status, Fetch: rt.share.Fetch})
		rt.peers = peers.New(rt.store, peers.Options{
			Name: d.cfg.Appliance.Name, Version: d.version, Shares: []string{rt.name},
			Every: d.cfg.Appliance.HeartbeatInterval, StaleAfter: d.cfg.Appliance.StaleAfter,
			LastWrote: lastWrote(rt.share), Log: log.With().Str("share", rt.name).Logger(),
		})
	}
	d.endpoints = endpoints.New(stores, endpoints.Options{}, log, d.events)
	if d.cfg.Samba.Mode != config.SambaOff {
		d.clients = samba.NewClientsWatcher(d.cfg, log)
	}
	d.history = sharehistory.New(shares)
	d.history.Persist(ix, log)
	d.onair = onair.New(onAir, d.log)
	return nil
}

// startBox runs the box's watchers and the playout detector in g.
func (d *Daemon) startBox(ctx context.Context, g *errgroup.Group) error {
	g.Go(func() error { return d.endpoints.Run(ctx) })
	for _, rt := range d.runtimes {
		g.Go(func() error { return rt.peers.Run(ctx) })
	}
	if d.clients != nil {
		g.Go(func() error { return d.clients.Run(ctx) })
	}
	g.Go(func() error { return d.history.Run(ctx) })
	g.Go(func() error { return d.onair.Run(ctx) })
	g.Go(func() error { return d.playout.Run(ctx) })
	return nil
}

// fillBox adds what the box knows to snap: endpoints, SMB clients, and
// per share the recovery point target, recent errors and throughput.
func (d *Daemon) fillBox(snap *model.Snapshot) {
	snap.Endpoints = d.endpoints.Status()
	snap.Clients = d.clients.Status()
	for i := range snap.Shares {
		sh := &snap.Shares[i]
		if sc := d.cfg.Shares[sh.Name]; sc != nil {
			sh.StaleAfterSeconds = sc.StaleAfter.Seconds()
		}
		d.history.Fill(sh)
		d.onair.Fill(sh)
		if rt := d.runtime(sh.Name); rt != nil && rt.peers != nil {
			p := rt.peers.Status()
			sh.Peers = &p
		}
	}
}

// endpointsShare is what the endpoints' prober needs of a share's store:
// with several endpoints, each one's store and their health.
func endpointsShare(name string, store *objstore.S3, t config.Target) endpoints.Share {
	sh := endpoints.Share{Name: name, Store: store, ProbeEvery: t.ProbeInterval, Timeout: t.EndpointTimeout}
	if eps := store.Endpoints(); len(eps) > 1 {
		for _, e := range eps {
			sh.Endpoints = append(sh.Endpoints, e)
		}
		sh.Health = store.Health
	}
	return sh
}

// lastWrote is what a share's heartbeat says it wrote last: its last
// upload.
func lastWrote(share *reconcile.Share) func() (string, time.Time) {
	return func() (string, time.Time) {
		if u := share.Status().LastUpload; u != nil {
			return u.Path, u.At
		}
		return "", time.Time{}
	}
}
