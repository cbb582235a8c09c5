package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/alert"
	"genesissync/internal/bucketevents"
	"genesissync/internal/config"
	"genesissync/internal/endpoints"
	"genesissync/internal/eventlog"
	"genesissync/internal/index"
	"genesissync/internal/jobs"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/onair"
	"genesissync/internal/peers"
	"genesissync/internal/playout"
	"genesissync/internal/reconcile"
	"genesissync/internal/samba"
	"genesissync/internal/sharehistory"
	"genesissync/internal/snapshot"
	"genesissync/internal/station"
	"genesissync/internal/status"
	"genesissync/internal/transfer"
)

// Daemon is the running appliance. Create it with New, run it with Run;
// Snapshot may be called concurrently while it runs.
type Daemon struct {
	cfg     *config.Config
	log     zerolog.Logger
	version string
	started time.Time

	// runtimes are the running shares with what serves them, in name
	// order; set before the status and admin servers start, read-only
	// afterwards. runtime finds one by name.
	runtimes []*shareRuntime
	// events are the notable events shown on the status page.
	events *eventlog.Log
	// The parts beside the pipelines, each guarded by its own lock. jobs
	// is set by New; Run sets the others (newPlayout, startSnapshots,
	// newBox) before anything reads them; they are nil before.
	snapshots *snapshot.Set
	pools     *snapshot.Pools
	playout   *playout.Pacing
	jobs      *jobs.Table
	endpoints *endpoints.Set
	clients   *samba.ClientsWatcher
	history   *sharehistory.Watcher
	onair     *onair.Runner
	// alerts is the alert engine, set by startAlerts before anything
	// reads it; alertNow asks it to evaluate at once (a trip's evidence
	// is in).
	alerts   *alert.Engine
	alertNow chan struct{}
	// partsReady is closed once the parts beside the pipelines are set:
	// a pipeline's tripwire may trip before that, and waits for it.
	partsReady chan struct{}

	// samba is SMB as the appliance runs it, built by New.
	samba sambaService
}

// sambaService is what the daemon needs of Samba: start it, supervise it,
// and read its state for the snapshot (*samba.Service).
type sambaService interface {
	Start(ctx context.Context) error
	Run(ctx context.Context) error
	Status() model.Samba
	Warnings() []model.Warning
}

// shareRuntime is one running share and the parts that serve it.
type shareRuntime struct {
	name  string
	cfg   *config.Share
	share *reconcile.Share
	store *objstore.S3
	index *index.Share
	// peers keeps this appliance's heartbeat on the share's prefix and
	// reads the others' (set by newBox).
	peers *peers.Prefix
}

// runtime is the running share name, or nil.
func (d *Daemon) runtime(name string) *shareRuntime {
	for _, rt := range d.runtimes {
		if rt.name == name {
			return rt
		}
	}
	return nil
}

// New checks what can be checked before anything starts.
func New(cfg *config.Config, log zerolog.Logger, version string) *Daemon {
	owner := func() (int, int, error) { return station.Owner(cfg) }
	return &Daemon{cfg: cfg, log: log, version: version, started: time.Now(), events: eventlog.New(0),
		jobs: jobs.New(), samba: samba.NewService(cfg, owner, log),
		alertNow: make(chan struct{}, 1), partsReady: make(chan struct{})}
}

// Run starts the appliance and blocks until ctx is cancelled or a part
// fails for good. Start order: index, Samba, shares' pipelines, bucket
// events endpoint, status server. Stop order is the reverse; everything it
// started is stopped before Run returns.
func (d *Daemon) Run(ctx context.Context) error {
	if err := os.MkdirAll(d.cfg.StateDir, 0o750); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	ix, err := station.OpenIndex(d.cfg)
	if err != nil {
		return err
	}
	defer ix.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	// abort stops what already started when a later part cannot start.
	abort := func(err error) error {
		cancel()
		return errors.Join(err, g.Wait())
	}

	// Samba first: it creates the service user that owns what the
	// pipelines download.
	d.playout = d.newPlayout()
	// The shares' transfers and stores are paced only when a governor
	// exists: a nil *Governor in an interface would not read as nil.
	var pacer transfer.Pacer
	var wire objstore.WirePacer
	if gov := d.playout.Governor(); gov != nil {
		pacer, wire = gov, gov
	}
	if err := d.samba.Start(ctx); err != nil {
		return abort(err)
	}
	g.Go(func() error { return d.samba.Run(ctx) }) // supervises a standalone smbd
	uid, gid, err := station.Owner(d.cfg)
	if err != nil {
		return abort(err)
	}

	run := station.Run{Index: ix, UID: uid, GID: gid, Pacer: pacer, Wire: wire, Started: d.started,
		OnTrip: d.onTrip, OnEvidence: func(string) { d.evaluateAlertsNow() }, OnSuspect: d.onSuspect}
	var targets []bucketevents.Target // where bucket events go
	for _, name := range d.cfg.ShareNames() {
		sc := d.cfg.Shares[name]
		p, err := station.OpenPipeline(ctx, d.cfg, name, run, d.log)
		if err != nil {
			return abort(err)
		}
		d.runtimes = append(d.runtimes, &shareRuntime{name: name, cfg: sc, share: p.Share, store: p.Store, index: ix.Share(name)})
		targets = append(targets, bucketevents.Target{
			Share: name, Bucket: sc.Target.Bucket, Prefix: sc.Target.Prefix, Notify: p.Share.Notify,
		})
		g.Go(func() error { return p.Share.Run(ctx) })
		g.Go(func() error { return p.Janitor.Run(ctx) })
	}

	if err := d.newBox(ix); err != nil {
		return abort(err)
	}
	for _, start := range []func(context.Context, *errgroup.Group) error{d.startSnapshots, d.startVerify, d.startAlerts, d.startBox} {
		if err := start(ctx, g); err != nil {
			return abort(err)
		}
	}
	close(d.partsReady)

	adminLn, err := d.listenAdmin()
	if err != nil {
		return abort(err)
	}
	g.Go(func() error { return d.serveAdmin(ctx, adminLn) })

	if d.cfg.Events.Listen != "" {
		if err := d.startEvents(ctx, g, targets); err != nil {
			return abort(err)
		}
	}

	if d.cfg.Status.Listen != "" {
		srv := status.New(d, d.log, d.statusOptions())
		ln, err := srv.Listen(d.cfg.Status.Listen)
		if err != nil {
			return abort(err)
		}
		d.log.Info().Str("component", "status").Str("url", "http://"+ln.Addr().String()+"/").Msg("status page listening")
		g.Go(func() error { return srv.Serve(ctx, ln) })
	}
	d.log.Info().Str("version", d.version).Int("shares", len(d.runtimes)).Msg("genesissync running")
	d.ready(ctx, g) // systemd: READY=1, watchdog pings, STOPPING=1 (no-ops outside systemd)
	return g.Wait()
}

// startEvents binds the bucket events endpoint and serves it in g. Events
// are routed to the shares by their target's bucket and prefix.
func (d *Daemon) startEvents(ctx context.Context, g *errgroup.Group, targets []bucketevents.Target) error {
	srv := bucketevents.New(d.cfg.Events.Token.Reveal(), targets, d.log)
	ln, err := srv.Listen(d.cfg.Events.Listen)
	if err != nil {
		return err
	}
	d.log.Info().Str("component", "bucketevents").Str("url", "http://"+ln.Addr().String()+"/").Msg("bucket events endpoint listening")
	g.Go(func() error { return srv.Serve(ctx, ln) })
	return nil
}

// Snapshot implements status.Source.
func (d *Daemon) Snapshot() model.Snapshot {
	snap := model.Snapshot{Version: d.version, StartedAt: d.started, Now: time.Now(), Samba: d.samba.Status(),
		Pools: d.pools.Status(), Events: d.events.Recent(100)}
	snap.Alerts = d.firingAlerts()
	snap.Warnings = append(d.warnings(), d.samba.Warnings()...)
	snap.Playout = d.playout.Status()
	for _, rt := range d.runtimes {
		snap.Shares = append(snap.Shares, model.Share{
			Status:    rt.share.Status(),
			Snapshots: d.snapshots.Status(rt.name),
			Verify:    d.verifyStatus(rt),
		})
	}
	d.fillBox(&snap) // endpoints, SMB clients, stale_after targets, recent errors, throughput
	return snap
}

var _ status.Source = (*Daemon)(nil)
