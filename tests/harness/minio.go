package harness

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"genesissync/internal/s3server"
)

// MinIO is a real MinIO server started for one test. Its S3Server is what
// a client needs (path-style addressing, any region); DataDir is its
// single drive. Its methods are for the goroutine that runs the test.
type MinIO struct {
	S3Server
	DataDir string

	run     server
	addr    string // 127.0.0.1:PORT of the S3 API
	console string // 127.0.0.1:PORT of the (disabled) console
}

// StartMinIO starts a MinIO server on 127.0.0.1 with a free port, a data
// dir in t.TempDir() and random root credentials, and waits until it
// serves requests. It is stopped (SIGTERM, then kill) by t.Cleanup; its log
// is printed with t.Log if the test fails. A missing binary or a server that
// does not come up fails the test.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	m := &MinIO{S3Server: newS3Server(t), run: newServer(t, "minio", RequireBinary(t, "minio"), "minio.log")}
	m.DataDir = m.run.dataDir()
	m.run.startOnFreePorts(t, m.Stop, func() error {
		m.addr, m.console = freeAddr(t), freeAddr(t)
		m.Endpoint = "http://" + m.addr
		return m.start()
	})
	return m
}

// Stop stops the server: SIGTERM, then SIGKILL after 10 s. It is idempotent
// and keeps the data dir, so Restart can bring the same server back.
func (m *MinIO) Stop() { m.run.stop() }

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
	t.Fatalf("restart minio: %v\n%s", err, tail(m.run.logPath, logTailBytes))
}

// LogPath returns the file the server logs to.
func (m *MinIO) LogPath() string { return m.run.logPath }

// Pid returns the server's process id, 0 when it is stopped. For
// benchmarks that account its CPU time.
func (m *MinIO) Pid() int { return m.run.proc.Pid() }

// start launches the server and waits until it is ready or has exited.
func (m *MinIO) start() error {
	srv, err := s3server.StartMinIO(context.Background(), s3server.MinIOOptions{
		Bin: m.run.bin, Addr: m.addr, ConsoleAddr: m.console,
		DataDir: m.DataDir, CertsDir: filepath.Join(m.run.dir, "certs"), Dir: m.run.dir, LogPath: m.run.logPath,
		User: m.AccessKey, Password: m.SecretKey,
	})
	if err != nil {
		return err
	}
	m.run.proc = srv
	return nil
}
