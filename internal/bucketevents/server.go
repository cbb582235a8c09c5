package bucketevents

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/webserver"
)

// Server serves the endpoint on its own listener. Create it with New,
// bind with Listen, run with Serve; Listen and Serve are for the goroutine
// that owns the server, requests are served concurrently.
type Server struct {
	h http.Handler
}

// New returns a server for NewHandler(token, targets, log).
func New(token string, targets []Target, log zerolog.Logger) *Server {
	return &Server{h: NewHandler(token, targets, log)}
}

// Listen binds addr. It is separate from Serve so that a port conflict is
// reported when the daemon starts.
func (s *Server) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bucket events listen %s: %w", addr, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// requests in progress (each only hands paths to the pipelines) finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute, // MinIO keeps its connection alive between events
		MaxHeaderBytes:    64 << 10,
	}
	return webserver.Serve(ctx, "bucket events", srv, ln)
}
