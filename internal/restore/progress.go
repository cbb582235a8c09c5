package restore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultProgressInterval is how often a progress callback is called
// while work runs, when the options say 0.
const DefaultProgressInterval = 500 * time.Millisecond

// tracker counts concurrent workers' progress and reports it to fn every
// interval from its own goroutine (run to stop).
type tracker struct {
	fn       func(Progress)
	interval time.Duration
	now      func() time.Time

	files, filesTotal atomic.Int64
	bytes, bytesTotal atomic.Int64

	mu    sync.Mutex
	phase string
	start time.Time

	done chan struct{}
	wg   sync.WaitGroup
}

func newTracker(fn func(Progress), interval time.Duration) *tracker {
	if interval <= 0 {
		interval = DefaultProgressInterval
	}
	t := &tracker{fn: fn, interval: interval, now: time.Now, done: make(chan struct{})}
	t.start = t.now()
	return t
}

// setPhase starts a phase with its totals; rate and ETA count from here.
func (t *tracker) setPhase(phase string, files int, bytes int64) {
	t.mu.Lock()
	t.phase, t.start = phase, t.now()
	t.mu.Unlock()
	t.files.Store(0)
	t.bytes.Store(0)
	t.filesTotal.Store(int64(files))
	t.bytesTotal.Store(bytes)
}

func (t *tracker) snapshot() Progress {
	t.mu.Lock()
	phase, start := t.phase, t.start
	t.mu.Unlock()
	p := Progress{
		Phase: phase, Files: int(t.files.Load()), FilesTotal: int(t.filesTotal.Load()),
		Bytes: t.bytes.Load(), BytesTotal: t.bytesTotal.Load(), Elapsed: t.now().Sub(start),
	}
	if s := p.Elapsed.Seconds(); s > 0 {
		p.Rate = float64(p.Bytes) / s
	}
	switch {
	case p.Rate > 0 && p.BytesTotal > p.Bytes:
		p.ETA = time.Duration(float64(p.BytesTotal-p.Bytes) / p.Rate * float64(time.Second))
	case p.BytesTotal == 0 && p.Files > 0 && p.FilesTotal > p.Files:
		p.ETA = time.Duration(float64(p.Elapsed) / float64(p.Files) * float64(p.FilesTotal-p.Files))
	}
	return p
}

// run calls fn periodically until stop or ctx ends.
func (t *tracker) run(ctx context.Context) {
	if t.fn == nil {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(t.interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.done:
				return
			case <-tick.C:
				t.fn(t.snapshot())
			}
		}
	}()
}

// stop ends the periodic calls and makes one last call in phase "done".
func (t *tracker) stop() {
	close(t.done)
	t.wg.Wait()
	if t.fn != nil {
		t.mu.Lock()
		t.phase = "done"
		t.mu.Unlock()
		t.fn(t.snapshot())
	}
}

// countingReader adds what passes through it to a tracker.
type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// each runs fn(ctx, i) for i in [0, n), at most limit at once, counting
// finished files; it starts none after ctx ends and waits for the started.
func (t *tracker) each(ctx context.Context, n, limit int, fn func(ctx context.Context, i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(ctx, i)
			t.files.Add(1)
		}()
	}
	wg.Wait()
}
