package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
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
	// weed server starts its S3 gateway 2 s after the rest, and the
	// gateway waits for the filer.
	seaweedStartTimeout = 60 * time.Second
	// seaweedSetupTask builds weed; `task setup` does not (the build is
	// slow), so a missing binary names this task.
	seaweedSetupTask = "go tool task setup-providers"
)

// SeaweedFS is a real SeaweedFS started for one test: `weed server -s3`,
// a master, a volume server, a filer and the S3 gateway in one process,
// a third independent S3 implementation next to MinIO and versitygw. Its
// S3Server is what a client needs (path-style addressing, region
// us-east-1, the S3 gateway's endpoint); the identity is an admin of
// every bucket. DataDir holds the volumes, the master's state and the
// filer's leveldb. Its methods are for the goroutine that runs the test.
type SeaweedFS struct {
	S3Server
	DataDir string

	run   server
	ports seaweedPorts
	// launched says that start ran since the last Stop, so there may be
	// sockets to remove.
	launched bool
}

// seaweedPorts are the listeners of one weed server: every component has
// an HTTP and a gRPC port, each chosen here rather than derived (weed
// adds 10000 to the HTTP port by default, which may be taken).
type seaweedPorts struct {
	master, masterGRPC int
	volume, volumeGRPC int
	filer, filerGRPC   int
	s3, s3GRPC         int
}

// StartSeaweedFS starts `weed server -s3` on 127.0.0.1 with free ports,
// its data in t.TempDir() and one random admin identity (an -s3.config
// file, not argv), and waits until the S3 gateway answers and the master
// has a volume server to put objects on. It is stopped by t.Cleanup; its
// log is printed with t.Log if the test fails. A missing weed fails the
// test and names seaweedSetupTask. Its callers are behind the providers
// build tag (`go tool task test-providers`), outside the default suite.
func StartSeaweedFS(t testing.TB) *SeaweedFS {
	t.Helper()
	bin, err := findBinary("weed")
	if err != nil {
		t.Fatalf("weed (SeaweedFS) not found in %s or PATH: run `%s` (%v)", BinDir(), seaweedSetupTask, err)
	}
	s := &SeaweedFS{S3Server: newS3Server(t), run: newServer(t, "seaweedfs", bin, "weed.log")}
	s.DataDir = s.run.dataDir()
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		t.Fatalf("seaweedfs: %v", err)
	}
	if err := s.writeS3Config(); err != nil {
		t.Fatalf("seaweedfs: %v", err)
	}
	s.run.startOnFreePorts(t, s.Stop, func() error {
		s.ports = seaweedPorts{
			master: freePort(t), masterGRPC: freePort(t),
			volume: freePort(t), volumeGRPC: freePort(t),
			filer: freePort(t), filerGRPC: freePort(t),
			s3: freePort(t), s3GRPC: freePort(t),
		}
		s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", s.ports.s3)
		return s.start()
	})
	return s
}

// Stop kills the server and removes the unix sockets it made in /tmp. The
// data is thrown away with the temp dir, so there is nothing to shut down
// gracefully, and weed's graceful stop waits out volume heartbeats and
// filer peers. It is idempotent.
func (s *SeaweedFS) Stop() {
	if !s.launched {
		return
	}
	s.run.stop()
	for _, p := range s.sockets() {
		_ = os.Remove(p)
	}
	s.launched = false
}

// LogPath returns the file the server logs to.
func (s *SeaweedFS) LogPath() string { return s.run.logPath }

// sockets are the unix sockets weed server creates for its components'
// local traffic. The gRPC ones are always under /tmp (weed/command/
// server.go); the other two are set by start.
func (s *SeaweedFS) sockets() []string {
	p := s.ports
	return []string{
		fmt.Sprintf("/tmp/seaweedfs-master-grpc-%d.sock", p.masterGRPC),
		fmt.Sprintf("/tmp/seaweedfs-volume-grpc-%d.sock", p.volumeGRPC),
		fmt.Sprintf("/tmp/seaweedfs-filer-grpc-%d.sock", p.filerGRPC),
		fmt.Sprintf("/tmp/seaweedfs-s3-grpc-%d.sock", p.s3GRPC),
		fmt.Sprintf("/tmp/seaweedfs-filer-%d.sock", p.filer),
		fmt.Sprintf("/tmp/seaweedfs-s3-%d.sock", p.s3),
	}
}

// writeS3Config writes the gateway's static identities: one admin with
// the random credentials. With any identity configured, anonymous
// requests are refused.
func (s *SeaweedFS) writeS3Config() error {
	type credential struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	type identity struct {
		Name        string       `json:"name"`
		Credentials []credential `json:"credentials"`
		Actions     []string     `json:"actions"`
	}
	cfg := struct {
		Identities []identity `json:"identities"`
	}{[]identity{{
		Name:        "genesissync",
		Credentials: []credential{{s.AccessKey, s.SecretKey}},
		Actions:     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(s.s3ConfigPath(), b, 0o600)
}

func (s *SeaweedFS) s3ConfigPath() string { return filepath.Join(s.run.dir, "s3.json") }

// start launches the process and waits until it is ready or has exited.
func (s *SeaweedFS) start() error {
	p := s.ports
	args := []string{"server",
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-dir=" + s.DataDir,
		fmt.Sprintf("-master.port=%d", p.master), fmt.Sprintf("-master.port.grpc=%d", p.masterGRPC),
		fmt.Sprintf("-volume.port=%d", p.volume), fmt.Sprintf("-volume.port.grpc=%d", p.volumeGRPC),
		"-filer",
		fmt.Sprintf("-filer.port=%d", p.filer), fmt.Sprintf("-filer.port.grpc=%d", p.filerGRPC),
		"-s3",
		fmt.Sprintf("-s3.port=%d", p.s3), fmt.Sprintf("-s3.port.grpc=%d", p.s3GRPC),
		"-s3.config=" + s.s3ConfigPath(),
		// Off: the Iceberg and Lance catalogs (fixed ports otherwise) and
		// the anonymous usage report to telemetry.seaweedfs.com.
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-master.telemetry=false",
		// Every bucket is a collection of its own, and the master grows
		// 7 volumes for each by default: small volumes and no cap (0:
		// free space / volume size) leave room for the hundreds of
		// buckets a test run makes. Growth is set to one volume below.
		"-master.volumeSizeLimitMB=64", "-volume.max=0",
		// The volume server waits 10 s before it stops otherwise.
		"-volume.preStopSeconds=0",
	}
	// master.toml's volume_growth.copy_1, as `weed mini` sets it. weed
	// reads master.toml, filer.toml and the others from the working
	// directory first: the empty temp dir leaves the defaults.
	env := []string{"WEED_MASTER_VOLUME_GROWTH_COPY_1=1"}
	s.launched = true
	return s.run.start(s3server.Spec{
		Args: args, Env: env, Banner: fmt.Sprintf("starting weed server, S3 on 127.0.0.1:%d", p.s3),
		StartTimeout: seaweedStartTimeout,
		StopSignal:   syscall.SIGKILL,
		Ready:        s.ready,
	})
}

// ready makes one round of the readiness requests: the master has a
// volume server (else the first PUT finds no volume to write to), and the
// S3 gateway answers its health check and refuses an anonymous
// ListBuckets with an S3 error document (the identities are loaded).
func (s *SeaweedFS) ready(ctx context.Context, client *http.Client) error {
	a, err := s3server.GetOK(ctx, client, "master /dir/status", fmt.Sprintf("http://127.0.0.1:%d/dir/status", s.ports.master))
	if err != nil {
		return err
	}
	if !strings.Contains(a.Body, `"DataNodes":[{`) {
		return fmt.Errorf("master has no volume server yet: %.300s", a.Body)
	}
	if _, err := s3server.GetOK(ctx, client, "s3 /healthz", s.Endpoint+"/healthz"); err != nil {
		return err
	}
	return s3server.RefusesAnonymous(ctx, client, s.Endpoint)
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	var n int
	if _, err := fmt.Sscan(port, &n); err != nil {
		t.Fatalf("free port %q: %v", port, err)
	}
	return n
}
