package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"genesissync/internal/reconcile"
	"genesissync/internal/webserver"
)

// AdminSocket is the local admin API's Unix socket under the state
// directory. Only root (its owner, mode 0600) can connect: the file
// system is the authentication, as for docker.sock. The CLI's admin
// commands use it; the web page's admin actions come with their own login.
func AdminSocket(stateDir string) string { return filepath.Join(stateDir, "admin.sock") }

// adminHandler serves the local admin API:
//
//	GET  /v1/shares/{share}/deletes                  the held delete batch
//	POST /v1/shares/{share}/deletes/approve?batch=ID release exactly batch ID
//	GET  /debug/pprof/...                            Go's profiles (net/http/pprof)
func (d *Daemon) adminHandler() http.Handler {
	mux := http.NewServeMux()
	// Profiles for the field, where a busy box is the only place to see
	// what the daemon spends its CPU on: `curl --unix-socket admin.sock
	// http://x/debug/pprof/profile?seconds=10 > cpu.pprof`. Only here,
	// behind the socket's owner-only permission, never on the web port.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /v1/shares/{share}/deletes", func(w http.ResponseWriter, r *http.Request) {
		s := d.share(r.PathValue("share"))
		if s == nil {
			http.Error(w, "no such share", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Deletes())
	})
	mux.HandleFunc("POST /v1/shares/{share}/deletes/approve", func(w http.ResponseWriter, r *http.Request) {
		s := d.share(r.PathValue("share"))
		if s == nil {
			http.Error(w, "no such share", http.StatusNotFound)
			return
		}
		// A snapshot first, so that the released deletes can be undone.
		if err := d.beforeApprove(r.Context(), r.PathValue("share")); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		if err := s.Approve(r.Context(), r.URL.Query().Get("batch")); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		d.log.Warn().Str("share", r.PathValue("share")).Str("batch", r.URL.Query().Get("batch")).Str("via", "admin socket").Msg("delete batch approved")
		w.WriteHeader(http.StatusNoContent)
	})
	// Pause, resume and sync now: POST /v1/shares/{share}/{pause,resume,sync}.
	for verb, act := range map[string]func(*reconcile.Share){
		"pause":  func(s *reconcile.Share) { s.Pause("paused by an administrator") },
		"resume": (*reconcile.Share).Resume,
		"sync":   (*reconcile.Share).SyncNow,
	} {
		mux.HandleFunc("POST /v1/shares/{share}/"+verb, func(w http.ResponseWriter, r *http.Request) {
			s := d.share(r.PathValue("share"))
			if s == nil {
				http.Error(w, "no such share", http.StatusNotFound)
				return
			}
			act(s)
			d.log.Info().Str("share", r.PathValue("share")).Str("action", verb).Str("via", "admin socket").Msg("share action")
			w.WriteHeader(http.StatusNoContent)
		})
	}
	d.adminSnapshots(mux)
	d.adminAlerts(mux)
	d.adminRestore(mux)
	return mux
}

func (d *Daemon) share(name string) *reconcile.Share {
	for _, s := range d.shares {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// listenAdmin binds the admin socket.
func (d *Daemon) listenAdmin() (net.Listener, error) {
	path := AdminSocket(d.cfg.StateDir)
	_ = os.Remove(path) // a previous run's socket; the index lock proves no other daemon runs
	// Connecting needs write permission on the socket: with the default
	// umask nobody but the owner has it from the start; 0600 says so.
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return ln, nil
}

// serveAdmin serves the admin API on ln until ctx ends.
func (d *Daemon) serveAdmin(ctx context.Context, ln net.Listener) error {
	return webserver.Serve(ctx, "admin socket", &http.Server{Handler: d.adminHandler()}, ln)
}

// Admin is a client of a running daemon's admin socket, for the CLI.
type Admin struct {
	c http.Client
}

// NewAdmin returns a client for the daemon whose state directory is
// stateDir.
func NewAdmin(stateDir string) *Admin {
	path := AdminSocket(stateDir)
	return &Admin{c: http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dd net.Dialer
			return dd.DialContext(ctx, "unix", path)
		}},
	}}
}

// Deletes returns the share's held delete batch.
func (a *Admin) Deletes(ctx context.Context, share string) (reconcile.DeleteBatch, error) {
	var b reconcile.DeleteBatch
	body, err := a.do(ctx, http.MethodGet, "/v1/shares/"+share+"/deletes")
	if err != nil {
		return b, err
	}
	return b, json.Unmarshal(body, &b)
}

// Approve releases the share's tripped batch id.
func (a *Admin) Approve(ctx context.Context, share, id string) error {
	_, err := a.do(ctx, http.MethodPost, "/v1/shares/"+share+"/deletes/approve?batch="+id)
	return err
}

// ShareAction asks the daemon to pause, resume or sync (a full scan now)
// the share.
func (a *Admin) ShareAction(ctx context.Context, share, verb string) error {
	_, err := a.do(ctx, http.MethodPost, "/v1/shares/"+share+"/"+verb)
	return err
}

func (a *Admin) do(ctx context.Context, method, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://admin"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("daemon admin socket: %w (is the daemon running?)", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("daemon: %s: %s", resp.Status, body)
	}
	return body, nil
}
