package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// MinIOOptions describe a MinIO server process for the demo.
type MinIOOptions struct {
	Bin      string // the minio binary
	Addr     string // S3 API address, host:port
	DataDir  string
	LogPath  string
	User     string // root credentials
	Password string
}

// MinIO is a running MinIO server started by StartMinIO. Stop ends it.
type MinIO struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// StartMinIO starts MinIO and returns once it answers its liveness probe.
// The process dies with this one (Pdeathsig), so a killed demo leaves no
// MinIO behind.
func StartMinIO(ctx context.Context, o MinIOOptions) (*MinIO, error) {
	if _, err := os.Stat(o.Bin); err != nil {
		return nil, fmt.Errorf("minio binary %s: %w (run `go tool task setup`)", o.Bin, err)
	}
	if ln, err := net.Listen("tcp", o.Addr); err != nil {
		return nil, fmt.Errorf("minio address %s is not free: %w", o.Addr, err)
	} else {
		ln.Close()
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(o.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.Bin, "server", "--quiet", "--address", o.Addr, "--console-address", console, o.DataDir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+o.User,
		"MINIO_ROOT_PASSWORD="+o.Password,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	m := &MinIO{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(m.done) }()

	url := "http://" + o.Addr + "/minio/health/live"
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		select {
		case <-m.done:
			return nil, fmt.Errorf("minio exited during start; see %s", o.LogPath)
		case <-ctx.Done():
			m.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, errors.New("minio did not become ready in 60s; see " + o.LogPath)
		}
	}
}

// Stop terminates MinIO and waits for it: SIGTERM, SIGKILL after 10 s.
func (m *MinIO) Stop() {
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
