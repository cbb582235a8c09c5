package samba

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/config"
	"genesissync/internal/model"
	"genesissync/internal/periodic"
)

// How often the ClientsWatcher asks smbd, and how long one ask may take.
const (
	clientsEvery   = 10 * time.Second
	clientsTimeout = 10 * time.Second
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
// sessions and the files they hold open, each file named by its share.
// Status may be called from any goroutine while Run runs. A nil
// *ClientsWatcher (Samba not managed) has seen nothing.
type ClientsWatcher struct {
	conf    string
	shareOf map[string]string // share path -> share name
	log     zerolog.Logger
	list    func(ctx context.Context, conf string) (Clients, error)

	mu      sync.Mutex
	clients model.Clients
	failing bool // the last ask failed
}

// NewClientsWatcher watches the clients of the smbd that serves cfg's
// shares; the first failure of a streak is logged to log.
func NewClientsWatcher(cfg *config.Config, log zerolog.Logger) *ClientsWatcher {
	w := &ClientsWatcher{conf: ToolConfig(cfg), shareOf: map[string]string{}, log: log, list: ListClients}
	for _, name := range cfg.ShareNames() {
		w.shareOf[cfg.Shares[name].Path] = name
	}
	return w
}

// Run asks smbd at once and then every 10 s until ctx ends. It always
// returns nil.
func (w *ClientsWatcher) Run(ctx context.Context) error {
	periodic.Run(ctx, clientsEvery, func() { w.ask(ctx) })
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

func (w *ClientsWatcher) ask(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, clientsTimeout)
	c, err := w.list(qctx, w.conf)
	cancel()
	if ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clients.CheckedAt = time.Now()
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
