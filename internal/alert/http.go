package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// redacted replaces secrets in anything a sender reports.
const redacted = "[REDACTED]"

// newClient returns the senders' HTTP client: no redirects (a bearer token
// or a token in the path must not follow one to another host), deadlines
// from the context.
func newClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// scrubber removes secrets from strings. Empty secrets are ignored.
type scrubber []string

func (s scrubber) scrub(msg string) string {
	for _, secret := range s {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, redacted)
			// The same secret as it appears escaped in a URL.
			if esc := url.PathEscape(secret); esc != secret {
				msg = strings.ReplaceAll(msg, esc, redacted)
			}
		}
	}
	return msg
}

// errorf builds an error from a scrubbed message. It wraps nothing on
// purpose: a wrapped *url.Error would still print the URL with its secret
// to whoever unwraps it.
func (s scrubber) errorf(format string, a ...any) error {
	return errors.New(s.scrub(fmt.Sprintf(format, a...)))
}

// post sends body to target and returns the response body of a 2xx
// answer. Errors start with what (the operation, never the URL) and are
// scrubbed; 4xx answers other than 408 and 429 are permanent.
func post(ctx context.Context, c *http.Client, target, what string, header http.Header, body []byte, secrets scrubber) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, Permanent(secrets.errorf("%s: bad request", what))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the cause, without the URL
		}
		return nil, secrets.errorf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	snippet := strings.TrimSpace(string(data))
	if len(snippet) > 300 {
		snippet = snippet[:300] + "..."
	}
	err = secrets.errorf("%s: HTTP %s: %s", what, resp.Status, snippet)
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return nil, Permanent(err)
	}
	return nil, err
}

// safeURL is u without user info, path, query or fragment: what may be
// shown of a URL that might carry a secret.
func safeURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(invalid URL)"
	}
	return p.Scheme + "://" + p.Host
}
