// Package webserver owns the lifecycle of the appliance's HTTP servers
// (status page, bucket events, admin socket): bind early so a conflict
// is reported at start, serve until the context ends, shut down
// gracefully. It knows nothing of what the handlers do.
package webserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves srv on ln until ctx is cancelled, then shuts down
// gracefully (5 s for requests in progress). name labels errors. srv's
// timeouts are the caller's; a zero ReadHeaderTimeout is set to 10 s.
func Serve(ctx context.Context, name string, srv *http.Server, ln net.Listener) error {
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = 10 * time.Second
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("%s server: %w", name, err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("%s server: %w", name, err)
		}
		return nil
	}
}
