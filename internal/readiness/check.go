package readiness

import (
	"cmp"
	"errors"
	"slices"
	"time"
)

// TrackState is what the appliance knows of one track.
type TrackState int

// Track states, as Files reports them. The zero value, Unknown, counts as
// missing, so an adapter that forgets a case never passes a track.
const (
	Unknown TrackState = iota
	// Ready is present on the share, whole (size and hash agree with the
	// index), synced to the bucket, and not a conflict copy.
	Ready
	// BucketOnly is missing on the share but in the bucket: it is to be
	// fetched ahead of other downloads.
	BucketOnly
	// Missing is neither on the share nor in the bucket.
	Missing
	// RefusedName is a name the appliance refuses (keymap's rules).
	RefusedName
	// NotSynced is on the share but not whole or not yet in the bucket.
	NotSynced
	// Conflict is a conflict copy, or a path in an unresolved conflict.
	Conflict
)

// Files is the check's view of the tracks, implemented over the index,
// the share and the bucket listing by whoever runs the check.
//
// Track gets the path as the playlist spells it, mapped and cleaned
// (share-relative, forward slashes) but in the playlist's case. Windows
// opens files case-insensitively on the share, so the implementation
// looks rel up case-insensitively too, and returns the path as stored
// (stored, "" when not found), which the report and the fetch list use.
// The check calls Track once per distinct target, from one goroutine.
type Files interface {
	Track(share, rel string) (state TrackState, stored string)
}

// Reason is why a playlist entry, or a playlist, is a problem.
type Reason string

// Problem reasons.
const (
	ReasonMissing      Reason = "missing"
	ReasonRefusedName  Reason = "refused-name"
	ReasonNotSynced    Reason = "not-synced"
	ReasonConflict     Reason = "conflict"
	ReasonOutsideShare Reason = "outside-share"
	// ReasonUnparsable is a playlist that is not one (Problem.Line says
	// where reading stopped); none of its entries is checked.
	ReasonUnparsable Reason = "unparsable"
	// ReasonUnreadable is a playlist or folder that could not be read.
	ReasonUnreadable Reason = "unreadable"
)

// Reasons are every Reason, in a stable order (the metrics give each a
// series, zero included).
var Reasons = []Reason{ReasonMissing, ReasonRefusedName, ReasonNotSynced, ReasonConflict, ReasonOutsideShare, ReasonUnparsable, ReasonUnreadable}

// Problem is one entry (or playlist) that would put dead air on.
type Problem struct {
	// Playlist is the playlist's share-relative path.
	Playlist string
	// Line is the entry's line, or where an unparsable playlist stopped;
	// 0 for an unreadable one.
	Line int
	// Air is when the entry airs: the playlist's start plus the
	// #EXTINF/PLS lengths of the entries before it while all are known,
	// else the playlist's start (the earliest it can air). Zero for an
	// unscheduled playlist.
	Air time.Time
	// Artist and Title are the entry's, when the playlist gives them.
	Artist, Title string
	// Entry is the path as the playlist writes it.
	Entry string
	// Share and Path are where it resolved (Path as stored when the
	// share or bucket has it in another case); empty when outside-share
	// or for a playlist problem.
	Share, Path string
	Reason      Reason
	// Detail is the parse or read error of a playlist problem.
	Detail string
}

// Fetch is a track missing on the share but in the bucket, due to air.
type Fetch struct {
	Share, Path string
	// Air is its earliest air time; zero when only unscheduled
	// playlists name it.
	Air time.Time
}

// Report is one check of one share's playlists: a plain value, owned by
// the caller.
type Report struct {
	// Share is the share whose playlists were read.
	Share string
	// At is the time of the check.
	At time.Time
	// Playlists is how many playlists were due and read.
	Playlists int
	// Tracks is how many entries were checked; OK how many were Ready.
	Tracks, OK int
	// Problems are ordered by air time (unscheduled ones first: they can
	// air at any moment), then playlist and line.
	Problems []Problem
	// Fetch are the bucket-only tracks, each once, in the same order:
	// download them first.
	Fetch []Fetch
	// FirstAir is the earliest air time of a scheduled problem; zero
	// when there is none.
	FirstAir time.Time
	// Hours are the hours that scheduled entries air in, soonest first,
	// with how many entries air in each and how many of those (and of
	// the playlists starting in it) are problems: the On air panel's
	// hour by hour view. Unscheduled entries are in no hour.
	Hours []Hour
}

// Hour is one clock hour (in the schedule's time zone) of the check.
type Hour struct {
	Start            time.Time
	Tracks, Problems int
}

// ByReason counts the problems by reason.
func (r *Report) ByReason() map[Reason]int {
	out := map[Reason]int{}
	for _, p := range r.Problems {
		out[p.Reason]++
	}
	return out
}

// Check checks the entries of lists at time now against files. Playlists
// already past, or starting beyond the horizon, are left out, and so are
// entries of a due playlist whose known air time is past or beyond the
// horizon. It does no I/O beyond Files and is safe for concurrent use.
func (c *Checker) Check(now time.Time, lists []*Playlist, files Files) Report {
	run := &run{c: c, now: now, files: files, seen: map[Target]result{}, fetch: map[Target]int{}, hours: map[time.Time]*Hour{}}
	run.rep = Report{Share: c.share, At: now}
	for _, pl := range lists {
		run.playlist(pl)
	}
	run.finish()
	return run.rep
}

// result is Files' answer for one target, kept for the rest of the run.
type result struct {
	state  TrackState
	stored string
}

// run is the state of one Check.
type run struct {
	c     *Checker
	now   time.Time
	files Files
	rep   Report
	seen  map[Target]result
	fetch map[Target]int // stored target -> index in rep.Fetch
	hours map[time.Time]*Hour
}

// hour is the Hour that air falls in; nil for an unscheduled entry.
func (r *run) hour(air time.Time) *Hour {
	if air.IsZero() {
		return nil
	}
	l := air.In(r.c.sched.loc)
	start := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), 0, 0, 0, l.Location())
	h := r.hours[start]
	if h == nil {
		h = &Hour{Start: start}
		r.hours[start] = h
	}
	return h
}

// problem records p, counting it in its hour.
func (r *run) problem(p Problem) {
	r.rep.Problems = append(r.rep.Problems, p)
	if h := r.hour(p.Air); h != nil {
		h.Problems++
	}
}

func (r *run) playlist(pl *Playlist) {
	slot := r.c.sched.Slot(pl.Path)
	if !r.c.due(slot, r.now) {
		return
	}
	r.rep.Playlists++
	if pl.Err != nil {
		r.problem(playlistProblem(pl, slot))
		return
	}
	var offset time.Duration
	known := slot.Scheduled()
	for i := range pl.Entries {
		e := &pl.Entries[i]
		air := slot.Start
		if known {
			air = air.Add(offset)
		}
		if !(known && r.outside(air, e.Duration)) {
			r.entry(pl, e, air)
		}
		offset += e.Duration
		known = known && e.Duration > 0
	}
}

// outside reports whether an entry with an exact air time and length d
// has aired already or starts beyond the horizon.
func (r *run) outside(air time.Time, d time.Duration) bool {
	return d > 0 && !air.Add(d).After(r.now) || air.After(r.now.Add(r.c.horizon))
}

func (r *run) entry(pl *Playlist, e *Entry, air time.Time) {
	r.rep.Tracks++
	if h := r.hour(air); h != nil {
		h.Tracks++
	}
	p := Problem{Playlist: pl.Path, Line: e.Line, Air: air, Artist: e.Artist, Title: e.Title, Entry: e.Path}
	t, ok := r.c.mapper.Resolve(pl.Path, e.Path)
	if !ok {
		p.Reason = ReasonOutsideShare
		r.problem(p)
		return
	}
	res := r.lookup(t)
	p.Share, p.Path = t.Share, cmp.Or(res.stored, t.Path)
	switch res.state {
	case Ready:
		r.rep.OK++
	case BucketOnly:
		r.addFetch(Fetch{Share: p.Share, Path: p.Path, Air: air})
	default:
		p.Reason = reasonOf(res.state)
		r.problem(p)
	}
}

func (r *run) lookup(t Target) result {
	if res, ok := r.seen[t]; ok {
		return res
	}
	state, stored := r.files.Track(t.Share, t.Path)
	res := result{state: state, stored: stored}
	r.seen[t] = res
	return res
}

// addFetch records a bucket-only track once, at its earliest air time.
func (r *run) addFetch(f Fetch) {
	k := Target{Share: f.Share, Path: f.Path}
	i, ok := r.fetch[k]
	if !ok {
		r.fetch[k] = len(r.rep.Fetch)
		r.rep.Fetch = append(r.rep.Fetch, f)
		return
	}
	if earlier(f.Air, r.rep.Fetch[i].Air) < 0 {
		r.rep.Fetch[i].Air = f.Air
	}
}

func reasonOf(s TrackState) Reason {
	switch s {
	case RefusedName:
		return ReasonRefusedName
	case NotSynced:
		return ReasonNotSynced
	case Conflict:
		return ReasonConflict
	}
	return ReasonMissing
}

func playlistProblem(pl *Playlist, slot Slot) Problem {
	p := Problem{Playlist: pl.Path, Air: slot.Start, Reason: ReasonUnreadable, Detail: pl.Err.Error()}
	var pe *ParseError
	if errors.As(pl.Err, &pe) {
		p.Reason, p.Line, p.Detail = ReasonUnparsable, pe.Line, pe.Msg
	}
	return p
}

// earlier orders air times with zero (unscheduled: it can air at any
// moment) first.
func earlier(a, b time.Time) int {
	return cmp.Or(boolCmp(a.IsZero(), b.IsZero()), a.Compare(b))
}

// finish orders the problems and the fetch list and finds FirstAir.
func (r *run) finish() {
	slices.SortStableFunc(r.rep.Problems, func(a, b Problem) int {
		return cmp.Or(earlier(a.Air, b.Air), cmp.Compare(a.Playlist, b.Playlist), cmp.Compare(a.Line, b.Line))
	})
	slices.SortStableFunc(r.rep.Fetch, func(a, b Fetch) int {
		return cmp.Or(earlier(a.Air, b.Air), cmp.Compare(a.Share, b.Share), cmp.Compare(a.Path, b.Path))
	})
	for _, p := range r.rep.Problems {
		if !p.Air.IsZero() && (r.rep.FirstAir.IsZero() || p.Air.Before(r.rep.FirstAir)) {
			r.rep.FirstAir = p.Air
		}
	}
	for _, h := range r.hours {
		r.rep.Hours = append(r.rep.Hours, *h)
	}
	slices.SortFunc(r.rep.Hours, func(a, b Hour) int { return a.Start.Compare(b.Start) })
}

// boolCmp orders true before false.
func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}
