package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"genesissync/internal/s3server"
)

const (
	versityStartTimeout = 30 * time.Second
	versityStopTimeout  = 10 * time.Second
	// versityHealthPath is the gateway's --health endpoint. An underscore
	// cannot start a bucket name, so it never shadows a bucket.
	versityHealthPath = "/_genesissync_health"
)

// VersityGW is a real Versity S3 Gateway (versitygw) started for one test,
// serving S3 over a posix directory: a second, independent S3
// implementation next to MinIO. Endpoint, AccessKey and SecretKey are what a
// client needs (path-style addressing, region us-east-1). DataDir is the
// posix root: every bucket is a directory in it, every object a file, and
// object metadata (ETag, user metadata, checksums) lives in the files'
// user.* extended attributes. VersioningDir is where old versions go when
// the gateway was started WithVersioning, else empty. Its methods are for
// the goroutine that runs the test.
type VersityGW struct {
	Endpoint      string // http://127.0.0.1:PORT
	AccessKey     string
	SecretKey     string
	DataDir       string
	VersioningDir string

	bin     string
	dir     string
	logPath string
	addr    string            // 127.0.0.1:PORT
	proc    *s3server.Process // nil when stopped
}

// VersityGWOption changes how StartVersityGW starts the gateway.
type VersityGWOption func(*VersityGW)

// WithVersioning starts the posix backend with a versioning directory
// (posix --versioning-dir), so that PutBucketVersioning can enable
// versioning on its buckets. Without it the gateway refuses to enable
// versioning.
func WithVersioning() VersityGWOption {
	return func(g *VersityGW) { g.VersioningDir = filepath.Join(g.dir, "versions") }
}

// StartVersityGW starts versitygw's posix backend on 127.0.0.1 with a free
// port, its root and (WithVersioning) versioning directories in
// t.TempDir() and random root credentials, and waits until it answers S3
// requests. It is stopped (SIGTERM, then kill) by t.Cleanup; its log is
// printed with t.Log if the test fails. A missing binary, a temp dir
// without user extended attributes, or a gateway that does not come up
// fails the test.
func StartVersityGW(t testing.TB, opts ...VersityGWOption) *VersityGW {
	t.Helper()
	bin := RequireBinary(t, "versitygw")
	dir := t.TempDir()
	g := &VersityGW{
		AccessKey: "genesissync-" + randomHex(t, 4),
		SecretKey: randomHex(t, 20),
		DataDir:   filepath.Join(dir, "data"),
		bin:       bin,
		dir:       dir,
		logPath:   filepath.Join(dir, "versitygw.log"),
	}
	for _, o := range opts {
		o(g)
	}
	for _, d := range []string{g.DataDir, g.VersioningDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("versitygw: %v", err)
		}
		if err := checkUserXattrs(d); err != nil {
			t.Fatalf("versitygw keeps object metadata in user xattrs, and %s has none (put the temp dir, $TMPDIR, on ext4, xfs, btrfs or zfs): %v", d, err)
		}
	}
	// Cleanups run last-registered first: stop, then print the log.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("versitygw log (%s):\n%s", g.logPath, tail(g.logPath, logTailBytes))
		}
	})
	t.Cleanup(g.Stop)

	var err error
	for range 3 { // a free port can be taken between probing and binding
		g.addr = freeAddr(t)
		g.Endpoint = "http://" + g.addr
		if err = g.start(); err == nil {
			return g
		}
		g.Stop()
	}
	t.Fatalf("start versitygw: %v\n%s", err, tail(g.logPath, logTailBytes))
	return nil
}

// Stop stops the gateway: SIGTERM, then SIGKILL after 10 s. It is
// idempotent and keeps the directories.
func (g *VersityGW) Stop() {
	if g.proc == nil {
		return
	}
	g.proc.Stop(syscall.SIGTERM, versityStopTimeout)
	g.proc = nil
}

// LogPath returns the file the gateway logs to.
func (g *VersityGW) LogPath() string { return g.logPath }

// start launches the process and waits until it is ready or has exited.
func (g *VersityGW) start() error {
	args := []string{
		"--port", g.addr,
		"--health", versityHealthPath,
		"--quiet", // no line per request: the log is for failures
		"posix",
	}
	if g.VersioningDir != "" {
		args = append(args, "--versioning-dir", g.VersioningDir)
	}
	args = append(args, g.DataDir)
	// Credentials through the environment, not argv: ps shows argv to
	// every user of a shared machine.
	env := []string{
		"ROOT_ACCESS_KEY_ID=" + g.AccessKey,
		"ROOT_SECRET_ACCESS_KEY=" + g.SecretKey,
	}
	proc, err := s3server.StartProcess(g.bin, args, env, g.dir, g.logPath, "starting versitygw on "+g.addr)
	if err != nil {
		return err
	}
	g.proc = proc
	// Ready when it answers both its health endpoint (200) and an
	// unsigned S3 request (ListBuckets) with an S3 error document: the
	// HTTP server is up and the S3 router, with its posix backend, is
	// behind it.
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:   2 * time.Second,
	}
	return proc.WaitReady(context.Background(), "versitygw", versityStartTimeout, func() error { return g.ready(client) })
}

// ready makes one round of the readiness requests.
func (g *VersityGW) ready(client *http.Client) error {
	status, _, err := httpGet(client, g.Endpoint+versityHealthPath)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("health: HTTP %d", status)
	}
	status, body, err := httpGet(client, g.Endpoint+"/")
	if err != nil {
		return err
	}
	// Anonymous ListBuckets: S3 refuses it with an XML error document.
	if status != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		return fmt.Errorf("anonymous ListBuckets: HTTP %d %.200q, want 403 AccessDenied", status, body)
	}
	return nil
}

// httpGet fetches url and returns the status and up to 4 KiB of the body.
func httpGet(client *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, string(b), nil
}

// checkUserXattrs reports whether files in dir can carry user.* extended
// attributes, by setting one on a scratch file.
func checkUserXattrs(dir string) error {
	f, err := os.CreateTemp(dir, ".xattr-check-")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	if err := syscall.Setxattr(name, "user.genesissync.check", []byte("1"), 0); err != nil {
		return fmt.Errorf("setxattr %s: %w", name, err)
	}
	return nil
}
