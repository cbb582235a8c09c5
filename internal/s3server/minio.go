package s3server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

const (
	// MinIOStartTimeout bounds a MinIO start, generous because a loaded
	// machine brings MinIO up slowly.
	MinIOStartTimeout = 60 * time.Second
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

// StartMinIO starts MinIO and returns once it serves requests: its
// liveness probe answers 200 and the object layer is up. A server that
// exits, is not ready within MinIOStartTimeout or is still starting when
// ctx is done is stopped, and the error says why. Its Stop sends SIGTERM,
// and SIGKILL after 10 s.
func StartMinIO(ctx context.Context, o MinIOOptions) (*Server, error) {
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
	srv, err := Start(ctx, Spec{
		Name: "minio", Bin: o.Bin, Args: args, Env: env, Dir: o.Dir,
		LogPath: o.LogPath, Banner: "starting minio on " + o.Addr,
		StartTimeout: MinIOStartTimeout,
		Ready: func(ctx context.Context, client *http.Client) error {
			return ready(ctx, client, "http://"+o.Addr+"/minio/health/live")
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w; see %s", err, o.LogPath)
	}
	return srv, nil
}

// ready asks url, MinIO's liveness probe, once: 200 without
// "x-minio-server-status: offline" (HTTP up, object layer not yet
// initialised).
func ready(ctx context.Context, client *http.Client, url string) error {
	a, err := GetOK(ctx, client, "health", url)
	if err != nil {
		return err
	}
	if a.Header.Get("x-minio-server-status") == "offline" {
		return errors.New("health: object layer offline")
	}
	return nil
}
