package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"genesissync/internal/restore"
)

// Job kinds.
const (
	Verify  = "verify"
	Restore = "restore"
)

// Job states.
const (
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// Job is a verify or restore job as the admin API reports it. A Job
// returned by the Table is a copy, safe to read without locks.
type Job struct {
	ID        string           `json:"id"`
	Kind      string           `json:"kind"`
	Share     string           `json:"share"`
	State     string           `json:"state"`
	StartedAt time.Time        `json:"started_at"`
	Progress  restore.Progress `json:"progress"`
	// Verify is a finished verify's report, Restore a finished restore's
	// result (also set, partly, when the restore failed midway).
	Verify  *restore.Report `json:"verify,omitempty"`
	Restore *restore.Result `json:"restore,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// Handle is a running job's entry in the table, for the goroutine doing
// its work: Progress and Finish go through the table's lock.
type Handle struct {
	t  *Table
	st *Job
}

// ID is the job's id.
func (h *Handle) ID() string { return h.st.ID }

// Progress records the job's progress.
func (h *Handle) Progress(p restore.Progress) {
	h.t.mu.Lock()
	defer h.t.mu.Unlock()
	h.st.Progress = p
}

// Finish records the job's end: Done, or Failed with err's message; then
// result (may be nil) sets its report under the lock.
func (h *Handle) Finish(err error, result func(*Job)) {
	t := h.t
	t.mu.Lock()
	defer t.mu.Unlock()
	h.st.State = Done
	if err != nil {
		h.st.State, h.st.Error = Failed, err.Error()
	}
	if result != nil {
		result(h.st)
	}
	delete(t.running, h.st.Share)
	if h.st.Kind == Verify {
		t.last[h.st.Share] = h.st
	}
}

// Table keeps the jobs of one daemon run. Safe for concurrent use.
type Table struct {
	mu      sync.Mutex
	byID    map[string]*Job
	order   []string
	running map[string]string // share -> running job id
	last    map[string]*Job   // share -> its last finished verify
	next    map[string]time.Time
	parent  context.Context
}

// keep is how many jobs the table remembers; the oldest finished ones
// are forgotten first.
const keep = 50

// New returns an empty table whose jobs run under context.Background
// until SetParent.
func New() *Table {
	return &Table{
		byID: map[string]*Job{}, running: map[string]string{},
		last: map[string]*Job{}, next: map[string]time.Time{}, parent: context.Background(),
	}
}

// SetParent sets the context that jobs begun from now on run under: the
// daemon's, so that they end with it.
func (t *Table) SetParent(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.parent = ctx
}

// Begin registers a running job of kind for share and returns its handle
// and the context its work runs under; it fails while another job of the
// share runs.
func (t *Table) Begin(share, kind string) (*Handle, context.Context, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.running[share]; ok {
		return nil, nil, fmt.Errorf("share %s: %s job %s is still running", share, t.byID[id].Kind, id)
	}
	st := &Job{ID: newID(), Kind: kind, Share: share, State: Running, StartedAt: time.Now().UTC()}
	t.byID[st.ID] = st
	t.order = append(t.order, st.ID)
	for len(t.order) > keep {
		if old := t.byID[t.order[0]]; old != nil && old.State == Running {
			break
		}
		delete(t.byID, t.order[0])
		t.order = t.order[1:]
	}
	t.running[share] = st.ID
	return &Handle{t: t, st: st}, t.parent, nil
}

// Get returns the share's job of kind with id.
func (t *Table) Get(share, kind, id string) (Job, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.byID[id]
	if !ok || st.Share != share || st.Kind != kind {
		return Job{}, false
	}
	return *st, true
}

// SetNext records when the share's next scheduled verify runs.
func (t *Table) SetNext(share string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next[share] = at
}

// Share is what the table knows of one share's jobs.
type Share struct {
	Running    *Job      // the running job, nil when none runs
	LastVerify *Job      // the last finished verify, nil before the first
	NextVerify time.Time // the next scheduled verify; zero when none is scheduled
}

// Share returns copies of the share's running job, last verify and next
// scheduled verify.
func (t *Table) Share(share string) Share {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Share{NextVerify: t.next[share]}
	if id, ok := t.running[share]; ok {
		j := *t.byID[id]
		s.Running = &j
	}
	if last := t.last[share]; last != nil {
		j := *last
		s.LastVerify = &j
	}
	return s
}

func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
