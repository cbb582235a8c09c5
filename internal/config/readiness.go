package config

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"
	"time"

	"genesissync/internal/readiness"
)

// Readiness defaults: a day ahead, re-checked every five minutes, so a
// track that goes missing is seen within five minutes even when no
// playlist or track changes (the watcher re-checks sooner on a change).
const (
	DefaultReadinessHorizon  = 24 * time.Hour
	DefaultReadinessInterval = 5 * time.Minute
	// MaxReadinessHorizon is as far ahead as StationPlaylist Creator
	// plans (90 days).
	MaxReadinessHorizon = 90 * 24 * time.Hour
)

// Readiness is a share's on-air readiness check: the playout's playlists
// on the share are read, and every track due within the horizon must be
// on the share, whole, synced and not a conflict copy. For example:
//
//	readiness:
//	  playlists: ['Playlists/*.m3u']
//	  path_map: {'Z:\': '', '\\genesissync\jingles\': 'jingles:'}
//	  horizon: 24h
//
// Write path_map keys in single quotes: YAML then keeps backslashes as
// they are.
type Readiness struct {
	// Playlists are share-relative globs (forward slashes; '*', '?' and
	// '[...]' within one folder level, matched case-insensitively like
	// Windows) naming the playlist files to read: M3U, M3U8, PLS or plain
	// lists of one path per line. None turns the check off.
	Playlists []string `mapstructure:"playlists"`
	// PathMap maps Windows path prefixes that playlists use (a drive
	// letter such as `Z:\` or a UNC root such as `\\GENESISSYNC\studio\`)
	// to share-relative prefixes (`''` is the share's root, `Music/` a
	// folder). A value `othershare:Music/` maps into another configured
	// share: Windows names cannot contain ':', so the part before the
	// first ':' is always a share name. Matching is case-insensitive and
	// slash-agnostic; the longest matching prefix wins. The appliance's
	// own UNC root of every share, `\\<netbios_name>\<share>\`, is always
	// mapped unless a key names it. Relative paths in a playlist resolve
	// against the playlist's folder and need no entry.
	PathMap PathMap `mapstructure:"path_map"`
	// Horizon is how far ahead tracks are checked: playlists whose air
	// time (from the file name) starts later are not read yet.
	Horizon time.Duration `mapstructure:"horizon"`
	// NamePattern is a regular expression for air times in playlist file
	// names of other shapes than the built-in ones (YYYY-MM-DD-HH,
	// YYYYMMDDHH, YYMMDDHH, YYYY-MM-DD), matched against the base name
	// before them; named groups year (2 or 4 digits), month and day are
	// required, hour and minute optional, e.g.
	// `^(?P<month>\d\d)(?P<day>\d\d)(?P<year>\d\d)-(?P<hour>\d\d)`.
	NamePattern string `mapstructure:"name_pattern"`
	// Interval is the period of the timer re-check, which also moves the
	// horizon forward.
	Interval time.Duration `mapstructure:"interval"`
}

// PathMap is readiness.path_map: Windows prefix to share-relative prefix,
// optionally "share:prefix". Keys arrive lower-cased (viper folds them),
// which the case-insensitive matching ignores.
type PathMap map[string]string

// On reports whether the share checks readiness (some playlists given).
func (r Readiness) On() bool { return len(r.Playlists) > 0 }

// Policy is the readiness package's policy for share self, with air
// times in loc (the appliance's time zone). It assumes a validated config.
func (r Readiness) Policy(self string, loc *time.Location) readiness.Policy {
	return readiness.Policy{
		Share:       self,
		Playlists:   slices.Clone(r.Playlists),
		Mappings:    r.Mappings(self),
		Horizon:     r.Horizon,
		NamePattern: r.NamePattern,
		Location:    loc,
	}
}

// Mappings returns the path map of share self parsed, sorted by Windows
// prefix; values without a share name map into self.
func (r Readiness) Mappings(self string) []readiness.Mapping {
	out := make([]readiness.Mapping, 0, len(r.PathMap))
	for _, k := range slices.Sorted(maps.Keys(r.PathMap)) {
		share, prefix := splitMapTarget(r.PathMap[k])
		out = append(out, readiness.Mapping{Windows: k, Share: cmp.Or(share, self), Prefix: cleanPrefix(prefix)})
	}
	return out
}

// splitMapTarget splits a path_map value into its share ("" for the
// share the playlist is on) and its share-relative prefix.
func splitMapTarget(v string) (share, prefix string) {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		return v[:i], v[i+1:]
	}
	return "", v
}

// cleanPrefix is a prefix value with forward slashes and no leading or
// trailing slash; "" for the root.
func cleanPrefix(p string) string {
	p = strings.Trim(strings.ReplaceAll(p, `\`, "/"), "/")
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// windowsKey is a Windows prefix folded for comparison: lower case,
// backslashes, no trailing separator.
func windowsKey(k string) string {
	return strings.TrimRight(strings.ToLower(strings.ReplaceAll(k, "/", `\`)), `\`)
}

// applyDefaults fills horizon and interval and, when the check is on,
// maps the appliance's own UNC root of every share.
func (r *Readiness) applyDefaults(netbios string, shares []string, self string) {
	if r.Horizon == 0 {
		r.Horizon = DefaultReadinessHorizon
	}
	if r.Interval == 0 {
		r.Interval = DefaultReadinessInterval
	}
	if !r.On() {
		return
	}
	if r.PathMap == nil {
		r.PathMap = PathMap{}
	}
	have := map[string]bool{}
	for k := range r.PathMap {
		have[windowsKey(k)] = true
	}
	for _, s := range shares {
		k := strings.ToLower(`\\` + netbios + `\` + s + `\`)
		if have[windowsKey(k)] {
			continue
		}
		v := s + ":"
		if s == self {
			v = ""
		}
		r.PathMap[k] = v
	}
}

func (r *Readiness) validate(key string, shares map[string]*Share, add addFunc) {
	for i, g := range r.Playlists {
		if msg := checkPlaylistGlob(g); msg != "" {
			add(fmt.Sprintf("%s.playlists[%d]", key, i), "%s; got %q", msg, g)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.PathMap)) {
		if err := readiness.CheckPrefix(k); err != nil {
			add(key+".path_map."+k, "%v", err)
		}
		if msg := checkMapTarget(r.PathMap[k], shares); msg != "" {
			add(key+".path_map."+k, "%s; got %q", msg, r.PathMap[k])
		}
	}
	if r.Horizon < time.Minute || r.Horizon > MaxReadinessHorizon {
		add(key+".horizon", "must be between 1m and %s; got %s", MaxReadinessHorizon, r.Horizon)
	}
	if r.Interval < 10*time.Second || r.Interval > 24*time.Hour {
		add(key+".interval", "must be between 10s and 24h; got %s", r.Interval)
	}
	if _, err := readiness.CompilePattern(r.NamePattern); err != nil {
		add(key+".name_pattern", "%v", err)
	}
}

func checkPlaylistGlob(g string) string {
	switch {
	case g == "":
		return "must not be empty"
	case strings.HasPrefix(g, "/"):
		return "must be share-relative (no leading '/')"
	case strings.Contains(g, `\`):
		return `must use '/' between folders, not '\'`
	case hasControl(g):
		return "contains control characters"
	}
	for _, seg := range strings.Split(g, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "has an empty, '.' or '..' segment"
		}
	}
	if _, err := path.Match(g, ""); err != nil {
		return "bad pattern"
	}
	return ""
}

func checkMapTarget(v string, shares map[string]*Share) string {
	share, prefix := splitMapTarget(v)
	if strings.Contains(v, ":") {
		if _, ok := shares[share]; !ok {
			return "names no configured share before ':'"
		}
	}
	p := strings.ReplaceAll(prefix, `\`, "/")
	switch {
	case strings.HasPrefix(p, "/"):
		return "must be share-relative (no leading '/')"
	case hasControl(p):
		return "contains control characters"
	case strings.Contains("/"+p+"/", "/../"):
		return "must not contain '..'"
	}
	return ""
}

// pathMapHook rebuilds path_map keys that viper split at dots
// ('\\192.168.1.10\studio\' arrives as nested maps), joining them back
// with '.', so UNC names with dots map as written.
func pathMapHook(_ reflect.Type, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(PathMap{}) {
		return data, nil
	}
	m, ok := data.(map[string]any)
	if !ok {
		return data, nil
	}
	out := map[string]any{}
	flattenInto(out, "", m)
	return out, nil
}

func flattenInto(out map[string]any, prefix string, m map[string]any) {
	for k, v := range m {
		if prefix != "" {
			k = prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			flattenInto(out, k, v)
		case nil:
			out[k] = ""
		default:
			out[k] = v
		}
	}
}
