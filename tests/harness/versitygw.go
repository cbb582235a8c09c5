package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"genesissync/internal/s3server"
)

const (
	versityStartTimeout = 30 * time.Second
	// versityHealthPath is the gateway's --health endpoint. An underscore
	// cannot start a bucket name, so it never shadows a bucket.
	versityHealthPath = "/_genesissync_health"
)

// VersityGW is a real Versity S3 Gateway (versitygw) started for one test,
// serving S3 over a posix directory: a second, independent S3
// implementation next to MinIO. Its S3Server is what a client needs
// (path-style addressing, region us-east-1). DataDir is the posix root:
// every bucket is a directory in it, every object a file, and object
// metadata (ETag, user metadata, checksums) lives in the files' user.*
// extended attributes. VersioningDir is where old versions go when the
// gateway was started WithVersioning, else empty. Its methods are for the
// goroutine that runs the test.
type VersityGW struct {
	S3Server
	DataDir       string
	VersioningDir string

	run  server
	addr string // 127.0.0.1:PORT
}

// VersityGWOption changes how StartVersityGW starts the gateway.
type VersityGWOption func(*VersityGW)

// WithVersioning starts the posix backend with a versioning directory
// (posix --versioning-dir), so that PutBucketVersioning can enable
// versioning on its buckets. Without it the gateway refuses to enable
// versioning.
func WithVersioning() VersityGWOption {
	return func(g *VersityGW) { g.VersioningDir = filepath.Join(g.run.dir, "versions") }
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
	g := &VersityGW{S3Server: newS3Server(t), run: newServer(t, "versitygw", RequireBinary(t, "versitygw"), "versitygw.log")}
	g.DataDir = g.run.dataDir()
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
	g.run.startOnFreePorts(t, g.Stop, func() error {
		g.addr = freeAddr(t)
		g.Endpoint = "http://" + g.addr
		return g.start()
	})
	return g
}

// Stop stops the gateway: SIGTERM, then SIGKILL after 10 s. It is
// idempotent and keeps the directories.
func (g *VersityGW) Stop() { g.run.stop() }

// LogPath returns the file the gateway logs to.
func (g *VersityGW) LogPath() string { return g.run.logPath }

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
	return g.run.start(s3server.Spec{
		Args: args, Env: env, Banner: "starting versitygw on " + g.addr,
		StartTimeout: versityStartTimeout,
		// Ready when it answers both its health endpoint (200) and an
		// unsigned S3 request (ListBuckets) with an S3 error document:
		// the HTTP server is up and the S3 router, with its posix
		// backend, is behind it.
		Ready: func(ctx context.Context, client *http.Client) error {
			if _, err := s3server.GetOK(ctx, client, "health", g.Endpoint+versityHealthPath); err != nil {
				return err
			}
			return s3server.RefusesAnonymous(ctx, client, g.Endpoint)
		},
	})
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
