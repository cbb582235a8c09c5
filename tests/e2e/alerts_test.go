package e2e

import (
	"encoding/json"
	"fmt"
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

	"genesissync/internal/alert"
	"genesissync/tests/harness"
)

// alertInbox is what the Telegram and webhook stand-ins received, checked
// request by request as it arrives.
type alertInbox struct {
	t        *testing.T
	mu       sync.Mutex
	telegram []string               // message texts
	hooks    []alert.WebhookPayload // payloads
}

func (in *alertInbox) fail(w http.ResponseWriter, format string, a ...any) {
	in.t.Errorf(format, a...)
	http.Error(w, "unexpected request", http.StatusBadRequest)
}

// telegramStandIn answers like the Bot API's sendMessage.
func (in *alertInbox) telegramStandIn(token, chat string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/bot"+token+"/sendMessage" || r.Header.Get("Content-Type") != "application/json" {
			in.fail(w, "telegram stand-in: %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			return
		}
		var msg struct {
			ChatID string `json:"chat_id"`
			Text   string `json:"text"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil || msg.ChatID != chat || msg.Text == "" {
			in.fail(w, "telegram stand-in: bad message %+v (%v)", msg, err)
			return
		}
		in.mu.Lock()
		in.telegram = append(in.telegram, msg.Text)
		in.mu.Unlock()
		io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
	})
}

// webhookStandIn checks the bearer token and the JSON schema strictly.
func (in *alertInbox) webhookStandIn(token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/genesis" || r.Header.Get("Authorization") != "Bearer "+token {
			in.fail(w, "webhook stand-in: %s %s auth %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
			return
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		var p alert.WebhookPayload
		if err := dec.Decode(&p); err != nil || p.Schema != alert.WebhookSchema || p.Appliance.Name != "e2e-box" || p.StartedAt.IsZero() {
			in.fail(w, "webhook stand-in: bad payload %+v (%v)", p, err)
			return
		}
		in.mu.Lock()
		in.hooks = append(in.hooks, p)
		in.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
}

// hook returns the first payload with this status and key, if any.
func (in *alertInbox) hook(status, key string, repeat int) (alert.WebhookPayload, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, p := range in.hooks {
		if p.Status == status && p.Key == key && p.Repeat >= repeat {
			return p, true
		}
	}
	return alert.WebhookPayload{}, false
}

// text returns the first Telegram message containing all of parts.
func (in *alertInbox) text(parts ...string) (string, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
next:
	for _, m := range in.telegram {
		for _, p := range parts {
			if !strings.Contains(m, p) {
				continue next
			}
		}
		return m, true
	}
	return "", false
}

// TestAlertsDeleteGuard trips the real mass-delete guard of a running
// appliance and checks that a Telegram stand-in and a webhook receiver
// are told: a firing notice, a reminder after `repeat`, and a resolved
// notice once a person approves the batch with the CLI. Then `genesissync
// alerts test` reaches both.
func TestAlertsDeleteGuard(t *testing.T) {
	const botToken = "987654:e2e-bot-token"
	const hookToken = "e2e-webhook-token"
	in := &alertInbox{t: t}
	tg := httptest.NewServer(in.telegramStandIn(botToken, "4242"))
	defer tg.Close()
	hook := httptest.NewServer(in.webhookStandIn(hookToken))
	defer hook.Close()

	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		RemoteInterval:     time.Second,
		DeleteGuardPercent: 10,
		Config: fmt.Sprintf(`alerts:
  name: e2e-box
  interval: 1s
  for: 2s
  repeat: 10s
  telegram: {bot_token: %q, chat_id: 4242, api_url: %q}
  webhooks:
    - {url: %q, token: %q}
`, botToken, tg.URL, hook.URL+"/genesis", hookToken),
	})

	old := time.Now().Add(-time.Hour)
	for i := range 10 {
		p := filepath.Join(a.SharePath, fmt.Sprintf("archive/%02d.mp3", i))
		writeLocal(t, p, uint64(i), 1<<10)
		require.NoError(t, os.Chtimes(p, old, old))
	}
	require.Eventually(t, func() bool { st := a.Share(t); return st.FilesTracked == 10 && st.State == "in-sync" }, time.Minute, 200*time.Millisecond)

	// Half the share at once: past the 10 % guard.
	for i := range 5 {
		require.NoError(t, os.Remove(filepath.Join(a.SharePath, fmt.Sprintf("archive/%02d.mp3", i))))
	}
	require.Eventually(t, func() bool { return a.Share(t).DeleteGuardTripped }, time.Minute, 200*time.Millisecond, "the guard did not trip")
	tripped := time.Now()

	const key = "delete_guard:studio"
	var fired alert.WebhookPayload
	require.Eventually(t, func() bool { var ok bool; fired, ok = in.hook("firing", key, 0); return ok }, 30*time.Second, 100*time.Millisecond,
		"the webhook never heard of the tripped guard")
	require.GreaterOrEqual(t, fired.SentAt.Sub(fired.StartedAt), 2*time.Second, "fired before `for` passed")
	require.Less(t, time.Since(tripped), 20*time.Second)
	require.Equal(t, alert.Warning, fired.Severity)
	require.Equal(t, "studio", fired.Share)
	require.Contains(t, fired.Message, "holds 5 deletes")
	require.Equal(t, "5", fired.Details["held_deletes"])
	require.Eventually(t, func() bool {
		_, ok := in.text("WARNING", "share studio", "mass-delete guard holds 5 deletes", "e2e-box")
		return ok
	},
		10*time.Second, 100*time.Millisecond, "Telegram never heard of the tripped guard")

	// Still tripped: a reminder after `repeat`, and only one firing notice before it.
	require.Eventually(t, func() bool { _, ok := in.hook("firing", key, 1); return ok }, 30*time.Second, 200*time.Millisecond, "no reminder")
	in.mu.Lock()
	firing := 0
	for _, p := range in.hooks {
		if p.Key == key && p.Status == "firing" {
			firing++
		}
	}
	in.mu.Unlock()
	require.Equal(t, 2, firing, "deduplicated: the first notice and one reminder, nothing per evaluation")

	out := a.CLI(t, "deletes", "approve", "studio", "--yes")
	require.Contains(t, out, "approved")
	resolved := func() bool { _, ok := in.hook("resolved", key, 0); return ok }
	require.Eventually(t, resolved, 30*time.Second, 100*time.Millisecond, "the webhook never heard the guard was released")
	res, _ := in.hook("resolved", key, 0)
	require.NotNil(t, res.ResolvedAt)
	require.Equal(t, fired.StartedAt, res.StartedAt)
	require.Eventually(t, func() bool { _, ok := in.text("RESOLVED", "share studio"); return ok }, 10*time.Second, 100*time.Millisecond)

	// The event log on the status API carries both.
	snap, err := a.Status()
	require.NoError(t, err)
	var kinds []string
	for _, ev := range snap.Events {
		if strings.HasPrefix(ev.Kind, "alert.") && ev.Share == "studio" {
			kinds = append(kinds, ev.Kind)
		}
	}
	require.Subset(t, kinds, []string{"alert.raised", "alert.resolved"})

	out = a.CLI(t, "alerts", "test")
	require.Contains(t, out, "Test alert sent to 2 channel(s)")
	_, ok := in.hook("test", "test:e2e-box", 0)
	require.True(t, ok, "the webhook got no test notice")
	_, ok = in.text("TEST")
	require.True(t, ok, "Telegram got no test notice")

	// No secret in the daemon's log.
	log, err := os.ReadFile(a.LogPath())
	require.NoError(t, err)
	require.NotContains(t, string(log), botToken)
	require.NotContains(t, string(log), hookToken)
}

// TestAlertsUploadFailures stops MinIO while a file waits to be uploaded:
// the failing upload (after failure_streak) and the missed recovery point
// (after stale_after) reach the webhook; once MinIO is back and the file
// is in the bucket, both are resolved.
func TestAlertsUploadFailures(t *testing.T) {
	in := &alertInbox{t: t}
	hook := httptest.NewServer(in.webhookStandIn("tok-upload-failures"))
	defer hook.Close()
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		ShareConfig: "    stale_after: 6s",
		Config: fmt.Sprintf(`alerts:
  name: e2e-box
  interval: 1s
  for: 1s
  failure_streak: 3s
  webhooks: [{url: %q, token: tok-upload-failures}]
`, hook.URL+"/genesis"),
	})

	m.Stop()
	writeLocal(t, filepath.Join(a.SharePath, "jingles/top of the hour.mp3"), 7, 32<<10)
	for _, key := range []string{"sync_failing:studio", "stale:studio"} {
		require.Eventually(t, func() bool { _, ok := in.hook("firing", key, 0); return ok }, 45*time.Second, 200*time.Millisecond, "%s never fired", key)
	}
	failing, _ := in.hook("firing", "sync_failing:studio", 0)
	require.Equal(t, "studio", failing.Share)
	require.Equal(t, "jingles/top of the hour.mp3", failing.Path, "the failing file is named: %s", failing.Message)
	require.Equal(t, alert.Warning, failing.Severity)
	require.GreaterOrEqual(t, failing.SentAt.Sub(failing.StartedAt), 3*time.Second, "fired before the failure streak")
	stale, _ := in.hook("firing", "stale:studio", 0)
	require.Equal(t, alert.Critical, stale.Severity)
	require.Contains(t, stale.Message, "past its 6s target")

	m.Restart(t)
	waitObject(t, a.Store, "jingles/top of the hour.mp3", time.Minute)
	for _, key := range []string{"sync_failing:studio", "stale:studio"} {
		require.Eventually(t, func() bool { _, ok := in.hook("resolved", key, 0); return ok }, 30*time.Second, 200*time.Millisecond, "%s never resolved", key)
	}
	in.mu.Lock()
	for _, p := range in.hooks {
		t.Logf("webhook got: %s %s (%s) %s", p.Status, p.Key, p.Severity, p.Message)
	}
	in.mu.Unlock()
}
