package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAlertDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), nil)
	require.NoError(t, err)
	a := cfg.Alerts
	host, _ := os.Hostname()
	require.Equal(t, host, a.Name)
	require.Equal(t, DefaultAlertFor, a.For)
	require.Equal(t, DefaultAlertRepeat, a.Repeat)
	require.Equal(t, DefaultAlertInterval, a.Interval)
	require.Equal(t, DefaultFailureStreak, a.FailureStreak)
	require.Equal(t, 80.0, a.CapacityWarning)
	require.Equal(t, 95.0, a.CapacityCritical)
	require.Equal(t, "https://api.telegram.org", a.Telegram.APIURL)
	require.False(t, a.Telegram.Enabled())
	require.Empty(t, a.Webhooks)
}

func TestAlertsParse(t *testing.T) {
	y := minimal + `
alerts:
  name: studio-box
  for: 30s
  repeat: 2h
  failure_streak: 10m
  telegram: {bot_token: "123456:ABC-def_ghi", chat_id: -1001234567890, api_url: "http://127.0.0.1:8081"}
  webhooks:
    - {url: "https://hooks.example.com/genesis", token: hook-token}
    - {url: "http://10.0.0.5:9000/alerts"}
`
	cfg, err := Parse([]byte(y), nil)
	require.NoError(t, err)
	a := cfg.Alerts
	require.Equal(t, "studio-box", a.Name)
	require.Equal(t, 30*time.Second, a.For)
	require.Equal(t, 2*time.Hour, a.Repeat)
	require.Equal(t, 10*time.Minute, a.FailureStreak)
	require.True(t, a.Telegram.Enabled())
	require.Equal(t, "-1001234567890", a.Telegram.ChatID, "a numeric YAML chat id becomes a string")
	tok, err := a.Telegram.ResolveToken()
	require.NoError(t, err)
	require.Equal(t, "123456:ABC-def_ghi", tok.Reveal())
	require.Len(t, a.Webhooks, 2)
	require.Equal(t, "hook-token", a.Webhooks[0].Token.Reveal())
	require.Empty(t, a.Webhooks[1].Token)

	out := fmt.Sprintf("%v %+v %#v", a, a, a) + mustJSON(t, a)
	require.NotContains(t, out, "123456:ABC-def_ghi")
	require.NotContains(t, out, "hook-token")
	require.NotContains(t, out, "hooks.example.com/genesis", "a webhook URL may hold a token")
	require.Equal(t, "https://hooks.example.com/genesis", a.Webhooks[0].URL.Reveal())

	// The bot token can come from the environment.
	cfg, err = Parse([]byte(y), []string{"GENESISSYNC_ALERTS_TELEGRAM_BOT_TOKEN=999:from-env"})
	require.NoError(t, err)
	require.Equal(t, "999:from-env", cfg.Alerts.Telegram.BotToken.Reveal())
}

func TestAlertTokenFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bot-token")
	require.NoError(t, os.WriteFile(f, []byte("123456:from-file\n"), 0o600))
	y := minimal + fmt.Sprintf("alerts: {telegram: {bot_token_file: %q, chat_id: '42'}}\n", f)
	cfg, err := Parse([]byte(y), nil)
	require.NoError(t, err)
	tok, err := cfg.Alerts.Telegram.ResolveToken()
	require.NoError(t, err)
	require.Equal(t, "123456:from-file", tok.Reveal())

	require.NoError(t, os.WriteFile(f, []byte("bad token/with slash"), 0o600))
	_, err = cfg.Alerts.Telegram.ResolveToken()
	require.ErrorContains(t, err, "alerts.telegram.bot_token_file")
	require.NotContains(t, err.Error(), "bad token/with slash")
}

func TestAlertErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		yaml string
		key  string
		msg  string
	}{
		{`alerts: {telegram: {bot_token: "1:a"}}`, "alerts.telegram.chat_id", "required when a bot token is set"},
		{`alerts: {telegram: {chat_id: "42"}}`, "alerts.telegram", "no bot_token"},
		{`alerts: {telegram: {bot_token: "1:a", bot_token_file: /x, chat_id: "1"}}`, "alerts.telegram", "not both"},
		{`alerts: {telegram: {bot_token: "1:a/../x", chat_id: "1"}}`, "alerts.telegram.bot_token", "must not contain '/'"},
		{`alerts: {telegram: {bot_token_file: relative, chat_id: "1"}}`, "alerts.telegram.bot_token_file", "absolute"},
		{`alerts: {telegram: {bot_token: "1:a", chat_id: "1", api_url: "ftp://x"}}`, "alerts.telegram.api_url", "http:// or https://"},
		{`alerts: {webhooks: [{url: "hooks.example.com/x"}]}`, "alerts.webhooks[0].url", "http:// or https://"},
		{`alerts: {webhooks: [{url: "https://a.example"}, {token: t}]}`, "alerts.webhooks[1].url", "required"},
		{`alerts: {webhooks: [{url: "https:///path"}]}`, "alerts.webhooks[0].url", "has no host"},
		{`alerts: {webhooks: [{url: "https://a.example", token: "two words"}]}`, "alerts.webhooks[0].token", "spaces"},
		{`alerts: {repeat: 1s}`, "alerts.repeat", "at least 10s"},
		{`alerts: {interval: 100ms}`, "alerts.interval", "at least 1s"},
		{`alerts: {for: -1s}`, "alerts.for", "between 0"},
		{`alerts: {capacity_warning: 90, capacity_critical: 85}`, "alerts.capacity_critical", "at least capacity_warning"},
		{`alerts: {capacity_warning: 120}`, "alerts.capacity_warning", "at most 100"},
		{`alerts: {nmae: x}`, "alerts.nmae", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.msg, func(t *testing.T) {
			_, err := Parse([]byte(minimal+tt.yaml+"\n"), nil)
			require.Error(t, err)
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				found = found || strings.HasPrefix(line, tt.key+": ") && strings.Contains(line, tt.msg)
			}
			require.True(t, found, "want %s: ...%s... in\n%v", tt.key, tt.msg, err)
		})
	}
}

func TestAlertURLErrorsDoNotEchoTheURL(t *testing.T) {
	_, err := Parse([]byte(minimal+`alerts: {webhooks: [{url: "ftp://hooks.example.com/secret-path-token"}]}`+"\n"), nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret-path-token")
	var errs Errors
	require.ErrorAs(t, err, &errs)
	b, _ := json.Marshal(errs)
	require.False(t, strings.Contains(string(b), "secret-path-token"))
}
