package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// WebhookSchema is the version of the webhook payload; it changes only
// when a field changes meaning or goes away.
const WebhookSchema = 1

// WebhookPayload is the JSON body of every webhook POST (see
// docs/alerts.md).
type WebhookPayload struct {
	Schema     int               `json:"schema"`
	Status     string            `json:"status"` // firing, resolved or test
	Key        string            `json:"key"`    // rule:subject, stable while the problem lasts
	Rule       string            `json:"rule"`
	Subject    string            `json:"subject"`
	Severity   Severity          `json:"severity"` // warning or critical
	Share      string            `json:"share,omitempty"`
	Path       string            `json:"path,omitempty"`
	Message    string            `json:"message"`
	Details    map[string]string `json:"details,omitempty"`
	StartedAt  time.Time         `json:"started_at"`
	ResolvedAt *time.Time        `json:"resolved_at,omitempty"`
	SentAt     time.Time         `json:"sent_at"`
	Repeat     int               `json:"repeat"`
	Appliance  Appliance         `json:"appliance"`
}

// Appliance names the box a notice comes from.
type Appliance struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Payload returns the webhook body for n.
func (n Notice) Payload() WebhookPayload {
	p := WebhookPayload{
		Schema: WebhookSchema, Status: n.Status, Key: n.Problem.Key, Rule: n.Problem.Rule, Subject: n.Problem.Subject,
		Severity: n.Problem.Severity, Share: n.Problem.Share, Path: n.Problem.Path, Message: n.Problem.Message,
		Details: n.Problem.Details, StartedAt: n.StartedAt.UTC(), SentAt: n.SentAt.UTC(), Repeat: n.Repeat,
		Appliance: Appliance{Name: n.Appliance, Version: n.Version},
	}
	if n.Status == Resolved {
		r := n.ResolvedAt.UTC()
		p.ResolvedAt = &r
	}
	return p
}

// Webhook POSTs notices as JSON (WebhookPayload) to a URL, with an
// optional bearer token. Its Send may be called by one goroutine at a time.
type Webhook struct {
	url       string
	token     string
	userAgent string
	client    *http.Client
}

var _ Sender = (*Webhook)(nil)

// NewWebhook returns a sender to url; token "" sends no Authorization
// header. version goes into the User-Agent.
func NewWebhook(url, token, version string) *Webhook {
	return &Webhook{url: url, token: token, userAgent: "genesissync/" + version, client: newClient()}
}

// Name implements Sender; it shows the scheme and host only, since the
// URL's path or query may hold a token.
func (w *Webhook) Name() string { return "webhook " + safeURL(w.url) }

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, n Notice) error {
	body, err := json.Marshal(n.Payload())
	if err != nil {
		return Permanent(fmt.Errorf("encode payload: %w", err))
	}
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {w.userAgent}}
	if w.token != "" {
		h.Set("Authorization", "Bearer "+w.token)
	}
	_, err = post(ctx, w.client, w.url, "POST", h, body, scrubber{w.token, w.url, urlSecrets(w.url)})
	return err
}

// urlSecrets is the part of a URL after its host (path, query), the usual
// home of a hook's own token.
func urlSecrets(u string) string {
	base := safeURL(u)
	if len(u) > len(base) && u[:len(base)] == base && len(u)-len(base) > 1 {
		return u[len(base):]
	}
	return ""
}
