package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"
)

// Alert defaults (see docs/alerts.md).
const (
	DefaultAlertFor         = time.Minute
	DefaultAlertRepeat      = 4 * time.Hour
	DefaultAlertInterval    = 10 * time.Second
	DefaultFailureStreak    = 5 * time.Minute
	DefaultCapacityWarning  = 80.0
	DefaultCapacityCritical = 95.0
	DefaultTelegramAPI      = "https://api.telegram.org"
	maxApplianceNameLength  = 64
	minAlertRepeat          = 10 * time.Second
	minAlertInterval        = time.Second
	maxAlertFor             = 24 * time.Hour
	defaultApplianceName    = "genesissync"
)

// Alerts configures which problems are sent where (see docs/alerts.md).
type Alerts struct {
	// Name names this appliance in every notice; default the host name.
	Name string `mapstructure:"name"`
	// For is how long a problem must persist before it is sent (no
	// flapping); 0 means the default, 1m.
	For time.Duration `mapstructure:"for"`
	// Repeat is the reminder interval while a problem lasts; 0 means the
	// default, 4h.
	Repeat time.Duration `mapstructure:"repeat"`
	// Interval is how often the rules are evaluated; 0 means 10s.
	Interval time.Duration `mapstructure:"interval"`
	// FailureStreak is how long a file must keep failing to sync (its
	// retries included) before sync_failing is sent; 0 means 5m.
	FailureStreak time.Duration `mapstructure:"failure_streak"`
	// CapacityWarning and CapacityCritical are ZFS pool fill percentages
	// (defaults 80 and 95).
	CapacityWarning float64 `mapstructure:"capacity_warning"`
	// CapacityCritical is the pool fill percentage of a critical notice.
	CapacityCritical float64 `mapstructure:"capacity_critical"`
	// Telegram sends notices to a chat through a bot; off unless a token
	// is set.
	Telegram Telegram `mapstructure:"telegram"`
	// Webhooks receive every notice as JSON.
	Webhooks []Webhook `mapstructure:"webhooks"`
}

// Telegram is a bot (from @BotFather) and the chat it writes to. Exactly
// one of BotToken and BotTokenFile is set, or neither (Telegram off).
type Telegram struct {
	// BotToken is the bot's token, inline.
	BotToken Secret `mapstructure:"bot_token"`
	// BotTokenFile is a file holding the bot's token, instead of BotToken.
	BotTokenFile string `mapstructure:"bot_token_file"`
	// ChatID is the chat's numeric id (negative for groups) or a
	// channel's @name.
	ChatID string `mapstructure:"chat_id"`
	// APIURL is the Bot API's base URL; default https://api.telegram.org.
	APIURL string `mapstructure:"api_url"`
}

// Webhook is one URL that receives notices as JSON. The URL is a Secret:
// chat webhooks (Discord, Slack, Teams) carry their token in it.
type Webhook struct {
	// URL receives each notice as a JSON POST.
	URL Secret `mapstructure:"url"`
	// Token, if set, is sent as "Authorization: Bearer <token>".
	Token Secret `mapstructure:"token"`
}

// Enabled reports whether Telegram is configured.
func (t Telegram) Enabled() bool { return t.BotToken != "" || t.BotTokenFile != "" }

// ResolveToken returns the bot token, reading BotTokenFile when that is
// how it is given (surrounding white space stripped).
func (t Telegram) ResolveToken() (Secret, error) {
	if t.BotTokenFile == "" {
		return t.BotToken, nil
	}
	data, err := os.ReadFile(t.BotTokenFile)
	if err != nil {
		return "", fmt.Errorf("alerts.telegram.bot_token_file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if msg := botTokenProblem(tok); msg != "" {
		return "", fmt.Errorf("alerts.telegram.bot_token_file %s: %s", t.BotTokenFile, msg)
	}
	return Secret(tok), nil
}

func (a *Alerts) applyDefaults() {
	if a.Name == "" {
		a.Name = defaultApplianceName
		if h, err := os.Hostname(); err == nil && h != "" {
			a.Name = h
		}
	}
	if a.For == 0 {
		a.For = DefaultAlertFor
	}
	if a.Repeat == 0 {
		a.Repeat = DefaultAlertRepeat
	}
	if a.Interval == 0 {
		a.Interval = DefaultAlertInterval
	}
	if a.FailureStreak == 0 {
		a.FailureStreak = DefaultFailureStreak
	}
	if a.CapacityWarning == 0 {
		a.CapacityWarning = DefaultCapacityWarning
	}
	if a.CapacityCritical == 0 {
		a.CapacityCritical = DefaultCapacityCritical
	}
	if a.Telegram.APIURL == "" {
		a.Telegram.APIURL = DefaultTelegramAPI
	}
}

func (a *Alerts) validate(key string, add addFunc) {
	if len(a.Name) > maxApplianceNameLength || hasControl(a.Name) {
		add(key+".name", "must be at most %d characters without control characters", maxApplianceNameLength)
	}
	if a.For < 0 || a.For > maxAlertFor {
		add(key+".for", "must be between 0 (default 1m) and %s; got %s", maxAlertFor, a.For)
	}
	if a.Repeat < minAlertRepeat {
		add(key+".repeat", "must be at least %s; got %s", minAlertRepeat, a.Repeat)
	}
	if a.Interval < minAlertInterval {
		add(key+".interval", "must be at least %s; got %s", minAlertInterval, a.Interval)
	}
	if a.FailureStreak < 0 {
		add(key+".failure_streak", "must not be negative; got %s", a.FailureStreak)
	}
	if a.CapacityWarning <= 0 || a.CapacityWarning > 100 {
		add(key+".capacity_warning", "must be above 0 and at most 100; got %g", a.CapacityWarning)
	}
	if a.CapacityCritical <= 0 || a.CapacityCritical > 100 {
		add(key+".capacity_critical", "must be above 0 and at most 100; got %g", a.CapacityCritical)
	}
	if a.CapacityCritical < a.CapacityWarning {
		add(key+".capacity_critical", "must be at least capacity_warning (%g); got %g", a.CapacityWarning, a.CapacityCritical)
	}

	tg, tkey := a.Telegram, key+".telegram"
	switch {
	case tg.BotToken != "" && tg.BotTokenFile != "":
		add(tkey, "set bot_token or bot_token_file, not both")
	case tg.BotToken != "":
		if msg := botTokenProblem(tg.BotToken.Reveal()); msg != "" {
			add(tkey+".bot_token", "%s", msg)
		}
	case tg.BotTokenFile != "":
		if !strings.HasPrefix(tg.BotTokenFile, "/") {
			add(tkey+".bot_token_file", "must be an absolute path")
		}
	}
	switch {
	case tg.Enabled() && strings.TrimSpace(tg.ChatID) == "":
		add(tkey+".chat_id", "required when a bot token is set (the chat's numeric id or @channel name)")
	case !tg.Enabled() && tg.ChatID != "":
		add(tkey, "chat_id is set but no bot_token or bot_token_file")
	case strings.ContainsFunc(tg.ChatID, unicode.IsSpace) || hasControl(tg.ChatID):
		add(tkey+".chat_id", "must not contain spaces or control characters")
	}
	checkHTTPURL(tkey+".api_url", tg.APIURL, add)

	for i, w := range a.Webhooks {
		wkey := fmt.Sprintf("%s.webhooks[%d]", key, i)
		if w.URL == "" {
			add(wkey+".url", "required")
		} else {
			checkHTTPURL(wkey+".url", w.URL.Reveal(), add)
		}
		if tok := w.Token.Reveal(); strings.ContainsFunc(tok, unicode.IsSpace) || hasControl(tok) {
			add(wkey+".token", "must not contain spaces or control characters")
		}
	}
}

// checkHTTPURL reports a URL that is not http(s) with a host. The URL is
// not echoed: a webhook's URL may hold its own token.
func checkHTTPURL(key, raw string, add addFunc) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		add(key, "not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		add(key, "must be an http:// or https:// URL")
	case u.Host == "":
		add(key, "has no host")
	}
}

// botTokenProblem says what is wrong with a Telegram bot token, or "".
// The token goes into the URL path, so it must be one path segment.
func botTokenProblem(tok string) string {
	if tok == "" {
		return "is empty"
	}
	if strings.ContainsAny(tok, "/?#%") || strings.ContainsFunc(tok, unicode.IsSpace) || hasControl(tok) {
		return "must not contain '/', '?', '#', '%', spaces or control characters (BotFather's tokens look like 123456:ABC-DEF...)"
	}
	return ""
}
