package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/alert"
	"genesissync/internal/bucketevents"
	"genesissync/internal/config"
	"genesissync/internal/eventlog"
	"genesissync/internal/index"
	"genesissync/internal/jobs"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/reconcile"
	"genesissync/internal/samba"
	"genesissync/internal/scan"
	"genesissync/internal/status"
	"genesissync/internal/transfer"
	"genesissync/internal/zfs"
)

// Daemon is the running appliance. Create it with New, run it with Run;
// Snapshot may be called concurrently while it runs.
type Daemon struct {
	cfg     *config.Config
	log     zerolog.Logger
	version string
	started time.Time

	shares []*reconcile.Share
	// runtimes are the running shares with what serves them, in the
	// order of shares; set before the status and admin servers start,
	// read-only afterwards.
	runtimes []*shareRuntime
	// events are the notable events shown on the status page.
	events *eventlog.Log
	// State of the parts beside the pipelines, each guarded by its own
	// lock: snapshots and pools (snapshots.go), box probes (box.go),
	// verify and restore jobs (verify.go).
	zfsState *zfsState
	boxState *box
	playout  *playoutState
	jobs     *jobs.Table
	// alerts is the alert engine, set by startAlerts before anything
	// reads it.
	alerts *alert.Engine

	mu    sync.Mutex
	samba model.Samba
	// sambaWarnings are found when the smb.conf is rendered (VFS modules
	// smbd cannot load).
	sambaWarnings []model.Warning
}

// shareRuntime is one running share and the parts that serve it.
type shareRuntime struct {
	name  string
	cfg   *config.Share
	share *reconcile.Share
	store *objstore.S3
	index *index.Share
}

// New checks what can be checked before anything starts.
func New(cfg *config.Config, log zerolog.Logger, version string) *Daemon {
	return &Daemon{cfg: cfg, log: log, version: version, started: time.Now(), events: eventlog.New(0),
		zfsState: newZFSState(), boxState: newBox(), jobs: jobs.New()}
}

// Run starts the appliance and blocks until ctx is cancelled or a part
// fails for good. Start order: index, Samba, shares' pipelines, bucket
// events endpoint, status server. Stop order is the reverse; everything it
// started is stopped before Run returns.
func (d *Daemon) Run(ctx context.Context) error {
	if err := os.MkdirAll(d.cfg.StateDir, 0o750); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	ix, err := index.Open(filepath.Join(d.cfg.StateDir, "index.db"))
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
	if err := d.startSamba(ctx, g); err != nil {
		return abort(err)
	}
	uid, gid, err := d.owner()
	if err != nil {
		return abort(err)
	}

	var targets []bucketevents.Target // where bucket events go
	for _, name := range d.cfg.ShareNames() {
		sc := d.cfg.Shares[name]
		opts := S3Options(sc.Target)
		opts.Wire = d.playout.wire()
		store, err := objstore.NewS3(ctx, opts, d.log)
		if err != nil {
			return abort(fmt.Errorf("share %s: %w", name, err))
		}
		trash := transfer.NewTrash(sc.Path, store)
		ro := pipelineOptions(name, sc, store, ix.Share(name), uid, gid, d.log)
		ro.Uploader = transfer.NewUploader(sc.Path, store, int64(sc.BandwidthLimit)).WithPacer(d.playout.pacer())
		ro.Downloader = transfer.NewDownloader(sc.Path, store, uid, gid).WithPacer(d.playout.pacer())
		ro.Watch = true
		ro.OpenFiles = d.openFiles(name, sc.Path)
		ro.Trash = trash
		share := reconcile.New(ro)
		d.shares = append(d.shares, share)
		d.runtimes = append(d.runtimes, &shareRuntime{name: name, cfg: sc, share: share, store: store, index: ix.Share(name)})
		targets = append(targets, bucketevents.Target{
			Share: name, Bucket: sc.Target.Bucket, Prefix: sc.Target.Prefix, Notify: share.Notify,
		})
		g.Go(func() error { return share.Run(ctx) })
		j := janitor{share: name, store: store, trash: trash, retention: sc.TrashRetention, started: d.started}
		g.Go(func() error { return j.run(ctx, d.log) })
	}

	// Beside the pipelines: snapshot schedules and pool health,
	// scheduled verifies, alerts.
	for _, start := range []func(context.Context, *errgroup.Group) error{d.startSnapshots, d.startVerify, d.startAlerts, d.startBox, d.startPlayout} {
		if err := start(ctx, g); err != nil {
			return abort(err)
		}
	}

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
	d.log.Info().Str("version", d.version).Int("shares", len(d.shares)).Msg("genesissync running")
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

// owner is the uid and gid that files the appliance writes on a share
// get: the Samba service user's, or -1 (unchanged) without Samba.
func (d *Daemon) owner() (int, int, error) {
	if d.cfg.Samba.Mode == config.SambaOff {
		return -1, -1, nil
	}
	u, err := user.Lookup(d.cfg.Samba.ServiceUser)
	if err != nil {
		return 0, 0, fmt.Errorf("service user %s: %w", d.cfg.Samba.ServiceUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// S3Options maps a share target of the config to the object store's
// options.
func S3Options(t config.Target) objstore.S3Options {
	return objstore.S3Options{
		Endpoint:        t.Endpoint,
		Region:          t.Region,
		Bucket:          t.Bucket,
		Prefix:          t.Prefix,
		PathStyle:       t.PathStyle,
		AccessKeyID:     t.AccessKeyID,
		SecretAccessKey: t.SecretAccessKey.Reveal(),
		CredentialsFile: t.CredentialsFile,
		Profile:         t.Profile,
		ResponseTimeout: t.ResponseTimeout,
		SignPayload:     t.SignPayload,
	}
}

// pipelineOptions are a share's pipeline options from its config, with
// its store and index: the one assembly of them, for the daemon (which
// adds pacing, the watcher, open files and the trash) and for the dry run
// of a first pass (Survey), which must decide exactly as the daemon will.
func pipelineOptions(name string, sc *config.Share, store *objstore.S3, ix *index.Share, uid, gid int, log zerolog.Logger) reconcile.Options {
	o := reconcile.Options{
		Name:             name,
		Root:             sc.Path,
		Matcher:          scan.NewMatcher(config.DefaultExcludes, sc.Exclude),
		Settle:           sc.Settle,
		ScanInterval:     sc.ScanInterval,
		Uploaders:        sc.Uploaders,
		Index:            ix,
		Downloader:       transfer.NewDownloader(sc.Path, store, uid, gid),
		Remote:           store,
		Policy:           reconcile.Policy(sc.Delete),
		RemoteInterval:   sc.RemoteInterval,
		Log:              log,
		RootCheck:        datasetCheck(sc.Path, sc.Dataset),
		MaxDeletes:       sc.DeleteGuard.MaxFiles,
		MaxDeletePercent: sc.DeleteGuard.MaxPercent,
	}
	if sc.Adopt.Backfill() {
		o.Backfill = store
	}
	return o
}

// Survey is the dry run of a full pass over share and its bucket prefix
// (reconcile.Share.Survey) while the daemon is stopped: `genesissync
// adopt --dry-run`. It opens the index (failing while the daemon holds
// it) and the share's store as the daemon would, and changes nothing.
func Survey(ctx context.Context, cfg *config.Config, share string, log zerolog.Logger) (reconcile.Survey, error) {
	sc, ok := cfg.Shares[share]
	if !ok {
		return reconcile.Survey{}, fmt.Errorf("no share %q in the configuration", share)
	}
	ix, err := index.Open(filepath.Join(cfg.StateDir, "index.db"))
	if err != nil {
		return reconcile.Survey{}, fmt.Errorf("%w; a running daemon has made its first pass already: see its status page", err)
	}
	defer ix.Close()
	store, err := objstore.NewS3(ctx, S3Options(sc.Target), log)
	if err != nil {
		return reconcile.Survey{}, fmt.Errorf("share %s: %w", share, err)
	}
	return reconcile.New(pipelineOptions(share, sc, store, ix.Share(share), -1, -1, log)).Survey(ctx)
}

// checkVFSModules warns, on the status page, in /healthz and in the log,
// of every VFS module the rendered conf names that smbd cannot load: smbd
// would refuse the shares that name it. The shares are served anyway
// (the others work, and installing the module fixes them without a
// restart of the daemon).
func (d *Daemon) checkVFSModules(ctx context.Context, conf []byte, log zerolog.Logger) {
	missing, err := samba.CheckVFSModules(ctx, conf)
	var ws []model.Warning
	if err != nil {
		log.Warn().Err(err).Msg("could not check smbd's VFS modules")
		ws = append(ws, model.Warning{ID: "samba-vfs-modules-unchecked", Message: err.Error()})
	}
	for _, m := range missing {
		log.Error().Str("module", m.Module).Strs("shares", m.Shares).Str("dir", m.Dir).Msg(m.String())
		ws = append(ws, model.Warning{ID: "samba-vfs-module-missing-" + m.Module, Message: m.String()})
	}
	d.mu.Lock()
	d.sambaWarnings = ws
	d.mu.Unlock()
}

// startSamba brings SMB up according to the mode and, in standalone mode,
// supervises smbd in g: it is restarted with backoff if it dies.
func (d *Daemon) startSamba(ctx context.Context, g *errgroup.Group) error {
	mode := d.cfg.Samba.Mode
	d.setSamba(model.Samba{Mode: mode})
	if mode == config.SambaOff {
		return nil
	}
	defs, global, err := samba.Defs(d.cfg)
	if err != nil {
		return err
	}
	users := map[string]string{}
	for _, name := range d.cfg.UserNames() {
		p, err := d.cfg.Users[name].ResolvePassword()
		if err != nil {
			return fmt.Errorf("users.%s: %w", name, err)
		}
		users[name] = p.Reveal()
	}
	log := d.log.With().Str("component", "samba").Logger()

	if mode == config.SambaAppliance {
		data, err := samba.RenderInclude(defs)
		if err != nil {
			return err
		}
		d.checkVFSModules(ctx, data, log)
		if err := samba.WriteInclude(d.cfg.Samba.IncludeFile, data); err != nil {
			return err
		}
		if err := samba.SyncUsers(ctx, global.ServiceUser, users, ""); err != nil {
			return err
		}
		if err := d.ownShareRoots(); err != nil {
			return err
		}
		if err := samba.ReloadSystem(ctx); err != nil {
			return err
		}
		d.setSamba(model.Samba{Mode: mode, Up: true})
		return nil
	}

	data, err := samba.Render(global, defs)
	if err != nil {
		return err
	}
	d.checkVFSModules(ctx, data, log)
	if err := samba.MakeRunDirs(global); err != nil {
		return err
	}
	conf := global.ConfigPath()
	if err := samba.WriteInclude(conf, data); err != nil {
		return fmt.Errorf("write smb.conf: %w", err)
	}
	if err := samba.Testparm(ctx, conf); err != nil {
		return err
	}
	if err := samba.SyncUsers(ctx, global.ServiceUser, users, conf); err != nil {
		return err
	}
	if err := d.ownShareRoots(); err != nil {
		return err
	}
	addr := net.JoinHostPort(global.Listen, strconv.Itoa(global.Port))
	smbd, err := samba.StartSmbd(ctx, conf, global, d.log)
	if err != nil {
		return err
	}
	d.setSamba(model.Samba{Mode: mode, Addr: addr, Up: true})
	g.Go(func() error { return d.superviseSmbd(ctx, smbd, conf, global, addr, log) })
	return nil
}

func (d *Daemon) superviseSmbd(ctx context.Context, smbd *samba.Smbd, conf string, global samba.Global, addr string, log zerolog.Logger) error {
	restarts := 0
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := smbd.Stop(sctx)
			d.setSamba(model.Samba{Mode: config.SambaStandalone, Addr: addr})
			return err
		case <-smbd.Done():
		}
		restarts++
		wait := min(time.Second<<min(restarts, 6), time.Minute)
		log.Error().Err(smbd.Err()).Dur("restart_in", wait).Msg("smbd exited; restarting")
		d.setSamba(model.Samba{Mode: config.SambaStandalone, Addr: addr, Error: fmt.Sprint(smbd.Err())})
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		next, err := samba.StartSmbd(ctx, conf, global, d.log)
		if err != nil {
			log.Error().Err(err).Msg("smbd restart failed")
			d.setSamba(model.Samba{Mode: config.SambaStandalone, Addr: addr, Error: err.Error()})
			continue
		}
		smbd = next
		d.setSamba(model.Samba{Mode: config.SambaStandalone, Addr: addr, Up: true})
	}
}

// openFiles returns the share's view of files SMB clients hold open, or
// nil when Samba is not managed here.
func (d *Daemon) openFiles(share, root string) reconcile.OpenFiles {
	conf := ""
	switch d.cfg.Samba.Mode {
	case config.SambaOff:
		return nil
	case config.SambaStandalone:
		conf = samba.Global{RunDir: d.cfg.Samba.RunDir}.ConfigPath()
	}
	log := d.log.With().Str("share", share).Logger()
	return &reconcile.OpenFileCache{
		List: func(ctx context.Context) (map[string]bool, error) {
			files, err := samba.OpenFiles(ctx, conf)
			if err != nil {
				return nil, err
			}
			open := map[string]bool{}
			for _, f := range files {
				if f.SharePath == root {
					open[f.Path] = open[f.Path] || f.Write
				}
			}
			return open, nil
		},
		OnError: func(err error) {
			log.Warn().Err(err).Msg("cannot list files open over SMB; relying on the settle window alone")
		},
	}
}

func (d *Daemon) setSamba(s model.Samba) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.samba = s
}

// Snapshot implements status.Source.
func (d *Daemon) Snapshot() model.Snapshot {
	d.mu.Lock()
	sm, sambaWarnings := d.samba, d.sambaWarnings
	d.mu.Unlock()
	snap := model.Snapshot{Version: d.version, StartedAt: d.started, Now: time.Now(), Samba: sm,
		Pools: d.pools(), Events: d.events.Recent(100)}
	snap.Alerts = d.firingAlerts()
	snap.Warnings = append(d.warnings(), sambaWarnings...)
	snap.Playout = d.playoutStatus()
	for _, rt := range d.runtimes {
		snap.Shares = append(snap.Shares, model.Share{
			Status:    rt.share.Status(),
			Snapshots: d.snapshotStatus(rt),
			Verify:    d.verifyStatus(rt),
		})
	}
	d.fillBox(&snap) // endpoints, SMB clients, stale_after targets, recent errors, throughput
	return snap
}

var _ status.Source = (*Daemon)(nil)

func (d *Daemon) ownShareRoots() error {
	uid, gid, err := d.owner()
	if err != nil {
		return err
	}
	return ownShareRoots(d.cfg, uid, gid)
}

// ownShareRoots gives each existing share root to the service user, which
// Samba forces every client's file access to: without write access to the
// root, studios could not save. Only the root directory is changed; a
// missing root is left alone (creating it could hide an unmounted
// dataset) and reported by the share's scan.
func ownShareRoots(cfg *config.Config, uid, gid int) error {
	for _, name := range cfg.ShareNames() {
		p := cfg.Shares[name].Path
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != uid || int(st.Gid) != gid) {
			if err := os.Chown(p, uid, gid); err != nil {
				return fmt.Errorf("share %s: give %s to uid %d: %w", name, p, uid, err)
			}
		}
	}
	return nil
}

// Janitor timing: at start every open multipart upload under the share's
// prefix that was initiated before this process started is a leftover of a
// crash; later only those older than janitorGrace are, since newer ones
// may be ours and running.
const (
	janitorEvery = 30 * time.Minute
	janitorGrace = time.Hour
)

// janitor cleans up after crashes and deletes: it aborts multipart
// uploads that a crash left open (the bucket holds no invisible partial
// data) and removes trash older than the retention. Failures are logged
// and retried at the next round; they never stop the share.
type janitor struct {
	share     string
	store     *objstore.S3
	trash     *transfer.Trash
	retention time.Duration
	started   time.Time
}

func (j janitor) run(ctx context.Context, base zerolog.Logger) error {
	log := base.With().Str("share", j.share).Str("component", "janitor").Logger()
	// First round: whatever was initiated before this process started.
	grace := time.Since(j.started)
	for {
		n, err := j.store.AbortStale(ctx, grace)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn().Err(err).Msg("cleaning up stale multipart uploads failed; will retry")
		case n > 0:
			log.Info().Int("aborted", n).Dur("older_than", grace).Msg("aborted stale multipart uploads")
		}
		folders, objects, err := j.trash.Expire(ctx, j.retention)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn().Err(err).Msg("expiring trash failed; will retry")
		case folders+objects > 0:
			log.Info().Int("folders", folders).Int("objects", objects).Dur("retention", j.retention).Msg("expired trash")
		}
		grace = janitorGrace
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(janitorEvery):
		}
	}
}

// datasetCheck returns the share's ZFS health check: the configured
// dataset must be the one mounted at the share's path. It asks zfs every
// time (about 10 ms): a cached "mounted" would let a download land in the
// bare mountpoint right after an unmount. Nil when the share is not on ZFS.
// RootCheck is the health check of a share's root the pipeline runs
// before it writes (the dataset mounted at the path), for the CLI's
// writers; nil when the share is a plain directory.
func RootCheck(sc *config.Share) func(context.Context) error {
	return datasetCheck(sc.Path, sc.Dataset)
}

func datasetCheck(path, dataset string) func(context.Context) error {
	if dataset == "" {
		return nil
	}
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		info, err := zfs.DatasetForPath(ctx, path)
		if err != nil {
			return err
		}
		if info.Name != dataset {
			return fmt.Errorf("%s is on dataset %s, not %s: is %s mounted?", path, info.Name, dataset, dataset)
		}
		return nil
	}
}
