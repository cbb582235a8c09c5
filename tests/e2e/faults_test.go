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
	t.Parallel() // mostly waiting for timeouts: runs beside the other parallel tests at the end
	m := harness.StartMinIO(t)
	u, err := url.Parse(m.Endpoint)
	require.NoError(t, err)
	proxy := harness.StartFaultProxy(t, u.Host)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		Endpoint:       "http://" + proxy.Addr,
		RemoteInterval: time.Second,
		// Alert rules fast enough to see each fault raise one.
		Config: "alerts: {for: 1s, failure_streak: 2s, interval: 1s, repeat: 1h}",
		// A black hole must turn into a retryable error in seconds, not
		// after the production two minutes (but above the slow line's
		// time to drain the socket buffers, or the slow upload would
		// time out on every attempt).
		Env: []string{"GENESISSYNC_SHARES_STUDIO_TARGET_RESPONSE_TIMEOUT=8s"},
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
	// alerted waits until the event log shows an alert raised by rule
	// (see docs/alerts.md) since the given time.
	alerted := func(t *testing.T, rule string, since time.Time) {
		t.Helper()
		require.Eventually(t, func() bool {
			st, err := a.Status()
			if err != nil {
				return false
			}
			for _, e := range st.Events {
				if e.Kind == "alert.raised" && e.Time.After(since) && strings.Contains(e.Message, rule) {
					return true
				}
			}
			return false
		}, 2*time.Minute, 200*time.Millisecond, "no %s alert was raised", rule)
	}
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
		since := time.Now()
		proxy.Set(t, harness.Refuse, 0, 0)
		put("refused/jingle.mp3", 2, 256<<10)
		msg := sawError(t, 2*time.Minute, "connection refused")
		t.Logf("status API while refused: %s", msg)
		alerted(t, "keep failing to sync", since)
		// The bucket side too: an object added meanwhile waits.
		putRemote(t, a, "refused/from-web.mp3", 3, 32<<10)
		want["refused/from-web.mp3"] = struct {
			seed uint64
			size int64
		}{3, 32 << 10}
		proxy.Set(t, harness.Pass, 0, 0)
		converged(t, 3*time.Minute)
		requireLocal(t, a, "refused/from-web.mp3", 3, 32<<10)
	})

	t.Run("blackhole", func(t *testing.T) {
		since := time.Now()
		proxy.Set(t, harness.Blackhole, 0, 0)
		put("blackhole/ad.mp3", 4, 128<<10)
		msg := sawError(t, 3*time.Minute, "timeout", "deadline", "Timeout")
		t.Logf("status API while black-holed: %s", msg)
		alerted(t, "keep failing to sync", since)
		proxy.Set(t, harness.Pass, 0, 0)
		converged(t, 3*time.Minute)
	})

	t.Run("slow", func(t *testing.T) {
		proxy.Set(t, harness.Slow, 20*time.Millisecond, 2<<20)
		put("slow/news.mp3", 5, 2<<20)
		converged(t, 3*time.Minute)
		proxy.Set(t, harness.Pass, 0, 0)
	})

	t.Run("reset mid-upload", func(t *testing.T) {
		put("reset/show.mp3", 6, 48<<20)
		require.Eventually(t, func() bool { return a.Share(t).InFlight > 0 }, time.Minute, 20*time.Millisecond)
		for range 6 {
			time.Sleep(300 * time.Millisecond)
			proxy.Cut()
		}
		converged(t, 3*time.Minute)
	})

	t.Run("minio restarted mid-upload", func(t *testing.T) {
		put("restart/hour.mp3", 7, 96<<20)
		require.Eventually(t, func() bool { return a.Share(t).InFlight > 0 }, time.Minute, 20*time.Millisecond)
		time.Sleep(500 * time.Millisecond)
		m.Stop()
		time.Sleep(3 * time.Second)
		m.Restart(t)
		converged(t, 4*time.Minute)
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

// TestTargetFaults covers a target that is wrong rather than down: a
// bucket that does not exist yet, wrong credentials, and a user denied
// one prefix. Each shows a clear error on the status API, keeps
// retrying, never leaks the secret, and converges once fixed.
func TestTargetFaults(t *testing.T) {
	m := harness.StartMinIO(t)

	t.Run("bucket missing", func(t *testing.T) {
		t.Setenv("GENESISSYNC_SHARES_STUDIO_TARGET_BUCKET", "not-yet")
		a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
		writeLocal(t, filepath.Join(a.SharePath, "first.mp3"), 11, 32<<10)
		msg := waitShareError(t, a, "NoSuchBucket")
		require.Contains(t, msg, "the bucket does not exist", "the error says what to fix")
		t.Logf("status API: %s", msg)
		m.MC(t, nil, "mb", "t/not-yet")
		require.Eventually(t, func() bool {
			_, err := m.TryMC(t, nil, "stat", "t/not-yet/"+a.Prefix+"first.mp3")
			return err == nil
		}, 3*time.Minute, 500*time.Millisecond, "the file never reached the bucket once it existed")
		require.Eventually(t, func() bool { return a.Share(t).State == "in-sync" }, time.Minute, 200*time.Millisecond)
	})

	t.Run("wrong credentials", func(t *testing.T) {
		const wrong = "wrong-secret-0123456789abcdef"
		t.Setenv("GENESISSYNC_SHARES_STUDIO_TARGET_SECRET_ACCESS_KEY", wrong)
		a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
		writeLocal(t, filepath.Join(a.SharePath, "creds.mp3"), 12, 32<<10)
		msg := waitShareError(t, a, "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "403")
		require.Contains(t, msg, "check the target's credentials", "the error says what to fix")
		t.Logf("status API: %s", msg)
		raw := httpGet(t, a.StatusURL+"/api/status")
		require.NotContains(t, raw, wrong, "the secret reached the status API")
		a.Stop()
		logData, err := os.ReadFile(a.LogPath())
		require.NoError(t, err)
		require.NotContains(t, string(logData), wrong, "the secret reached the log")

		require.NoError(t, os.Unsetenv("GENESISSYNC_SHARES_STUDIO_TARGET_SECRET_ACCESS_KEY"))
		a.Start(t)
		waitObject(t, a.Store, "creds.mp3", 2*time.Minute)
		requireObject(t, a.Store, "creds.mp3", 12, 32<<10)
	})

	t.Run("prefix denied", func(t *testing.T) {
		// A user that may write the share's prefix except its "private/"
		// folder, as a restrictive bucket policy would.
		const user, pass = "studio-uploader", "studio-uploader-secret-42"
		m.MC(t, nil, "admin", "user", "add", "t", user, pass)
		policy := func(deny bool) []byte {
			stmt := `{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::station","arn:aws:s3:::station/*"]}`
			if deny {
				stmt += `,{"Effect":"Deny","Action":["s3:PutObject","s3:GetObject"],"Resource":["arn:aws:s3:::station/studio/private/*"]}`
			}
			return []byte(`{"Version":"2012-10-17","Statement":[` + stmt + `]}`)
		}
		pol := filepath.Join(t.TempDir(), "policy.json")
		require.NoError(t, os.WriteFile(pol, policy(true), 0o600))
		m.MC(t, nil, "admin", "policy", "create", "t", "studio-deny-private", pol)
		m.MC(t, nil, "admin", "policy", "attach", "t", "studio-deny-private", "--user", user)
		t.Setenv("GENESISSYNC_SHARES_STUDIO_TARGET_ACCESS_KEY_ID", user)
		t.Setenv("GENESISSYNC_SHARES_STUDIO_TARGET_SECRET_ACCESS_KEY", pass)
		a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
		writeLocal(t, filepath.Join(a.SharePath, "public/ok.mp3"), 13, 16<<10)
		writeLocal(t, filepath.Join(a.SharePath, "private/denied.mp3"), 14, 16<<10)
		waitObject(t, a.Store, "public/ok.mp3", time.Minute)
		msg := waitShareError(t, a, "AccessDenied", "Access Denied", "403")
		require.Contains(t, msg, "private/denied.mp3", "the error names the file")
		t.Logf("status API: %s", msg)

		require.NoError(t, os.WriteFile(pol, policy(false), 0o600))
		m.MC(t, nil, "admin", "policy", "create", "t", "studio-deny-private", pol)
		waitObject(t, a.Store, "private/denied.mp3", 4*time.Minute)
		requireObject(t, a.Store, "private/denied.mp3", 14, 16<<10)
		require.Eventually(t, func() bool { return a.Share(t).State == "in-sync" }, time.Minute, 200*time.Millisecond)
	})
}

// waitShareError waits until the share is in the error state with a last
// error containing one of the fragments, and returns it.
func waitShareError(t *testing.T, a *harness.Appliance, fragments ...string) string {
	t.Helper()
	var last string
	require.Eventually(t, func() bool {
		st := a.Share(t)
		if st.LastError == nil {
			return false
		}
		last = st.LastError.Path + ": " + st.LastError.Message
		for _, f := range fragments {
			if strings.Contains(last, f) {
				return st.State == "error"
			}
		}
		return false
	}, 2*time.Minute, 200*time.Millisecond, "no error naming %q on the status API; last error %q", fragments, last)
	return last
}
