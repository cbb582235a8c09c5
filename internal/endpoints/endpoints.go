package endpoints

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/eventlog"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/periodic"
)

// Periods of the probes when Options leave them zero.
const (
	defaultPingEvery   = 30 * time.Second
	defaultPingTimeout = 10 * time.Second
	// A capability probe writes and removes a dozen small objects under
	// the reserved prefix: hourly is enough to notice a changed server.
	defaultCapabilitiesEvery   = time.Hour
	defaultCapabilitiesTimeout = 2 * time.Minute
)

// Store is a target's bucket at one endpoint, as the probes reach it.
// Its methods are called from the Set's goroutines.
type Store interface {
	Endpoint() string
	Bucket() string
	// Ping asks whether the bucket answers (HeadBucket).
	Ping(ctx context.Context) error
	// Probe finds out what the target can do.
	Probe(ctx context.Context) (objstore.Capabilities, error)
}

var _ Store = (*objstore.S3)(nil)

// Share is one share and the store it syncs with.
type Share struct {
	Name  string
	Store Store
}

// Options set the periods of the probes; zero values mean the defaults.
type Options struct {
	// PingEvery is how often each endpoint is asked whether the bucket
	// answers (0: 30 s); PingTimeout bounds one ask (0: 10 s).
	PingEvery, PingTimeout time.Duration
	// CapabilitiesEvery is how often each target's capabilities are
	// probed after the first probe at start (0: an hour);
	// CapabilitiesTimeout bounds one probe (0: 2 minutes).
	CapabilitiesEvery, CapabilitiesTimeout time.Duration
}

func (o Options) withDefaults() Options {
	return Options{
		PingEvery:           orDefault(o.PingEvery, defaultPingEvery),
		PingTimeout:         orDefault(o.PingTimeout, defaultPingTimeout),
		CapabilitiesEvery:   orDefault(o.CapabilitiesEvery, defaultCapabilitiesEvery),
		CapabilitiesTimeout: orDefault(o.CapabilitiesTimeout, defaultCapabilitiesTimeout),
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Target is one bucket the appliance's shares sync with, the shares on
// it, and its endpoints with their health as last probed. Safe for
// concurrent use.
type Target struct {
	bucket string
	shares []string

	mu        sync.Mutex
	endpoints []*endpoint // in the order of the target's config
}

// endpoint is one endpoint of a target and what its probes last found;
// everything but store is guarded by the target's mu.
type endpoint struct {
	store Store
	// reach is the last reachability probe: Reachable, LatencyMs, Error
	// and CheckedAt are set.
	reach model.Endpoint
	caps  capState
}

// capState is an endpoint's last capability probe.
type capState struct {
	caps         *objstore.Capabilities
	degradations []string
	err          string // why the last probe failed; the last good result stays
}

// Status is the target's endpoints as people see them, one per
// endpoint, each naming the target's shares.
func (t *Target) Status() []model.Endpoint {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]model.Endpoint, 0, len(t.endpoints))
	for _, e := range t.endpoints {
		st := e.reach
		st.URL, st.Bucket, st.Shares = e.store.Endpoint(), t.bucket, t.shares
		st.Capabilities, st.Degradations, st.CapabilitiesError = e.caps.caps, e.caps.degradations, e.caps.err
		out = append(out, st)
	}
	return out
}

// Set is the appliance's targets: one per distinct endpoint and bucket
// among the shares, in the order the shares first name them. New builds
// it; Run probes until its context ends; Status may be called from any
// goroutine at any time.
type Set struct {
	targets []*Target
	opts    Options
	log     zerolog.Logger
	events  *eventlog.Log
}

// New groups shares by the endpoint and bucket of their stores. Each
// change of an endpoint's reachability is logged to log and added to
// events.
func New(shares []Share, opts Options, log zerolog.Logger, events *eventlog.Log) *Set {
	s := &Set{opts: opts.withDefaults(), log: log, events: events}
	for _, sh := range shares {
		i := slices.IndexFunc(s.targets, func(t *Target) bool {
			e := t.endpoints[0].store
			return e.Endpoint() == sh.Store.Endpoint() && t.bucket == sh.Store.Bucket()
		})
		if i < 0 {
			s.targets = append(s.targets, &Target{bucket: sh.Store.Bucket(), endpoints: []*endpoint{{store: sh.Store}}})
			i = len(s.targets) - 1
		}
		s.targets[i].shares = append(s.targets[i].shares, sh.Name)
	}
	return s
}

// Status is every target's endpoints, in order; nil for a nil Set.
func (s *Set) Status() []model.Endpoint {
	if s == nil {
		return nil
	}
	out := []model.Endpoint{}
	for _, t := range s.targets {
		out = append(out, t.Status()...)
	}
	return out
}

// Run probes every endpoint's reachability and every target's
// capabilities, at once and then periodically, until ctx ends. It
// always returns nil.
func (s *Set) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { periodic.Run(ctx, s.opts.PingEvery, func() { s.ping(ctx) }) })
	wg.Go(func() { periodic.Run(ctx, s.opts.CapabilitiesEvery, func() { s.probeCapabilities(ctx) }) })
	wg.Wait()
	return nil
}

// ping asks each endpoint in turn whether its bucket answers, and logs
// and records each change between reachable and unreachable (the first
// probe counts as a change only when it fails).
func (s *Set) ping(ctx context.Context) {
	for _, t := range s.targets {
		for _, e := range t.endpoints {
			pctx, cancel := context.WithTimeout(ctx, s.opts.PingTimeout)
			start := time.Now()
			err := e.store.Ping(pctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			now := model.Endpoint{CheckedAt: time.Now(), LatencyMs: float64(time.Since(start).Microseconds()) / 1000, Reachable: err == nil}
			if err != nil {
				now.Error = err.Error()
			}
			t.mu.Lock()
			was := e.reach
			e.reach = now
			t.mu.Unlock()
			url, bucket := e.store.Endpoint(), t.bucket
			switch {
			case err != nil && (was.Reachable || was.CheckedAt.IsZero()):
				s.log.Warn().Err(err).Str("endpoint", url).Str("bucket", bucket).Msg("bucket endpoint unreachable")
				s.events.Add(eventlog.Event{Level: eventlog.Warning, Kind: "endpoint.unreachable",
					Message: "bucket " + bucket + " at " + url + " is unreachable: " + err.Error()})
			case err == nil && !was.Reachable && !was.CheckedAt.IsZero():
				s.log.Info().Str("endpoint", url).Str("bucket", bucket).Msg("bucket endpoint reachable again")
				s.events.Add(eventlog.Event{Level: eventlog.Info, Kind: "endpoint.reachable",
					Message: "bucket " + bucket + " at " + url + " is reachable again"})
			}
		}
	}
}

// probeCapabilities finds out what each target can do (Store.Probe, on
// its first endpoint), for the status page, the API and the log: each
// capability once, and what degrades without the missing ones as
// warnings. A failed probe keeps the last good result beside its error.
func (s *Set) probeCapabilities(ctx context.Context) {
	for _, t := range s.targets {
		e := t.endpoints[0]
		pctx, cancel := context.WithTimeout(ctx, s.opts.CapabilitiesTimeout)
		caps, err := e.store.Probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		tlog := s.log.With().Str("endpoint", e.store.Endpoint()).Str("bucket", t.bucket).Logger()
		if err != nil {
			tlog.Warn().Err(err).Dur("retry_in", s.opts.CapabilitiesEvery).Msg("capability probe failed; tried again at the next probe")
			t.mu.Lock()
			e.caps.err = err.Error()
			t.mu.Unlock()
			continue
		}
		caps.Evidence = objstore.ProbeEvidence{} // in the debug log only
		st := capState{caps: &caps, degradations: caps.Degradations()}
		ev := tlog.Info()
		for _, c := range caps.Named() {
			ev = ev.Str(c.Name, string(c.State))
		}
		ev.Strs("leftovers", caps.Leftovers).Msg("target capabilities probed")
		for _, dg := range st.degradations {
			tlog.Warn().Msg(dg)
		}
		t.mu.Lock()
		e.caps = st
		t.mu.Unlock()
	}
}
