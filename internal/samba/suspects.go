package samba

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Suspect is an SMB client that may have made a share's suspicious
// changes (the ransomware tripwire): who it is, and why it is named. It is
// a plain value; any goroutine may read it.
type Suspect struct {
	User string // the account the client logged on as
	// Machine is the client as smbd names it: its address, or its DNS name
	// when smb.conf turns hostname lookups on. smbd reports no NetBIOS or
	// workstation name over SMB2/3.
	Machine string
	// Remote is the client end of its latest connection, host:port.
	Remote string
	Share  string // the share's name
	Level  SuspectLevel
	// Evidence says why, in a few words: "had 3 of the changed files
	// open for writing", "held files open for writing on the share",
	// "connected to the share".
	Evidence string
	// Changed is how many of the changed paths it had open for writing;
	// Paths are the first few of them, sorted.
	Changed int
	Paths   []string
	// LastSeen is when smbd last showed it doing what Evidence says.
	LastSeen time.Time
}

// SuspectLevel ranks the evidence against a Suspect; lower is stronger.
type SuspectLevel int

const (
	// SuspectChanged had some of the changed paths open for writing.
	SuspectChanged SuspectLevel = iota + 1
	// SuspectWriting held other files open for writing on the share.
	SuspectWriting
	// SuspectConnected was connected to the share, no write open seen.
	SuspectConnected
)

// suspectPaths is how many matching paths a Suspect lists.
const suspectPaths = 5

// sighting is one thing smbd showed a client doing at one poll: holding
// Path open for writing on Share, or, with Path empty, being connected to
// Share.
type sighting struct {
	Share, User, Machine, Remote string
	Path                         string
	At                           time.Time
}

// sightingKey is what makes two sightings the same for the watcher's
// memory; the later one's Remote and At are kept.
type sightingKey struct {
	share, user, machine, path string
}

func (s sighting) key() sightingKey {
	return sightingKey{share: s.Share, user: s.User, machine: s.Machine, path: s.Path}
}

// rankSuspects turns sightings into the clients that may have changed
// paths (share-relative, slash-separated) on share, one Suspect per user
// and machine, strongest evidence first: clients that had any of paths
// open for writing (the more of them, the earlier), then clients holding
// other files open for writing on the share, then clients merely connected
// to it; ties go to the most recently seen. Sightings of other shares and
// of unnamed clients are ignored.
func rankSuspects(share string, paths []string, seen []sighting) []Suspect {
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[cleanSharePath(p)] = true
	}
	type who struct{ user, machine string }
	type tally struct {
		Suspect
		changed  map[string]bool
		writing  bool
		remoteAt time.Time
		// The latest sighting of any kind, of a write open, of a write
		// open of a changed path.
		seenAt, writingAt, changedAt time.Time
	}
	byWho := map[who]*tally{}
	for _, s := range seen {
		if s.Share != share || (s.User == "" && s.Machine == "") {
			continue
		}
		k := who{s.User, s.Machine}
		t := byWho[k]
		if t == nil {
			t = &tally{Suspect: Suspect{User: s.User, Machine: s.Machine, Share: share}, changed: map[string]bool{}}
			byWho[k] = t
		}
		if s.Remote != "" && !s.At.Before(t.remoteAt) {
			t.Remote, t.remoteAt = s.Remote, s.At
		}
		t.seenAt = later(t.seenAt, s.At)
		if s.Path == "" {
			continue
		}
		t.writing, t.writingAt = true, later(t.writingAt, s.At)
		if p := cleanSharePath(s.Path); want[p] {
			t.changed[p] = true
			t.changedAt = later(t.changedAt, s.At)
		}
	}
	out := make([]Suspect, 0, len(byWho))
	for _, t := range byWho {
		s := t.Suspect
		switch {
		case len(t.changed) > 0:
			s.Level, s.Changed, s.LastSeen = SuspectChanged, len(t.changed), t.changedAt
			for p := range t.changed {
				s.Paths = append(s.Paths, p)
			}
			slices.Sort(s.Paths)
			s.Paths = slices.Clip(s.Paths[:min(len(s.Paths), suspectPaths)])
			if s.Changed == 1 {
				s.Evidence = "had one of the changed files open for writing"
			} else {
				s.Evidence = fmt.Sprintf("had %d of the changed files open for writing", s.Changed)
			}
		case t.writing:
			s.Level, s.Evidence, s.LastSeen = SuspectWriting, "held files open for writing on the share", t.writingAt
		default:
			s.Level, s.Evidence, s.LastSeen = SuspectConnected, "connected to the share", t.seenAt
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Suspect) int {
		return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(b.Changed, a.Changed), b.LastSeen.Compare(a.LastSeen),
			cmp.Compare(a.User, b.User), cmp.Compare(a.Machine, b.Machine))
	})
	return out
}

// cleanSharePath is p as Samba names a file relative to its share:
// slash-separated, no leading slash, "." for the root.
func cleanSharePath(p string) string {
	if p = strings.TrimPrefix(path.Clean("/"+p), "/"); p != "" {
		return p
	}
	return "."
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
