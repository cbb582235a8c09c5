package readiness

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// parsePLS reads a PLS file: a "[playlist]" header, then FileN=, TitleN=,
// LengthN=, NumberOfEntries= and Version= lines (';' and '#' lines are
// comments, other keys are ignored). A line without '=', a key with a bad
// or repeated N, a missing header, or a NumberOfEntries that disagrees with
// the FileN lines is a *ParseError: the file is not what its writer meant.
func parsePLS(lines []string) ([]Entry, error) {
	p := plsParser{byN: map[int]*Entry{}, first: map[int]int{}}
	for i, l := range lines {
		if err := p.line(i+1, l); err != nil {
			return nil, err
		}
	}
	return p.entries()
}

type plsParser struct {
	header    bool
	byN       map[int]*Entry
	first     map[int]int // entry number -> line of its first key
	count     int         // NumberOfEntries
	countLine int         // its line; 0 until seen
}

func (p *plsParser) line(n int, l string) error {
	switch {
	case l == "" || strings.HasPrefix(l, ";") || strings.HasPrefix(l, "#"):
		return nil
	case !p.header:
		if !strings.EqualFold(l, "[playlist]") {
			return &ParseError{Line: n, Msg: `PLS file does not start with "[playlist]"`}
		}
		p.header = true
		return nil
	}
	key, val, ok := strings.Cut(l, "=")
	if !ok {
		return &ParseError{Line: n, Msg: fmt.Sprintf("PLS line is not key=value: %q", l)}
	}
	key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
	if key == "numberofentries" {
		c, err := strconv.Atoi(val)
		if err != nil || c < 0 {
			return &ParseError{Line: n, Msg: fmt.Sprintf("bad NumberOfEntries %q", val)}
		}
		p.count, p.countLine = c, n
		return nil
	}
	return p.field(n, key, val)
}

// field records FileN, TitleN or LengthN; other keys (Version) pass.
func (p *plsParser) field(n int, key, val string) error {
	for _, f := range []string{"file", "title", "length"} {
		if !strings.HasPrefix(key, f) {
			continue
		}
		idx, err := strconv.Atoi(key[len(f):])
		if err != nil || idx < 1 {
			return &ParseError{Line: n, Msg: fmt.Sprintf("bad entry number in %q", key)}
		}
		e := p.byN[idx]
		if e == nil {
			e = &Entry{}
			p.byN[idx], p.first[idx] = e, n
		}
		return setPLSField(e, f, n, val)
	}
	return nil
}

func setPLSField(e *Entry, field string, n int, val string) error {
	switch field {
	case "file":
		if e.Line != 0 {
			return &ParseError{Line: n, Msg: "entry repeated (File line seen before)"}
		}
		e.Line, e.Path = n, val
	case "title":
		e.Artist, e.Title = splitArtistTitle(val)
	case "length":
		e.Duration = seconds(val)
	}
	return nil
}

// entries returns the FileN entries in N order, after checking them
// against NumberOfEntries.
func (p *plsParser) entries() ([]Entry, error) {
	idx := make([]int, 0, len(p.byN))
	for n := range p.byN {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	for _, n := range idx {
		if p.byN[n].Line == 0 {
			return nil, &ParseError{Line: p.first[n], Msg: fmt.Sprintf("entry %d has a Title or Length but no File", n)}
		}
	}
	if p.countLine != 0 && p.count != len(idx) {
		return nil, &ParseError{Line: p.countLine, Msg: fmt.Sprintf("NumberOfEntries is %d but the file has %d", p.count, len(idx))}
	}
	out := make([]Entry, 0, len(idx))
	for _, n := range idx {
		if !streamRE.MatchString(p.byN[n].Path) {
			out = append(out, *p.byN[n])
		}
	}
	return out, nil
}
