package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// TestNetworkFaults puts a fault-injecting proxy between the appliance and
// MinIO and walks through what an uplink does to a station: refused
// connections, a black hole, a slow line, connections reset mid-upload,
// and MinIO itself restarted mid-upload. After each fault ends the share
// must converge: every file in the bucket whole (SHA-256), every object
// on the share, nothing duplicated, and the fault visible on the status
// API while it lasted.
func TestNetworkFaults(t *testing.T) {
	m := harness.StartMinIO(t)
	u, err := url.Parse(m.Endpoint)
	require.NoError(t, err)
	proxy := harness.StartFaultProxy(t, u.Host)
	// A black hole must turn into a retryable error in seconds, not after
	// the production minute.
	// (Above the slow line's time to drain the socket buffers, or the
	// slow upload would time out on every attempt.)
	t.Setenv("GENESISSYNC_SHARES_STUDIO_TARGET_RESPONSE_TIMEOUT", "8s")
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		Endpoint:       "http://" + proxy.Addr,
		RemoteInterval: time.Second,
	})
	want := map[string]struct {
		seed uint64
		size int64
	}{}
	put := func(rel string, seed uint64, size int64) {
		writeLocal(t, filepath.Join(a.SharePath, rel), seed, size)
		want[rel] = struct {
			seed uint64
			size int64
		}{seed, size}
	}
	converged := func(t *testing.T, within time.Duration) {
		t.Helper()
		for rel, w := range want {
			waitObject(t, a.Store, rel, within)
			require.Eventually(t, func() bool {
				o, err := a.Store.Head(context.Background(), rel)
				return err == nil && o.SHA256 == sha256Of(w.seed, w.size)
			}, within, 200*time.Millisecond, "%s: the bucket never got the whole file", rel)
			requireObject(t, a.Store, rel, w.seed, w.size)
		}
		require.Eventually(t, func() bool {
			st := a.Share(t)
			return st.State == "in-sync" && st.FilesTracked == len(want)
		}, within, 200*time.Millisecond, "the share did not settle in sync")
		var keys []string
		require.NoError(t, a.Store.List(context.Background(), "", func(o objstore.Object) error {
			if !strings.HasPrefix(o.Key, ".genesissync") {
				keys = append(keys, o.Key)
			}
			return nil
		}))
		var wantKeys []string
		for k := range want {
			wantKeys = append(wantKeys, k)
		}
		sort.Strings(keys)
		sort.Strings(wantKeys)
		require.Equal(t, wantKeys, keys, "the bucket holds exactly the share's files")
	}
	// sawError waits until the status API reports a failure whose text
	// contains one of the fragments.
	sawError := func(t *testing.T, within time.Duration, fragments ...string) string {
		t.Helper()
		var last string
		require.Eventually(t, func() bool {
			st := a.Share(t)
			if st.LastError == nil {
				return false
			}
			last = st.LastError.Message
			for _, f := range fragments {
				if strings.Contains(last, f) {
					return st.State == "error"
				}
			}
			return false
		}, within, 200*time.Millisecond, "no error naming %q on the status API; last error %q", fragments, last)
		return last
	}

	put("baseline.mp3", 1, 64<<10)
	converged(t, time.Minute)

	t.Run("refused", func(t *testing.T) {
		proxy.Set(t, harness.Refuse, 0, 0)
		put("refused/jingle.mp3", 2, 256<<10)
		msg := sawError(t, 2*time.Minute, "connection refused")
		t.Logf("status API while refused: %s", msg)
		// The bucket side too: an object added meanwhile waits.
		putRemote(t, a, "refused/from-web.mp3", 3, 32<<10)
		want["refused/from-web.mp3"] = struct {
			seed uint64
			size int64
		}{3, 32 << 10}
		proxy.Set(t, harness.Pass, 0, 0)
		converged(t, 3 * time.Minute)
		requireLocal(t, a, "refused/from-web.mp3", 3, 32<<10)
	})

	t.Run("blackhole", func(t *testing.T) {
		proxy.Set(t, harness.Blackhole, 0, 0)
		put("blackhole/ad.mp3", 4, 128<<10)
		msg := sawError(t, 3*time.Minute, "timeout", "deadline", "Timeout")
		t.Logf("status API while black-holed: %s", msg)
		proxy.Set(t, harness.Pass, 0, 0)
		converged(t, 3 * time.Minute)
	})

	t.Run("slow", func(t *testing.T) {
		proxy.Set(t, harness.Slow, 20*time.Millisecond, 2<<20)
		put("slow/news.mp3", 5, 2<<20)
		converged(t, 3 * time.Minute)
		proxy.Set(t, harness.Pass, 0, 0)
	})

	t.Run("reset mid-upload", func(t *testing.T) {
		put("reset/show.mp3", 6, 48<<20)
		require.Eventually(t, func() bool { return a.Share(t).InFlight > 0 }, time.Minute, 20*time.Millisecond)
		for range 6 {
			time.Sleep(300 * time.Millisecond)
			proxy.Cut()
		}
		converged(t, 3 * time.Minute)
	})

	t.Run("minio restarted mid-upload", func(t *testing.T) {
		put("restart/hour.mp3", 7, 96<<20)
		require.Eventually(t, func() bool { return a.Share(t).InFlight > 0 }, time.Minute, 20*time.Millisecond)
		time.Sleep(500 * time.Millisecond)
		m.Stop()
		time.Sleep(3 * time.Second)
		m.Restart(t)
		converged(t, 4 * time.Minute)
	})

	// No upload was left open to bill for hidden parts, beyond what the
	// janitor aborts at its next round.
	open, err := a.Store.ListMultipartUploads(context.Background())
	require.NoError(t, err)
	t.Logf("open multipart uploads after the faults: %d (aborted by the janitor after its grace period)", len(open))
}

// putRemote writes an object into the bucket directly, as a web app would.
func putRemote(t *testing.T, a *harness.Appliance, key string, seed uint64, size int64) {
	t.Helper()
	_, err := a.Store.Put(context.Background(), objstore.PutInput{
		Key: key, Body: newContent(seed, size), Size: size, SHA256: sha256Of(seed, size), Mtime: time.Now(),
	})
	require.NoError(t, err)
}

// requireLocal checks the share's file against the content it must hold.
func requireLocal(t *testing.T, a *harness.Appliance, rel string, seed uint64, size int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		data, err := os.ReadFile(filepath.Join(a.SharePath, rel))
		return err == nil && fmt.Sprintf("%x", sha256.Sum256(data)) == sha256Of(seed, size)
	}, 2*time.Minute, 200*time.Millisecond, "%s never arrived whole on the share", rel)
}
