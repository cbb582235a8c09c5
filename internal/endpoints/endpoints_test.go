package endpoints

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/eventlog"
	"genesissync/internal/objstore"
)

// fakeStore answers pings and probes as told; safe for concurrent use.
type fakeStore struct {
	url, bucket string

	mu       sync.Mutex
	pingErr  error
	probeErr error
	caps     objstore.Capabilities
	pings    int
}

func (f *fakeStore) Endpoint() string { return f.url }
func (f *fakeStore) Bucket() string   { return f.bucket }

func (f *fakeStore) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pings++
	return f.pingErr
}

func (f *fakeStore) Probe(context.Context) (objstore.Capabilities, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.caps, f.probeErr
}

func (f *fakeStore) set(ping, probe error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pingErr, f.probeErr = ping, probe
}

func kinds(events []eventlog.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

func TestSetGroupsSharesByEndpointAndBucket(t *testing.T) {
	minio := &fakeStore{url: "http://minio:9000", bucket: "station"}
	s := New([]Share{
		{Name: "studio", Store: minio},
		{Name: "archive", Store: &fakeStore{url: "http://minio:9000", bucket: "archive"}},
		{Name: "jingles", Store: &fakeStore{url: "http://minio:9000", bucket: "station"}},
		{Name: "cloud", Store: &fakeStore{url: "https://s3.example", bucket: "station"}},
	}, Options{}, zerolog.Nop(), nil)
	st := s.Status()
	require.Len(t, st, 3)
	require.Equal(t, "station", st[0].Bucket)
	require.Equal(t, "http://minio:9000", st[0].URL)
	require.Equal(t, []string{"studio", "jingles"}, st[0].Shares)
	require.Equal(t, []string{"archive"}, st[1].Shares)
	require.Equal(t, "https://s3.example", st[2].URL)
	require.True(t, st[0].CheckedAt.IsZero(), "not probed yet")
	require.Nil(t, st[0].Capabilities)

	st[0].Bucket = "changed"
	require.Equal(t, "station", s.Status()[0].Bucket, "the status is a copy")

	require.NotNil(t, New(nil, Options{}, zerolog.Nop(), nil).Status(), "no targets: an empty list, not null, in the JSON")
	require.Nil(t, (*Set)(nil).Status())
}

func TestPingReportsChanges(t *testing.T) {
	store := &fakeStore{url: "http://minio:9000", bucket: "station"}
	events := eventlog.New(0)
	s := New([]Share{{Name: "studio", Store: store}}, Options{}, zerolog.Nop(), events)
	ctx := context.Background()

	s.ping(ctx)
	st := s.Status()[0]
	require.True(t, st.Reachable)
	require.False(t, st.CheckedAt.IsZero())
	require.Empty(t, st.Error)
	require.Empty(t, events.Recent(0), "reachable at the first probe: nothing to tell")

	store.set(errors.New("connection refused"), nil)
	s.ping(ctx)
	s.ping(ctx)
	st = s.Status()[0]
	require.False(t, st.Reachable)
	require.Equal(t, "connection refused", st.Error)
	require.Equal(t, []string{"endpoint.unreachable"}, kinds(events.Recent(0)), "told once, not at every probe")
	require.Equal(t, "bucket station at http://minio:9000 is unreachable: connection refused", events.Recent(1)[0].Message)

	store.set(nil, nil)
	s.ping(ctx)
	st = s.Status()[0]
	require.True(t, st.Reachable)
	require.Empty(t, st.Error)
	require.Equal(t, []string{"endpoint.reachable", "endpoint.unreachable"}, kinds(events.Recent(0)))

	// Unreachable at the first probe is a change too.
	down := &fakeStore{url: "http://down:9000", bucket: "b", pingErr: errors.New("timeout")}
	events2 := eventlog.New(0)
	New([]Share{{Name: "x", Store: down}}, Options{}, zerolog.Nop(), events2).ping(ctx)
	require.Equal(t, []string{"endpoint.unreachable"}, kinds(events2.Recent(0)))
}

func TestProbeCapabilitiesKeepsTheLastGoodResult(t *testing.T) {
	store := &fakeStore{url: "http://minio:9000", bucket: "station", caps: objstore.Capabilities{
		ConditionalCreate: objstore.Capability{State: objstore.TriNo, Reason: "ignored If-None-Match"},
		Evidence:          objstore.ProbeEvidence{Create: objstore.CreateEvidence{ExistingChanged: true}},
	}}
	s := New([]Share{{Name: "studio", Store: store}}, Options{}, zerolog.Nop(), nil)
	ctx := context.Background()

	s.probeCapabilities(ctx)
	st := s.Status()[0]
	require.NotNil(t, st.Capabilities)
	require.Equal(t, objstore.TriNo, st.Capabilities.ConditionalCreate.State)
	require.Zero(t, st.Capabilities.Evidence, "evidence stays out of the status")
	require.Equal(t, store.caps.Degradations(), st.Degradations)
	require.NotEmpty(t, st.Degradations)
	require.Empty(t, st.CapabilitiesError)

	store.set(nil, errors.New("access denied"))
	s.probeCapabilities(ctx)
	st = s.Status()[0]
	require.Equal(t, "access denied", st.CapabilitiesError)
	require.NotNil(t, st.Capabilities, "the last good result stays")
	require.Equal(t, objstore.TriNo, st.Capabilities.ConditionalCreate.State)
}

func TestRunProbesAtOnceAndStops(t *testing.T) {
	store := &fakeStore{url: "http://minio:9000", bucket: "station"}
	s := New([]Share{{Name: "studio", Store: store}}, Options{PingEvery: 10 * time.Millisecond}, zerolog.Nop(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	require.Eventually(t, func() bool {
		st := s.Status()[0]
		return st.Reachable && st.Capabilities != nil
	}, 5*time.Second, 5*time.Millisecond, "both probes run at start")
	require.Eventually(t, func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return store.pings >= 3
	}, 5*time.Second, 5*time.Millisecond, "pings repeat every PingEvery")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	require.Equal(t, Options{PingEvery: time.Minute, PingTimeout: 10 * time.Second,
		CapabilitiesEvery: time.Hour, CapabilitiesTimeout: 2 * time.Minute}, o)
	require.Equal(t, time.Second, Options{PingEvery: time.Second}.withDefaults().PingEvery)
}

// fakeHealth is a several-endpoint target's health as its requests
// would keep it; safe for concurrent use.
type fakeHealth struct {
	mu sync.Mutex
	hs []objstore.EndpointHealth
}

func (f *fakeHealth) get() []objstore.EndpointHealth {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hs)
}

func (f *fakeHealth) down(i int, why string, since time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hs[i].Down, f.hs[i].LastError, f.hs[i].Since = true, why, since
	f.hs[i].Writes = false
	for j := range f.hs {
		if j != i && !f.hs[j].ReadOnly && !f.hs[j].Down {
			f.hs[j].Writes = true
			break
		}
	}
}

func (f *fakeHealth) up(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hs[i].Down, f.hs[i].LastError = false, ""
}

func TestSeveralEndpointsStatusProbesAndBackoff(t *testing.T) {
	near := &fakeStore{url: "http://minio.lan:9000", bucket: "station", caps: objstore.Capabilities{
		Versioning: objstore.Capability{State: objstore.TriYes}}}
	replica := &fakeStore{url: "https://replica.example", bucket: "station"}
	far := &fakeStore{url: "https://s3.example", bucket: "station", caps: objstore.Capabilities{
		Versioning: objstore.Capability{State: objstore.TriNo}}}
	health := &fakeHealth{hs: []objstore.EndpointHealth{
		{URL: near.url, Order: 1, Writes: true, Requests: 7, BytesWritten: 1 << 20},
		{URL: replica.url, Order: 2, ReadOnly: true},
		{URL: far.url, Order: 3},
	}}
	events := eventlog.New(0)
	// The target's store, named by its first endpoint.
	outer := &fakeStore{url: near.url, bucket: "station", probeErr: errors.New("the target's store is not probed")}
	s := New([]Share{{Name: "studio", Store: outer, Endpoints: []Store{near, replica, far}, Health: health.get,
		ProbeEvery: time.Minute, Timeout: time.Second}}, Options{}, zerolog.Nop(), events)
	ctx := context.Background()
	t0 := time.Now()

	s.probeDue(ctx, s.targets[0], t0)
	s.probeCapabilities(ctx)
	st := s.Status()
	require.Len(t, st, 3, "one entry per endpoint")
	for i, e := range st {
		require.True(t, e.Several)
		require.Equal(t, i+1, e.Order)
		require.Equal(t, "http://minio.lan:9000/station", e.Target)
		require.Equal(t, []string{"studio"}, e.Shares)
		require.True(t, e.Reachable)
		require.False(t, e.CheckedAt.IsZero(), "every endpoint is probed")
	}
	require.True(t, st[0].Writes)
	require.True(t, st[0].FirstWriter)
	require.Equal(t, int64(7), st[0].Requests)
	require.Equal(t, int64(1<<20), st[0].BytesWritten)
	require.True(t, st[1].ReadOnly)
	require.False(t, st[1].FirstWriter)
	require.False(t, st[2].FirstWriter)
	require.NotNil(t, st[0].Capabilities, "each endpoint's own capabilities")
	require.Equal(t, objstore.TriYes, st[0].Capabilities.Versioning.State)
	require.Nil(t, st[1].Capabilities, "a read-only endpoint is not probed: the probe writes")
	require.Contains(t, st[1].CapabilitiesError, "takes no writes")
	require.NotNil(t, st[2].Capabilities)
	require.Equal(t, objstore.TriNo, st[2].Capabilities.Versioning.State)
	require.Empty(t, st[0].CapabilitiesError)
	require.Equal(t, 1, near.pings)
	require.Zero(t, outer.pings, "the endpoints are probed, not the target's store")

	// Not due again before the probe period.
	s.probeDue(ctx, s.targets[0], t0.Add(30*time.Second))
	require.Equal(t, 1, near.pings)

	// A request finds the near endpoint down between probes: told once,
	// shown, and probed again a second later, then with backoff.
	health.down(0, "dial tcp: connection refused", t0.Add(31*time.Second))
	near.set(errors.New("dial tcp: connection refused"), nil)
	s.probeDue(ctx, s.targets[0], t0.Add(31*time.Second))
	st = s.Status()
	require.False(t, st[0].Reachable)
	require.Equal(t, "dial tcp: connection refused", st[0].Error)
	require.Equal(t, t0.Add(31*time.Second), st[0].DownSince)
	require.False(t, st[0].Writes)
	require.True(t, st[2].Writes, "writes went to the far endpoint")
	require.False(t, st[2].FirstWriter)
	require.Equal(t, []string{"endpoint.unreachable"}, kinds(events.Recent(0)))
	require.Equal(t, "bucket station at http://minio.lan:9000 is unreachable: dial tcp: connection refused", events.Recent(1)[0].Message)

	pingsAt := func(at time.Duration) int {
		s.probeDue(ctx, s.targets[0], t0.Add(at))
		near.mu.Lock()
		defer near.mu.Unlock()
		return near.pings
	}
	require.Equal(t, 1, pingsAt(31*time.Second+900*time.Millisecond), "not before a second")
	require.Equal(t, 2, pingsAt(32*time.Second), "a second after the request found it down")
	require.Equal(t, 2, pingsAt(33*time.Second+900*time.Millisecond), "then two seconds")
	require.Equal(t, 3, pingsAt(34*time.Second))
	require.Equal(t, 4, pingsAt(38*time.Second), "then four")
	require.Equal(t, []string{"endpoint.unreachable"}, kinds(events.Recent(0)), "told once")

	// It answers again: back in its place, told once.
	near.set(nil, nil)
	health.up(0)
	require.Equal(t, 5, pingsAt(46*time.Second))
	st = s.Status()
	require.True(t, st[0].Reachable)
	require.Empty(t, st[0].Error)
	require.Equal(t, []string{"endpoint.reachable", "endpoint.unreachable"}, kinds(events.Recent(0)))
	require.Equal(t, 5, pingsAt(47*time.Second), "the probe period again")
	require.Equal(t, 6, pingsAt(46*time.Second+time.Minute))
}

func TestBackoffIsCappedAtTheProbePeriod(t *testing.T) {
	var e endpoint
	at := time.Unix(0, 0)
	var waits []time.Duration
	for range 8 {
		e.schedule(false, at, 10*time.Second)
		waits = append(waits, e.next.Sub(at))
	}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		10 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}, waits)
	e.schedule(true, at, 10*time.Second)
	require.Equal(t, 10*time.Second, e.next.Sub(at))
	require.Zero(t, e.retry)
}
