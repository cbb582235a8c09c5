package playout

import (
	"context"
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Limits are what transfers may do while playout is active.
type Limits struct {
	// Rate is the bytes per second that all transfers together may read
	// or write (hashing and sending both count).
	Rate int64
	// Transfers is how many transfers may run at once.
	Transfers int
	// Chunk is the largest read or write at once: an even rate, no bursts.
	Chunk int
}

// DefaultChunk is Limits.Chunk when unset: small enough that a burst
// at the paced rate is a few milliseconds of work.
const DefaultChunk = 256 << 10

// Governor paces transfers: unlimited while quiet, within Limits while
// playout is active. Safe for concurrent use; the zero value is not
// usable, use NewGovernor. A nil *Governor is quiet forever.
type Governor struct {
	limits  Limits
	active  atomic.Bool
	limiter *rate.Limiter

	mu      sync.Mutex
	running int
	changed chan struct{} // closed and replaced when running or active changes
}

// NewGovernor returns a quiet governor that applies l while active.
func NewGovernor(l Limits) *Governor {
	if l.Chunk <= 0 {
		l.Chunk = DefaultChunk
	}
	l.Transfers = max(l.Transfers, 1)
	burst := l.Chunk
	if l.Rate > 0 && l.Rate < int64(burst) {
		burst = int(l.Rate)
	}
	return &Governor{limits: l, limiter: rate.NewLimiter(rate.Inf, burst), changed: make(chan struct{})}
}

// Limits returns what the governor applies while active.
func (g *Governor) Limits() Limits { return g.limits }

// Active reports whether transfers are being held back for playout.
func (g *Governor) Active() bool { return g != nil && g.active.Load() }

// SetActive switches between quiet (full speed) and active (Limits).
func (g *Governor) SetActive(on bool) {
	if g.active.Swap(on) == on {
		return
	}
	if on && g.limits.Rate > 0 {
		g.limiter.SetLimit(rate.Limit(g.limits.Rate))
	} else {
		g.limiter.SetLimit(rate.Inf)
	}
	g.mu.Lock()
	g.signal()
	g.mu.Unlock()
}

// signal wakes Acquire's waiters; g.mu must be held.
func (g *Governor) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// Acquire waits for a transfer slot (while active, until fewer than
// Limits.Transfers run). The caller must call release when done.
func (g *Governor) Acquire(ctx context.Context) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	for {
		g.mu.Lock()
		if !g.active.Load() || g.running < g.limits.Transfers {
			g.running++
			g.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					g.mu.Lock()
					g.running--
					g.signal()
					g.mu.Unlock()
				})
			}, nil
		}
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Chunk is the largest read or write worth doing at once: unlimited
// (math.MaxInt) while quiet.
func (g *Governor) Chunk() int {
	if !g.Active() {
		return math.MaxInt
	}
	return g.limits.Chunk
}

// WaitN waits until n more bytes may move; at once while quiet. A switch
// to quiet does not cut short a wait begun (at most one chunk's worth).
func (g *Governor) WaitN(ctx context.Context, n int) error {
	if !g.Active() || g.limits.Rate <= 0 {
		return nil
	}
	for n > 0 {
		k := min(n, g.limiter.Burst())
		if err := g.limiter.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
