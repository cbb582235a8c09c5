package readiness

import (
	"errors"
	"path"
	"sort"
	"strings"
)

// Mapping is one Windows prefix the playout PCs use and the share folder
// it stands for (config's readiness.path_map, parsed).
type Mapping struct {
	// Windows is a drive ('Z:\') or UNC root ('\\HOST\share\'), with or
	// without folders below it; any case, either slash.
	Windows string
	// Share is the share the prefix maps into.
	Share string
	// Prefix is the share-relative folder, forward slashes, "" for the
	// share's root.
	Prefix string
}

// Target is where a playlist entry lands: a share and a clean,
// share-relative, forward-slash path, in the case the playlist writes it.
type Target struct {
	Share, Path string
}

// Mapper resolves playlist entries to share paths as a Windows client
// would: case-insensitive, '/' and '\' alike, '.' and '..' resolved, a
// relative path against the playlist's folder. A Mapper is read-only after
// NewMapper: any goroutine may use it.
type Mapper struct {
	share    string // the share the playlists are on
	prefixes []prefix
}

type prefix struct {
	vol   string   // "z:" or `\\host\share`, as written
	comps []string // folders below the volume
	to    Mapping
}

// NewMapper returns the mapper for playlists on share, with the prefixes
// ms; a Mapping without a Share maps into share. The longest matching
// prefix wins, so 'Z:\Jingles\' can go to another share than 'Z:\'.
func NewMapper(share string, ms []Mapping) (*Mapper, error) {
	m := &Mapper{share: share}
	for _, mp := range ms {
		p, err := parsePrefix(mp.Windows)
		if err != nil {
			return nil, err
		}
		if mp.Share == "" {
			mp.Share = share
		}
		p.to = mp
		m.prefixes = append(m.prefixes, p)
	}
	sort.SliceStable(m.prefixes, func(i, j int) bool { return len(m.prefixes[i].comps) > len(m.prefixes[j].comps) })
	return m, nil
}

// ErrPrefix is a Windows prefix that is neither a drive nor a UNC root.
var ErrPrefix = errors.New(`not a drive ('Z:\') or a UNC root ('\\host\share\'), or contains '..'`)

// CheckPrefix reports whether w can be a Mapping's Windows prefix (for
// config validation, which names the key).
func CheckPrefix(w string) error {
	_, err := parsePrefix(w)
	return err
}

func parsePrefix(w string) (prefix, error) {
	wp := splitWindows(w)
	if wp.vol == "" || strings.Contains(`\`+wp.rest+`\`, `\..\`) {
		return prefix{}, ErrPrefix
	}
	comps, _ := resolve(nil, wp.rest, true)
	return prefix{vol: wp.vol, comps: comps}, nil
}

// Resolve maps entry, written in the playlist at share-relative path
// playlist, to its target. It reports false when the entry lies outside
// every share: an absolute path no prefix matches, a relative one that
// climbs above the share's root with '..', or a folder root itself.
func (m *Mapper) Resolve(playlist, entry string) (Target, bool) {
	wp := splitWindows(entry)
	switch {
	case wp.bad:
		return Target{}, false
	case wp.vol != "":
		return m.absolute(wp)
	case wp.rooted:
		comps, _ := resolve(nil, wp.rest, true)
		return target(m.share, "", comps)
	}
	dir := path.Dir(playlist)
	var base []string
	if dir != "." && dir != "/" {
		base = strings.Split(dir, "/")
	}
	comps, ok := resolve(base, wp.rest, false)
	if !ok {
		return Target{}, false
	}
	return target(m.share, "", comps)
}

// absolute matches a path with a volume against the prefixes. Windows
// clamps '..' at the volume's root, so the path is resolved first.
func (m *Mapper) absolute(wp winPath) (Target, bool) {
	comps, _ := resolve(nil, wp.rest, true)
	for _, p := range m.prefixes {
		if !strings.EqualFold(p.vol, wp.vol) || len(comps) < len(p.comps) {
			continue
		}
		if equalFoldAll(p.comps, comps[:len(p.comps)]) {
			return target(p.to.Share, p.to.Prefix, comps[len(p.comps):])
		}
	}
	return Target{}, false
}

func equalFoldAll(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func target(share, prefix string, comps []string) (Target, bool) {
	if len(comps) == 0 {
		return Target{}, false
	}
	rel := strings.Join(comps, "/")
	if prefix != "" {
		rel = prefix + "/" + rel
	}
	return Target{Share: share, Path: rel}, true
}

// winPath is a Windows path split into its volume and the rest.
type winPath struct {
	vol    string // "z:" or `\\host\share`; "" when relative or rooted
	rooted bool   // starts with one '\': the current volume's root
	rest   string // below the volume, '\' separated
	bad    bool   // a UNC path without host or share
}

// splitWindows splits p, with either slash, including the \\?\ and \\.\
// long-path forms.
func splitWindows(p string) winPath {
	p = strings.ReplaceAll(p, "/", `\`)
	if strings.HasPrefix(p, `\\?\`) || strings.HasPrefix(p, `\\.\`) {
		p = p[4:]
		if hasPrefixFold(p, `UNC\`) {
			p = `\\` + p[4:]
		}
	}
	switch {
	case strings.HasPrefix(p, `\\`):
		host, rest, _ := strings.Cut(strings.TrimLeft(p, `\`), `\`)
		share, rest, _ := strings.Cut(rest, `\`)
		if host == "" || share == "" {
			return winPath{bad: true}
		}
		return winPath{vol: `\\` + host + `\` + share, rest: rest}
	case len(p) >= 2 && p[1] == ':' && isLetter(p[0]):
		return winPath{vol: p[:2], rest: p[2:]}
	case strings.HasPrefix(p, `\`):
		return winPath{rooted: true, rest: p}
	}
	return winPath{rest: p}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// resolve appends the '\'-separated rest to base, dropping empty and '.'
// components and applying '..'. Above the root, clamp (an absolute path,
// as Windows does) or report false (a relative one escaping the share).
func resolve(base []string, rest string, clamp bool) ([]string, bool) {
	comps := make([]string, len(base), len(base)+strings.Count(rest, `\`)+1)
	copy(comps, base)
	for len(rest) > 0 {
		var c string
		c, rest, _ = strings.Cut(rest, `\`)
		switch {
		case c == "" || c == ".":
		case c == "..":
			if len(comps) == 0 {
				if !clamp {
					return nil, false
				}
				continue
			}
			comps = comps[:len(comps)-1]
		default:
			comps = append(comps, c)
		}
	}
	return comps, true
}
