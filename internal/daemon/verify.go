package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/config"
	"genesissync/internal/eventlog"
	"genesissync/internal/model"
	"genesissync/internal/restore"
	"genesissync/internal/scan"
)

// Job kinds.
const (
	JobVerify  = "verify"
	JobRestore = "restore"
)

// Job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// JobState is a verify or restore job as the admin API reports it. It is
// a value.
type JobState struct {
	ID        string           `json:"id"`
	Kind      string           `json:"kind"`
	Share     string           `json:"share"`
	State     string           `json:"state"`
	StartedAt time.Time        `json:"started_at"`
	Progress  restore.Progress `json:"progress"`
	// Verify is a finished verify's report, Restore a finished restore's
	// result (also set, partly, when the restore failed midway).
	Verify  *restore.Report `json:"verify,omitempty"`
	Restore *restore.Result `json:"restore,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// RestoreRequest is a restore into the live share, from the admin API.
type RestoreRequest struct {
	Path      string    // one file or folder ("" is all)
	Prefix    string    // a key prefix
	Glob      string    // path.Match pattern
	At        time.Time // point in time; zero is the current versions
	Overwrite bool
	DryRun    bool
}

// jobs keeps the verify and restore jobs of this daemon run: at most one
// running per share, the finished ones (the newest maxJobs) for their
// results. Safe for concurrent use.
type jobs struct {
	mu      sync.Mutex
	byID    map[string]*JobState
	order   []string
	running map[string]string // share -> running job id
	last    map[string]*JobState
	next    map[string]time.Time // share -> next scheduled verify
	parent  context.Context
}

const maxJobs = 50

func newJobs() *jobs {
	return &jobs{
		byID: map[string]*JobState{}, running: map[string]string{},
		last: map[string]*JobState{}, next: map[string]time.Time{}, parent: context.Background(),
	}
}

func (d *Daemon) jobs() *jobs { return d.jobState }

func newJobID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// begin registers a running job of kind for share; it fails while
// another job of the share runs.
func (j *jobs) begin(share, kind string) (*JobState, context.Context, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if id, ok := j.running[share]; ok {
		return nil, nil, fmt.Errorf("share %s: %s job %s is still running", share, j.byID[id].Kind, id)
	}
	st := &JobState{ID: newJobID(), Kind: kind, Share: share, State: JobRunning, StartedAt: time.Now().UTC()}
	j.byID[st.ID] = st
	j.order = append(j.order, st.ID)
	for len(j.order) > maxJobs {
		if old := j.byID[j.order[0]]; old != nil && old.State == JobRunning {
			break
		}
		delete(j.byID, j.order[0])
		j.order = j.order[1:]
	}
	j.running[share] = st.ID
	return st, j.parent, nil
}

func (j *jobs) progress(st *JobState, p restore.Progress) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st.Progress = p
}

// finish records the job's end.
func (j *jobs) finish(st *JobState, update func(*JobState)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	update(st)
	delete(j.running, st.Share)
	if st.Kind == JobVerify {
		j.last[st.Share] = st
	}
}

func (j *jobs) get(share, kind, id string) (JobState, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st, ok := j.byID[id]
	if !ok || st.Share != share || st.Kind != kind {
		return JobState{}, false
	}
	return copyJob(st), true
}

// copyJob returns a copy safe to read outside the lock (the report and
// result are written once, at the end, under the lock).
func copyJob(st *JobState) JobState { return *st }

// startVerify starts each share's scheduled verify in g: the first run
// VerifyFirstDelay after start (or the interval, if shorter), then every
// interval. Jobs started from the admin API also end with ctx.
func (d *Daemon) startVerify(ctx context.Context, g *errgroup.Group) error {
	j := d.jobs()
	j.mu.Lock()
	j.parent = ctx
	j.mu.Unlock()
	for _, rt := range d.runtimes {
		period := rt.cfg.Verify.Period()
		if period <= 0 {
			continue
		}
		g.Go(func() error {
			wait := min(period, VerifyFirstDelay)
			for {
				j.mu.Lock()
				j.next[rt.name] = time.Now().Add(wait)
				j.mu.Unlock()
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
				wait = period
				if _, err := d.startVerifyJob(rt.name, rt.cfg.Verify.Deep, rt.cfg.Verify.SamplePercent); err != nil {
					d.log.Warn().Str("component", "verify").Str("share", rt.name).Err(err).Msg("scheduled verify not started")
				}
			}
		})
	}
	return nil
}

// VerifyFirstDelay is how long after start the first scheduled verify
// runs: after the first full scan and bucket listing have settled.
const VerifyFirstDelay = 10 * time.Minute

func (d *Daemon) runtime(name string) *shareRuntime {
	for _, rt := range d.runtimes {
		if rt.name == name {
			return rt
		}
	}
	return nil
}

// adminRestore adds the verify and restore endpoints to the admin API:
//
//	GET  /v1/shares/{share}/verify            the share's verify state (model.Verify)
//	POST /v1/shares/{share}/verify?deep=&sample=   start a verify; answers {"id": ...}
//	GET  /v1/shares/{share}/verify/{id}       the job: progress, then its report
//	POST /v1/shares/{share}/restore?path=&prefix=&glob=&at=&overwrite=&dry_run=
//	                                          start a restore into the live share
//	GET  /v1/shares/{share}/restore/{id}      the job: progress, then its result
func (d *Daemon) adminRestore(mux *http.ServeMux) {
	writeJSON := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /v1/shares/{share}/verify", func(w http.ResponseWriter, r *http.Request) {
		rt := d.runtime(r.PathValue("share"))
		if rt == nil {
			http.Error(w, "no such share", http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, d.verifyStatus(rt))
	})
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
		id, err := d.startVerifyJob(r.PathValue("share"), q.Get("deep") == "true" || q.Get("deep") == "1", pct)
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
		id, err := d.startRestore(r.PathValue("share"), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
	})
	for _, kind := range []string{JobVerify, JobRestore} {
		mux.HandleFunc("GET /v1/shares/{share}/"+kind+"/{id}", func(w http.ResponseWriter, r *http.Request) {
			st, ok := d.jobs().get(r.PathValue("share"), kind, r.PathValue("id"))
			if !ok {
				http.Error(w, "no such job", http.StatusNotFound)
				return
			}
			writeJSON(w, http.StatusOK, st)
		})
	}
}

// verifyStatus is the share's verify state for the status API.
func (d *Daemon) verifyStatus(rt *shareRuntime) model.Verify {
	j := d.jobs()
	j.mu.Lock()
	defer j.mu.Unlock()
	v := model.Verify{Interval: rt.cfg.Verify.Period(), NextRun: j.next[rt.name]}
	if id, ok := j.running[rt.name]; ok {
		st := j.byID[id]
		p := st.Progress
		v.Running = &model.Job{ID: st.ID, Kind: st.Kind, StartedAt: st.StartedAt, Phase: p.Phase,
			Files: p.Files, FilesTotal: p.FilesTotal, Bytes: p.Bytes, BytesTotal: p.BytesTotal, Rate: p.Rate, ETA: p.ETA}
	}
	last := j.last[rt.name]
	if last == nil {
		return v
	}
	v.LastJob = last.ID
	v.Error = last.Error
	if rep := last.Verify; rep != nil {
		v.LastRun, v.Mode, v.SamplePercent = rep.FinishedAt, rep.Mode, rep.SamplePercent
		v.Checked, v.Pending, v.Mismatches = rep.Checked, rep.Pending, rep.Mismatches
		for k, n := range rep.Counts {
			if !k.Mismatch() {
				v.Warnings += n
			}
		}
		for _, p := range rep.Problems[:min(len(rep.Problems), 20)] {
			v.Problems = append(v.Problems, model.VerifyProblem{Path: p.Path, Kind: string(p.Kind), Detail: p.Detail})
		}
	}
	return v
}

// startVerifyJob starts a verify of the share in the background and
// returns its job id; its progress and result show in verifyStatus.
// samplePercent 0 checks every file.
func (d *Daemon) startVerifyJob(share string, deep bool, samplePercent float64) (string, error) {
	rt := d.runtime(share)
	if rt == nil {
		return "", fmt.Errorf("no share %q", share)
	}
	j := d.jobs()
	st, ctx, err := j.begin(share, JobVerify)
	if err != nil {
		return "", err
	}
	log := d.log.With().Str("component", "verify").Str("share", share).Str("job", st.ID).Logger()
	log.Info().Bool("deep", deep).Float64("sample_percent", samplePercent).Msg("verify started")
	go func() {
		rep, err := restore.Verify(ctx, restore.VerifyOptions{
			Root: rt.cfg.Path, Bucket: rt.store, Index: rt.index,
			Matcher: scan.NewMatcher(config.DefaultExcludes, rt.cfg.Exclude),
			Deep:    deep, SamplePercent: samplePercent,
			// Beside playout: fewer requests in flight than a restore.
			Concurrency: 4,
			Progress:    func(p restore.Progress) { j.progress(st, p) },
		})
		j.finish(st, func(st *JobState) {
			st.Verify = &rep
			st.State = JobDone
			if err != nil {
				st.State, st.Error = JobFailed, err.Error()
			}
		})
		d.verifyFinished(log, share, rep, err)
	}()
	return st.ID, nil
}

// verifyFinished logs a verify's outcome and adds it to the event log.
func (d *Daemon) verifyFinished(log zerolog.Logger, share string, rep restore.Report, err error) {
	switch {
	case err != nil:
		log.Error().Err(err).Msg("verify could not run")
		d.events.Add(eventlog.Event{Level: eventlog.Warning, Kind: "verify.failed", Share: share, Message: "verify could not run: " + err.Error()})
	case rep.Mismatches > 0:
		first := ""
		for _, p := range rep.Problems {
			if p.Kind.Mismatch() {
				first = p.String()
				break
			}
		}
		log.Error().Int("mismatches", rep.Mismatches).Int("checked", rep.Checked).Str("first", first).Msg("verify found mismatches")
		d.events.Add(eventlog.Event{Level: eventlog.Error, Kind: "verify.mismatch", Share: share,
			Message: fmt.Sprintf("%s verify found %d mismatches (%d files checked); first: %s", rep.Mode, rep.Mismatches, rep.Checked, first)})
	default:
		log.Info().Int("checked", rep.Checked).Int("pending", rep.Pending).Str("mode", rep.Mode).Msg("verify clean")
		d.events.Add(eventlog.Event{Level: eventlog.Info, Kind: "verify.clean", Share: share,
			Message: fmt.Sprintf("%s verify clean: %d files checked", rep.Mode, rep.Checked)})
	}
}

// startRestoreJob starts restoring rel (a file or folder, share-relative;
// "" is everything) from the bucket into the live share in the
// background, and returns its job id.
func (d *Daemon) startRestoreJob(share, rel string) (string, error) {
	return d.startRestore(share, RestoreRequest{Path: rel})
}

// startRestore starts a restore into the live share: a ZFS snapshot
// first when the share is on ZFS; files SMB clients hold open are never
// replaced. The pipeline adopts what it restores (equal content on both
// sides), or uploads an older version restored to a point in time as the
// new current one.
func (d *Daemon) startRestore(share string, req RestoreRequest) (string, error) {
	rt := d.runtime(share)
	if rt == nil {
		return "", fmt.Errorf("no share %q", share)
	}
	uid, gid, err := d.owner()
	if err != nil {
		return "", err
	}
	j := d.jobs()
	st, ctx, err := j.begin(share, JobRestore)
	if err != nil {
		return "", err
	}
	log := d.log.With().Str("share", share).Str("job", st.ID).Logger()
	log.Warn().Str("component", "restore").Str("path", req.Path).Str("prefix", req.Prefix).Str("glob", req.Glob).
		Time("at", req.At).Bool("overwrite", req.Overwrite).Bool("dry_run", req.DryRun).Msg("restore into the live share started")
	var open restore.OpenFiles
	if of := d.openFiles(share, rt.cfg.Path); of != nil {
		open = of
	}
	go func() {
		res, err := restore.Restore(ctx, restore.Options{
			Root: rt.cfg.Path, Bucket: rt.store, Versions: rt.store,
			Path: req.Path, Prefix: req.Prefix, Glob: req.Glob, At: req.At,
			Overwrite: req.Overwrite, DryRun: req.DryRun,
			OpenFiles: open, UID: uid, GID: gid, Dataset: rt.cfg.Dataset,
			Matcher:  scan.NewMatcher(config.DefaultExcludes, rt.cfg.Exclude),
			Progress: func(p restore.Progress) { j.progress(st, p) },
			Log:      d.log,
		})
		j.finish(st, func(st *JobState) {
			st.Restore = &res
			st.State = JobDone
			if err != nil {
				st.State, st.Error = JobFailed, err.Error()
			}
		})
		level, msg := eventlog.Info, fmt.Sprintf("restore: %d files restored, %d already present, %d skipped, %d failed", res.Restored, res.Present, res.Skipped, res.Failed)
		if res.Snapshot != "" {
			msg += "; snapshot " + res.Snapshot + " taken first"
		}
		switch {
		case err != nil:
			level, msg = eventlog.Error, "restore failed: "+err.Error()
		case res.Failed > 0:
			level = eventlog.Error
		case res.Skipped > 0:
			level = eventlog.Warning
		}
		d.events.Add(eventlog.Event{Level: level, Kind: "restore.finished", Share: share, Message: msg})
		log.Info().Str("component", "restore").Str("result", msg).Msg("restore job finished")
	}()
	return st.ID, nil
}

// StartVerify starts a verify job on the running daemon and returns its
// id. samplePercent 0 checks every file.
func (a *Admin) StartVerify(ctx context.Context, share string, deep bool, samplePercent float64) (string, error) {
	q := url.Values{"deep": {strconv.FormatBool(deep)}, "sample": {strconv.FormatFloat(samplePercent, 'f', -1, 64)}}
	return a.startJob(ctx, "/v1/shares/"+url.PathEscape(share)+"/verify?"+q.Encode())
}

// StartRestore starts a restore into the running daemon's live share.
func (a *Admin) StartRestore(ctx context.Context, share string, req RestoreRequest) (string, error) {
	q := url.Values{"path": {req.Path}, "prefix": {req.Prefix}, "glob": {req.Glob},
		"overwrite": {strconv.FormatBool(req.Overwrite)}, "dry_run": {strconv.FormatBool(req.DryRun)}}
	if !req.At.IsZero() {
		q.Set("at", req.At.UTC().Format(time.RFC3339Nano))
	}
	return a.startJob(ctx, "/v1/shares/"+url.PathEscape(share)+"/restore?"+q.Encode())
}

func (a *Admin) startJob(ctx context.Context, path string) (string, error) {
	body, err := a.do(ctx, http.MethodPost, path)
	if err != nil {
		return "", err
	}
	var out struct{ ID string }
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		return "", errors.Join(errors.New("daemon: start job: no job id in the answer"), err)
	}
	return out.ID, nil
}

// Job returns a verify or restore job's state.
func (a *Admin) Job(ctx context.Context, share, kind, id string) (JobState, error) {
	var st JobState
	body, err := a.do(ctx, http.MethodGet, "/v1/shares/"+url.PathEscape(share)+"/"+kind+"/"+url.PathEscape(id))
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(body, &st)
}

// VerifyStatus returns the share's verify state; it also tells whether
// a daemon answers on the socket.
func (a *Admin) VerifyStatus(ctx context.Context, share string) (model.Verify, error) {
	var v model.Verify
	body, err := a.do(ctx, http.MethodGet, "/v1/shares/"+url.PathEscape(share)+"/verify")
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(body, &v)
}

// OfflineOpenFiles is, for the CLI working on a share while the daemon is
// stopped, the view of files SMB clients hold open: the system smbd's in
// appliance mode; nil in standalone mode (smbd is the daemon's child and
// down with it) and with Samba off.
func OfflineOpenFiles(cfg *config.Config, share string, log zerolog.Logger) restore.OpenFiles {
	if cfg.Samba.Mode != config.SambaAppliance {
		return nil
	}
	return New(cfg, log, "").openFiles(share, cfg.Shares[share].Path)
}

// ServiceOwner is the uid and gid the daemon gives the files it writes
// on a share (-1, -1 with Samba off), for the CLI.
func ServiceOwner(cfg *config.Config) (int, int, error) {
	return New(cfg, zerolog.Nop(), "").owner()
}
