package status

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/eventlog"
	"genesissync/internal/reconcile"
	"genesissync/internal/webserver"
)

// Snapshot is everything the status endpoints show, taken at one moment.
type Snapshot struct {
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	Now       time.Time `json:"now"`
	Samba     Samba     `json:"samba"`
	Shares    []Share   `json:"shares"`
	// Endpoints are the bucket endpoints' reachability (see box.go).
	Endpoints []Endpoint `json:"endpoints"`
	// Pools are the ZFS pools under the shares (see zfs.go).
	Pools []Pool `json:"pools"`
	// Events are the newest notable events, newest first.
	Events []eventlog.Event `json:"events"`
}

// Share is one share's state: its sync pipeline's status plus what the
// daemon knows beside it.
type Share struct {
	reconcile.Status
	// Snapshots is the share's ZFS snapshot state (see zfs.go).
	Snapshots Snapshots `json:"snapshots"`
	// Verify is the share's last and running integrity checks (see verify.go).
	Verify Verify `json:"verify"`
}

// Samba is smbd's state as the daemon sees it.
type Samba struct {
	Mode  string `json:"mode"`
	Addr  string `json:"addr,omitempty"`
	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"`
}

// Healthy reports whether the appliance is fit to serve: smbd up (when
// managed) and no share in the error state.
func (s Snapshot) Healthy() (bool, string) {
	if s.Samba.Mode != "off" && !s.Samba.Up {
		return false, "smbd is down"
	}
	for _, sh := range s.Shares {
		if sh.State == reconcile.StateError {
			return false, fmt.Sprintf("share %s: %s", sh.Name, sh.State)
		}
	}
	return true, "ok"
}

// Source provides snapshots; the daemon implements it.
type Source interface {
	Snapshot() Snapshot
}

//go:embed templates/*.html
var templates embed.FS

var page = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"bytes": humanBytes,
	"ago":   ago,
	"age":   func(sec float64) string { return humanDuration(time.Duration(sec * float64(time.Second))) },
}).ParseFS(templates, "templates/index.html"))

// Server serves the status endpoints.
type Server struct {
	src Source
	log zerolog.Logger
	mux *http.ServeMux
}

// New returns a server reading from src.
func New(src Source, log zerolog.Logger) *Server {
	s := &Server{src: src, log: log.With().Str("component", "status").Logger(), mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", metricsHandler(src))
	s.mux.HandleFunc("GET /api/status", s.apiStatus)
	s.mux.HandleFunc("GET /{$}", s.index)
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
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
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return webserver.Serve(ctx, "status", &http.Server{Handler: s}, ln)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ok, why := s.src.Snapshot().Healthy()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, why)
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

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.src.Snapshot()); err != nil {
		s.log.Warn().Err(err).Msg("write /api/status")
	}
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	snap := s.src.Snapshot()
	ok, why := snap.Healthy()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := page.Execute(w, struct {
		Snapshot
		OK  bool
		Why string
	}{snap, ok, why})
	if err != nil {
		s.log.Warn().Err(err).Msg("render status page")
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return humanDuration(time.Since(t)) + " ago"
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
