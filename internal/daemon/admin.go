package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"

	"genesissync/internal/admin"
	"genesissync/internal/eventlog"
	"genesissync/internal/jobs"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
	"genesissync/internal/snapshot"
	"genesissync/internal/webserver"
	"genesissync/internal/zfs"
)

// listenAdmin binds the admin socket.
func (d *Daemon) listenAdmin() (net.Listener, error) {
	path := admin.Socket(d.cfg.StateDir)
	_ = os.Remove(path) // a previous run's socket; the index lock proves no other daemon runs
	// Connecting needs write permission on the socket: with the default
	// umask nobody but the owner has it from the start; 0600 says so.
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return ln, nil
}

// serveAdmin serves the admin API on ln until ctx ends.
func (d *Daemon) serveAdmin(ctx context.Context, ln net.Listener) error {
	return webserver.Serve(ctx, "admin socket", &http.Server{Handler: admin.Handler(adminService{d}, d.log)}, ln)
}

// adminService is the daemon as the admin API sees it. The handler asks
// HasShare before the methods that take a share and need it to exist.
type adminService struct{ d *Daemon }

var _ admin.Service = adminService{}

func (a adminService) HasShare(share string) bool { return a.d.runtime(share) != nil }

func (a adminService) Deletes(share string) reconcile.DeleteBatch {
	return a.d.runtime(share).share.Deletes()
}

func (a adminService) ApproveDeletes(ctx context.Context, share, batch string) error {
	// A snapshot first, so that the released deletes can be undone.
	if err := a.d.snapshots.BeforeDeletes(ctx, share); err != nil {
		return err
	}
	return a.d.runtime(share).share.Approve(ctx, batch)
}

func (a adminService) Tripwire(share string) *reconcile.TripwireStatus {
	return a.d.runtime(share).share.Tripwire()
}

func (a adminService) ReleaseTripwire(ctx context.Context, share string) (string, error) {
	msg, err := a.d.releaseTripwire(ctx, a.d.runtime(share))
	if err == nil {
		a.d.events.Add(eventlog.Event{Level: eventlog.Warning, Kind: "admin.tripwire-release", Share: share, Message: "admin socket: " + msg})
	}
	return msg, err
}

func (a adminService) RestoreBeforeTrip(share string) (string, string, error) {
	id, msg, err := a.d.startRestoreBeforeTrip(a.d.runtime(share))
	if err == nil {
		a.d.events.Add(eventlog.Event{Level: eventlog.Warning, Kind: "admin.tripwire-restore", Share: share, Message: "admin socket: " + msg})
	}
	return id, msg, err
}

func (a adminService) Pause(share string) {
	a.d.runtime(share).share.Pause("paused by an administrator")
}
func (a adminService) Resume(share string)  { a.d.runtime(share).share.Resume() }
func (a adminService) SyncNow(share string) { a.d.runtime(share).share.SyncNow() }

// snapshotError marks the errors that mean "not there" for the admin API.
func snapshotError(err error) error {
	if errors.Is(err, snapshot.ErrNoSnapshots) || errors.Is(err, zfs.ErrNotFound) || errors.Is(err, snapshot.ErrNoShare) {
		return admin.NotFound(err)
	}
	return err
}

func (a adminService) Snapshots(ctx context.Context, share string) (admin.SnapshotList, error) {
	m, err := a.d.snapshots.Manager(share)
	if err != nil {
		return admin.SnapshotList{}, snapshotError(err)
	}
	snaps, err := m.List(ctx)
	return admin.SnapshotList{Share: share, Dataset: m.Dataset(), Snapshots: snaps}, snapshotError(err)
}

func (a adminService) TakeSnapshot(ctx context.Context, share string) (string, error) {
	name, err := a.d.snapshots.Create(ctx, share)
	return name, snapshotError(err)
}

func (a adminService) PruneSnapshots(ctx context.Context, share string) (admin.PruneResult, error) {
	pruned, expired, err := a.d.snapshots.Prune(ctx, share)
	return admin.PruneResult{Pruned: pruned, Expired: expired}, snapshotError(err)
}

func (a adminService) Rollback(ctx context.Context, share, snap string, destroyNewer bool) error {
	return snapshotError(a.d.snapshots.Rollback(ctx, share, snap, destroyNewer))
}

func (a adminService) TestAlert(ctx context.Context) error { return a.d.testAlert(ctx) }

func (a adminService) VerifyStatus(share string) model.Verify {
	return a.d.verifyStatus(a.d.runtime(share))
}

func (a adminService) StartVerify(share string, deep bool, samplePercent float64) (string, error) {
	return a.d.startVerifyJob(share, deep, samplePercent)
}

func (a adminService) StartRestore(share string, req admin.RestoreRequest) (string, error) {
	return a.d.startRestore(share, req, nil)
}

func (a adminService) Job(share, kind, id string) (jobs.Job, bool) {
	return a.d.jobs.Get(share, kind, id)
}
