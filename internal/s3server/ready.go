package s3server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// answerBodyBytes is how much of an answer's body a readiness check reads.
const answerBodyBytes = 4 << 10

// Answer is the answer to one readiness request.
type Answer struct {
	Status int
	Header http.Header
	Body   string // up to answerBodyBytes
}

// GetOK asks url once with client. An answer other than 200 is an error
// that starts with what.
func GetOK(ctx context.Context, client *http.Client, what, url string) (Answer, error) {
	a, err := get(ctx, client, url)
	if err != nil {
		return a, err
	}
	if a.Status != http.StatusOK {
		return a, fmt.Errorf("%s: HTTP %d", what, a.Status)
	}
	return a, nil
}

// RefusesAnonymous asks the S3 server at endpoint (http://host:port) once
// for an unsigned ListBuckets, which S3 refuses with an XML error document:
// that answer means the S3 router is up and its identities are loaded.
func RefusesAnonymous(ctx context.Context, client *http.Client, endpoint string) error {
	a, err := get(ctx, client, endpoint+"/")
	if err != nil {
		return err
	}
	if a.Status != http.StatusForbidden || !strings.Contains(a.Body, "<Code>AccessDenied</Code>") {
		return fmt.Errorf("anonymous ListBuckets: HTTP %d %.200q, want 403 AccessDenied", a.Status, a.Body)
	}
	return nil
}

// get fetches url and reads up to answerBodyBytes of the body.
func get(ctx context.Context, client *http.Client, url string) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Answer{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, answerBodyBytes))
	if err != nil && !errors.Is(err, io.EOF) {
		return Answer{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, nil
}
