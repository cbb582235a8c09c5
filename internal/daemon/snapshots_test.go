package daemon

import (
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/eventlog"
	"genesissync/internal/model"
)

// TestPoolEventsOnTransitions: a degraded pool and capacity over 80 % and
// 95 % raise one event each when they start, and a notice when they end;
// an unchanged state raises nothing, minute after minute.
func TestPoolEventsOnTransitions(t *testing.T) {
	d := &Daemon{events: eventlog.New(0), zfsState: newZFSState()}
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
	d2 := &Daemon{events: eventlog.New(0), zfsState: newZFSState()}
	d2.poolEvents(model.Pool{Name: "new", Health: "FAULTED", CapacityPercent: 97})
	require.Len(t, d2.events.Recent(0), 2)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
