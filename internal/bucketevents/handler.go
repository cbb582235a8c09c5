package bucketevents

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/keymap"
)

// MaxBody is the largest request body read. MinIO posts one event per
// request: about 1.5 KiB, plus the object's user metadata (a few KiB at
// most).
const MaxBody = 1 << 20

// Target is one share as the endpoint routes to it: the events of keys in
// Bucket under Prefix are for it.
type Target struct {
	// Share names the share in logs.
	Share string
	// Bucket is the bucket name as the events carry it.
	Bucket string
	// Prefix is the share's key prefix: empty or ending in "/".
	Prefix string
	// Notify schedules a share-relative path that keymap accepted. It is
	// called concurrently from request goroutines and must return
	// promptly: the request waits for it.
	Notify func(rel string)
}

type handler struct {
	token   [sha256.Size]byte // of the expected bearer token
	empty   bool              // no token configured: refuse everything
	targets []Target
	log     zerolog.Logger
	authLog zerolog.Logger // sampled: a sender with a wrong token retries every few seconds
}

// NewHandler returns the endpoint's http.Handler, on any path (see the
// package documentation). An empty token refuses every request. It answers
// 200 once the targets took the paths, also for records it ignores; 400,
// 401, 405 or 413 for requests MinIO would never send.
//
// Every target whose bucket matches and whose prefix starts the key is
// notified, not only the longest match: a share with prefix "" also
// mirrors the keys under another share's "news/", and an event must nudge
// every share whose listing would report the key. The handler is safe for
// concurrent use.
func NewHandler(token string, targets []Target, log zerolog.Logger) http.Handler {
	log = log.With().Str("component", "bucketevents").Logger()
	return &handler{
		token:   sha256.Sum256([]byte(token)),
		empty:   token == "",
		targets: append([]Target(nil), targets...),
		log:     log,
		authLog: log.Sample(&zerolog.BurstSampler{Burst: 1, Period: time.Minute}),
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST bucket event notifications here", http.StatusMethodNotAllowed)
		return
	}
	if why := h.authorize(r.Header.Get("Authorization")); why != "" {
		// Never the token, nor the header: a wrong token may be a right
		// one of something else.
		h.authLog.Warn().Str("remote", r.RemoteAddr).Str("reason", why).
			Msg("bucket event refused: check the auth_token of MinIO's notify_webhook target against events.token (logged at most once a minute)")
		w.Header().Set("WWW-Authenticate", `Bearer realm="genesissync"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.Warn().Str("remote", r.RemoteAddr).Int64("limit", tooBig.Limit).Msg("bucket event refused: body too large")
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.log.Debug().Err(err).Str("remote", r.RemoteAddr).Msg("reading bucket event")
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	events, err := Parse(body)
	if err != nil {
		h.log.Warn().Err(err).Str("remote", r.RemoteAddr).Msg("bucket event refused: not an S3 event notification")
		http.Error(w, "not an S3 event notification", http.StatusBadRequest)
		return
	}
	for _, e := range events {
		h.route(e)
	}
	w.WriteHeader(http.StatusOK)
}

// authorize returns why the Authorization header does not carry the
// token, or "" when it does.
func (h *handler) authorize(header string) string {
	if header == "" {
		return "no Authorization header"
	}
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "not a bearer token"
	}
	// Hashing first makes the comparison constant-time in the length too.
	got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	if subtle.ConstantTimeCompare(got[:], h.token[:]) != 1 || h.empty {
		return "wrong token"
	}
	return ""
}

// route hands one record's key to every target it belongs to.
func (h *handler) route(e Event) {
	if !e.Changes() {
		h.log.Debug().Str("event", e.Name).Str("bucket", e.Bucket).Msg("bucket event ignored: no change to mirror")
		return
	}
	if e.KeyErr != nil {
		h.log.Warn().Err(e.KeyErr).Str("event", e.Name).Str("bucket", e.Bucket).Msg("bucket event ignored: undecodable key; the listing will find the object")
		return
	}
	matched := false
	for _, t := range h.targets {
		if t.Bucket != e.Bucket || !strings.HasPrefix(e.Key, t.Prefix) {
			continue
		}
		matched = true
		rel, err := keymap.LocalPath(e.Key[len(t.Prefix):])
		switch {
		case errors.Is(err, keymap.ErrDirMarker):
			continue
		case err != nil:
			var refused *keymap.RefusedError
			reason := "refused"
			if errors.As(err, &refused) {
				reason = string(refused.Reason)
			}
			h.log.Warn().Str("share", t.Share).Str("key", e.Key).Str("reason", reason).Str("event", e.Name).
				Msg("bucket event ignored: object key refused, not written to the share")
			continue
		}
		h.log.Debug().Str("share", t.Share).Str("path", rel).Str("event", e.Name).Msg("bucket event: scheduled")
		t.Notify(rel)
	}
	if !matched {
		h.log.Debug().Str("bucket", e.Bucket).Str("key", e.Key).Str("event", e.Name).Msg("bucket event ignored: no share has this bucket and prefix")
	}
}
