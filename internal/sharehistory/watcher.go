package sharehistory

import (
	"context"
	"slices"
	"sync"
	"time"

	"genesissync/internal/model"
	"genesissync/internal/periodic"
	"genesissync/internal/reconcile"
)

// sampleEvery is how often the Watcher samples each share's status.
const sampleEvery = 2 * time.Second

// Share is one share the Watcher samples: its name and its pipeline's
// status (reconcile.Share.Status), which must be safe to call from the
// Watcher's goroutine.
type Share struct {
	Name   string
	Status func() reconcile.Status
}

// Watcher keeps each share's history. Run samples until its context
// ends; Sample and Fill may be called from any goroutine. A nil
// *Watcher has seen nothing.
type Watcher struct {
	shares []Share

	mu   sync.Mutex
	hist map[string]*history // by share name
}

// New returns a watcher of shares that has sampled nothing yet.
func New(shares []Share) *Watcher {
	return &Watcher{shares: shares, hist: map[string]*history{}}
}

// Run samples at once and then every 2 s until ctx ends. It always
// returns nil.
func (w *Watcher) Run(ctx context.Context) error {
	periodic.Run(ctx, sampleEvery, w.Sample)
	return nil
}

// Sample takes one sample of every share's status, now.
func (w *Watcher) Sample() {
	now := time.Now()
	for _, sh := range w.shares {
		st := sh.Status()
		w.mu.Lock()
		h := w.hist[sh.Name]
		if h == nil {
			h = &history{}
			w.hist[sh.Name] = h
		}
		h.observe(st, now)
		w.mu.Unlock()
	}
}

// Fill adds the share's history to sh: its recent errors (an empty
// list, never nil, for the JSON) and, once it has been sampled, its
// upload and download rates and its adoption pace.
func (w *Watcher) Fill(sh *model.Share) {
	sh.RecentErrors = []reconcile.Failure{}
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.hist[sh.Name]
	if h == nil {
		return
	}
	sh.RecentErrors = slices.Clone(h.errors)
	sh.UploadBytesPerSecond, sh.DownloadBytesPerSecond = h.rates()
	h.adoptionPace(&sh.Adopted)
}
