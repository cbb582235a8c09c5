package samba

import (
	"context"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/model"
)

// TestServiceStandalone runs Samba as the appliance does in standalone
// mode against the real smbd: Start serves the share with its root given
// to the service user, a killed smbd is restarted after the first wait,
// and the end of Run stops it with everything it started. Like
// TestSmbdIntegration it needs root and Debian's samba; it fails without
// them, never skips.
func TestServiceStandalone(t *testing.T) {
	require.Equal(t, 0, os.Geteuid(), "the Samba integration test must run as root (useradd, chown, smbd)")
	removeCreatedUsers(t, itService, itRW)

	dir := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	shareDir := filepath.Join(dir, "share")
	require.NoError(t, os.Mkdir(shareDir, 0o755))
	cfg := &config.Config{
		StateDir: dir,
		Samba: config.Samba{Mode: config.SambaStandalone, Listen: "127.0.0.1", Port: freePort(t),
			ServiceUser: itService, NetbiosName: "GSTEST"},
		Users:  map[string]config.User{itRW: {Password: itPwRW}},
		Shares: map[string]*config.Share{"media": {Name: "media", Path: shareDir, Access: map[string]string{itRW: config.AccessReadWrite}}},
	}
	cfg.ApplyDefaults()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Samba.Port))
	owner := func() (int, int, error) {
		u, err := user.Lookup(itService)
		if err != nil {
			return 0, 0, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return uid, gid, nil
	}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	s := NewService(cfg, owner, zerolog.New(logs))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, s.Start(ctx))
	require.Equal(t, model.Samba{Mode: config.SambaStandalone, Addr: addr, Up: true}, s.Status())
	require.Empty(t, s.Warnings(), "no VFS module named without a dataset")
	uid, gid, err := owner()
	require.NoError(t, err)
	fi, err := os.Stat(shareDir)
	require.NoError(t, err)
	require.Equal(t, []uint32{uint32(uid), uint32(gid)}, []uint32{fi.Sys().(*syscall.Stat_t).Uid, fi.Sys().(*syscall.Stat_t).Gid})
	require.NoError(t, Probe(ctx, addr, "media", itRW, itPwRW))

	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	first := s.smbd.(*Smbd)
	require.NoError(t, syscall.Kill(first.Pid(), syscall.SIGKILL))
	require.Eventually(t, func() bool { return s.Status().Error != "" }, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, s.Status().Error, "smbd exited unexpectedly")
	require.False(t, s.Status().Up)
	require.Eventually(t, func() bool { return s.Status().Up }, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, model.Samba{Mode: config.SambaStandalone, Addr: addr, Up: true}, s.Status())
	require.Contains(t, logs.String(), `"component":"samba","error":"smbd exited unexpectedly: signal: killed","restart_in":2000,"message":"smbd exited; restarting"`)
	require.NoError(t, Probe(ctx, addr, "media", itRW, itPwRW), "the restarted smbd serves")

	cancel()
	require.NoError(t, <-ran)
	require.Equal(t, model.Samba{Mode: config.SambaStandalone, Addr: addr}, s.Status())
	require.Empty(t, processesWithConf(ToolConfig(cfg)), "nothing outlives Run")
}
