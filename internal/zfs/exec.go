package zfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"genesissync/internal/hosttool"
)

// runner runs one zfs or zpool command and returns its standard output; a
// failure is a *ToolError. Tests substitute a fake that answers from
// captured output.
type runner interface {
	run(ctx context.Context, tool string, args ...string) (stdout []byte, err error)
}

type execRunner struct{}

var _ runner = execRunner{}

func (execRunner) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, hosttool.Path(tool), args...)
	cmd.Env = hosttool.Env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return stdout.Bytes(), newToolError(tool, args, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// Errors a caller can test for with errors.Is. Tool errors are classified
// from standard error, which reads the same on both tools under LC_ALL=C.
var (
	// ErrNotFound: the pool, dataset, snapshot or hold tag does not exist.
	ErrNotFound = errors.New("does not exist")
	// ErrExists: the snapshot or hold tag exists already.
	ErrExists = errors.New("already exists")
	// ErrBusy: the dataset is busy. ZFS answers it for a held snapshot
	// too, which DestroySnapshot reports as ErrHeld.
	ErrBusy = errors.New("busy")
	// ErrHasClones: the snapshot has dependent clones.
	ErrHasClones = errors.New("has dependent clones")
	// ErrNoZFS: the tools cannot reach ZFS at all: the zfs-fuse daemon is not
	// running or the OpenZFS kernel module is not loaded.
	ErrNoZFS = errors.New("ZFS is not available")

	// ErrHeld: a snapshot has user holds, so it is not destroyed.
	ErrHeld = errors.New("snapshot is held")
	// ErrNewerSnapshots: a rollback was refused because snapshots newer
	// than its target exist (see RollbackOptions.DestroyNewer).
	ErrNewerSnapshots = errors.New("newer snapshots exist")
	// ErrInvalidName: a name was refused before any tool ran.
	ErrInvalidName = errors.New("invalid name")
	// ErrNotMounted: the dataset that holds a path is not mounted, so the
	// directory seen at the path is not the dataset's content.
	ErrNotMounted = errors.New("dataset is not mounted")
	// ErrNoDataset: no ZFS dataset holds the path.
	ErrNoDataset = errors.New("no ZFS dataset holds the path")
)

// ToolError is a zfs or zpool command that could not run or exited non-zero.
type ToolError struct {
	Tool string
	Args []string
	// Err is the exec error: *exec.ExitError, exec.ErrNotFound, a context error...
	Err error
	// Stderr is the first ten lines of standard error, joined with "; ".
	Stderr string
	// kind is one of the sentinel errors above, or nil.
	kind error
}

func newToolError(tool string, args []string, err error, stderr string) *ToolError {
	stderr = joinLines(stderr, 10)
	return &ToolError{Tool: tool, Args: args, Err: err, Stderr: stderr, kind: classify(stderr)}
}

func (e *ToolError) Error() string {
	cmd := e.Tool
	if len(e.Args) > 0 {
		cmd += " " + e.Args[0]
	}
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", cmd, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", cmd, e.Err, e.Stderr)
}

func (e *ToolError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrBusy) and the other classes work.
func (e *ToolError) Is(target error) bool { return e.kind != nil && e.kind == target }

// classify maps a tool's standard error to one of the sentinel errors.
// Order matters: "dataset does not exist" must not read as busy, etc.
func classify(stderr string) error {
	s := strings.ToLower(stderr)
	switch {
	case strings.Contains(s, "zfs-fuse daemon is running"),
		strings.Contains(s, "failed to initialize zfs library"),
		strings.Contains(s, "initialize the libzfs library"),
		strings.Contains(s, "zfs modules are not loaded"),
		strings.Contains(s, "/dev/zfs"):
		return ErrNoZFS
	case strings.Contains(s, "does not exist"),
		strings.Contains(s, "no such pool"),
		strings.Contains(s, "no such tag"),
		strings.Contains(s, "could not find any snapshots"):
		return ErrNotFound
	case strings.Contains(s, "being held"): // OpenZFS names the holds
		return ErrHeld
	case strings.Contains(s, "already exists"),
		strings.Contains(s, "dataset exists"):
		return ErrExists
	case strings.Contains(s, "dependent clones"),
		strings.Contains(s, "snapshot is cloned"):
		return ErrHasClones
	case strings.Contains(s, "is busy"):
		return ErrBusy
	}
	return nil
}

// joinLines returns the first n non-empty lines of s, trimmed, joined with
// "; ": zfs and zpool put the message first, lists or usage text after.
func joinLines(s string, n int) string {
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
		if len(lines) == n {
			break
		}
	}
	return strings.Join(lines, "; ")
}
