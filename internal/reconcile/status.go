package reconcile

import (
	"sort"
	"time"
)

// Share states, from the station's point of view.
const (
	StateStarting = "starting" // before the first full scan finished
	StateSyncing  = "syncing"  // changes waiting or in flight
	StateInSync   = "in-sync"  // nothing pending
	StateError    = "error"    // the last attempt at something failed and it is still pending
)

// Status is a snapshot of one share's pipeline, for the status API. It is
// a value: callers may keep and read it freely.
type Status struct {
	Name  string `json:"name"`
	Root  string `json:"path"`
	State string `json:"state"`
	// Scanning is true while a full scan runs.
	Scanning bool `json:"scanning"`
	// FilesTracked and BytesTracked count the index's entries.
	FilesTracked int   `json:"files_tracked"`
	BytesTracked int64 `json:"bytes_tracked"`
	// PendingUploads counts files changed locally and not yet in the
	// bucket (waiting to settle, retrying or in flight).
	PendingUploads int `json:"pending_uploads"`
	InFlight       int `json:"in_flight"`
	// OldestPending is when the oldest unsynced change was seen: the
	// share's recovery point. Zero when nothing is pending.
	OldestPending time.Time `json:"oldest_pending,omitzero"`
	// OldestPendingAgeSeconds is OldestPending's age when the snapshot was taken.
	OldestPendingAgeSeconds float64   `json:"oldest_pending_age_seconds"`
	LastFullScan            time.Time `json:"last_full_scan,omitzero"`
	Uploads                 int64     `json:"uploads"`
	UploadedBytes           int64     `json:"uploaded_bytes"`
	Errors                  int64     `json:"errors"`
	LastUpload              *Activity `json:"last_upload"`
	LastError               *Failure  `json:"last_error"`
	// LastFullScanDone is when the last successful full scan (started at
	// LastFullScan) had handed every difference to the pipeline.
	LastFullScanDone time.Time `json:"last_full_scan_done,omitzero"`
	// PendingFailures counts pending files whose last attempt failed.
	PendingFailures int `json:"pending_failures"`
	// Failing are those files with their last error, longest failing
	// first (at most 100 listed).
	Failing []Failure `json:"failing"`

	Downloads       int64     `json:"downloads"`
	DownloadedBytes int64     `json:"downloaded_bytes"`
	LastDownload    *Activity `json:"last_download"`
	// LastRemoteList and LastRemoteListDone are when the last complete
	// bucket listing started and had handed every difference on.
	LastRemoteList     time.Time `json:"last_remote_list,omitzero"`
	LastRemoteListDone time.Time `json:"last_remote_list_done,omitzero"`
	// ListingError is the current streak of failed listings; nil once one
	// completes.
	ListingError *ListingFailure `json:"listing_error"`
	// ListingFailing is true once no listing completed for
	// Options.ListingGrace: bucket changes no longer reach the share, and
	// the state is error.
	ListingFailing bool `json:"listing_failing"`
	// Conflicts are the most recent conflicts, newest last.
	Conflicts []ConflictCopy `json:"conflicts"`
	// Refused are object keys from the last listing that cannot become
	// share paths (at most 100 listed; RefusedCount has them all).
	Refused      []Refused `json:"refused"`
	RefusedCount int       `json:"refused_count"`
	// RefusedPaths are names refused while syncing one path: share files
	// whose names cannot become object keys, and bucket keys that would
	// collide by case with a file on the share.
	RefusedPaths []Refused `json:"refused_paths"`
	// HeldDeletes are the deletes of the current pass, waiting for the
	// batch to be judged by the guard or, if DeleteGuardTripped, for a
	// person to approve batch DeleteBatch.
	HeldDeletes     []HeldDelete `json:"held_deletes"`
	HeldDeleteCount int          `json:"held_delete_count"`
	// HeldConflictCount is how many held are a first pass's conflicts.
	HeldConflictCount  int    `json:"held_conflict_count"`
	DeleteGuardTripped bool   `json:"delete_guard_tripped"`
	DeleteBatch        string `json:"delete_batch,omitempty"`
	// Deletes counts deletes carried out (recoverably) on either side.
	Deletes int64 `json:"deletes"`
	// Renames counts renamed files copied server-side instead of uploaded.
	Renames int64 `json:"renames"`
	// Recorded counts index entries written once the far side confirmed:
	// every transfer, adoption and file saved again with unchanged
	// content (which changes no other counter).
	Recorded int64 `json:"recorded"`
	// Adopted counts paths on both sides without a base proven equal,
	// by proof; nothing was transferred.
	Adopted Adoption `json:"adopted"`
	// Backfilled counts objects other tools wrote that were given our
	// metadata (a server-side copy onto themselves).
	Backfilled int64     `json:"backfilled"`
	LastDelete *Activity `json:"last_delete"`
	// PausedReason says why transfers are paused (state paused); empty
	// while they run.
	PausedReason string `json:"paused_reason,omitempty"`
	// Tripwire is the ransomware tripwire; nil when it is off.
	Tripwire *TripwireStatus `json:"tripwire,omitempty"`
}

// maxListed bounds the lists in a Status.
const maxListed = 100

// ConflictCopy is one path where both sides changed: Copy is the visible name
// the bucket's version was saved under.
type ConflictCopy struct {
	Path string    `json:"path"`
	Copy string    `json:"copy"`
	At   time.Time `json:"at"`
}

// Refused is an object key that was not written to the share, and why.
type Refused struct {
	Key    string `json:"key"`
	Reason string `json:"reason"` // a stable keyword: keymap.Reason
	Detail string `json:"detail,omitempty"`
}

// HeldDelete is a delete the planner decided that waits.
type HeldDelete struct {
	Path   string `json:"path"`
	Action string `json:"action"`
}

func appendCapped[T any](list []T, v T, n int) []T {
	list = append(list, v)
	if len(list) > n {
		list = list[len(list)-n:]
	}
	return list
}

func appendUnique[T comparable](list []T, v T, n int) []T {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return appendCapped(list, v, n)
}

// Activity is one completed transfer.
type Activity struct {
	Path  string    `json:"path"`
	At    time.Time `json:"at"`
	Bytes int64     `json:"bytes"`
}

// Adoption counts proven-equal paths by their proof.
type Adoption struct {
	ByMetadata int64 `json:"by_metadata"`
	ByETag     int64 `json:"by_etag"`
	ByReading  int64 `json:"by_reading"`
	// BytesRead is what reading objects for a proof took from the bucket;
	// HashedBytes what reading local files for one took from the share.
	BytesRead   int64 `json:"bytes_read"`
	HashedBytes int64 `json:"hashed_bytes"`
	// Pending paths on both sides without a base still wait for their
	// proof, with PendingBytes of local files still to read.
	Pending      int   `json:"pending"`
	PendingBytes int64 `json:"pending_bytes"`
	// BytesPerSecond is the proofs' read rate over the last minute;
	// SecondsLeft is PendingBytes at that rate (0 if unknown). The
	// daemon's share watcher fills both in; a Share leaves them 0.
	BytesPerSecond float64 `json:"bytes_per_second"`
	SecondsLeft    float64 `json:"seconds_left"`
}

// ListingFailure is a streak of failed bucket listings.
type ListingFailure struct {
	// Since is when the last listing completed (or the pipeline started,
	// if none ever did).
	Since time.Time `json:"since"`
	// At is when the last attempt failed, with Message its error.
	At       time.Time `json:"at"`
	Message  string    `json:"message"`
	Attempts int       `json:"attempts"`
}

// Failure is the most recent error, with the file it concerns (empty for
// share-wide errors such as an unreachable root).
type Failure struct {
	Path    string    `json:"path"`
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

// Status returns a snapshot. Safe for concurrent use.
func (s *Share) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Tripwire = s.Tripwire()
	if !st.OldestPending.IsZero() {
		st.OldestPendingAgeSeconds = time.Since(st.OldestPending).Seconds()
	}
	return st
}

func (s *Share) update(fn func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.status)
}

// refuse reports a local path that cannot become an object key.
func (s *Share) refuse(rel string, err error) {
	s.log.Warn().Str("path", rel).Err(err).Msg("file name refused: not uploaded")
	s.update(func(st *Status) {
		st.RefusedPaths = appendUnique(st.RefusedPaths, refusal(rel, err), maxListed)
	})
}

func (s *Share) setScanning(on bool) {
	s.update(func(st *Status) { st.Scanning = on })
}

// publish copies the loop's pending state into the status snapshot. Only
// the loop goroutine calls it.
func (s *Share) publish() {
	var oldest time.Time
	failing := 0
	var failed []*pending
	adopting, adoptingBytes := 0, int64(0)
	for _, p := range s.pend {
		if oldest.IsZero() || p.since.Before(oldest) {
			oldest = p.since
		}
		if p.adopting() {
			adopting++
			adoptingBytes += p.localSize
		}
		if p.attempts > 0 {
			failing++
			failed = append(failed, p)
		}
	}
	sort.Slice(failed, func(i, j int) bool {
		if !failed[i].since.Equal(failed[j].since) {
			return failed[i].since.Before(failed[j].since)
		}
		return failed[i].lastErr.Path < failed[j].lastErr.Path
	})
	failures := make([]Failure, 0, min(len(failed), maxListed))
	for _, p := range failed[:min(len(failed), maxListed)] {
		failures = append(failures, p.lastErr)
	}
	g := s.guard.view(maxListed)
	s.update(func(st *Status) {
		st.HeldDeletes, st.HeldDeleteCount, st.HeldConflictCount = g.held, g.count, g.conflicts
		st.DeleteGuardTripped, st.DeleteBatch = g.tripped, g.batch
		st.PendingUploads = len(s.pend)
		st.InFlight = len(s.inflight)
		st.OldestPending = oldest
		st.PendingFailures = failing
		st.Failing = failures
		st.PausedReason = s.pausedReason()
		st.ListingFailing = st.ListingError != nil && time.Since(st.ListingError.Since) >= s.opts.ListingGrace
		st.Adopted.Pending, st.Adopted.PendingBytes = adopting, adoptingBytes
		switch {
		case st.PausedReason != "":
			st.State = StatePaused
		case s.scanErr != nil, st.ListingFailing, s.trip.alarmed():
			st.State = StateError
		case st.LastFullScan.IsZero():
			st.State = StateStarting
		case failing > 0 || g.tripped:
			st.State = StateError
		case len(s.pend) > 0:
			st.State = StateSyncing
		default:
			st.State = StateInSync
		}
	})
}
