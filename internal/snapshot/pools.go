package snapshot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"genesissync/internal/model"
	"genesissync/internal/zfs"
)

// healthEvery is the period of the pool and dataset health checks;
// healthTimeout bounds one round of them.
const (
	healthEvery   = time.Minute
	healthTimeout = 30 * time.Second
)

// Event kinds of pool health, passed to PoolOptions.Event.
const (
	KindPoolDegraded  = "pool.degraded"
	KindPoolRecovered = "pool.recovered"
	KindPoolCapacity  = "pool.capacity"
)

// PoolOptions configure Pools.
type PoolOptions struct {
	// Datasets are the datasets under the shares; the pools they live on
	// are watched, each once.
	Datasets []string
	// CapacityWarning and CapacityCritical are the capacity thresholds in
	// percent (config's alerts.capacity_warning and capacity_critical),
	// the same the pool_capacity alert uses.
	CapacityWarning, CapacityCritical float64
	// Event is told when a pool degrades or recovers and when its capacity
	// crosses a threshold; nil drops them. It must not block.
	Event func(level, kind, message string)
}

// Pools is the health of the pools under a daemon's shares: each read
// through package zfs every minute, with events on transitions. NewPools
// builds it; Run checks until its context ends; Status may be called from
// any goroutine at any time, and on a nil *Pools.
type Pools struct {
	o     PoolOptions
	names []string // the pools, in the order of the datasets

	mu       sync.Mutex
	pools    map[string]model.Pool // by pool, as last read
	capLevel map[string]int        // by pool: 0, 1 (capacity warning), 2 (critical)
	bad      map[string]bool       // by pool: degraded or not healthy
}

// NewPools returns the pools under o.Datasets; nothing is read until Run.
func NewPools(o PoolOptions) *Pools {
	p := &Pools{o: o, pools: map[string]model.Pool{}, capLevel: map[string]int{}, bad: map[string]bool{}}
	for _, ds := range o.Datasets {
		if name := poolOf(ds); !slices.Contains(p.names, name) {
			p.names = append(p.names, name)
		}
	}
	return p
}

// poolOf is the pool a dataset lives on.
func poolOf(dataset string) string {
	p, _, _ := strings.Cut(dataset, "/")
	return p
}

// Run reads every pool at once and then every minute until ctx ends;
// without pools it returns at once. It always returns nil.
func (p *Pools) Run(ctx context.Context) error {
	if len(p.names) == 0 {
		return nil
	}
	everyMinute(ctx, p.check)
	return nil
}

// everyMinute runs check now and then every healthEvery until ctx ends.
func everyMinute(ctx context.Context, check func(context.Context)) {
	for {
		check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(healthEvery):
		}
	}
}

// check reads every pool once and raises events on transitions.
func (p *Pools) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	for _, name := range p.names {
		pool := readPool(ctx, name)
		if ctx.Err() != nil {
			return
		}
		p.observe(pool)
		p.mu.Lock()
		p.pools[name] = pool
		p.mu.Unlock()
	}
}

// Status is the health of the pools as last read, by name; an empty
// list, not nil, when none was read.
func (p *Pools) Status() []model.Pool {
	if p == nil {
		return []model.Pool{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]model.Pool, 0, len(p.pools))
	for _, pool := range p.pools {
		out = append(out, pool)
	}
	slices.SortFunc(out, func(a, b model.Pool) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// readPool is one pool's model.Pool.
func readPool(ctx context.Context, pool string) model.Pool {
	p := model.Pool{Name: pool, CheckedAt: time.Now()}
	info, err := zfs.PoolStatus(ctx, pool)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Health, p.CapacityPercent = info.Health, float64(info.CapacityPercent)
	p.Size, p.Allocated, p.Free, p.SizesExact = info.Size, info.Allocated, info.Free, info.SizesExact
	p.Scan = info.Scan.State
	if t, ok := info.LastScrub(); ok {
		p.LastScrub = t
	}
	ok, msg, err := zfs.Healthy(ctx, pool)
	switch {
	case err != nil:
		p.Error = err.Error()
	case ok:
		p.Healthy = true
	default:
		p.Problem = msg
	}
	return p
}

func (p *Pools) event(level, kind, msg string) {
	if p.o.Event != nil {
		p.o.Event(level, kind, msg)
	}
}

// observe raises events for what changed since pool's last state:
// degraded or back, capacity over a threshold or back under it.
func (p *Pools) observe(pool model.Pool) {
	capacityWarn, capacityCritical := p.o.CapacityWarning, p.o.CapacityCritical
	if pool.Error != "" && pool.Health == "" {
		return // not read: no transition to report
	}
	p.mu.Lock()
	wasBad, knownBad := p.bad[pool.Name]
	wasLevel, knownLevel := p.capLevel[pool.Name]
	bad := pool.Health != "ONLINE" || (!pool.Healthy && pool.Error == "")
	level := 0
	switch {
	case pool.CapacityPercent >= capacityCritical:
		level = 2
	case pool.CapacityPercent >= capacityWarn:
		level = 1
	}
	p.bad[pool.Name], p.capLevel[pool.Name] = bad, level
	p.mu.Unlock()

	if bad && (!knownBad || !wasBad) {
		msg := fmt.Sprintf("pool %s is %s", pool.Name, pool.Health)
		if pool.Problem != "" {
			msg += ": " + firstLines(pool.Problem, 3)
		}
		p.event(LevelError, KindPoolDegraded, msg)
	} else if !bad && knownBad && wasBad {
		p.event(LevelInfo, KindPoolRecovered, fmt.Sprintf("pool %s is healthy again (%s)", pool.Name, pool.Health))
	}
	if !knownLevel {
		wasLevel = 0
	}
	switch {
	case level > wasLevel:
		lv, limit := LevelWarning, capacityWarn
		if level == 2 {
			lv, limit = LevelError, capacityCritical
		}
		p.event(lv, KindPoolCapacity, fmt.Sprintf("pool %s is %.0f%% full (over %g%%)", pool.Name, pool.CapacityPercent, limit))
	case level < wasLevel:
		p.event(LevelInfo, KindPoolCapacity, fmt.Sprintf("pool %s is back to %.0f%% full", pool.Name, pool.CapacityPercent))
	}
}

// firstLines is s's first n lines, trimmed, joined by "; ".
func firstLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	for i := range ls {
		ls[i] = strings.TrimSpace(ls[i])
	}
	return strings.Join(ls[:min(n, len(ls))], "; ")
}
