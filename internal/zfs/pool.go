package zfs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PoolInfo is one pool's health, space and last scan, from `zpool list`
// and `zpool status`.
type PoolInfo struct {
	Name string `json:"name"`
	// Health is the pool's state: ONLINE, DEGRADED, FAULTED, OFFLINE,
	// UNAVAIL, REMOVED or SUSPENDED. An ONLINE pool can still have a
	// problem (a mirror side with a bad label); Status and Healthy say so.
	Health string `json:"health"`
	// Size, Allocated and Free are bytes. SizesExact is false where the
	// tool prints rounded figures only (zfs-fuse: 250M, 21.2M), good to
	// three significant digits.
	Size       uint64 `json:"size"`
	Allocated  uint64 `json:"allocated"`
	Free       uint64 `json:"free"`
	SizesExact bool   `json:"sizes_exact"`
	// CapacityPercent is allocated / size in whole percent, as zpool
	// computes it; the figure to alert on (alerts.capacity_warning and
	// capacity_critical).
	CapacityPercent int `json:"capacity_percent"`
	// Status and Action are zpool status's explanation and advice, empty
	// when the pool has nothing to say.
	Status string `json:"status,omitempty"`
	Action string `json:"action,omitempty"`
	// Scan is the last or running scrub or resilver.
	Scan Scan `json:"scan"`
	// Vdevs is the config table, the pool itself first.
	Vdevs []Vdev `json:"vdevs"`
	// Errors is the errors: line, e.g. "No known data errors".
	Errors string `json:"errors"`
}

// LastScrub is when the last scrub finished, if the pool shows one.
func (p PoolInfo) LastScrub() (time.Time, bool) {
	if p.Scan.Function == "scrub" && p.Scan.State == ScanFinished {
		return p.Scan.End, true
	}
	return time.Time{}, false
}

// Scan states.
const (
	ScanNone       = "none"        // never scanned
	ScanFinished   = "finished"    // completed
	ScanCanceled   = "canceled"    // stopped by zpool scrub -s
	ScanInProgress = "in-progress" // running
	ScanPaused     = "paused"      // zpool scrub -p (OpenZFS)
	ScanUnknown    = "unknown"     // a line this package cannot read; see Line
)

// Scan is the scan: (OpenZFS) or scrub: (zfs-fuse) line of zpool status.
type Scan struct {
	// Function is "scrub" or "resilver", empty when none.
	Function string `json:"function,omitempty"`
	// State is one of the Scan* constants.
	State string `json:"state"`
	// Errors found by a finished scan.
	Errors uint64 `json:"errors"`
	// Start of a running scan, when the tool says (OpenZFS).
	Start time.Time `json:"start,omitzero"`
	// End of a finished or canceled scan.
	End time.Time `json:"end,omitzero"`
	// PercentDone of a running scan.
	PercentDone float64 `json:"percent_done,omitempty"`
	// Line is the tool's text, continuation lines joined with "; ".
	Line string `json:"line"`
}

// Vdev is one row of zpool status's config table.
type Vdev struct {
	Name string `json:"name"`
	// Depth is 0 for the pool and for the logs, cache and spares headings,
	// 1 for a top-level vdev, 2 for a mirror's or raidz's member...
	Depth int    `json:"depth"`
	State string `json:"state,omitempty"`
	// Read, Write and Cksum are error counts (rounded where the tool
	// rounds them, 1.2K).
	Read  uint64 `json:"read"`
	Write uint64 `json:"write"`
	Cksum uint64 `json:"cksum"`
	// Note is the rest of the row: "corrupted data", "(resilvering)".
	Note string `json:"note,omitempty"`
}

const poolListProps = "name,size,allocated,free,capacity,health"

// PoolStatus reports one pool. Safe for concurrent use.
func PoolStatus(ctx context.Context, pool string) (PoolInfo, error) {
	return poolStatus(ctx, execRunner{}, pool, time.Local)
}

func poolStatus(ctx context.Context, r runner, pool string, loc *time.Location) (PoolInfo, error) {
	if err := checkPool(pool); err != nil {
		return PoolInfo{}, err
	}
	// OpenZFS prints exact bytes under -p; zfs-fuse has no -p and says so.
	out, err := r.run(ctx, "zpool", "list", "-H", "-p", "-o", poolListProps, pool)
	var te *ToolError
	if errors.As(err, &te) && strings.Contains(te.Stderr, "invalid option 'p'") {
		out, err = r.run(ctx, "zpool", "list", "-H", "-o", poolListProps, pool)
	}
	if err != nil {
		return PoolInfo{}, fmt.Errorf("pool status %q: %w", pool, err)
	}
	info, err := parsePoolList(out, pool)
	if err != nil {
		return PoolInfo{}, fmt.Errorf("pool status %q: %w", pool, err)
	}
	out, err = r.run(ctx, "zpool", "status", pool)
	if err != nil {
		return PoolInfo{}, fmt.Errorf("pool status %q: %w", pool, err)
	}
	if err := parsePoolStatus(out, loc, &info); err != nil {
		return PoolInfo{}, fmt.Errorf("pool status %q: %w", pool, err)
	}
	return info, nil
}

// parsePoolList reads `zpool list -H [-p] -o name,size,allocated,free,capacity,health`.
func parsePoolList(out []byte, pool string) (PoolInfo, error) {
	for i, line := range lines(out) {
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return PoolInfo{}, fmt.Errorf("zpool list line %d: want 6 tab-separated fields, got %q", i+1, line)
		}
		if f[0] != pool {
			continue
		}
		info := PoolInfo{Name: f[0], Health: f[5], SizesExact: true}
		for j, dst := range []*uint64{&info.Size, &info.Allocated, &info.Free} {
			n, exact, err := parseSize(f[1+j])
			if err != nil {
				return PoolInfo{}, fmt.Errorf("zpool list line %d: %w", i+1, err)
			}
			*dst = n
			info.SizesExact = info.SizesExact && exact
		}
		c := strings.TrimSuffix(f[4], "%")
		if c != "-" {
			n, err := strconv.Atoi(c)
			if err != nil || n < 0 {
				return PoolInfo{}, fmt.Errorf("zpool list line %d: capacity is %q, want a percentage", i+1, f[4])
			}
			info.CapacityPercent = n
		}
		return info, nil
	}
	return PoolInfo{}, fmt.Errorf("zpool list printed no line for it")
}

// parseSize reads a byte count: exact digits (OpenZFS -p), a rounded
// figure with a binary suffix (250M, 21.2M, 1.50T, 0B), or "-" (unknown, 0).
func parseSize(s string) (n uint64, exact bool, err error) {
	if s == "-" {
		return 0, false, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, true, nil
	}
	num := strings.TrimSuffix(s, "B")
	mult := 1.0
	if k := len(num); k > 0 {
		if i := strings.IndexByte("KMGTPEZ", num[k-1]); i >= 0 {
			mult = math.Pow(1024, float64(i+1))
			num = num[:k-1]
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) || num == "" || strings.ContainsAny(num, "eEnN") {
		return 0, false, fmt.Errorf("size %q is not a byte count", s)
	}
	return uint64(math.Round(v * mult)), mult == 1 && v == math.Trunc(v), nil
}

// statusKey matches the start of a section of zpool status: "  pool: x",
// " state: ONLINE", "status: ...", "  scan: ...", " scrub: ..." (zfs-fuse).
var statusKey = regexp.MustCompile(`^ *(pool|state|status|action|see|scan|scrub|config|errors|remove|checkpoint): ?(.*)$`)

// parsePoolStatus reads `zpool status POOL` (the human format: neither
// zfs-fuse nor OpenZFS before 2.3 has a machine one) into info. Dates are
// ctime(3)'s, in loc, the zone of the host that ran zpool.
func parsePoolStatus(out []byte, loc *time.Location, info *PoolInfo) error {
	sections := map[string][]string{}
	key, seen := "", false
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimRight(line, " \r")
		if m := statusKey.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "\t") {
			key = m[1]
			if key == "scrub" {
				key = "scan"
			}
			seen = true
			if v := strings.TrimSpace(m[2]); v != "" {
				sections[key] = append(sections[key], v)
			}
			continue
		}
		if key == "" {
			continue
		}
		if key == "config" {
			sections[key] = append(sections[key], line)
			continue
		}
		if l := strings.TrimSpace(line); l != "" {
			sections[key] = append(sections[key], l)
		}
	}
	if !seen {
		return fmt.Errorf("zpool status printed no pool: %q", joinLines(string(out), 3))
	}
	if p := strings.Join(sections["pool"], " "); p != info.Name {
		return fmt.Errorf("zpool status printed pool %q, want %q", p, info.Name)
	}
	if s := strings.Join(sections["state"], " "); s != "" && info.Health == "" {
		info.Health = s
	}
	info.Status = strings.Join(sections["status"], " ")
	info.Action = strings.Join(sections["action"], " ")
	info.Errors = strings.Join(sections["errors"], " ")
	info.Scan = parseScan(sections["scan"], loc)
	vdevs, err := parseConfig(sections["config"])
	if err != nil {
		return err
	}
	info.Vdevs = vdevs
	return nil
}

var (
	// zfs-fuse 0.7: "%s %s after %lluh%um with %llu errors on %s".
	fuseScanDone = regexp.MustCompile(`^(scrub|resilver) (completed|stopped) after \d+h\d+m with (\d+) errors on (.+)$`)
	// zfs-fuse 0.7: "%s in progress for %lluh%um, %.2f%% done, %lluh%um to go".
	fuseScanRunning = regexp.MustCompile(`^(scrub|resilver) in progress for \d+h\d+m, ([\d.]+)% done`)
	// OpenZFS 2.x: "scrub repaired %s in %s with %llu errors on %s",
	// "resilvered %s in %s with %llu errors on %s".
	zfsScanDone = regexp.MustCompile(`^(?:thorough )?(scrub repaired|resilvered) \S+ in .+? with (\d+) errors on (.+)$`)
	// OpenZFS 2.x: "scrub canceled on %s", "resilver canceled on %s".
	zfsScanCanceled = regexp.MustCompile(`^(?:thorough )?(scrub|resilver) canceled on (.+)$`)
	// OpenZFS 2.x: "scrub in progress since %s", "scrub paused since %s".
	zfsScanRunning = regexp.MustCompile(`^(?:thorough )?(scrub|resilver) (in progress|paused) since (.+)$`)
	scanPercent    = regexp.MustCompile(`([\d.]+)% done`)
	scanStarted    = regexp.MustCompile(`scrub started on (.+)$`)
)

// parseScan reads the lines of the scan: or scrub: section.
func parseScan(ls []string, loc *time.Location) Scan {
	if len(ls) == 0 {
		// OpenZFS prints no scan line for a pool never scanned.
		return Scan{State: ScanNone}
	}
	sc := Scan{State: ScanUnknown, Line: strings.Join(ls, "; ")}
	first := ls[0]
	percent := func() {
		for _, l := range ls {
			if m := scanPercent.FindStringSubmatch(l); m != nil {
				sc.PercentDone, _ = strconv.ParseFloat(m[1], 64)
			}
		}
	}
	if first == "none requested" {
		sc.State = ScanNone
	} else if m := fuseScanDone.FindStringSubmatch(first); m != nil {
		sc.Function = m[1]
		sc.State = map[string]string{"completed": ScanFinished, "stopped": ScanCanceled}[m[2]]
		sc.Errors, _ = strconv.ParseUint(m[3], 10, 64)
		sc.End = parseCtime(m[4], loc)
	} else if m := fuseScanRunning.FindStringSubmatch(first); m != nil {
		sc.Function, sc.State = m[1], ScanInProgress
		sc.PercentDone, _ = strconv.ParseFloat(m[2], 64)
	} else if m := zfsScanDone.FindStringSubmatch(first); m != nil {
		sc.Function = map[string]string{"scrub repaired": "scrub", "resilvered": "resilver"}[m[1]]
		sc.State = ScanFinished
		sc.Errors, _ = strconv.ParseUint(m[2], 10, 64)
		sc.End = parseCtime(m[3], loc)
	} else if m := zfsScanCanceled.FindStringSubmatch(first); m != nil {
		sc.Function, sc.State = m[1], ScanCanceled
		sc.End = parseCtime(m[2], loc)
	} else if m := zfsScanRunning.FindStringSubmatch(first); m != nil {
		sc.Function = m[1]
		if m[2] == "paused" {
			sc.State = ScanPaused
			for _, l := range ls[1:] {
				if s := scanStarted.FindStringSubmatch(l); s != nil {
					sc.Start = parseCtime(s[1], loc)
				}
			}
		} else {
			sc.State = ScanInProgress
			sc.Start = parseCtime(m[3], loc)
		}
		percent()
	}
	return sc
}

// parseCtime reads ctime(3)'s "Sun Nov 22 01:38:25 2026" in loc; the zero
// time when it cannot.
func parseCtime(s string, loc *time.Location) time.Time {
	s = strings.Join(strings.Fields(s), " ")
	t, err := time.ParseInLocation("Mon Jan 2 15:04:05 2006", s, loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// parseConfig reads the config: table of zpool status: a header row
// (NAME STATE READ WRITE CKSUM), then one row per vdev, indented by two
// spaces per level under a leading tab.
func parseConfig(ls []string) ([]Vdev, error) {
	var vdevs []Vdev
	header := false
	for _, line := range ls {
		if strings.TrimSpace(line) == "" {
			continue
		}
		body, ok := strings.CutPrefix(line, "\t")
		if !ok {
			continue // an explanatory line, not a row
		}
		f := strings.Fields(body)
		if !header {
			if len(f) >= 2 && f[0] == "NAME" && f[1] == "STATE" {
				header = true
			}
			continue
		}
		indent := len(body) - len(strings.TrimLeft(body, " "))
		v := Vdev{Name: f[0], Depth: indent / 2}
		if len(f) > 1 {
			v.State = f[1]
		}
		// Error counts follow the state only on vdev rows; spares (AVAIL,
		// INUSE) and section headings have none.
		rest := f[min(2, len(f)):]
		if len(f) >= 5 {
			counts := []*uint64{&v.Read, &v.Write, &v.Cksum}
			okCounts := true
			for k, dst := range counts {
				n, _, err := parseSize(f[2+k])
				if err != nil {
					okCounts = false
					break
				}
				*dst = n
			}
			if okCounts {
				rest = f[5:]
			}
		}
		v.Note = strings.Join(rest, " ")
		vdevs = append(vdevs, v)
	}
	if len(vdevs) == 0 {
		return nil, fmt.Errorf("zpool status printed no config table")
	}
	return vdevs, nil
}

// Healthy runs `zpool status -x` over the given pools, or all pools: true
// with zpool's one-line verdict when none has a problem ("all pools are
// healthy", "pool 'tank' is healthy", or no pools at all), false with the
// full report of the pools that have one. A pool that does not exist fails
// with ErrNotFound. Safe for concurrent use.
func Healthy(ctx context.Context, pools ...string) (bool, string, error) {
	return healthy(ctx, execRunner{}, pools...)
}

func healthy(ctx context.Context, r runner, pools ...string) (bool, string, error) {
	for _, p := range pools {
		if err := checkPool(p); err != nil {
			return false, "", err
		}
	}
	out, err := r.run(ctx, "zpool", append([]string{"status", "-x"}, pools...)...)
	if err != nil {
		return false, "", fmt.Errorf("pool health %s: %w", strings.Join(pools, " "), err)
	}
	ok, msg := parseHealthy(out)
	return ok, msg, nil
}

var poolHealthyLine = regexp.MustCompile(`^pool '[^']+' is healthy$`)

// parseHealthy reads `zpool status -x` output.
func parseHealthy(out []byte) (bool, string) {
	ls := lines(out)
	if len(ls) == 0 {
		// OpenZFS writes "no pools available" to standard error.
		return true, "no pools available"
	}
	text := strings.TrimSpace(string(out))
	if len(ls) == 1 && (ls[0] == "all pools are healthy" || ls[0] == "no pools available") {
		return true, ls[0]
	}
	for _, l := range ls {
		if !poolHealthyLine.MatchString(strings.TrimSpace(l)) {
			return false, text
		}
	}
	return true, text
}
