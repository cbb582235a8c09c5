package s3server

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// readyPoll is how often a starting server is asked whether it is ready.
const readyPoll = 50 * time.Millisecond

// Process is one run of a server process. It runs in a process group of
// its own, so a Ctrl-C meant for its parent does not reach it: the parent
// stops it, in its own order. Its methods are for one goroutine.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // what Wait returned; read after exited is closed
}

// StartProcess starts bin with args in dir ("" for the current one), with
// env added to this process's environment, and appends banner and then
// the process's stdout and stderr to the file logPath. If this process
// dies, the server gets SIGKILL rather than being left running.
func StartProcess(bin string, args, env []string, dir, logPath, banner string) (*Process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "--- %s %s\n", time.Now().Format(time.RFC3339Nano), banner)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("exec %s: %w", bin, err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.err = err
		close(p.exited)
	}()
	return p, nil
}

// WaitReady calls ready every readyPoll until it returns nil (ready), the
// process exits, ctx is done or timeout has passed; the error names the
// server and says which.
func (p *Process) WaitReady(ctx context.Context, name string, timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready: %v", name, p.err)
		default:
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", name, timeout, err)
		}
		select {
		case <-p.exited:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(readyPoll):
		}
	}
}

// Stop sends sig to the process's group and waits up to timeout for the
// process to exit, then kills the group and waits again.
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, sig)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// FreeAddr returns 127.0.0.1:PORT with a port that was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// checkFree fails when addr cannot be listened on now.
func checkFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}
