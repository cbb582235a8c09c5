package tripwire

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Kind is what happened to a path.
type Kind int

const (
	// Rewrite is new content for a file the share already had.
	Rewrite Kind = iota + 1
	// Create is a file the share did not have.
	Create
	// Rename is a file moved to Event.Path from another name.
	Rename
	// Delete is a file removed; the mass-delete guard judges deletes, so
	// Burst only keeps them out of its counts.
	Delete
)

func (k Kind) String() string {
	switch k {
	case Rewrite:
		return "rewrite"
	case Create:
		return "create"
	case Rename:
		return "rename"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Event is one change of a share as the upload path sees it.
type Event struct {
	// Path is the share-relative name after the change (the new name of
	// a rename).
	Path string
	Kind Kind
	// Format is Sniff's verdict on the content after the change; the
	// zero Verdict (not Known) is right for deletes and renames whose
	// content was not read.
	Format Verdict
	// NewExtension says the share has never held a file with Path's
	// extension (the caller keeps the set).
	NewExtension bool
	// WasInvalid says the rewritten file's previous content was already
	// not valid in its known format: a rewrite that is not valid either
	// changes nothing the tripwire can judge, and is not counted.
	WasInvalid bool
}

// DefaultMaxNames is how many offending paths a Burst keeps when
// MaxNames is 0: enough for an alert to show the pattern, few enough to
// read.
const DefaultMaxNames = 20

// DefaultNoteFolders is how many distinct folders a ransom-note name must
// appear in within the window when NoteFolders is 0: one note can be a
// person's file, notes in three folders at once are ransomware walking
// the tree.
const DefaultNoteFolders = 3

// Burst watches one share's changes over a sliding window and trips on
// the patterns of ransomware at work. It is pure: the caller passes the
// time of each event. Its methods are safe for concurrent use.
//
// The rules:
//   - a rewrite counts toward the burst when its content fails its format
//     or has no known format (a rewrite that stays valid audio never
//     counts); more than MaxRewrites distinct counted paths within Window
//     trip;
//   - a rename or new file with a known ransomware extension counts toward
//     the same burst, and so does one with an extension the share never
//     held whose content is not valid in a known format (a first folder
//     of FLACs is not an attack);
//   - a ransom-note name in NoteFolders or more distinct folders within
//     Window trips.
//
// Every rewrite or new file whose content fails its format is a mismatch:
// Stats counts them, so the caller can decide whether one alone is enough
// to hold the share. A trip latches: every later Observe reports it, with
// the first reason, until Reset.
type Burst struct {
	// MaxRewrites is how many counted paths Window may hold without a
	// trip; it must be set (config owns the default).
	MaxRewrites int
	// Window is how far back counts reach; it must be set.
	Window time.Duration
	// NoteFolders: 0 means DefaultNoteFolders.
	NoteFolders int
	// MaxNames: 0 means DefaultMaxNames.
	MaxNames int

	mu         sync.Mutex
	counted    window
	notes      window
	mismatches int
	badExts    int
	offending  []string
	seen       map[string]bool
	firstBad   string
	reason     string
}

// Stats is what a Burst has seen, for the alert and the status page.
type Stats struct {
	// Counted is the distinct paths counting toward the burst within the
	// window at the last event.
	Counted int
	// Mismatches is the rewrites and new files whose content failed its
	// format since the last Reset.
	Mismatches int
	// BadExtensions is the renames and new files with a known ransomware
	// extension since the last Reset.
	BadExtensions int
	// NoteFolders is the distinct folders with a ransom-note name within
	// the window at the last event.
	NoteFolders int
	// Offending is the first offending paths (at most MaxNames), in the
	// order seen.
	Offending []string
	// Tripped says a rule tripped; Reason says which, and with what.
	Tripped bool
	Reason  string
}

// Observe records one event at now and reports whether the share's
// tripwire has tripped, with the reason of the first trip.
func (b *Burst) Observe(now time.Time, ev Event) (trip bool, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counted.prune(now, b.Window)
	b.notes.prune(now, b.Window)

	if ev.Kind == Delete {
		return b.reason != "", b.reason
	}
	if (ev.Kind == Rewrite || ev.Kind == Create) && ev.Format.Mismatch() && !ev.WasInvalid {
		b.mismatches++
		b.offend(ev.Path)
	}
	if ev.Kind == Rewrite && !(ev.Format.Known && ev.Format.Matches) && !ev.WasInvalid {
		b.counted.add(ev.Path, now)
		b.offend(ev.Path)
	}
	ext := Ext(ev.Path)
	if family, bad := badExtensions[ext]; bad && (ev.Kind == Rename || ev.Kind == Create) {
		b.badExts++
		b.counted.add(ev.Path, now)
		b.offend(ev.Path)
		if b.firstBad == "" {
			b.firstBad = fmt.Sprintf("first %s to a ransomware extension: %s (%s)", ev.Kind, ev.Path, family)
		}
	}
	if ev.NewExtension && (ev.Kind == Rename || ev.Kind == Create) && !(ev.Format.Known && ev.Format.Matches) {
		b.counted.add(ev.Path, now)
		b.offend(ev.Path)
	}
	if IsRansomNote(ev.Path) {
		b.notes.add(folder(ev.Path), now)
		b.offend(ev.Path)
		if n, need := b.notes.len(), b.noteFolders(); n >= need {
			b.trip(fmt.Sprintf("ransom-note names in %d folders within %s", n, b.Window))
		}
	}
	if n := b.counted.len(); n > b.MaxRewrites {
		reason := fmt.Sprintf("%d files rewritten without a valid format, or new under ransomware or never-seen extensions, within %s (max %d)", n, b.Window, b.MaxRewrites)
		if b.firstBad != "" {
			reason += "; " + b.firstBad
		}
		b.trip(reason)
	}
	return b.reason != "", b.reason
}

// trip latches the first reason; later ones are left to Stats' counts.
func (b *Burst) trip(reason string) {
	if b.reason == "" {
		b.reason = reason
	}
}

// offend keeps path among the first offending paths.
func (b *Burst) offend(path string) {
	max := b.MaxNames
	if max == 0 {
		max = DefaultMaxNames
	}
	if len(b.offending) >= max || b.seen[path] {
		return
	}
	if b.seen == nil {
		b.seen = make(map[string]bool)
	}
	b.seen[path] = true
	b.offending = append(b.offending, path)
}

func (b *Burst) noteFolders() int {
	if b.NoteFolders == 0 {
		return DefaultNoteFolders
	}
	return b.NoteFolders
}

// Stats returns what the Burst has seen; Offending is a copy.
func (b *Burst) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Stats{
		Counted:       b.counted.len(),
		Mismatches:    b.mismatches,
		BadExtensions: b.badExts,
		NoteFolders:   b.notes.len(),
		Offending:     append([]string(nil), b.offending...),
		Tripped:       b.reason != "",
		Reason:        b.reason,
	}
}

// Reset forgets everything, as after an admin releases a trip.
func (b *Burst) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counted, b.notes = window{}, window{}
	b.mismatches, b.badExts = 0, 0
	b.offending, b.seen, b.firstBad, b.reason = nil, nil, "", ""
}

// folder returns the share-relative folder of a name, "" for the root.
func folder(name string) string {
	i := strings.LastIndexAny(name, `/\`)
	if i < 0 {
		return ""
	}
	return strings.ToLower(name[:i])
}

// window holds distinct keys with the time each was last added, oldest
// first, so pruning is cheap however many keys an attack adds.
type window struct {
	queue []stamp
	last  map[string]time.Time
}

type stamp struct {
	key string
	at  time.Time
}

func (w *window) add(key string, at time.Time) {
	if w.last == nil {
		w.last = make(map[string]time.Time)
	}
	w.last[key] = at
	w.queue = append(w.queue, stamp{key, at})
}

// prune drops keys last added a full window or more before now.
func (w *window) prune(now time.Time, d time.Duration) {
	i := 0
	for ; i < len(w.queue) && now.Sub(w.queue[i].at) >= d; i++ {
		s := w.queue[i]
		if w.last[s.key].Equal(s.at) {
			delete(w.last, s.key)
		}
	}
	w.queue = w.queue[i:]
}

func (w *window) len() int { return len(w.last) }
