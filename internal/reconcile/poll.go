package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"genesissync/internal/index"
	"genesissync/internal/keymap"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
)

// poller lists the bucket every RemoteInterval and after SyncNow, and
// reports as candidates objects that differ from the index by size or ETag
// and index entries the listing lacks. An unchanged pass makes no
// per-object request. Refused keys are reported and skipped.
//
// Failures go to Status.ListingError; after ListingGrace without a
// completed listing the share is in error (ListingFailing). A distinct
// failure is logged at once, a repeat every listingLogEvery with its count.
func (s *Share) poller(ctx context.Context, foundc chan<- found) error {
	var (
		last     string
		loggedAt time.Time
		repeats  int
	)
	started := time.Now()
	for {
		err := s.pollOnce(ctx, foundc)
		switch {
		case err == nil:
			if last != "" {
				s.log.Info().Int("failed_attempts", repeats+1).Msg("bucket listing works again")
			}
			last, repeats = "", 0
			s.update(func(st *Status) { st.ListingError = nil })
		case ctx.Err() != nil:
		default:
			now := time.Now()
			msg := err.Error()
			switch {
			case msg != last:
				repeats = 0
				s.fail("", err)
				loggedAt = now
			case now.Sub(loggedAt) >= listingLogEvery:
				repeats++
				s.log.Error().Err(err).Int("repeats", repeats).Msg("bucket listing still failing")
				s.failQuiet("", err)
				loggedAt = now
			default:
				repeats++
				s.failQuiet("", err)
			}
			last = msg
			s.update(func(st *Status) {
				if st.ListingError == nil {
					since := started
					if !st.LastRemoteListDone.IsZero() {
						since = st.LastRemoteListDone
					}
					st.ListingError = &ListingFailure{Since: since}
				}
				st.ListingError.At, st.ListingError.Message = now, msg
				st.ListingError.Attempts++
			})
		}
		var next <-chan time.Time // nil: listed only when asked
		if s.opts.RemoteInterval > 0 {
			next = time.After(s.opts.RemoteInterval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.listReq:
		case <-next:
		}
	}
}

// listingLogEvery is how often a listing failure that repeats unchanged
// is logged again.
const listingLogEvery = time.Minute

func (s *Share) pollOnce(ctx context.Context, foundc chan<- found) error {
	start := time.Now()
	send := func(rel string, unbased bool, size int64) error {
		select {
		case foundc <- found{rel: rel, remote: true, unbased: unbased, size: size}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	// The index, loaded once and compared in memory. Its names enter the
	// case-collision check first, so an existing file keeps its name.
	folder := keymap.NewFolder()
	known, err := loadTracked(s.opts.Index, folder)
	if err != nil {
		return err
	}
	loaded := time.Since(start)

	listed, changed := 0, 0
	marker := false
	var refused []Refused
	err = s.opts.Remote.List(ctx, "", func(o objstore.Object) error {
		if layout.IsInternal(o.Key) { // the marker, recoverable deletes and the appliance's own objects
			if o.Key == layout.ShareMarker {
				marker = true
			}
			return nil
		}
		listed++
		rel, err := keymap.LocalPath(o.Key)
		if errors.Is(err, keymap.ErrDirMarker) || err == nil && s.opts.Matcher.ExcludedPath(rel) {
			return nil // excluded names stay in the bucket, untouched
		}
		if err == nil {
			err = folder.Add(rel)
		}
		if err != nil {
			refused = append(refused, refusal(o.Key, err))
			return nil
		}
		t := known.find(rel)
		if t != nil {
			t.seen = true
			if !t.remoteChanged(&o) {
				return nil
			}
		}
		changed++
		return send(rel, t == nil, o.Size)
	})
	if err != nil {
		return fmt.Errorf("list bucket: %w", err)
	}
	s.update(func(st *Status) {
		st.RefusedCount = len(refused)
		st.Refused = refused[:min(len(refused), maxListed)]
	})
	for _, r := range refused {
		s.log.Warn().Str("key", r.Key).Str("reason", r.Reason).Str("detail", r.Detail).Msg("object key refused: not written to the share")
	}

	if !marker {
		// Without the marker (wrong bucket or prefix, a lifecycle rule,
		// an empty answer) missing objects are a fault, never deletes.
		if len(known.entries) > 0 {
			return fmt.Errorf("bucket marker object %q is missing while %d files are tracked: is this the right bucket and prefix? Not treating missing objects as deletes", layout.ShareMarker, len(known.entries))
		}
		if err := s.putMarker(ctx); err != nil {
			return err
		}
	}
	if s.conditions.Load() == condUnknown {
		if err := s.probeConditional(ctx); err != nil {
			// Asked again next listing; uploads HEAD first meanwhile.
			s.log.Warn().Err(err).Msg("probing the store for conditional writes")
		}
	}
	// Entries the listing lacks (not those synced after it started); the
	// worker HEADs each before deciding.
	gone := 0
	for i := range known.entries {
		k := &known.entries[i]
		if !k.seen && k.syncedAt < start.UnixNano() {
			gone++
			if err := send(k.path, false, 0); err != nil {
				return err
			}
		}
	}
	done := time.Now()
	s.log.Debug().Int("listed", listed).Int("changed", changed).Int("gone", gone).Int("refused", len(refused)).
		Dur("index", loaded).Dur("took", done.Sub(start)).Msg("bucket listed")
	s.update(func(st *Status) { st.LastRemoteList, st.LastRemoteListDone = start, done })
	return nil
}

// tracked is the part of an index entry a listing compares, kept small so
// a pass over 100,000 files stays small.
type tracked struct {
	path     string
	etag     string
	version  string
	size     int64
	syncedAt int64 // Unix nanoseconds
	seen     bool  // the listing had the object
}

// remoteChanged is reconcile's remoteChanged on the kept fields.
func (t *tracked) remoteChanged(o *objstore.Object) bool {
	return remoteChanged(&index.Entry{Size: t.size, ETag: t.etag, VersionID: t.version}, o)
}

// trackedSet is one share's index entries in path (byte) order, the order
// of the index and of the bucket listing. One goroutine owns it.
type trackedSet struct {
	entries []tracked
	next    int // where the previous find matched, plus one
}

// loadTracked reads the index once, adding every path to folder.
func loadTracked(ix *index.Share, folder *keymap.Folder) (*trackedSet, error) {
	ts := &trackedSet{}
	err := ix.ForEachRemote(func(p string, e index.Remote) error {
		ts.entries = append(ts.entries, tracked{
			path: p, etag: e.ETag, version: e.VersionID, size: e.Size, syncedAt: unixNano(e.SyncedAt),
		})
		_ = folder.Add(p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ts.entries = slices.Clip(ts.entries)
	return ts, nil
}

// unixNano is t in Unix nanoseconds, the zero time (never synced) as the
// smallest value: before any listing.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// find returns the entry for path, or nil: the entry after the previous
// match first (listings come in index order), else a binary search.
func (ts *trackedSet) find(path string) *tracked {
	if ts.next < len(ts.entries) && ts.entries[ts.next].path == path {
		ts.next++
		return &ts.entries[ts.next-1]
	}
	i, ok := slices.BinarySearchFunc(ts.entries, path, func(t tracked, p string) int { return strings.Compare(t.path, p) })
	if !ok {
		return nil
	}
	ts.next = i + 1
	return &ts.entries[i]
}

// refusal describes a refused key for the status API.
func refusal(key string, err error) Refused {
	var re *keymap.RefusedError
	if errors.As(err, &re) {
		return Refused{Key: key, Reason: string(re.Reason), Detail: re.Detail}
	}
	return Refused{Key: key, Reason: "invalid", Detail: err.Error()}
}

// markerPut is the write of the bucket side's marker object.
func (s *Share) markerPut() objstore.PutInput {
	data := []byte(fmt.Sprintf("GenesisSync share %q. This object proves the listing is the share's; do not delete it.\n", s.opts.Name))
	sum := sha256.Sum256(data)
	return objstore.PutInput{
		Key: layout.ShareMarker, Body: bytes.NewReader(data), Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Mtime: time.Now(),
	}
}

// probeConditional learns whether the store honors conditional writes
// (optimistic relies on it): with the marker in place, rewriting it "if
// absent" must be refused. A store that ignores the condition rewrote the
// same text; one that rejects it (501 or another permanent error) wrote
// nothing; either way uploads go unconditional after a HEAD. A transient
// error leaves the question for the next listing.
func (s *Share) probeConditional(ctx context.Context) error {
	in := s.markerPut()
	in.IfAbsent = true
	_, err := s.opts.Remote.Put(ctx, in)
	switch {
	case errors.Is(err, objstore.ErrPreconditionFailed):
		s.conditions.Store(condHonored)
		s.log.Info().Msg("the store honors conditional writes: small changes are uploaded without a HEAD first")
		return nil
	case err != nil && (objstore.IsRetryable(err) || ctx.Err() != nil):
		return err
	}
	how := "ignores" // it rewrote the marker
	if err != nil {
		how = "rejects"
	}
	s.conditions.Store(condUnsupported)
	s.log.Warn().Err(err).Msgf("the store %s conditional writes (If-None-Match): every upload asks the bucket with a HEAD first, and an object changed in the bucket between that HEAD and the upload is overwritten (update the S3 server to close that window)", how)
	return nil
}

// putMarker writes the bucket side's marker object (first start).
func (s *Share) putMarker(ctx context.Context) error {
	_, err := s.opts.Remote.Put(ctx, s.markerPut())
	if err != nil {
		return fmt.Errorf("write bucket marker: %w", err)
	}
	s.log.Info().Str("key", layout.ShareMarker).Msg("bucket marker written (first start)")
	return nil
}
