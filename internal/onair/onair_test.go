package onair

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/index"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/readiness"
	"genesissync/internal/reconcile"
	"genesissync/internal/scan"
)

// station is one share on a temporary folder, with a real index and an
// in-memory bucket.
type station struct {
	root   string
	ix     *index.Share
	bucket *objstore.Memory
	status reconcile.Status
}

func newStation(t testing.TB) *station {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ix.Close() })
	return &station{root: t.TempDir(), ix: ix.Share("studio"), bucket: objstore.NewMemory()}
}

// write puts a file on the share, an hour old.
func (s *station) write(t testing.TB, rel, body string) {
	t.Helper()
	p := filepath.Join(s.root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(p, old, old))
}

// synced writes a file and records it in the index as synced.
func (s *station) synced(t testing.TB, rel, body string) {
	t.Helper()
	s.write(t, rel, body)
	f, err := scan.Stat(s.root, rel)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(body))
	require.NoError(t, s.ix.Put(rel, index.Entry{Size: f.Size, Mtime: f.Mtime, Inode: f.Inode, SHA256: hex.EncodeToString(sum[:]),
		HashedAt: time.Now(), SyncedAt: time.Now()}))
}

func (s *station) inBucket(t testing.TB, key, body string) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	_, err := s.bucket.Put(context.Background(), objstore.PutInput{Key: key, Body: bytes.NewReader([]byte(body)), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])})
	require.NoError(t, err)
}

func (s *station) share(t testing.TB, c *readiness.Checker, fetch func(string)) Share {
	return Share{Name: "studio", Root: s.root, Checker: c, Interval: time.Hour, Index: s.ix, Remote: s.bucket,
		Status: func() reconcile.Status { return s.status }, Fetch: fetch}
}

// TestTrackStates: each state the appliance knows a track in, as the
// check's Files sees it.
func TestTrackStates(t *testing.T) {
	s := newStation(t)
	s.synced(t, "Music/Ready.mp3", "ready")
	s.synced(t, "Music/Changed.mp3", "before")
	s.write(t, "Music/Changed.mp3", "after, longer")
	s.write(t, "Music/New.mp3", "never synced")
	s.synced(t, "Music/Both.mp3", "local side")
	s.synced(t, "Music/Both (conflict 2026-12-07 0905 from bucket).mp3", "bucket side")
	s.inBucket(t, "Music/Fetch.mp3", "only in the bucket")
	require.NoError(t, os.MkdirAll(filepath.Join(s.root, "Music/Folder.mp3"), 0o755))
	s.status.Conflicts = []reconcile.ConflictCopy{{Path: "Music/Both.mp3", Copy: "Music/Both (conflict 2026-12-07 0905 from bucket).mp3"}}
	s.status.Refused = []reconcile.Refused{{Key: "Music/Dup.mp3", Reason: "case-collision"}}

	r := New([]Share{s.share(t, nil, nil)}, zerolog.Nop())
	f, done := r.files(context.Background())
	defer done()
	for _, tc := range []struct {
		rel, stored string
		want        readiness.TrackState
	}{
		{"Music/Ready.mp3", "Music/Ready.mp3", readiness.Ready},
		{"music/READY.MP3", "Music/Ready.mp3", readiness.Ready}, // as Windows opens it
		{"Music/Changed.mp3", "Music/Changed.mp3", readiness.NotSynced},
		{"Music/New.mp3", "Music/New.mp3", readiness.NotSynced},
		{"Music/Both.mp3", "Music/Both.mp3", readiness.Conflict},
		{"Music/Both (conflict 2026-12-07 0905 from bucket).mp3", "Music/Both (conflict 2026-12-07 0905 from bucket).mp3", readiness.Conflict},
		{"Music/Fetch.mp3", "Music/Fetch.mp3", readiness.BucketOnly},
		{"music/FETCH.MP3", "Music/Fetch.mp3", readiness.BucketOnly}, // S3 is case-sensitive, the share is not
		{"Music/Gone.mp3", "Music/Gone.mp3", readiness.Missing},
		{"Music/Folder.mp3", "Music/Folder.mp3", readiness.Missing},
		{"Music/dup.mp3", "Music/Dup.mp3", readiness.RefusedName}, // the listing refused it
		{"Music/CON.mp3", "Music/CON.mp3", readiness.RefusedName}, // keymap refuses it outright
		{"Music/Bad?.mp3", "Music/Bad?.mp3", readiness.RefusedName},
	} {
		got, stored := f.Track("studio", tc.rel)
		require.Equal(t, tc.want, got, tc.rel)
		require.Equal(t, tc.stored, stored, tc.rel)
	}
	got, _ := f.Track("elsewhere", "x.mp3")
	require.Equal(t, readiness.Missing, got, "a share the appliance does not run")
}

// TestRunnerCheck: a check reads the due playlist, reports its problems,
// asks for the bucket-only track first, and Fill shows the report.
func TestRunnerCheck(t *testing.T) {
	s := newStation(t)
	s.synced(t, "Music/Ready.mp3", "ready")
	s.inBucket(t, "Music/Fetch.mp3", "in the bucket")
	s.write(t, "Playlists/rotation.m3u", "#EXTM3U\r\n#EXTINF:180,Artist - Ready\r\nZ:\\Music\\Ready.mp3\r\n#EXTINF:200,Artist - Gone\r\nZ:\\Music\\Gone.mp3\r\n\\Music\\fetch.MP3\r\n")
	c, err := readiness.New(readiness.Policy{Share: "studio", Playlists: []string{"Playlists/*.m3u"}, Horizon: 24 * time.Hour,
		Mappings: []readiness.Mapping{{Windows: `Z:\`, Share: "studio"}}, Location: time.UTC})
	require.NoError(t, err)
	var mu sync.Mutex
	var fetched []string
	r := New([]Share{s.share(t, c, func(rel string) { mu.Lock(); fetched = append(fetched, rel); mu.Unlock() })}, zerolog.Nop())

	sh := modelShare("studio")
	r.Fill(&sh)
	require.True(t, sh.Readiness.Enabled)
	require.True(t, sh.Readiness.CheckedAt.IsZero(), "not checked yet")

	r.Check(context.Background(), "studio", time.Now())
	r.Fill(&sh)
	rd := sh.Readiness
	require.Equal(t, 1, rd.Playlists)
	require.Equal(t, 3, rd.Tracks)
	require.Equal(t, 1, rd.OK)
	require.Len(t, rd.Problems, 1)
	require.Equal(t, "missing", rd.Problems[0].Reason)
	require.Equal(t, "Music/Gone.mp3", rd.Problems[0].Path)
	require.Equal(t, "Gone", rd.Problems[0].Title)
	require.Equal(t, 5, rd.Problems[0].Line)
	require.Equal(t, []string{"Music/Fetch.mp3"}, rd.Fetching, "the key as the bucket stores it, whatever case the playlist spells")
	require.Equal(t, []string{"Music/Fetch.mp3"}, fetched)

	off := modelShare("news")
	r.Fill(&off)
	require.False(t, off.Readiness.Enabled)
	require.NotNil(t, off.Readiness.Problems, "an empty list in the JSON, not null")
}

func modelShare(name string) model.Share {
	return model.Share{Status: reconcile.Status{Name: name}}
}
