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

	"genesissync/internal/s3server"
)

// logTailBytes is how much of a server's log a failed test prints.
const logTailBytes = 32 << 10

// S3Server is where a client finds a real S3 server a test started:
// path-style addressing, any region, root credentials. MinIO, VersityGW
// and SeaweedFS embed it; an appliance's bucket can live on any of them.
type S3Server struct {
	Endpoint             string // http://127.0.0.1:PORT
	AccessKey, SecretKey string
}

// newS3Server returns random root credentials for a server a test
// starts; the endpoint is set once its port is chosen.
func newS3Server(t testing.TB) S3Server {
	return S3Server{AccessKey: "genesissync-" + randomHex(t, 4), SecretKey: randomHex(t, 20)}
}

// server is the part of MinIO, VersityGW and SeaweedFS that is the same:
// the binary, a temp dir of the test's holding the server's data and log,
// and the process while it runs.
type server struct {
	name    string // in messages
	bin     string
	dir     string
	logPath string
	proc    *s3server.Server // nil before the first start
}

// newServer prepares the server name running bin, with its own temp dir
// and the log file logName in it.
func newServer(t testing.TB, name, bin, logName string) server {
	dir := t.TempDir()
	return server{name: name, bin: bin, dir: dir, logPath: filepath.Join(dir, logName)}
}

// dataDir is where the server keeps its data.
func (s *server) dataDir() string { return filepath.Join(s.dir, "data") }

// startOnFreePorts starts the server for the test t: try picks free
// ports and starts the server on them, up to three times, since a free
// port can be taken between probing and binding; stop stops it between
// tries and, by t.Cleanup, at the end of the test, and the log is printed
// with t.Log if the test failed. A server that does not come up fails the
// test.
func (s *server) startOnFreePorts(t testing.TB, stop func(), try func() error) {
	t.Helper()
	// Cleanups run last-registered first: stop, then print the log.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", s.name, s.logPath, tail(s.logPath, logTailBytes))
		}
	})
	t.Cleanup(stop)
	var err error
	for range 3 {
		if err = try(); err == nil {
			return
		}
		stop()
	}
	t.Fatalf("start %s: %v\n%s", s.name, err, tail(s.logPath, logTailBytes))
}

// start starts the process spec describes, filling in what server knows
// (name, binary, working directory, log), and waits until it is ready or
// has exited.
func (s *server) start(spec s3server.Spec) error {
	spec.Name, spec.Bin, spec.Dir, spec.LogPath = s.name, s.bin, s.dir, s.logPath
	proc, err := s3server.Start(context.Background(), spec)
	if err != nil {
		return err
	}
	s.proc = proc
	return nil
}

// stop stops the process, if it runs.
func (s *server) stop() { s.proc.Stop() }

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
