package keymap

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Folder detects case collisions among the paths of one share, as a Windows
// client would meet them: two paths collide when some leading run of their
// segments (a directory, or the whole path) is equal under Unicode simple
// case folding, the equivalence of strings.EqualFold, but not byte-equal.
//
// Callers add paths in a deterministic order (local paths first, then
// remote keys in lexical order). The first path added keeps its name; Add
// refuses a later, colliding one and does not remember it. Adding the same
// exact path again is fine. Add checks nothing else: add only paths that
// LocalPath or Key accepted.
//
// A Folder holds every path of a share: each added path, a folded copy only
// when folding changes it, and one map entry per distinct path and
// directory (TestFolderMemory bounds the cost). The zero Folder is not
// usable; call NewFolder. Not safe for concurrent use: one goroutine owns it.
type Folder struct {
	// seen maps each folded path and folded directory prefix to the first
	// spelling added. Keys are substrings of the folded path, values of
	// the added path, so one Add allocates at most one new string.
	seen map[string]string
}

// NewFolder returns an empty Folder.
func NewFolder() *Folder {
	return &Folder{seen: make(map[string]string)}
}

// Add records path, or returns a *RefusedError with ReasonCaseCollision whose
// Detail names the earlier path or directory it collides with. A refused
// path is not recorded.
func (f *Folder) Add(path string) error {
	folded := foldString(path)
	// Folding maps "/" to itself and nothing else to "/", so both strings
	// have their separators at matching segment boundaries.
	i, j := 0, 0
	for {
		pi := strings.IndexByte(path[i:], '/')
		fj := strings.IndexByte(folded[j:], '/')
		p, fp := path, folded
		if pi >= 0 {
			p, fp = path[:i+pi], folded[:j+fj]
		}
		first, ok := f.seen[fp]
		if !ok {
			// This prefix is new, so every longer one is new too: every
			// Add records all prefixes of its path.
			f.record(path, folded, i, j)
			return nil
		}
		if first != p {
			return &RefusedError{Key: path, Reason: ReasonCaseCollision,
				Detail: fmt.Sprintf("collides with %q", first)}
		}
		if pi < 0 {
			return nil
		}
		i, j = i+pi+1, j+fj+1
	}
}

// record adds the prefixes of path (and folded) that end at or after byte
// i of path (j of folded).
func (f *Folder) record(path, folded string, i, j int) {
	for {
		pi := strings.IndexByte(path[i:], '/')
		if pi < 0 {
			f.seen[folded] = path
			return
		}
		fj := strings.IndexByte(folded[j:], '/')
		f.seen[folded[:j+fj]] = path[:i+pi]
		i, j = i+pi+1, j+fj+1
	}
}

// foldRune returns the representative of r's simple case folding orbit (the
// runes strings.EqualFold treats as equal to r): the orbit's smallest rune,
// or that rune's lower case when the lower case is in the orbit. Lower-case
// text is thus mostly its own representative and folds without allocating.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	if l := unicode.ToLower(m); l != m {
		for f := unicode.SimpleFold(m); f != m; f = unicode.SimpleFold(f) {
			if f == l {
				return l
			}
		}
	}
	return m
}

// foldString folds every rune of s with foldRune and keeps invalid UTF-8
// bytes as they are. It returns s itself, without allocating, when nothing
// changes.
func foldString(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			i++
			continue
		}
		if foldRune(r) != r {
			return foldFrom(s, i)
		}
		i += size
	}
	return s
}

// foldFrom folds s from byte i on, s[:i] being folded already.
func foldFrom(s string, i int) string {
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[i])
		} else {
			b.WriteRune(foldRune(r))
		}
		i += size
	}
	return b.String()
}

// hasFoldPrefix reports whether s starts with prefix under foldRune
// equivalence.
func hasFoldPrefix(s, prefix string) bool {
	for _, pr := range prefix {
		if s == "" {
			return false
		}
		r, size := utf8.DecodeRuneInString(s)
		if (r == utf8.RuneError && size == 1) || foldRune(r) != foldRune(pr) {
			return false
		}
		s = s[size:]
	}
	return true
}
