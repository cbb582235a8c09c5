package readiness

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	_ "time/tzdata" // the tests' zones, whatever the machine has

	"github.com/stretchr/testify/require"
)

// fakeFiles answers Track from a map of lower-cased "share/path" to a
// state and the stored name, as the index adapter would.
type fakeFiles struct {
	tracks map[string]fakeTrack
	calls  int
}

type fakeTrack struct {
	state  TrackState
	stored string
}

func (f *fakeFiles) Track(share, rel string) (TrackState, string) {
	f.calls++
	t, ok := f.tracks[strings.ToLower(share+"/"+rel)]
	if !ok {
		return Missing, ""
	}
	return t.state, t.stored
}

func (f *fakeFiles) add(share, stored string, s TrackState) {
	if f.tracks == nil {
		f.tracks = map[string]fakeTrack{}
	}
	f.tracks[strings.ToLower(share+"/"+stored)] = fakeTrack{state: s, stored: stored}
}

var studioZone = time.FixedZone("studio", -6*3600)

func testChecker(t testing.TB, globs ...string) *Checker {
	t.Helper()
	c, err := New(Policy{
		Share:     "studio",
		Playlists: globs,
		Mappings:  []Mapping{{Windows: `Z:\`}, {Windows: `\\GENESISSYNC\studio\`}, {Windows: `Z:\Jingles\`, Share: "jingles"}},
		Horizon:   24 * time.Hour,
		Location:  studioZone,
	})
	require.NoError(t, err)
	return c
}

func at(h, m int) time.Time { return time.Date(2024, 6, 15, h, m, 0, 0, studioZone) }

func TestCheck(t *testing.T) {
	fsys := fstest.MapFS{
		"Playlists/2024-06-15-14.m3u":  {Data: readTestdata(t, "2024-06-15-14.m3u")},
		"Playlists/2024061515.PLS":     {Data: readTestdata(t, "2024061515.pls")},
		"Playlists/2024-06-15-08.m3u":  {Data: []byte("Z:\\Music\\past.mp3\n")},
		"Playlists/2024-06-17-10.m3u":  {Data: []byte("Z:\\Music\\beyond.mp3\n")},
		"Playlists/binary.m3u":         {Data: readTestdata(t, "binary.m3u")},
		"Playlists/manual.m3u":         {Data: []byte("\\Music\\one.mp3\r\nZ:\\Jingles\\refused?.wav\r\n")},
		"Playlists/notes.txt":          {Data: []byte("not matched by the globs")},
		"Music/Los Lobos/La Bamba.mp3": {},
	}
	files := &fakeFiles{}
	files.add("studio", "Music/Los Lobos/La Bamba.mp3", Ready)
	files.add("studio", "Jingles/ID 01.wav", BucketOnly)
	files.add("studio", "Music/Mixed/Slashes.mp3", Conflict)
	files.add("studio", "Music/relative.mp3", NotSynced)
	files.add("studio", "Music/a.mp3", BucketOnly)
	files.add("studio", "Music/one.mp3", Ready)
	files.add("jingles", "refused?.wav", RefusedName)

	c := testChecker(t, "Playlists/*.m3u", "playlists/*.pls")
	rep := c.Run(fsys, at(14, 2), files)

	require.Equal(t, "studio", rep.Share)
	require.Equal(t, 4, rep.Playlists, "14h, 15h, binary, manual; 8h is past, the 17th beyond the horizon")
	require.Equal(t, 2+6+2, rep.Tracks)
	require.Equal(t, 2, rep.OK)
	s14 := at(14, 0)
	want := []Problem{
		{Playlist: "Playlists/binary.m3u", Line: 1, Reason: ReasonUnparsable, Detail: "binary data, not a playlist"},
		{Playlist: "Playlists/manual.m3u", Line: 2, Entry: `Z:\Jingles\refused?.wav`, Share: "jingles", Path: "refused?.wav", Reason: ReasonRefusedName},
		// Unknown Length ends the exact offsets: later entries air from the playlist's start.
		{Playlist: "Playlists/2024-06-15-14.m3u", Line: 9, Air: s14.Add(398 * time.Second), Title: "Unknown Length", Entry: `z:/music/MIXED\slashes.mp3`, Share: "studio", Path: "Music/Mixed/Slashes.mp3", Reason: ReasonConflict},
		{Playlist: "Playlists/2024-06-15-14.m3u", Line: 12, Air: s14, Artist: "Relative", Title: "Track", Entry: `..\Music\relative.mp3`, Share: "studio", Path: "Music/relative.mp3", Reason: ReasonNotSynced},
		{Playlist: "Playlists/2024-06-15-14.m3u", Line: 14, Air: s14, Artist: "Escapes", Title: "Share", Entry: `..\..\outside.mp3`, Reason: ReasonOutsideShare},
		{Playlist: "Playlists/2024-06-15-14.m3u", Line: 16, Air: s14, Artist: "Other", Title: "Host", Entry: `\\OTHERPC\music\x.mp3`, Reason: ReasonOutsideShare},
		{Playlist: "Playlists/2024061515.PLS", Line: 7, Air: at(15, 0).Add(200 * time.Second), Title: "Just A Title", Entry: `Music\b.mp3`, Share: "studio", Path: "Playlists/Music/b.mp3", Reason: ReasonMissing},
	}
	require.Equal(t, sortByAir(want), rep.Problems)
	require.Equal(t, []Fetch{
		{Share: "studio", Path: "Jingles/ID 01.wav", Air: s14.Add(215 * time.Second)},
		{Share: "studio", Path: "Music/a.mp3", Air: at(15, 0)},
	}, rep.Fetch)
	require.True(t, rep.FirstAir.Equal(s14), "first scheduled problem: %s", rep.FirstAir)
	require.Equal(t, []Hour{{Start: s14, Tracks: 6, Problems: 4}, {Start: at(15, 0), Tracks: 2, Problems: 1}}, rep.Hours,
		"hour by hour, in the studio's zone; the unscheduled playlists in none")
	require.Equal(t, map[Reason]int{ReasonUnparsable: 1, ReasonRefusedName: 1, ReasonConflict: 1, ReasonNotSynced: 1, ReasonOutsideShare: 2, ReasonMissing: 1}, rep.ByReason())
}

// sortByAir puts want in the report's order: unscheduled first, then by
// air time, playlist and line.
func sortByAir(ps []Problem) []Problem {
	r := &run{rep: Report{Problems: ps}}
	r.finish()
	return r.rep.Problems
}

func TestCheckSkipsAiredAndDistantEntries(t *testing.T) {
	c := testChecker(t)
	day := &Playlist{Path: "2024-06-15.m3u", Entries: []Entry{
		{Line: 1, Path: `Z:\a.mp3`, Duration: 2 * time.Hour},  // 00:00-02:00, aired
		{Line: 2, Path: `Z:\b.mp3`, Duration: 13 * time.Hour}, // 02:00-15:00, on air
		{Line: 3, Path: `Z:\c.mp3`, Duration: time.Hour},      // 15:00
	}}
	rep := c.Check(at(14, 0), []*Playlist{day}, &fakeFiles{})
	require.Equal(t, 2, rep.Tracks)
	require.Equal(t, []int{2, 3}, lines(rep.Problems))

	short := testCheckerHorizon(t, 30*time.Minute)
	rep = short.Check(at(14, 0), []*Playlist{day}, &fakeFiles{})
	require.Equal(t, []int{2}, lines(rep.Problems), "15:00 is beyond a 30m horizon")
	require.True(t, rep.FirstAir.Equal(at(2, 0)))
}

func testCheckerHorizon(t testing.TB, h time.Duration) *Checker {
	c := testChecker(t)
	c.horizon = h
	return c
}

func lines(ps []Problem) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.Line)
	}
	return out
}

func TestCheckAsksOncePerTarget(t *testing.T) {
	c := testChecker(t)
	pl := &Playlist{Path: "x.m3u", Entries: []Entry{{Line: 1, Path: `Z:\a.mp3`}, {Line: 2, Path: `\\genesissync\studio\a.mp3`}, {Line: 3, Path: `Z:\A.mp3`}}}
	files := &fakeFiles{}
	files.add("studio", "a.mp3", BucketOnly)
	rep := c.Check(at(9, 0), []*Playlist{pl}, files)
	require.Equal(t, 2, files.calls, "Z:\\a.mp3 and its UNC twin are one target; Z:\\A.mp3 is another spelling")
	require.Equal(t, []Fetch{{Share: "studio", Path: "a.mp3"}}, rep.Fetch, "fetched once, by its stored name")
	require.Zero(t, rep.FirstAir)
}

func TestCheckUnknownStateIsMissing(t *testing.T) {
	c := testChecker(t)
	pl := &Playlist{Path: "x.m3u", Entries: []Entry{{Line: 1, Path: `Z:\a.mp3`}}}
	files := &fakeFiles{}
	files.add("studio", "a.mp3", Unknown)
	rep := c.Check(at(9, 0), []*Playlist{pl}, files)
	require.Equal(t, ReasonMissing, rep.Problems[0].Reason)
}

func TestReadUnreadable(t *testing.T) {
	c := testChecker(t, "*.m3u")
	big := make([]byte, MaxPlaylistBytes+1)
	rep := c.Run(fstest.MapFS{"huge.m3u": {Data: big}}, at(9, 0), &fakeFiles{})
	require.Len(t, rep.Problems, 1)
	require.Equal(t, ReasonUnreadable, rep.Problems[0].Reason)
	require.Contains(t, rep.Problems[0].Detail, "more than a playlist")
}

func TestGlobFold(t *testing.T) {
	fsys := fstest.MapFS{
		"Playlists/Hour14.M3U":    {},
		"playlists/b.m3u":         {},
		"Playlists/Sub/c.m3u":     {},
		"Playlists/dir.m3u/d.m3u": {},
		"Other/e.m3u":             {},
	}
	got, failed := globFold(fsys, "PLAYLISTS/*.m3u")
	require.Empty(t, failed)
	require.Equal(t, []string{"Playlists/Hour14.M3U", "playlists/b.m3u"}, got)
	got, _ = globFold(fsys, "*/*/*.m3u")
	require.ElementsMatch(t, []string{"Playlists/Sub/c.m3u", "Playlists/dir.m3u/d.m3u"}, got)
	got, _ = globFold(fsys, "Missing/*.m3u")
	require.Empty(t, got)
}

func TestNewErrors(t *testing.T) {
	_, err := New(Policy{Share: "s", Location: time.UTC})
	require.ErrorContains(t, err, "horizon")
	_, err = New(Policy{Share: "s", Horizon: time.Hour, Location: time.UTC, Mappings: []Mapping{{Windows: "Music"}}})
	require.ErrorIs(t, err, ErrPrefix)
	_, err = New(Policy{Share: "s", Horizon: time.Hour})
	require.ErrorContains(t, err, "time zone")
}

// BenchmarkCheck50k is the cost of checking 50,000 scheduled entries: a
// day of 24 hourly playlists of about 2,084 entries each, drive-letter
// paths over 10,000 distinct tracks, half Ready and the rest spread over
// the other states.
func BenchmarkCheck50k(b *testing.B) {
	c := testChecker(b)
	files := &fakeFiles{}
	states := []TrackState{Ready, Ready, Ready, Ready, Ready, BucketOnly, Missing, RefusedName, NotSynced, Conflict}
	for i := range 10000 {
		files.add("studio", fmt.Sprintf("Music/Artist %d/Track %d.mp3", i%500, i), states[i%len(states)])
	}
	var lists []*Playlist
	n := 0
	for h := range 24 {
		pl := &Playlist{Path: fmt.Sprintf("Playlists/2024-06-15-%02d.m3u", h)}
		for ; n < (h+1)*50000/24; n++ {
			i := (n * 7919) % 10000
			pl.Entries = append(pl.Entries, Entry{Line: 2 * len(pl.Entries), Path: fmt.Sprintf(`Z:\Music\Artist %d\Track %d.mp3`, i%500, i), Duration: 3 * time.Second / 2, Artist: "Artist", Title: "Title"})
		}
		lists = append(lists, pl)
	}
	now := at(0, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep := c.Check(now, lists, files)
		if rep.Tracks != 50000 {
			b.Fatalf("checked %d entries", rep.Tracks)
		}
	}
}
