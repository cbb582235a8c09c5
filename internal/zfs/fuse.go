package zfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"genesissync/internal/hosttool"
)

// This file serves test machines and development hosts, which run Debian's
// zfs-fuse 0.7 instead of OpenZFS. The appliance never calls it.

// FusePidFile is where the daemon's process id is kept: the Debian init
// script's file, so that `/etc/init.d/zfs-fuse stop` stops a daemon started
// here and the other way round.
const FusePidFile = "/var/run/zfs-fuse.pid"

// FuseDaemon describes the machine's zfs-fuse daemon.
type FuseDaemon struct {
	Pid int
	// Xattr is whether it was started with -x: Samba stores DOS
	// attributes and ACLs in extended attributes and needs it.
	Xattr bool
	// Started is whether this call started it.
	Started bool
}

// EnsureFuseDaemon makes sure the machine-wide zfs-fuse daemon answers,
// starting it with -x (extended attributes) if not, and leaves it running
// for other processes. A stale pid file is removed first (zfs-fuse exits 1
// on one without a word). Racing callers are fine: the loser's start fails
// on the daemon's lock and both find the winner answering. Needs root.
func EnsureFuseDaemon(ctx context.Context) (FuseDaemon, error) {
	if err := fuseAnswers(ctx); err == nil {
		return runningFuse(), nil
	} else if !errors.Is(err, ErrNoZFS) {
		return FuseDaemon{}, fmt.Errorf("start zfs-fuse: %w", err)
	}
	// A live daemon that does not answer yet is starting: the start below
	// then fails on its lock, and the wait finds it answering.
	if _, ok := fusePid(); !ok {
		if err := os.Remove(FusePidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return FuseDaemon{}, fmt.Errorf("start zfs-fuse: remove stale pid file: %w", err)
		}
	}
	startErr := startFuse(ctx)
	// zfs-fuse forks and returns before its socket listens, and a restart
	// imports the cached pools first.
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := fuseAnswers(ctx)
		if err == nil {
			d := runningFuse()
			d.Started = startErr == nil
			return d, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if startErr != nil {
				return FuseDaemon{}, fmt.Errorf("start zfs-fuse: %w; then: %w", startErr, err)
			}
			return FuseDaemon{}, fmt.Errorf("start zfs-fuse: not answering after start: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// fuseAnswers asks the daemon for its pools; ErrNoZFS means no daemon.
func fuseAnswers(ctx context.Context) error {
	_, err := execRunner{}.run(ctx, "zpool", "list", "-H", "-o", "name")
	return err
}

// startFuse runs zfs-fuse, which daemonizes: it returns once the daemon is
// forked. Its output goes to a file, not a pipe, so that the daemon, which
// keeps its inherited descriptors, cannot make Wait hang.
func startFuse(ctx context.Context) error {
	errFile, err := os.CreateTemp("", "zfs-fuse-start-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(errFile.Name())
	defer errFile.Close()
	cmd := exec.CommandContext(ctx, hosttool.Path("zfs-fuse"), "--enable-xattr", "--pidfile", FusePidFile)
	cmd.Env = hosttool.Env()
	cmd.Stdout, cmd.Stderr = errFile, errFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	out, _ := os.ReadFile(errFile.Name())
	if runErr != nil {
		return newToolError("zfs-fuse", cmd.Args[1:], runErr, string(out))
	}
	return nil
}

// fusePid is the pid in FusePidFile when that process is a live zfs-fuse;
// (0, true) when there is no pid file; (pid, false) when the file is stale.
func fusePid() (int, bool) {
	b, err := os.ReadFile(FusePidFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, true
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if _, ok := fuseCmdline(pid); !ok {
		return pid, false
	}
	return pid, true
}

// fuseCmdline is the argument list of pid when it is a zfs-fuse process.
func fuseCmdline(pid int) ([]string, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || len(b) == 0 {
		return nil, false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if filepath.Base(args[0]) != "zfs-fuse" {
		return nil, false
	}
	return args, true
}

// runningFuse describes the answering daemon from its pid file, or from
// /proc when it was started without one.
func runningFuse() FuseDaemon {
	pid, _ := fusePid()
	if pid == 0 {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if n, err := strconv.Atoi(e.Name()); err == nil {
				if _, ok := fuseCmdline(n); ok {
					pid = n
					break
				}
			}
		}
	}
	d := FuseDaemon{Pid: pid}
	if args, ok := fuseCmdline(pid); ok {
		for _, a := range args[1:] {
			if a == "-x" || a == "--enable-xattr" {
				d.Xattr = true
			}
		}
	}
	if rc, err := os.ReadFile("/etc/zfs/zfsrc"); err == nil {
		for l := range strings.SplitSeq(string(rc), "\n") {
			if strings.TrimSpace(l) == "enable-xattr" {
				d.Xattr = true
			}
		}
	}
	return d
}

// StopFuseDaemon stops the zfs-fuse daemon named in FusePidFile: it
// refuses while any pool is imported (the daemon is machine-wide; a pool is
// someone's), sends SIGTERM, waits for the process to exit and removes the
// pid file. Nothing running is not an error.
func StopFuseDaemon(ctx context.Context) error {
	out, err := execRunner{}.run(ctx, "zpool", "list", "-H", "-o", "name")
	if errors.Is(err, ErrNoZFS) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop zfs-fuse: %w", err)
	}
	if pools := lines(out); len(pools) > 0 && !(len(pools) == 1 && pools[0] == "no pools available") {
		return fmt.Errorf("stop zfs-fuse: pools are imported: %s", strings.Join(pools, ", "))
	}
	pid, ok := fusePid()
	if !ok || pid == 0 {
		return fmt.Errorf("stop zfs-fuse: it answers but %s does not name it", FusePidFile)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop zfs-fuse (pid %d): %w", pid, err)
	}
	for {
		if _, alive := fuseCmdline(pid); !alive {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stop zfs-fuse (pid %d): %w", pid, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := os.Remove(FusePidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stop zfs-fuse: %w", err)
	}
	return nil
}

// MinVdevSize is the smallest vdev zpool accepts (64 MiB).
const MinVdevSize = 64 << 20

// CreateFilePool creates pool on one sparse file of size bytes at vdev,
// mounted at mountpoint, and kept out of the pool cache (cachefile=none) so
// that a daemon restart does not bring it back. For tests and development.
func CreateFilePool(ctx context.Context, pool, vdev, mountpoint string, size int64) error {
	if err := checkPool(pool); err != nil {
		return err
	}
	if size < MinVdevSize {
		return fmt.Errorf("create pool %q: vdev size %d is under zpool's minimum of %d", pool, size, MinVdevSize)
	}
	if !filepath.IsAbs(vdev) || !filepath.IsAbs(mountpoint) {
		return fmt.Errorf("create pool %q: vdev %q and mountpoint %q must be absolute", pool, vdev, mountpoint)
	}
	f, err := os.OpenFile(vdev, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create pool %q: %w", pool, err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create pool %q: vdev: %w", pool, err)
	}
	if _, err := (execRunner{}).run(ctx, "zpool", "create", "-o", "cachefile=none", "-m", mountpoint, pool, vdev); err != nil {
		return fmt.Errorf("create pool %q: %w", pool, err)
	}
	return nil
}

// DestroyPool destroys pool and everything in it, retrying a busy answer.
// For tests and development only.
func DestroyPool(ctx context.Context, pool string) error {
	if err := checkPool(pool); err != nil {
		return err
	}
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		args := []string{"destroy", pool}
		if attempt > 3 {
			args = []string{"destroy", "-f", pool}
		}
		_, err := (execRunner{}).run(ctx, "zpool", args...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrBusy) || attempt >= 8 {
			return fmt.Errorf("destroy pool %q: %w", pool, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("destroy pool %q: %w (last answer: %w)", pool, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// CreateDataset creates the file system dataset, mounted under its
// parent's mountpoint; the parent must exist. An existing one fails with
// ErrExists. For tests and development.
func CreateDataset(ctx context.Context, dataset string) error {
	if err := checkDataset(dataset); err != nil {
		return err
	}
	if !strings.Contains(dataset, "/") {
		return fmt.Errorf("create dataset %q: %w: a pool's root dataset is made with the pool", dataset, ErrInvalidName)
	}
	if _, err := (execRunner{}).run(ctx, "zfs", "create", dataset); err != nil {
		return fmt.Errorf("create dataset %q: %w", dataset, err)
	}
	return nil
}
