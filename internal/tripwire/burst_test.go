package tripwire

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func rewrite(t *testing.T, path string, head []byte) Event {
	t.Helper()
	return Event{Path: path, Kind: Rewrite, Format: Sniff(path, head)}
}

func TestBurstRetaggedMP3sDoNotTrip(t *testing.T) {
	b := &Burst{MaxRewrites: 50, Window: 10 * time.Minute}
	audio := mpegFrames(8)
	for i := range 200 {
		head := append(id3(fmt.Sprintf("New Title %d", i)), audio...)
		trip, reason := b.Observe(t0.Add(time.Duration(i)*time.Second), rewrite(t, fmt.Sprintf("Music/%03d.mp3", i), head))
		require.False(t, trip, reason)
	}
	s := b.Stats()
	require.Zero(t, s.Counted)
	require.Zero(t, s.Mismatches)
	require.Empty(t, s.Offending)
}

func TestBurstMismatchedRewritesTripAfterMax(t *testing.T) {
	b := &Burst{MaxRewrites: 50, Window: 10 * time.Minute}
	first := 0
	for i := 1; i <= 60; i++ {
		// 60 files in 9 minutes 50 seconds, one every 10 s.
		now := t0.Add(time.Duration(i-1) * 10 * time.Second)
		trip, reason := b.Observe(now, rewrite(t, fmt.Sprintf("Music/%03d.mp3", i), encrypted(t, HeadSize)))
		if trip && first == 0 {
			first = i
			require.Equal(t, "51 files rewritten without a valid format, or new under ransomware or never-seen extensions, within 10m0s (max 50)", reason)
		}
	}
	require.Equal(t, 51, first)
	s := b.Stats()
	require.True(t, s.Tripped)
	require.Equal(t, 60, s.Counted)
	require.Equal(t, 60, s.Mismatches)
	require.Len(t, s.Offending, DefaultMaxNames)
	require.Equal(t, "Music/001.mp3", s.Offending[0])
	require.Equal(t, "Music/020.mp3", s.Offending[19])

	// The trip latches, with its first reason, until Reset.
	trip, reason := b.Observe(t0.Add(time.Hour), rewrite(t, "Music/a.mp3", mpegFrames(4)))
	require.True(t, trip)
	require.Contains(t, reason, "51 files")
	b.Reset()
	require.Equal(t, Stats{Offending: []string{}}, withEmpty(b.Stats()))
	trip, _ = b.Observe(t0.Add(time.Hour), rewrite(t, "Music/a.mp3", encrypted(t, HeadSize)))
	require.False(t, trip)
}

// withEmpty makes a nil Offending comparable to an empty one.
func withEmpty(s Stats) Stats {
	if s.Offending == nil {
		s.Offending = []string{}
	}
	return s
}

func TestBurstWindowExpires(t *testing.T) {
	b := &Burst{MaxRewrites: 50, Window: 10 * time.Minute}
	for i := range 50 {
		trip, _ := b.Observe(t0.Add(time.Duration(i)*time.Second), rewrite(t, fmt.Sprintf("A/%02d.wav", i), encrypted(t, 512)))
		require.False(t, trip)
	}
	require.Equal(t, 50, b.Stats().Counted)
	// Ten minutes after the first, it has left the window: one more is
	// still 50.
	trip, _ := b.Observe(t0.Add(10*time.Minute), rewrite(t, "B/00.wav", encrypted(t, 512)))
	require.False(t, trip)
	require.Equal(t, 50, b.Stats().Counted)
	// Twenty minutes on, all of them are gone.
	for i := range 50 {
		trip, reason := b.Observe(t0.Add(20*time.Minute+time.Duration(i)*time.Second), rewrite(t, fmt.Sprintf("C/%02d.wav", i), encrypted(t, 512)))
		require.False(t, trip, reason)
	}
	require.Equal(t, 50, b.Stats().Counted)
	require.Equal(t, 101, b.Stats().Mismatches)
}

func TestBurstUnknownFormatCountsOncePerPath(t *testing.T) {
	b := &Burst{MaxRewrites: 50, Window: 10 * time.Minute}
	// The playout's log, rewritten every few seconds, is one path.
	for i := range 300 {
		trip, _ := b.Observe(t0.Add(time.Duration(i)*2*time.Second), rewrite(t, "Logs/playout.log", []byte("09:00:01 play\n")))
		require.False(t, trip)
	}
	require.Equal(t, 1, b.Stats().Counted)
	require.Zero(t, b.Stats().Mismatches)
	// Files of an unknown format count: 51 distinct ones trip.
	var trip bool
	for i := range 51 {
		trip, _ = b.Observe(t0.Add(10*time.Minute), rewrite(t, fmt.Sprintf("Data/%02d.dat", i), encrypted(t, 64)))
	}
	require.True(t, trip)
}

func TestBurstRenamesToBadExtensions(t *testing.T) {
	b := &Burst{MaxRewrites: 50, Window: 10 * time.Minute}
	var trip bool
	var reason string
	for i := 1; i <= 51; i++ {
		trip, reason = b.Observe(t0.Add(time.Duration(i)*time.Second), Event{Path: fmt.Sprintf("Music/%02d.mp3.locked", i), Kind: Rename})
		require.Equal(t, i == 51, trip, i)
	}
	require.Contains(t, reason, "51 files rewritten")
	require.Contains(t, reason, "first rename to a ransomware extension: Music/01.mp3.locked (generic)")
	require.Equal(t, 51, b.Stats().BadExtensions)

	// Renames to ordinary names and deletes do not count.
	b = &Burst{MaxRewrites: 1, Window: 10 * time.Minute}
	for i := range 10 {
		trip, _ = b.Observe(t0, Event{Path: fmt.Sprintf("Music/%02d renamed.mp3", i), Kind: Rename})
		require.False(t, trip)
		trip, _ = b.Observe(t0, Event{Path: fmt.Sprintf("Music/%02d.mp3", i), Kind: Delete})
		require.False(t, trip)
	}
}

func TestBurstNewFiles(t *testing.T) {
	b := &Burst{MaxRewrites: 50, Window: 10 * time.Minute}
	// 500 new tracks copied in, valid or not, are not a burst; the bad
	// ones are mismatches for the caller to hold.
	for i := range 500 {
		head := mpegFrames(4)
		if i%100 == 0 {
			head = encrypted(t, HeadSize)
		}
		trip, _ := b.Observe(t0.Add(time.Duration(i)*time.Second), Event{Path: fmt.Sprintf("New/%03d.mp3", i), Kind: Create, Format: Sniff("x.mp3", head)})
		require.False(t, trip)
	}
	s := b.Stats()
	require.Zero(t, s.Counted)
	require.Equal(t, 5, s.Mismatches)
	require.Equal(t, []string{"New/000.mp3", "New/100.mp3", "New/200.mp3", "New/300.mp3", "New/400.mp3"}, s.Offending)
}

func TestBurstNeverSeenExtensions(t *testing.T) {
	b := &Burst{MaxRewrites: 10, Window: 10 * time.Minute}
	// A first folder of FLACs is valid in its format: never counted.
	for i := range 100 {
		ev := Event{Path: fmt.Sprintf("Lossless/%03d.flac", i), Kind: Create, Format: Sniff("x.flac", flacHeader()), NewExtension: true}
		trip, reason := b.Observe(t0.Add(time.Duration(i)*time.Second), ev)
		require.False(t, trip, reason)
	}
	require.Zero(t, b.Stats().Counted)
	// Random per-victim extensions are in no list: only "never seen" counts them.
	for i := 1; i <= 11; i++ {
		name := fmt.Sprintf("Music/%03d.mp3.x7k2q9", i)
		ev := Event{Path: name, Kind: Rename, Format: Sniff(name, encrypted(t, HeadSize)), NewExtension: true}
		trip, reason := b.Observe(t0.Add(time.Duration(200+i)*time.Second), ev)
		require.Equal(t, i == 11, trip, "file %d: %s", i, reason)
	}
	// The same extension once seen (NewExtension false) counts nothing.
	c := &Burst{MaxRewrites: 1, Window: time.Minute}
	for i := range 5 {
		trip, _ := c.Observe(t0, Event{Path: fmt.Sprintf("Docs/%d.x7k2q9", i), Kind: Create})
		require.False(t, trip)
	}
}

func TestBurstRansomNotes(t *testing.T) {
	b := &Burst{MaxRewrites: 50, Window: 10 * time.Minute}
	note := func(dir string) Event { return Event{Path: dir + "/HOW_TO_DECRYPT.txt", Kind: Create} }
	trip, _ := b.Observe(t0, note("Music/A"))
	require.False(t, trip)
	trip, _ = b.Observe(t0.Add(time.Second), note("Music/A")) // same folder again
	require.False(t, trip)
	trip, _ = b.Observe(t0.Add(2*time.Second), note("Music/B"))
	require.False(t, trip)
	trip, reason := b.Observe(t0.Add(3*time.Second), note("Jingles"))
	require.True(t, trip)
	require.Equal(t, "ransom-note names in 3 folders within 10m0s", reason)
	require.Equal(t, []string{"Music/A/HOW_TO_DECRYPT.txt", "Music/B/HOW_TO_DECRYPT.txt", "Jingles/HOW_TO_DECRYPT.txt"}, b.Stats().Offending)

	// Notes spread wider than the window do not trip.
	b = &Burst{MaxRewrites: 50, Window: 10 * time.Minute}
	for i, dir := range []string{"A", "B", "C", "D"} {
		trip, _ = b.Observe(t0.Add(time.Duration(i)*6*time.Minute), note(dir))
		require.False(t, trip, dir)
	}
}

func TestBurstConcurrentObserve(t *testing.T) {
	b := &Burst{MaxRewrites: 1000, Window: time.Minute}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				b.Observe(t0, Event{Path: fmt.Sprintf("%d/%d.mp3", w, i), Kind: Rewrite, Format: Verdict{Known: true}})
			}
		})
	}
	wg.Wait()
	require.Equal(t, 800, b.Stats().Counted)
}

func TestKindString(t *testing.T) {
	require.Equal(t, "rewrite", Rewrite.String())
	require.Equal(t, "Kind(9)", Kind(9).String())
}
