package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// userHZ is the unit of the CPU times in /proc (USER_HZ, 100 on every
// Linux architecture Go runs the appliance on).
const userHZ = 100

// cpuTimes is CPU time consumed since boot, in seconds: by MinIO's process
// (all its threads) and by the whole machine (every state but idle and
// iowait).
type cpuTimes struct{ minio, machine float64 }

// cpuNow reads both from /proc.
func cpuNow(b testing.TB, minioPid int) cpuTimes {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", minioPid))
	require.NoError(b, err)
	// The command name may hold spaces; the fields after it do not.
	i := strings.LastIndexByte(string(stat), ')')
	require.Positive(b, i, "/proc/%d/stat", minioPid)
	f := strings.Fields(string(stat)[i+1:])
	// After the name: state is field 3 of the man page, utime 14, stime 15.
	require.Greater(b, len(f), 12, "/proc/%d/stat", minioPid)
	var t cpuTimes
	for _, s := range f[11:13] {
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(b, err)
		t.minio += v / userHZ
	}
	t.machine = machineTicks(b).busy / userHZ
	return t
}

// cpuUse collects, per tool, the CPU seconds of each run of one scenario.
type cpuUse struct {
	b      testing.TB
	pid    int
	minio  map[string][]float64
	others map[string][]float64
	began  cpuTimes
}

func newCPUUse(b testing.TB, minioPid int) *cpuUse {
	return &cpuUse{b: b, pid: minioPid, minio: map[string][]float64{}, others: map[string][]float64{}}
}

// start marks the beginning of a run.
func (c *cpuUse) start() { c.began = cpuNow(c.b, c.pid) }

// stop ends the run of tool that start began.
func (c *cpuUse) stop(tool string) {
	now := cpuNow(c.b, c.pid)
	m := now.minio - c.began.minio
	c.minio[tool] = append(c.minio[tool], m)
	c.others[tool] = append(c.others[tool], max(now.machine-c.began.machine-m, 0))
}

// report adds a CPU row per tool to rep.
func (c *cpuUse) report(rep *Report, scenario string) {
	for _, tool := range tools {
		if len(c.minio[tool]) > 0 {
			rep.cpu(scenario, tool, c.minio[tool], c.others[tool])
		}
	}
}

// cpuTicks is the machine's CPU time since boot, in ticks, from
// /proc/stat's first line.
type cpuTicks struct {
	all   float64 // every state
	busy  float64 // every state but idle and iowait
	steal float64 // taken by the hypervisor
}

// machineTicks reads cpuTicks from /proc/stat.
func machineTicks(b testing.TB) cpuTicks {
	b.Helper()
	stat, err := os.ReadFile("/proc/stat")
	require.NoError(b, err)
	line, _, _ := strings.Cut(string(stat), "\n")
	t, err := parseCPULine(line)
	require.NoError(b, err)
	return t
}

// parseCPULine reads /proc/stat's first line: "cpu user nice system idle
// iowait irq softirq steal [guest guest_nice]" (guest time is already
// counted in user).
func parseCPULine(line string) (cpuTicks, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTicks{}, fmt.Errorf("/proc/stat: not a cpu line: %q", line)
	}
	var t cpuTicks
	for i, s := range f[1:9] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return cpuTicks{}, fmt.Errorf("/proc/stat: field %d: %w", i+1, err)
		}
		t.all += v
		if i != 3 && i != 4 { // idle, iowait
			t.busy += v
		}
		if i == 7 {
			t.steal = v
		}
	}
	return t, nil
}

// stealShare returns a function that gives the share of CPU time the
// hypervisor took (steal) since stealShare was called, in percent.
func stealShare(b testing.TB) func() float64 {
	t0 := machineTicks(b)
	return func() float64 {
		t1 := machineTicks(b)
		if t1.all <= t0.all {
			return 0
		}
		return 100 * (t1.steal - t0.steal) / (t1.all - t0.all)
	}
}
