package readiness

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

func TestParse(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		file string
		want []Entry
	}{
		{"2024-06-15-14.m3u", []Entry{
			{Line: 4, Path: `Z:\Music\Los Lobos\La Bamba.mp3`, Duration: 215 * s, Artist: "Los Lobos", Title: "La Bamba"},
			{Line: 7, Path: `\\GENESISSYNC\studio\Jingles/ID 01.wav`, Duration: 183 * s, Artist: "Jingle", Title: "Station ID"},
			{Line: 9, Path: `z:/music/MIXED\slashes.mp3`, Title: "Unknown Length"},
			{Line: 12, Path: `..\Music\relative.mp3`, Duration: 240 * s, Artist: "Relative", Title: "Track"},
			{Line: 14, Path: `..\..\outside.mp3`, Duration: 200 * s, Artist: "Escapes", Title: "Share"},
			{Line: 16, Path: `\\OTHERPC\music\x.mp3`, Duration: 200 * s, Artist: "Other", Title: "Host"},
		}},
		{"bom.m3u8", []Entry{
			{Line: 3, Path: "Music/Café Tacvba - Déjà.mp3", Duration: 251 * s, Artist: "Café Tacvba", Title: "Déjà"},
		}},
		{"cp1252.m3u", []Entry{
			{Line: 3, Path: `Z:\Music\Café Tacvba - Déjà.mp3`, Duration: 251 * s, Artist: "Café Tacvba", Title: "Déjà"},
			{Line: 4, Path: `Z:\Music\Ñandú – “Señal”.mp3`},
		}},
		{"utf16.m3u", []Entry{
			{Line: 2, Path: `Music\Ärzte.mp3`, Duration: 10 * s, Artist: "Ärzte", Title: "Schrei"},
		}},
		{"2024061515.pls", []Entry{
			{Line: 3, Path: `Z:\Music\a.mp3`, Duration: 200 * s, Artist: "Artist A", Title: "Song A"},
			{Line: 7, Path: `Music\b.mp3`, Title: "Just A Title"},
		}},
		{"manual-list.txt", []Entry{
			{Line: 3, Path: "Music/one.mp3"},
			{Line: 4, Path: "Music/two.mp3"},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			pl, err := Parse("Playlists/"+tc.file, readTestdata(t, tc.file))
			require.NoError(t, err)
			require.Equal(t, "Playlists/"+tc.file, pl.Path)
			require.Equal(t, tc.want, pl.Entries)
		})
	}
}

func TestParseUnparsable(t *testing.T) {
	for _, tc := range []struct {
		file string
		line int
		msg  string
	}{
		{"binary.m3u", 1, "binary data"},
		{"bad-count.pls", 3, "NumberOfEntries is 2 but the file has 1"},
		{"malformed.pls", 3, "not key=value"},
		{"no-header.pls", 2, `does not start with "[playlist]"`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Parse(tc.file, readTestdata(t, tc.file))
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.line, pe.Line)
			require.Contains(t, pe.Msg, tc.msg)
		})
	}
}

func TestParsePLSEdges(t *testing.T) {
	for _, tc := range []struct{ name, text, err string }{
		{"bad number", "[playlist]\nFileX=a.mp3\n", "line 2: bad entry number"},
		{"repeated", "[playlist]\nFile1=a.mp3\nFile1=b.mp3\n", "line 3: entry repeated"},
		{"title without file", "[playlist]\nFile1=a.mp3\nTitle2=x\n", "line 3: entry 2 has a Title"},
		{"bad count", "[playlist]\nFile1=a.mp3\nNumberOfEntries=many\n", "line 3: bad NumberOfEntries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.pls", []byte(tc.text))
			require.ErrorContains(t, err, tc.err)
		})
	}
	pl, err := Parse("list", []byte("[Playlist]\r\nfile2=b.mp3\r\nFILE1=a.mp3\r\n"))
	require.NoError(t, err, "sniffed as PLS, keys in any case, ordered by number")
	require.Equal(t, []Entry{{Line: 3, Path: "a.mp3"}, {Line: 2, Path: "b.mp3"}}, pl.Entries)
}

func TestParseEmptyAndEXTINFEdges(t *testing.T) {
	pl, err := Parse("empty.m3u", nil)
	require.NoError(t, err)
	require.Empty(t, pl.Entries)

	pl, err = Parse("x.m3u", []byte("#extinf:12.5 tvg-id=\"a\",Band - Song - Live\nA.mp3\n#EXTINF:abc\nB.mp3\n#EXTINF:999999,Long\nC.mp3\n"))
	require.NoError(t, err)
	require.Equal(t, []Entry{
		{Line: 2, Path: "A.mp3", Duration: 12500 * time.Millisecond, Artist: "Band", Title: "Song - Live"},
		{Line: 4, Path: "B.mp3"},
		{Line: 6, Path: "C.mp3", Title: "Long"},
	}, pl.Entries)
}
