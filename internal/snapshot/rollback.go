package snapshot

import (
	"context"
	"fmt"
	"time"
)

// Pipeline is what a rollback needs of the share's sync pipeline (the
// daemon adapts its reconcile.Share). Its methods must be safe for
// concurrent use.
type Pipeline interface {
	// State is the pipeline's progress now.
	State() PipelineState
	// Pause stops new transfers (changes are still noticed); Resume undoes it.
	Pause(reason string)
	Resume()
	// HoldNextDeletes makes the next passes' deletes wait for approval.
	HoldNextDeletes(reason string)
	// WaitIdle returns once no transfer is in flight, or ctx's error.
	WaitIdle(ctx context.Context) error
	// SyncNow asks for a full scan.
	SyncNow()
}

// PipelineState is what a rollback reads of its pipeline.
type PipelineState struct {
	// State names the pipeline's state, for messages; InSync says it is
	// the state with nothing pending.
	State  string
	InSync bool
	// InFlight counts transfers running; PendingUploads local changes not
	// yet uploaded, PendingFailures those of them whose last attempt failed.
	InFlight, PendingUploads, PendingFailures int
}

// rollbackIdleWait bounds the wait for transfers in flight once the share
// is paused; it stays under the admin client's 30 s timeout.
const rollbackIdleWait = 20 * time.Second

// RollbackShare returns the live share's dataset to snap (see Rollback)
// with its pipeline p held still. It refuses while the share is syncing or
// when a change turns up within settle plus a second of pausing transfers;
// otherwise it waits until none is in flight, rolls back, and makes the
// next deletes (the files the rollback removed) wait for approval, so that
// no object vanishes from the bucket by surprise. Then it resumes p and
// asks for a full scan, which uploads the files changed back as ordinary
// changes. Safe for concurrent use.
func (m *Manager) RollbackShare(ctx context.Context, p Pipeline, settle time.Duration, snap string, destroyNewer bool) error {
	share := m.o.Share
	if st := p.State(); !st.InSync || st.InFlight != 0 {
		return fmt.Errorf("share %s is %s (%d transfers in flight, %d uploads pending): roll back once it is in sync", share, st.State, st.InFlight, st.PendingUploads)
	}
	reason := "rollback to " + snap
	p.Pause(reason)
	defer p.Resume()
	// A file saved a moment ago may not be noticed yet: a change within
	// the window is unsynced work that must not be rolled away.
	quiet := time.NewTimer(settle + time.Second)
	defer quiet.Stop()
	for waiting := true; waiting; {
		if st := p.State(); st.PendingUploads != 0 || st.PendingFailures != 0 {
			return fmt.Errorf("share %s is syncing (%d uploads pending): roll back once it is in sync", share, st.PendingUploads)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-quiet.C:
			waiting = false
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Before and after: deletes noticed while rolling back are held, and
	// the request counts from the first full scan after the rollback.
	p.HoldNextDeletes(reason)
	wctx, cancel := context.WithTimeout(ctx, rollbackIdleWait)
	err := p.WaitIdle(wctx)
	cancel()
	if err != nil {
		return fmt.Errorf("rollback %s: transfers still in flight after %s: %w", share, rollbackIdleWait, err)
	}
	if err := m.Rollback(ctx, snap, destroyNewer); err != nil {
		return err
	}
	p.HoldNextDeletes(reason)
	m.log.Warn().Str("snapshot", snap).Bool("destroy_newer", destroyNewer).Msg("share rolled back; the deletes it causes wait for approval")
	p.Resume()
	p.SyncNow()
	return nil
}
