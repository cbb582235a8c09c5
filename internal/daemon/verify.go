package daemon

import (
	"context"
	"net/http"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/status"
)

// startVerify starts each share's scheduled verify in g.
func (d *Daemon) startVerify(ctx context.Context, g *errgroup.Group) error { return nil }

// adminRestore adds the verify and restore endpoints to the admin API.
func (d *Daemon) adminRestore(mux *http.ServeMux) {}

// verifyStatus is the share's verify state for the status API.
func (d *Daemon) verifyStatus(rt *shareRuntime) status.Verify { return status.Verify{} }
