package daemon

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/config"
	"genesissync/internal/endpoints"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
	"genesissync/internal/samba"
)

// Periods of the box's watchers.
const (
	shareWatchEvery = 2 * time.Second
	// rateWindow is the span over which throughput is averaged.
	rateWindow = time.Minute
	// recentErrors is how many distinct errors a share keeps for the page.
	recentErrors = 20
)

// box is what the daemon learns about the appliance beside the
// pipelines: each share's recent errors and throughput. Written by the
// watcher startBox starts, read by Snapshot; all fields guarded by mu.
type box struct {
	mu     sync.Mutex
	shares map[string]*shareWatch
}

// shareWatch is one share's history as sampled by the share watcher.
type shareWatch struct {
	errors  []reconcile.Failure // newest first
	samples []rateSample        // oldest first, within rateWindow
}

type rateSample struct {
	at       time.Time
	up, down int64
	proof    int64 // bytes adoption proofs read (share and bucket)
}

func newBox() *box { return &box{shares: map[string]*shareWatch{}} }

func (d *Daemon) box() *box { return d.boxState }

// newBox builds the targets' endpoint health from the running shares
// and the SMB clients watcher (when Samba is managed); Run calls it
// before anything that reads the status starts.
func (d *Daemon) newBox() {
	log := d.log.With().Str("component", "box").Logger()
	var stores []endpoints.Share
	for _, rt := range d.runtimes {
		stores = append(stores, endpoints.Share{Name: rt.name, Store: rt.store})
	}
	d.endpoints = endpoints.New(stores, endpoints.Options{}, log, d.events)
	if d.cfg.Samba.Mode != config.SambaOff {
		d.clients = samba.NewClientsWatcher(d.cfg, log)
	}
}

// startBox starts the endpoint probes, the SMB clients watcher (when
// Samba is managed) and the share watcher in g.
func (d *Daemon) startBox(ctx context.Context, g *errgroup.Group) error {
	g.Go(func() error { return d.endpoints.Run(ctx) })
	if d.clients != nil {
		g.Go(func() error { return d.clients.Run(ctx) })
	}
	g.Go(func() error { return d.watchShares(ctx) })
	return nil
}

// every runs fn at once and then every period until ctx ends.
func every(ctx context.Context, period time.Duration, fn func()) error {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// watchShares samples each share's status: its last error (kept in a
// short list, so that the page shows more than the latest) and its
// transfer counters (for throughput). An error that is replaced by
// another within one period is not seen; the count of errors is exact in
// the share's status.
func (d *Daemon) watchShares(ctx context.Context) error {
	b := d.box()
	return every(ctx, shareWatchEvery, func() {
		now := time.Now()
		for _, rt := range d.runtimes {
			st := rt.share.Status()
			b.mu.Lock()
			w := b.shares[rt.name]
			if w == nil {
				w = &shareWatch{}
				b.shares[rt.name] = w
			}
			w.observe(st, now)
			b.mu.Unlock()
		}
	})
}

// observe records the share's status as sampled at now: a new last
// error, and the transfer counters. Caller holds the box's mu.
func (w *shareWatch) observe(st reconcile.Status, now time.Time) {
	if e := st.LastError; e != nil && (len(w.errors) == 0 || w.errors[0] != *e) {
		w.errors = append([]reconcile.Failure{*e}, w.errors[:min(len(w.errors), recentErrors-1)]...)
	}
	w.samples = append(w.samples, rateSample{at: now, up: st.UploadedBytes, down: st.DownloadedBytes,
		proof: st.Adopted.HashedBytes + st.Adopted.BytesRead})
	cut := 0 // keep at least two samples, else those within the window
	for cut < len(w.samples)-2 && now.Sub(w.samples[cut].at) > rateWindow {
		cut++
	}
	w.samples = w.samples[cut:]
}

// rates are the upload and download bytes per second over the samples.
func (w *shareWatch) rates() (up, down float64) {
	return w.rate(func(r rateSample) int64 { return r.up }), w.rate(func(r rateSample) int64 { return r.down })
}

// rate is the growth per second of one counter over the samples.
func (w *shareWatch) rate(counter func(rateSample) int64) float64 {
	n := len(w.samples)
	if n < 2 {
		return 0
	}
	first, last := w.samples[0], w.samples[n-1]
	dt := last.at.Sub(first.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(max(counter(last)-counter(first), 0)) / dt
}

// adoptionPace fills in how fast adoption proofs read and the time left
// at that pace for what is still to prove.
func (w *shareWatch) adoptionPace(ad *reconcile.Adoption) {
	ad.BytesPerSecond = w.rate(func(r rateSample) int64 { return r.proof })
	ad.SecondsLeft = 0
	if ad.Pending > 0 && ad.BytesPerSecond > 0 {
		ad.SecondsLeft = float64(ad.PendingBytes) / ad.BytesPerSecond
	}
}

// fillBox adds what the box knows to snap: endpoints, SMB clients, and
// per share the recovery point target, recent errors and throughput.
func (d *Daemon) fillBox(snap *model.Snapshot) {
	b := d.box()
	b.mu.Lock()
	defer b.mu.Unlock()
	snap.Endpoints = d.endpoints.Status()
	snap.Clients = d.clients.Status()
	for i := range snap.Shares {
		sh := &snap.Shares[i]
		if sc := d.cfg.Shares[sh.Name]; sc != nil {
			sh.StaleAfterSeconds = sc.StaleAfter.Seconds()
		}
		sh.RecentErrors = []reconcile.Failure{}
		w := b.shares[sh.Name]
		if w == nil {
			continue
		}
		sh.RecentErrors = slices.Clone(w.errors)
		sh.UploadBytesPerSecond, sh.DownloadBytesPerSecond = w.rates()
		w.adoptionPace(&sh.Adopted)
	}
}
