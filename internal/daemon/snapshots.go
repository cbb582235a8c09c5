package daemon

import (
	"context"
	"errors"
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

// snapshotNow takes a manual snapshot of the share and returns its name.
func (d *Daemon) snapshotNow(ctx context.Context, share string) (string, error) {
	return "", errors.New("snapshots are not implemented yet")
}

// restoreFromSnapshot copies rel (a file or folder, share-relative) from
// the named snapshot back into the live share.
func (d *Daemon) restoreFromSnapshot(ctx context.Context, share, snapshot, rel string) error {
	return errors.New("restore from a snapshot is not implemented yet")
}
