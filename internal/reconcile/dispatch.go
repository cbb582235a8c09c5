package reconcile

import (
	"container/heap"
	"context"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// lane sorts transfers by size: a share runs Uploaders large transfers
// and, beside them, up to smallWorkers small ones. Small files are
// latency-bound and cheap in memory (a single-part PUT streams), so many
// at once move thousands of jingles fast; large ones are bandwidth-bound
// and each buffers (part concurrency + 1) parts.
type lane uint8

const (
	laneUnknown lane = iota
	laneSmall
	laneLarge
)

const (
	// smallWorkers is how many small files a share transfers at once
	// beside its Uploaders.
	smallWorkers = 16
	// smallFileMax is the largest file in the small lane. A path with no
	// local file (a download or a delete) goes in the large lane.
	smallFileMax = 1 << 20
)

// dispatch hands settled files to idle workers, oldest change first, from
// s.ready (the last walk's oldest); it walks the pending set again only
// when s.ready runs out, not once per finished transfer.
func (s *Share) dispatch(ctx context.Context, jobs chan<- job) {
	if s.idle == 0 || s.pausedReason() != "" {
		return
	}
	now := time.Now()
	walked := false
	var waiting []string // large files while the large lane is full
	defer func() { s.ready = append(waiting, s.ready...) }()
	for s.idle > 0 {
		if len(s.ready) == 0 {
			if walked {
				return
			}
			s.ready, walked = s.oldestSettled(now, readyBatch), true
			continue
		}
		rel := s.ready[0]
		s.ready = s.ready[1:]
		p := s.pend[rel]
		if p == nil {
			continue // done meanwhile
		}
		if _, busy := s.inflight[rel]; busy || !p.due(now, s.opts.Settle) {
			continue
		}
		if p.lane == laneUnknown {
			p.lane = s.laneOf(rel)
		}
		if p.lane == laneLarge && s.large >= s.opts.Uploaders {
			if !slices.Contains(waiting, rel) {
				waiting = append(waiting, rel)
			}
			continue
		}
		// An idle worker receives at once.
		select {
		case jobs <- job{rel: rel, started: now, allowDelete: p.allowDelete, lane: p.lane}:
			s.inflight[rel] = now
			s.idle--
			if p.lane == laneLarge {
				s.large++
			}
		case <-ctx.Done():
			return
		}
	}
}

// laneOf stats rel on the share: small when it is a regular file of at
// most smallFileMax bytes, else large (see lane).
func (s *Share) laneOf(rel string) lane {
	fi, err := os.Lstat(filepath.Join(s.opts.Root, filepath.FromSlash(rel)))
	if err == nil && fi.Mode().IsRegular() && fi.Size() <= smallFileMax {
		return laneSmall
	}
	return laneLarge
}

// readyBatch is how many settled files one walk of the pending set keeps
// for dispatch: more than the transfers that finish between two ticks.
const readyBatch = 256

// first puts rel at the head of the dispatch order (Share.Fetch): the next
// free worker takes it, before the batch already chosen.
func (s *Share) first(rel string) {
	s.ready = append([]string{rel}, slices.DeleteFunc(s.ready, func(r string) bool { return r == rel })...)
}

// oldestSettled returns up to n settled pending files that no worker has,
// oldest change first; while the large lane is full, only files not
// known to be large, so that small ones are not stuck behind them.
func (s *Share) oldestSettled(now time.Time, n int) []string {
	h := &newestFirst{}
	largeFull := s.large >= s.opts.Uploaders
	// dispatch skips files in flight, saving a map lookup per pending file.
	for rel, p := range s.pend {
		if !p.due(now, s.opts.Settle) || (largeFull && p.lane == laneLarge) {
			continue
		}
		if h.Len() == n {
			if !p.since.Before((*h)[0].since) {
				continue
			}
			heap.Pop(h)
		}
		heap.Push(h, readyFile{rel, p.since})
	}
	out := make([]string, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(readyFile).rel
	}
	return out
}

type readyFile struct {
	rel   string
	since time.Time
}

// newestFirst is a heap of ready files whose top is the newest change.
type newestFirst []readyFile

func (h newestFirst) Len() int           { return len(h) }
func (h newestFirst) Less(i, j int) bool { return h[i].since.After(h[j].since) }
func (h newestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *newestFirst) Push(x any)        { *h = append(*h, x.(readyFile)) }
func (h *newestFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
