package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"genesissync/internal/scan"
)

// trasher carries out proven deletes recoverably.
type trasher interface {
	TrashLocal(ctx context.Context, rel string, expect scan.File) (string, error)
	TrashRemote(ctx context.Context, key, etag string) (string, error)
}

// heldDelete is a delete the planner decided, waiting in the pass's batch.
type heldDelete struct {
	action Action
	at     time.Time
}

// guard is the share's mass-delete guard state, owned by the loop.
type guard struct {
	held map[string]heldDelete
	// released are paths a release allowed whose allowed job has not
	// run yet: a job decided before the release (in flight then) must
	// not hold them again.
	released map[string]bool
	lastAdd  time.Time
	tripped  bool
	batch    string    // ID of the tripped batch, shown to the approver
	batchAt  time.Time // lastAdd when batch was computed
}

// batchID names a set of deletes so that an approval applies to exactly
// the batch that was shown.
func batchID(held map[string]heldDelete) string {
	paths := make([]string, 0, len(held))
	for p, h := range held {
		paths = append(paths, h.action.String()+" "+p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		h.Write([]byte(p + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Trips reports whether n deletes out of tracked files exceed the guard:
// more than maxCount, or (for more than one delete) more than maxPercent
// of the tracked files. Pure.
func Trips(n, tracked, maxCount int, maxPercent float64) bool {
	if n > maxCount {
		return true
	}
	return n > 1 && float64(n)*100 > maxPercent*float64(max(tracked, 1))
}

// considerDeletes runs on every tick: once no delete joined the batch for
// a quiet period, the batch is released to the workers, or the guard
// trips and holds it for approval.
func (s *Share) considerDeletes(now time.Time) {
	g := &s.guard
	if g.tripped && g.lastAdd.After(g.batchAt) {
		// Deletes joined a tripped batch: it is a new batch, and an
		// approval of the old one must not release them unseen.
		g.batch, g.batchAt = batchID(g.held), g.lastAdd
	}
	if len(g.held) == 0 {
		s.forcedHold(now) // lets a hold request with nothing to hold expire
	}
	if len(g.held) == 0 || g.tripped || now.Sub(g.lastAdd) < s.deleteQuiet() || s.pausedReason() != "" {
		return
	}
	tracked := s.Status().FilesTracked
	forced, why := s.forcedHold(now)
	if forced || Trips(len(g.held), tracked, s.opts.MaxDeletes, s.opts.MaxDeletePercent) {
		g.tripped, g.batch, g.batchAt = true, batchID(g.held), g.lastAdd
		ev := s.log.Error().Int("deletes", len(g.held)).Int("tracked", tracked).Str("batch", g.batch)
		if forced {
			s.forcedTripped()
			ev = ev.Str("because", why)
		}
		ev.Msg("delete guard tripped: deletes paused for this share until the batch is approved (genesissync deletes approve)")
		return
	}
	s.release()
}

// deleteQuiet is how long the batch must see no new delete before it is
// judged: deletes that arrive together are judged together, and the new
// name of a renamed file (which waits one settle window) is copied from
// the old object before that object is deleted.
func (s *Share) deleteQuiet() time.Duration { return s.opts.Settle + 2*time.Second }

// release hands every held delete to the workers, allowed to delete.
func (s *Share) release() {
	for rel := range s.guard.held {
		p := s.pend[rel]
		if p == nil {
			p = &pending{since: time.Now()}
			s.pend[rel] = p
		}
		p.allowDelete = true
		p.notBefore = time.Time{}
		s.guard.released[rel] = true
	}
	clear(s.guard.held)
	s.guard.tripped, s.guard.batch = false, ""
}

// approve releases a tripped batch if id names it. Loop goroutine only.
func (s *Share) approve(id string) error {
	if !s.guard.tripped {
		return errors.New("no delete batch is waiting for approval")
	}
	if s.guard.lastAdd.After(s.guard.batchAt) {
		s.guard.batch, s.guard.batchAt = batchID(s.guard.held), s.guard.lastAdd
	}
	if id != s.guard.batch {
		return fmt.Errorf("batch %s is not the waiting batch (%s): review it again", id, s.guard.batch)
	}
	s.log.Warn().Str("batch", id).Int("deletes", len(s.guard.held)).Msg("delete batch approved")
	s.release()
	return nil
}

// DeleteBatch is the share's held deletes as shown to an approver.
type DeleteBatch struct {
	Tripped bool         `json:"tripped"`
	Batch   string       `json:"batch,omitempty"`
	Deletes []HeldDelete `json:"deletes"`
}

type approval struct {
	batch string
	reply chan error
}

// Approve releases the tripped delete batch named id (from DeleteBatch).
// Safe for concurrent use.
func (s *Share) Approve(ctx context.Context, id string) error {
	a := approval{batch: id, reply: make(chan error, 1)}
	select {
	case s.approvals <- a:
	case <-s.stopped:
		return errors.New("share is not running")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-a.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Deletes returns the held delete batch. Safe for concurrent use.
func (s *Share) Deletes() DeleteBatch {
	st := s.Status()
	return DeleteBatch{Tripped: st.DeleteGuardTripped, Batch: st.DeleteBatch, Deletes: st.HeldDeletes}
}

// executeDelete carries out a proven, released delete recoverably.
func (s *Share) executeDelete(ctx context.Context, r *result, a Action, in Input, key string) {
	if err := s.root.ok(ctx); err != nil {
		r.err = err
		return
	}
	switch a {
	case DeleteLocal:
		if s.opts.OpenFiles != nil && s.opts.OpenFiles.Open(ctx, r.rel) {
			r.err = errOpen
			return
		}
		where, err := s.opts.Trash.TrashLocal(ctx, r.rel, *in.Local)
		if err != nil {
			r.err = err
			return
		}
		r.trashedTo = where
	case DeleteRemote:
		where, err := s.opts.Trash.TrashRemote(ctx, key, in.Base.ETag)
		if err != nil {
			r.err = err
			return
		}
		r.trashedTo = where
	}
	if err := s.opts.Index.Delete(r.rel); err != nil {
		r.err = err
		return
	}
	r.out = outDeleted
}
