package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/readiness"
)

// withJingles is minimal plus a second share, jingles, for path_map values
// that name another share.
const withJingles = minimal + `    readiness:
      playlists: ['Playlists/*.m3u', 'Playlists/*.pls']
      path_map:
        'Z:\': ''
        'Z:\Jingles\': 'jingles:'
        '\\192.168.1.10\studio\': ''
        '\\genesissync\studio\Music': 'Library/Music'
  jingles:
    path: /srv/jingles
    access: {studio: rw}
    target: {bucket: station, endpoint: "http://127.0.0.1:9000", access_key_id: k, secret_access_key: s}
`

func TestReadinessDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), nil)
	require.NoError(t, err)
	r := cfg.Shares["studio"].Readiness
	require.False(t, r.On())
	require.Equal(t, DefaultReadinessHorizon, r.Horizon)
	require.Equal(t, DefaultReadinessInterval, r.Interval)
	require.Empty(t, r.PathMap, "no UNC defaults while the check is off")
}

func TestReadinessPathMap(t *testing.T) {
	cfg, err := Parse([]byte(withJingles), nil)
	require.NoError(t, err)
	r := cfg.Shares["studio"].Readiness
	require.True(t, r.On())
	require.Equal(t, []readiness.Mapping{
		{Windows: `\\192.168.1.10\studio\`, Share: "studio", Prefix: ""},
		{Windows: `\\genesissync\jingles\`, Share: "jingles", Prefix: ""},
		{Windows: `\\genesissync\studio\`, Share: "studio", Prefix: ""},
		{Windows: `\\genesissync\studio\music`, Share: "studio", Prefix: "Library/Music"},
		{Windows: `z:\`, Share: "studio", Prefix: ""},
		{Windows: `z:\jingles\`, Share: "jingles", Prefix: ""},
	}, r.Mappings("studio"), "dotted UNC keys survive viper, own UNC roots are added")
	require.Empty(t, cfg.Shares["jingles"].Readiness.PathMap)

	loc := time.FixedZone("studio", 3600)
	p := r.Policy("studio", loc)
	require.Equal(t, "studio", p.Share)
	require.Equal(t, 24*time.Hour, p.Horizon)
	require.Same(t, loc, p.Location)
	_, err = readiness.New(p)
	require.NoError(t, err, "a validated config makes a checker")
}

func TestReadinessOwnUNCNotDuplicated(t *testing.T) {
	y := minimal + "    readiness: {playlists: ['*.m3u'], path_map: {'//GENESISSYNC/studio': 'Music/'}}\n"
	cfg, err := Parse([]byte(y), nil)
	require.NoError(t, err)
	require.Equal(t, PathMap{`//genesissync/studio`: "Music/"}, cfg.Shares["studio"].Readiness.PathMap)
}

func TestReadinessErrorsNameTheKey(t *testing.T) {
	const k = "shares.studio.readiness."
	for _, tc := range []struct{ name, yaml, want string }{
		{"absolute glob", "{playlists: ['/Playlists/*.m3u']}", k + "playlists[0]: must be share-relative"},
		{"backslash glob", `{playlists: ['Playlists\*.m3u']}`, k + "playlists[0]: must use '/'"},
		{"dotdot glob", "{playlists: ['a/../*.m3u']}", k + "playlists[0]: has an empty, '.' or '..' segment"},
		{"bad glob", "{playlists: ['[*.m3u']}", k + "playlists[0]: bad pattern"},
		{"relative prefix", "{playlists: ['*.m3u'], path_map: {'Music\\': ''}}", k + "path_map.music\\: not a drive"},
		{"unknown share", "{playlists: ['*.m3u'], path_map: {'Y:\\': 'nosuch:Music'}}", k + "path_map.y:\\: names no configured share"},
		{"dotdot value", "{playlists: ['*.m3u'], path_map: {'Y:\\': '../x'}}", k + "path_map.y:\\: must not contain '..'"},
		{"absolute value", "{playlists: ['*.m3u'], path_map: {'Y:\\': '/srv'}}", k + "path_map.y:\\: must be share-relative"},
		{"horizon", "{horizon: 10s}", k + "horizon: must be between 1m and 2160h"},
		{"horizon far", "{horizon: 2200h}", k + "horizon: must be between"},
		{"interval", "{interval: 1s}", k + "interval: must be between 10s and 24h"},
		{"pattern", "{name_pattern: '('}", k + "name_pattern: not a regular expression"},
		{"pattern groups", "{name_pattern: '(?P<year>\\d{4})(?P<month>\\d\\d)'}", k + "name_pattern: needs a named group (?P<day>...)"},
		{"pattern unknown group", "{name_pattern: '(?P<year>\\d{4})(?P<month>\\d\\d)(?P<day>\\d\\d)(?P<sec>\\d\\d)'}", k + `name_pattern: unknown group "sec"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal+"    readiness: "+tc.yaml+"\n"), nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestReadinessEnvOverride(t *testing.T) {
	cfg, err := Parse([]byte(minimal), []string{
		"GENESISSYNC_SHARES_STUDIO_READINESS_PLAYLISTS=Playlists/*.m3u,Playlists/*.pls",
		"GENESISSYNC_SHARES_STUDIO_READINESS_HORIZON=48h",
	})
	require.NoError(t, err)
	r := cfg.Shares["studio"].Readiness
	require.Equal(t, []string{"Playlists/*.m3u", "Playlists/*.pls"}, r.Playlists)
	require.Equal(t, 48*time.Hour, r.Horizon)
	require.Equal(t, PathMap{`\\genesissync\studio\`: ""}, r.PathMap)
}
