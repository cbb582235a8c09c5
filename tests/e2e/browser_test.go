package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"genesissync/internal/samba"
	"genesissync/tests/audio"
	"genesissync/tests/harness"
)

// updateScreenshot also writes the browser test's screenshot to
// docs/status-page.png, for the README (or set GS_UPDATE_SCREENSHOT=1).
var updateScreenshot = flag.Bool("update-screenshot", false, "write the status page screenshot to docs/status-page.png")

// hostileName is a file name that is also HTML; on disk it is a folder
// "<script>alert(1)<" holding "script>.mp3".
const hostileName = "<script>alert(1)</script>.mp3"

// TestBrowserStatusPage drives Debian's headless Chromium against a
// running demo: the page loads without console errors under its CSP,
// shows a hostile file name as text, goes live over Server-Sent Events,
// logs an admin in, and "Sync now" visibly starts a new full reconcile.
func TestBrowserStatusPage(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	require.NoError(t, err, "Debian's chromium is needed: go tool task setup")
	env, demoDir := startDemo(t)
	statusURL, share := env["STATUS_URL"], env["SHARE_PATH"]
	require.NotEmpty(t, env["ADMIN_USER"], "the demo prints an admin login")

	writeLocal(t, filepath.Join(share, filepath.FromSlash(hostileName)), 7, 4<<10)

	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(filepath.Join(demoDir, "chromium")),
		chromedp.WindowSize(1100, 900),
	)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first action starts the browser; it must not have a timeout.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))

	// Collect console errors and warnings, exceptions, browser log
	// entries (CSP violations, failed loads) and dialogs.
	var mu sync.Mutex
	var problems, dialogs []string
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
				mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			mu.Lock()
			dialogs = append(dialogs, string(ev.Type)+": "+ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	noProblems := func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		require.Empty(t, dialogs, "no dialog may open: the hostile name must not run")
		require.Empty(t, problems, "no console errors, exceptions or CSP violations")
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, chromedp.Do(sctx, steps...))
	}
	eval := func(js string, v any) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		raw, err := chromedp.Run(sctx, chromedp.Evaluate[json.RawMessage](js))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, v))
	}

	// The page loads and goes live.
	do(chromedp.Navigate(statusURL+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-share="studio"]`)))
	waitText(t, ctx, "#live", func(s string) bool { return s == "live" }, "the page goes live over SSE")

	// The hostile name reaches the page (it is a refused name: < and >
	// are illegal on Windows), as text.
	waitText(t, ctx, "body", func(s string) bool { return strings.Contains(s, hostileName) }, "the hostile name shows as text")
	var scripts int
	eval(`document.querySelectorAll("script").length`, &scripts)
	require.Equal(t, 1, scripts, "no script element was injected")

	// Log in as the demo admin.
	lastScan := textOf(t, ctx, "#last-scan-studio")
	require.NotEqual(t, "never", lastScan, "the demo's first full scan is done")
	do(chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SendKeys(chromedp.CSS(`#user`), env["ADMIN_USER"]),
		chromedp.SendKeys(chromedp.CSS(`#password`), env["ADMIN_PASSWORD"]),
		chromedp.Click(chromedp.CSS(`#submit`)),
		chromedp.WaitVisible(chromedp.CSS(`button.sync-now`)))
	waitText(t, ctx, "#user", func(s string) bool { return s == env["ADMIN_USER"] }, "logged in")

	// Sync now: the page says so, and the last full reconcile moves on.
	time.Sleep(1100 * time.Millisecond) // the time shown has one-second steps
	do(chromedp.Click(chromedp.CSS(`button.sync-now`)), chromedp.WaitVisible(chromedp.CSS(`#flash`)))
	waitText(t, ctx, "#flash", func(s string) bool { return strings.Contains(s, "Full reconcile of studio requested") }, "sync now is acknowledged")
	waitText(t, ctx, "#last-scan-studio", func(s string) bool { return s != lastScan && s != "never" }, "the last full reconcile changes after sync now")

	// Live without a reload: a new file's upload shows up.
	writeLocal(t, filepath.Join(share, "live-check.mp3"), 8, 64<<10)
	waitText(t, ctx, `[data-share="studio"] [data-b="last_upload.path"]`, func(s string) bool { return s == "live-check.mp3" },
		"the upload shows without a reload")

	// On air: the demo's sample playlist is ready; a playlist naming a
	// track that is nowhere shows its problem live, and goes again.
	onAir := func(b string) string { return `[data-share="studio"] [data-b="readiness.` + b + `"]` }
	waitText(t, ctx, onAir("tracks"), func(s string) bool { return s == "2" }, "the demo playlist's tracks are checked")
	waitText(t, ctx, onAir("ok"), func(s string) bool { return s == "2" }, "both are ready")
	onAirProblems := `[data-share="studio"] [data-l="readiness.problems"]`
	require.Equal(t, "nothing missing", textOf(t, ctx, onAirProblems))
	live := filepath.Join(share, "Playlists", "live.m3u")
	require.NoError(t, os.WriteFile(live, []byte("#EXTINF:200,Nobody - Nowhere\r\nZ:\\Music\\Nowhere.mp3\r\n"), 0o644))
	waitText(t, ctx, onAirProblems, func(s string) bool { return strings.Contains(s, "Music/Nowhere.mp3") && strings.Contains(s, "missing") },
		"the missing track shows without a reload")
	// Removed once synced: its delete is what rechecks at once (a playlist
	// removed before it ever synced waits for the readiness timer).
	waitText(t, ctx, `[data-share="studio"] [data-b="last_upload.path"]`, func(s string) bool { return s == "Playlists/live.m3u" }, "the playlist is synced")
	require.NoError(t, os.Remove(live))
	defer func() {
		if t.Failed() { // what the pipeline and readiness said, for the failure
			if resp, err := http.Get(statusURL + "/api/status"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("status API at the failure: %s", b)
			}
		}
	}()
	waitText(t, ctx, onAirProblems, func(s string) bool { return s == "nothing missing" }, "fixed: the problem goes")

	// The tripwire is armed; a track rewritten with bytes that are no
	// longer audio is held, shown live, and goes once put right.
	tripRow := `[data-share="studio"] tr.tripwire`
	require.Contains(t, textOf(t, ctx, tripRow), "armed")
	station := filepath.Join(share, "Music", "Station ID.mp3")
	good, err := os.ReadFile(station)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(station, audio.Encrypt(good, 3), 0o644))
	heldList := `[data-share="studio"] [data-l="tripwire.held"]`
	waitText(t, ctx, heldList, func(s string) bool {
		return strings.Contains(s, "Music/Station ID.mp3") && strings.Contains(s, "no longer matches .mp3")
	},
		"the held change shows without a reload")
	waitText(t, ctx, `[data-share="studio"] [data-b="tripwire.held_count"]`, func(s string) bool { return s == "1" }, "one change held")
	require.NoError(t, os.WriteFile(station, good, 0o644))
	waitText(t, ctx, `[data-share="studio"] [data-b="tripwire.held_count"]`, func(s string) bool { return s == "0" }, "put right: nothing held")
	waitText(t, ctx, onAir("ok"), func(s string) bool { return s == "2" }, "and on air again: the track saved unchanged is ready")

	// The last day's charts are drawn (SVG images from the server).
	var charts struct{ Count, Drawn int }
	eval(`(function () { var imgs = document.querySelectorAll('[data-share="studio"] img.chart'), n = 0;
		imgs.forEach(function (i) { if (i.complete && i.naturalWidth > 0) { n++; } });
		return {Count: imgs.length, Drawn: n}; })()`, &charts)
	require.Equal(t, 4, charts.Count, "backlog, upload, download, recovery point")
	require.Equal(t, 4, charts.Drawn, "every chart loaded under the CSP")

	// A studio PC connects and opens a file: the box shows the session
	// and the open file (smbstatus is asked every 10 s).
	smb, err := samba.Connect(context.Background(), env["SMB_ADDR"], env["SMB_SHARE"], env["SMB_USER"], env["SMB_PASSWORD"])
	require.NoError(t, err)
	defer smb.Close()
	f, err := smb.Open("live-check.mp3")
	require.NoError(t, err)
	defer f.Close()
	waitText(t, ctx, `[data-b="clients.sessions"]`, func(s string) bool { return s == "1" }, "the SMB session shows")
	waitText(t, ctx, `[data-l="clients.open_files"]`, func(s string) bool { return strings.Contains(s, "live-check.mp3") }, "the open file shows")
	waitText(t, ctx, `[data-l="clients.sessions"]`, func(s string) bool { return strings.Contains(s, env["SMB_USER"]) }, "the session's user shows")
	noProblems()

	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	scancel()
	require.NoError(t, err)
	shot := filepath.Join(t.ArtifactDir(), "status-page.png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	if *updateScreenshot || os.Getenv("GS_UPDATE_SCREENSHOT") == "1" {
		require.NoError(t, os.WriteFile(filepath.Join(harness.RepoRoot(), "docs", "status-page.png"), png, 0o644))
	}

	// On a phone's width nothing sticks out sideways.
	do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`button.sync-now`)))
	waitText(t, ctx, "#live", func(s string) bool { return s == "live" }, "live again after the reload")
	var overflow bool
	eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)
	sctx, scancel = context.WithTimeout(ctx, time.Minute)
	png, err = chromedp.Run(sctx, chromedp.FullScreenshot(100))
	scancel()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(t.ArtifactDir(), "status-page-phone.png"), png, 0o644))
	require.False(t, overflow, "the page fits a 390px wide phone")
	noProblems()

	// No secret reaches a page, the API or the metrics.
	for _, p := range []string{"/", "/api/status", "/metrics", "/login"} {
		body := httpGet(t, statusURL+p)
		for _, secret := range []string{env["S3_SECRET_KEY"], env["ADMIN_PASSWORD"], env["SMB_PASSWORD"], "$2a$10$"} {
			require.NotContains(t, body, secret, "%s shows a secret", p)
		}
	}
}

// textOf is the rendered text of the first element matching sel, or
// "" when there is none.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	js := fmt.Sprintf(`(function () { var e = document.querySelector(%s); return e ? e.innerText : ""; })()`, jsString(sel))
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](js))
	require.NoError(t, err)
	return strings.TrimSpace(s)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitText polls the text of the first element matching sel until ok
// accepts it, or fails after 45 s.
func waitText(t *testing.T, ctx context.Context, sel string, ok func(string) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if last = textOf(t, ctx, sel); ok(last) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: %s never matched; last text %q", what, sel, last)
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// startDemo runs `genesissync demo` with the example config on free
// ports and returns its demo.env and directory; it is interrupted at
// cleanup.
func startDemo(t *testing.T) (map[string]string, string) {
	t.Helper()
	bin := harness.Binary(t)
	harness.RequireBinary(t, "minio")
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	_, smbPort, _ := strings.Cut(harness.FreeAddr(t), ":")
	cmd := exec.Command(bin, "demo", "--config", "configs/genesissync.example.yaml", "--dir", dir,
		"--minio-addr", harness.FreeAddr(t), "--smb-port", smbPort, "--status-addr", harness.FreeAddr(t))
	cmd.Dir = harness.RepoRoot()
	logPath := filepath.Join(dir, "demo.out")
	out, err := os.Create(logPath)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("demo output:\n%s", data)
		}
	})
	envPath := filepath.Join(dir, "demo.env")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := os.Stat(envPath); err == nil {
			return readEnv(t, envPath), dir
		}
		select {
		case err := <-exited:
			t.Fatalf("demo exited early: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "demo.env was not written within 3 minutes")
	}
}

// TestStatusAdminAPI drives the admin actions through the JSON API of a
// running demo: login, CSRF, pause and resume seen in /api/status, sync
// now, refusals, and the event log naming the admin.
func TestStatusAdminAPI(t *testing.T) {
	env, _ := startDemo(t)
	base := env["STATUS_URL"]
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	post := func(path, csrf, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	state := func() (string, string) {
		t.Helper()
		var snap struct {
			Shares []struct {
				State        string `json:"state"`
				PausedReason string `json:"paused_reason"`
			} `json:"shares"`
		}
		require.NoError(t, json.Unmarshal([]byte(httpGet(t, base+"/api/status")), &snap))
		return snap.Shares[0].State, snap.Shares[0].PausedReason
	}

	code, _ := post("/api/admin/shares/studio/pause", "", "")
	require.Equal(t, http.StatusUnauthorized, code, "no session")
	code, _ = post("/api/login", "", `{"user": "admin", "password": "wrong"}`)
	require.Equal(t, http.StatusUnauthorized, code)
	code, body := post("/api/login", "", fmt.Sprintf(`{"user": %q, "password": %q}`, env["ADMIN_USER"], env["ADMIN_PASSWORD"]))
	require.Equal(t, http.StatusOK, code, body)
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &sess))
	require.NotEmpty(t, sess.CSRF)
	code, _ = post("/api/admin/shares/studio/pause", "wrong", "")
	require.Equal(t, http.StatusForbidden, code, "wrong CSRF token")
	st, _ := state()
	require.NotEqual(t, "paused", st)

	code, body = post("/api/admin/shares/studio/pause", sess.CSRF, "")
	require.Equal(t, http.StatusOK, code, body)
	// The pipeline publishes its state on its next round.
	require.Eventually(t, func() bool { st, _ := state(); return st == "paused" }, 10*time.Second, 100*time.Millisecond)
	_, why := state()
	require.Contains(t, why, env["ADMIN_USER"])

	code, body = post("/api/admin/shares/studio/resume", sess.CSRF, "")
	require.Equal(t, http.StatusOK, code, body)
	require.Eventually(t, func() bool { st, _ := state(); return st == "in-sync" }, 30*time.Second, 200*time.Millisecond)

	code, body = post("/api/admin/shares/studio/sync", sess.CSRF, "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "Full reconcile of studio requested")

	code, body = post("/api/admin/shares/studio/approve", sess.CSRF, `{"batch": "no-such-batch"}`)
	require.Equal(t, http.StatusConflict, code, body)
	code, body = post("/api/admin/shares/studio/snapshot", sess.CSRF, "")
	require.Equal(t, http.StatusConflict, code, "the demo share is not on ZFS: %s", body)
	code, _ = post("/api/admin/shares/nope/sync", sess.CSRF, "")
	require.Equal(t, http.StatusNotFound, code)

	events := httpGet(t, base+"/api/status")
	require.Contains(t, events, `"kind": "admin.pause"`)
	require.Contains(t, events, env["ADMIN_USER"]+": Transfers of studio paused.")

	code, _ = post("/api/logout", sess.CSRF, "")
	require.Equal(t, http.StatusNoContent, code)
	code, _ = post("/api/admin/shares/studio/sync", sess.CSRF, "")
	require.Equal(t, http.StatusUnauthorized, code, "logged out")
}
