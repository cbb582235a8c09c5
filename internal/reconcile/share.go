package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/atomicfile"
	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
	"genesissync/internal/watch"
)

// uploader is what the pipeline needs from transfer.
type uploader interface {
	Upload(ctx context.Context, rel string, base *index.Entry, pre transfer.Precondition) (transfer.Result, error)
}

var _ uploader = (*transfer.Uploader)(nil)

// Options configure one share's pipeline. The daemon fills them from
// config, which holds every default; a zero value means what its field
// says, never a default.
type Options struct {
	Name string
	Root string
	// Writer is this appliance's name (appliance.name): a conflict copy
	// of a version another appliance wrote is named after that one.
	Writer string
	// Matcher decides the excluded names; nil excludes nothing.
	Matcher *scan.Matcher
	// Settle is the quiet time after a file's last change before it is
	// read; 0 reads a file as soon as it is seen.
	Settle time.Duration
	// ScanInterval is the period of full scans; 0 runs only the first
	// one and those asked for (SyncNow, a watcher restart or overflow).
	ScanInterval time.Duration
	// Uploaders is the number of large transfers at once (see lane),
	// at least 1.
	Uploaders int
	Index     *index.Share
	Uploader  uploader
	Log       zerolog.Logger
	// Watch turns the inotify watcher on (the periodic scan always runs).
	Watch bool
	// OpenFiles, if set, says which files SMB clients hold open: a file
	// open for writing is not read even when quiet for the settle window,
	// and a file open at all is not replaced by a download.
	OpenFiles OpenFiles
	// Remote is the bucket side, for HEAD and the periodic listing.
	Remote remote
	// Downloader publishes objects on the share.
	Downloader downloader
	// Backfill, if set, gives objects other tools wrote our sha256
	// metadata once proven equal to the share's file (after an adoption or
	// a download). Nil leaves them (adopt.backfill_metadata: false).
	Backfill backfiller
	// Policy is the delete policy; "" plans as Mirror.
	Policy Policy
	// RemoteInterval is the period of the bucket listing; 0 lists only
	// at start and when asked (SyncNow).
	RemoteInterval time.Duration
	// ListingGrace is how long the share may go without a completed
	// bucket listing before it is in error (Status.ListingFailing); 0
	// puts it in error from the first failed listing.
	ListingGrace time.Duration
	// RootCheck, if set, is an extra health check of the share root (its
	// ZFS mount) that must pass before any scan, download or delete. It
	// should be cheap: cache what is slow.
	RootCheck func(ctx context.Context) error
	// Trash carries out proven deletes recoverably. Nil holds every
	// delete (they are listed, never carried out).
	Trash trasher
	// MaxDeletes and MaxDeletePercent are the mass-delete guard (Trips).
	// A zero MaxDeletes holds every delete, a zero MaxDeletePercent every
	// batch of more than one.
	MaxDeletes       int
	MaxDeletePercent float64
	// Tripwire, if set, turns on the ransomware tripwire: the assembly
	// must install Share.Inspector on the uploader. Nil lets every change
	// leave.
	Tripwire *TripwireOptions
}

// Share runs one share's pipeline (see the package doc). Run owns every
// goroutine it starts; the exported methods are safe for concurrent use.
type Share struct {
	opts Options
	log  zerolog.Logger

	// root: any goroutine; scan, watch: each its own goroutine; guard:
	// the loop's, but for HoldNextDeletes.
	root  *shareRoot
	scan  *scanner
	watch *watchSupervisor
	guard *deleteGuard
	// trip: nil when the tripwire is off; safe for any goroutine.
	trip *tripGuard

	// owned by the loop goroutine
	pend     map[string]*pending
	inflight map[string]time.Time
	idle     int      // workers waiting for a job
	large    int      // large-lane transfers in flight
	ready    []string // settled files for dispatch, oldest change first
	scanErr  error    // the last full scan's failure, until one succeeds

	// beat is the loop's last round in Unix ns (0 before the first),
	// written by the loop and read by Alive.
	beat atomic.Int64

	// conditions is what probeConditional found (condUnknown until it
	// answers). Only condHonored lets uploads carry preconditions and skip
	// the HEAD.
	conditions atomic.Int32

	scanReq   chan string   // "" = full scan, else a directory
	listReq   chan struct{} // a bucket listing asked for by SyncNow
	notify    chan string   // paths reported by bucket events
	fetchReq  chan string   // paths to bring down ahead of all others (Fetch)
	approvals chan approval
	// tripReleases and tripRearms carry ReleaseTripwire and Rearm to the
	// loop.
	tripReleases chan releaseRequest
	tripRearms   chan rearmRequest
	stopped      chan struct{}
	ctl          control

	mu     sync.Mutex
	status Status
}

// What a store does with conditional writes (Share.conditions).
const (
	condUnknown int32 = iota
	condHonored
	condUnsupported // ignored or rejected
)

type pending struct {
	since       time.Time // first unsynced change seen: the recovery point
	lastEvent   time.Time // settle is measured from here
	notBefore   time.Time // retry backoff
	attempts    int
	allowDelete bool    // released by the delete guard
	lastErr     Failure // the last failed attempt, while attempts > 0
	// lane is from a stat at first dispatch; laneUnknown after a change.
	lane lane
	// unbasedLocal, unbasedRemote: the scan found the file, the listing
	// the object, with no base; with both it waits for an adoption proof.
	unbasedLocal, unbasedRemote bool
	localSize                   int64
}

// adopting reports whether p waits for an adoption proof.
func (p *pending) adopting() bool { return p.unbasedLocal && p.unbasedRemote }

// due reports whether the file may go to a worker at now: settled (no
// change for settle) and not backing off after a failure.
func (p *pending) due(now time.Time, settle time.Duration) bool {
	return now.Sub(p.lastEvent) >= settle && !now.Before(p.notBefore)
}

type job struct {
	rel         string
	started     time.Time
	allowDelete bool
	lane        lane
}

type result struct {
	job
	action       Action
	out          outcome
	base         *index.Entry // the base before
	entry        *index.Entry // the base recorded after, if any
	bytes        int64        // bytes transferred (a conflict: uploaded)
	downBytes    int64        // a conflict: bytes of the bucket's version saved
	conflictCopy string
	trashedTo    string // where a deleted file or object can be recovered
	heldReason   string // why the tripwire held the change
	renamedFrom  string // the synced path a renamed file was copied from
	proof        proof  // how an adopted path was proven equal
	localCRC     string // the local file's CRC-32C, when its read took one
	hashedBytes  int64  // local bytes read for a proof
	readBytes    int64  // object bytes read for a proof
	err          error
}

// proof is how an adoption proved the two sides equal.
type proof int

const (
	proofNone     proof = iota
	proofMetadata       // our sha256 metadata
	proofETag           // the ETag, reproduced from the local bytes
	proofReading        // the object read and hashed
)

type found struct {
	rel    string
	mtime  time.Time
	event  bool // seen by the watcher, rather than by a scan
	remote bool // seen in the bucket listing: no local settle to wait for
	// unbased: the scan or listing found it with no base in the index,
	// of size bytes (a first pass over existing data).
	unbased bool
	size    int64
}

// New returns a pipeline ready to Run. It panics if opts.Uploaders is
// below 1: the config never allows that.
func New(opts Options) *Share {
	if opts.Uploaders < 1 {
		panic(fmt.Sprintf("reconcile.New: share %q: Uploaders is %d, must be at least 1", opts.Name, opts.Uploaders))
	}
	if opts.Matcher == nil {
		opts.Matcher = scan.NewMatcher()
	}
	log := opts.Log.With().Str("share", opts.Name).Str("component", "reconcile").Logger()
	root := &shareRoot{path: opts.Root, share: opts.Name, check: opts.RootCheck, index: opts.Index, log: log}
	s := &Share{
		opts: opts,
		log:  log,
		root: root,
		scan: &scanner{root: root, matcher: opts.Matcher, index: opts.Index, log: log},
		// Quiet period: deletes that arrive together are judged together,
		// and a rename's new name (one settle window) is copied first.
		guard:     newDeleteGuard(opts.MaxDeletes, opts.MaxDeletePercent, opts.Settle+2*time.Second, log),
		pend:      map[string]*pending{},
		idle:      opts.Uploaders + smallWorkers, // Run starts this many workers
		inflight:  map[string]time.Time{},
		scanReq:   make(chan string, 1),
		listReq:   make(chan struct{}, 1),
		notify:    make(chan string, 64),
		fetchReq:  make(chan string, 64),
		approvals: make(chan approval),
		stopped:   make(chan struct{}),

		tripReleases: make(chan releaseRequest),
		tripRearms:   make(chan rearmRequest),
	}
	if opts.Tripwire != nil {
		s.trip = newTripGuard(opts.Name, *opts.Tripwire)
	}
	s.watch = &watchSupervisor{
		root: opts.Root, matcher: opts.Matcher, retry: watcherRetry,
		log:    opts.Log.With().Str("share", opts.Name).Logger(),
		failed: func(err error) { s.fail("", err) },
		lost:   s.SyncNow,
	}
	s.status = Status{Name: opts.Name, Root: opts.Root}
	return s
}

// Name is the share's name. Safe for concurrent use.
func (s *Share) Name() string { return s.opts.Name }

// Notify schedules rel (a share-relative path, already validated) as if
// the bucket listing had reported it. Safe for concurrent use; never blocks
// longer than the pipeline takes to accept it, and not at all after Run ended.
func (s *Share) Notify(rel string) {
	select {
	case s.notify <- rel:
	case <-s.stopped:
	}
}

// Fetch schedules rel like Notify, ahead of every path already pending:
// the readiness check asks this way for tracks due to air that are in
// the bucket but not on the share. Safe for concurrent use; blocks as
// Notify does.
func (s *Share) Fetch(rel string) {
	select {
	case s.fetchReq <- rel:
	case <-s.stopped:
	}
}

// SyncNow asks for a full reconcile pass as soon as possible: a full scan
// and a bucket listing, each started after the call (one already running
// is followed by another). Safe for concurrent use; never blocks.
func (s *Share) SyncNow() {
	select {
	case s.scanReq <- "":
	default: // one is already queued
	}
	select {
	case s.listReq <- struct{}{}:
	default: // one is already queued
	}
}

// Run runs the pipeline until ctx is cancelled. It returns nil on
// cancellation and an error only for failures that stop the share.
func (s *Share) Run(ctx context.Context) error {
	defer close(s.stopped)
	// No download is in flight yet: any temp file is a crash's leftover.
	if n, err := atomicfile.CleanTemp(s.opts.Root); err != nil {
		s.log.Warn().Err(err).Msg("cleaning up temp files")
	} else if n > 0 {
		s.log.Info().Int("removed", n).Msg("removed temp files left by a crash")
	}
	st, err := s.opts.Index.Stats()
	if err != nil {
		return err
	}
	s.update(func(st2 *Status) { st2.FilesTracked, st2.BytesTracked = st.Files, st.Bytes })
	if s.trip != nil {
		if err := s.trip.learn(s.opts.Index); err != nil {
			return err
		}
	}

	g, ctx := errgroup.WithContext(ctx)
	if s.trip != nil {
		g.Go(func() error { return s.trip.serve(ctx) })
	}
	c := channels{
		jobs:     make(chan job), // unbuffered: backpressure from the workers
		results:  make(chan result),
		found:    make(chan found, 256),
		scans:    make(chan string),
		scanDone: make(chan scanDone, 1),
		changes:  make(chan []watch.Change),
	}
	for i := 0; i < s.opts.Uploaders+smallWorkers; i++ {
		g.Go(func() error { return s.worker(ctx, c.jobs, c.results) })
	}
	g.Go(func() error { return s.scan.run(ctx, c.scans, c.found, c.scanDone) })
	if s.opts.Remote != nil {
		g.Go(func() error { return s.poller(ctx, c.found) })
	}
	if s.opts.Watch {
		g.Go(func() error { return s.watch.run(ctx, c.changes) })
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
	var fullScan <-chan time.Time // nil: no periodic full scan
	if s.opts.ScanInterval > 0 {
		t := time.NewTicker(s.opts.ScanInterval)
		defer t.Stop()
		fullScan = t.C
	}

	scans := newScanQueue() // the first full scan runs at once
	nextScan := func() {
		dir, ok := scans.next()
		if !ok {
			return
		}
		if dir == "" {
			s.setScanning(true)
		}
		select {
		case c.scans <- dir:
		case <-ctx.Done():
		}
	}
	var published, walked time.Time
	for {
		s.beat.Store(time.Now().UnixNano())
		nextScan()
		ticked := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fullScan:
			scans.wantFull()
		case <-s.scanReq:
			scans.wantFull()
		case batch := <-c.changes:
			route(batch, scans, s.note)
		case f := <-c.found:
			s.note(f)
		case rel := <-s.notify:
			s.note(found{rel: rel, remote: true})
		case rel := <-s.fetchReq:
			s.note(found{rel: rel, remote: true})
			s.first(rel)
		case d := <-c.scanDone:
			scans.done()
			if d.full {
				s.setScanning(false)
				s.scanErr = d.err
				if d.err == nil {
					s.update(func(st *Status) { st.LastFullScan, st.LastFullScanDone = d.at, time.Now() })
					s.guard.scanDone(d.at)
					s.recount()
				}
			}
			if d.err != nil && !errors.Is(d.err, context.Canceled) {
				s.fail("", d.err)
			}
		case r := <-c.results:
			s.finish(r)
			// Dispatch to the freed worker now: waiting for the tick paces small files.
			s.idle++
			s.dispatch(ctx, c.jobs)
		case a := <-s.approvals:
			a.reply <- s.approve(a.batch)
		case r := <-s.tripReleases:
			r.reply <- s.releaseTrip()
		case r := <-s.tripRearms:
			r.reply <- s.rearm(ctx, r.trash)
		case <-tick.C:
			s.considerDeletes(time.Now())
			if time.Since(walked) >= time.Second {
				// Walk the pending files again: files settled since
				// may be older than those kept.
				s.ready, walked = nil, time.Now()
			}
			s.dispatch(ctx, c.jobs)
			ticked = true
		}
		if len(s.pend) < publishEveryEvent || (ticked && time.Since(published) >= publishMany) {
			s.publish()
			published = time.Now()
		}
	}
}

// publish walks every pending file, so the loop publishes after every
// event only while fewer than publishEveryEvent are pending (a large first
// scan would be quadratic), else every publishMany.
const (
	publishEveryEvent = 1000
	publishMany       = 500 * time.Millisecond
)

func (s *Share) tickEvery() time.Duration {
	// Fine enough to add little to the settle window; a tick walks the pending set.
	return min(max(s.opts.Settle/10, 20*time.Millisecond), 100*time.Millisecond)
}

// note records a candidate. A scan's candidate settles from its mtime
// (an old file is eligible at once); a watcher event settles from now.
func (s *Share) note(f found) {
	if (s.guard.holds(f.rel) || s.trip.holds(f.rel)) && !f.event {
		// Held by the guard for a person: finding the same difference again
		// changes nothing (and a re-plan in flight at an approval would hold
		// it again). A watcher event or the release plans it afresh.
		return
	}
	now := time.Now()
	last := now
	switch {
	case f.remote:
		last = time.Time{}
	case !f.event && !f.mtime.IsZero() && f.mtime.Before(now):
		last = f.mtime
	}
	p := s.pend[f.rel]
	if p == nil {
		p = &pending{since: now}
		if !f.remote && last.Before(now) {
			p.since = last
		}
		s.pend[f.rel] = p
	}
	if last.After(p.lastEvent) {
		p.lastEvent = last
	}
	if f.unbased {
		if f.remote {
			p.unbasedRemote = true
		} else {
			p.unbasedLocal, p.localSize = true, f.size
		}
	}
	if f.event {
		p.notBefore = time.Time{}
		p.lane = laneUnknown
	}
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

func (s *Share) finish(r result) {
	delete(s.inflight, r.rel)
	if r.lane == laneLarge {
		s.large--
	}
	p := s.pend[r.rel]
	if p == nil {
		return
	}
	now := time.Now()
	if r.allowDelete {
		s.guard.ran(r.rel)
	}
	switch {
	case r.err == nil && r.out == outHeldDelete:
		if s.guard.hold(r.rel, r.action, r.allowDelete, now) {
			p.allowDelete, p.notBefore = true, time.Time{} // run again, allowed
		} else {
			delete(s.pend, r.rel)
		}
	case r.err == nil && r.out == outHeldTripwire:
		// Listed by the tripwire until a person releases it, or a change
		// brings it in line.
		delete(s.pend, r.rel)
		s.log.Warn().Str("path", r.rel).Str("reason", r.heldReason).Msg("change held by the ransomware tripwire: not sent to the bucket")
	case r.err == nil:
		s.guard.settled(r.rel)
		s.trip.settled(r.rel)
		if r.out == outDownloaded {
			s.trip.saw(r.rel)
		}
		if p.lastEvent.After(r.started) {
			// Changed while in flight: still pending, recovery point moves.
			p.since, p.attempts = p.lastEvent, 0
			if r.entry != nil {
				p.unbasedLocal, p.unbasedRemote = false, false // it has a base now
			}
		} else {
			delete(s.pend, r.rel)
		}
		s.account(r, now, p)
	case errors.Is(r.err, scan.ErrChangedWhileReading), errors.Is(r.err, errNotSettled),
		errors.Is(r.err, errOpen), errors.Is(r.err, transfer.ErrLocalChanged):
		s.log.Debug().Str("path", r.rel).Err(r.err).Msg("waiting for the file to settle")
		p.lastEvent = now
	case errors.Is(r.err, objstore.ErrPreconditionFailed):
		// The object changed after the HEAD and the server refused the
		// overwrite: plan again, with a fresh HEAD, after the settle window.
		s.log.Info().Str("path", r.rel).Err(r.err).Msg("the bucket's object changed while uploading; planning again")
		p.lastEvent = now
	case errors.Is(r.err, scan.ErrNotRegular):
		delete(s.pend, r.rel)
	case r.out == outRefused:
		delete(s.pend, r.rel)
		s.refuse(r.rel, r.err)
	default:
		p.attempts++
		p.notBefore = now.Add(backoff(p.attempts))
		p.lastErr = Failure{Path: r.rel, At: now, Message: r.err.Error()}
		s.fail(r.rel, r.err)
	}
}

// recount resets the tracked counters from the index (after each full
// scan, on the loop goroutine). It skips while transfers are in flight:
// workers commit to the index before the loop sees their results, so such
// a count would be counted twice by account.
func (s *Share) recount() {
	if len(s.inflight) > 0 {
		return
	}
	st, err := s.opts.Index.Stats()
	if err != nil {
		s.log.Warn().Err(err).Msg("counting the index")
		return
	}
	s.update(func(s2 *Status) { s2.FilesTracked, s2.BytesTracked = st.Files, st.Bytes })
}

// account updates the status with a finished job and logs what changed.
func (s *Share) account(r result, now time.Time, p *pending) {
	s.update(func(st *Status) {
		if r.entry != nil {
			st.Recorded++
		}
		switch {
		case r.entry != nil && r.base == nil:
			st.FilesTracked++
			st.BytesTracked += r.entry.Size
		case r.entry != nil:
			st.BytesTracked += r.entry.Size - r.base.Size
		case (r.out == outForgotten || r.out == outDeleted) && r.base != nil:
			st.FilesTracked--
			st.BytesTracked -= r.base.Size
		}
		switch r.out {
		case outUploaded:
			st.Uploads++
			st.UploadedBytes += r.bytes
			st.LastUpload = &Activity{Path: r.rel, At: now, Bytes: r.bytes}
		case outDownloaded:
			st.Downloads++
			st.DownloadedBytes += r.bytes
			st.LastDownload = &Activity{Path: r.rel, At: now, Bytes: r.bytes}
		case outConflict:
			// Two uploads (the copy, the path), one download (the copy).
			st.Uploads += 2
			st.UploadedBytes += r.bytes
			st.Downloads++
			st.DownloadedBytes += r.downBytes
			st.FilesTracked++ // the conflict copy
			st.Conflicts = appendCapped(st.Conflicts, ConflictCopy{Path: r.rel, Copy: r.conflictCopy, At: now}, maxListed)
		case outRenamed:
			st.Renames++
		case outDeleted:
			st.Deletes++
			st.LastDelete = &Activity{Path: r.rel, At: now}
		}
		if r.out == outAdopted {
			switch r.proof {
			case proofMetadata:
				st.Adopted.ByMetadata++
			case proofETag:
				st.Adopted.ByETag++
			case proofReading:
				st.Adopted.ByReading++
			}
		}
		st.Adopted.BytesRead += r.readBytes
		st.Adopted.HashedBytes += r.hashedBytes
	})
	ev := s.log.Info().Str("path", r.rel).Str("action", r.action.String())
	switch r.out {
	case outUploaded, outDownloaded:
		ev.Int64("bytes", r.bytes).Str("sha256", r.entry.SHA256).
			Dur("took", now.Sub(r.started)).Dur("since_change", now.Sub(p.since)).Msg(map[outcome]string{outUploaded: "uploaded", outDownloaded: "downloaded"}[r.out])
	case outDeleted:
		ev.Str("recoverable_at", r.trashedTo).Msg("deleted")
	case outRenamed:
		ev.Str("from", r.renamedFrom).Int64("bytes", r.entry.Size).Msg("renamed: copied in the bucket, not uploaded again")
	case outAdopted:
		if r.proof != proofNone {
			ev.Str("proof", [...]string{"", "sha256 metadata", "etag", "object read"}[r.proof]).
				Msg("adopted: the same bytes on both sides, nothing transferred")
		}
	case outNone:
	default:
		ev.Msg("reconciled")
	}
}

// backoff is the wait before retrying a failed file: 1s doubling to 5m.
func backoff(attempts int) time.Duration {
	d := time.Second << min(attempts-1, 9)
	return min(d, 5*time.Minute)
}

func (s *Share) fail(rel string, err error) {
	s.log.Error().Str("path", rel).Err(err).Msg("sync failed")
	s.failQuiet(rel, err)
}

// failQuiet records a failure on the status without logging it (for a
// failure that repeats unchanged).
func (s *Share) failQuiet(rel string, err error) {
	s.update(func(st *Status) {
		st.Errors++
		st.LastError = &Failure{Path: rel, At: time.Now(), Message: err.Error()}
	})
}
