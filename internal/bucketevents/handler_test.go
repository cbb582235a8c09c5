package bucketevents

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

const token = "events-token-0123456789abcdef"

// notified collects Notify calls per share; safe for concurrent use.
type notified struct {
	mu  sync.Mutex
	got map[string][]string
}

func (n *notified) target(share, bucket, prefix string) Target {
	return Target{Share: share, Bucket: bucket, Prefix: prefix, Notify: func(rel string) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.got == nil {
			n.got = map[string][]string{}
		}
		n.got[share] = append(n.got[share], rel)
	}}
}

func (n *notified) all() map[string][]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string][]string{}
	for k, v := range n.got {
		out[k] = append([]string(nil), v...)
		sort.Strings(out[k])
	}
	return out
}

func post(h http.Handler, auth string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestAuth(t *testing.T) {
	body := []byte(minioRecord("s3:ObjectCreated:Put", "station", "studio%2Fa.mp3"))
	cases := []struct {
		name, configured, auth string
		want                   int
	}{
		{"right token", token, "Bearer " + token, http.StatusOK},
		{"scheme in any case", token, "bearer " + token, http.StatusOK},
		{"no header", token, "", http.StatusUnauthorized},
		{"wrong token", token, "Bearer " + strings.Repeat("x", len(token)), http.StatusUnauthorized},
		{"token prefix", token, "Bearer " + token[:len(token)-1], http.StatusUnauthorized},
		{"token plus more", token, "Bearer " + token + "x", http.StatusUnauthorized},
		{"bare token", token, token, http.StatusUnauthorized},
		{"basic scheme", token, "Basic " + token, http.StatusUnauthorized},
		{"empty bearer", token, "Bearer ", http.StatusUnauthorized},
		{"nothing configured refuses all", "", "Bearer ", http.StatusUnauthorized},
		{"nothing configured refuses a guess", "", "Bearer " + token, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var n notified
			h := NewHandler(tc.configured, []Target{n.target("studio", "station", "studio/")}, zerolog.New(&logs))
			w := post(h, tc.auth, body)
			require.Equal(t, tc.want, w.Code)
			if tc.want == http.StatusOK {
				require.Equal(t, map[string][]string{"studio": {"a.mp3"}}, n.all())
				return
			}
			require.Empty(t, n.all(), "nothing may be scheduled without the token")
			require.Equal(t, `Bearer realm="genesissync"`, w.Header().Get("WWW-Authenticate"))
			require.Contains(t, logs.String(), "bucket event refused")
			require.NotContains(t, logs.String(), token[:8], "the token, or what was sent, is never logged")
			require.NotContains(t, w.Body.String(), token[:8])
		})
	}
}

// TestAuthLogIsSampled: a sender with a wrong token retries every 3 s
// (MinIO with a queue_dir); the log says so once, not every time.
func TestAuthLogIsSampled(t *testing.T) {
	var logs bytes.Buffer
	h := NewHandler(token, nil, zerolog.New(&logs))
	for range 5 {
		require.Equal(t, http.StatusUnauthorized, post(h, "Bearer wrong", []byte("{}")).Code)
	}
	require.Equal(t, 1, strings.Count(logs.String(), "bucket event refused"))
}

func TestMethod(t *testing.T) {
	h := NewHandler(token, nil, zerolog.Nop())
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete} {
		r := httptest.NewRequest(m, "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		require.Equal(t, http.MethodPost, w.Header().Get("Allow"))
	}
}

func TestBodyLimit(t *testing.T) {
	var n notified
	h := NewHandler(token, []Target{n.target("studio", "station", "")}, zerolog.Nop())
	rec := minioRecord("s3:ObjectCreated:Put", "station", "a.mp3")
	// Exactly MaxBody bytes (JSON allows trailing white space) is read.
	exact := []byte(rec + strings.Repeat(" ", MaxBody-len(rec)))
	require.Equal(t, http.StatusOK, post(h, "Bearer "+token, exact).Code)
	require.Equal(t, map[string][]string{"studio": {"a.mp3"}}, n.all())
	// One more is refused before it is parsed.
	over := append(exact, ' ')
	require.Equal(t, http.StatusRequestEntityTooLarge, post(h, "Bearer "+token, over).Code)
	require.Len(t, n.all()["studio"], 1)
	// Garbage is a bad request, not a crash.
	require.Equal(t, http.StatusBadRequest, post(h, "Bearer "+token, []byte("not json")).Code)
}

func TestRouting(t *testing.T) {
	body := func(name, bucket, escapedKey string) []byte {
		return []byte(minioRecord(name, bucket, escapedKey))
	}
	cases := []struct {
		name string
		body []byte
		want map[string][]string
	}{
		{"by prefix", body("s3:ObjectCreated:Put", "station", "studio%2Fjingles%2Fa.mp3"),
			map[string][]string{"studio": {"jingles/a.mp3"}, "all": {"studio/jingles/a.mp3"}}},
		{"other prefix", body("s3:ObjectCreated:Copy", "station", "news%2F0800.mp3"),
			map[string][]string{"news": {"0800.mp3"}, "all": {"news/0800.mp3"}}},
		{"deeper prefix", body("s3:ObjectCreated:Put", "station", "news%2Flocal%2F0800.mp3"),
			map[string][]string{"news": {"local/0800.mp3"}, "local": {"0800.mp3"}, "all": {"news/local/0800.mp3"}}},
		{"no prefix matches but the empty one", body("s3:ObjectCreated:Put", "station", "studio.mp3"),
			map[string][]string{"all": {"studio.mp3"}}},
		{"prefix is a path prefix, not a string prefix", body("s3:ObjectCreated:Put", "station", "studios%2Fa.mp3"),
			map[string][]string{"all": {"studios/a.mp3"}}},
		{"other bucket", body("s3:ObjectRemoved:Delete", "archive", "a.mp3"),
			map[string][]string{"archive": {"a.mp3"}}},
		{"delete marker", body("s3:ObjectRemoved:DeleteMarkerCreated", "archive", "a.mp3"),
			map[string][]string{"archive": {"a.mp3"}}},
		{"unknown bucket", body("s3:ObjectCreated:Put", "elsewhere", "studio%2Fa.mp3"), map[string][]string{}},
		{"bucket names are exact", body("s3:ObjectCreated:Put", "Station", "studio%2Fa.mp3"), map[string][]string{}},
		{"read", body("s3:ObjectAccessed:Get", "station", "studio%2Fa.mp3"), map[string][]string{}},
		{"replication", body("s3:Replication:OperationCompletedReplication", "station", "studio%2Fa.mp3"), map[string][]string{}},
		{"test event", []byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"station"}`), map[string][]string{}},
		{"directory marker", body("s3:ObjectCreated:Put", "station", "studio%2Fjingles%2F"), map[string][]string{}},
		{"the prefix itself", body("s3:ObjectCreated:Put", "station", "studio%2F"), map[string][]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n notified
			h := NewHandler(token, []Target{
				n.target("studio", "station", "studio/"),
				n.target("news", "station", "news/"),
				n.target("local", "station", "news/local/"),
				n.target("all", "station", ""),
				n.target("archive", "archive", ""),
			}, zerolog.Nop())
			w := post(h, "Bearer "+token, tc.body)
			require.Equal(t, http.StatusOK, w.Code, "MinIO must never queue an event we cannot use")
			require.Equal(t, tc.want, n.all())
		})
	}
}

// TestRefusedKeys: keys keymap refuses never reach a share; the request
// still succeeds (the listing reports them), and the log names the reason.
func TestRefusedKeys(t *testing.T) {
	cases := []struct {
		name, escaped, reason string
	}{
		{"traversal", "studio%2F..%2F..%2Fetc%2Fpasswd", "dot-segment"},
		{"traversal past the prefix", "studio%2F..%2Fnews%2Fa.mp3", "dot-segment"},
		{"absolute below the prefix", "studio%2F%2Fetc%2Fpasswd", "absolute"},
		{"NUL", "studio%2Fa%00b.mp3", "nul"},
		{"control character", "studio%2Fa%1B%5B2Jb.mp3", "control-char"},
		{"line break", "studio%2Fa%0Afake+log+line.mp3", "control-char"},
		{"windows device", "studio%2FCON.mp3", "windows-reserved-name"},
		{"windows illegal", "studio%2Fwhat%3F.mp3", "windows-illegal-char"},
		{"bidi override", "studio%2Fsong%E2%80%AE3pm.exe", "format-char"},
		{"reserved prefix", "studio%2F.genesissync-tmp-x", "reserved-prefix"},
		{"invalid UTF-8", "studio%2F%FF.mp3", "invalid-utf8"},
		{"trailing dot", "studio%2Fa.", "trailing-dot-or-space"},
		{"backslash", "studio%2F..%5C..%5Cwin.ini", "backslash"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var n notified
			h := NewHandler(token, []Target{n.target("studio", "station", "studio/")}, zerolog.New(&logs))
			w := post(h, "Bearer "+token, []byte(minioRecord("s3:ObjectCreated:Put", "station", tc.escaped)))
			require.Equal(t, http.StatusOK, w.Code)
			require.Empty(t, n.all())
			require.Contains(t, logs.String(), `"reason":"`+tc.reason+`"`)
			require.NotContains(t, logs.String(), "\x1b", "control characters are escaped in the log")
			require.Equal(t, 1, strings.Count(logs.String(), "\n"), "one log line, whatever the key holds")
		})
	}
	t.Run("undecodable", func(t *testing.T) {
		var logs bytes.Buffer
		var n notified
		h := NewHandler(token, []Target{n.target("studio", "station", "")}, zerolog.New(&logs))
		w := post(h, "Bearer "+token, []byte(minioRecord("s3:ObjectCreated:Put", "station", "a%zz")))
		require.Equal(t, http.StatusOK, w.Code)
		require.Empty(t, n.all())
		require.Contains(t, logs.String(), "undecodable key")
	})
}

// TestCapturedPayloads routes what a real MinIO sent.
func TestCapturedPayloads(t *testing.T) {
	var n notified
	h := NewHandler(token, []Target{n.target("studio", "station", "studio/")}, zerolog.Nop())
	for _, f := range []string{"minio-put.json", "minio-multipart.json", "minio-delete.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, post(h, "Bearer "+token, data).Code, f)
	}
	require.Equal(t, map[string][]string{"studio": {
		"azuracast/Live + Talk 100% Übertragung.mp3",
		"azuracast/Live + Talk 100% Übertragung.mp3",
		"jingles/Ident #2 (long).mp3",
	}}, n.all())
}

func TestConcurrentRequests(t *testing.T) {
	var n notified
	h := NewHandler(token, []Target{n.target("studio", "station", "")}, zerolog.Nop())
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			key := "a" + strings.Repeat("b", i) + ".mp3"
			require.Equal(t, http.StatusOK, post(h, "Bearer "+token, []byte(minioRecord("s3:ObjectCreated:Put", "station", key))).Code)
		})
	}
	wg.Wait()
	require.Len(t, n.all()["studio"], 32)
}

func TestServer(t *testing.T) {
	var n notified
	srv := New(token, []Target{n.target("studio", "station", "studio/")}, zerolog.Nop())
	ln, err := srv.Listen("127.0.0.1:0")
	require.NoError(t, err)

	// A port in use is reported by Listen, at start.
	_, err = srv.Listen(ln.Addr().String())
	require.ErrorContains(t, err, "bucket events listen")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	data, err := os.ReadFile(filepath.Join("testdata", "minio-put.json"))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/any/path", bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, map[string][]string{"studio": {"azuracast/Live + Talk 100% Übertragung.mp3"}}, n.all())

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err, "the listener is closed")
}
