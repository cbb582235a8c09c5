package samba

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/config"
	"genesissync/internal/model"
)

// How often the ClientsWatcher asks smbd, normally and while a share is
// watched, and how long one ask may take. Ransomware opens, rewrites and
// closes a file within milliseconds; a poll every second while a share
// shows suspicious changes still catches some of its opens.
const (
	clientsEvery     = 10 * time.Second
	clientsFastEvery = time.Second
	clientsTimeout   = 10 * time.Second
)

// What the ClientsWatcher remembers of the write opens and connections it
// saw: for at most recentFor, at most recentMax sightings (the oldest go
// first).
const (
	recentFor = 10 * time.Minute
	recentMax = 4096
)

// ToolConfig is the smb.conf the Samba tools must read for cfg: the
// private one in standalone mode, the system's ("") otherwise.
func ToolConfig(cfg *config.Config) string {
	if cfg.Samba.Mode == config.SambaStandalone {
		return Global{RunDir: cfg.Samba.RunDir}.ConfigPath()
	}
	return ""
}

// ClientsWatcher keeps what smbd last said about its clients: the
// sessions and the files they hold open, each file named by its share. It
// also remembers, for 10 minutes, which client had which file open for
// writing and which client connected to which share, so that Suspects can
// name the clients behind a share's suspicious changes after they closed
// their files. Run is called once; Status, Suspects and Watch may be
// called from any goroutine, while Run runs or not. A nil *ClientsWatcher
// (Samba not managed) has seen nothing, and Watch on it does nothing.
type ClientsWatcher struct {
	conf    string
	shareOf map[string]string // share path -> share name
	log     zerolog.Logger
	list    func(ctx context.Context, conf string) (Clients, error)
	now     func() time.Time
	wake    chan struct{} // Watch asks Run to poll now

	mu        sync.Mutex
	clients   model.Clients
	askedAt   time.Time // when the ask behind clients started
	failing   bool      // the last ask failed
	recent    map[sightingKey]sighting
	fastUntil map[string]time.Time // share name -> end of its watch
}

// NewClientsWatcher watches the clients of the smbd that serves cfg's
// shares; the first failure of a streak is logged to log.
func NewClientsWatcher(cfg *config.Config, log zerolog.Logger) *ClientsWatcher {
	w := &ClientsWatcher{conf: ToolConfig(cfg), shareOf: map[string]string{}, log: log, list: ListClients,
		now: time.Now, wake: make(chan struct{}, 1), recent: map[sightingKey]sighting{}, fastUntil: map[string]time.Time{}}
	for _, name := range cfg.ShareNames() {
		w.shareOf[cfg.Shares[name].Path] = name
	}
	return w
}

// Run asks smbd at once and then every 10 s, every second while a share is
// watched, until ctx ends. It always returns nil.
func (w *ClientsWatcher) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.wake:
		}
		if ctx.Err() != nil {
			return nil
		}
		w.ask(ctx)
		t.Reset(w.period())
	}
}

// Watch makes Run ask smbd every second, starting now, until d has passed
// or longer if another watch lasts longer: the daemon calls it when share
// starts showing suspicious changes, so that brief write opens are seen.
// A later call may extend a share's watch, never shorten it.
func (w *ClientsWatcher) Watch(share string, d time.Duration) {
	if w == nil || d <= 0 {
		return
	}
	until := w.now().Add(d)
	w.mu.Lock()
	if until.After(w.fastUntil[share]) {
		w.fastUntil[share] = until
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // Run has a wake-up pending already
	}
}

// period is how long Run waits for its next ask; watches that ended are
// forgotten.
func (w *ClientsWatcher) period() time.Duration {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	maps.DeleteFunc(w.fastUntil, func(_ string, until time.Time) bool { return !until.After(now) })
	if len(w.fastUntil) > 0 {
		return clientsFastEvery
	}
	return clientsEvery
}

// Suspects names the SMB clients that may have made the changes to paths
// (share-relative, slash-separated) on the share named share, strongest
// evidence first (see Suspect): it asks smbd at once and ranks what it
// says together with what the watcher saw in the last 10 minutes. It is
// nil when nobody was seen on the share, or on a nil watcher.
func (w *ClientsWatcher) Suspects(ctx context.Context, share string, paths []string) []Suspect {
	if w == nil {
		return nil
	}
	w.ask(ctx)
	w.mu.Lock()
	seen := slices.Collect(maps.Values(w.recent))
	w.mu.Unlock()
	if s := rankSuspects(share, paths, seen); len(s) > 0 {
		return s
	}
	return nil
}

// Status is the clients as last asked. When smbd could not be asked, its
// Error says why and the lists are the last ones known.
func (w *ClientsWatcher) Status() model.Clients {
	if w == nil {
		return model.Clients{}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clients
}

// ask asks smbd once, keeps its answer as the status unless an ask that
// started later has already answered (Run and Suspects may ask at the same
// time), and remembers what it shows.
func (w *ClientsWatcher) ask(ctx context.Context) {
	started := w.now()
	qctx, cancel := context.WithTimeout(ctx, clientsTimeout)
	c, err := w.list(qctx, w.conf)
	cancel()
	if ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		w.remember(c, started)
	}
	if started.Before(w.askedAt) {
		return
	}
	w.askedAt = started
	w.clients.CheckedAt = w.now()
	if err != nil {
		if !w.failing {
			w.log.Warn().Err(err).Msg("cannot list SMB clients")
		}
		w.failing = true
		w.clients.Error = err.Error()
		return
	}
	w.failing = false
	out := model.Clients{CheckedAt: w.clients.CheckedAt, Sessions: []model.Session{}, OpenFiles: []model.OpenFile{}}
	for _, s := range c.Sessions {
		out.Sessions = append(out.Sessions, model.Session{User: s.User, Machine: s.Machine, Dialect: s.Dialect,
			Shares: s.Shares, ConnectedAt: s.ConnectedAt, Encrypted: s.Encrypted})
	}
	for _, f := range c.OpenFiles {
		out.OpenFiles = append(out.OpenFiles, model.OpenFile{Share: w.shareOf[f.SharePath], Path: f.Path, Write: f.Write})
	}
	w.clients = out
}

// remember records the write opens and share connections of c, seen at
// at, and forgets what is older than recentFor or beyond recentMax. The
// caller holds w.mu.
func (w *ClientsWatcher) remember(c Clients, at time.Time) {
	shares := map[string]bool{}
	for _, name := range w.shareOf {
		shares[name] = true
	}
	add := func(s sighting) {
		if old, ok := w.recent[s.key()]; !ok || !s.At.Before(old.At) {
			w.recent[s.key()] = s
		}
	}
	for _, s := range c.Sessions {
		for _, share := range s.Shares {
			if shares[share] {
				add(sighting{Share: share, User: s.User, Machine: s.Machine, Remote: s.Remote, At: at})
			}
		}
	}
	for _, f := range c.OpenFiles {
		share, ok := w.shareOf[f.SharePath]
		if !ok {
			continue
		}
		for _, h := range f.Holders {
			if h.Write {
				add(sighting{Share: share, User: h.User, Machine: h.Machine, Remote: h.Remote, Path: f.Path, At: at})
			}
		}
	}
	cutoff := w.now().Add(-recentFor)
	maps.DeleteFunc(w.recent, func(_ sightingKey, s sighting) bool { return s.At.Before(cutoff) })
	if over := len(w.recent) - recentMax; over > 0 {
		oldest := slices.SortedFunc(maps.Values(w.recent), func(a, b sighting) int { return a.At.Compare(b.At) })
		for _, s := range oldest[:over] {
			delete(w.recent, s.key())
		}
	}
}
