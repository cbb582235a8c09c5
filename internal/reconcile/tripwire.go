package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"genesissync/internal/index"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
	"genesissync/internal/tripwire"
)

// TripwireOptions turn on a share's ransomware tripwire (Options.Tripwire).
// The thresholds come from config.
type TripwireOptions struct {
	// MaxRewrites, Window and NoteFolders are tripwire.Burst's.
	MaxRewrites int
	Window      time.Duration
	NoteFolders int
	// OnTrip, if set, runs once per trip on a goroutine Run owns, as soon
	// as the share trips: it takes what must be taken at once (a held
	// snapshot, the SMB clients that had the files open) and returns it
	// to be shown with the trip. It must return when ctx ends.
	OnTrip func(ctx context.Context, t Trip) TripEvidence
	// OnEvidence, if set, is called once OnTrip's evidence is on the
	// status (the daemon evaluates its alerts again at once).
	OnEvidence func(share string)
	// OnSuspect, if set, is called (at most every suspectEvery) when a
	// change counts toward the burst or is held, from the upload
	// goroutine: the daemon then watches the share's SMB clients closely,
	// so that a trip can name who had the files open. It must not block.
	OnSuspect func(share string)
}

// suspectEvery bounds how often OnSuspect is called.
const suspectEvery = 30 * time.Second

// Trip is a share's tripwire as it tripped.
type Trip struct {
	Share  string
	At     time.Time
	Reason string
	// Paths are the first offending paths, in the order seen.
	Paths []string
}

// TripEvidence is what the daemon gathered when the share tripped. It is a
// value.
type TripEvidence struct {
	// Snapshot is the held ZFS snapshot taken at the trip ("" if none).
	Snapshot string `json:"snapshot,omitempty"`
	// Clients are the SMB clients most likely at work, likeliest first.
	Clients []TripClient `json:"clients"`
	// Problems say what could not be gathered, and why.
	Problems []string `json:"problems,omitempty"`
}

// TripClient is an SMB client named by a trip.
type TripClient struct {
	User     string   `json:"user"`
	Machine  string   `json:"machine"`
	Evidence string   `json:"evidence"`
	Paths    []string `json:"paths,omitempty"`
}

// TripwireStatus is a share's tripwire on the status: whether it tripped,
// and the changes it holds back from the bucket.
type TripwireStatus struct {
	Tripped   bool      `json:"tripped"`
	TrippedAt time.Time `json:"tripped_at,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	// Offending are the first offending paths, in the order seen.
	Offending []string `json:"offending"`
	// Held are the changes waiting (by path, at most 100 listed;
	// HeldCount has them all): a tripped share's changes of existing
	// files, and single rewrites whose content no longer matches their
	// format or that carry a ransomware extension, tripped or not.
	Held      []HeldChange `json:"held"`
	HeldCount int          `json:"held_count"`
	// Counted, Mismatches, BadExtensions and NoteFolders are the burst's
	// counts (tripwire.Stats).
	Counted       int `json:"counted"`
	Mismatches    int `json:"mismatches"`
	BadExtensions int `json:"bad_extensions"`
	NoteFolders   int `json:"note_folders"`
	// MaxRewrites and WindowSeconds are the share's thresholds.
	MaxRewrites   int     `json:"max_rewrites"`
	WindowSeconds float64 `json:"window_seconds"`
	// Evidence is what OnTrip gathered; nil until it returned.
	Evidence *TripEvidence `json:"evidence,omitempty"`
	// SuspectSince is the first suspicious change since the tripwire was
	// last released or reset: a restore "from before the trip" restores
	// the share as it was just before it.
	SuspectSince time.Time `json:"suspect_since,omitzero"`
}

// HeldChange is a change the tripwire keeps from the bucket.
type HeldChange struct {
	Path string `json:"path"`
	// Change is "rewrite" (an existing file) or "create" (a new one).
	Change string    `json:"change"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// heldError is the Inspector's refusal: the change did not leave.
type heldError struct{ change HeldChange }

func (e *heldError) Error() string {
	return "held by the ransomware tripwire: " + e.change.Reason
}

// tripGuard applies one share's tripwire to its changes. Inspect runs on
// the upload goroutines, the rest on the loop or Status: every method is
// safe for concurrent use, and the queries and settled/saw are no-ops on
// a nil *tripGuard (the tripwire off).
type tripGuard struct {
	share string
	opts  TripwireOptions
	burst *tripwire.Burst
	now   func() time.Time
	trips chan Trip // to serve; one waiting trip is enough

	mu sync.Mutex
	// exts are the extensions the share holds or held, lower case.
	exts      map[string]bool
	held      map[string]HeldChange
	released  map[string]bool // let through once by a person, until synced
	trippedAt time.Time
	since     time.Time // the first suspicious change since the last reset
	suspected time.Time // when OnSuspect was last called
	evidence  *TripEvidence
}

var _ transfer.Inspector = (*tripGuard)(nil)

func newTripGuard(share string, o TripwireOptions) *tripGuard {
	return &tripGuard{
		share: share,
		opts:  o,
		burst: &tripwire.Burst{MaxRewrites: o.MaxRewrites, Window: o.Window, NoteFolders: o.NoteFolders},
		now:   time.Now,
		trips: make(chan Trip, 1),
		exts:  map[string]bool{}, held: map[string]HeldChange{}, released: map[string]bool{},
	}
}

// learn adds the extensions of the index's paths: what the share held
// before this run is not new.
func (g *tripGuard) learn(idx *index.Share) error {
	exts := map[string]bool{}
	err := idx.ForEach(func(p string, _ index.Entry) error {
		exts[tripwire.Ext(p)] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("tripwire: read the share's extensions: %w", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for e := range exts {
		g.exts[e] = true
	}
	return nil
}

// saw notes that rel is on the share legitimately (a download).
func (g *tripGuard) saw(rel string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.exts[tripwire.Ext(rel)] = true
}

// Inspect judges a change before it leaves: it observes the burst and
// returns a *heldError for a change that must wait. base is the entry it
// would replace (nil: a new file).
func (g *tripGuard) Inspect(rel string, head []byte, base *index.Entry) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	ext := tripwire.Ext(rel)
	if g.released[rel] {
		g.exts[ext] = true
		return nil
	}
	now := g.now()
	kind := tripwire.Create
	if base != nil && !base.LocalGone {
		kind = tripwire.Rewrite
	}
	v := tripwire.Sniff(rel, head)
	wasInvalid := kind == tripwire.Rewrite && base.NotFormat
	trip, reason := g.burst.Observe(now, tripwire.Event{Path: rel, Kind: kind, Format: v, NewExtension: !g.exts[ext], WasInvalid: wasInvalid})
	_, bad := tripwire.BadExtension(rel)
	valid := v.Known && v.Matches
	g.suspect(now, trip || bad || tripwire.IsRansomNote(rel) || (v.Mismatch() && !wasInvalid) || (!valid && !wasInvalid && (kind == tripwire.Rewrite || !g.exts[ext])))
	if trip && g.trippedAt.IsZero() {
		g.trippedAt = now
		t := Trip{Share: g.share, At: now, Reason: reason, Paths: g.burst.Stats().Offending}
		select {
		case g.trips <- t:
		default: // serve has one waiting already
		}
	}
	family, _ := tripwire.BadExtension(rel)
	var why string
	switch {
	case trip && kind == tripwire.Rewrite:
		why = "the share's tripwire tripped (" + reason + "): changes of existing files wait for a person"
	case trip && (!valid || tripwire.IsRansomNote(rel)):
		why = "the share's tripwire tripped (" + reason + "): a new file leaves only when valid in its format"
	case kind == tripwire.Rewrite && v.Mismatch() && !wasInvalid:
		why = "the content no longer matches " + ext + ": " + v.Detail
	case bad:
		why = "a ransomware extension (" + ext + ", " + family + ")"
	}
	if why == "" {
		g.exts[ext] = true
		return nil
	}
	c := HeldChange{Path: rel, Change: kind.String(), Reason: why, At: now}
	g.held[rel] = c
	return &heldError{change: c}
}

// suspect calls OnSuspect for a suspicious change at now, at most every
// suspectEvery. Caller holds g.mu.
func (g *tripGuard) suspect(now time.Time, suspicious bool) {
	if suspicious && g.since.IsZero() {
		g.since = now
	}
	if !suspicious || g.opts.OnSuspect == nil || now.Sub(g.suspected) < suspectEvery {
		return
	}
	g.suspected = now
	g.opts.OnSuspect(g.share)
}

// tripped reports whether the share's tripwire tripped and waits for a
// person.
func (g *tripGuard) tripped() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.trippedAt.IsZero()
}

// holds reports whether rel's change waits for a person.
func (g *tripGuard) holds(rel string) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.held[rel]
	return ok
}

// alarmed reports whether the share tripped or holds any change.
func (g *tripGuard) alarmed() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.trippedAt.IsZero() || len(g.held) > 0
}

// renameMayCopy reports whether a new file at rel may be copied
// server-side from its old name without inspection: only while nothing
// tripped, under an extension the share knows that is not a ransomware
// one.
func (g *tripGuard) renameMayCopy(rel string) bool {
	if g == nil {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	_, bad := tripwire.BadExtension(rel)
	return g.trippedAt.IsZero() && !bad && g.exts[tripwire.Ext(rel)]
}

// settled forgets rel: a job brought it in line otherwise.
func (g *tripGuard) settled(rel string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.held, rel)
	delete(g.released, rel)
}

// release is a person's word that the changes are legitimate: the burst
// starts over, the trip and its evidence are gone, and every held path is
// returned, let through until it syncs.
func (g *tripGuard) release() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	paths := make([]string, 0, len(g.held))
	for p := range g.held {
		paths = append(paths, p)
		g.released[p] = true
	}
	g.clearTrip()
	sort.Strings(paths)
	return paths
}

// clearTrip forgets the trip, its evidence, the held changes and the
// burst. Caller holds g.mu.
func (g *tripGuard) clearTrip() {
	g.burst.Reset()
	clear(g.held)
	g.trippedAt, g.evidence, g.since = time.Time{}, nil, time.Time{}
}

// rearm clears the trip after a restore: the burst starts over, and the
// held changes are returned by kind to be judged again (a restored file
// is in line; one still encrypted is held again), none let through.
func (g *tripGuard) rearm() (rewrites, creates []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p, c := range g.held {
		if c.Change == tripwire.Create.String() {
			creates = append(creates, p)
		} else {
			rewrites = append(rewrites, p)
		}
	}
	g.clearTrip()
	sort.Strings(rewrites)
	sort.Strings(creates)
	return rewrites, creates
}

// serve runs OnTrip for each trip until ctx ends, and keeps its evidence
// while the same trip stands.
func (g *tripGuard) serve(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case t := <-g.trips:
			if g.opts.OnTrip == nil {
				continue
			}
			ev := g.opts.OnTrip(ctx, t)
			g.mu.Lock()
			current := g.trippedAt.Equal(t.At)
			if current {
				g.evidence = &ev
			}
			g.mu.Unlock()
			if current && g.opts.OnEvidence != nil {
				g.opts.OnEvidence(g.share)
			}
		}
	}
}

// view is the tripwire's status, its lists copies.
func (g *tripGuard) view(n int) *TripwireStatus {
	st := g.burst.Stats()
	g.mu.Lock()
	defer g.mu.Unlock()
	v := &TripwireStatus{
		Tripped: !g.trippedAt.IsZero(), TrippedAt: g.trippedAt, Reason: st.Reason,
		Offending: st.Offending, HeldCount: len(g.held),
		Counted: st.Counted, Mismatches: st.Mismatches, BadExtensions: st.BadExtensions, NoteFolders: st.NoteFolders,
		MaxRewrites: g.opts.MaxRewrites, WindowSeconds: g.opts.Window.Seconds(),
		SuspectSince: g.since,
	}
	if g.evidence != nil {
		ev := *g.evidence
		ev.Clients = append([]TripClient(nil), ev.Clients...)
		ev.Problems = append([]string(nil), ev.Problems...)
		v.Evidence = &ev
	}
	v.Held = make([]HeldChange, 0, min(len(g.held), n))
	for _, c := range g.held {
		v.Held = append(v.Held, c)
	}
	sort.Slice(v.Held, func(i, j int) bool { return v.Held[i].Path < v.Held[j].Path })
	v.Held = v.Held[:min(len(v.Held), n)]
	return v
}

// inspectLocal reads rel's first bytes and inspects them: for the changes
// that leave without the uploader's hash pass first (a conflict's local
// version, after the bucket's is saved).
func (g *tripGuard) inspectLocal(root, rel string, base *index.Entry) error {
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, tripwire.HeadSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("tripwire: read %q: %w", rel, err)
	}
	return g.Inspect(rel, head[:n], base)
}

// isHeld reports whether err is the tripwire's hold.
func isHeld(err error) bool {
	var h *heldError
	return errors.As(err, &h)
}

// releaseRequest is a person's release of the tripwire (ReleaseTripwire).
type releaseRequest struct {
	reply chan []string
}

// Tripwire returns the share's tripwire status; nil when it is off. Safe
// for concurrent use.
func (s *Share) Tripwire() *TripwireStatus {
	if s.trip == nil {
		return nil
	}
	return s.trip.view(maxListed)
}

// Inspector is the share's tripwire for its uploader
// (transfer.Uploader.WithInspector); nil when the tripwire is off. The
// assembly installs it before Run.
func (s *Share) Inspector() transfer.Inspector {
	if s.trip == nil {
		return nil
	}
	return s.trip
}

// ReleaseTripwire is a person's word that the held changes are
// legitimate: the trip is cleared, the burst starts over and every held
// change is planned again at once, let through. It returns the released
// paths. Safe for concurrent use.
func (s *Share) ReleaseTripwire(ctx context.Context) ([]string, error) {
	if s.trip == nil {
		return nil, errors.New("the tripwire is off for this share")
	}
	r := releaseRequest{reply: make(chan []string, 1)}
	select {
	case s.tripReleases <- r:
	case <-s.stopped:
		return nil, errors.New("share is not running")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case paths := <-r.reply:
		return paths, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Rearm is what follows a restore from before the trip: the trip is
// cleared and every held change is judged again, none let through (a
// restored file is in line, a file still encrypted is held again). The
// files the attack created (held new files) are moved to the share's
// trash when trashCreates, recoverable there. It returns what it judged
// again and what it moved. Safe for concurrent use.
func (s *Share) Rearm(ctx context.Context, trashCreates bool) (RearmResult, error) {
	if s.trip == nil {
		return RearmResult{}, errors.New("the tripwire is off for this share")
	}
	r := rearmRequest{trash: trashCreates, reply: make(chan RearmResult, 1)}
	select {
	case s.tripRearms <- r:
	case <-s.stopped:
		return RearmResult{}, errors.New("share is not running")
	case <-ctx.Done():
		return RearmResult{}, ctx.Err()
	}
	select {
	case res := <-r.reply:
		return res, nil
	case <-ctx.Done():
		return RearmResult{}, ctx.Err()
	}
}

// RearmResult is what Rearm did.
type RearmResult struct {
	// Rejudged are the held paths planned again.
	Rejudged []string `json:"rejudged"`
	// Trashed are the new files moved to the share's trash, with where;
	// TrashFailed those that could not be (they are judged again).
	Trashed     map[string]string `json:"trashed"`
	TrashFailed map[string]string `json:"trash_failed,omitempty"`
}

type rearmRequest struct {
	trash bool
	reply chan RearmResult
}

// rearm carries out Rearm on the loop goroutine. Moving a few files to
// the trash is quick: the attack's new files are bounded by how long the
// share held.
func (s *Share) rearm(ctx context.Context, trash bool) RearmResult {
	rewrites, creates := s.trip.rearm()
	res := RearmResult{Trashed: map[string]string{}}
	again := rewrites
	for _, rel := range creates {
		if !trash || s.opts.Trash == nil {
			again = append(again, rel)
			continue
		}
		f, err := scan.Stat(s.opts.Root, rel)
		if err == nil {
			var where string
			if where, err = s.opts.Trash.TrashLocal(ctx, rel, f); err == nil {
				res.Trashed[rel] = where
				continue
			}
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed already
		}
		if res.TrashFailed == nil {
			res.TrashFailed = map[string]string{}
		}
		res.TrashFailed[rel] = err.Error()
		again = append(again, rel)
	}
	s.replan(again)
	res.Rejudged = again
	s.log.Warn().Int("rejudged", len(again)).Int("trashed", len(res.Trashed)).Int("trash_failed", len(res.TrashFailed)).
		Msg("tripwire re-armed after a restore: held changes judged again, the attack's new files moved to the trash")
	return res
}

// replan makes paths pending, due at once and judged afresh. Loop
// goroutine only.
func (s *Share) replan(paths []string) {
	for _, rel := range paths {
		p := s.pend[rel]
		if p == nil {
			p = &pending{since: time.Now()}
			s.pend[rel] = p
		}
		p.notBefore, p.lane = time.Time{}, laneUnknown
	}
}

// releaseTrip carries out a release on the loop goroutine.
func (s *Share) releaseTrip() []string {
	paths := s.trip.release()
	s.replan(paths)
	s.log.Warn().Int("released", len(paths)).Msg("tripwire released by a person: the held changes are legitimate and leave for the bucket")
	return paths
}
