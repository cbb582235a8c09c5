package reconcile

import (
	"context"
	"errors"
	"time"

	"genesissync/internal/scan"
)

// trasher carries out proven deletes recoverably.
type trasher interface {
	TrashLocal(ctx context.Context, rel string, expect scan.File) (string, error)
	TrashRemote(ctx context.Context, key, etag string) (string, error)
}

// considerDeletes runs on every tick: the guard judges the batch and the
// paths it releases go to the workers, allowed to delete.
func (s *Share) considerDeletes(now time.Time) {
	idle := len(s.pend) == 0 && len(s.inflight) == 0
	// A tripped tripwire pauses the guard too: no delete leaves.
	paused := s.pausedReason() != "" || s.trip.tripped()
	s.allow(s.guard.judge(now, idle, paused, func() int { return s.Status().FilesTracked }))
}

// approve releases the tripped batch named id. Loop goroutine only.
func (s *Share) approve(id string) error {
	if s.trip.tripped() {
		return errors.New("the ransomware tripwire holds this share: release it (the changes are legitimate) or restore from before the trip first")
	}
	paths, err := s.guard.approve(id)
	s.allow(paths)
	return err
}

// allow makes the released paths pending, allowed to delete, at once.
func (s *Share) allow(paths []string) {
	for _, rel := range paths {
		p := s.pend[rel]
		if p == nil {
			p = &pending{since: time.Now()}
			s.pend[rel] = p
		}
		p.allowDelete = true
		p.notBefore = time.Time{}
	}
}

// HoldNextDeletes makes the next batch of deletes wait for a person
// whatever its size (after a rollback, a mass change the thresholds might
// pass). It lasts until a batch trips, or until a full scan started after
// the call finished with nothing to delete (at most forceHoldMax). Safe
// for concurrent use.
func (s *Share) HoldNextDeletes(reason string) {
	s.guard.holdNext(reason, time.Now())
	s.log.Warn().Str("reason", reason).Msg("the next deletes will wait for approval")
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
