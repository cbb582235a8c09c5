package samba

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/hosttool"
)

const (
	// startTimeout bounds StartSmbd when ctx has no earlier deadline.
	startTimeout = 20 * time.Second
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 10 * time.Second
	// pollInterval paces readiness and exit polling.
	pollInterval = 25 * time.Millisecond
	// tailLines of smbd's output are kept for error messages.
	tailLines = 20
)

// ErrSmbdExited is in Err when smbd exited without Stop asking it to.
var ErrSmbdExited = errors.New("smbd exited unexpectedly")

// Smbd supervises a private smbd (standalone mode). It is created by
// StartSmbd and owned by the caller, who must call Stop. All methods are
// safe for concurrent use.
type Smbd struct {
	conf string
	g    Global
	log  zerolog.Logger
	cmd  *exec.Cmd
	pgid int

	done    chan struct{} // closed when smbd has exited and been reaped
	outDone chan struct{} // closed when every holder of smbd's stdout closed it

	mu       sync.Mutex
	err      error // valid once done is closed
	waitErr  error // cmd.Wait's result, valid once done is closed
	stopping bool
	tail     []string

	stopOnce sync.Once
	stopErr  error
}

// StartSmbd starts `smbd --foreground --no-process-group --debug-stdout -s
// conf` in a session and process group of its own and returns once smbd
// accepts TCP connections on g.Listen:g.Port. conf is the rendered
// standalone smb.conf; g is what it was rendered from. smbd's output goes to
// log, one event per line, with component=smbd.
//
// Why a session of its own (Samba 4.17): without --no-process-group smbd
// calls setsid() itself, which fails fatally ("Failed to create session")
// in a process-group leader; with it, smbd sends SIGTERM to its whole
// process group when it exits, so that group must not be ours. As a
// session leader with --no-process-group, smbd, its children and its exit
// signal stay in a group of their own. samba-dcerpcd, spawned on demand,
// makes its own session, so Stop ends it through its pid file.
//
// ctx bounds the start only (20 s at most); the process then lives until
// Stop. Leftovers of an earlier run with the same conf (an smbd or
// samba-dcerpcd found through their pid files) are stopped first.
func StartSmbd(ctx context.Context, conf string, g Global, log zerolog.Logger) (*Smbd, error) {
	if err := checkGlobal(g); err != nil {
		return nil, fmt.Errorf("start smbd: %w", err)
	}
	conf, err := filepath.Abs(conf)
	if err != nil {
		return nil, fmt.Errorf("start smbd %s: %w", conf, err)
	}
	if err := MakeRunDirs(g); err != nil {
		return nil, fmt.Errorf("start smbd %s: %w", conf, err)
	}
	log = log.With().Str("component", "smbd").Logger()

	// Leftovers of a run whose supervisor died without Stop.
	for _, name := range []string{"smbd", "samba-dcerpcd"} {
		if err := stopByPidFile(ctx, filepath.Join(g.PidDir(), name+".pid"), conf, name, stopGrace); err != nil {
			return nil, fmt.Errorf("start smbd %s: stop stale %s: %w", conf, name, err)
		}
	}
	addr := dialAddr(g)
	if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("start smbd %s: %s already accepts connections: another server holds the port", conf, addr)
	}

	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start smbd %s: %w", conf, err)
	}
	cmd := exec.Command(hosttool.Path("smbd"), "--foreground", "--no-process-group", "--debug-stdout", "-s", conf)
	cmd.Env = hosttool.Env()
	cmd.Stdout, cmd.Stderr = w, w // *os.File: Wait does not wait for copying
	// Pdeathsig: a supervisor that dies without Stop (SIGKILL, a test
	// binary's timeout) takes its standalone smbd with it instead of
	// leaving it serving; the next start would replace it anyway.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("start smbd %s: %w", conf, err)
	}
	_ = w.Close()

	s := &Smbd{
		conf:    conf,
		g:       g,
		log:     log,
		cmd:     cmd,
		pgid:    cmd.Process.Pid, // session leader: pgid == pid
		done:    make(chan struct{}),
		outDone: make(chan struct{}),
	}
	go s.readOutput(r)
	go s.wait()
	log.Info().Int("pid", s.pgid).Str("conf", conf).Msg("smbd started")

	if err := s.waitReady(ctx, addr); err != nil {
		_ = s.Stop(context.Background())
		return nil, fmt.Errorf("start smbd %s: %w", conf, err)
	}
	log.Info().Str("addr", addr).Msg("smbd accepts connections")
	return s, nil
}

// MakeRunDirs creates g.RunDir and the directories under it that smbd,
// testparm and pdbedit expect (pid, lock, state, cache, private, ...), with
// their permissions, and lets every user search (not list) RunDir's
// parents: see searchableParents. Call it before Testparm or SyncUsers on
// a standalone configuration; StartSmbd calls it too. Idempotent.
func MakeRunDirs(g Global) error {
	if err := checkPath(g.RunDir); err != nil {
		return fmt.Errorf("make samba run dir %q: %w", g.RunDir, err)
	}
	if err := os.MkdirAll(g.RunDir, 0o755); err != nil {
		return fmt.Errorf("make samba run dir: %w", err)
	}
	if err := searchableParents(g.RunDir); err != nil {
		return fmt.Errorf("make samba run dir: %w", err)
	}
	for _, d := range g.runDirs() {
		if err := os.MkdirAll(d.path, d.perm); err != nil {
			return fmt.Errorf("make samba run dir: %w", err)
		}
		if err := os.Chmod(d.path, d.perm); err != nil {
			return fmt.Errorf("make samba run dir: %w", err)
		}
	}
	return nil
}

// searchableParents adds the search bit for others to every directory
// above dir that lacks it (0750 becomes 0751: names can be reached, not
// listed). smbd's children run as the share's force user, and Samba tells
// a live lock holder from a dead one by opening lock/msg.lock/<pid> under
// that uid: if the force user cannot reach the lock directory (RunDir
// under a 0750 state_dir, the default), every holder looks dead,
// concurrent opens steal each other's share-mode locks, and smbd panics
// ("Could not unlock share mode"), dropping the clients' connections.
func searchableParents(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o001 == 0 {
			if err := os.Chmod(d, perm|0o001); err != nil {
				return err
			}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// dialAddr is where smbd can be reached locally.
func dialAddr(g Global) string {
	a := netip.MustParseAddr(g.Listen)
	if a.IsUnspecified() {
		if a.Is4() {
			a = netip.MustParseAddr("127.0.0.1")
		} else {
			a = netip.IPv6Loopback()
		}
	}
	return net.JoinHostPort(a.String(), strconv.Itoa(g.Port))
}

func (s *Smbd) waitReady(ctx context.Context, addr string) error {
	deadline := time.Now().Add(startTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-s.done:
			waitChan(ctx, s.outDone, 500*time.Millisecond) // let the last lines in
			return fmt.Errorf("smbd exited (%v) before accepting connections on %s; last output: %s",
				s.exitStatus(), addr, s.lastLines())
		case <-ctx.Done():
			return fmt.Errorf("waiting for smbd on %s: %w; last output: %s", addr, ctx.Err(), s.lastLines())
		case <-t.C:
			if time.Now().After(deadline) {
				return fmt.Errorf("smbd does not accept connections on %s after %s; last output: %s",
					addr, startTimeout, s.lastLines())
			}
		}
	}
}

// readOutput logs smbd's output, one event per line, and keeps a tail. It
// ends when every process holding the pipe (smbd, its children and the
// samba-dcerpcd it spawned) has closed it.
func (s *Smbd) readOutput(r io.ReadCloser) {
	defer close(s.outDone)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		s.mu.Lock()
		s.tail = append(s.tail, strings.TrimSpace(line))
		if len(s.tail) > tailLines {
			s.tail = s.tail[len(s.tail)-tailLines:]
		}
		s.mu.Unlock()
		ev := s.log.Info()
		if low := strings.ToLower(line); strings.Contains(low, "error") || strings.Contains(low, "fail") ||
			strings.Contains(low, "panic") {
			ev = s.log.Warn()
		}
		ev.Msg(line)
	}
}

func (s *Smbd) lastLines() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tail) == 0 {
		return "(none)"
	}
	return strings.Join(s.tail, " | ")
}

// wait reaps smbd and records why it ended. After an unexpected exit it
// terminates what is left of smbd's process group, so that a restart does
// not meet half a server.
func (s *Smbd) wait() {
	err := s.cmd.Wait()
	s.mu.Lock()
	s.waitErr = err
	stopping := s.stopping
	switch {
	case stopping:
		s.err = nil
	case err != nil:
		s.err = fmt.Errorf("%w: %w", ErrSmbdExited, err)
	default:
		s.err = fmt.Errorf("%w: exit status 0", ErrSmbdExited)
	}
	s.mu.Unlock()
	if !stopping {
		s.log.Error().Err(err).Str("last_output", s.lastLines()).Msg("smbd exited")
		_ = syscall.Kill(-s.pgid, syscall.SIGTERM)
	}
	close(s.done)
}

// exitStatus is how smbd ended, once done is closed.
func (s *Smbd) exitStatus() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waitErr == nil {
		return "exit status 0"
	}
	return s.waitErr.Error()
}

// Done is closed when smbd has exited, whether Stop asked it to or not.
func (s *Smbd) Done() <-chan struct{} { return s.done }

// Err is nil while smbd runs and after an exit that Stop asked for;
// after any other exit it wraps ErrSmbdExited with the exit status.
func (s *Smbd) Err() error {
	select {
	case <-s.done:
	default:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Wait blocks until smbd has exited and returns Err.
func (s *Smbd) Wait() error {
	<-s.done
	return s.Err()
}

// Pid is the process id of the main smbd, which is also its process group
// and session id.
func (s *Smbd) Pid() int { return s.pgid }

// Reload makes smbd re-read its configuration:
// `smbcontrol -s CONF smbd reload-config`.
func (s *Smbd) Reload(ctx context.Context) error {
	if _, _, err := (execRunner{}).run(ctx, nil, "smbcontrol", "-s", s.conf, "smbd", "reload-config"); err != nil {
		return fmt.Errorf("reload smbd %s: %w", s.conf, err)
	}
	return nil
}

// Stop terminates smbd and everything it started: SIGTERM to its process
// group, SIGKILL after a grace period of 10 s (or ctx's end, if sooner),
// then samba-dcerpcd and its rpcd workers through the pid file. Once it
// returns, no process started with this conf is left. Stop may be called
// more than once and concurrently; later calls return the first result.
func (s *Smbd) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *Smbd) stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()

	var errs []error
	select {
	case <-s.done:
	default:
		_ = syscall.Kill(-s.pgid, syscall.SIGTERM)
		if !waitChan(ctx, s.done, stopGrace) {
			s.log.Warn().Msg("smbd did not exit after SIGTERM; killing it")
			_ = syscall.Kill(-s.pgid, syscall.SIGKILL)
			<-s.done
		}
	}
	// smbd's children got the same SIGTERM; wait for them too.
	if err := waitGroupGone(ctx, s.pgid, stopGrace); err != nil {
		errs = append(errs, fmt.Errorf("smbd children: %w", err))
	}
	if err := stopByPidFile(ctx, filepath.Join(s.g.PidDir(), "samba-dcerpcd.pid"), s.conf, "samba-dcerpcd", stopGrace); err != nil {
		errs = append(errs, fmt.Errorf("samba-dcerpcd: %w", err))
	}
	// Last resort: anything else still running with this configuration.
	for _, p := range processesWithConf(s.conf) {
		s.log.Warn().Int("pid", p.pid).Str("cmd", p.cmdline).Msg("killing leftover samba process")
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
	// Every writer of the output pipe is gone now; let the reader drain.
	waitChan(context.Background(), s.outDone, 2*time.Second)
	s.log.Info().Msg("smbd stopped")
	if len(errs) > 0 {
		return fmt.Errorf("stop smbd %s: %w", s.conf, errors.Join(errs...))
	}
	return nil
}

// waitChan waits for ch to close, at most d or until ctx ends. It reports
// whether ch closed.
func waitChan(ctx context.Context, ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// waitGroupGone waits until no live process is in process group pgid,
// sending SIGKILL to the group after grace (or when ctx ends).
func waitGroupGone(ctx context.Context, pgid int, grace time.Duration) error {
	deadline := time.Now().Add(grace)
	killed := false
	for groupAlive(pgid) {
		if !killed && (time.Now().After(deadline) || ctx.Err() != nil) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killed = true
			deadline = time.Now().Add(2 * time.Second)
		} else if killed && time.Now().After(deadline) {
			return fmt.Errorf("process group %d survives SIGKILL", pgid)
		}
		time.Sleep(pollInterval)
	}
	return nil
}

// stopByPidFile stops the process named in pidFile, and its process group
// when it leads one, if it is still a `name` process running with conf. A
// missing or stale pid file is not an error.
func stopByPidFile(ctx context.Context, pidFile, conf, name string, grace time.Duration) error {
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return nil // garbage: nothing we can safely signal
	}
	p, ok := readProc(pid)
	if !ok || p.zombie || filepath.Base(p.argv0) != name || !p.usesConf(conf) {
		return nil // exited, or the pid now belongs to someone else
	}
	if p.pgid == pid {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		return waitGroupGone(ctx, pid, grace)
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for {
		q, ok := readProc(pid)
		if !ok || q.zombie {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return nil
		}
		time.Sleep(pollInterval)
	}
}

// proc is what /proc tells about one process.
type proc struct {
	pid     int
	pgid    int
	zombie  bool
	argv0   string
	args    []string
	cmdline string
}

// usesConf reports whether the process was started with conf as its
// configuration file (-s conf, --configfile=conf, ...).
func (p proc) usesConf(conf string) bool {
	for i, a := range p.args {
		switch {
		case a == "--configfile="+conf, a == "-s"+conf:
			return true
		case (a == "-s" || a == "--configfile") && i+1 < len(p.args) && p.args[i+1] == conf:
			return true
		}
	}
	return false
}

func readProc(pid int) (proc, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return proc{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return proc{}, false
	}
	pgid, _ := strconv.Atoi(f[2])
	p := proc{pid: pid, pgid: pgid, zombie: f[0] == "Z" || f[0] == "X"}
	cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err == nil && len(cl) > 0 {
		p.args = strings.Split(strings.TrimRight(string(cl), "\x00"), "\x00")
		p.argv0 = p.args[0]
		p.cmdline = strings.Join(p.args, " ")
	}
	return p, true
}

// allProcs lists the live processes in /proc.
func allProcs() []proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok && !p.zombie {
			out = append(out, p)
		}
	}
	return out
}

// groupAlive reports whether a live (not zombie) process is in group pgid.
func groupAlive(pgid int) bool {
	for _, p := range allProcs() {
		if p.pgid == pgid {
			return true
		}
	}
	return false
}

// samba programs that run with the configuration smbd was given.
func isSambaProgram(argv0 string) bool {
	b := filepath.Base(argv0)
	return b == "smbd" || b == "samba-dcerpcd" || b == "samba-bgqd" || strings.HasPrefix(b, "rpcd_")
}

// processesWithConf lists live Samba processes started with conf.
func processesWithConf(conf string) []proc {
	var out []proc
	for _, p := range allProcs() {
		if p.pid != os.Getpid() && isSambaProgram(p.argv0) && p.usesConf(conf) {
			out = append(out, p)
		}
	}
	return out
}
