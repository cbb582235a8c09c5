package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/transfer"
	"genesissync/tests/audio"
)

// tripShare is execShare with the tripwire on at maxRewrites in a minute,
// its inspector installed on the uploader.
func tripShare(t *testing.T, maxRewrites int) (*Share, *memBucket) {
	t.Helper()
	s, b := execShare(t)
	s.trip = newTripGuard(s.opts.Name, TripwireOptions{MaxRewrites: maxRewrites, Window: time.Minute, NoteFolders: 3})
	s.opts.Uploader = transfer.NewUploader(s.opts.Root, b, 0).WithInspector(s.Inspector())
	return s, b
}

// TestTripwireHoldsAnEncryptedRewriteAlone: an MP3 rewritten with bytes
// that are no longer MPEG audio never reaches the bucket, even below the
// burst; a re-tagged MP3 (new ID3, still MPEG) goes up as always.
func TestTripwireHoldsAnEncryptedRewriteAlone(t *testing.T) {
	s, b := tripShare(t, 50)
	var suspected []string
	s.trip.opts.OnSuspect = func(share string) { suspected = append(suspected, share) }
	ctx := context.Background()
	track := audio.MP3("Morning Jingle", 40, 1)
	syncFile(t, s, "Music/a.mp3", track)
	syncFile(t, s, "Music/b.mp3", audio.MP3("Evening News", 40, 2))

	writeAged(t, s.opts.Root, "Music/a.mp3", audio.Encrypt(track, 1))
	r := s.process(ctx, job{rel: "Music/a.mp3"})
	require.NoError(t, r.err)
	require.Equal(t, outHeldTripwire, r.out)
	require.Contains(t, r.heldReason, "no longer matches .mp3")
	require.Equal(t, string(track), b.body(t, "Music/a.mp3"), "the bucket keeps the good version")
	runResult(s, r)

	retagged := append(audio.ID3("Evening News (edit)"), audio.MP3("", 40, 2)...)
	writeAged(t, s.opts.Root, "Music/b.mp3", retagged)
	r = s.process(ctx, job{rel: "Music/b.mp3"})
	require.NoError(t, r.err)
	require.Equal(t, outUploaded, r.out, "a re-tag is not an attack")
	runResult(s, r)
	require.Equal(t, []string{s.opts.Name}, suspected, "the encrypted rewrite, not the re-tag, has the SMB clients watched")

	st := s.Status()
	require.Equal(t, StateError, st.State, "a held change is never silent")
	require.False(t, st.Tripwire.Tripped, "one file does not trip the share")
	require.Equal(t, 1, st.Tripwire.HeldCount)
	require.Equal(t, "Music/a.mp3", st.Tripwire.Held[0].Path)
	require.Equal(t, "rewrite", st.Tripwire.Held[0].Change)
	require.True(t, s.trip.holds("Music/a.mp3"))

	// Putting the good bytes back brings the path in line: no longer held.
	writeAged(t, s.opts.Root, "Music/a.mp3", track)
	r = s.process(ctx, job{rel: "Music/a.mp3"})
	require.NoError(t, r.err)
	runResult(s, r)
	require.Zero(t, s.Status().Tripwire.HeldCount)
}

// TestTripwireTripHoldsTheShare: past max_rewrites counted changes the
// share trips: changes and deletes of existing files wait, new files
// valid in their format still go up, approving deletes is refused,
// OnTrip gathers evidence once; a person's release lets the held changes
// through.
func TestTripwireTripHoldsTheShare(t *testing.T) {
	s, b := tripShare(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	trips := make(chan Trip, 4)
	s.trip.opts.OnTrip = func(_ context.Context, tr Trip) TripEvidence {
		trips <- tr
		return TripEvidence{Snapshot: "gs-pre-tripwire-x", Clients: []TripClient{{User: "studio", Machine: "10.0.0.7", Evidence: "connected to the share"}}}
	}
	go func() { _ = s.trip.serve(ctx) }()

	// Files of no format the tripwire knows: only the burst can judge them.
	for i := range 5 {
		syncFile(t, s, fmt.Sprintf("Logs/%d.dat", i), []byte(fmt.Sprintf("log %d", i)))
	}
	syncFile(t, s, "Music/keep.mp3", audio.MP3("Keep", 20, 3))
	syncFile(t, s, "Music/gone.mp3", audio.MP3("Gone", 20, 4))

	for i := range 4 {
		rel := fmt.Sprintf("Logs/%d.dat", i)
		writeAged(t, s.opts.Root, rel, audio.Encrypt([]byte("0123456789abcdef"), uint64(i)))
		r := s.process(ctx, job{rel: rel})
		require.NoError(t, r.err)
		if i < 3 {
			require.Equal(t, outUploaded, r.out, "%s: within max_rewrites", rel)
		} else {
			require.Equal(t, outHeldTripwire, r.out, "%s: the fourth trips", rel)
		}
		runResult(s, r)
	}
	tr := <-trips
	require.Equal(t, []string{"Logs/0.dat", "Logs/1.dat", "Logs/2.dat", "Logs/3.dat"}, tr.Paths)
	require.Contains(t, tr.Reason, "4 files rewritten")

	// Tripped: a valid rewrite of an existing file waits too.
	writeAged(t, s.opts.Root, "Music/keep.mp3", audio.MP3("Keep (edit)", 20, 5))
	r := s.process(ctx, job{rel: "Music/keep.mp3"})
	require.Equal(t, outHeldTripwire, r.out)
	runResult(s, r)
	// A new track valid in its format goes up; a ransom note does not.
	writeAged(t, s.opts.Root, "Music/new.mp3", audio.MP3("New", 20, 6))
	r = s.process(ctx, job{rel: "Music/new.mp3"})
	require.NoError(t, r.err)
	require.Equal(t, outUploaded, r.out)
	runResult(s, r)
	writeAged(t, s.opts.Root, "Music/HOW_TO_DECRYPT.txt", []byte("Your files are encrypted. Pay 1 BTC."))
	r = s.process(ctx, job{rel: "Music/HOW_TO_DECRYPT.txt"})
	require.Equal(t, outHeldTripwire, r.out)
	runResult(s, r)
	// A released delete of an existing file waits in the guard's batch.
	require.NoError(t, os.Remove(filepath.Join(s.opts.Root, "Music/gone.mp3")))
	r = s.process(ctx, job{rel: "Music/gone.mp3", allowDelete: true})
	require.NoError(t, r.err)
	require.Equal(t, outHeldDelete, r.out)
	require.True(t, b.has("Music/gone.mp3"), "nothing deleted in the bucket")
	require.ErrorContains(t, s.approve("any"), "tripwire holds this share")

	require.Eventually(t, func() bool { return s.Status().Tripwire.Evidence != nil }, 5*time.Second, 10*time.Millisecond)
	st := s.Status()
	require.True(t, st.Tripwire.Tripped)
	require.Equal(t, StateError, st.State)
	require.Equal(t, 3, st.Tripwire.HeldCount)
	require.Equal(t, "gs-pre-tripwire-x", st.Tripwire.Evidence.Snapshot)
	require.Equal(t, "10.0.0.7", st.Tripwire.Evidence.Clients[0].Machine)
	for _, rel := range []string{"Logs/3.dat", "Music/keep.mp3", "Music/HOW_TO_DECRYPT.txt"} {
		require.True(t, s.trip.holds(rel), rel)
	}

	// The station says the changes are legitimate: they leave.
	paths := s.releaseTrip()
	require.Equal(t, []string{"Logs/3.dat", "Music/HOW_TO_DECRYPT.txt", "Music/keep.mp3"}, paths)
	for _, rel := range paths {
		require.NotNil(t, s.pend[rel], "%s: planned again at once", rel)
		r := s.process(ctx, job{rel: rel})
		require.NoError(t, r.err)
		require.Equal(t, outUploaded, r.out, rel)
		runResult(s, r)
	}
	st = s.Status()
	require.False(t, st.Tripwire.Tripped)
	require.Zero(t, st.Tripwire.HeldCount)
	require.Nil(t, st.Tripwire.Evidence)
	require.Empty(t, st.Tripwire.Offending, "the burst starts over")
	select {
	case tr := <-trips:
		t.Fatalf("OnTrip ran twice for one trip: %+v", tr)
	default:
	}
}

// TestTripwireRansomwareExtension: a new file under an extension a
// ransomware family appends is held on its own, and a large one is not
// copied server-side from its old name either.
func TestTripwireRansomwareExtension(t *testing.T) {
	s, b := tripShare(t, 50)
	ctx := context.Background()
	big := audio.MP3("Long Mix", RenameMinSize/417+10, 7)
	syncFile(t, s, "Music/mix.mp3", big)
	require.NoError(t, os.Rename(filepath.Join(s.opts.Root, "Music/mix.mp3"), filepath.Join(s.opts.Root, "Music/mix.mp3.locked")))
	r := s.process(ctx, job{rel: "Music/mix.mp3.locked"})
	require.NoError(t, r.err)
	require.Equal(t, outHeldTripwire, r.out)
	require.Contains(t, r.heldReason, "ransomware extension")
	require.Zero(t, b.copies, "no server-side copy to a ransomware extension")
	require.False(t, b.has("Music/mix.mp3.locked"))
}

// TestTripwireConflictIsJudgedFirst: on a tripped share a conflict's local
// version is held before the bucket's version is saved beside it, so no
// attempt leaves a conflict copy behind.
func TestTripwireConflictIsJudgedFirst(t *testing.T) {
	s, b := tripShare(t, 1)
	ctx := context.Background()
	syncFile(t, s, "Music/a.mp3", audio.MP3("A", 20, 8))
	for i := range 2 {
		rel := fmt.Sprintf("Logs/%d.dat", i)
		syncFile(t, s, rel, []byte("log"))
		writeAged(t, s.opts.Root, rel, audio.Encrypt([]byte("0123456789"), uint64(i)))
		runResult(s, s.process(ctx, job{rel: rel}))
	}
	require.True(t, s.trip.tripped())
	putObject(t, b.Memory, "Music/a.mp3", "the web app's version")
	writeAged(t, s.opts.Root, "Music/a.mp3", audio.MP3("A (studio edit)", 21, 9))
	for range 2 {
		r := s.process(ctx, job{rel: "Music/a.mp3"})
		require.NoError(t, r.err)
		require.Equal(t, outHeldTripwire, r.out)
	}
	entries, err := os.ReadDir(filepath.Join(s.opts.Root, "Music"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no conflict copy on the share")
	require.Equal(t, "the web app's version", b.body(t, "Music/a.mp3"))
}

// TestTripwireRearmAfterARestore: once the station restored the files,
// Rearm clears the trip without letting anything through: a restored file
// is in line, one still encrypted is held again, and the attack's new
// files go to the share's trash.
func TestTripwireRearmAfterARestore(t *testing.T) {
	s, b := tripShare(t, 2)
	ctx := context.Background()
	orig := map[string][]byte{}
	for i := range 3 {
		rel := fmt.Sprintf("Music/%d.mp3", i)
		orig[rel] = audio.MP3(fmt.Sprintf("T%d", i), 20, uint64(20+i))
		syncFile(t, s, rel, orig[rel])
	}
	for rel, data := range orig {
		writeAged(t, s.opts.Root, rel, audio.Encrypt(data, 1))
		runResult(s, s.process(ctx, job{rel: rel}))
	}
	writeAged(t, s.opts.Root, "Music/HOW_TO_DECRYPT.txt", []byte("pay"))
	runResult(s, s.process(ctx, job{rel: "Music/HOW_TO_DECRYPT.txt"}))
	require.True(t, s.trip.tripped())
	require.Equal(t, 4, s.Tripwire().HeldCount)

	// The restore brought two of the three back.
	writeAged(t, s.opts.Root, "Music/0.mp3", orig["Music/0.mp3"])
	writeAged(t, s.opts.Root, "Music/1.mp3", orig["Music/1.mp3"])
	res := s.rearm(ctx, true)
	require.Equal(t, []string{"Music/0.mp3", "Music/1.mp3", "Music/2.mp3"}, res.Rejudged)
	require.Contains(t, res.Trashed, "Music/HOW_TO_DECRYPT.txt")
	require.False(t, localExists(s, "Music/HOW_TO_DECRYPT.txt"), "the note is in the trash")
	require.Equal(t, "pay", readLocal(t, s, res.Trashed["Music/HOW_TO_DECRYPT.txt"]), "recoverable there")
	require.False(t, s.trip.tripped())

	for _, rel := range res.Rejudged {
		r := s.process(ctx, job{rel: rel})
		require.NoError(t, r.err)
		if rel == "Music/2.mp3" {
			require.Equal(t, outHeldTripwire, r.out, "still encrypted: held again, not let through")
		} else {
			require.NotEqual(t, outHeldTripwire, r.out, rel)
		}
		runResult(s, r)
	}
	for rel, data := range orig {
		require.Equal(t, string(data), b.body(t, rel), "%s: the bucket never saw the encrypted bytes", rel)
	}
	st := s.Status()
	require.False(t, st.Tripwire.Tripped)
	require.Equal(t, 1, st.Tripwire.HeldCount)
}

// TestTripwireFileThatWasNeverAudio: a .wav that was never valid WAVE
// (recorded NotFormat) rewritten with other bytes that are not WAVE
// either changes nothing the tripwire can judge: uploaded, not counted.
func TestTripwireFileThatWasNeverAudio(t *testing.T) {
	s, b := tripShare(t, 1)
	ctx := context.Background()
	for i := range 3 {
		rel := fmt.Sprintf("Takes/%d.wav", i)
		syncFile(t, s, rel, audio.Encrypt(make([]byte, 5000), uint64(i)))
		e, _, err := s.opts.Index.Get(rel)
		require.NoError(t, err)
		require.True(t, e.NotFormat, "recorded as not WAVE")
		next := audio.Encrypt(make([]byte, 5000), uint64(10+i))
		writeAged(t, s.opts.Root, rel, next)
		r := s.process(ctx, job{rel: rel})
		require.NoError(t, r.err)
		require.Equal(t, outUploaded, r.out, rel)
		runResult(s, r)
		require.Equal(t, string(next), b.body(t, rel))
	}
	st := s.Status().Tripwire
	require.False(t, st.Tripped)
	require.Equal(t, 1, st.Counted, "only the first file, new under .wav and not WAVE; none of the rewrites")
	require.Zero(t, st.HeldCount)
}
