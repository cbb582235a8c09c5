package watch

import (
	"sort"
	"strings"
)

// pending accumulates the changes of one batch and collapses them as they
// arrive, so that its size stays bounded by fullCollapse: more than
// dirCollapse distinct entries directly inside one directory become a Dir
// change for that directory (a collapse of the share root becomes Full), and
// more than fullCollapse entries in all become Full.
//
// A Dir change covers its own path and everything below it; Full covers
// everything. pending is pure logic, not safe for concurrent use.
type pending struct {
	dirCollapse  int
	fullCollapse int

	full  bool
	files map[string]struct{} // path changes, share-relative
	dirs  map[string]struct{} // Dir changes, share-relative, never ""
	count map[string]int      // parent directory -> entries of files and dirs directly inside it
}

func newPending(dirCollapse, fullCollapse int) *pending {
	return &pending{
		dirCollapse:  dirCollapse,
		fullCollapse: fullCollapse,
		files:        make(map[string]struct{}),
		dirs:         make(map[string]struct{}),
		count:        make(map[string]int),
	}
}

func (p *pending) empty() bool {
	return !p.full && len(p.files) == 0 && len(p.dirs) == 0
}

// addFull replaces everything pending with one Full change.
func (p *pending) addFull() {
	p.full = true
	clear(p.files)
	clear(p.dirs)
	clear(p.count)
}

// covered reports whether a pending Full or Dir change already covers rel.
func (p *pending) covered(rel string) bool {
	if p.full {
		return true
	}
	for d := rel; d != ""; d = parentOf(d) {
		if _, ok := p.dirs[d]; ok {
			return true
		}
	}
	return false
}

// addFile records a path change for rel ("" is never passed).
func (p *pending) addFile(rel string) {
	if p.covered(rel) {
		return
	}
	if _, ok := p.files[rel]; ok {
		return
	}
	p.files[rel] = struct{}{}
	p.added(parentOf(rel))
}

// addDir records a recursive rescan of rel; rel "" (the share root) is Full.
func (p *pending) addDir(rel string) {
	if rel == "" {
		p.addFull()
		return
	}
	if p.covered(rel) {
		return
	}
	prefix := rel + "/"
	for f := range p.files {
		if f == rel || strings.HasPrefix(f, prefix) {
			delete(p.files, f)
			p.removed(parentOf(f))
		}
	}
	for d := range p.dirs {
		if strings.HasPrefix(d, prefix) {
			delete(p.dirs, d)
			p.removed(parentOf(d))
		}
	}
	p.dirs[rel] = struct{}{}
	p.added(parentOf(rel))
}

// added counts a new entry directly inside parent and collapses if needed.
func (p *pending) added(parent string) {
	p.count[parent]++
	if p.count[parent] > p.dirCollapse {
		p.addDir(parent)
	}
	if !p.full && len(p.files)+len(p.dirs) > p.fullCollapse {
		p.addFull()
	}
}

func (p *pending) removed(parent string) {
	if p.count[parent]--; p.count[parent] <= 0 {
		delete(p.count, parent)
	}
}

// take returns the pending changes sorted by path (or one Full change) and
// empties p. It returns nil when nothing is pending.
func (p *pending) take() []Change {
	if p.empty() {
		return nil
	}
	if p.full {
		p.full = false
		return []Change{{Full: true}}
	}
	out := make([]Change, 0, len(p.files)+len(p.dirs))
	for f := range p.files {
		out = append(out, Change{Path: f})
	}
	for d := range p.dirs {
		out = append(out, Change{Path: d, Dir: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	clear(p.files)
	clear(p.dirs)
	clear(p.count)
	return out
}

// parentOf returns the share-relative parent of rel; "" is the share root.
func parentOf(rel string) string {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return ""
	}
	return rel[:i]
}
