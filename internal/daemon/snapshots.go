package daemon

import (
	"context"
	"net/http"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/status"
)

// startSnapshots starts each ZFS share's snapshot schedule and the pool
// health checks in g.
func (d *Daemon) startSnapshots(ctx context.Context, g *errgroup.Group) error { return nil }

// adminSnapshots adds the snapshot endpoints to the admin API.
func (d *Daemon) adminSnapshots(mux *http.ServeMux) {}

// snapshotStatus is the share's snapshot state for the status API.
func (d *Daemon) snapshotStatus(rt *shareRuntime) status.Snapshots {
	if rt.cfg.Dataset == "" {
		return status.Snapshots{Reason: "the share is a plain directory, not a ZFS dataset"}
	}
	return status.Snapshots{Reason: "not implemented yet"}
}

// pools is the health of the pools under the shares, as last checked.
func (d *Daemon) pools() []status.Pool { return nil }
