package onair

import (
	"context"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/model"
	"genesissync/internal/periodic"
	"genesissync/internal/readiness"
	"genesissync/internal/reconcile"
)

// Share is one share as the Runner knows it. Every share the playlists
// may map into is one, with or without a Checker of its own.
type Share struct {
	Name string
	// Root is the share's path.
	Root string
	// Checker checks the share's own playlists; nil: it has none.
	Checker *readiness.Checker
	// Interval is the period of the timer check (readiness.interval).
	Interval time.Duration
	Index    Index
	Remote   Bucket
	// Status is the share's pipeline status (reconcile.Share.Status).
	Status func() reconcile.Status
	// Fetch asks the pipeline for a path ahead of all others
	// (reconcile.Share.Fetch).
	Fetch func(rel string)
}

// Runner runs the checks of every share with a Checker and keeps their
// last reports. Fill may be called from any goroutine.
type Runner struct {
	shares []Share
	log    zerolog.Logger

	mu      sync.Mutex
	reports map[string]model.Readiness
}

// New returns a Runner over shares that has checked nothing yet.
func New(shares []Share, log zerolog.Logger) *Runner {
	return &Runner{shares: shares, log: log.With().Str("component", "onair").Logger(), reports: map[string]model.Readiness{}}
}

// watchEvery is how often a Runner looks at the pipelines for a change
// that calls for a check sooner than the timer; minGap is the least time
// between two checks of one share that a change triggers.
const (
	watchEvery = 2 * time.Second
	minGap     = 5 * time.Second
)

// Run checks each share with a Checker at once, every Interval, and after
// its pipelines moved something, until ctx ends. It always returns nil.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, sh := range r.shares {
		if sh.Checker == nil {
			continue
		}
		wg.Go(func() { r.watch(ctx, sh) })
	}
	wg.Wait()
	return nil
}

// watch is one share's loop: a check when the timer is due, or when a
// pipeline's fingerprint changed and minGap has passed since the last.
func (r *Runner) watch(ctx context.Context, sh Share) {
	var last time.Time
	var seen []activity
	periodic.Run(ctx, watchEvery, func() {
		fp := r.fingerprint()
		now := time.Now()
		if last.IsZero() || now.Sub(last) >= sh.Interval || (!slices.Equal(fp, seen) && now.Sub(last) >= minGap) {
			r.Check(ctx, sh.Name, now)
			last, seen = now, fp
		}
	})
}

// activity is what of a share's pipeline a track's state depends on;
// a check is due sooner when it changes.
type activity struct {
	uploads, downloads, deletes, renames, recorded int64
	conflicts, refused, refusedPaths               int
}

// fingerprint is every share's activity: playlists may name tracks on
// other shares, so every share counts.
func (r *Runner) fingerprint() []activity {
	fp := make([]activity, len(r.shares))
	for i, sh := range r.shares {
		st := sh.Status()
		fp[i] = activity{st.Uploads, st.Downloads, st.Deletes, st.Renames, st.Recorded, len(st.Conflicts), st.RefusedCount, len(st.RefusedPaths)}
	}
	return fp
}

// Check runs share's check at now, asks for the bucket-only tracks, and
// keeps the report. A share without a Checker is left alone.
func (r *Runner) Check(ctx context.Context, share string, now time.Time) {
	var self *Share
	for i := range r.shares {
		if r.shares[i].Name == share && r.shares[i].Checker != nil {
			self = &r.shares[i]
		}
	}
	if self == nil {
		return
	}
	f, closeAll := r.files(ctx)
	defer closeAll()
	sf := f.shares[share]
	if sf == nil {
		r.keep(share, model.Readiness{Enabled: true, CheckedAt: now, Problems: []model.ReadinessProblem{{
			Reason: string(readiness.ReasonUnreadable), Detail: "the share's folder cannot be opened"}}, Fetching: []string{}, Hours: []model.ReadinessHour{}})
		return
	}
	rep := self.Checker.Run(sf.root.FS(), now, f)
	r.fetch(rep)
	r.keep(share, toModel(rep))
}

// files opens every share's root for one check; closeAll closes them.
func (r *Runner) files(ctx context.Context) (*files, func()) {
	f := &files{ctx: ctx, shares: map[string]*shareFiles{}}
	for _, sh := range r.shares {
		root, err := os.OpenRoot(sh.Root)
		if err != nil {
			r.log.Warn().Err(err).Str("share", sh.Name).Msg("readiness: share folder cannot be opened")
			continue
		}
		f.shares[sh.Name] = &shareFiles{root: root, dir: sh.Root, index: sh.Index, remote: sh.Remote,
			status: sh.Status(), dirs: map[string][]string{}}
	}
	return f, func() {
		for _, sf := range f.shares {
			sf.root.Close()
		}
	}
}

// fetch asks each bucket-only track's pipeline for it, soonest first.
func (r *Runner) fetch(rep readiness.Report) {
	for _, ft := range rep.Fetch {
		for _, sh := range r.shares {
			if sh.Name == ft.Share && sh.Fetch != nil {
				sh.Fetch(ft.Path)
			}
		}
	}
}

// keep stores share's report and logs what changed in its problems.
func (r *Runner) keep(share string, rd model.Readiness) {
	r.mu.Lock()
	prev, had := r.reports[share]
	r.reports[share] = rd
	r.mu.Unlock()
	if !had || len(prev.Problems) != len(rd.Problems) {
		ev := r.log.Info()
		if len(rd.Problems) > 0 {
			ev = r.log.Warn()
		}
		ev.Str("share", share).Int("playlists", rd.Playlists).Int("tracks", rd.Tracks).Int("ok", rd.OK).
			Int("problems", len(rd.Problems)).Int("fetching", len(rd.Fetching)).Msg("readiness checked")
	}
}

// Fill sets sh's Readiness: the last report, or enabled and not checked
// yet, or off for a share without playlists. A nil *Runner is off.
func (r *Runner) Fill(sh *model.Share) {
	sh.Readiness = model.Readiness{Problems: []model.ReadinessProblem{}, Fetching: []string{}, Hours: []model.ReadinessHour{}}
	if r == nil {
		return
	}
	for _, s := range r.shares {
		if s.Name == sh.Name && s.Checker != nil {
			sh.Readiness.Enabled = true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rd, ok := r.reports[sh.Name]; ok {
		sh.Readiness = rd
	}
}

// toModel is the report as the status model holds it.
func toModel(rep readiness.Report) model.Readiness {
	out := model.Readiness{Enabled: true, CheckedAt: rep.At, Playlists: rep.Playlists, Tracks: rep.Tracks, OK: rep.OK,
		FirstProblemAir: rep.FirstAir, Problems: make([]model.ReadinessProblem, len(rep.Problems)), Fetching: make([]string, len(rep.Fetch))}
	for i, p := range rep.Problems {
		out.Problems[i] = model.ReadinessProblem{Playlist: p.Playlist, Line: p.Line, Air: p.Air, Artist: p.Artist, Title: p.Title,
			Entry: p.Entry, Share: p.Share, Path: p.Path, Reason: string(p.Reason), Detail: p.Detail}
	}
	out.Hours = make([]model.ReadinessHour, len(rep.Hours))
	for i, h := range rep.Hours {
		out.Hours[i] = model.ReadinessHour{Start: h.Start, Tracks: h.Tracks, Problems: h.Problems, Level: "info"}
		if h.Problems > 0 {
			out.Hours[i].Level = "error"
		}
	}
	for i, ft := range rep.Fetch {
		out.Fetching[i] = ft.Path
		if ft.Share != rep.Share {
			out.Fetching[i] = ft.Share + ":" + ft.Path
		}
	}
	return out
}
