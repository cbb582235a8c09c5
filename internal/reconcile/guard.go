package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// deleteGuard is a share's mass-delete guard. Deletes (and a first pass's
// conflicts) are held in the pass's batch; once none joined for the quiet
// period, a batch within the thresholds is released, one over them (or
// under holdNext) trips until a person approves exactly the batch shown.
// Released paths are re-planned fresh, allowed to delete.
//
// The loop goroutine owns it; only holdNext may be called from any goroutine.
type deleteGuard struct {
	maxCount   int
	maxPercent float64
	quiet      time.Duration
	log        zerolog.Logger

	held map[string]heldDelete
	// released: allowed paths whose allowed job has not run yet; a job
	// in flight at the release must not hold them again.
	released map[string]bool
	lastAdd  time.Time
	tripped  bool
	batch    string    // ID of the tripped batch, shown to the approver
	batchAt  time.Time // lastAdd when batch was computed

	force forceRequest
}

// heldDelete is a delete the planner decided, waiting in the pass's batch.
type heldDelete struct {
	action Action
	at     time.Time
}

// forceRequest is a request (holdNext) that the next batch trips
// whatever its size.
type forceRequest struct {
	mu     sync.Mutex
	at     time.Time // when it was asked; zero = not asked
	reason string
	scan   time.Time // when the first full scan after at finished
}

// forceHoldMax bounds a hold request on a share that is never idle.
const forceHoldMax = 24 * time.Hour

func newDeleteGuard(maxCount int, maxPercent float64, quiet time.Duration, log zerolog.Logger) *deleteGuard {
	return &deleteGuard{
		maxCount: maxCount, maxPercent: maxPercent, quiet: quiet, log: log,
		held: map[string]heldDelete{}, released: map[string]bool{},
	}
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

// holds reports whether rel waits in the batch.
func (g *deleteGuard) holds(rel string) bool {
	_, ok := g.held[rel]
	return ok
}

// hold puts a job's undone delete a into the batch. It returns true
// instead when a release covered rel after the job was decided: the job
// must run again, allowed.
func (g *deleteGuard) hold(rel string, a Action, allowed bool, now time.Time) (again bool) {
	if !allowed && g.released[rel] {
		return true
	}
	if _, ok := g.held[rel]; !ok {
		g.held[rel] = heldDelete{action: a, at: now}
		g.lastAdd = now
	}
	return false
}

// ran notes that a job released by the guard ran: its release is spent.
func (g *deleteGuard) ran(rel string) { delete(g.released, rel) }

// settled takes rel out of the batch: a job dealt with it otherwise.
func (g *deleteGuard) settled(rel string) { delete(g.held, rel) }

// judge runs every tick: after the quiet period (unless paused) it trips
// or returns the released paths. idle: nothing pending or in flight;
// tracked is called only when the batch is judged.
func (g *deleteGuard) judge(now time.Time, idle, paused bool, tracked func() int) []string {
	if g.tripped && g.lastAdd.After(g.batchAt) {
		// A grown tripped batch is a new batch: the old ID must not release it.
		g.batch, g.batchAt = batchID(g.held), g.lastAdd
	}
	if g.tripped && len(g.held) == 0 {
		// Every held delete was settled otherwise (the files came back,
		// or the bucket's objects changed): nothing waits for a person.
		g.tripped, g.batch = false, ""
		g.log.Info().Msg("delete guard: every held delete was settled otherwise; nothing waits for approval")
	}
	if len(g.held) == 0 {
		g.forced(now, idle) // lets a hold request with nothing to hold expire
	}
	if len(g.held) == 0 || g.tripped || now.Sub(g.lastAdd) < g.quiet || paused {
		return nil
	}
	n := tracked()
	forced, why := g.forced(now, idle)
	if forced || Trips(len(g.held), n, g.maxCount, g.maxPercent) {
		g.tripped, g.batch, g.batchAt = true, batchID(g.held), g.lastAdd
		ev := g.log.Error().Int("deletes", len(g.held)).Int("tracked", n).Str("batch", g.batch)
		if forced {
			g.forceUsed()
			ev = ev.Str("because", why)
		}
		ev.Msg("delete guard tripped: deletes paused for this share until the batch is approved (genesissync deletes approve)")
		return nil
	}
	return g.release()
}

// release empties the batch into the returned paths, each allowed to
// delete once.
func (g *deleteGuard) release() []string {
	paths := make([]string, 0, len(g.held))
	for rel := range g.held {
		paths = append(paths, rel)
		g.released[rel] = true
	}
	clear(g.held)
	g.tripped, g.batch = false, ""
	return paths
}

// approve releases the tripped batch if id names it, returning its paths.
func (g *deleteGuard) approve(id string) ([]string, error) {
	if !g.tripped {
		return nil, errors.New("no delete batch is waiting for approval")
	}
	if g.lastAdd.After(g.batchAt) {
		g.batch, g.batchAt = batchID(g.held), g.lastAdd
	}
	if id != g.batch {
		return nil, fmt.Errorf("batch %s is not the waiting batch (%s): review it again", id, g.batch)
	}
	g.log.Warn().Str("batch", id).Int("deletes", len(g.held)).Msg("delete batch approved")
	return g.release(), nil
}

// guardView is the guard's state as the status shows it.
type guardView struct {
	held      []HeldDelete // by path, at most n
	count     int
	conflicts int // how many held are a first pass's conflicts
	tripped   bool
	batch     string
}

// view lists the batch, sorted by path, at most n of it.
func (g *deleteGuard) view(n int) guardView {
	v := guardView{held: make([]HeldDelete, 0, min(len(g.held), n)), count: len(g.held), tripped: g.tripped, batch: g.batch}
	for p, h := range g.held {
		v.held = append(v.held, HeldDelete{Path: p, Action: h.action.String()})
		if h.action == Conflict {
			v.conflicts++
		}
	}
	sort.Slice(v.held, func(i, j int) bool { return v.held[i].Path < v.held[j].Path })
	v.held = v.held[:min(len(v.held), n)]
	return v
}

// holdNext asks that the next batch trip whatever its size (see
// Share.HoldNextDeletes for how long the request lasts). Safe for
// concurrent use.
func (g *deleteGuard) holdNext(reason string, now time.Time) {
	g.force.mu.Lock()
	g.force.at, g.force.reason, g.force.scan = now, reason, time.Time{}
	g.force.mu.Unlock()
}

// forced reports whether the current batch must trip whatever its size,
// and clears the request once it has nothing left to hold.
func (g *deleteGuard) forced(now time.Time, idle bool) (bool, string) {
	f := &g.force
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at.IsZero() {
		return false, ""
	}
	if len(g.held) > 0 {
		return true, f.reason
	}
	// Used up once the scan after the request finished and nothing waits:
	// a delete may queue behind a rollback's uploads.
	settled := !f.scan.IsZero() && now.Sub(f.scan) > g.quiet && idle
	if settled || now.Sub(f.at) > forceHoldMax {
		f.at, f.reason, f.scan = time.Time{}, "", time.Time{}
	}
	return false, ""
}

// forceUsed clears the request once a batch tripped under it.
func (g *deleteGuard) forceUsed() {
	g.force.mu.Lock()
	g.force.at, g.force.reason, g.force.scan = time.Time{}, "", time.Time{}
	g.force.mu.Unlock()
}

// scanDone notes a finished full scan that started at started.
func (g *deleteGuard) scanDone(started time.Time) {
	f := &g.force
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.at.IsZero() && f.scan.IsZero() && !started.Before(f.at) {
		f.scan = time.Now()
	}
}
