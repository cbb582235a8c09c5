package admin

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/jobs"
)

// Handler serves the admin API over svc:
//
//	GET  /v1/shares/{share}/deletes                  the held delete batch
//	POST /v1/shares/{share}/deletes/approve?batch=ID release exactly batch ID
//	GET  /v1/shares/{share}/tripwire                 the ransomware tripwire
//	POST /v1/shares/{share}/tripwire/release         its held changes are legitimate
//	POST /v1/shares/{share}/tripwire/restore         restore from before the trip; answers {"id", "message"}
//	POST /v1/shares/{share}/{pause,resume,sync}      act on the pipeline
//	GET  /v1/shares/{share}/snapshots                list
//	POST /v1/shares/{share}/snapshots                take one now
//	POST /v1/shares/{share}/snapshots/prune          prune by retention now
//	POST /v1/shares/{share}/snapshots/{snap}/rollback[?destroy_newer=1]
//	POST /v1/alerts/test                             a test alert to every channel
//	GET  /v1/shares/{share}/verify                   the share's verify state
//	POST /v1/shares/{share}/verify?deep=&sample=     start a verify; answers {"id": ...}
//	GET  /v1/shares/{share}/verify/{id}              the job: progress, then its report
//	POST /v1/shares/{share}/restore?path=&prefix=&glob=&at=&overwrite=&dry_run=
//	                                                 start a restore into the live share
//	GET  /v1/shares/{share}/restore/{id}             the job: progress, then its result
//	GET  /debug/pprof/...                            Go's profiles (net/http/pprof)
//
// Every administrative change is logged on log with "via": "admin socket".
func Handler(svc Service, log zerolog.Logger) http.Handler {
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

	// share wraps a handler of /v1/shares/{share}/... that needs the share
	// to exist.
	share := func(h func(w http.ResponseWriter, r *http.Request, share string)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			name := r.PathValue("share")
			if !svc.HasShare(name) {
				http.Error(w, "no such share", http.StatusNotFound)
				return
			}
			h(w, r, name)
		}
	}

	mux.HandleFunc("GET /v1/shares/{share}/deletes", share(func(w http.ResponseWriter, r *http.Request, name string) {
		writeJSON(w, http.StatusOK, svc.Deletes(name))
	}))
	mux.HandleFunc("POST /v1/shares/{share}/deletes/approve", share(func(w http.ResponseWriter, r *http.Request, name string) {
		batch := r.URL.Query().Get("batch")
		if err := svc.ApproveDeletes(r.Context(), name, batch); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		log.Warn().Str("share", name).Str("batch", batch).Str("via", "admin socket").Msg("delete batch approved")
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("GET /v1/shares/{share}/tripwire", share(func(w http.ResponseWriter, r *http.Request, name string) {
		writeJSON(w, http.StatusOK, svc.Tripwire(name))
	}))
	mux.HandleFunc("POST /v1/shares/{share}/tripwire/release", share(func(w http.ResponseWriter, r *http.Request, name string) {
		msg, err := svc.ReleaseTripwire(r.Context(), name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		log.Warn().Str("share", name).Str("result", msg).Str("via", "admin socket").Msg("tripwire released")
		writeJSON(w, http.StatusOK, map[string]string{"message": msg})
	}))
	mux.HandleFunc("POST /v1/shares/{share}/tripwire/restore", share(func(w http.ResponseWriter, r *http.Request, name string) {
		id, msg, err := svc.RestoreBeforeTrip(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		log.Warn().Str("share", name).Str("job", id).Str("via", "admin socket").Msg("restore from before the trip started")
		writeJSON(w, http.StatusOK, map[string]string{"id": id, "message": msg})
	}))
	for verb, act := range map[string]func(string){"pause": svc.Pause, "resume": svc.Resume, "sync": svc.SyncNow} {
		mux.HandleFunc("POST /v1/shares/{share}/"+verb, share(func(w http.ResponseWriter, r *http.Request, name string) {
			act(name)
			log.Info().Str("share", name).Str("action", verb).Str("via", "admin socket").Msg("share action")
			w.WriteHeader(http.StatusNoContent)
		}))
	}

	mux.HandleFunc("GET /v1/shares/{share}/snapshots", func(w http.ResponseWriter, r *http.Request) {
		l, err := svc.Snapshots(r.Context(), r.PathValue("share"))
		snapshotReply(w, l, err)
	})
	mux.HandleFunc("POST /v1/shares/{share}/snapshots", func(w http.ResponseWriter, r *http.Request) {
		name, err := svc.TakeSnapshot(r.Context(), r.PathValue("share"))
		snapshotReply(w, map[string]string{"name": name}, err)
	})
	mux.HandleFunc("POST /v1/shares/{share}/snapshots/prune", func(w http.ResponseWriter, r *http.Request) {
		p, err := svc.PruneSnapshots(r.Context(), r.PathValue("share"))
		snapshotReply(w, p, err)
	})
	mux.HandleFunc("POST /v1/shares/{share}/snapshots/{snap}/rollback", func(w http.ResponseWriter, r *http.Request) {
		name, snap := r.PathValue("share"), r.PathValue("snap")
		err := svc.Rollback(r.Context(), name, snap, r.URL.Query().Get("destroy_newer") == "1")
		if err == nil {
			log.Warn().Str("share", name).Str("snapshot", snap).Str("via", "admin socket").Msg("rollback done")
		}
		snapshotReply(w, nil, err)
	})

	mux.HandleFunc("POST /v1/alerts/test", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.TestAlert(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		log.Info().Str("component", "alert").Str("via", "admin socket").Msg("test alert sent")
		w.WriteHeader(http.StatusNoContent)
	})

	mux.HandleFunc("GET /v1/shares/{share}/verify", share(func(w http.ResponseWriter, r *http.Request, name string) {
		writeJSON(w, http.StatusOK, svc.VerifyStatus(name))
	}))
	mux.HandleFunc("POST /v1/shares/{share}/verify", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		pct := 0.0
		if s := q.Get("sample"); s != "" {
			var err error
			if pct, err = strconv.ParseFloat(s, 64); err != nil || pct < 0 || pct > 100 {
				http.Error(w, "sample: want a percentage from 0 to 100", http.StatusBadRequest)
				return
			}
		}
		id, err := svc.StartVerify(r.PathValue("share"), q.Get("deep") == "true" || q.Get("deep") == "1", pct)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
	})
	mux.HandleFunc("POST /v1/shares/{share}/restore", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req := RestoreRequest{Path: q.Get("path"), Prefix: q.Get("prefix"), Glob: q.Get("glob"),
			Overwrite: q.Get("overwrite") == "true", DryRun: q.Get("dry_run") == "true"}
		if s := q.Get("at"); s != "" {
			at, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				http.Error(w, "at: want an RFC 3339 time", http.StatusBadRequest)
				return
			}
			req.At = at
		}
		id, err := svc.StartRestore(r.PathValue("share"), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
	})
	for _, kind := range []string{jobs.Verify, jobs.Restore} {
		mux.HandleFunc("GET /v1/shares/{share}/"+kind+"/{id}", func(w http.ResponseWriter, r *http.Request) {
			st, ok := svc.Job(r.PathValue("share"), kind, r.PathValue("id"))
			if !ok {
				http.Error(w, "no such job", http.StatusNotFound)
				return
			}
			writeJSON(w, http.StatusOK, st)
		})
	}
	return mux
}

// snapshotReply answers a snapshot request: v as JSON, no content for a
// nil v, 404 for an error marked NotFound, 409 for any other.
func snapshotReply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		code := http.StatusConflict
		if isNotFound(err) {
			code = http.StatusNotFound
		}
		http.Error(w, err.Error(), code)
		return
	}
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
