package daemon

import (
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/eventlog"
	"genesissync/internal/model"
)

// capacityConfig has the alert capacity thresholds at warn and crit.
func capacityConfig(warn, crit float64) *config.Config {
	return &config.Config{Alerts: config.Alerts{CapacityWarning: warn, CapacityCritical: crit}}
}

// TestPoolEventsOnTransitions: a degraded pool and capacity over 80 % and
// 95 % (the default thresholds) raise one event each when they start, and
// a notice when they end; an unchanged state raises nothing, minute after
// minute.
func TestPoolEventsOnTransitions(t *testing.T) {
	cfg := capacityConfig(config.DefaultCapacityWarning, config.DefaultCapacityCritical)
	d := &Daemon{cfg: cfg, events: eventlog.New(0), zfsState: newZFSState()}
	kinds := func() []string {
		var out []string
		for _, e := range d.events.Recent(0) {
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
		d.poolEvents(s.pool)
		all := kinds()
		require.Equal(t, s.want, nilIfEmpty(all[seen:]), "step %d", i)
		seen = len(all)
	}
	// A pool first seen full or degraded raises at once.
	d2 := &Daemon{cfg: cfg, events: eventlog.New(0), zfsState: newZFSState()}
	d2.poolEvents(model.Pool{Name: "new", Health: "FAULTED", CapacityPercent: 97})
	require.Len(t, d2.events.Recent(0), 2)
}

// TestPoolEventsFollowConfiguredCapacity: the capacity events cross the
// configured alerts.capacity_warning and capacity_critical, the same
// thresholds as the pool_capacity alert, not fixed ones.
func TestPoolEventsFollowConfiguredCapacity(t *testing.T) {
	d := &Daemon{cfg: capacityConfig(60, 70), events: eventlog.New(0), zfsState: newZFSState()}
	pool := func(pct float64) model.Pool {
		return model.Pool{Name: "tank", Health: "ONLINE", Healthy: true, CapacityPercent: pct}
	}
	d.poolEvents(pool(50))
	require.Empty(t, d.events.Recent(0))
	d.poolEvents(pool(65))
	ev := d.events.Recent(1)[0]
	require.Equal(t, eventlog.Warning+" pool.capacity", ev.Level+" "+ev.Kind)
	require.Equal(t, "pool tank is 65% full (over 60%)", ev.Message)
	d.poolEvents(pool(75))
	ev = d.events.Recent(1)[0]
	require.Equal(t, eventlog.Error+" pool.capacity", ev.Level+" "+ev.Kind)
	require.Equal(t, "pool tank is 75% full (over 70%)", ev.Message)
	d.poolEvents(pool(59))
	require.Equal(t, "pool tank is back to 59% full", d.events.Recent(1)[0].Message)

	// Fractional thresholds are named as configured.
	d = &Daemon{cfg: capacityConfig(85.5, 97.5), events: eventlog.New(0), zfsState: newZFSState()}
	d.poolEvents(pool(84))
	require.Empty(t, d.events.Recent(0), "under 85.5 %: no event, whatever the old fixed 80 %")
	d.poolEvents(pool(86))
	require.Equal(t, "pool tank is 86% full (over 85.5%)", d.events.Recent(1)[0].Message)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
