package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"genesissync/internal/s3server"
)

// logTailBytes is how much of a server's log a failed test prints.
const logTailBytes = 32 << 10

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
	addr    string          // 127.0.0.1:PORT of the S3 API
	console string          // 127.0.0.1:PORT of the (disabled) console
	srv     *s3server.MinIO // nil when stopped
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
	if m.srv == nil {
		return
	}
	m.srv.Stop()
	m.srv = nil
}

// Restart stops the server and starts it again on the same address, with the
// same credentials and data, and waits until it serves requests. For fault
// tests.
func (m *MinIO) Restart(t testing.TB) {
	t.Helper()
	m.Stop()
	var err error
	deadline := time.Now().Add(s3server.MinIOStartTimeout)
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
	if m.srv == nil {
		return 0
	}
	return m.srv.Pid()
}

// start launches the server and waits until it is ready or has exited.
func (m *MinIO) start() error {
	srv, err := s3server.StartMinIO(context.Background(), s3server.MinIOOptions{
		Bin: m.bin, Addr: m.addr, ConsoleAddr: m.console,
		DataDir: m.DataDir, CertsDir: filepath.Join(m.dir, "certs"), Dir: m.dir, LogPath: m.logPath,
		User: m.AccessKey, Password: m.SecretKey,
	})
	if err != nil {
		return err
	}
	m.srv = srv
	return nil
}

// freeAddr returns 127.0.0.1:PORT with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	addr, err := s3server.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
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
