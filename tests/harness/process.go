package harness

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// readyPoll is how often a starting server is asked whether it is ready.
const readyPoll = 50 * time.Millisecond

// process is one run of a server a harness started (MinIO, versitygw,
// SeaweedFS). Its methods are for the goroutine that runs the test.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // what Wait returned; read after exited is closed
}

// startProcess starts bin with args in dir, with env added to the test's
// environment, and appends banner and then the process's stdout and
// stderr to the file logPath. If the test binary dies (timeout panic,
// kill), the process gets SIGKILL rather than being left running on a
// shared machine.
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
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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
// process exits, or timeout has passed; the error names the server and
// says which.
func (p *process) waitReady(name string, timeout time.Duration, ready func() error) error {
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
		case <-time.After(readyPoll):
		}
	}
}

// stop sends sig and waits up to timeout for the process to exit, then
// kills it and waits again.
func (p *process) stop(sig os.Signal, timeout time.Duration) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
