package readiness

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func testMapper(t testing.TB) *Mapper {
	t.Helper()
	m, err := NewMapper("studio", []Mapping{
		{Windows: `Z:\`},
		{Windows: `z:\jingles`, Share: "jingles"},
		{Windows: `\\GENESISSYNC\studio\`},
		{Windows: `\\192.168.1.10\studio`},
		{Windows: `//genesissync/archive/`, Share: "archive", Prefix: "Old"},
		{Windows: `Y:\Media\Music\`, Prefix: "Library/Music"},
	})
	require.NoError(t, err)
	return m
}

func TestResolve(t *testing.T) {
	m := testMapper(t)
	const pl = "Playlists/Hourly/2024-06-15-14.m3u"
	for _, tc := range []struct {
		entry string
		want  Target
		ok    bool
	}{
		{`Z:\Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`z:/Music/a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`Z:Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`Z:\\Music\.\sub\..\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`Z:\..\..\Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true}, // Windows clamps at the root
		{`Z:\JINGLES\ID.wav`, Target{"jingles", "ID.wav"}, true},        // longest prefix, any case
		{`Z:\Jingles2\ID.wav`, Target{"studio", "Jingles2/ID.wav"}, true},
		{`Z:\Jingles\..\Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`\\genesissync\STUDIO\Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`\\192.168.1.10\studio\Music/a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`//GenesisSync/Archive/1999/b.mp3`, Target{"archive", "Old/1999/b.mp3"}, true},
		{`\\?\UNC\genesissync\studio\Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`\\?\Z:\Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`y:\media\music\Rock\c.flac`, Target{"studio", "Library/Music/Rock/c.flac"}, true},
		{`Music\a.mp3`, Target{"studio", "Playlists/Hourly/Music/a.mp3"}, true},
		{`..\..\Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`.\a.mp3`, Target{"studio", "Playlists/Hourly/a.mp3"}, true},
		{`\Music\a.mp3`, Target{"studio", "Music/a.mp3"}, true},
		{`..\..\..\etc\passwd`, Target{}, false},
		{`Y:\Media\Video\a.mp4`, Target{}, false},
		{`C:\Music\a.mp3`, Target{}, false},
		{`\\OTHERPC\studio\a.mp3`, Target{}, false},
		{`\\genesissync\`, Target{}, false},
		{`Z:\`, Target{}, false},
	} {
		t.Run(tc.entry, func(t *testing.T) {
			got, ok := m.Resolve(pl, tc.entry)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
	got, ok := m.Resolve("top.m3u", `a.mp3`)
	require.True(t, ok)
	require.Equal(t, Target{"studio", "a.mp3"}, got, "a playlist at the root resolves against the root")
}

func TestCheckPrefix(t *testing.T) {
	for _, ok := range []string{`Z:\`, `z:`, `Z:/Music`, `\\host\share`, `\\host.example.com\share\sub\`, `//h/s/`} {
		require.NoError(t, CheckPrefix(ok), ok)
	}
	for _, bad := range []string{``, `Music\`, `\Music`, `\\host`, `\\host\`, `Z:\..\x`, `ZZ:\`} {
		require.ErrorIs(t, CheckPrefix(bad), ErrPrefix, bad)
	}
}
