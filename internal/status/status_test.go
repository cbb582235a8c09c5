package status

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"genesissync/internal/eventlog"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/reconcile"
)

type fixed model.Snapshot

func (f fixed) Snapshot() model.Snapshot { return model.Snapshot(f) }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

const hostile = `<script>alert(1)</script>.mp3`

func hostileSnapshot() model.Snapshot {
	now := time.Now()
	return model.Snapshot{
		Version: "test", StartedAt: now.Add(-time.Hour), Now: now, Samba: model.Samba{Mode: "standalone", Up: true},
		Clients: model.Clients{Sessions: []model.Session{{User: "studio", Machine: "10.0.0.5", Dialect: "SMB3_11", Shares: []string{"studio"}}},
			OpenFiles: []model.OpenFile{{Share: "studio", Path: hostile}}, CheckedAt: now},
		Endpoints: []model.Endpoint{{URL: "http://127.0.0.1:9000", Bucket: "station", Shares: []string{"studio"}, Reachable: true, LatencyMs: 3.5, CheckedAt: now,
			Capabilities: &objstore.Capabilities{
				ConditionalCreate: objstore.Capability{State: objstore.TriYes, Reason: "412 on an existing key"},
				URLEncoding:       objstore.Capability{State: objstore.TriNo, Reason: "<raw> keys"},
			},
			Degradations: []string{"No URL-encoded listings (<raw> keys): keys are listed raw."}}},
		Pools:  []model.Pool{{Name: "tank", Health: "DEGRADED", CapacityPercent: 81, Free: 3 << 30, Problem: "a disk is missing"}},
		Events: []eventlog.Event{{Time: now, Level: eventlog.Warning, Kind: "test", Share: "studio", Message: "refused " + hostile}},
		Playout: model.Playout{Aware: true, Active: true, Since: &now, ClientReadBytesPerSecond: 5 << 20, ThresholdBytesPerSecond: 32 << 10,
			RateLimitBytesPerSecond: 32 << 20, Transfers: 1, Summary: "playout: transfers held to 32 MiB/s, 1 at a time"},
		Shares: []model.Share{{
			Status: reconcile.Status{
				Name: "studio", State: reconcile.StateSyncing, PendingUploads: 2,
				OldestPending: now.Add(-10 * time.Second), OldestPendingAgeSeconds: 10,
				LastError:          &reconcile.Failure{Path: hostile, At: now, Message: "boom"},
				RefusedPaths:       []reconcile.Refused{{Key: hostile, Reason: "windows-illegal-char"}},
				Conflicts:          []reconcile.ConflictCopy{{Path: hostile, Copy: hostile + " (conflict)", At: now}},
				HeldDeletes:        []reconcile.HeldDelete{{Path: hostile, Action: "delete-remote"}},
				HeldDeleteCount:    1,
				DeleteGuardTripped: true, DeleteBatch: "b-123",
			},
			StaleAfterSeconds: 900,
			RecentErrors:      []reconcile.Failure{{Path: hostile, At: now, Message: "upload failed"}},
			Snapshots: model.Snapshots{Enabled: true, Dataset: "tank/studio", Count: 3, DatasetAvailable: 1 << 30,
				Recent: []model.SnapshotInfo{{Name: "gs-2026-11-22-0300", Kind: "scheduled", Created: now}}},
			Verify: model.Verify{LastRun: now, Mode: "deep", Checked: 10, Mismatches: 1, Problems: []model.VerifyProblem{{Path: hostile, Kind: "hash-mismatch"}},
				Running: &model.Job{ID: "v-1", Kind: "verify", Phase: "hashing", Files: 3, FilesTotal: 10}},
		}},
	}
}

func TestEndpoints(t *testing.T) {
	srv := New(fixed(hostileSnapshot()), zerolog.Nop(), Options{Public: true})

	code, body := get(t, srv, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	code, body = get(t, srv, "/api/status")
	require.Equal(t, http.StatusOK, code)
	var back model.Snapshot
	require.NoError(t, json.Unmarshal([]byte(body), &back))
	require.Equal(t, 2, back.Shares[0].PendingUploads)
	require.Equal(t, hostile, back.Shares[0].LastError.Path)
	require.Equal(t, hostile, back.Shares[0].RecentErrors[0].Path)
	require.Equal(t, "station", back.Endpoints[0].Bucket)
	require.Equal(t, objstore.TriNo, back.Endpoints[0].Capabilities.URLEncoding.State, "targets' capabilities in the API")
	require.Equal(t, "studio", back.Clients.Sessions[0].User)

	code, body = get(t, srv, "/")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "<script>alert", "file names are escaped on the page")
	require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;.mp3")
	require.Contains(t, body, "studio")
	require.Contains(t, body, "DEGRADED")
	require.Contains(t, body, "a disk is missing")
	require.Contains(t, body, "gs-2026-11-22-0300")
	require.Contains(t, body, "verify v-1 running: hashing, 3/10 files")
	require.Contains(t, body, "hash-mismatch")
	require.Contains(t, body, "playout: transfers held to 32 MiB/s, 1 at a time")
	require.Contains(t, body, "5.0 MiB/s")
	require.Contains(t, body, `<span class="cap cap-yes" title="412 on an existing key">conditional_create yes</span>`)
	require.Contains(t, body, `<span class="cap cap-no" title="&lt;raw&gt; keys">url_encoding no</span>`)
	require.Contains(t, body, "No URL-encoded listings (&lt;raw&gt; keys): keys are listed raw.")
	require.NotContains(t, body, "evidence")
	require.Contains(t, body, `<span data-b="adopted.by_etag">0</span> by ETag`)
	require.NotContains(t, body, "Sync now", "no admin buttons without a login")
	require.Regexp(t, `<script src="/static/app.js" defer></script>`, body)
	require.Equal(t, 1, strings.Count(body, "<script"), "the only script is the embedded file")

	code, body = get(t, srv, "/static/app.js")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "innerHTML", "the page's script writes data as text only")
	require.Contains(t, body, "textContent")
	code, _ = get(t, srv, "/static/app.css")
	require.Equal(t, http.StatusOK, code)

	code, _ = get(t, srv, "/nope")
	require.Equal(t, http.StatusNotFound, code)
}

func TestSecurityHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	New(fixed(model.Snapshot{}), zerolog.Nop(), Options{Public: true}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
	require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

func TestStaleState(t *testing.T) {
	cases := []struct {
		name      string
		state     string
		age, goal float64
		want      string
		stale     bool
	}{
		{"within target", reconcile.StateSyncing, 10, 900, reconcile.StateSyncing, false},
		{"past target", reconcile.StateSyncing, 901, 900, model.StateStale, true},
		{"paused past target", reconcile.StatePaused, 901, 900, model.StateStale, true},
		{"error stays error", reconcile.StateError, 901, 900, reconcile.StateError, true},
		{"no target", reconcile.StateSyncing, 901, 0, reconcile.StateSyncing, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			oldest := now.Add(-time.Duration(tc.age * float64(time.Second)))
			snap := model.Snapshot{Now: now, Samba: model.Samba{Mode: "off"}, Shares: []model.Share{{
				Status: reconcile.Status{Name: "a", State: tc.state,
					OldestPending: oldest, OldestPendingAgeSeconds: tc.age},
				StaleAfterSeconds: tc.goal,
			}}}
			code, body := get(t, New(fixed(snap), zerolog.Nop(), Options{Public: true}), "/api/status")
			require.Equal(t, http.StatusOK, code)
			var back model.Snapshot
			require.NoError(t, json.Unmarshal([]byte(body), &back))
			require.Equal(t, tc.want, back.Shares[0].State)
			require.Equal(t, tc.stale, back.Shares[0].Stale)
			_, metrics := get(t, New(fixed(snap), zerolog.Nop(), Options{}), "/metrics")
			require.Contains(t, metrics, `genesissync_share_state{share="a",state="`+tc.want+`"} 1`)
		})
	}
}

func TestHealthz(t *testing.T) {
	cases := []struct {
		name string
		snap model.Snapshot
		code int
	}{
		{"smbd down", model.Snapshot{Samba: model.Samba{Mode: "standalone"}}, http.StatusServiceUnavailable},
		{"samba off", model.Snapshot{Samba: model.Samba{Mode: "off"}}, http.StatusOK},
		{"share error", model.Snapshot{Samba: model.Samba{Mode: "off"}, Shares: []model.Share{{Status: reconcile.Status{Name: "a", State: reconcile.StateError}}}}, http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := get(t, New(fixed(tc.snap), zerolog.Nop(), Options{}), "/healthz")
			require.Equal(t, tc.code, code)
		})
	}

	t.Run("warnings are details, not a failure", func(t *testing.T) {
		snap := model.Snapshot{Samba: model.Samba{Mode: "off"}, Warnings: []model.Warning{{ID: "samba-vfs-module-missing-shadow_copy2",
			Message: "smbd cannot load VFS module shadow_copy2"}}}
		code, body := get(t, New(fixed(snap), zerolog.Nop(), Options{}), "/healthz")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "ok\nwarning: samba-vfs-module-missing-shadow_copy2: smbd cannot load VFS module shadow_copy2\n", body)
	})
}

func TestMetrics(t *testing.T) {
	snap := hostileSnapshot()
	snap.Shares[0].Status = reconcile.Status{
		Name: "studio", State: reconcile.StateSyncing, PendingUploads: 3, Uploads: 7, UploadedBytes: 1024,
		OldestPendingAgeSeconds: 4.5, DeleteGuardTripped: true, HeldDeleteCount: 60, PausedReason: "",
		LastFullScan: time.Unix(1000, 0), LastFullScanDone: time.Unix(1005, 0),
	}
	snap.Shares[0].UploadBytesPerSecond = 2048
	snap.Shares[0].Verify.Mismatches = 2
	snap.Shares[0].Verify.Warnings = 0
	code, body := get(t, New(fixed(snap), zerolog.Nop(), Options{}), "/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`genesissync_up 1`,
		`genesissync_build_info{version="test"} 1`,
		`genesissync_start_time_seconds `,
		`genesissync_samba_smbd_up 1`,
		`genesissync_samba_sessions 1`,
		`genesissync_samba_open_files 1`,
		`genesissync_share_pending{share="studio"} 3`,
		`genesissync_transfer_uploads_total{share="studio"} 7`,
		`genesissync_transfer_uploaded_bytes_total{share="studio"} 1024`,
		`genesissync_transfer_upload_bytes_per_second{share="studio"} 2048`,
		`genesissync_transfer_download_bytes_per_second{share="studio"} 0`,
		`genesissync_share_oldest_pending_age_seconds{share="studio"} 4.5`,
		`genesissync_share_last_full_scan_timestamp_seconds{share="studio"} 1005`,
		`genesissync_share_stale{share="studio"} 0`,
		`genesissync_share_stale_after_seconds{share="studio"} 900`,
		`genesissync_share_paused{share="studio"} 0`,
		`genesissync_reconcile_delete_guard_tripped{share="studio"} 1`,
		`genesissync_reconcile_held_deletes{share="studio"} 60`,
		`genesissync_share_state{share="studio",state="syncing"} 1`,
		`genesissync_zfs_pool_healthy{pool="tank"} 0`,
		`genesissync_zfs_pool_health{health="DEGRADED",pool="tank"} 1`,
		`genesissync_zfs_pool_capacity_percent{pool="tank"} 81`,
		`genesissync_objstore_endpoint_up{bucket="station",endpoint="http://127.0.0.1:9000"} 1`,
		`genesissync_objstore_endpoint_latency_seconds{bucket="station",endpoint="http://127.0.0.1:9000"} 0.0035`,
		`genesissync_snapshot_enabled{share="studio"} 1`,
		`genesissync_verify_mismatches{share="studio"} 2`,
		`genesissync_verify_warnings{share="studio"} 0`,
		`genesissync_verify_running{share="studio"} 1`,
		`genesissync_verify_last_run_timestamp_seconds{share="studio"} `,
		`genesissync_snapshot_count{share="studio"} 3`,
		`genesissync_snapshot_dataset_available_bytes{share="studio"} 1.073741824e+09`,
		`genesissync_zfs_pool_free_bytes{pool="tank"} 3.221225472e+09`,
		`genesissync_playout_active 1`,
		`genesissync_playout_client_read_bytes_per_second 5.24288e+06`,
		`go_goroutines`,
	} {
		require.Contains(t, body, want)
	}
}

func TestReadyz(t *testing.T) {
	code, _ := get(t, New(fixed(model.Snapshot{Shares: []model.Share{{Status: reconcile.Status{Name: "a"}}}}), zerolog.Nop(), Options{}), "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	code, _ = get(t, New(fixed(model.Snapshot{Shares: []model.Share{{Status: reconcile.Status{Name: "a", LastFullScan: time.Now()}}}}), zerolog.Nop(), Options{}), "/readyz")
	require.Equal(t, http.StatusOK, code)
}

// fakeActions records what it was asked; err is returned for every call.
type fakeActions struct {
	mu   sync.Mutex
	done []Action
	err  error
}

func (f *fakeActions) Do(_ context.Context, a Action) (Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Result{}, f.err
	}
	if a.Share != "" && a.Share != "studio" {
		return Result{}, ErrUnknownShare
	}
	f.done = append(f.done, a)
	return Result{Message: a.Kind + " done for " + a.Share, Job: "job-1"}, nil
}

func (f *fakeActions) calls() []Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Action(nil), f.done...)
}

const testPassword = "correct horse battery staple"

// testServer is a server with one admin (alice) and fake actions, a
// controllable clock and no login delay, behind httptest.
type testServer struct {
	*Server
	acts *fakeActions
	hash string
	now  time.Time
	mu   sync.Mutex
	ts   *httptest.Server
}

func newTestServer(t *testing.T, public bool) *testServer {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	require.NoError(t, err)
	acts := &fakeActions{}
	ts := &testServer{acts: acts, hash: string(h), now: time.Now()}
	ts.Server = New(fixed(hostileSnapshot()), zerolog.Nop(), Options{
		Actions: acts, Admins: map[string]string{"alice": string(h)}, Public: public, SessionTTL: time.Hour,
	})
	ts.auth.now = ts.clock
	ts.auth.delay = time.Millisecond
	ts.ts = httptest.NewServer(ts.Server)
	t.Cleanup(ts.ts.Close)
	return ts
}

func (ts *testServer) clock() time.Time {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.now
}

func (ts *testServer) advance(d time.Duration) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.now = ts.now.Add(d)
}

// client is a browser-like client: a cookie jar, no redirects followed.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar := &jar{}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// jar is a minimal cookie jar (net/http/cookiejar would do too; this one
// lets tests see exactly what was set).
type jar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cookies == nil {
		j.cookies = map[string]*http.Cookie{}
	}
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.cookies, c.Name)
		} else {
			j.cookies[c.Name] = c
		}
	}
}

func (j *jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

func do(t *testing.T, c *http.Client, method, u string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func form(vals url.Values) (io.Reader, map[string]string) {
	return strings.NewReader(vals.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
}

func apiLogin(t *testing.T, ts *testServer, c *http.Client, user, pass string) (*http.Response, sessionInfo) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"user": user, "password": pass})
	resp, body := do(t, c, http.MethodPost, ts.ts.URL+"/api/login", strings.NewReader(string(b)), map[string]string{"Content-Type": "application/json"})
	var info sessionInfo
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal([]byte(body), &info))
	}
	return resp, info
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestFormLoginAndSyncNow(t *testing.T) {
	ts := newTestServer(t, true)
	c := client(t)

	// Wrong password: the form again, 401, no session.
	b, h := form(url.Values{"user": {"alice"}, "password": {"nope"}})
	resp, body := do(t, c, http.MethodPost, ts.ts.URL+"/login", b, h)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, "wrong user name or password")
	require.Empty(t, resp.Cookies())

	b, h = form(url.Values{"user": {"alice"}, "password": {testPassword}})
	resp, _ = do(t, c, http.MethodPost, ts.ts.URL+"/login", b, h)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Len(t, resp.Cookies(), 1)
	ck := resp.Cookies()[0]
	require.Equal(t, SessionCookie, ck.Name)
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, ck.SameSite)

	_, page := do(t, c, http.MethodGet, ts.ts.URL+"/", nil, nil)
	require.Contains(t, page, "Sync now")
	require.Contains(t, page, "Approve 1 deletes")
	m := csrfInput.FindStringSubmatch(page)
	require.NotNil(t, m, "the page carries the CSRF token in its forms")
	require.NotContains(t, page, ts.hash, "the password hash is never rendered")

	// Right token: done, back to the page with a message.
	b, h = form(url.Values{"csrf": {m[1]}})
	resp, _ = do(t, c, http.MethodPost, ts.ts.URL+"/admin/shares/studio/sync", b, h)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, []Action{{Kind: ActionSync, Share: "studio", User: "alice"}}, ts.acts.calls())
	_, page = do(t, c, http.MethodGet, ts.ts.URL+"/", nil, nil)
	require.Contains(t, page, "sync done for studio")

	// Approve carries the batch the person saw.
	b, h = form(url.Values{"csrf": {m[1]}, "batch": {"b-123"}})
	resp, _ = do(t, c, http.MethodPost, ts.ts.URL+"/admin/shares/studio/approve", b, h)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "b-123", ts.acts.calls()[1].Batch)

	// Logout ends the session server-side: the old cookie is useless.
	b, h = form(url.Values{"csrf": {m[1]}})
	resp, _ = do(t, c, http.MethodPost, ts.ts.URL+"/logout", b, h)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	c2 := client(t)
	c2.Jar.SetCookies(nil, []*http.Cookie{ck})
	b, h = form(url.Values{"csrf": {m[1]}})
	resp, _ = do(t, c2, http.MethodPost, ts.ts.URL+"/admin/shares/studio/sync", b, h)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login", resp.Header.Get("Location"))
	require.Len(t, ts.acts.calls(), 2)
}

func TestAdminPostRefused(t *testing.T) {
	ts := newTestServer(t, true)
	c := client(t)
	_, info := apiLogin(t, ts, c, "alice", testPassword)
	require.NotEmpty(t, info.CSRFToken)
	sync := ts.ts.URL + "/api/admin/shares/studio/sync"

	cases := []struct {
		name   string
		client *http.Client
		hdr    map[string]string
		code   int
	}{
		{"no session", client(t), map[string]string{CSRFHeader: info.CSRFToken}, http.StatusUnauthorized},
		{"no CSRF token", c, nil, http.StatusForbidden},
		{"wrong CSRF token", c, map[string]string{CSRFHeader: "x" + info.CSRFToken}, http.StatusForbidden},
		{"cross-site origin", c, map[string]string{CSRFHeader: info.CSRFToken, "Origin": "http://evil.example"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.client, http.MethodPost, sync, nil, tc.hdr)
			require.Equal(t, tc.code, resp.StatusCode, body)
			require.Empty(t, ts.acts.calls())
		})
	}
	t.Run("form without session goes to login", func(t *testing.T) {
		resp, _ := do(t, client(t), http.MethodPost, ts.ts.URL+"/admin/shares/studio/pause", nil, nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/login", resp.Header.Get("Location"))
	})
	t.Run("form with wrong token", func(t *testing.T) {
		b, h := form(url.Values{"csrf": {"wrong"}})
		resp, _ := do(t, c, http.MethodPost, ts.ts.URL+"/admin/shares/studio/pause", b, h)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
	t.Run("GET is not an action", func(t *testing.T) {
		resp, _ := do(t, c, http.MethodGet, sync, nil, map[string]string{CSRFHeader: info.CSRFToken})
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	require.Empty(t, ts.acts.calls())
}

func TestAPIActions(t *testing.T) {
	ts := newTestServer(t, true)
	c := client(t)
	_, info := apiLogin(t, ts, c, "alice", testPassword)
	hdr := map[string]string{CSRFHeader: info.CSRFToken, "Content-Type": "application/json"}
	cases := []struct {
		path, body string
		code       int
		want       Action
	}{
		{"/api/admin/shares/studio/pause", ``, 200, Action{Kind: ActionPause, Share: "studio", User: "alice"}},
		{"/api/admin/shares/studio/resume", `{}`, 200, Action{Kind: ActionResume, Share: "studio", User: "alice"}},
		{"/api/admin/shares/studio/snapshot", ``, 200, Action{Kind: ActionSnapshot, Share: "studio", User: "alice"}},
		{"/api/admin/shares/studio/verify", `{"deep": true, "sample_percent": 5}`, 200, Action{Kind: ActionVerify, Share: "studio", Deep: true, SamplePercent: 5, User: "alice"}},
		{"/api/admin/shares/studio/restore", `{"path": "/jingles/a.mp3"}`, 200, Action{Kind: ActionRestore, Share: "studio", Path: "jingles/a.mp3", User: "alice"}},
		{"/api/admin/shares/studio/restore", `{"path": "x", "snapshot": "auto-1"}`, 200, Action{Kind: ActionRestore, Share: "studio", Path: "x", Snapshot: "auto-1", User: "alice"}},
		{"/api/admin/shares/studio/approve", `{"batch": "b-123"}`, 200, Action{Kind: ActionApprove, Share: "studio", Batch: "b-123", User: "alice"}},
		{"/api/admin/test-alert", ``, 200, Action{Kind: ActionTestAlert, User: "alice"}},
		{"/api/admin/shares/studio/approve", `{}`, 400, Action{}},
		{"/api/admin/shares/studio/restore", `{"path": "../etc"}`, 400, Action{}},
		{"/api/admin/shares/studio/verify", `{"sample_percent": 101}`, 400, Action{}},
		{"/api/admin/shares/studio/explode", ``, 400, Action{}},
		{"/api/admin/shares/other/sync", ``, 404, Action{}},
	}
	for _, tc := range cases {
		t.Run(tc.path+tc.body, func(t *testing.T) {
			before := len(ts.acts.calls())
			resp, body := do(t, c, http.MethodPost, ts.ts.URL+tc.path, strings.NewReader(tc.body), hdr)
			require.Equal(t, tc.code, resp.StatusCode, body)
			if tc.code != 200 {
				var e apiError
				require.NoError(t, json.Unmarshal([]byte(body), &e))
				require.NotEmpty(t, e.Error)
				require.Len(t, ts.acts.calls(), before)
				return
			}
			var r actionResponse
			require.NoError(t, json.Unmarshal([]byte(body), &r))
			require.True(t, r.OK)
			require.Equal(t, "job-1", r.Job)
			calls := ts.acts.calls()
			require.Equal(t, tc.want, calls[len(calls)-1])
		})
	}
	t.Run("failure is 409 with the reason", func(t *testing.T) {
		ts.acts.mu.Lock()
		ts.acts.err = errors.New("snapshots are not implemented yet")
		ts.acts.mu.Unlock()
		resp, body := do(t, c, http.MethodPost, ts.ts.URL+"/api/admin/shares/studio/snapshot", nil, hdr)
		require.Equal(t, http.StatusConflict, resp.StatusCode)
		require.Contains(t, body, "not implemented yet")
	})
}

func TestSessionExpiry(t *testing.T) {
	ts := newTestServer(t, true)
	c := client(t)
	_, info := apiLogin(t, ts, c, "alice", testPassword)
	hdr := map[string]string{CSRFHeader: info.CSRFToken}
	resp, _ := do(t, c, http.MethodGet, ts.ts.URL+"/api/session", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	ts.advance(59 * time.Minute)
	resp, _ = do(t, c, http.MethodPost, ts.ts.URL+"/api/admin/shares/studio/sync", nil, hdr)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	ts.advance(2 * time.Minute) // past the one-hour TTL
	resp, _ = do(t, c, http.MethodPost, ts.ts.URL+"/api/admin/shares/studio/sync", nil, hdr)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = do(t, c, http.MethodGet, ts.ts.URL+"/api/session", nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Len(t, ts.acts.calls(), 1)
}

func TestLoginThrottle(t *testing.T) {
	ts := newTestServer(t, true)
	c := client(t)
	for range maxFailures {
		resp, _ := apiLogin(t, ts, c, "alice", "guess")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	// Even the right password is refused while throttled.
	resp, _ := apiLogin(t, ts, c, "alice", testPassword)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	resp, _ = apiLogin(t, ts, c, "nobody", testPassword)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	ts.advance(failWindow + time.Second)
	resp, info := apiLogin(t, ts, c, "alice", testPassword)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "alice", info.User)
}

func TestUnknownUserFails(t *testing.T) {
	ts := newTestServer(t, true)
	resp, _ := apiLogin(t, ts, client(t), "mallory", testPassword)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = apiLogin(t, ts, client(t), "alice", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestPrivateView(t *testing.T) {
	ts := newTestServer(t, false)
	anon := client(t)
	resp, _ := do(t, anon, http.MethodGet, ts.ts.URL+"/", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login", resp.Header.Get("Location"))
	for _, p := range []string{"/api/status", "/api/events/stream"} {
		resp, _ = do(t, anon, http.MethodGet, ts.ts.URL+p, nil, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, p)
	}
	for _, p := range []string{"/healthz", "/metrics", "/login", "/static/app.js"} {
		resp, _ = do(t, anon, http.MethodGet, ts.ts.URL+p, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
	}
	c := client(t)
	apiLogin(t, ts, c, "alice", testPassword)
	resp, _ = do(t, c, http.MethodGet, ts.ts.URL+"/api/status", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestSecretsAbsent logs in and reads every view: neither the password
// nor its hash appears anywhere.
func TestSecretsAbsent(t *testing.T) {
	var logs strings.Builder
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	require.NoError(t, err)
	srv := New(fixed(hostileSnapshot()), zerolog.New(&syncWriter{w: &logs}), Options{
		Actions: &fakeActions{}, Admins: map[string]string{"alice": string(h)}, Public: true,
	})
	srv.auth.delay = time.Millisecond
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tsrv := &testServer{Server: srv, ts: ts}
	c := client(t)
	apiLogin(t, tsrv, client(t), "alice", "wrong-"+testPassword)
	_, info := apiLogin(t, tsrv, c, "alice", testPassword)
	var all strings.Builder
	for _, p := range []string{"/", "/api/status", "/metrics", "/api/session", "/login", "/healthz"} {
		_, body := do(t, c, http.MethodGet, ts.URL+p, nil, nil)
		all.WriteString(body)
	}
	_, body := do(t, c, http.MethodPost, ts.URL+"/api/admin/shares/studio/sync", nil, map[string]string{CSRFHeader: info.CSRFToken})
	all.WriteString(body)
	for _, secret := range []string{testPassword, string(h), string(h)[7:]} {
		require.NotContains(t, all.String(), secret)
		require.NotContains(t, logs.String(), secret)
	}
	require.Contains(t, logs.String(), "login failed", "the log says what happened, without the secret")
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestStream(t *testing.T) {
	srv := New(fixed(hostileSnapshot()), zerolog.Nop(), Options{Public: true})
	srv.streamEvery = 10 * time.Millisecond
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/events/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	events := 0
	for sc.Scan() && events < 2 {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var snap model.Snapshot
			require.NoError(t, json.Unmarshal([]byte(data), &snap))
			require.Equal(t, hostile, snap.Shares[0].RecentErrors[0].Path)
			events++
		}
	}
	require.Equal(t, 2, events, "one snapshot at once, then one per period")
}

func TestActiveAlertsShowAsText(t *testing.T) {
	snap := model.Snapshot{Samba: model.Samba{Mode: "off"}, Alerts: []model.Alert{{
		Rule: "sync_failing", Severity: "critical", Share: "studio",
		Message: `share studio: <img src=x onerror=alert(1)>.mp3 keeps failing`,
	}}}
	srv := New(fixed(snap), zerolog.Nop(), Options{Public: true})
	code, page := get(t, srv, "/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, `id="alerts"`)
	require.Contains(t, page, "&lt;img src=x onerror=alert(1)&gt;.mp3 keeps failing")
	require.NotContains(t, page, "<img src=x")
	_, api := get(t, srv, "/api/status")
	require.Contains(t, api, `"rule": "sync_failing"`)
}

func TestWarningsShowAsText(t *testing.T) {
	snap := model.Snapshot{Samba: model.Samba{Mode: "off"}, Warnings: []model.Warning{{ID: "file-backed-pool", Message: "pool <b>tank</b> is a file"}}}
	code, page := get(t, New(fixed(snap), zerolog.Nop(), Options{Public: true}), "/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, `id="warnings"`)
	require.Contains(t, page, "pool &lt;b&gt;tank&lt;/b&gt; is a file")
}

func TestFailingFilesShowAsText(t *testing.T) {
	snap := model.Snapshot{Samba: model.Samba{Mode: "off"}, Shares: []model.Share{{Status: reconcile.Status{
		Name: "studio", State: reconcile.StateError, PendingFailures: 1,
		Failing: []reconcile.Failure{{Path: "<i>news</i>.mp3", At: time.Now(), Message: "put: connection refused"}},
	}}}}
	code, page := get(t, New(fixed(snap), zerolog.Nop(), Options{Public: true}), "/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, `data-l="failing"`)
	require.Contains(t, page, "&lt;i&gt;news&lt;/i&gt;.mp3")
	require.Contains(t, page, "put: connection refused")
}

// severalSnapshot has a target with three endpoints: the first down
// (writes failed over to the second), a read-only replica third.
func severalSnapshot() model.Snapshot {
	snap := hostileSnapshot()
	down := time.Date(2026, 3, 1, 11, 54, 0, 0, time.Local)
	ep := model.Endpoint{Bucket: "station", Shares: []string{"studio"}, CheckedAt: snap.Now, Target: "http://near:9000/station", Several: true}
	near, far, replica := ep, ep, ep
	near.URL, near.Order, near.FirstWriter, near.DownSince = "http://near:9000", 1, true, down
	near.Error, near.Requests, near.Failures = "dial tcp: <b>refused</b>", 12, 3
	far.URL, far.Order, far.Reachable, far.Writes, far.LatencyMs = "http://far:9000", 2, true, true, 40
	far.Requests, far.Misses, far.BytesRead, far.BytesWritten = 40, 2, 1536, 2<<20
	replica.URL, replica.Order, replica.Reachable, replica.ReadOnly, replica.LatencyMs = "http://replica:9000", 3, true, true, 7
	snap.Endpoints = []model.Endpoint{near, far, replica}
	return snap
}

// listItem is one <li> of a data-l list as the server rendered it: its
// spans' fields and texts.
type listItem struct{ fields, texts []string }

var (
	listRE = regexp.MustCompile(`<ul class="[^"]*" data-l="([^"]+)" data-i="([^"]*)"[^>]*>(.*?)</ul>`)
	itemRE = regexp.MustCompile(`<li[^>]*>(.*?)</li>`)
	spanRE = regexp.MustCompile(`<span class="f-([^"]+)">(.*?)</span>`)
)

// lists are the page's data-l lists: their data-i specs and items.
func lists(t *testing.T, page string) (map[string]string, map[string][]listItem) {
	t.Helper()
	specs, items := map[string]string{}, map[string][]listItem{}
	for _, m := range listRE.FindAllStringSubmatch(page, -1) {
		specs[m[1]] = m[2]
		for _, li := range itemRE.FindAllStringSubmatch(m[3], -1) {
			var it listItem
			for _, sp := range spanRE.FindAllStringSubmatch(li[1], -1) {
				it.fields, it.texts = append(it.fields, sp[1]), append(it.texts, sp[2])
			}
			if it.fields != nil {
				items[m[1]] = append(items[m[1]], it)
			}
		}
	}
	require.NotEmpty(t, specs)
	return specs, items
}

// TestListsMatchTheirSpecs: every item the server renders in a data-l
// list has one span per field of its data-i spec, in order, as app.js
// renders it live; and every format a spec names is one of app.js's.
func TestListsMatchTheirSpecs(t *testing.T) {
	_, js := get(t, New(fixed(model.Snapshot{}), zerolog.Nop(), Options{}), "/static/app.js")
	for name, snap := range map[string]model.Snapshot{"hostile": hostileSnapshot(), "several endpoints": severalSnapshot(), "peers": peersSnapshot()} {
		t.Run(name, func(t *testing.T) {
			_, page := get(t, New(fixed(snap), zerolog.Nop(), Options{Public: true}), "/")
			specs, items := lists(t, page)
			require.NotEmpty(t, items["endpoints"])
			for list, spec := range specs {
				var fields []string
				for _, f := range strings.Fields(spec) {
					name, format, _ := strings.Cut(f, ":")
					fields = append(fields, name)
					if format != "" {
						require.True(t, regexp.MustCompile(`(?m)^\s+`+format+`: `).MatchString(js), "list %s: format %s is not in app.js", list, format)
					}
				}
				for _, it := range items[list] {
					require.Equal(t, fields, it.fields, "list %s", list)
				}
			}
		})
	}
}

// TestSeveralEndpoints: of a target with several endpoints the Buckets
// row shows each one's order, state, since when it is down, whether it
// takes the writes (failed over) or is read-only, its latency, error,
// requests and bytes, escaped; a target with one endpoint shows what it
// did before.
func TestSeveralEndpoints(t *testing.T) {
	_, page := get(t, New(fixed(severalSnapshot()), zerolog.Nop(), Options{Public: true}), "/")
	require.NotContains(t, page, "<b>refused</b>")
	_, items := lists(t, page)
	var shown []string
	for _, it := range items["endpoints"] {
		var nonEmpty []string
		for i, text := range it.texts {
			if text != "" && it.fields[i] != "checked_at" { // checked_at is "… ago", moving with the clock
				nonEmpty = append(nonEmpty, text)
			}
		}
		shown = append(shown, strings.Join(nonEmpty, " · "))
	}
	require.Equal(t, []string{
		"http://near:9000 · station · endpoint 1 · unreachable · down since 2026-03-01 11:54:00 · 0 ms · dial tcp: &lt;b&gt;refused&lt;/b&gt; · 12 requests, 3 failed · 0 B read, 0 B written",
		"http://far:9000 · station · endpoint 2 · reachable · takes writes (failed over) · 40 ms · 40 requests, 2 missed · 1.5 KiB read, 2.0 MiB written",
		"http://replica:9000 · station · endpoint 3 · reachable · read-only · 7 ms · 0 requests · 0 B read, 0 B written",
	}, shown)

	_, page = get(t, New(fixed(hostileSnapshot()), zerolog.Nop(), Options{Public: true}), "/")
	_, items = lists(t, page)
	one := items["endpoints"][0]
	for i, f := range one.fields {
		switch f {
		case "url", "bucket", "reachable", "latency_ms", "checked_at":
			require.NotEmpty(t, one.texts[i], f)
		default:
			require.Empty(t, one.texts[i], "a target with one endpoint shows no %s", f)
		}
	}
	require.Equal(t, []string{"http://127.0.0.1:9000", "station", "reachable", "4 ms"},
		[]string{one.texts[0], one.texts[1], one.texts[3], one.texts[7]})
}

// TestEndpointMetrics: every endpoint has its up and latency; one of a
// target with several also its order, whether it takes the writes, and
// its counters; one of a target with one endpoint does not.
func TestEndpointMetrics(t *testing.T) {
	_, body := get(t, New(fixed(severalSnapshot()), zerolog.Nop(), Options{}), "/metrics")
	for _, want := range []string{
		`genesissync_objstore_endpoint_up{bucket="station",endpoint="http://near:9000"} 0`,
		`genesissync_objstore_endpoint_up{bucket="station",endpoint="http://far:9000"} 1`,
		`genesissync_objstore_endpoint_latency_seconds{bucket="station",endpoint="http://far:9000"} 0.04`,
		`genesissync_objstore_endpoint_order{bucket="station",endpoint="http://near:9000"} 1`,
		`genesissync_objstore_endpoint_order{bucket="station",endpoint="http://replica:9000"} 3`,
		`genesissync_objstore_endpoint_writes{bucket="station",endpoint="http://near:9000"} 0`,
		`genesissync_objstore_endpoint_writes{bucket="station",endpoint="http://far:9000"} 1`,
		`genesissync_objstore_endpoint_requests_total{bucket="station",endpoint="http://near:9000"} 12`,
		`genesissync_objstore_endpoint_failures_total{bucket="station",endpoint="http://near:9000"} 3`,
		`genesissync_objstore_endpoint_misses_total{bucket="station",endpoint="http://far:9000"} 2`,
		`genesissync_objstore_endpoint_read_bytes_total{bucket="station",endpoint="http://far:9000"} 1536`,
		`genesissync_objstore_endpoint_written_bytes_total{bucket="station",endpoint="http://far:9000"} 2.097152e+06`,
		`genesissync_objstore_endpoint_requests_total{bucket="station",endpoint="http://replica:9000"} 0`,
		"# TYPE genesissync_objstore_endpoint_requests_total counter",
		"# TYPE genesissync_objstore_endpoint_writes gauge",
	} {
		require.Contains(t, body, want)
	}

	_, body = get(t, New(fixed(hostileSnapshot()), zerolog.Nop(), Options{}), "/metrics")
	require.Contains(t, body, `genesissync_objstore_endpoint_up{bucket="station",endpoint="http://127.0.0.1:9000"} 1`)
	for _, name := range []string{"order", "writes", "requests_total", "failures_total", "misses_total", "read_bytes_total", "written_bytes_total"} {
		require.NotContains(t, body, "genesissync_objstore_endpoint_"+name, "a target with one endpoint")
	}
}
