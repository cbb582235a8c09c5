package samba

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/model"
)

func TestRestartWait(t *testing.T) {
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		time.Minute, time.Minute, time.Minute}
	for i, w := range want {
		require.Equal(t, w, restartWait(i+1), "restart %d", i+1)
	}
	require.Equal(t, time.Minute, restartWait(1000))
}

// fakeSmbd is a private smbd that the test kills and Run stops.
type fakeSmbd struct {
	done    chan struct{}
	err     error
	stopErr error

	mu      sync.Mutex
	stopped bool
}

func newFakeSmbd() *fakeSmbd { return &fakeSmbd{done: make(chan struct{})} }

func (f *fakeSmbd) die(err error) { f.err = err; close(f.done) }

func (f *fakeSmbd) Done() <-chan struct{} { return f.done }

func (f *fakeSmbd) Err() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

func (f *fakeSmbd) Stop(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	return f.stopErr
}

func (f *fakeSmbd) wasStopped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stopped
}

// supervised is a Service as Start leaves it in standalone mode, with
// smbd running, its restarts answered by starts in turn, and every wait
// reported on waits and ended by a send on wake.
func supervised(smbd process, starts ...func() (process, error)) (s *Service, waits chan time.Duration, wake chan time.Time) {
	waits, wake = make(chan time.Duration, 10), make(chan time.Time)
	s = NewService(&config.Config{Samba: config.Samba{Mode: config.SambaStandalone}}, nil, zerolog.Nop())
	s.addr = "127.0.0.1:1445"
	s.smbd = smbd
	s.start = func(context.Context) (process, error) {
		next := starts[0]
		starts = starts[1:]
		return next()
	}
	s.after = func(d time.Duration) <-chan time.Time {
		waits <- d
		return wake
	}
	s.setStatus(model.Samba{Mode: config.SambaStandalone, Addr: s.addr, Up: true})
	return s, waits, wake
}

// TestServiceRunRestartsSmbd follows the status through a death of smbd,
// a failed restart, a good one and the stop at the end.
func TestServiceRunRestartsSmbd(t *testing.T) {
	first, second := newFakeSmbd(), newFakeSmbd()
	second.stopErr = errors.New("stop smbd: leftovers")
	s, waits, wake := supervised(first,
		func() (process, error) { return nil, errors.New("start smbd: port taken") },
		func() (process, error) { return second, nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()

	died := fmt.Errorf("%w: exit status 1", ErrSmbdExited)
	first.die(died)
	require.Equal(t, 2*time.Second, <-waits)
	require.Equal(t, model.Samba{Mode: config.SambaStandalone, Addr: "127.0.0.1:1445", Error: died.Error()}, s.Status())

	// The restart fails; the dead smbd is still the one watched, so the
	// next wait is longer and its error is shown again.
	wake <- time.Now()
	require.Equal(t, 4*time.Second, <-waits)
	require.Equal(t, model.Samba{Mode: config.SambaStandalone, Addr: "127.0.0.1:1445", Error: died.Error()}, s.Status())

	wake <- time.Now()
	require.Eventually(t, func() bool { return s.Status().Up }, 5*time.Second, time.Millisecond)
	require.Equal(t, model.Samba{Mode: config.SambaStandalone, Addr: "127.0.0.1:1445", Up: true}, s.Status())

	cancel()
	require.Equal(t, second.stopErr, <-ran, "Run returns what stopping smbd returned")
	require.True(t, second.wasStopped())
	require.False(t, first.wasStopped(), "a dead smbd is not stopped again")
	require.Equal(t, model.Samba{Mode: config.SambaStandalone, Addr: "127.0.0.1:1445"}, s.Status())
}

// TestServiceRunEndsWhileWaiting: a context that ends during the wait
// before a restart ends Run without a restart.
func TestServiceRunEndsWhileWaiting(t *testing.T) {
	first := newFakeSmbd()
	s, waits, _ := supervised(first, func() (process, error) { panic("restarted after the end") })
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	first.die(errors.New("killed"))
	require.Equal(t, 2*time.Second, <-waits)
	cancel()
	require.NoError(t, <-ran)
	require.Equal(t, model.Samba{Mode: config.SambaStandalone, Addr: "127.0.0.1:1445", Error: "killed"}, s.Status())
}

func TestServiceOff(t *testing.T) {
	s := NewService(&config.Config{Samba: config.Samba{Mode: config.SambaOff}}, nil, zerolog.Nop())
	require.Equal(t, model.Samba{}, s.Status(), "before Start")
	require.NoError(t, s.Start(context.Background()))
	require.Equal(t, model.Samba{Mode: config.SambaOff}, s.Status())
	require.Empty(t, s.Warnings())
	require.NoError(t, s.Run(context.Background()), "nothing to supervise")
}

// TestServiceStartUnreadablePassword: a password that cannot be read
// stops the start before anything is written, and SMB is not up.
func TestServiceStartUnreadablePassword(t *testing.T) {
	cfg := testConfig()
	cfg.Samba.Mode = config.SambaAppliance
	cfg.Samba.IncludeFile = filepath.Join(t.TempDir(), "genesissync.conf")
	cfg.Users["player1"] = config.User{PasswordFile: filepath.Join(t.TempDir(), "missing")}
	s := NewService(cfg, func() (int, int, error) { panic("owner asked") }, zerolog.Nop())
	err := s.Start(context.Background())
	require.ErrorContains(t, err, "users.player1: read password file")
	require.NoFileExists(t, cfg.Samba.IncludeFile)
	require.Equal(t, model.Samba{Mode: config.SambaAppliance}, s.Status())
}

func TestVFSWarnings(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	m := MissingModule{Module: "shadow_copy2", Shares: []string{"playout"}, Dir: "/usr/lib/samba/vfs"}
	ws := vfsWarnings([]MissingModule{m}, errors.New("smbd -b: not found"), log)
	require.Equal(t, []model.Warning{
		{ID: "samba-vfs-modules-unchecked", Message: "smbd -b: not found"},
		{ID: "samba-vfs-module-missing-shadow_copy2", Message: m.String()},
	}, ws)
	require.Contains(t, buf.String(), `"level":"warn","error":"smbd -b: not found","message":"could not check smbd's VFS modules"`)
	require.Contains(t, buf.String(), `"level":"error","module":"shadow_copy2","shares":["playout"],"dir":"/usr/lib/samba/vfs"`)
	require.Empty(t, vfsWarnings(nil, nil, log), "all there: no warnings")
}

// TestOwnShareRoots: existing roots go to the service user, missing ones
// are left alone.
func TestOwnShareRoots(t *testing.T) {
	root := t.TempDir()
	cfg := &config.Config{Shares: map[string]*config.Share{
		"playout": {Path: root},
		"gone":    {Path: filepath.Join(t.TempDir(), "not-mounted")},
	}}
	if os.Geteuid() != 0 {
		err := ownShareRoots(cfg, 4242, 4343)
		require.ErrorContains(t, err, "share playout: give "+root+" to uid 4242")
		return
	}
	require.NoError(t, ownShareRoots(cfg, 4242, 4343))
	fi, err := os.Stat(root)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	require.Equal(t, []uint32{4242, 4343}, []uint32{st.Uid, st.Gid})
	require.NoDirExists(t, cfg.Shares["gone"].Path)

	s := NewService(cfg, func() (int, int, error) { return 0, 0, errors.New("service user genesissync: unknown") }, zerolog.Nop())
	require.ErrorContains(t, s.ownShareRoots(), "service user genesissync: unknown")
}
