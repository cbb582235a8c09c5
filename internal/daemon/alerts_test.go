package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/admin"
	"genesissync/internal/alert"
	"genesissync/internal/config"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

// hookReceiver is a local webhook receiver that keeps the payloads.
type hookReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []alert.WebhookPayload
}

func newHookReceiver(t *testing.T, code int) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p alert.WebhookPayload
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &p) == nil {
			h.mu.Lock()
			h.got = append(h.got, p)
			h.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) statuses() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, p := range h.got {
		out = append(out, p.Status+" "+p.Key)
	}
	return out
}

func alertDaemon(t *testing.T, hooks ...string) *Daemon {
	t.Helper()
	y := fmt.Sprintf(`
state_dir: %s
samba: {mode: off}
users: {studio: {password: pw}}
shares:
  studio:
    path: /srv/studio
    access: {studio: rw}
    target: {bucket: station, endpoint: "http://127.0.0.1:9000", access_key_id: k, secret_access_key: s}
alerts:
  name: test-box
  interval: 1s
  webhooks:
`, t.TempDir())
	for _, h := range hooks {
		y += fmt.Sprintf("    - {url: %q}\n", h)
	}
	cfg, err := config.Parse([]byte(y), nil)
	require.NoError(t, err)
	cfg.Alerts.Interval = 20 * time.Millisecond // below the config's floor, for the test
	cfg.Alerts.For = time.Nanosecond
	return New(cfg, zerolog.Nop(), "test")
}

// fakeSamba is Samba whose state the test sets; Start and Run are never
// called.
type fakeSamba struct {
	sambaService
	mu sync.Mutex
	st model.Samba
}

func (f *fakeSamba) set(st model.Samba) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = st
}

func (f *fakeSamba) Status() model.Samba {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeSamba) Warnings() []model.Warning { return nil }

// TestAlertLoop runs the daemon's alert loop over its own snapshots: smbd
// going down fires, coming back resolves, both reach the webhook and the
// event log.
func TestAlertLoop(t *testing.T) {
	hook := newHookReceiver(t, http.StatusNoContent)
	d := alertDaemon(t, hook.URL)
	smb := &fakeSamba{}
	d.samba = smb
	smb.set(model.Samba{Mode: config.SambaStandalone, Up: true})
	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	require.NoError(t, d.startAlerts(gctx, g))

	smb.set(model.Samba{Mode: config.SambaStandalone, Error: "exit status 1"})
	require.Eventually(t, func() bool { return len(hook.statuses()) == 1 }, 5*time.Second, 10*time.Millisecond)
	smb.set(model.Samba{Mode: config.SambaStandalone, Up: true})
	require.Eventually(t, func() bool { return len(hook.statuses()) == 2 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"firing smbd_down:smbd", "resolved smbd_down:smbd"}, hook.statuses())
	hook.mu.Lock()
	require.Equal(t, alert.Appliance{Name: "test-box", Version: "test"}, hook.got[0].Appliance)
	require.Equal(t, "exit status 1", hook.got[0].Details["error"])
	hook.mu.Unlock()

	var kinds []string
	for _, ev := range d.events.Recent(0) {
		kinds = append(kinds, ev.Kind)
	}
	require.Equal(t, []string{"alert.resolved", "alert.raised"}, kinds)

	cancel()
	require.NoError(t, g.Wait())
}

// TestAdminTestAlert drives POST /v1/alerts/test through the admin
// socket's client, as `genesissync alerts test` does.
func TestAdminTestAlert(t *testing.T) {
	ok := newHookReceiver(t, http.StatusOK)
	d := alertDaemon(t, ok.URL)
	ln, err := net.Listen("unix", admin.Socket(d.cfg.StateDir))
	require.NoError(t, err)
	srv := &http.Server{Handler: admin.Handler(adminService{d}, d.log)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	require.NoError(t, admin.NewClient(d.cfg.StateDir).TestAlert(context.Background()))
	require.Equal(t, []string{"test test:test-box"}, ok.statuses())
	require.Equal(t, "alert.test", d.events.Recent(1)[0].Kind)

	// A failing channel is reported, by name and without its path.
	bad := newHookReceiver(t, http.StatusInternalServerError)
	d.cfg.Alerts.Webhooks = append(d.cfg.Alerts.Webhooks, config.Webhook{URL: config.Secret(bad.URL + "/secret-path")})
	err = admin.NewClient(d.cfg.StateDir).TestAlert(context.Background())
	require.ErrorContains(t, err, "webhook "+bad.URL+": POST: HTTP 500")
	require.NotContains(t, err.Error(), "secret-path")
	require.Equal(t, "warning", d.events.Recent(1)[0].Level)
}

func TestAlertTargetsFromConfig(t *testing.T) {
	d := alertDaemon(t)
	tg := alertTargets(d.cfg)
	// Each share's stale_after reaches the rules in the snapshot.
	snap := model.Snapshot{Shares: []model.Share{{Status: reconcile.Status{Name: "studio"}}}}
	d.fillBox(&snap)
	require.Equal(t, config.DefaultStaleAfter.Seconds(), snap.Shares[0].StaleAfterSeconds)
	require.Equal(t, config.DefaultFailureStreak, tg.FailureStreak)
	require.Equal(t, 80.0, tg.CapacityWarning)
	require.Equal(t, 95.0, tg.CapacityCritical)
}
