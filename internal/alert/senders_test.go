package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/eventlog"
)

const botToken = "123456789:AAHfake-bot-token_for_tests"

// request is what a stand-in server received.
type request struct {
	Method, Path, ContentType, Auth string
	Body                            []byte
}

// standIn is a local HTTP server that records requests and answers with
// status and body.
func standIn(t *testing.T, status int, body string) (*httptest.Server, func() []request) {
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b})
		mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []request {
		mu.Lock()
		defer mu.Unlock()
		return append([]request(nil), got...)
	}
}

func sampleNotice() Notice {
	p := problem("delete_guard", Warning)
	p.Key, p.Rule, p.Path = "delete_guard:studio", "delete_guard", "archive/001.mp3"
	p.Details = map[string]string{"held_deletes": "200"}
	return Notice{Status: Firing, Problem: p, StartedAt: t0, SentAt: t0.Add(time.Minute), Appliance: "studio-box", Version: "1.2.3"}
}

func TestTelegramRequest(t *testing.T) {
	srv, got := standIn(t, 200, `{"ok":true,"result":{"message_id":1}}`)
	tg := NewTelegram(srv.URL+"/", botToken, "-1001234567890")
	require.Equal(t, "telegram chat -1001234567890", tg.Name())
	require.NoError(t, tg.Send(context.Background(), sampleNotice()))

	reqs := got()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "POST", r.Method)
	require.Equal(t, "/bot"+botToken+"/sendMessage", r.Path)
	require.Equal(t, "application/json", r.ContentType)
	var msg struct {
		ChatID string `json:"chat_id"`
		Text   string `json:"text"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &msg))
	require.Equal(t, "-1001234567890", msg.ChatID)
	require.Equal(t, "🟠 WARNING: delete_guard happened\n"+
		"since 2026-03-01 12:00 UTC (1m0s)\n"+
		"held_deletes: 200\n"+
		"[delete_guard:studio] studio-box · GenesisSync 1.2.3", msg.Text)
}

func TestTelegramRefusal(t *testing.T) {
	srv, _ := standIn(t, 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)
	err := NewTelegram(srv.URL, botToken, "42").Send(context.Background(), sampleNotice())
	require.Error(t, err)
	require.True(t, IsPermanent(err), "a 400 is not retried")
	require.Contains(t, err.Error(), "chat not found")

	srv, _ = standIn(t, 200, `{"ok":false,"description":"odd"}`)
	require.ErrorContains(t, NewTelegram(srv.URL, botToken, "42").Send(context.Background(), sampleNotice()), "not accepted: odd")

	srv, _ = standIn(t, 429, `{"ok":false,"description":"Too Many Requests: retry after 5"}`)
	err = NewTelegram(srv.URL, botToken, "42").Send(context.Background(), sampleNotice())
	require.Error(t, err)
	require.False(t, IsPermanent(err), "429 is retried")
}

func TestWebhookRequest(t *testing.T) {
	srv, got := standIn(t, 204, "")
	wh := NewWebhook(srv.URL+"/hooks/genesis?team=radio", "hook-secret-token", "1.2.3")
	require.NoError(t, wh.Send(context.Background(), sampleNotice()))
	res := sampleNotice()
	res.Status, res.ResolvedAt = Resolved, t0.Add(7*time.Minute)
	require.NoError(t, wh.Send(context.Background(), res))

	reqs := got()
	require.Len(t, reqs, 2)
	require.Equal(t, "POST", reqs[0].Method)
	require.Equal(t, "/hooks/genesis", reqs[0].Path)
	require.Equal(t, "application/json", reqs[0].ContentType)
	require.Equal(t, "Bearer hook-secret-token", reqs[0].Auth)
	require.JSONEq(t, `{
		"schema": 1,
		"status": "firing",
		"key": "delete_guard:studio",
		"rule": "delete_guard",
		"subject": "studio",
		"severity": "warning",
		"share": "studio",
		"path": "archive/001.mp3",
		"message": "delete_guard happened",
		"details": {"held_deletes": "200"},
		"started_at": "2026-03-01T12:00:00Z",
		"sent_at": "2026-03-01T12:01:00Z",
		"repeat": 0,
		"appliance": {"name": "studio-box", "version": "1.2.3"}
	}`, string(reqs[0].Body))
	var resolved map[string]any
	require.NoError(t, json.Unmarshal(reqs[1].Body, &resolved))
	require.Equal(t, "resolved", resolved["status"])
	require.Equal(t, "2026-03-01T12:07:00Z", resolved["resolved_at"])

	// Without a token: no Authorization header at all.
	require.NoError(t, NewWebhook(srv.URL, "", "1.2.3").Send(context.Background(), sampleNotice()))
	require.Empty(t, got()[2].Auth)
}

func TestWebhookStatusClasses(t *testing.T) {
	srv, _ := standIn(t, 401, "bad token")
	err := NewWebhook(srv.URL, "x", "v").Send(context.Background(), sampleNotice())
	require.True(t, IsPermanent(err))
	require.Contains(t, err.Error(), "401")
	srv, _ = standIn(t, 503, "busy")
	err = NewWebhook(srv.URL, "x", "v").Send(context.Background(), sampleNotice())
	require.Error(t, err)
	require.False(t, IsPermanent(err))
	// Redirects are not followed: a token must not travel to another host.
	srv, got := standIn(t, 302, "")
	err = NewWebhook(srv.URL, "x", "v").Send(context.Background(), sampleNotice())
	require.ErrorContains(t, err, "302")
	require.Len(t, got(), 1)
}

// TestSecretsAreScrubbed makes every kind of failure happen with the
// secret in the URL path (Telegram) or path and header (webhooks) and
// checks that no error, log line or event carries it.
func TestSecretsAreScrubbed(t *testing.T) {
	// A closed port: the transport fails with a *url.Error, whose
	// Error() prints the whole URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + ln.Addr().String()
	ln.Close()
	hookSecret := "hook-path-secret-T0K3N"
	_, rawErr := http.Post(dead+"/bot"+botToken+"/sendMessage", "text/plain", nil)
	var ue *url.Error
	require.True(t, errors.As(rawErr, &ue))
	require.Contains(t, rawErr.Error(), botToken, "premise: Go's url.Error prints the token")

	// A server that echoes the request path back in its error body, as
	// some proxies do.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no route for "+r.URL.Path+" auth "+r.Header.Get("Authorization"), http.StatusBadGateway)
	}))
	defer echo.Close()
	// A server that never answers: the context deadline.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // only then does the server notice the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()

	senders := []Sender{
		NewTelegram(dead, botToken, "42"),
		NewTelegram(echo.URL, botToken, "42"),
		NewTelegram(slow.URL, botToken, "42"),
		NewWebhook(dead+"/hook/"+hookSecret, "bearer-"+hookSecret, "v"),
		NewWebhook(echo.URL+"/hook/"+hookSecret, "bearer-"+hookSecret, "v"),
	}
	secrets := []string{botToken, hookSecret, url.PathEscape(botToken)}
	var logs strings.Builder
	events := eventlog.New(100)
	e := NewEngine(Options{Senders: senders, Events: events, Log: zerolog.New(zerolog.SyncWriter(&logs)),
		RetryBase: time.Millisecond, MaxAttempts: 2, SendTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	e.Observe([]Problem{problem("smbd_down", Critical)})
	require.Eventually(t, func() bool {
		n := 0
		for _, ev := range events.Recent(0) {
			if ev.Kind == "alert.undelivered" {
				n++
			}
		}
		return n == len(senders)
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done

	var texts []string
	for _, s := range senders {
		texts = append(texts, s.Name())
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := s.Send(ctx, sampleNotice())
		cancel()
		require.Error(t, err)
		texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		require.False(t, errors.As(err, &ue), "%s: a *url.Error must not be reachable by unwrapping", s.Name())
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	texts = append(texts, SendTest(tctx, senders, "box", "v", t0).Error())
	tcancel()
	for _, ev := range events.Recent(0) {
		texts = append(texts, ev.Message)
	}
	texts = append(texts, logs.String())
	all := strings.Join(texts, "\n")
	require.Contains(t, all, "connection refused", "the cause is still told")
	require.Contains(t, all, redacted, "the echoed secrets were replaced")
	for _, s := range secrets {
		require.NotContains(t, all, s)
	}
}
