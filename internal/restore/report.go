package restore

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Kind is the stable, machine-readable name of one kind of problem.
type Kind string

// Problem kinds. The first group are mismatches (the bucket is not a good
// copy of the share, or the share not of the bucket); the second are
// warnings that do not fail a verify.
const (
	MissingRemote Kind = "missing-remote" // synced once (the index has it), now gone from the bucket
	MissingLocal  Kind = "missing-local"  // synced once, now gone from the share (and not kept-deleted by policy)
	SizeMismatch  Kind = "size-mismatch"  // share and bucket sizes differ for the synced version
	HashMismatch  Kind = "hash-mismatch"  // SHA-256 of share and bucket (or index) differ
	LocalCorrupt  Kind = "local-corrupt"  // the share file's bytes no longer hash to what was synced, its stat unchanged
	ObjectCorrupt Kind = "object-corrupt" // the object's bytes do not hash to its own sha256 metadata
	CheckFailed   Kind = "check-failed"   // a read failed; the file could not be checked

	NoHash  Kind = "no-hash" // the object carries no sha256 metadata (written by another tool)
	Refused Kind = "refused" // the object key cannot become a share path (keymap)
	Skipped Kind = "skipped" // restore: an existing file was left alone
)

// Mismatch reports whether k means the copies differ (verify exit code 3),
// rather than a warning.
func (k Kind) Mismatch() bool {
	switch k {
	case NoHash, Refused, Skipped:
		return false
	}
	return true
}

// Problem is one finding about one path. It is a value.
type Problem struct {
	Path   string `json:"path"`
	Kind   Kind   `json:"kind"`
	Detail string `json:"detail,omitempty"`
}

func (p Problem) String() string {
	if p.Detail == "" {
		return fmt.Sprintf("%s %q", p.Kind, p.Path)
	}
	return fmt.Sprintf("%s %q: %s", p.Kind, p.Path, p.Detail)
}

// DefaultMaxProblems is how many problems a report lists when its options
// say 0; the counts cover all of them.
const DefaultMaxProblems = 200

// problems collects findings, bounded. Safe for concurrent use.
type problems struct {
	mu     sync.Mutex
	max    int
	list   []Problem
	counts map[Kind]int
}

func newProblems(max int) *problems {
	if max <= 0 {
		max = DefaultMaxProblems
	}
	return &problems{max: max, counts: map[Kind]int{}}
}

func (p *problems) add(path string, k Kind, format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[k]++
	if len(p.list) < p.max {
		p.list = append(p.list, Problem{Path: path, Kind: k, Detail: fmt.Sprintf(format, a...)})
	}
}

// result returns the sorted bounded list, the counts, the number of
// mismatches and whether the list is truncated.
func (p *problems) result() ([]Problem, map[Kind]int, int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := append([]Problem(nil), p.list...)
	sort.Slice(list, func(i, j int) bool {
		if list[i].Path != list[j].Path {
			return list[i].Path < list[j].Path
		}
		return list[i].Kind < list[j].Kind
	})
	counts := map[Kind]int{}
	total, mism := 0, 0
	for k, n := range p.counts {
		counts[k] = n
		total += n
		if k.Mismatch() {
			mism += n
		}
	}
	return list, counts, mism, total > len(list)
}

// Progress is a snapshot of a running verify or restore. It is a value;
// the callback receives a copy.
type Progress struct {
	Phase      string        `json:"phase"` // "listing", "checking", "restoring", "done"
	Files      int           `json:"files"` // finished (restored, skipped, checked or failed)
	FilesTotal int           `json:"files_total"`
	Bytes      int64         `json:"bytes"` // transferred or hashed so far
	BytesTotal int64         `json:"bytes_total"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	// Rate is bytes per second since the phase started.
	Rate float64 `json:"rate_bytes_per_s"`
	// ETA is the estimated time left; 0 when unknown.
	ETA time.Duration `json:"eta_ns"`
}
