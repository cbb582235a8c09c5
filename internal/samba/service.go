package samba

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/config"
	"genesissync/internal/model"
)

// stopTimeout bounds stopping the private smbd when Run's context ends.
const stopTimeout = 20 * time.Second

// restartWait is how long Run waits before the nth restart (n >= 1) of a
// private smbd that died: 2 s, doubling, at most a minute, so that an smbd
// that cannot stay up does not spin.
func restartWait(n int) time.Duration {
	return min(time.Second<<min(n, 6), time.Minute)
}

// process is a running private smbd as Run supervises it (*Smbd).
type process interface {
	Done() <-chan struct{}
	Err() error
	Stop(ctx context.Context) error
}

// Service is Samba as the appliance runs it, in the configured mode: Start
// brings SMB up, Run supervises the private smbd of standalone mode. Start
// is called once, and Run after Start returned, from one goroutine each;
// Status and Warnings may be called from any goroutine at any time, before
// Start too.
type Service struct {
	cfg   *config.Config
	owner func() (uid, gid int, err error)
	base  zerolog.Logger // given to smbd, which names its own component
	log   zerolog.Logger // component=samba
	after func(time.Duration) <-chan time.Time

	// Set by Start in standalone mode, read by Run.
	smbd  process
	start func(ctx context.Context) (process, error)
	addr  string

	mu       sync.Mutex
	status   model.Samba
	warnings []model.Warning
}

// NewService returns Samba as cfg describes it; nothing runs until Start.
// owner resolves the service user's uid and gid, which Start creates
// before it asks. Events are logged to log with component=samba (smbd's
// own output with component=smbd).
func NewService(cfg *config.Config, owner func() (uid, gid int, err error), log zerolog.Logger) *Service {
	return &Service{cfg: cfg, owner: owner, base: log, log: log.With().Str("component", "samba").Logger(), after: time.After}
}

// Status is Samba's state: the mode, and unless Samba is off, whether SMB
// is served, where (standalone mode) and why not.
func (s *Service) Status() model.Samba {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Warnings are what Start found wrong in the rendered conf: VFS modules
// smbd cannot load, or that they could not be checked.
func (s *Service) Warnings() []model.Warning {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.warnings
}

func (s *Service) setStatus(st model.Samba) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = st
}

// Start brings SMB up according to the mode (nothing in mode off): it
// renders the share definitions, writes the include file (appliance mode)
// or the whole private smb.conf (standalone mode), warns of VFS modules
// smbd cannot load, checks the conf with testparm (standalone), syncs the
// users, gives each share root to the service user, and then reloads the
// system smbd or starts a private one. ctx bounds the start; a private
// smbd then runs until Run's context ends.
func (s *Service) Start(ctx context.Context) error {
	mode := s.cfg.Samba.Mode
	s.setStatus(model.Samba{Mode: mode})
	if mode == config.SambaOff {
		return nil
	}
	defs, global, err := Defs(s.cfg)
	if err != nil {
		return err
	}
	users := map[string]string{}
	for _, name := range s.cfg.UserNames() {
		p, err := s.cfg.Users[name].ResolvePassword()
		if err != nil {
			return fmt.Errorf("users.%s: %w", name, err)
		}
		users[name] = p.Reveal()
	}

	if mode == config.SambaAppliance {
		data, err := RenderInclude(defs)
		if err != nil {
			return err
		}
		s.checkVFSModules(ctx, data)
		if err := WriteInclude(s.cfg.Samba.IncludeFile, data); err != nil {
			return err
		}
		if err := SyncUsers(ctx, global.ServiceUser, users, ""); err != nil {
			return err
		}
		if err := s.ownShareRoots(); err != nil {
			return err
		}
		if err := ReloadSystem(ctx); err != nil {
			return err
		}
		s.setStatus(model.Samba{Mode: mode, Up: true})
		return nil
	}

	data, err := Render(global, defs)
	if err != nil {
		return err
	}
	s.checkVFSModules(ctx, data)
	if err := MakeRunDirs(global); err != nil {
		return err
	}
	conf := global.ConfigPath()
	if err := WriteInclude(conf, data); err != nil {
		return fmt.Errorf("write smb.conf: %w", err)
	}
	if err := Testparm(ctx, conf); err != nil {
		return err
	}
	if err := SyncUsers(ctx, global.ServiceUser, users, conf); err != nil {
		return err
	}
	if err := s.ownShareRoots(); err != nil {
		return err
	}
	s.addr = net.JoinHostPort(global.Listen, strconv.Itoa(global.Port))
	s.start = func(ctx context.Context) (process, error) {
		smbd, err := StartSmbd(ctx, conf, global, s.base)
		if err != nil {
			return nil, err
		}
		return smbd, nil
	}
	smbd, err := s.start(ctx)
	if err != nil {
		return err
	}
	s.smbd = smbd
	s.setStatus(model.Samba{Mode: mode, Addr: s.addr, Up: true})
	return nil
}

// Run supervises the private smbd that Start started (standalone mode)
// until ctx ends: an smbd that dies is restarted after restartWait, and
// when ctx ends it is stopped (20 s at most) and Run returns what stopping
// it returned. In the other modes Run returns nil at once.
func (s *Service) Run(ctx context.Context) error {
	smbd := s.smbd
	if smbd == nil {
		return nil
	}
	restarts := 0
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			err := smbd.Stop(sctx)
			s.setStatus(model.Samba{Mode: config.SambaStandalone, Addr: s.addr})
			return err
		case <-smbd.Done():
		}
		restarts++
		wait := restartWait(restarts)
		s.log.Error().Err(smbd.Err()).Dur("restart_in", wait).Msg("smbd exited; restarting")
		s.setStatus(model.Samba{Mode: config.SambaStandalone, Addr: s.addr, Error: fmt.Sprint(smbd.Err())})
		select {
		case <-ctx.Done():
			return nil
		case <-s.after(wait):
		}
		next, err := s.start(ctx)
		if err != nil {
			s.log.Error().Err(err).Msg("smbd restart failed")
			s.setStatus(model.Samba{Mode: config.SambaStandalone, Addr: s.addr, Error: err.Error()})
			continue
		}
		smbd = next
		s.setStatus(model.Samba{Mode: config.SambaStandalone, Addr: s.addr, Up: true})
	}
}

// checkVFSModules warns, on the status page, in /healthz and in the log,
// of every VFS module the rendered conf names that smbd cannot load: smbd
// would refuse the shares that name it. The shares are served anyway
// (the others work, and installing the module fixes them without a
// restart of the daemon).
func (s *Service) checkVFSModules(ctx context.Context, conf []byte) {
	missing, err := CheckVFSModules(ctx, conf)
	ws := vfsWarnings(missing, err, s.log)
	s.mu.Lock()
	s.warnings = ws
	s.mu.Unlock()
}

// vfsWarnings are the warnings, logged to log, for the modules smbd
// cannot load and for a check that could not be made (err).
func vfsWarnings(missing []MissingModule, err error, log zerolog.Logger) []model.Warning {
	var ws []model.Warning
	if err != nil {
		log.Warn().Err(err).Msg("could not check smbd's VFS modules")
		ws = append(ws, model.Warning{ID: "samba-vfs-modules-unchecked", Message: err.Error()})
	}
	for _, m := range missing {
		log.Error().Str("module", m.Module).Strs("shares", m.Shares).Str("dir", m.Dir).Msg(m.String())
		ws = append(ws, model.Warning{ID: "samba-vfs-module-missing-" + m.Module, Message: m.String()})
	}
	return ws
}

func (s *Service) ownShareRoots() error {
	uid, gid, err := s.owner()
	if err != nil {
		return err
	}
	return ownShareRoots(s.cfg, uid, gid)
}

// ownShareRoots gives each existing share root to the service user, which
// Samba forces every client's file access to: without write access to the
// root, studios could not save. Only the root directory is changed; a
// missing root is left alone (creating it could hide an unmounted
// dataset) and reported by the share's scan.
func ownShareRoots(cfg *config.Config, uid, gid int) error {
	for _, name := range cfg.ShareNames() {
		p := cfg.Shares[name].Path
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != uid || int(st.Gid) != gid) {
			if err := os.Chown(p, uid, gid); err != nil {
				return fmt.Errorf("share %s: give %s to uid %d: %w", name, p, uid, err)
			}
		}
	}
	return nil
}
