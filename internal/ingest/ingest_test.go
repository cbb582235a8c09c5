package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/scan"
)

func write(t *testing.T, root, rel string, data []byte, mtime time.Time) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
	require.NoError(t, os.Chtimes(p, mtime, mtime))
}

func read(t *testing.T, root, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	require.NoError(t, err)
	return b
}

// noTemp fails if a temp file of the atomic writer is left anywhere.
func noTemp(t *testing.T, root string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		require.False(t, strings.HasPrefix(d.Name(), ".genesissync-tmp-"), p)
		return nil
	}))
}

func TestImportConsolidates(t *testing.T) {
	old := time.Date(2019, 4, 1, 9, 30, 0, 0, time.UTC)
	pcA, pcB, share := t.TempDir(), t.TempDir(), t.TempDir()
	write(t, pcA, "Music/Track 1.mp3", []byte("track one"), old)
	write(t, pcA, "Music/Simon + Garfunkel.mp3", bytes.Repeat([]byte("boxer"), 100_000), old)
	write(t, pcA, "Jingles/Morning.wav", []byte("jingle A"), old)
	write(t, pcA, "Jingles/Thumbs.db", []byte("windows"), old) // excluded
	write(t, pcA, "Bad/CON.mp3", []byte("x"), old)             // Windows device name
	write(t, pcA, "Bad/a:b.mp3", []byte("x"), old)             // Windows-illegal
	write(t, pcA, "Bad/dot.", []byte("x"), old)                // trailing dot
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(pcA, "Music", "link.mp3")))
	write(t, pcB, "Jingles/Morning.wav", []byte("jingle B"), old)       // collides with pcA's
	write(t, pcB, "Music/Track 1.mp3", []byte("track one"), old)        // the same file, twice
	write(t, pcB, "Music/track 1.MP3", []byte("other case"), old)       // a case collision
	write(t, pcB, "News/Top of hour.mp3", []byte("news"), old)          // only on B
	write(t, share, "Jingles/Evening.wav", []byte("on the share"), old) // untouched
	write(t, share, "News/Top of hour.mp3", []byte("the share's"), old) // collides with B's
	write(t, share, "Music/Jingles.mp3", []byte("x"), time.Now())       // unrelated

	o := Options{Sources: []string{pcA, pcB}, Root: share, Matcher: scan.NewMatcher(config.DefaultExcludes), UID: -1, GID: -1}

	dry := o
	dry.DryRun = true
	plan, err := Import(context.Background(), dry)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(share, "Music", "Track 1.mp3"))
	require.ErrorIs(t, err, os.ErrNotExist, "a dry run writes nothing")

	var seen []Progress
	o.Progress = func(p Progress) { seen = append(seen, p) }
	res, err := Import(context.Background(), o)
	require.NoError(t, err)
	for _, r := range []Result{plan, res} {
		require.Equal(t, 3, r.Copied, "%+v", r)
		require.Equal(t, 0, r.Identical)
		require.Equal(t, 5, r.Refused, "%+v", r.Refusals) // CON, a:b, "dot.", the symlink, the case collision
		require.Equal(t, 3, r.Collided, "%+v", r.Collisions)
		require.Zero(t, r.Failed, "%+v", r.Failures)
	}
	require.Len(t, seen, 4, "one call per file considered")
	require.Equal(t, seen[3].BytesTotal, seen[3].Bytes)

	require.Equal(t, []byte("track one"), read(t, share, "Music/Track 1.mp3"))
	require.Equal(t, []byte("jingle A"), read(t, share, "Jingles/Morning.wav"), "the first source wins")
	require.Equal(t, []byte("the share's"), read(t, share, "News/Top of hour.mp3"), "never overwritten")
	require.Equal(t, []byte("on the share"), read(t, share, "Jingles/Evening.wav"))
	fi, err := os.Stat(filepath.Join(share, "Music", "Simon + Garfunkel.mp3"))
	require.NoError(t, err)
	require.True(t, fi.ModTime().Equal(old), "mtime kept: %s", fi.ModTime())
	for _, p := range []string{"Jingles/Thumbs.db", "Bad/CON.mp3", "Music/link.mp3", "Music/track 1.MP3"} {
		_, err := os.Lstat(filepath.Join(share, filepath.FromSlash(p)))
		require.ErrorIs(t, err, os.ErrNotExist, p)
	}
	noTemp(t, share)

	byPath := map[string]Collision{}
	for _, c := range res.Collisions {
		byPath[c.Path] = c
	}
	require.Equal(t, filepath.Join(pcA, "Jingles", "Morning.wav"), byPath["Jingles/Morning.wav"].Existing)
	require.Equal(t, "share", byPath["News/Top of hour.mp3"].Existing)
	require.Equal(t, filepath.Join(pcA, "Music", "Track 1.mp3"), byPath["Music/Track 1.mp3"].Existing,
		"the same file in two sources is reported, not copied twice")

	// A rerun finds everything done.
	again, err := Import(context.Background(), Options{Sources: []string{pcA}, Root: share, Matcher: o.Matcher, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Zero(t, again.Copied)
	require.Equal(t, 3, again.Identical)
}

func TestImportInto(t *testing.T) {
	src, share := t.TempDir(), t.TempDir()
	write(t, src, "a.mp3", []byte("a"), time.Now().Add(-time.Hour))
	res, err := Import(context.Background(), Options{Sources: []string{src}, Root: share, Into: "Archive/PC 2", UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Copied)
	require.Equal(t, []byte("a"), read(t, share, "Archive/PC 2/a.mp3"))

	_, err = Import(context.Background(), Options{Sources: []string{src}, Root: share, Into: "../outside", UID: -1, GID: -1})
	require.ErrorContains(t, err, `without ".."`)
	_, err = Import(context.Background(), Options{Sources: []string{src}, Root: share, Into: "bad:name", UID: -1, GID: -1})
	require.ErrorContains(t, err, "bad:name")
	_, err = Import(context.Background(), Options{Sources: []string{share}, Root: share, UID: -1, GID: -1})
	require.ErrorContains(t, err, "overlaps the share")
}

// TestImportResumes: an import cancelled in the middle leaves no partial
// file under any name the share shows (only its temp file), and a rerun
// finishes it.
func TestImportResumes(t *testing.T) {
	src, share := t.TempDir(), t.TempDir()
	old := time.Now().Add(-time.Hour)
	for i := range 20 {
		write(t, src, filepath.Join("Music", "t"+string(rune('a'+i))+".mp3"), bytes.Repeat([]byte{byte(i)}, 2<<20), old)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Import(ctx, Options{Sources: []string{src}, Root: share, UID: -1, GID: -1, Concurrency: 1,
		Progress: func(Progress) {
			if n++; n == 5 {
				cancel()
			}
		}})
	require.ErrorIs(t, err, context.Canceled)
	entries, err := os.ReadDir(filepath.Join(share, "Music"))
	require.NoError(t, err)
	require.Less(t, len(entries), 20)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".genesissync-tmp-") {
			continue
		}
		info, err := e.Info()
		require.NoError(t, err)
		require.EqualValues(t, 2<<20, info.Size(), "no partial file under its name: %s", e.Name())
	}

	res, err := Import(context.Background(), Options{Sources: []string{src}, Root: share, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 20, res.Copied+res.Identical)
	require.Zero(t, res.Collided+res.Failed)
	for i := range 20 {
		require.Equal(t, bytes.Repeat([]byte{byte(i)}, 2<<20), read(t, share, "Music/t"+string(rune('a'+i))+".mp3"))
	}
}

// TestImportNeverPublishesAFileBeingWritten: a source file that grows
// while it is read is not published.
func TestImportNeverPublishesAFileBeingWritten(t *testing.T) {
	src, share := t.TempDir(), t.TempDir()
	p := filepath.Join(src, "recording.wav")
	write(t, src, "recording.wav", bytes.Repeat([]byte("r"), 8<<20), time.Now().Add(-time.Hour))
	body, o, err := localFiles{}.Get(context.Background(), p)
	require.NoError(t, err)
	defer body.Close()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("more"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	buf := make([]byte, 1<<20)
	var rerr error
	for rerr == nil {
		_, rerr = body.Read(buf)
	}
	require.ErrorIs(t, rerr, scan.ErrChangedWhileReading)
	require.EqualValues(t, 8<<20, o.Size)
	_ = share
}
