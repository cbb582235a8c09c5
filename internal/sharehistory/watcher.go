package sharehistory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

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
	store  Store // nil: the series live in memory only
	log    zerolog.Logger

	mu   sync.Mutex
	hist map[string]*history // by share name
}

// New returns a watcher of shares that has sampled nothing yet.
func New(shares []Share) *Watcher {
	return &Watcher{shares: shares, hist: map[string]*history{}}
}

// Store keeps each share's day of history across restarts (the index).
// Load returns nil and no error for a share with nothing saved.
type Store interface {
	LoadHistory(share string) ([]byte, error)
	SaveHistory(share string, b []byte) error
}

// saveEvery is how often Run saves the series to the Store; a crash
// loses at most this much of the charts.
const saveEvery = 5 * time.Minute

// Persist makes the watcher keep its series in store: it loads what was
// saved for its shares now (a share whose saved history cannot be read
// starts empty, logged to log), and Run saves every 5 minutes and when it
// ends. Call it before Run.
func (w *Watcher) Persist(store Store, log zerolog.Logger) {
	w.store, w.log = store, log
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, sh := range w.shares {
		b, err := store.LoadHistory(sh.Name)
		if err == nil && b == nil {
			continue
		}
		h := &history{}
		if err == nil {
			err = h.series.unmarshal(b, now)
		}
		if err != nil {
			log.Warn().Err(err).Str("share", sh.Name).Msg("saved share history unreadable; its charts start empty")
			continue
		}
		w.hist[sh.Name] = h
	}
}

// Run samples at once and then every 2 s until ctx ends, saving the
// series as Persist says. It always returns nil.
func (w *Watcher) Run(ctx context.Context) error {
	saved := time.Now()
	periodic.Run(ctx, sampleEvery, func() {
		w.Sample()
		if time.Since(saved) >= saveEvery {
			w.Save()
			saved = time.Now()
		}
	})
	w.Save()
	return nil
}

// Save writes every share's series to the Store (nothing without one).
// A failed write is logged; the next save writes it all again.
func (w *Watcher) Save() {
	if w.store == nil {
		return
	}
	w.mu.Lock()
	blobs := make(map[string][]byte, len(w.hist))
	for name, h := range w.hist {
		b, err := h.series.marshal()
		if err != nil {
			w.log.Warn().Err(err).Str("share", name).Msg("share history not saved")
			continue
		}
		blobs[name] = b
	}
	w.mu.Unlock()
	for name, b := range blobs {
		if err := w.store.SaveHistory(name, b); err != nil {
			w.log.Warn().Err(err).Str("share", name).Msg("share history not saved")
		}
	}
}

// History is the share's last day by the minute, oldest first: what the
// status page charts. Empty for a share not sampled yet, or a nil
// *Watcher.
func (w *Watcher) History(share string) []model.HistoryPoint {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if h := w.hist[share]; h != nil {
		return h.series.model()
	}
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
