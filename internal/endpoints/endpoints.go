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
	defaultPingEvery   = time.Minute
	defaultPingTimeout = 10 * time.Second
	// An endpoint found down is probed again after firstRetry, then
	// after twice as long each time, up to its probe period.
	firstRetry = time.Second
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
	// Endpoints are the store of each endpoint of a target with several
	// (objstore.S3.Endpoints), nearest first; a probe of one keeps its
	// health. Nil for a target with one endpoint: Store is probed.
	Endpoints []Store
	// Health is each endpoint's health as the target's requests and the
	// probes keep it (objstore.S3.Health), with Endpoints.
	Health func() []objstore.EndpointHealth
	// ProbeEvery and Timeout are the target's probe_interval and
	// endpoint_timeout; zero means Options' PingEvery and PingTimeout.
	ProbeEvery, Timeout time.Duration
}

// Options set the periods of the probes; zero values mean the defaults.
type Options struct {
	// PingEvery is how often each endpoint is asked whether the bucket
	// answers (0: a minute), and PingTimeout bounds one ask (0: 10 s),
	// where the share leaves them zero. A down endpoint is asked again
	// sooner, with backoff from a second.
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
	// store is the target's own, whose capabilities are probed when it
	// has one endpoint (each endpoint of several is probed on its own).
	store Store
	// health is the endpoints' health as requests keep it, for a target
	// with several; nil for one.
	health         func() []objstore.EndpointHealth
	every, timeout time.Duration

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
	// next is when the endpoint is due to be probed again; retry is the
	// backoff while it is down (0 while up).
	next  time.Time
	retry time.Duration
	// down is whether it was last known down (from its health, for a
	// target with several), for telling each change once.
	down, known bool
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
	var hs []objstore.EndpointHealth
	if t.health != nil {
		hs = t.health()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]model.Endpoint, 0, len(t.endpoints))
	firstWriter := slices.IndexFunc(hs, func(h objstore.EndpointHealth) bool { return !h.ReadOnly })
	for i, e := range t.endpoints {
		st := e.reach
		st.URL, st.Bucket, st.Shares = e.store.Endpoint(), t.bucket, t.shares
		st.Target = t.endpoints[0].store.Endpoint() + "/" + t.bucket
		st.Capabilities, st.Degradations, st.CapabilitiesError = e.caps.caps, e.caps.degradations, e.caps.err
		if i < len(hs) {
			h := hs[i]
			st.Several, st.Order, st.ReadOnly, st.Writes, st.FirstWriter = true, h.Order, h.ReadOnly, h.Writes, i == firstWriter
			// The requests know better than the last probe.
			st.Reachable, st.Error = !h.Down, ""
			if h.Down {
				st.Error, st.DownSince = h.LastError, h.Since
			}
			st.Requests, st.Failures, st.Misses = h.Requests, h.Failures, h.Misses
			st.BytesRead, st.BytesWritten = h.BytesRead, h.BytesWritten
		}
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
			t := &Target{store: sh.Store, bucket: sh.Store.Bucket(), every: orDefault(sh.ProbeEvery, s.opts.PingEvery),
				timeout: orDefault(sh.Timeout, s.opts.PingTimeout)}
			if len(sh.Endpoints) > 0 && sh.Health != nil {
				t.health = sh.Health
				for _, e := range sh.Endpoints {
					t.endpoints = append(t.endpoints, &endpoint{store: e})
				}
			} else {
				t.endpoints = []*endpoint{{store: sh.Store}}
			}
			s.targets = append(s.targets, t)
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
// capabilities, at once and then periodically, until ctx ends: each
// endpoint every probe period while it answers, and with backoff from a
// second while it is down, whether a probe or a request found it down.
// It always returns nil.
func (s *Set) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range s.targets {
		tick := min(time.Second, t.every)
		wg.Go(func() { periodic.Run(ctx, tick, func() { s.probeDue(ctx, t, time.Now()) }) })
	}
	wg.Go(func() { periodic.Run(ctx, s.opts.CapabilitiesEvery, func() { s.probeCapabilities(ctx) }) })
	wg.Wait()
	return nil
}

// ping probes every endpoint of every target now.
func (s *Set) ping(ctx context.Context) {
	for _, t := range s.targets {
		for _, e := range t.endpoints {
			if ctx.Err() != nil {
				return
			}
			s.pingOne(ctx, t, e, time.Now())
		}
	}
}

// probeDue probes the target's endpoints that are due at now, and tells
// the changes its requests found between probes.
func (s *Set) probeDue(ctx context.Context, t *Target, now time.Time) {
	s.tellHealth(t, now)
	for _, e := range t.endpoints {
		t.mu.Lock()
		due := !now.Before(e.next)
		t.mu.Unlock()
		if due && ctx.Err() == nil {
			s.pingOne(ctx, t, e, now)
		}
	}
}

// pingOne asks one endpoint whether its bucket answers, schedules its
// next probe from at, and logs and records each change between reachable and
// unreachable (the first probe counts as a change only when it fails).
func (s *Set) pingOne(ctx context.Context, t *Target, e *endpoint, at time.Time) {
	pctx, cancel := context.WithTimeout(ctx, t.timeout)
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
	e.schedule(err == nil, at, t.every)
	t.mu.Unlock()
	if t.health != nil {
		s.tellHealth(t, at) // the probe went through the store: its health has it
		return
	}
	url, bucket := e.store.Endpoint(), t.bucket
	switch {
	case err != nil && (was.Reachable || was.CheckedAt.IsZero()):
		s.tellDown(url, bucket, err.Error())
	case err == nil && !was.Reachable && !was.CheckedAt.IsZero():
		s.tellUp(url, bucket)
	}
}

// schedule sets when e is probed next: after every while it answers,
// else after a backoff doubling from firstRetry up to every. The
// caller holds the target's mu.
func (e *endpoint) schedule(up bool, at time.Time, every time.Duration) {
	if up {
		e.retry = 0
		e.next = at.Add(every)
		return
	}
	e.retry = min(max(2*e.retry, firstRetry), every)
	e.next = at.Add(e.retry)
}

// tellHealth tells each change of a several-endpoint target's
// endpoints between down and up, as its requests and probes found it;
// an endpoint found down by a request is probed again a second later.
func (s *Set) tellHealth(t *Target, now time.Time) {
	if t.health == nil {
		return
	}
	hs := t.health()
	for i, e := range t.endpoints {
		if i >= len(hs) {
			break
		}
		h := hs[i]
		t.mu.Lock()
		was, known := e.down, e.known
		e.down, e.known = h.Down, true
		if h.Down && e.retry == 0 {
			// Down since the last probe found it up: back off from now.
			e.retry, e.next = firstRetry, now.Add(firstRetry)
		}
		t.mu.Unlock()
		switch {
		case h.Down && (!was || !known):
			s.tellDown(h.URL, t.bucket, h.LastError)
		case !h.Down && was && known:
			s.tellUp(h.URL, t.bucket)
		}
	}
}

func (s *Set) tellDown(url, bucket, why string) {
	s.log.Warn().Str("error", why).Str("endpoint", url).Str("bucket", bucket).Msg("bucket endpoint unreachable")
	s.events.Add(eventlog.Event{Level: eventlog.Warning, Kind: "endpoint.unreachable",
		Message: "bucket " + bucket + " at " + url + " is unreachable: " + why})
}

func (s *Set) tellUp(url, bucket string) {
	s.log.Info().Str("endpoint", url).Str("bucket", bucket).Msg("bucket endpoint reachable again")
	s.events.Add(eventlog.Event{Level: eventlog.Info, Kind: "endpoint.reachable",
		Message: "bucket " + bucket + " at " + url + " is reachable again"})
}

// probeCapabilities finds out what each target can do (Store.Probe; on
// each endpoint of a target with several), for the status page, the API
// and the log: each capability once, and what degrades without the
// missing ones as warnings. A failed probe keeps the last good result
// beside its error.
func (s *Set) probeCapabilities(ctx context.Context) {
	for _, t := range s.targets {
		if t.health == nil {
			s.probeOne(ctx, t, t.endpoints[0], t.store)
			continue
		}
		// Each endpoint of several may be another server (a LAN MinIO, a
		// cloud provider): each is probed on its own, but for those that
		// take no writes, since the probe writes.
		hs := t.health()
		for i, e := range t.endpoints {
			if ctx.Err() != nil {
				return
			}
			if i < len(hs) && hs[i].ReadOnly {
				t.mu.Lock()
				e.caps.err = notProbedReadOnly
				t.mu.Unlock()
				continue
			}
			s.probeOne(ctx, t, e, e.store)
		}
	}
}

// notProbedReadOnly is the capabilities error of an endpoint with write:
// false.
const notProbedReadOnly = "not probed: the endpoint takes no writes (write: false) and the probe writes test objects"

// probeOne probes store's capabilities and records them on e.
func (s *Set) probeOne(ctx context.Context, t *Target, e *endpoint, store Store) {
	pctx, cancel := context.WithTimeout(ctx, s.opts.CapabilitiesTimeout)
	caps, err := store.Probe(pctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	tlog := s.log.With().Str("endpoint", store.Endpoint()).Str("bucket", t.bucket).Logger()
	if err != nil {
		tlog.Warn().Err(err).Dur("retry_in", s.opts.CapabilitiesEvery).Msg("capability probe failed; tried again at the next probe")
		t.mu.Lock()
		e.caps.err = err.Error()
		t.mu.Unlock()
		return
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
