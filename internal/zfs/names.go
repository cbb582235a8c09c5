package zfs

import (
	"fmt"
	"strings"
	"time"
)

// ShadowFormat is the vfs_shadow_copy2 "shadow:format" matching
// ScheduleName, for the generated smb.conf. The names are UTC, so the share
// keeps "shadow:localtime = no" (Samba's default): Windows gets @GMT tokens
// and shows each version in local time. Pre-operation names never match.
const ShadowFormat = "gs-%Y-%m-%d-%H%M"

const (
	schedulePrefix = "gs-"
	// scheduleLayout is ShadowFormat as a Go layout. Minute resolution: the
	// schedule never runs more often than hourly.
	scheduleLayout = "gs-2006-01-02-1504"
	// preOpPrefix starts every pre-operation name; it cannot match
	// ShadowFormat because "pre" is not a year.
	preOpPrefix = "gs-pre-"
	// preOpTimeLayout has seconds: two operations can start in one minute.
	preOpTimeLayout = "2006-01-02-150405"
)

// ScheduleName is the name of the scheduled snapshot taken at t: "gs-" and
// t in UTC to the minute, e.g. gs-2026-11-22-0315. Names sort by time as
// strings and match ShadowFormat. Safe for concurrent use.
func ScheduleName(t time.Time) string {
	return t.UTC().Format(scheduleLayout)
}

// ParseScheduleName reverses ScheduleName; false for any other name,
// including near misses such as gs-2026-11-22-03150. Safe for concurrent use.
func ParseScheduleName(name string) (time.Time, bool) {
	if len(name) != len(scheduleLayout) || !strings.HasPrefix(name, schedulePrefix) {
		return time.Time{}, false
	}
	t, err := time.Parse(scheduleLayout, name)
	if err != nil || t.Format(scheduleLayout) != name {
		return time.Time{}, false
	}
	return t, true
}

// PreOp names the operation a pre-operation snapshot guards. It is part of
// the snapshot's name, so it is lower-case letters only.
type PreOp string

const (
	// PreRestore is taken before a restore writes into a live share.
	PreRestore PreOp = "restore"
	// PreDelete is taken before an approved mass delete runs.
	PreDelete PreOp = "delete"
	// PreTripwire is taken, and held, when a share's ransomware tripwire
	// trips: the last state before a person decides.
	PreTripwire PreOp = "tripwire"
)

// PreOpName is the name of the snapshot taken at t before op, e.g.
// gs-pre-restore-2026-11-22-031502 (UTC, to the second); pruning never
// selects it. An op that is not lower-case letters fails with
// ErrInvalidName. Safe for concurrent use.
func PreOpName(op PreOp, t time.Time) (string, error) {
	if !validPreOp(string(op)) {
		return "", fmt.Errorf("pre-operation snapshot name for %q: %w: the operation must be lower-case letters", op, ErrInvalidName)
	}
	return preOpPrefix + string(op) + "-" + t.UTC().Format(preOpTimeLayout), nil
}

// ParsePreOpName reverses PreOpName; false for any other name. Safe for
// concurrent use.
func ParsePreOpName(name string) (PreOp, time.Time, bool) {
	rest, ok := strings.CutPrefix(name, preOpPrefix)
	if !ok {
		return "", time.Time{}, false
	}
	op, ts, ok := strings.Cut(rest, "-")
	if !ok || !validPreOp(op) || len(ts) != len(preOpTimeLayout) {
		return "", time.Time{}, false
	}
	t, err := time.Parse(preOpTimeLayout, ts)
	if err != nil || t.Format(preOpTimeLayout) != ts {
		return "", time.Time{}, false
	}
	return PreOp(op), t, true
}

func validPreOp(op string) bool {
	if op == "" || len(op) > 32 {
		return false
	}
	for _, c := range op {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// Kind is what a snapshot's name says about who owns it.
type Kind int

const (
	// Foreign: not made by GenesisSync (an administrator's, another tool's).
	// Never pruned.
	Foreign Kind = iota
	// Scheduled: made by the schedule (ScheduleName); pruned by Retention.
	Scheduled
	// PreOperation: made before a restore or mass delete (PreOpName). Never
	// pruned by the schedule; removed only on purpose.
	PreOperation
)

func (k Kind) String() string {
	switch k {
	case Scheduled:
		return "scheduled"
	case PreOperation:
		return "pre-operation"
	default:
		return "foreign"
	}
}

// KindOf classifies a snapshot's short name (the part after '@'). Safe for
// concurrent use.
func KindOf(name string) Kind {
	if _, ok := ParseScheduleName(name); ok {
		return Scheduled
	}
	if _, _, ok := ParsePreOpName(name); ok {
		return PreOperation
	}
	return Foreign
}

// maxNameLen is ZFS's limit on a full dataset or snapshot name
// (ZFS_MAX_DATASET_NAME_LEN, 256 with the terminating NUL).
const maxNameLen = 255

// nameChar is the narrow alphabet accepted for every name this package puts
// on a command line: ZFS's own alphabet minus the space.
func nameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == ':'
}

// validComponent accepts one name component: non-empty, from nameChar, not
// starting with '-' (it would read as an option) and not "." or "..".
func validComponent(s string) bool {
	if s == "" || s[0] == '-' || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		if !nameChar(c) {
			return false
		}
	}
	return true
}

// checkPool refuses a pool name that is not a plain ZFS pool name.
func checkPool(pool string) error {
	if !validComponent(pool) || len(pool) > maxNameLen ||
		!(pool[0] >= 'a' && pool[0] <= 'z' || pool[0] >= 'A' && pool[0] <= 'Z') {
		return fmt.Errorf("pool %q: %w", pool, ErrInvalidName)
	}
	return nil
}

// checkDataset refuses a dataset name that is not pool[/component...]. No
// '@', '#' or '%' can pass, so a dataset name never names a snapshot, a
// bookmark or a range of snapshots.
func checkDataset(dataset string) error {
	if len(dataset) > maxNameLen {
		return fmt.Errorf("dataset %q: %w: longer than %d bytes", dataset, ErrInvalidName, maxNameLen)
	}
	parts := strings.Split(dataset, "/")
	if checkPool(parts[0]) != nil {
		return fmt.Errorf("dataset %q: %w", dataset, ErrInvalidName)
	}
	for _, p := range parts[1:] {
		if !validComponent(p) {
			return fmt.Errorf("dataset %q: %w", dataset, ErrInvalidName)
		}
	}
	return nil
}

// snapshotName checks dataset and snap and joins them.
func snapshotName(dataset, snap string) (string, error) {
	if err := checkDataset(dataset); err != nil {
		return "", err
	}
	full := dataset + "@" + snap
	if !validComponent(snap) || len(full) > maxNameLen {
		return "", fmt.Errorf("snapshot %q: %w", full, ErrInvalidName)
	}
	return full, nil
}

// checkTag refuses a hold tag outside the narrow alphabet.
func checkTag(tag string) error {
	if !validComponent(tag) || len(tag) > maxNameLen {
		return fmt.Errorf("hold tag %q: %w", tag, ErrInvalidName)
	}
	return nil
}
