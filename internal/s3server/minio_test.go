package s3server_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/s3server"
	"genesissync/tests/harness"
)

func options(t *testing.T, addr string) s3server.MinIOOptions {
	dir := t.TempDir()
	return s3server.MinIOOptions{
		Bin: harness.RequireBinary(t, "minio"), Addr: addr,
		DataDir: filepath.Join(dir, "data"), CertsDir: filepath.Join(dir, "certs"), Dir: dir,
		LogPath: filepath.Join(dir, "minio.log"), User: "genesissync-test", Password: "genesissync-test-secret",
		Quiet: true,
	}
}

// TestStartMinIO: the server serves once StartMinIO returns, and Stop ends
// it, also when called twice.
func TestStartMinIO(t *testing.T) {
	addr, err := s3server.FreeAddr()
	require.NoError(t, err)
	m, err := s3server.StartMinIO(context.Background(), options(t, addr))
	require.NoError(t, err)
	t.Cleanup(m.Stop)
	resp, err := http.Get("http://" + addr + "/minio/health/live")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	pid := m.Pid()
	require.NotZero(t, pid)
	m.Stop()
	m.Stop()
	require.Zero(t, m.Pid())
	require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "minio still running after Stop")
}

// TestStartMinIOFails: a taken address, a missing binary and a cancelled
// start are errors that say so, and leave no server running.
func TestStartMinIOFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	_, err = s3server.StartMinIO(context.Background(), options(t, l.Addr().String()))
	require.ErrorContains(t, err, "is not free")

	addr, err := s3server.FreeAddr()
	require.NoError(t, err)
	o := options(t, addr)
	o.Bin = filepath.Join(t.TempDir(), "minio")
	_, err = s3server.StartMinIO(context.Background(), o)
	require.ErrorContains(t, err, "task setup")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s3server.StartMinIO(ctx, options(t, addr))
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	l2, err := net.Listen("tcp", addr)
	require.NoError(t, err, "a cancelled start left minio listening")
	l2.Close()
}
