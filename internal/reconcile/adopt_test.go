package reconcile

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
)

// multipartETag is the ETag S3 gives data uploaded in parts of partSize.
func multipartETag(data []byte, partSize int) string {
	var sums []byte
	n := 0
	for off := 0; off < len(data); off += partSize {
		p := md5.Sum(data[off:min(off+partSize, len(data))])
		sums = append(sums, p[:]...)
		n++
	}
	all := md5.Sum(sums)
	return hex.EncodeToString(all[:]) + "-" + strconv.Itoa(n)
}

// adoptShare is a share over an in-memory bucket that another tool (mc
// mirror) filled, with a fresh index: the first pass of an adoption.
func adoptShare(t *testing.T, backfill bool) (*Share, *objstore.Memory) {
	t.Helper()
	s, _, m := pollShare(t, time.Hour)
	s.opts.Uploader = transfer.NewUploader(s.opts.Root, m, 0)
	s.opts.Downloader = transfer.NewDownloader(s.opts.Root, m, -1, -1)
	if backfill {
		s.opts.Backfill = m
	}
	return s, m
}

func TestAdoptionProvesAndBackfills(t *testing.T) {
	spot := bytes.Repeat([]byte("jingle "), 4000)     // 28 KB, single part
	track := bytes.Repeat([]byte("long track "), 3e6) // 33 MB
	cases := []struct {
		name      string
		local     []byte
		remote    []byte
		etag      string // "" = MD5 of remote
		ours      bool   // uploaded by the appliance (sha256 metadata)
		want      outcome
		proof     proof
		readBytes int64
	}{
		{name: "single part, ETag is the MD5", local: spot, remote: spot, want: outAdopted, proof: proofETag},
		{name: "mc's 16 MiB parts", local: track, remote: track, etag: multipartETag(track, 16<<20), want: outAdopted, proof: proofETag},
		{name: "rclone's 5 MiB parts", local: track, remote: track, etag: multipartETag(track, 5<<20), want: outAdopted, proof: proofETag},
		{name: "a part size nobody uses: read the object", local: track, remote: track, etag: multipartETag(track, 7<<20+12345), want: outAdopted, proof: proofReading, readBytes: int64(len(track))},
		{name: "ours: by metadata", local: spot, remote: spot, ours: true, want: outAdopted, proof: proofMetadata},
		{name: "same size, other bytes: a conflict", local: spot, remote: bytes.ToUpper(spot), want: outConflict, readBytes: int64(len(spot))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, m := adoptShare(t, true)
			writeAged(t, s.opts.Root, "Music/a.mp3", tc.local)
			var before objstore.Object
			if tc.ours {
				before = putObject(t, m, "Music/a.mp3", string(tc.remote))
			} else {
				before = m.PutForeign("Music/a.mp3", tc.remote, tc.etag)
			}

			r := s.process(context.Background(), job{rel: "Music/a.mp3"})
			require.NoError(t, r.err)
			if tc.want == outConflict {
				// A first pass's conflict waits in the guard's batch
				// until the batch is released.
				require.Equal(t, outHeldDelete, r.out)
				require.Equal(t, Conflict, r.action)
				r = s.process(context.Background(), job{rel: "Music/a.mp3", allowDelete: true})
				require.NoError(t, r.err)
			}
			require.Equal(t, tc.want, r.out)
			require.Equal(t, tc.proof, r.proof)
			require.Equal(t, tc.readBytes, r.readBytes, "object bytes read for the proof")
			if tc.want != outAdopted {
				return
			}
			require.Zero(t, r.bytes, "nothing transferred")

			// The object now carries our sha256 (backfilled, unless it
			// had it), its bytes unchanged, and the index knows its new
			// identity, so the next listing sees nothing to do.
			sum := sha256.Sum256(tc.local)
			got, err := m.Head(context.Background(), "Music/a.mp3")
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(sum[:]), got.SHA256)
			require.Equal(t, "audio/mpeg", got.ContentType)
			if !tc.ours {
				require.NotEmpty(t, got.CRC32C)
				require.Equal(t, int64(1), s.Status().Backfilled)
			} else {
				require.Equal(t, before.ETag, got.ETag, "ours is left alone")
			}
			require.Equal(t, got.ETag, r.entry.ETag)
			require.Equal(t, hex.EncodeToString(sum[:]), r.entry.SHA256)
		})
	}
}

func TestAdoptionConflictKeepsBoth(t *testing.T) {
	s, m := adoptShare(t, true)
	spot := bytes.Repeat([]byte("jingle "), 4000)
	writeAged(t, s.opts.Root, "a.mp3", spot)
	m.PutForeign("a.mp3", bytes.ToUpper(spot), "")
	r := s.process(context.Background(), job{rel: "a.mp3", allowDelete: true}) // released by the guard
	require.NoError(t, r.err)
	require.Equal(t, outConflict, r.out)
	copyData, err := os.ReadFile(filepath.Join(s.opts.Root, r.conflictCopy))
	require.NoError(t, err)
	require.Equal(t, bytes.ToUpper(spot), copyData, "the bucket's version is kept beside the file")
	rc, _, err := m.Get(context.Background(), "a.mp3")
	require.NoError(t, err)
	defer rc.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(rc)
	require.NoError(t, err)
	require.Equal(t, spot, buf.Bytes(), "the share's version is at the path in the bucket")
}

func TestAdoptionWithoutBackfillLeavesTheObject(t *testing.T) {
	s, m := adoptShare(t, false)
	spot := bytes.Repeat([]byte("jingle "), 4000)
	writeAged(t, s.opts.Root, "a.mp3", spot)
	before := m.PutForeign("a.mp3", spot, "")
	r := s.process(context.Background(), job{rel: "a.mp3"})
	require.NoError(t, r.err)
	require.Equal(t, outAdopted, r.out)
	got, err := m.Head(context.Background(), "a.mp3")
	require.NoError(t, err)
	require.Empty(t, got.SHA256)
	require.Equal(t, before.ETag, got.ETag)
	require.Equal(t, before.ETag, r.entry.ETag)
}

func TestDownloadBackfillsForeignObjects(t *testing.T) {
	s, m := adoptShare(t, true)
	spot := bytes.Repeat([]byte("azuracast "), 3000)
	m.PutForeign("new.mp3", spot, "")
	r := s.process(context.Background(), job{rel: "new.mp3"})
	require.NoError(t, r.err)
	require.Equal(t, outDownloaded, r.out)
	got, err := m.Head(context.Background(), "new.mp3")
	require.NoError(t, err)
	sum := sha256.Sum256(spot)
	require.Equal(t, hex.EncodeToString(sum[:]), got.SHA256)
	require.Equal(t, got.ETag, r.entry.ETag)
}

// TestSurveyIsWhatThePassDoes: the dry run's plan of a first pass over an
// existing bucket, then the pass itself on every path: the same counts,
// and the dry run changed nothing anywhere.
func TestSurveyIsWhatThePassDoes(t *testing.T) {
	s, m := adoptShare(t, true)
	root := s.opts.Root
	spot := bytes.Repeat([]byte("jingle "), 4000)
	track := bytes.Repeat([]byte("long track "), 2e6) // 22 MB
	writeAged(t, root, "etag.mp3", spot)
	m.PutForeign("etag.mp3", spot, "")
	writeAged(t, root, "read.mp3", track)
	m.PutForeign("read.mp3", track, multipartETag(track, 7<<20+1))
	writeAged(t, root, "ours.mp3", spot)
	putObject(t, m, "ours.mp3", string(spot))
	writeAged(t, root, "diff.mp3", spot)
	m.PutForeign("diff.mp3", bytes.ToUpper(spot), "")
	writeAged(t, root, "local only.mp3", spot)
	m.PutForeign("remote only.mp3", track, "")
	m.PutForeign("bad\\name.mp3", spot, "")

	sv, err := s.Survey(context.Background())
	require.NoError(t, err)
	require.Equal(t, Tally{1, int64(len(spot))}, sv.IdenticalByETag)
	require.Equal(t, Tally{1, int64(len(track))}, sv.IdenticalByReading)
	require.Equal(t, Tally{1, int64(len(spot))}, sv.IdenticalByMetadata)
	require.Equal(t, Tally{1, int64(len(spot))}, sv.Different)
	require.Equal(t, []string{"diff.mp3"}, sv.Conflicts)
	require.Equal(t, Tally{1, int64(len(spot))}, sv.OnlyLocal)
	require.Equal(t, Tally{1, int64(len(track))}, sv.OnlyRemote)
	require.Equal(t, 1, sv.Refused.Files)
	require.Zero(t, sv.Deletes.Files)
	require.Equal(t, int64(len(track)+len(spot)), sv.BytesRead, "read.mp3 and diff.mp3 were read")

	// Nothing changed: no backfill, no download, no index entry.
	o, err := m.Head(context.Background(), "etag.mp3")
	require.NoError(t, err)
	require.Empty(t, o.SHA256)
	_, err = os.Stat(filepath.Join(root, "remote only.mp3"))
	require.ErrorIs(t, err, os.ErrNotExist)
	empty, err := s.opts.Index.Empty()
	require.NoError(t, err)
	require.True(t, empty)

	// The pass does what the survey said.
	got := map[outcome]int{}
	var byProof [4]int
	for _, rel := range []string{"diff.mp3", "etag.mp3", "local only.mp3", "ours.mp3", "read.mp3", "remote only.mp3"} {
		r := s.process(context.Background(), job{rel: rel, allowDelete: true}) // as released by the guard
		require.NoError(t, r.err, rel)
		got[r.out]++
		byProof[r.proof]++
	}
	require.Equal(t, map[outcome]int{outAdopted: 3, outConflict: 1, outUploaded: 1, outDownloaded: 1}, got)
	require.Equal(t, [4]int{3, 1, 1, 1}, byProof)
}

// TestAdoptionProgress: the scan and the listing of a first pass tell
// which paths wait for a proof (on both sides, no base), and the status
// counts them down as the proofs read the files.
func TestAdoptionProgress(t *testing.T) {
	s, m := adoptShare(t, true)
	root := s.opts.Root
	spot := bytes.Repeat([]byte("jingle "), 4000)
	track := bytes.Repeat([]byte("long track "), 1e5)
	writeAged(t, root, "a.mp3", spot)
	m.PutForeign("a.mp3", spot, "")
	writeAged(t, root, "b.mp3", track)
	m.PutForeign("b.mp3", track, "")
	writeAged(t, root, "only-local.mp3", spot) // an upload, not an adoption
	m.PutForeign("only-remote.mp3", spot, "")  // a download

	foundc := make(chan found, 16)
	require.NoError(t, s.pollOnce(context.Background(), foundc))
	require.NoError(t, scan.Walk(context.Background(), root, "", s.opts.Matcher, func(f scan.File) error {
		n := 0
		return s.scan.scanned(context.Background(), f, foundc, &n)
	}))
	close(foundc)
	for f := range foundc {
		s.note(f)
	}
	s.publish()
	ad := s.Status().Adopted
	require.Equal(t, 2, ad.Pending)
	require.Equal(t, int64(len(spot)+len(track)), ad.PendingBytes)

	r := s.process(context.Background(), job{rel: "b.mp3", started: time.Now()})
	require.NoError(t, r.err)
	require.Equal(t, outAdopted, r.out)
	s.finish(r)
	s.publish()
	ad = s.Status().Adopted
	require.Equal(t, 1, ad.Pending)
	require.Equal(t, int64(len(spot)), ad.PendingBytes)
	require.Equal(t, int64(len(track)), ad.HashedBytes, "the proof read the local file once")
}
