package snapshot

import (
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/eventlog"
	"genesissync/internal/model"
)

// capacityPools is pool health at the capacity thresholds warn and crit,
// with its events in the returned log, as the daemon records them.
func capacityPools(warn, crit float64) (*Pools, *eventlog.Log) {
	events := eventlog.New(0)
	add := func(level, kind, msg string) {
		events.Add(eventlog.Event{Level: level, Kind: kind, Message: msg})
	}
	return NewPools(PoolOptions{CapacityWarning: warn, CapacityCritical: crit, Event: add}), events
}

// TestPoolEventsOnTransitions: a degraded pool and capacity over 80 % and
// 95 % (the default thresholds) raise one event each when they start, and
// a notice when they end; an unchanged state raises nothing, minute after
// minute.
func TestPoolEventsOnTransitions(t *testing.T) {
	p, events := capacityPools(config.DefaultCapacityWarning, config.DefaultCapacityCritical)
	kinds := func() []string {
		var out []string
		for _, e := range events.Recent(0) {
			out = append([]string{e.Level + " " + e.Kind}, out...) // oldest first
		}
		return out
	}
	ok := model.Pool{Name: "tank", Health: "ONLINE", Healthy: true, CapacityPercent: 50}
	steps := []struct {
		pool model.Pool
		want []string
	}{
		{ok, nil},
		{ok, nil},
		{model.Pool{Name: "tank", Health: "ONLINE", Healthy: true, CapacityPercent: 81}, []string{"warning pool.capacity"}},
		{model.Pool{Name: "tank", Health: "ONLINE", Healthy: true, CapacityPercent: 85}, nil},
		{model.Pool{Name: "tank", Health: "ONLINE", Healthy: true, CapacityPercent: 96}, []string{"error pool.capacity"}},
		{model.Pool{Name: "tank", Health: "DEGRADED", Problem: "one device faulted", CapacityPercent: 96}, []string{"error pool.degraded"}},
		{model.Pool{Name: "tank", Health: "DEGRADED", Problem: "one device faulted", CapacityPercent: 96}, nil},
		{model.Pool{Name: "tank", Error: "zpool: not answering"}, nil}, // unreadable: no transition
		{ok, []string{"info pool.recovered", "info pool.capacity"}},
		{ok, nil},
		// ONLINE but zpool status -x reports a problem.
		{model.Pool{Name: "tank", Health: "ONLINE", Problem: "label missing", CapacityPercent: 50}, []string{"error pool.degraded"}},
	}
	seen := 0
	for i, s := range steps {
		p.observe(s.pool)
		all := kinds()
		require.Equal(t, s.want, nilIfEmpty(all[seen:]), "step %d", i)
		seen = len(all)
	}
	// A pool first seen full or degraded raises at once.
	p2, events2 := capacityPools(config.DefaultCapacityWarning, config.DefaultCapacityCritical)
	p2.observe(model.Pool{Name: "new", Health: "FAULTED", CapacityPercent: 97})
	require.Len(t, events2.Recent(0), 2)
}

// TestPoolEventsFollowConfiguredCapacity: the capacity events cross the
// configured alerts.capacity_warning and capacity_critical, the same
// thresholds as the pool_capacity alert, not fixed ones.
func TestPoolEventsFollowConfiguredCapacity(t *testing.T) {
	p, events := capacityPools(60, 70)
	pool := func(pct float64) model.Pool {
		return model.Pool{Name: "tank", Health: "ONLINE", Healthy: true, CapacityPercent: pct}
	}
	p.observe(pool(50))
	require.Empty(t, events.Recent(0))
	p.observe(pool(65))
	ev := events.Recent(1)[0]
	require.Equal(t, eventlog.Warning+" pool.capacity", ev.Level+" "+ev.Kind)
	require.Equal(t, "pool tank is 65% full (over 60%)", ev.Message)
	p.observe(pool(75))
	ev = events.Recent(1)[0]
	require.Equal(t, eventlog.Error+" pool.capacity", ev.Level+" "+ev.Kind)
	require.Equal(t, "pool tank is 75% full (over 70%)", ev.Message)
	p.observe(pool(59))
	require.Equal(t, "pool tank is back to 59% full", events.Recent(1)[0].Message)

	// Fractional thresholds are named as configured.
	p, events = capacityPools(85.5, 97.5)
	p.observe(pool(84))
	require.Empty(t, events.Recent(0), "under 85.5 %: no event, whatever the old fixed 80 %")
	p.observe(pool(86))
	require.Equal(t, "pool tank is 86% full (over 85.5%)", events.Recent(1)[0].Message)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
