package reconcile

import (
	"time"

	"genesissync/internal/index"
	"genesissync/internal/scan"
)

// MtimeGranularity is the coarsest timestamp resolution allowed for
// (zfs-fuse keeps whole seconds); decisions never rely on a finer one.
const MtimeGranularity = time.Second

// LocalDecision is what the planner concludes about a local file from its
// stat and the base (last synced) state, without reading it.
type LocalDecision int

const (
	// InSync: the stat matches the base exactly; nothing to do.
	InSync LocalDecision = iota
	// Check: new, a stat differing from the base, or a racy base (Racy):
	// hash it once settled, upload if the content differs.
	Check
)

func (d LocalDecision) String() string {
	if d == InSync {
		return "in-sync"
	}
	return "check"
}

// PlanLocal decides what a local file needs, given its base entry (nil if
// the path was never synced). It is pure: no I/O, no clock.
func PlanLocal(f scan.File, base *index.Entry) LocalDecision {
	if base == nil || !Indexed(f, *base) {
		return Check
	}
	if Racy(*base) {
		return Check
	}
	return InSync
}

// Indexed reports whether stat says f is the version the index entry
// records (size, mtime and inode agree). A racy entry (Racy) is still to
// be re-hashed once before the pipeline trusts it.
func Indexed(f scan.File, e index.Entry) bool {
	return f.Size == e.Size && f.Mtime.Equal(e.Mtime) && f.Inode == e.Inode
}

// Racy reports whether an entry's hash was taken so soon after its mtime
// that a later write within the same timestamp tick would be invisible to
// stat. Such an entry is re-hashed once; re-hashing later clears it.
func Racy(e index.Entry) bool {
	return !e.Mtime.Add(2 * MtimeGranularity).Before(e.HashedAt)
}
