package bench

import (
	"math"
	"os"
	"syscall"
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

// TestCPUNow reads this process's CPU time (standing in for MinIO's)
// around a busy loop that runs until getrusage counts 0.3 s more CPU:
// /proc agrees, and the machine's counter includes it.
func TestCPUNow(t *testing.T) {
	used := func() float64 {
		var ru syscall.Rusage
		require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	before, from := cpuNow(t, os.Getpid()), used()
	for used()-from < 0.3 {
	}
	after, spent := cpuNow(t, os.Getpid()), used()-from
	self := after.minio - before.minio
	require.InDelta(t, spent, self, 0.05, "this process's CPU seconds by /proc against getrusage")
	require.GreaterOrEqual(t, after.machine-before.machine, self-0.05, "the machine's CPU seconds include this process's")
}

func TestParseCPULine(t *testing.T) {
	got, err := parseCPULine("cpu  2669602 6128 750137 4498197 128819 0 54672 91394 7 9")
	require.NoError(t, err)
	require.Equal(t, 91394.0, got.steal)
	require.Equal(t, 2669602.0+6128+750137+4498197+128819+0+54672+91394, got.all, "guest time is in user already")
	require.Equal(t, 2669602.0+6128+750137+0+54672+91394, got.busy, "busy is all but idle and iowait")
	_, err = parseCPULine("cpu0 1 2 3 4 5 6 7 8")
	require.Error(t, err)
	_, err = parseCPULine("cpu 1 2 3")
	require.Error(t, err)
}
