package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/bucketevents"
	"genesissync/tests/harness"
)

var updateEvents = flag.Bool("update-events", false, "rewrite internal/bucketevents/testdata with the payloads MinIO sent")

// TestBucketEvents points the test MinIO's webhook notification target at
// the daemon's bucket events endpoint, as the README tells an operator to,
// and puts objects with mc (a PUT and a multipart upload): each is on the
// share long before the next bucket listing (10 minutes away), so only the
// event can have brought it.
//
// A second webhook target, in this process, records what MinIO sent: the
// payloads must parse to the keys put (spaces, '+', '%' and non-ASCII in
// them), and `-update-events` commits them as internal/bucketevents'
// testdata.
func TestBucketEvents(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: 10 * time.Minute, Events: true})
	capture := newEventCapture(t)

	// MinIO dials each endpoint when the target is set: both are up.
	m.MC(t, nil, "admin", "config", "set", "t", "notify_webhook:genesissync",
		"endpoint="+a.EventsURL, "auth_token="+a.EventsToken)
	m.MC(t, nil, "admin", "config", "set", "t", "notify_webhook:capture",
		"endpoint="+capture.srv.URL+"/capture", "auth_token=capture-token-0123456789")
	// Notification targets are not dynamic config: they load at start.
	// The README's way: MinIO re-executes itself in place (same pid).
	// Without a TTY mc needs --json, and then it does not wait for the
	// server to come back: mc ready does.
	m.MC(t, nil, "admin", "service", "restart", "t", "--json")
	m.MC(t, nil, "ready", "t", "--json")
	m.MC(t, nil, "event", "add", "t/"+a.Bucket, "arn:minio:sqs::genesissync:webhook", "--event", "put,delete")
	m.MC(t, nil, "event", "add", "t/"+a.Bucket, "arn:minio:sqs::capture:webhook", "--event", "put,delete")

	// A single PUT (mc cp of a small file), as web apps and S3 SDKs do.
	key := "azuracast/Live + Talk 100% Übertragung.mp3" // '+', '%', space, non-ASCII
	data := contentBytes(41, 512<<10)
	src := filepath.Join(t.TempDir(), "upload.mp3")
	require.NoError(t, os.WriteFile(src, data, 0o644))
	arrives(t, a, key, data, func() { m.MC(t, nil, "cp", src, "t/"+a.Bucket+"/"+a.Prefix+key) })
	// A multipart upload (mc pipe always streams as multipart).
	key2 := "jingles/Ident #2 (long).mp3"
	data2 := contentBytes(42, 256<<10)
	arrives(t, a, key2, data2, func() { m.MC(t, data2, "pipe", "t/"+a.Bucket+"/"+a.Prefix+key2) })

	// A playout PC sees it too.
	c := a.SMB(t)
	viaSMB, err := c.ReadFile(key)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, viaSMB), "bytes read over SMB differ from the object")

	// Recorded as a download; nothing went back up.
	require.Eventually(t, func() bool { return a.Share(t).Downloads == 2 }, 5*time.Second, 20*time.Millisecond)
	require.EqualValues(t, 0, a.Share(t).Uploads)

	// A name that differs from one on the share only by letter case is
	// refused, event or not: Windows clients could not tell them apart.
	upper := strings.ToUpper(key2)
	m.MC(t, []byte("other bytes"), "pipe", "t/"+a.Bucket+"/"+a.Prefix+upper)
	require.Eventually(t, func() bool {
		for _, r := range a.Share(t).RefusedPaths {
			if r.Key == upper && r.Reason == "case-collision" {
				return true
			}
		}
		return false
	}, 15*time.Second, 50*time.Millisecond, "a case collision from an event was not refused")
	_, err = os.Stat(filepath.Join(a.SharePath, "JINGLES"))
	require.True(t, os.IsNotExist(err), "the colliding name must not be written")

	// The delete event of the same key reaches the endpoint too.
	m.MC(t, nil, "rm", "t/"+a.Bucket+"/"+a.Prefix+key)

	created := capture.wait(t, "s3:ObjectCreated:Put")
	multipart := capture.wait(t, "s3:ObjectCreated:CompleteMultipartUpload")
	removed := capture.wait(t, "s3:ObjectRemoved:Delete")
	for _, tc := range []struct {
		c   captured
		key string
	}{{created, key}, {multipart, key2}, {removed, key}} {
		events, err := bucketevents.Parse(tc.c.body)
		require.NoError(t, err)
		require.Len(t, events, 1, "MinIO sends one record per request")
		require.Equal(t, tc.c.name, events[0].Name)
		require.Equal(t, a.Bucket, events[0].Bucket)
		require.Equal(t, a.Prefix+tc.key, events[0].Key)
		require.NoError(t, events[0].KeyErr)
		require.True(t, events[0].Changes())
	}
	require.Equal(t, "Bearer capture-token-0123456789", created.auth)
	require.Equal(t, "application/json", created.contentType)

	if *updateEvents {
		dir := filepath.Join(harness.RepoRoot(), "internal", "bucketevents", "testdata")
		for name, body := range map[string][]byte{
			"minio-put.json": created.body, "minio-multipart.json": multipart.body, "minio-delete.json": removed.body,
		} {
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, body, "", "  "))
			pretty.WriteByte('\n')
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), pretty.Bytes(), 0o644))
		}
		t.Logf("wrote %s", dir)
	}
}

// arrives runs put, which puts data at key in the bucket, and waits until
// the file is whole on the share; it logs how long that took after put
// returned.
func arrives(t *testing.T, a *harness.Appliance, key string, data []byte, put func()) {
	t.Helper()
	local := filepath.Join(a.SharePath, filepath.FromSlash(key))
	start := time.Now()
	put()
	putDone := time.Now()
	var latency time.Duration
	require.Eventually(t, func() bool {
		// Downloads are published by rename: the right size means whole.
		fi, err := os.Stat(local)
		if err != nil || fi.Size() != int64(len(data)) {
			return false
		}
		latency = time.Since(putDone)
		return true
	}, 15*time.Second, 5*time.Millisecond, "%s did not reach the share: the event was not delivered or not acted on", key)
	t.Logf("%q: mc took %v; put done -> file on the share: %v (bucket listing every 10m)",
		key, putDone.Sub(start).Round(time.Millisecond), latency.Round(time.Millisecond))
	got, err := os.ReadFile(local)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "the file differs from the object")
}

// eventCapture is a webhook target that records what it is sent.
type eventCapture struct {
	srv *httptest.Server

	mu   sync.Mutex
	got  []captured
	more chan struct{} // closed and replaced on every request
}

type captured struct {
	name, auth, contentType string
	body                    []byte
}

func newEventCapture(t *testing.T) *eventCapture {
	c := &eventCapture{more: make(chan struct{})}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var head struct{ EventName string }
		_ = json.Unmarshal(body, &head)
		c.mu.Lock()
		c.got = append(c.got, captured{head.EventName, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
		close(c.more)
		c.more = make(chan struct{})
		c.mu.Unlock()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// wait returns the first request for the event name, failing after 10 s.
func (c *eventCapture) wait(t *testing.T, name string) captured {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		for _, g := range c.got {
			if g.name == name {
				c.mu.Unlock()
				return g
			}
		}
		more := c.more
		c.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("MinIO sent no %s event", name)
		}
	}
}
