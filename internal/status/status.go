package status

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/model"
	"genesissync/internal/webserver"
)

// Source provides snapshots; the daemon implements it. Snapshot must be
// safe for concurrent use and return a snapshot the caller owns.
type Source interface {
	Snapshot() model.Snapshot
}

// markStale wraps a Source: every snapshot it returns has the model's
// staleness applied (model.Snapshot.MarkStale), so the page, the API and
// the metrics show what the alert rules decide.
type markStale struct{ src Source }

func (m markStale) Snapshot() model.Snapshot {
	snap := m.src.Snapshot()
	snap.MarkStale()
	return snap
}

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var staticFiles embed.FS

var funcs = template.FuncMap{
	"bytes":  model.HumanBytes,
	"rate":   func(v float64) string { return model.HumanBytes(int64(v)) + "/s" },
	"ubytes": func(n uint64) string { return model.HumanBytes(int64(min(n, 1<<62))) },
	"ago":    ago,
	"clock":  clock,
	"air":    airTime,
	"hour":   func(t time.Time) string { return t.Local().Format("Mon 15:04") },
	"age":    func(sec float64) string { return humanDuration(time.Duration(sec * float64(time.Second))) },
	"dur":    humanDuration,
	"pct":    func(v float64) string { return fmt.Sprintf("%.0f%%", v) },
	"ms":     func(v float64) string { return fmt.Sprintf("%.0f ms", v) },
	"yesno":  func(b bool) string { return map[bool]string{true: "yes", false: "no"}[b] },
}

var (
	page      = template.Must(template.New("index.html").Funcs(funcs).ParseFS(templates, "templates/index.html"))
	loginPage = template.Must(template.New("login.html").Funcs(funcs).ParseFS(templates, "templates/login.html"))
)

// Options configure a Server beyond its Source. The zero value is a
// public, read-only server without logins.
type Options struct {
	// Actions carries out admin actions; nil turns them off.
	Actions Actions
	// Admins are the users who may log in, with their bcrypt password
	// hashes. The server never renders or logs a hash.
	Admins map[string]string
	// Public leaves the read-only view open without a login.
	Public bool
	// SessionTTL is how long a login lasts (config's status.session_ttl).
	SessionTTL time.Duration
	// SecureCookie marks the session cookie Secure (HTTPS only).
	SecureCookie bool
	// History is a share's last day by the minute, for the charts; nil
	// draws them empty.
	History func(share string) []model.HistoryPoint
}

// Server serves the status endpoints. It is safe for concurrent use.
type Server struct {
	src    Source
	log    zerolog.Logger
	mux    *http.ServeMux
	opts   Options
	auth   *auth
	static http.Handler

	// streams bounds the concurrent live update streams.
	streams chan struct{}
	// streamEvery is the live stream's period.
	streamEvery time.Duration
}

// maxStreams bounds the live update streams served at once: each holds a
// connection and encodes a snapshot every streamEvery.
const maxStreams = 32

// New returns a server reading from src.
func New(src Source, log zerolog.Logger, opts Options) *Server {
	static, _ := fs.Sub(staticFiles, "static")
	s := &Server{
		src:         markStale{src},
		log:         log.With().Str("component", "status").Logger(),
		mux:         http.NewServeMux(),
		opts:        opts,
		static:      http.StripPrefix("/static/", http.FileServerFS(static)),
		streams:     make(chan struct{}, maxStreams),
		streamEvery: 2 * time.Second,
	}
	s.auth = newAuth(opts, s.log)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", metricsHandler(s.src))
	s.mux.Handle("GET /static/", s.static)
	s.mux.Handle("GET /favicon.ico", http.RedirectHandler("/static/favicon.svg", http.StatusMovedPermanently))
	s.mux.HandleFunc("GET /api/status", s.viewer(s.apiStatus, true))
	s.mux.HandleFunc("GET /api/events/stream", s.viewer(s.stream, true))
	s.mux.HandleFunc("GET /charts/{share}/{chart}", s.viewer(s.chartSVG, false))
	s.mux.HandleFunc("GET /{$}", s.viewer(s.index, false))
	s.routeAuth()
	s.routeAdmin()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer browsers send
	// "Origin: null" on form posts, which sameOrigin refuses.
	h.Set("Referrer-Policy", "same-origin")
	// No inline script or style anywhere: everything is an embedded file
	// under /static/.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	s.mux.ServeHTTP(w, r)
}

// Listen binds addr. It is separate from Serve so that a port conflict is
// reported while the daemon starts, not later from its errgroup.
func (s *Server) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("status listen %s: %w", addr, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully.
// Live update streams end with ctx, so they do not hold up the shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return webserver.Serve(ctx, "status", &http.Server{
		Handler:     s,
		BaseContext: func(net.Listener) context.Context { return ctx },
	}, ln)
}

// healthz answers 200 "ok" or 503 with the reason, then one line per
// standing warning ("warning: ID: message"), which does not change the
// status code.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	snap := s.src.Snapshot()
	ok, why := snap.Healthy()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, why)
	for _, wr := range snap.Warnings {
		fmt.Fprintf(w, "warning: %s: %s\n", wr.ID, wr.Message)
	}
}

// readyz answers 200 once every share finished its first full scan (the
// appliance knows what it holds), 503 before.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, sh := range s.src.Snapshot().Shares {
		if sh.LastFullScan.IsZero() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "share %s: first scan not done\n", sh.Name)
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request, _ *session) {
	writeJSON(w, http.StatusOK, s.src.Snapshot(), s.log)
}

// pageData is what index.html renders.
type pageData struct {
	model.Snapshot
	OK  bool
	Why string
	// User is the logged-in admin, "" for a visitor; CSRF is their
	// session's token for the admin forms.
	User, CSRF string
	// CanLogin is true when admins are configured.
	CanLogin bool
	// Admin is true when the user may run actions (logged in and the
	// server has actions).
	Admin bool
	Flash string
	// Charts are the names of each share's last-day charts, in order.
	Charts []string
}

func (s *Server) index(w http.ResponseWriter, r *http.Request, sess *session) {
	snap := s.src.Snapshot()
	ok, why := snap.Healthy()
	d := pageData{Snapshot: snap, OK: ok, Why: why, CanLogin: len(s.opts.Admins) > 0, Charts: chartNames}
	if sess != nil {
		d.User, d.CSRF = sess.user, sess.csrf
		d.Admin = s.opts.Actions != nil
		d.Flash = s.auth.takeFlash(sess)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := page.Execute(w, d); err != nil {
		s.log.Warn().Err(err).Msg("render status page")
	}
}

// writeJSON writes v as indented JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any, log zerolog.Logger) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		log.Debug().Err(err).Msg("write JSON response")
	}
}

// apiError is the body of every JSON error response.
type apiError struct {
	Error string `json:"error"`
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return humanDuration(time.Since(t)) + " ago"
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// airTime is when a playlist entry airs, as the On air panel shows it.
func airTime(t time.Time) string {
	if t.IsZero() {
		return "unscheduled"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}
