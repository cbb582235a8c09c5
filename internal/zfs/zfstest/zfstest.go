// Package zfstest gives tests a real ZFS pool of their own on the zfs-fuse
// daemon of a test machine (`go tool task setup` installs it; tests need
// root, like zfs-fuse).
//
// It owns nothing but the pools it creates: each is named gs-test-<random>,
// lives on a sparse file under t.TempDir(), is kept out of the pool cache
// and is destroyed in t.Cleanup. It never lists, imports or destroys any
// other pool. The machine-wide daemon is started when not running and left
// running for other test processes. When ZFS cannot run, the test fails; it
// never skips.
package zfstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/zfs"
)

// Pool is a test's own pool.
type Pool struct {
	// Name is gs-test-<16 hex digits>.
	Name string
	// Mountpoint is where the pool's root dataset is mounted; datasets made
	// with Dataset are mounted below it by name.
	Mountpoint string
	// Daemon is the zfs-fuse daemon the pool lives on.
	Daemon zfs.FuseDaemon
}

// VdevSize is the size of a test pool's sparse vdev file, twice zpool's
// minimum; only the blocks written take disk space.
const VdevSize = 128 << 20

// NewPool starts zfs-fuse if needed and creates a pool for t alone,
// destroyed when t ends. It fails t if either cannot be done.
func NewPool(t testing.TB) *Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := zfs.EnsureFuseDaemon(ctx)
	require.NoError(t, err, "zfs-fuse must run for this test: it needs root and Debian's zfs-fuse (go tool task setup)")
	if d.Started {
		t.Logf("started zfs-fuse (pid %d); it stays running for other tests", d.Pid)
	}

	var b [8]byte
	_, _ = rand.Read(b[:])
	p := &Pool{Name: "gs-test-" + hex.EncodeToString(b[:]), Daemon: d}
	dir := t.TempDir()
	p.Mountpoint = filepath.Join(dir, "mnt")
	require.NoError(t, zfs.CreateFilePool(ctx, p.Name, filepath.Join(dir, "vdev"), p.Mountpoint, VdevSize))
	// Registered after TempDir's own cleanup, so it runs first: the pool is
	// gone before its vdev file and mountpoint are removed.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		// A pool whose datasets a test's daemon (and its smbd, and
		// samba-dcerpcd) just let go of can stay busy for a while on
		// zfs-fuse; DestroyPool retries for a few seconds, this for longer.
		err := zfs.DestroyPool(ctx, p.Name)
		for errors.Is(err, zfs.ErrBusy) && ctx.Err() == nil {
			time.Sleep(2 * time.Second)
			err = zfs.DestroyPool(ctx, p.Name)
		}
		if err != nil {
			t.Errorf("test pool left behind; remove it with `zpool destroy -f %s`: %v", p.Name, err)
		}
	})
	return p
}

// Dataset creates the file system Name/name and returns its full name and
// mountpoint.
func (p *Pool) Dataset(t testing.TB, name string) (dataset, mountpoint string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dataset = p.Name + "/" + name
	require.NoError(t, zfs.CreateDataset(ctx, dataset))
	info, err := zfs.Dataset(ctx, dataset)
	require.NoError(t, err)
	require.True(t, info.Mounted, "dataset %s was created but is not mounted", dataset)
	return dataset, info.Mountpoint
}
