package admin

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"genesissync/internal/jobs"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
	"genesissync/internal/zfs"
)

// Socket is the admin socket's path under the state directory.
func Socket(stateDir string) string { return filepath.Join(stateDir, "admin.sock") }

// Service is what the admin API asks of the running daemon. Its methods
// are called concurrently, one goroutine per request.
type Service interface {
	// HasShare tells whether the daemon runs the share.
	HasShare(share string) bool
	// Deletes is the share's held delete batch.
	Deletes(share string) reconcile.DeleteBatch
	// ApproveDeletes releases exactly the share's tripped batch id.
	ApproveDeletes(ctx context.Context, share, batch string) error
	// Tripwire is the share's ransomware tripwire (nil when it is off);
	// ReleaseTripwire lets its held changes through and says what it did.
	Tripwire(share string) *reconcile.TripwireStatus
	ReleaseTripwire(ctx context.Context, share string) (string, error)
	// RestoreBeforeTrip starts the restore from before the trip (a job
	// of kind jobs.Restore) and says what it does.
	RestoreBeforeTrip(share string) (id, msg string, err error)
	// Pause, Resume and SyncNow act on the share's pipeline.
	Pause(share string)
	Resume(share string)
	SyncNow(share string)
	// Snapshots, TakeSnapshot, PruneSnapshots and Rollback work on the
	// share's ZFS snapshots; an error marked with NotFound answers 404.
	Snapshots(ctx context.Context, share string) (SnapshotList, error)
	TakeSnapshot(ctx context.Context, share string) (string, error)
	PruneSnapshots(ctx context.Context, share string) (PruneResult, error)
	Rollback(ctx context.Context, share, snap string, destroyNewer bool) error
	// TestAlert sends a test alert to every channel.
	TestAlert(ctx context.Context) error
	// VerifyStatus is the share's verify state.
	VerifyStatus(share string) model.Verify
	// StartVerify and StartRestore start a job and return its id.
	StartVerify(share string, deep bool, samplePercent float64) (string, error)
	StartRestore(share string, req RestoreRequest) (string, error)
	// Job is the share's job of kind (jobs.Verify, jobs.Restore) with id.
	Job(share, kind, id string) (jobs.Job, bool)
}

// RestoreRequest is a restore into the live share.
type RestoreRequest struct {
	Path      string    // one file or folder ("" is all)
	Prefix    string    // a key prefix
	Glob      string    // path.Match pattern
	At        time.Time // point in time; zero is the current versions
	Overwrite bool
	DryRun    bool
}

// SnapshotList is the answer to a snapshot listing.
type SnapshotList struct {
	Share     string             `json:"share"`
	Dataset   string             `json:"dataset"`
	Snapshots []zfs.SnapshotInfo `json:"snapshots"`
}

// PruneResult is the answer to a prune.
type PruneResult struct {
	Pruned  []string `json:"pruned"`
	Expired []string `json:"expired"`
}

// NotFound marks err as the answer 404 (no such share, snapshot, or no
// snapshots at all); its message is unchanged.
func NotFound(err error) error {
	if err == nil {
		return nil
	}
	return notFound{err}
}

type notFound struct{ error }

func (e notFound) Unwrap() error { return e.error }

func isNotFound(err error) bool {
	var nf notFound
	return errors.As(err, &nf)
}
