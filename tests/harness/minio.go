package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const (
	minioStartTimeout = 60 * time.Second // two busy cores can make MinIO slow to start
	minioStopTimeout  = 10 * time.Second
	logTailBytes      = 32 << 10
)

// MinIO is a real MinIO server started for one test. Endpoint, AccessKey and
// SecretKey are what a client needs (path-style addressing, any region);
// DataDir is its single drive. Its methods are for the goroutine that runs
// the test.
type MinIO struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	DataDir   string

	bin     string
	dir     string
	logPath string
	addr    string   // 127.0.0.1:PORT of the S3 API
	console string   // 127.0.0.1:PORT of the (disabled) console
	proc    *process // nil when stopped
}

// StartMinIO starts a MinIO server on 127.0.0.1 with a free port, a data
// dir in t.TempDir() and random root credentials, and waits until it
// serves requests. It is stopped (SIGTERM, then kill) by t.Cleanup; its log
// is printed with t.Log if the test fails. A missing binary or a server that
// does not come up fails the test.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	bin := RequireBinary(t, "minio")
	dir := t.TempDir()
	m := &MinIO{
		AccessKey: "genesissync-" + randomHex(t, 4),
		SecretKey: randomHex(t, 20),
		DataDir:   filepath.Join(dir, "data"),
		bin:       bin,
		dir:       dir,
		logPath:   filepath.Join(dir, "minio.log"),
	}
	for _, d := range []string{m.DataDir, filepath.Join(dir, "certs")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("minio: %v", err)
		}
	}
	// Cleanups run last-registered first: stop, then print the whole log.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("minio log (%s):\n%s", m.logPath, tail(m.logPath, logTailBytes))
		}
	})
	t.Cleanup(m.Stop)

	var err error
	for range 3 { // a free port can be taken between probing and binding
		m.addr, m.console = freeAddr(t), freeAddr(t)
		m.Endpoint = "http://" + m.addr
		if err = m.start(); err == nil {
			return m
		}
		m.Stop()
	}
	t.Fatalf("start minio: %v\n%s", err, tail(m.logPath, logTailBytes))
	return nil
}

// Stop stops the server: SIGTERM, then SIGKILL after 10 s. It is idempotent
// and keeps the data dir, so Restart can bring the same server back.
func (m *MinIO) Stop() {
	if m.proc == nil {
		return
	}
	m.proc.stop(syscall.SIGTERM, minioStopTimeout)
	m.proc = nil
}

// Restart stops the server and starts it again on the same address, with the
// same credentials and data, and waits until it serves requests. For fault
// tests.
func (m *MinIO) Restart(t testing.TB) {
	t.Helper()
	m.Stop()
	var err error
	deadline := time.Now().Add(minioStartTimeout)
	for time.Now().Before(deadline) {
		if err = m.start(); err == nil {
			return
		}
		m.Stop()
		time.Sleep(200 * time.Millisecond) // the port may not be free yet
	}
	t.Fatalf("restart minio: %v\n%s", err, tail(m.logPath, logTailBytes))
}

// LogPath returns the file the server logs to.
func (m *MinIO) LogPath() string { return m.logPath }

// Pid returns the server's process id, 0 when it is stopped. For
// benchmarks that account its CPU time.
func (m *MinIO) Pid() int {
	if m.proc == nil {
		return 0
	}
	return m.proc.cmd.Process.Pid
}

// start launches the process and waits until it is ready or has exited.
func (m *MinIO) start() error {
	args := []string{"server",
		"--address", m.addr,
		"--console-address", m.console,
		"--certs-dir", filepath.Join(m.dir, "certs"),
		m.DataDir}
	env := []string{
		"MINIO_ROOT_USER=" + m.AccessKey,
		"MINIO_ROOT_PASSWORD=" + m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on", // a temp dir on the root disk is fine here
	}
	proc, err := startProcess(m.bin, args, env, m.dir, m.logPath, "starting minio on "+m.addr)
	if err != nil {
		return err
	}
	m.proc = proc
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:   2 * time.Second,
	}
	return proc.waitReady("minio", minioStartTimeout, func() error { return m.ready(client) })
}

// ready asks /minio/health/live once: 200 without MinIO's
// "x-minio-server-status: offline" (HTTP up, object layer not yet
// initialised).
func (m *MinIO) ready(client *http.Client) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, m.Endpoint+"/minio/health/live", nil)
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

// freeAddr returns 127.0.0.1:PORT with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// tail returns the last n bytes of the file at path, or why it cannot.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		if _, err := f.Seek(-n, io.SeekEnd); err != nil {
			return fmt.Sprintf("(log: %v)", err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(log: %v)", err)
	}
	return string(b)
}
