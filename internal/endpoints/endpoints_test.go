package endpoints

import (
	"context"
	"errors"
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
	require.Equal(t, Options{PingEvery: 30 * time.Second, PingTimeout: 10 * time.Second,
		CapabilitiesEvery: time.Hour, CapabilitiesTimeout: 2 * time.Minute}, o)
	require.Equal(t, time.Second, Options{PingEvery: time.Second}.withDefaults().PingEvery)
}
