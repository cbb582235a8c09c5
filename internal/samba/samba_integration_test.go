package samba

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hirochachacha/go-smb2"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/hosttool"
	"genesissync/internal/model"
	"genesissync/internal/playout"
)

// Integration test against the real smbd. It needs root (useradd, chown,
// smbd) and Debian's samba and smbclient packages; without them it fails,
// never skips.

const (
	itService = "gsit-svc"
	itRW      = "gsit-rw"
	itRO      = "gsit-ro"
	itPwRW    = "rw pass: 'x' ; # = [y]" // shell and smb.conf syntax, harmless on stdin
	itPwRO    = "ro-pass-2"
)

func TestSmbdIntegration(t *testing.T) {
	for _, tool := range []string{"smbd", "testparm", "pdbedit", "smbcontrol", "smbstatus", "useradd", "userdel", "getent"} {
		_, err := exec.LookPath(hosttool.Path(tool))
		require.NoError(t, err, "%s is required (apt-get install samba smbclient passwd)", tool)
	}
	require.Equal(t, 0, os.Geteuid(), "the Samba integration test must run as root (useradd, chown, smbd)")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	removeCreatedUsers(t, itService, itRW, itRO)

	// The share lives under t.TempDir(), which is 0700 and root's: the
	// service user must be able to reach and write it.
	dir := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	shareDir := filepath.Join(dir, "share")
	require.NoError(t, os.Mkdir(shareDir, 0o755))

	g := Global{
		Listen:      "127.0.0.1",
		Port:        freePort(t),
		RunDir:      filepath.Join(dir, "run"),
		ServiceUser: itService,
		Workgroup:   "WORKGROUP",
		NetbiosName: "GSTEST",
	}
	defs := []ShareDef{{Name: "media", Path: shareDir, Comment: "integration test",
		ReadWrite: []string{itRW}, ReadOnly: []string{itRO}, ForceUser: itService}}
	conf := g.ConfigPath()
	addr := net.JoinHostPort(g.Listen, strconv.Itoa(g.Port))

	text, err := Render(g, defs)
	require.NoError(t, err)
	require.NoError(t, MakeRunDirs(g))
	require.NoError(t, WriteInclude(conf, text))
	require.NoError(t, Testparm(ctx, conf))
	require.NoError(t, SyncUsers(ctx, itService, map[string]string{itRW: itPwRW, itRO: itPwRO}, conf))

	svc, err := user.Lookup(itService)
	require.NoError(t, err)
	uid, _ := strconv.Atoi(svc.Uid)
	gid, _ := strconv.Atoi(svc.Gid)
	require.NoError(t, os.Chown(shareDir, uid, gid))
	// The appliance's own temp file, placed on disk.
	require.NoError(t, os.WriteFile(filepath.Join(shareDir, ".genesissync-tmp-x"), []byte("partial"), 0o644))

	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("smbd log:\n%s", logs.String())
		}
	})
	log := zerolog.New(logs)

	t.Run("start failures are explained", func(t *testing.T) {
		_, err := StartSmbd(ctx, filepath.Join(dir, "missing.conf"), g, log)
		require.Error(t, err)
		require.Contains(t, err.Error(), "smbd exited (exit status 1) before accepting connections")
		require.Contains(t, err.Error(), "Failed to load config file")

		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		busy := g
		busy.Port = l.Addr().(*net.TCPAddr).Port
		_, err = StartSmbd(ctx, conf, busy, log)
		require.Error(t, err)
		require.Contains(t, err.Error(), "already accepts connections")
	})

	started := time.Now()
	s, err := StartSmbd(ctx, conf, g, log)
	require.NoError(t, err)
	t.Logf("smbd accepted connections after %s", time.Since(started).Round(time.Millisecond))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = s.Stop(context.Background())
		}
	})

	t.Run("probe", func(t *testing.T) {
		require.NoError(t, Probe(ctx, addr, "media", itRW, itPwRW))
		require.NoError(t, Probe(ctx, addr, "media", itRO, itPwRO))

		tests := []struct {
			name, addr, share, user, pw, step string
		}{
			{"wrong password", addr, "media", itRW, "wrong", StepLogOn},
			{"unknown user", addr, "media", "nobody-here", "x", StepLogOn},
			{"unknown share", addr, "nosuch", itRW, itPwRW, StepMount},
			{"service user has no SMB password", addr, "media", itService, "x", StepLogOn},
			{"nothing listening", "127.0.0.1:1", "media", itRW, itPwRW, StepDial},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := Probe(ctx, tt.addr, tt.share, tt.user, tt.pw)
				var pe *ProbeError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, tt.step, pe.Step, "error: %v", err)
				require.NotContains(t, err.Error(), itPwRW)
			})
		}
	})

	rw, err := Connect(ctx, addr, "media", itRW, itPwRW)
	require.NoError(t, err)
	defer rw.Close()
	ro, err := Connect(ctx, addr, "media", itRO, itPwRO)
	require.NoError(t, err)
	defer ro.Close()

	t.Run("read-write user writes as the service user", func(t *testing.T) {
		data := []byte("RIFF....WAVEfmt ")
		require.NoError(t, rw.WriteFile("jingle.wav", data, 0o644))
		got, err := rw.ReadFile("jingle.wav")
		require.NoError(t, err)
		require.Equal(t, data, got)

		fi, err := os.Stat(filepath.Join(shareDir, "jingle.wav"))
		require.NoError(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		require.Equal(t, uint32(uid), st.Uid, "file not owned by the service user")
		require.Equal(t, os.FileMode(0o664), fi.Mode().Perm()&0o664)

		require.NoError(t, rw.Mkdir("Adverts", 0o755))
		fi, err = os.Stat(filepath.Join(shareDir, "Adverts"))
		require.NoError(t, err)
		require.Equal(t, uint32(uid), fi.Sys().(*syscall.Stat_t).Uid)
	})

	t.Run("client reads are counted", func(t *testing.T) {
		// What the playout detector samples: a client reading 4 MiB moves
		// the kernel's count of bytes smbd's connections sent by at least
		// that much.
		track := bytes.Repeat([]byte("playout!"), 512<<10)
		require.NoError(t, os.WriteFile(filepath.Join(shareDir, "track.wav"), track, 0o644))
		sum := func(m map[uint64]int64) (n int64) {
			for _, v := range m {
				n += v
			}
			return n
		}
		_, portStr, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		port, err := strconv.Atoi(portStr)
		require.NoError(t, err)
		before, err := playout.SentBytes([]int{port})
		require.NoError(t, err)
		got, err := ro.ReadFile("track.wav")
		require.NoError(t, err)
		require.Len(t, got, len(track))
		after, err := playout.SentBytes([]int{port})
		require.NoError(t, err)
		require.GreaterOrEqual(t, sum(after)-sum(before), int64(len(track)))
	})

	t.Run("appliance names are vetoed", func(t *testing.T) {
		ents, err := rw.ReadDir("")
		require.NoError(t, err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		require.Contains(t, names, "jingle.wav")
		require.NotContains(t, names, ".genesissync-tmp-x")

		_, err = rw.ReadFile(".genesissync-tmp-x")
		require.Error(t, err, "vetoed temp file readable over SMB")
		_, err = rw.Stat(".genesissync-tmp-x")
		require.Error(t, err)
		require.Error(t, rw.WriteFile(".genesissync-new", []byte("x"), 0o644), "vetoed name creatable over SMB")
		_, err = os.Stat(filepath.Join(shareDir, ".genesissync-new"))
		require.True(t, errors.Is(err, os.ErrNotExist))
		require.Error(t, rw.Rename("jingle.wav", ".genesissync-renamed"), "rename to a vetoed name allowed")

		// A directory holding an appliance temp file cannot be removed.
		require.NoError(t, os.WriteFile(filepath.Join(shareDir, "Adverts", ".genesissync-tmp-y"), []byte("p"), 0o644))
		require.Error(t, rw.Remove("Adverts"))
		_, err = os.Stat(filepath.Join(shareDir, "Adverts", ".genesissync-tmp-y"))
		require.NoError(t, err, "appliance temp file deleted through SMB")
	})

	t.Run("read-only user cannot write", func(t *testing.T) {
		got, err := ro.ReadFile("jingle.wav")
		require.NoError(t, err)
		require.NotEmpty(t, got)
		require.Error(t, ro.WriteFile("ro.wav", []byte("x"), 0o644))
		_, err = os.Stat(filepath.Join(shareDir, "ro.wav"))
		require.True(t, errors.Is(err, os.ErrNotExist))
		require.Error(t, ro.Remove("jingle.wav"))
		require.Error(t, ro.Mkdir("ro-dir", 0o755))
		_, err = os.Stat(filepath.Join(shareDir, "jingle.wav"))
		require.NoError(t, err)
	})

	t.Run("open files", func(t *testing.T) {
		f, err := rw.OpenFile("jingle.wav", os.O_RDWR, 0)
		require.NoError(t, err)
		r, err := ro.Open("jingle.wav")
		require.NoError(t, err)
		// Each open names its session, although with the share's force
		// user both run as the service account.
		type holder struct {
			user, machine string
			write         bool
		}
		jingle := func() (write bool, holders []holder) {
			t.Helper()
			files, err := OpenFiles(ctx, conf)
			require.NoError(t, err)
			i := slices.IndexFunc(files, func(f OpenFile) bool { return f.SharePath == shareDir && f.Path == "jingle.wav" })
			require.GreaterOrEqual(t, i, 0, "jingle.wav not open: %+v", files)
			for _, h := range files[i].Holders {
				require.True(t, strings.HasPrefix(h.Remote, "127.0.0.1:"), h.Remote)
				require.False(t, h.OpenedAt.IsZero())
				holders = append(holders, holder{h.User, h.Machine, h.Write})
			}
			return files[i].Write, holders
		}
		write, holders := jingle()
		require.True(t, write)
		require.Equal(t, []holder{{itRW, "127.0.0.1", true}, {itRO, "127.0.0.1", false}}, holders)
		require.NoError(t, f.Close())

		write, holders = jingle()
		require.False(t, write)
		require.Equal(t, []holder{{itRO, "127.0.0.1", false}}, holders)
		require.NoError(t, r.Close())

		files, err := OpenFiles(ctx, conf)
		require.NoError(t, err)
		for _, f := range files {
			require.NotEqual(t, "jingle.wav", f.Path, "closed file still listed: %+v", files)
		}
	})

	t.Run("suspects name the client that wrote", func(t *testing.T) {
		cfg := &config.Config{Samba: config.Samba{Mode: config.SambaStandalone, RunDir: g.RunDir},
			Shares: map[string]*config.Share{"media": {Name: "media", Path: shareDir}}}
		w := NewClientsWatcher(cfg, log)
		wctx, stopWatcher := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() { ran <- w.Run(wctx) }()
		defer func() { stopWatcher(); <-ran }()
		w.Watch("media", time.Minute)

		// A Windows client names its workstation in the NTLM log on.
		c := dialWorkstation(t, ctx, addr, "media", itRW, itPwRW, "STUDIO-PC")
		require.NoError(t, c.MkdirAll("spots", 0o755))
		f, err := c.OpenFile("spots/a.mp3", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		require.NoError(t, err)
		_, err = f.Write(bytes.Repeat([]byte{0x5a, 0xa5}, 4096))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shareDir, "b.mp3"), []byte("ID3"), 0o644))
		r, err := ro.Open("b.mp3")
		require.NoError(t, err)
		if *captureSmbstatus != "" {
			out, _, err := (execRunner{}).run(ctx, nil, "smbstatus", confArgs(conf, "--json")...)
			require.NoError(t, err)
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, bytes.TrimSpace(out), "", "    "))
			pretty.WriteByte('\n')
			require.NoError(t, os.WriteFile(*captureSmbstatus, pretty.Bytes(), 0o644))
		}
		// The fast poll sees the write open while it lasts.
		require.Eventually(t, func() bool {
			return slices.Contains(w.Status().OpenFiles, model.OpenFile{Share: "media", Path: "spots/a.mp3", Write: true})
		}, 5*time.Second, 20*time.Millisecond)
		require.NoError(t, f.Close())
		require.NoError(t, r.Close())
		require.NoError(t, c.Close())
		files, err := OpenFiles(ctx, conf)
		require.NoError(t, err)
		require.Empty(t, files, "nothing open any more")

		got := w.Suspects(ctx, "media", []string{"spots/a.mp3"})
		require.Len(t, got, 2, "%+v", got)
		require.Equal(t, itRW, got[0].User)
		require.Equal(t, "127.0.0.1", got[0].Machine)
		require.True(t, strings.HasPrefix(got[0].Remote, "127.0.0.1:"), got[0].Remote)
		require.Equal(t, "media", got[0].Share)
		require.Equal(t, SuspectChanged, got[0].Level)
		require.Equal(t, "had one of the changed files open for writing", got[0].Evidence)
		require.Equal(t, []string{"spots/a.mp3"}, got[0].Paths)
		require.WithinDuration(t, time.Now(), got[0].LastSeen, 30*time.Second)
		require.Equal(t, itRO, got[1].User, "the reader is still connected")
		require.Equal(t, SuspectConnected, got[1].Level)
	})

	t.Run("share listing spawns samba-dcerpcd", func(t *testing.T) {
		names, err := rw.ShareNames()
		require.NoError(t, err)
		require.Contains(t, names, "media")
		pid := pidFromFile(t, filepath.Join(g.PidDir(), "samba-dcerpcd.pid"))
		p, ok := readProc(pid)
		require.True(t, ok && !p.zombie, "samba-dcerpcd not running")
		require.True(t, p.usesConf(conf), "samba-dcerpcd runs with %q", p.cmdline)
	})

	t.Run("reload and user removal", func(t *testing.T) {
		require.NoError(t, s.Reload(ctx))
		require.NoError(t, SyncUsers(ctx, itService, map[string]string{itRW: itPwRW}, conf))
		err := Probe(ctx, addr, "media", itRO, itPwRO)
		var pe *ProbeError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, StepLogOn, pe.Step)
		require.NoError(t, Probe(ctx, addr, "media", itRW, itPwRW))
	})

	t.Run("unexpected exit is reported and a restart works", func(t *testing.T) {
		require.NoError(t, syscall.Kill(s.Pid(), syscall.SIGKILL))
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed after smbd was killed")
		}
		require.ErrorIs(t, s.Err(), ErrSmbdExited)
		require.ErrorIs(t, s.Wait(), ErrSmbdExited)
		require.NoError(t, s.Stop(ctx), "Stop after a crash cleans up")

		s, err = StartSmbd(ctx, conf, g, log)
		require.NoError(t, err)
		require.NoError(t, Probe(ctx, addr, "media", itRW, itPwRW))
	})

	t.Run("stop leaves nothing running", func(t *testing.T) {
		// Make sure samba-dcerpcd runs again, so that Stop must end it.
		c, err := Connect(ctx, addr, "media", itRW, itPwRW)
		require.NoError(t, err)
		_, err = c.ShareNames()
		require.NoError(t, err)
		require.NoError(t, c.Close())
		pid := pidFromFile(t, filepath.Join(g.PidDir(), "samba-dcerpcd.pid"))
		p, ok := readProc(pid)
		require.True(t, ok && !p.zombie && p.usesConf(conf), "samba-dcerpcd not running before Stop")

		start := time.Now()
		require.NoError(t, s.Stop(ctx))
		stopped = true
		t.Logf("Stop took %s", time.Since(start).Round(time.Millisecond))
		select {
		case <-s.Done():
		default:
			t.Fatal("Done not closed after Stop")
		}
		require.NoError(t, s.Err())
		require.Empty(t, procsMentioning(g.RunDir), "processes left after Stop")
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		require.Error(t, err, "port still accepts connections after Stop")
	})

	t.Run("a server left by a dead supervisor is replaced", func(t *testing.T) {
		// An smbd whose supervisor was SIGKILLed keeps running in its own
		// session and holds the port.
		orphan := exec.Command(hosttool.Path("smbd"), "--foreground", "--no-process-group", "-s", conf)
		orphan.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		require.NoError(t, orphan.Start())
		reaped := make(chan struct{})
		go func() { _ = orphan.Wait(); close(reaped) }()
		require.Eventually(t, func() bool {
			c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err == nil
		}, 10*time.Second, 25*time.Millisecond)

		s2, err := StartSmbd(ctx, conf, g, log)
		require.NoError(t, err)
		select {
		case <-reaped:
		case <-time.After(5 * time.Second):
			t.Fatal("orphaned smbd still running after StartSmbd")
		}
		require.NoError(t, Probe(ctx, addr, "media", itRW, itPwRW))
		require.NoError(t, s2.Stop(ctx))
		require.Empty(t, procsMentioning(g.RunDir), "processes left after Stop")
	})
}

// captureSmbstatus names a file for `smbstatus --json` as it is while one
// client holds a file open for writing and another one open for reading
// (testdata/smbstatus-write.json was taken so), indented.
var captureSmbstatus = flag.String("capture-smbstatus", "", "write smbstatus --json, taken in TestSmbdIntegration while a client writes, to this file")

// smbClient is a go-smb2 session with one share mounted.
type smbClient struct {
	*smb2.Share
	session *smb2.Session
}

func (c *smbClient) Close() error {
	return errors.Join(c.Umount(), c.session.Logoff())
}

// dialWorkstation logs on to addr as user, naming workstation in NTLM as
// a Windows client does (Connect names none), and mounts share. The test
// closes it; closing twice hangs go-smb2.
func dialWorkstation(t *testing.T, ctx context.Context, addr, share, user, password, workstation string) *smbClient {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	sd := &smb2.Dialer{Initiator: &smb2.NTLMInitiator{User: user, Password: password, Workstation: workstation}}
	sess, err := sd.DialContext(ctx, conn)
	require.NoError(t, err)
	fs, err := sess.Mount(`\\127.0.0.1\` + share)
	require.NoError(t, err)
	return &smbClient{Share: fs.WithContext(ctx), session: sess.WithContext(ctx)}
}

// procsMentioning lists live processes whose command line contains s
// (zombies have an empty command line).
func procsMentioning(s string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cl, []byte(s)) {
			continue
		}
		out = append(out, e.Name()+": "+strings.ReplaceAll(string(cl), "\x00", " "))
	}
	return out
}

func pidFromFile(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return pid
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// removeCreatedUsers deletes, when the test ends, the Unix accounts among
// names that did not exist when it started.
func removeCreatedUsers(t *testing.T, names ...string) {
	var created []string
	for _, n := range names {
		if _, err := user.Lookup(n); err != nil {
			created = append(created, n)
		}
	}
	t.Cleanup(func() {
		for _, n := range created {
			if _, err := user.Lookup(n); err == nil {
				if out, err := exec.Command(hosttool.Path("userdel"), n).CombinedOutput(); err != nil {
					t.Errorf("userdel %s: %v: %s", n, err, out)
				}
			}
		}
	})
}

// syncBuffer is a log sink that outlives the test safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
