// Package e2e tests the appliance end to end: a go-smb2 client plays the
// Windows playout PC against the daemon's real smbd, and a real MinIO holds
// the bucket. These tests never skip: a missing smbd or MinIO fails them
// (run `go tool task setup`).
package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/samba"
	"genesissync/tests/harness"
)

// content is a deterministic pseudo-random byte stream of a given size.
type content struct {
	rng  *rand.ChaCha8
	left int64
}

func newContent(seed uint64, size int64) *content {
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	return &content{rng: rand.NewChaCha8(s), left: size}
}

func (c *content) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, _ := c.rng.Read(p)
	c.left -= int64(n)
	return n, nil
}

func sha256Of(seed uint64, size int64) string {
	h := sha256.New()
	io.Copy(h, newContent(seed, size))
	return hex.EncodeToString(h.Sum(nil))
}

// writeSMB creates name (and its parent folders) over SMB, writes size
// bytes of content seed and closes it; it returns the close time.
func writeSMB(t *testing.T, c *samba.Client, name string, seed uint64, size int64) time.Time {
	t.Helper()
	if dir := path.Dir(name); dir != "." {
		require.NoError(t, c.MkdirAll(dir, 0o755))
	}
	f, err := c.Create(name)
	require.NoError(t, err)
	buf := make([]byte, 1<<20)
	_, err = io.CopyBuffer(f, newContent(seed, size), buf)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return time.Now()
}

// waitObject polls the bucket until key exists and returns when it was
// first seen.
func waitObject(t *testing.T, s objstore.Store, key string, within time.Duration) (objstore.Object, time.Time) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		o, err := s.Head(context.Background(), key)
		if err == nil {
			return o, time.Now()
		}
		require.True(t, errors.Is(err, objstore.ErrNotFound), "head %q: %v", key, err)
		if time.Now().After(deadline) {
			t.Fatalf("object %q did not appear within %s", key, within)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// requireObject checks the object's bytes and metadata against the
// content it must hold.
func requireObject(t *testing.T, s objstore.Store, key string, seed uint64, size int64) {
	t.Helper()
	want := sha256Of(seed, size)
	r, o, err := s.Get(context.Background(), key)
	require.NoError(t, err)
	defer r.Close()
	var h hash.Hash = sha256.New()
	n, err := io.Copy(h, r)
	require.NoError(t, err)
	require.Equal(t, size, n, "%s: size", key)
	require.Equal(t, want, hex.EncodeToString(h.Sum(nil)), "%s: bytes differ from what was written over SMB", key)
	require.Equal(t, want, o.SHA256, "%s: sha256 metadata", key)
	require.False(t, o.Mtime.IsZero(), "%s: mtime metadata", key)
}

func TestSMBWritesReachTheBucket(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{})
	c := a.SMB(t)

	files := []struct {
		name string
		size int64
	}{
		{"jingles/Station ID.mp3", 16 << 10},
		{"Morgenshow/2026-11-22/Beitrag – Ä ö ü ß.wav", 20 << 20},
		{"Musik/日本語/Über große Dateien.flac", 200 << 20},
	}
	var wg sync.WaitGroup
	for i, f := range files {
		closed := writeSMB(t, c, f.name, uint64(i+1), f.size)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, seen := waitObject(t, a.Store, f.name, 3*time.Minute)
			t.Logf("%-50s %9d bytes: close on share -> object in bucket %v (settle 1s)", f.name, f.size, seen.Sub(closed).Round(time.Millisecond))
		}()
	}
	wg.Wait()
	for i, f := range files {
		requireObject(t, a.Store, f.name, uint64(i+1), f.size)
	}
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.FilesTracked == len(files) && st.PendingUploads == 0 && st.State == "in-sync"
	}, 30*time.Second, 100*time.Millisecond)
	st := a.Share(t)
	require.EqualValues(t, len(files), st.Uploads, "each file uploaded exactly once")
	require.Nil(t, st.LastError)

	// The same facts for Prometheus.
	resp, err := http.Get(a.StatusURL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), fmt.Sprintf(`genesissync_transfer_uploads_total{share="studio"} %d`, len(files)))
	require.Contains(t, string(body), `genesissync_share_state{share="studio",state="in-sync"} 1`)
}

// TestSlowWriteIsUploadedOnceWhole plays a studio PC saving a file slowly:
// 20 chunks, one every 500 ms, through one open handle. No object may
// appear while it is written; afterwards exactly one upload, whole.
func TestSlowWriteIsUploadedOnceWhole(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{Settle: 2 * time.Second})
	c := a.SMB(t)
	const name = "Aufnahmen/slow take.wav"
	const chunk, chunks = 64 << 10, 20
	require.NoError(t, c.MkdirAll(path.Dir(name), 0o755))
	f, err := c.Create(name)
	require.NoError(t, err)

	// Watch the bucket the whole time the file is being written.
	done := make(chan struct{})
	var seenEarly error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			o, err := a.Store.Head(context.Background(), name)
			if err == nil {
				seenEarly = errors.New("object appeared while the file was still being written: size " + itoa(o.Size))
				return
			}
		}
	}()
	src := newContent(7, chunk*chunks)
	buf := make([]byte, chunk)
	for i := 0; i < chunks; i++ {
		_, err := io.ReadFull(src, buf)
		require.NoError(t, err)
		_, err = f.Write(buf)
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond)
	}
	close(done)
	wg.Wait()
	require.NoError(t, seenEarly)
	require.NoError(t, f.Close())

	waitObject(t, a.Store, name, time.Minute)
	requireObject(t, a.Store, name, 7, chunk*chunks)
	// Give a second upload every chance to happen before counting.
	time.Sleep(4 * time.Second)
	st := a.Share(t)
	require.EqualValues(t, 1, st.Uploads, "the slow file must be uploaded exactly once")
	require.Equal(t, 0, st.PendingUploads)
}

// TestRestartUploadsNothingTwice restarts the daemon: unchanged files are
// not uploaded again; a file changed while it was down is, once.
func TestRestartUploadsNothingTwice(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{})
	c := a.SMB(t)
	names := []string{"a.mp3", "b/b.mp3", "b/c/c.mp3", "d.mp3", "e.mp3"}
	for i, n := range names {
		writeSMB(t, c, n, uint64(100+i), 32<<10)
	}
	before := map[string]objstore.Object{}
	for _, n := range names {
		before[n], _ = waitObject(t, a.Store, n, time.Minute)
	}
	require.Eventually(t, func() bool { return a.Share(t).State == "in-sync" }, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, c.Close())

	a.Stop()
	// Changed while the daemon was down: must be found by the start scan.
	writeLocal(t, a.SharePath+"/d.mp3", 999, 48<<10)
	a.Start(t)
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.Uploads == 1 && st.State == "in-sync"
	}, 30*time.Second, 100*time.Millisecond)
	time.Sleep(3 * time.Second)
	st := a.Share(t)
	require.EqualValues(t, 1, st.Uploads, "only the changed file is uploaded after a restart")
	require.Equal(t, len(names), st.FilesTracked)
	for _, n := range names {
		o, err := a.Store.Head(context.Background(), n)
		require.NoError(t, err)
		if n == "d.mp3" {
			require.NotEqual(t, before[n].ETag, o.ETag)
			requireObject(t, a.Store, n, 999, 48<<10)
			continue
		}
		require.Equal(t, before[n].ETag, o.ETag, "%s was uploaded again", n)
		require.Equal(t, before[n].LastModified, o.LastModified, "%s was uploaded again", n)
	}
}

// TestPausedWriterIsNotUploaded plays a studio PC that pauses longer than
// the settle window in the middle of saving, with the file still open: the
// open handle (smbstatus) holds the upload until the close.
func TestPausedWriterIsNotUploaded(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{Settle: time.Second})
	c := a.SMB(t)
	const name = "paused take.wav"
	const half = 256 << 10
	f, err := c.Create(name)
	require.NoError(t, err)
	src := newContent(11, 2*half)
	_, err = io.CopyN(f, src, half)
	require.NoError(t, err)

	// Four settle windows of silence with the file open.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		_, err := a.Store.Head(context.Background(), name)
		require.ErrorIs(t, err, objstore.ErrNotFound, "a file held open for writing was uploaded")
		time.Sleep(100 * time.Millisecond)
	}
	_, err = io.Copy(f, src)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	waitObject(t, a.Store, name, 30*time.Second)
	requireObject(t, a.Store, name, 11, 2*half)
	time.Sleep(2 * time.Second)
	require.EqualValues(t, 1, a.Share(t).Uploads)
}
