package s3server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"
)

const (
	// MinIOStartTimeout bounds a MinIO start, generous because a loaded
	// machine brings MinIO up slowly.
	MinIOStartTimeout = 60 * time.Second
	minioStopTimeout  = 10 * time.Second
)

// MinIOOptions describe one MinIO server process.
type MinIOOptions struct {
	Bin  string // the minio binary
	Addr string // S3 API address, host:port
	// ConsoleAddr is the (disabled) console's address; empty picks a free
	// loopback port.
	ConsoleAddr string
	DataDir     string // the single drive, created if missing
	// CertsDir is the server's certificate directory, created if
	// missing; empty leaves MinIO's default (~/.minio/certs).
	CertsDir string
	Dir      string // working directory; empty is the current one
	LogPath  string // stdout and stderr are appended here
	User     string // root credentials
	Password string
	Quiet    bool // --quiet: no startup banner in the log
}

// MinIO is a running MinIO server started by StartMinIO. Its methods are
// for one goroutine.
type MinIO struct {
	proc *Process // nil once stopped
}

// StartMinIO starts MinIO and returns once it serves requests: its
// liveness probe answers 200 and the object layer is up. A server that
// exits, is not ready within MinIOStartTimeout or is still starting when
// ctx is done is stopped, and the error says why.
func StartMinIO(ctx context.Context, o MinIOOptions) (*MinIO, error) {
	if _, err := os.Stat(o.Bin); err != nil {
		return nil, fmt.Errorf("minio binary %s: %w (run `go tool task setup`)", o.Bin, err)
	}
	if err := checkFree(o.Addr); err != nil {
		return nil, fmt.Errorf("minio address %s is not free: %w", o.Addr, err)
	}
	for _, d := range []string{o.DataDir, o.CertsDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("minio: %w", err)
		}
	}
	console := o.ConsoleAddr
	if console == "" {
		var err error
		if console, err = FreeAddr(); err != nil {
			return nil, fmt.Errorf("minio console: %w", err)
		}
	}
	args := []string{"server", "--address", o.Addr, "--console-address", console}
	if o.Quiet {
		args = append(args, "--quiet")
	}
	if o.CertsDir != "" {
		args = append(args, "--certs-dir", o.CertsDir)
	}
	args = append(args, o.DataDir)
	env := []string{
		"MINIO_ROOT_USER=" + o.User,
		"MINIO_ROOT_PASSWORD=" + o.Password,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on", // a data dir on the root disk is fine here
	}
	proc, err := StartProcess(o.Bin, args, env, o.Dir, o.LogPath, "starting minio on "+o.Addr)
	if err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	m := &MinIO{proc: proc}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:   2 * time.Second,
	}
	url := "http://" + o.Addr + "/minio/health/live"
	if err := proc.WaitReady(ctx, "minio", MinIOStartTimeout, func() error { return ready(ctx, client, url) }); err != nil {
		m.Stop()
		return nil, fmt.Errorf("%w; see %s", err, o.LogPath)
	}
	return m, nil
}

// ready asks url, MinIO's liveness probe, once: 200 without
// "x-minio-server-status: offline" (HTTP up, object layer not yet
// initialised).
func ready(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("x-minio-server-status") == "offline" {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}

// Stop terminates MinIO and waits for it: SIGTERM, SIGKILL after 10 s.
// It is idempotent.
func (m *MinIO) Stop() {
	if m.proc == nil {
		return
	}
	m.proc.Stop(syscall.SIGTERM, minioStopTimeout)
	m.proc = nil
}

// Pid returns the server's process id, 0 once it is stopped.
func (m *MinIO) Pid() int {
	if m.proc == nil {
		return 0
	}
	return m.proc.Pid()
}
