package bench

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want float64
	}{
		{"odd", []float64{3, 1, 2}, 2},
		{"even", []float64{4, 1, 3, 2}, 2.5},
		{"one", []float64{7}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			require.Equal(t, tc.want, median(tc.in))
			require.Equal(t, in, tc.in, "median sorted its input")
		})
	}
	require.True(t, math.IsNaN(median(nil)))
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1000; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{
		{50, 500 * time.Millisecond},
		{99, 990 * time.Millisecond},
		{99.9, 999 * time.Millisecond},
		{100, time.Second},
		{0.01, time.Millisecond},
	} {
		require.Equal(t, tc.want, percentile(ds, tc.p), "p%g", tc.p)
	}
	require.Zero(t, percentile(nil, 50))
}

func TestOrderRotates(t *testing.T) {
	first := map[string]bool{}
	for r := range len(tools) {
		o := order(r)
		require.ElementsMatch(t, tools, o)
		first[o[0]] = true
	}
	require.Len(t, first, len(tools), "every tool goes first once in len(tools) rounds")
}

func TestSpeedupsAndJudge(t *testing.T) {
	rep := &Report{}
	rep.add("upload x", toolGS, []float64{2, 2, 2}, 100, "MiB/s")
	rep.add("upload x", toolMC, []float64{3, 3, 3}, 100, "MiB/s")
	rep.add("upload x", toolGS+" (scan only)", []float64{1}, 1, "files/s")
	rep.speedups()
	require.InDelta(t, 1.5, rep.find("upload x", toolMC, "time").Speedup, 1e-9)
	require.Zero(t, rep.find("upload x", toolGS+" (scan only)", "time").Speedup, "a GenesisSync row is no peer")
	require.InDelta(t, 50, rep.find("upload x", toolGS, "time").Rate, 1e-9)

	rep.judge("met", "≥ 1.2×", 1.5, "%.2f×", true)
	rep.judge("missing", "≥ 1.2×", math.NaN(), "%.2f×", true)
	require.True(t, rep.Targets[0].Met)
	require.False(t, rep.Targets[1].Met, "a target without its measurement is not met")
	require.Equal(t, "not measured", rep.Targets[1].Got)
}
