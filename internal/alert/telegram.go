package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// DefaultTelegramAPI is the Telegram Bot API's base URL.
const DefaultTelegramAPI = "https://api.telegram.org"

// telegramMaxText is Telegram's limit of a message's text, in characters.
const telegramMaxText = 4096

// Telegram sends notices as chat messages through a bot: POST
// {APIURL}/bot{Token}/sendMessage with chat_id and text. Its Send may be
// called by one goroutine at a time.
type Telegram struct {
	apiURL string
	token  string
	chatID string
	client *http.Client
}

var _ Sender = (*Telegram)(nil)

// NewTelegram returns a sender for the bot token and chat. apiURL ""
// means DefaultTelegramAPI; tests point it at a local server.
func NewTelegram(apiURL, token, chatID string) *Telegram {
	if apiURL == "" {
		apiURL = DefaultTelegramAPI
	}
	return &Telegram{apiURL: strings.TrimRight(apiURL, "/"), token: token, chatID: chatID, client: newClient()}
}

// Name implements Sender; it shows the chat, never the token.
func (t *Telegram) Name() string { return "telegram chat " + t.chatID }

// Send implements Sender.
func (t *Telegram) Send(ctx context.Context, n Notice) error {
	text := n.Text()
	if r := []rune(text); len(r) > telegramMaxText {
		text = string(r[:telegramMaxText-1]) + "…"
	}
	body, err := json.Marshal(map[string]any{
		"chat_id":                  t.chatID,
		"text":                     text,
		"disable_web_page_preview": true,
	})
	if err != nil {
		return Permanent(fmt.Errorf("encode message: %w", err))
	}
	secrets := scrubber{t.token}
	data, err := post(ctx, t.client, t.apiURL+"/bot"+t.token+"/sendMessage", "sendMessage to "+safeURL(t.apiURL),
		http.Header{"Content-Type": {"application/json"}}, body, secrets)
	if err != nil {
		return err
	}
	var answer struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(data, &answer); err != nil || !answer.OK {
		return secrets.errorf("sendMessage: not accepted: %s", answer.Description)
	}
	return nil
}
