package reconcile

import (
	"context"
	"errors"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/index"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
	"genesissync/internal/watch"
)

// uploader is what the pipeline needs from transfer.
type uploader interface {
	Upload(ctx context.Context, rel string, base *index.Entry) (transfer.Result, error)
}

var _ uploader = (*transfer.Uploader)(nil)

// Options configure one share's pipeline.
type Options struct {
	Name    string
	Root    string
	Matcher *scan.Matcher
	// Settle is the quiet time after a file's last change before it is
	// read. 0 means 2s.
	Settle time.Duration
	// ScanInterval is the period of full scans. 0 means 10m.
	ScanInterval time.Duration
	// Uploaders is the number of concurrent file uploads. 0 means 4: PUT
	// to a LAN MinIO is latency-bound, and more starve smbd on small boxes.
	Uploaders int
	Index     *index.Share
	Uploader  uploader
	Log       zerolog.Logger
	// Watch turns the inotify watcher on (the periodic scan always runs).
	Watch bool
	// OpenForWrite, if set, lists the share-relative paths that SMB
	// clients hold open for writing (smbstatus). Such a file is not read
	// even if it has been quiet for the settle window: a studio PC may
	// pause between writes. Errors are logged and the settle rule alone
	// applies.
	OpenForWrite func(ctx context.Context) (map[string]bool, error)
}

// openFilesMaxAge bounds how stale the open-file list may be; it also
// bounds how often smbstatus runs (about 50 ms each) per share.
const openFilesMaxAge = time.Second

// Share runs one share's local-to-bucket pipeline: watcher and scanner
// find candidate files, the loop waits for each to settle, workers upload
// them and record the result in the index. Run owns every goroutine it
// starts; Status and SyncNow may be called concurrently from anywhere.
type Share struct {
	opts Options
	log  zerolog.Logger

	// owned by the loop goroutine
	pend     map[string]*pending
	inflight map[string]time.Time
	scanErr  error // the last full scan's failure, until one succeeds
	open     map[string]bool
	openAt   time.Time

	scanReq chan string // "" = full scan, else a directory

	mu     sync.Mutex
	status Status
}

type pending struct {
	since     time.Time // first unsynced change seen: the recovery point
	lastEvent time.Time // settle is measured from here
	notBefore time.Time // retry backoff
	attempts  int
}

type job struct {
	rel     string
	started time.Time
}

type result struct {
	job
	res  transfer.Result
	base *index.Entry
	err  error
}

type found struct {
	rel   string
	mtime time.Time
	event bool // seen by the watcher, rather than by a scan
}

type scanDone struct {
	full bool
	at   time.Time
	err  error
}

// New validates the options and returns a pipeline ready to Run.
func New(opts Options) *Share {
	if opts.Settle == 0 {
		opts.Settle = 2 * time.Second
	}
	if opts.ScanInterval == 0 {
		opts.ScanInterval = 10 * time.Minute
	}
	if opts.Uploaders == 0 {
		opts.Uploaders = 4
	}
	if opts.Matcher == nil {
		opts.Matcher = scan.NewMatcher()
	}
	s := &Share{
		opts:     opts,
		log:      opts.Log.With().Str("share", opts.Name).Str("component", "reconcile").Logger(),
		pend:     map[string]*pending{},
		inflight: map[string]time.Time{},
		scanReq:  make(chan string, 1),
	}
	s.status = Status{Name: opts.Name, Root: opts.Root}
	return s
}

// SyncNow asks for a full scan as soon as possible.
func (s *Share) SyncNow() {
	select {
	case s.scanReq <- "":
	default: // one is already queued
	}
}

// Run runs the pipeline until ctx is cancelled. It returns nil on
// cancellation and an error only for failures that stop the share.
func (s *Share) Run(ctx context.Context) error {
	st, err := s.opts.Index.Stats()
	if err != nil {
		return err
	}
	s.update(func(st2 *Status) { st2.FilesTracked, st2.BytesTracked = st.Files, st.Bytes })

	g, ctx := errgroup.WithContext(ctx)
	c := channels{
		jobs:     make(chan job), // unbuffered: backpressure from the workers
		results:  make(chan result),
		found:    make(chan found, 256),
		scans:    make(chan string),
		scanDone: make(chan scanDone, 1),
		changes:  make(chan []watch.Change),
	}
	for i := 0; i < s.opts.Uploaders; i++ {
		g.Go(func() error { return s.worker(ctx, c.jobs, c.results) })
	}
	g.Go(func() error { return s.scanner(ctx, c.scans, c.found, c.scanDone) })
	if s.opts.Watch {
		g.Go(func() error { return s.watcher(ctx, c.changes) })
	}
	g.Go(func() error { return s.loop(ctx, c) })
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// channels connect the loop with its workers, scanner and watcher.
type channels struct {
	jobs     chan job
	results  chan result
	found    chan found
	scans    chan string // "" = full scan, else a directory
	scanDone chan scanDone
	changes  chan []watch.Change
}

// loop owns pend, inflight and the scan queue: it merges what the watcher
// and scanner found, waits for each file to settle and hands it to a
// worker.
func (s *Share) loop(ctx context.Context, c channels) error {
	tick := time.NewTicker(s.tickEvery())
	defer tick.Stop()
	fullScan := time.NewTicker(s.opts.ScanInterval)
	defer fullScan.Stop()

	// The scan queue: a full scan supersedes every directory scan.
	wantFull := true // the first full scan runs at once
	dirs := map[string]bool{}
	scannerBusy := false
	nextScan := func() {
		if scannerBusy {
			return
		}
		var dir string
		switch {
		case wantFull:
			wantFull = false
			clear(dirs)
			s.setScanning(true)
		case len(dirs) > 0:
			for d := range dirs {
				dir = d
				break
			}
			delete(dirs, dir)
		default:
			return
		}
		select {
		case c.scans <- dir:
			scannerBusy = true
		case <-ctx.Done():
		}
	}
	for {
		nextScan()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fullScan.C:
			wantFull = true
		case <-s.scanReq:
			wantFull = true
		case batch := <-c.changes:
			for _, ch := range batch {
				switch {
				case ch.Full:
					wantFull = true
				case ch.Dir:
					dirs[ch.Path] = true
				default:
					s.note(found{rel: ch.Path, event: true})
				}
			}
		case f := <-c.found:
			s.note(f)
		case d := <-c.scanDone:
			scannerBusy = false
			if d.full {
				s.setScanning(false)
				s.scanErr = d.err
				if d.err == nil {
					s.update(func(st *Status) { st.LastFullScan = d.at })
				}
			}
			if d.err != nil && !errors.Is(d.err, context.Canceled) {
				s.fail("", d.err)
			}
		case r := <-c.results:
			s.finish(r)
		case <-tick.C:
			s.dispatch(ctx, c.jobs)
		}
		s.publish()
	}
}

func (s *Share) tickEvery() time.Duration {
	// Fine enough that dispatch adds little to the settle window; a tick
	// costs one pass over the pending set.
	return min(max(s.opts.Settle/10, 20*time.Millisecond), 100*time.Millisecond)
}

// note records a candidate. A scan's candidate settles from its mtime
// (an old file is eligible at once); a watcher event settles from now.
func (s *Share) note(f found) {
	now := time.Now()
	last := now
	if !f.event && !f.mtime.IsZero() && f.mtime.Before(now) {
		last = f.mtime
	}
	p := s.pend[f.rel]
	if p == nil {
		p = &pending{since: last}
		s.pend[f.rel] = p
	}
	if last.After(p.lastEvent) {
		p.lastEvent = last
	}
	if f.event {
		// A fresh change deserves a fresh try, not the old backoff.
		p.notBefore = time.Time{}
	}
}

// dispatch hands settled files to idle workers, oldest change first.
func (s *Share) dispatch(ctx context.Context, jobs chan<- job) {
	now := time.Now()
	var ready []string
	for rel, p := range s.pend {
		if _, busy := s.inflight[rel]; busy {
			continue
		}
		if now.Sub(p.lastEvent) >= s.opts.Settle && !now.Before(p.notBefore) {
			ready = append(ready, rel)
		}
	}
	if len(ready) == 0 {
		return
	}
	open := s.openForWrite(ctx, now)
	sort.Slice(ready, func(i, j int) bool { return s.pend[ready[i]].since.Before(s.pend[ready[j]].since) })
	for _, rel := range ready {
		if open[rel] {
			// Held open for writing by a client: wait for the close
			// (the watcher reports it) or another settle window.
			s.pend[rel].lastEvent = now
			continue
		}
		select {
		case jobs <- job{rel: rel, started: now}:
			s.inflight[rel] = now
		case <-ctx.Done():
			return
		default:
			return // every worker is busy
		}
	}
}

// openForWrite returns the cached open-for-write set, refreshing it when
// older than openFilesMaxAge. Only the loop goroutine calls it.
func (s *Share) openForWrite(ctx context.Context, now time.Time) map[string]bool {
	if s.opts.OpenForWrite == nil {
		return nil
	}
	if now.Sub(s.openAt) < openFilesMaxAge {
		return s.open
	}
	open, err := s.opts.OpenForWrite(ctx)
	if err != nil {
		s.log.Warn().Err(err).Msg("cannot list files open over SMB; relying on the settle window alone")
		open = nil
	}
	s.open, s.openAt = open, now
	return open
}

func (s *Share) worker(ctx context.Context, jobs <-chan job, results chan<- result) error {
	for {
		var j job
		select {
		case <-ctx.Done():
			return ctx.Err()
		case j = <-jobs:
		}
		r := s.process(ctx, j)
		select {
		case results <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errNotSettled marks a file whose mtime is newer than the settle window:
// something wrote it without the watcher seeing it.
var errNotSettled = errors.New("not settled")

func (s *Share) process(ctx context.Context, j job) result {
	r := result{job: j}
	f, err := scan.Stat(s.opts.Root, j.rel)
	if err != nil {
		r.err = err
		return r
	}
	if age := time.Since(f.Mtime); age >= 0 && age < s.opts.Settle {
		r.err = errNotSettled
		return r
	}
	base, ok, err := s.opts.Index.Get(j.rel)
	if err != nil {
		r.err = err
		return r
	}
	if ok {
		r.base = &base
		if PlanLocal(f, &base) == InSync {
			r.res = transfer.Result{Entry: base, Outcome: transfer.Unchanged}
			return r
		}
	}
	r.res, r.err = s.opts.Uploader.Upload(ctx, j.rel, r.base)
	if r.err != nil {
		return r
	}
	// The far side confirmed (or the content was unchanged): only now is
	// the new state recorded.
	r.err = s.opts.Index.Put(j.rel, r.res.Entry)
	return r
}

func (s *Share) finish(r result) {
	delete(s.inflight, r.rel)
	p := s.pend[r.rel]
	if p == nil {
		return
	}
	now := time.Now()
	switch {
	case r.err == nil:
		if p.lastEvent.After(r.started) {
			// Changed again while we worked: keep it pending, but the
			// recovery point moves to that change.
			p.since, p.attempts = p.lastEvent, 0
		} else {
			delete(s.pend, r.rel)
		}
		s.update(func(st *Status) {
			if r.base == nil {
				st.FilesTracked++
				st.BytesTracked += r.res.Entry.Size
			} else {
				st.BytesTracked += r.res.Entry.Size - r.base.Size
			}
			if r.res.Outcome == transfer.Uploaded {
				st.Uploads++
				st.UploadedBytes += r.res.Bytes
				st.LastUpload = &Activity{Path: r.rel, At: now, Bytes: r.res.Bytes}
			}
		})
		if r.res.Outcome == transfer.Uploaded {
			s.log.Info().Str("path", r.rel).Int64("bytes", r.res.Bytes).Str("sha256", r.res.Entry.SHA256).
				Dur("took", now.Sub(r.started)).Dur("since_change", now.Sub(p.since)).Msg("uploaded")
		}
	case errors.Is(r.err, scan.ErrChangedWhileReading), errors.Is(r.err, errNotSettled):
		s.log.Debug().Str("path", r.rel).Err(r.err).Msg("not settled; waiting")
		p.lastEvent = now
	case errors.Is(r.err, fs.ErrNotExist), errors.Is(r.err, scan.ErrNotRegular):
		// Gone or no longer a file: deletes are the two-way
		// reconciler's business, never a blind upload-side action.
		delete(s.pend, r.rel)
	default:
		p.attempts++
		p.notBefore = now.Add(backoff(p.attempts))
		s.fail(r.rel, r.err)
	}
}

// backoff is the wait before retrying a failed file: 1s doubling to 5m.
func backoff(attempts int) time.Duration {
	d := time.Second << min(attempts-1, 9)
	return min(d, 5*time.Minute)
}

func (s *Share) fail(rel string, err error) {
	s.log.Error().Str("path", rel).Err(err).Msg("sync failed")
	s.update(func(st *Status) {
		st.Errors++
		st.LastError = &Failure{Path: rel, At: time.Now(), Message: err.Error()}
	})
}

// scanner walks the share on request and reports files whose stat
// differs from the index. It reads the index but never writes it.
func (s *Share) scanner(ctx context.Context, dirs <-chan string, foundc chan<- found, done chan<- scanDone) error {
	for {
		var dir string
		select {
		case <-ctx.Done():
			return ctx.Err()
		case dir = <-dirs:
		}
		start := time.Now()
		n := 0
		err := scan.Walk(ctx, s.opts.Root, dir, s.opts.Matcher, func(f scan.File) error {
			base, ok, err := s.opts.Index.Get(f.Path)
			if err != nil {
				return err
			}
			var b *index.Entry
			if ok {
				b = &base
			}
			if PlanLocal(f, b) == InSync {
				return nil
			}
			n++
			select {
			case foundc <- found{rel: f.Path, mtime: f.Mtime}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if dir != "" && errors.Is(err, fs.ErrNotExist) {
			err = nil // a directory that came and went
		}
		s.log.Debug().Str("dir", dir).Int("candidates", n).Dur("took", time.Since(start)).Err(err).Msg("scan done")
		select {
		case done <- scanDone{full: dir == "", at: start, err: err}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// watcherRetry is how long the watcher waits before starting again after
// it could not start or stopped (share root missing, unmounted, watch
// limit). Periodic scans keep the share covered meanwhile.
const watcherRetry = 10 * time.Second

// watcher runs the inotify watcher, delivering batches to the loop, and
// restarts it when it fails: a dataset mounted after the daemon started,
// or unmounted and mounted again, gets a fresh watcher. Each restart asks
// for a full scan, since events were lost in between.
func (s *Share) watcher(ctx context.Context, changes chan<- []watch.Change) error {
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(watcherRetry):
			}
		}
		w, err := watch.New(watch.Options{
			Root:   s.opts.Root,
			Ignore: func(rel string, _ bool) bool { return s.opts.Matcher.Excluded(rel) },
		}, s.opts.Log.With().Str("share", s.opts.Name).Logger())
		if err != nil {
			s.fail("", err)
			continue
		}
		if !first {
			s.SyncNow()
		}
		err = w.Run(ctx, changes)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.fail("", err)
		}
	}
}
