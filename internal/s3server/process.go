package s3server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

const (
	// readyPoll is how often a starting server is asked whether it is
	// ready.
	readyPoll = 50 * time.Millisecond
	// defaultStopTimeout is how long Stop waits after the first signal
	// unless the Spec says otherwise.
	defaultStopTimeout = 10 * time.Second
)

// Spec describes one server process for Start: what to run, how to tell
// that it serves, and how to stop it.
type Spec struct {
	Name    string   // names the server in errors
	Bin     string   // the executable
	Args    []string // its arguments
	Env     []string // KEY=VALUE added to this process's environment
	Dir     string   // working directory; empty is the current one
	LogPath string   // stdout and stderr are appended here
	Banner  string   // the log's line before the server's own output
	// StartTimeout bounds the wait for Ready.
	StartTimeout time.Duration
	// StopSignal is what Stop sends first; 0 means SIGTERM.
	StopSignal syscall.Signal
	// StopTimeout is how long Stop then waits before SIGKILL; 0 means
	// 10 s.
	StopTimeout time.Duration
	// Ready makes one round of readiness requests with client (no proxy,
	// no keep-alives, 2 s per request) and returns nil once the server
	// serves.
	Ready func(ctx context.Context, client *http.Client) error
}

// Server is a running server process started by Start. It runs in a
// process group of its own, so a Ctrl-C meant for its parent does not
// reach it: the parent stops it, in its own order. Its methods are for one
// goroutine.
type Server struct {
	proc        *process // nil once stopped
	stopSignal  syscall.Signal
	stopTimeout time.Duration
}

// Start starts the server s describes and returns once s.Ready says it
// serves. A server that exits, is not ready within s.StartTimeout or is
// still starting when ctx is done is stopped, and the error names it and
// says which. If this process dies, the server gets SIGKILL rather than
// being left running.
func Start(ctx context.Context, s Spec) (*Server, error) {
	proc, err := startProcess(s.Bin, s.Args, s.Env, s.Dir, s.LogPath, s.Banner)
	if err != nil {
		return nil, err
	}
	srv := &Server{proc: proc, stopSignal: s.StopSignal, stopTimeout: s.StopTimeout}
	if srv.stopSignal == 0 {
		srv.stopSignal = syscall.SIGTERM
	}
	if srv.stopTimeout == 0 {
		srv.stopTimeout = defaultStopTimeout
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:   2 * time.Second,
	}
	if err := proc.waitReady(ctx, s.Name, s.StartTimeout, func() error { return s.Ready(ctx, client) }); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}

// Stop sends the server's group the Spec's StopSignal, waits up to its
// StopTimeout for the server to exit, then kills the group and waits
// again. It is idempotent, and a nil Server is a stopped one.
func (s *Server) Stop() {
	if s == nil || s.proc == nil {
		return
	}
	s.proc.stop(s.stopSignal, s.stopTimeout)
	s.proc = nil
}

// Pid returns the server's process id, 0 once it is stopped.
func (s *Server) Pid() int {
	if s == nil || s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// process is one run of a server process.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // what Wait returned; read after exited is closed
}

// startProcess starts bin with args in dir ("" for the current one), with
// env added to this process's environment, and appends banner and then
// the process's stdout and stderr to the file logPath.
func startProcess(bin string, args, env []string, dir, logPath, banner string) (*process, error) {
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
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.err = err
		close(p.exited)
	}()
	return p, nil
}

// waitReady calls ready every readyPoll until it returns nil (ready), the
// process exits, ctx is done or timeout has passed; the error names the
// server and says which.
func (p *process) waitReady(ctx context.Context, name string, timeout time.Duration, ready func() error) error {
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

// stop sends sig to the process's group and waits up to timeout for the
// process to exit, then kills the group and waits again.
func (p *process) stop(sig syscall.Signal, timeout time.Duration) {
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
