package station

import (
	"context"
	"fmt"
	"os/user"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/config"
	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/readiness"
	"genesissync/internal/reconcile"
	"genesissync/internal/restore"
	"genesissync/internal/samba"
	"genesissync/internal/scan"
	"genesissync/internal/snapshot"
	"genesissync/internal/transfer"
	"genesissync/internal/zfs"
)

// S3Options maps a share target of the config to the object store's
// options.
func S3Options(t config.Target) objstore.S3Options {
	return objstore.S3Options{
		Endpoint:        t.Endpoint,
		Endpoints:       s3Endpoints(t.Endpoints),
		EndpointTimeout: t.EndpointTimeout,
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

// s3Endpoints maps a target's endpoints to the object store's, in order;
// nil for none. Empty fields stay empty: the store takes the target's.
func s3Endpoints(eps []config.Endpoint) []objstore.S3Endpoint {
	if len(eps) == 0 {
		return nil
	}
	out := make([]objstore.S3Endpoint, len(eps))
	for i, e := range eps {
		var pathStyle *bool // a copy: the config is shared and read-only
		if e.PathStyle != nil {
			v := *e.PathStyle
			pathStyle = &v
		}
		out[i] = objstore.S3Endpoint{
			URL:             e.URL,
			Region:          e.Region,
			PathStyle:       pathStyle,
			AccessKeyID:     e.AccessKeyID,
			SecretAccessKey: e.SecretAccessKey.Reveal(),
			CredentialsFile: e.CredentialsFile,
			Profile:         e.Profile,
			ReadOnly:        !e.Writable(),
		}
	}
	return out
}

// OpenStore opens the share's object store; wire paces its transfers
// (nil: unpaced).
func OpenStore(ctx context.Context, name string, sc *config.Share, wire objstore.WirePacer, log zerolog.Logger) (*objstore.S3, error) {
	opts := S3Options(sc.Target)
	opts.Wire = wire
	store, err := objstore.NewS3(ctx, opts, log)
	if err != nil {
		return nil, fmt.Errorf("share %s: %w", name, err)
	}
	return store, nil
}

// OpenIndex opens the station's index under its state directory. It
// fails while another process (a running daemon) holds it.
func OpenIndex(cfg *config.Config) (*index.Index, error) {
	return index.Open(cfg.IndexPath())
}

// Matcher is the share's exclude matcher: the built-in excludes and the
// share's own.
func Matcher(sc *config.Share) *scan.Matcher {
	return scan.NewMatcher(sc.ExcludePatterns())
}

// Owner is the uid and gid that files the appliance writes on a share
// get: the Samba service user's, or -1 (unchanged) with Samba off.
func Owner(cfg *config.Config) (int, int, error) {
	if cfg.Samba.Mode == config.SambaOff {
		return -1, -1, nil
	}
	u, err := user.Lookup(cfg.Samba.ServiceUser)
	if err != nil {
		return 0, 0, fmt.Errorf("service user %s: %w", cfg.Samba.ServiceUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// OpenFiles is the share's view of the files SMB clients hold open, or
// nil when Samba is not managed here.
func OpenFiles(cfg *config.Config, share string, log zerolog.Logger) reconcile.OpenFiles {
	if c := openFileCache(cfg, share, log); c != nil {
		return c
	}
	return nil
}

func openFileCache(cfg *config.Config, share string, log zerolog.Logger) *reconcile.OpenFileCache {
	if cfg.Samba.Mode == config.SambaOff {
		return nil
	}
	conf := samba.ToolConfig(cfg)
	root := cfg.Shares[share].Path
	log = log.With().Str("share", share).Logger()
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

// OfflineOpenFiles is, for the CLI working on a share while the daemon is
// stopped, the view of files SMB clients hold open: the system smbd's in
// appliance mode; nil in standalone mode (smbd is the daemon's child and
// down with it) and with Samba off.
func OfflineOpenFiles(cfg *config.Config, share string, log zerolog.Logger) restore.OpenFiles {
	if cfg.Samba.Mode != config.SambaAppliance {
		return nil
	}
	return openFileCache(cfg, share, log)
}

// RootCheck is the health check of a share's root that every writer runs
// before it writes: the configured dataset must be the one mounted at the
// share's path. It asks zfs every time: a cached "mounted" would let a
// download land in the bare mountpoint right after an unmount. Nil when
// the share is a plain directory.
func RootCheck(sc *config.Share) func(context.Context) error {
	path, dataset := sc.Path, sc.Dataset
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

// SnapshotOptions are the share's snapshot manager options from its
// config; the caller adds Event.
func SnapshotOptions(name string, sc *config.Share, log zerolog.Logger) snapshot.Options {
	h, d, w, m := sc.Snapshots.Keep.Counts()
	return snapshot.Options{
		Share:            name,
		Dataset:          sc.Dataset,
		Mountpoint:       sc.Path,
		Interval:         sc.Snapshots.Interval,
		Keep:             zfs.Retention{Hourly: h, Daily: d, Weekly: w, Monthly: m},
		PreOpRetention:   sc.Snapshots.PreOpRetention,
		PreviousVersions: sc.Snapshots.ShowPreviousVersions(),
		Log:              log,
	}
}

// PipelineOptions are a share's pipeline options from its config, with
// its store and index: the one assembly of them, for the daemon (which
// adds pacing, the watcher, open files and the trash) and for the dry run
// of a first pass (Survey), which must decide exactly as the daemon will.
func PipelineOptions(name string, sc *config.Share, store *objstore.S3, ix *index.Share, uid, gid int, log zerolog.Logger) reconcile.Options {
	o := reconcile.Options{
		Name:             name,
		Root:             sc.Path,
		Matcher:          Matcher(sc),
		Settle:           sc.Settle,
		ScanInterval:     sc.ScanInterval,
		Uploaders:        sc.Uploaders,
		Index:            ix,
		Downloader:       transfer.NewDownloader(sc.Path, store, uid, gid),
		Remote:           store,
		Policy:           reconcile.Policy(sc.Delete),
		RemoteInterval:   sc.RemoteInterval,
		ListingGrace:     sc.ListingGrace(),
		Log:              log,
		RootCheck:        RootCheck(sc),
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
	ix, err := OpenIndex(cfg)
	if err != nil {
		return reconcile.Survey{}, fmt.Errorf("%w; a running daemon has made its first pass already: see its status page", err)
	}
	defer ix.Close()
	store, err := OpenStore(ctx, share, sc, nil, log)
	if err != nil {
		return reconcile.Survey{}, err
	}
	return reconcile.New(PipelineOptions(share, sc, store, ix.Share(share), -1, -1, log)).Survey(ctx)
}

// Pipeline is a share's sync pipeline as the daemon runs it, with what it
// runs on: its store (also the endpoints' and the admin jobs'), and the
// janitor that cleans up after crashes and deletes.
type Pipeline struct {
	Store   *objstore.S3
	Share   *reconcile.Share
	Janitor *transfer.Janitor
}

// Run is what the daemon gives a pipeline: the index, the owner of the
// files it writes, the pacing of its transfers (nil: unpaced) and when
// the daemon started (multipart uploads begun before it are orphans).
type Run struct {
	Index    *index.Index
	UID, GID int
	Pacer    transfer.Pacer
	Wire     objstore.WirePacer
	Started  time.Time
	// OnTrip gathers the evidence when a share's ransomware tripwire
	// trips (reconcile.TripwireOptions.OnTrip); nil gathers none.
	OnTrip func(ctx context.Context, t reconcile.Trip) reconcile.TripEvidence
	// OnEvidence is told when a trip's evidence is on the share's status.
	OnEvidence func(share string)
	// OnSuspect is told when a share's changes start to look suspicious.
	OnSuspect func(share string)
}

// OpenPipeline assembles the share's pipeline from its config: store,
// uploader and downloader paced by run, the watcher, the open-files view,
// the trash shared by the pipeline and the janitor.
func OpenPipeline(ctx context.Context, cfg *config.Config, name string, run Run, log zerolog.Logger) (Pipeline, error) {
	sc := cfg.Shares[name]
	store, err := OpenStore(ctx, name, sc, run.Wire, log)
	if err != nil {
		return Pipeline{}, err
	}
	trash := transfer.NewTrash(sc.Path, store)
	ro := PipelineOptions(name, sc, store, run.Index.Share(name), run.UID, run.GID, log)
	up := transfer.NewUploader(sc.Path, store, int64(sc.BandwidthLimit)).WithPacer(run.Pacer).WithWriter(cfg.Appliance.Name)
	ro.Uploader = up
	ro.Writer = cfg.Appliance.Name
	ro.Downloader = transfer.NewDownloader(sc.Path, store, run.UID, run.GID).WithPacer(run.Pacer)
	ro.Watch = true
	ro.OpenFiles = OpenFiles(cfg, name, log)
	ro.Trash = trash
	if sc.Tripwire.On() {
		ro.Tripwire = &reconcile.TripwireOptions{
			MaxRewrites: sc.Tripwire.MaxRewrites, Window: sc.Tripwire.Window, NoteFolders: sc.Tripwire.NoteFolders,
			OnTrip: run.OnTrip, OnEvidence: run.OnEvidence, OnSuspect: run.OnSuspect,
		}
	}
	share := reconcile.New(ro)
	if insp := share.Inspector(); insp != nil {
		up.WithInspector(insp) // the share's tripwire, before its first upload
	}
	return Pipeline{
		Store:   store,
		Share:   share,
		Janitor: transfer.NewJanitor(name, store, trash, sc.TrashRetention, run.Started, log),
	}, nil
}

// ReadinessChecker is the share's on-air readiness checker from its
// config, air times in the appliance's local time zone; nil when the share
// names no playlists.
func ReadinessChecker(name string, sc *config.Share) (*readiness.Checker, error) {
	if !sc.Readiness.On() {
		return nil, nil
	}
	c, err := readiness.New(sc.Readiness.Policy(name, time.Local))
	if err != nil {
		return nil, fmt.Errorf("share %s: readiness: %w", name, err)
	}
	return c, nil
}
