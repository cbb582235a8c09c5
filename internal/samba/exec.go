package samba

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"genesissync/internal/hosttool"
)

// runner runs one external tool and returns its standard output and error.
// A failure is a *ToolError. The real one is execRunner; tests substitute a fake.
type runner interface {
	run(ctx context.Context, stdin []byte, tool string, args ...string) (stdout, stderr []byte, err error)
}

// ToolError is a Samba tool that could not run or exited non-zero. It holds
// the tool's last lines of standard error, never its standard input.
type ToolError struct {
	Tool string
	// Err is the exec error: *exec.ExitError, exec.ErrNotFound, ...
	Err error
	// Stderr is the tail of the tool's standard error, trimmed.
	Stderr string
}

func (e *ToolError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", e.Tool, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Tool, e.Err, e.Stderr)
}

func (e *ToolError) Unwrap() error { return e.Err }

// ExitCode is the tool's exit status, or -1 when it did not exit normally.
func (e *ToolError) ExitCode() int {
	var ee interface{ ExitCode() int } // *exec.ExitError
	if errors.As(e.Err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

type execRunner struct{}

var _ runner = execRunner{}

func (execRunner) run(ctx context.Context, stdin []byte, tool string, args ...string) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, hosttool.Path(tool), args...)
	cmd.Env = hosttool.Env()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return stdout.Bytes(), stderr.Bytes(), &ToolError{Tool: tool, Err: err, Stderr: tailText(stderr.String(), 10)}
	}
	return stdout.Bytes(), stderr.Bytes(), nil
}

// confArgs prefixes a Samba tool's arguments with -s conf, unless conf is
// empty: then the tool reads the system smb.conf.
func confArgs(conf string, args ...string) []string {
	if conf == "" {
		return args
	}
	return append([]string{"-s", conf}, args...)
}

// tailText returns the last n non-empty lines of s, joined with "; ".
func tailText(s string, n int) string {
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
