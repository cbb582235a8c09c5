package readiness

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Policy is one share's readiness check, as config's readiness key gives
// it (the caller converts; this package does not read config).
type Policy struct {
	// Share is the share the playlists are on.
	Share string
	// Playlists are share-relative globs, matched case-insensitively.
	Playlists []string
	// Mappings are the Windows prefixes (see Mapper).
	Mappings []Mapping
	// Horizon is how far ahead entries are checked; above 0.
	Horizon time.Duration
	// NamePattern is the optional file-name pattern (CompilePattern).
	NamePattern string
	// Location is the time zone air times in file names are in.
	Location *time.Location
}

// Checker runs one share's readiness check. It is read-only after New:
// any goroutine may use it.
type Checker struct {
	share   string
	globs   []string
	mapper  *Mapper
	sched   *Schedule
	horizon time.Duration
}

// New returns the checker for p.
func New(p Policy) (*Checker, error) {
	if p.Horizon <= 0 {
		return nil, errors.New("readiness: horizon must be above 0")
	}
	m, err := NewMapper(p.Share, p.Mappings)
	if err != nil {
		return nil, err
	}
	s, err := NewSchedule(p.Location, p.NamePattern)
	if err != nil {
		return nil, err
	}
	return &Checker{share: p.Share, globs: p.Playlists, mapper: m, sched: s, horizon: p.Horizon}, nil
}

// MaxPlaylistBytes bounds a playlist file: 50,000 entries of long paths
// fit; a larger file matched by a glob is likely audio, not a playlist.
const MaxPlaylistBytes = 16 << 20

// Run reads the due playlists from fsys (the share's root) and checks
// them: Read, then Check.
func (c *Checker) Run(fsys fs.FS, now time.Time, files Files) Report {
	return c.Check(now, c.Read(fsys, now), files)
}

// Read lists the playlists the globs match in fsys and reads and parses
// those due at now (unscheduled, or airing between now and the horizon),
// without opening the others. A playlist or folder that cannot be read or
// parsed comes back with Err set, so that Check reports it. The result is
// sorted by path.
func (c *Checker) Read(fsys fs.FS, now time.Time) []*Playlist {
	names, failed := c.list(fsys)
	out := failed
	for _, name := range names {
		if !c.due(c.sched.Slot(name), now) {
			continue
		}
		out = append(out, readPlaylist(fsys, name))
	}
	slices.SortFunc(out, func(a, b *Playlist) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// due reports whether a playlist in slot is checked at now.
func (c *Checker) due(slot Slot, now time.Time) bool {
	if !slot.Scheduled() {
		return true
	}
	return slot.End.After(now) && !slot.Start.After(now.Add(c.horizon))
}

func readPlaylist(fsys fs.FS, name string) *Playlist {
	fi, err := fs.Stat(fsys, name)
	if err == nil && fi.Size() > MaxPlaylistBytes {
		err = fmt.Errorf("%d bytes, more than a playlist (%d)", fi.Size(), MaxPlaylistBytes)
	}
	var data []byte
	if err == nil {
		data, err = fs.ReadFile(fsys, name)
	}
	if err != nil {
		return &Playlist{Path: name, Err: err}
	}
	pl, err := Parse(name, data)
	if err != nil {
		return &Playlist{Path: name, Err: err}
	}
	return pl
}

// list returns the files the globs match, each once, sorted, and the
// folders that could not be listed as failed playlists.
func (c *Checker) list(fsys fs.FS) (names []string, failed []*Playlist) {
	seen := map[string]bool{}
	for _, g := range c.globs {
		matches, errs := globFold(fsys, g)
		failed = append(failed, errs...)
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				names = append(names, m)
			}
		}
	}
	slices.Sort(names)
	return names, failed
}

// globFold is fs.Glob matched case-insensitively, as Windows users expect
// ('*.m3u' finds 'Hour14.M3U'), and only regular files at the last level.
// A folder that cannot be listed (other than not existing) is returned
// as a failed playlist.
func globFold(fsys fs.FS, pattern string) (files []string, failed []*Playlist) {
	segs := strings.Split(strings.ToLower(pattern), "/")
	dirs := []string{"."}
	for i, seg := range segs {
		last := i == len(segs)-1
		var next []string
		for _, d := range dirs {
			ents, err := fs.ReadDir(fsys, d)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				failed = append(failed, &Playlist{Path: d, Err: err})
			}
			for _, e := range ents {
				if ok, _ := path.Match(seg, strings.ToLower(e.Name())); !ok || e.IsDir() == last || (last && !e.Type().IsRegular()) {
					continue
				}
				next = append(next, path.Join(d, e.Name()))
			}
		}
		dirs = next
	}
	return dirs, failed
}
