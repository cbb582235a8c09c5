package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/endpoints"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/reconcile"
	"genesissync/internal/status"
)

func TestShareWatch(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	e1 := &reconcile.Failure{Path: "a.mp3", At: t0, Message: "boom"}
	e2 := &reconcile.Failure{Path: "b.mp3", At: t0.Add(time.Second), Message: "bang"}
	var w shareWatch
	steps := []struct {
		at       time.Duration
		up, down int64
		err      *reconcile.Failure
	}{
		{0, 0, 0, nil},
		{2 * time.Second, 2048, 0, e1},
		{4 * time.Second, 4096, 1024, e1}, // the same error again: kept once
		{6 * time.Second, 6144, 1024, e2},
	}
	for _, s := range steps {
		w.observe(reconcile.Status{UploadedBytes: s.up, DownloadedBytes: s.down, LastError: s.err}, t0.Add(s.at))
	}
	require.Equal(t, []reconcile.Failure{*e2, *e1}, w.errors, "newest first, no repeats")
	up, down := w.rates()
	require.InDelta(t, 1024, up, 0.01)
	require.InDelta(t, 1024.0/6, down, 0.01)

	// Samples older than the window go, keeping at least two.
	w.observe(reconcile.Status{UploadedBytes: 6144, DownloadedBytes: 1024}, t0.Add(10*time.Minute))
	require.Len(t, w.samples, 2)
	up, _ = w.rates()
	require.Zero(t, up, "nothing moved in the last window")

	for i := range 2 * recentErrors {
		w.observe(reconcile.Status{LastError: &reconcile.Failure{Path: "x", At: t0.Add(time.Duration(i) * time.Hour)}}, t0)
	}
	require.Len(t, w.errors, recentErrors)
}

// boxStore is a bucket endpoint that is never asked anything.
type boxStore struct{ url, bucket string }

func (s boxStore) Endpoint() string         { return s.url }
func (s boxStore) Bucket() string           { return s.bucket }
func (boxStore) Ping(context.Context) error { return nil }
func (boxStore) Probe(context.Context) (objstore.Capabilities, error) {
	return objstore.Capabilities{}, nil
}

func TestFillBox(t *testing.T) {
	d := New(&config.Config{Shares: map[string]*config.Share{"studio": {Name: "studio", StaleAfter: 15 * time.Minute}}}, zerolog.Nop(), "test")
	d.endpoints = endpoints.New([]endpoints.Share{{Name: "studio", Store: boxStore{"http://minio:9000", "station"}}}, endpoints.Options{}, zerolog.Nop(), nil)
	b := d.box()
	b.shares["studio"] = &shareWatch{errors: []reconcile.Failure{{Path: "a.mp3", Message: "boom"}}}
	snap := model.Snapshot{Shares: []model.Share{{Status: reconcile.Status{Name: "studio"}}, {Status: reconcile.Status{Name: "other"}}}}
	d.fillBox(&snap)
	require.Equal(t, 900.0, snap.Shares[0].StaleAfterSeconds)
	require.Equal(t, "a.mp3", snap.Shares[0].RecentErrors[0].Path)
	require.NotNil(t, snap.Shares[1].RecentErrors, "an empty list, not null, in the JSON")
	require.Equal(t, "station", snap.Endpoints[0].Bucket)
	snap.Endpoints[0].Bucket = "changed"
	var again model.Snapshot
	d.fillBox(&again)
	require.Equal(t, "station", again.Endpoints[0].Bucket, "the snapshot is a copy")
}

func TestActionsRefuse(t *testing.T) {
	d := New(&config.Config{}, zerolog.Nop(), "test")
	_, err := actions{d}.Do(context.Background(), status.Action{Kind: status.ActionSync, Share: "nope"})
	require.ErrorIs(t, err, status.ErrUnknownShare)
}

// TestShareWatchAdoptionPace: the proof read rate over the samples and
// the time left at it for what is still to prove.
func TestShareWatchAdoptionPace(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var w shareWatch
	ad := reconcile.Adoption{Pending: 10, PendingBytes: 4000}
	w.adoptionPace(&ad)
	require.Zero(t, ad.BytesPerSecond, "one sample or none: no rate yet")
	require.Zero(t, ad.SecondsLeft)
	for i, read := range []int64{0, 200, 400} { // 100 B/s: share 60 %, bucket 40 %
		w.observe(reconcile.Status{Adopted: reconcile.Adoption{HashedBytes: read * 6 / 10, BytesRead: read * 4 / 10}}, t0.Add(time.Duration(2*i)*time.Second))
	}
	w.adoptionPace(&ad)
	require.InDelta(t, 100, ad.BytesPerSecond, 0.01)
	require.InDelta(t, 40, ad.SecondsLeft, 0.01)
	// Nothing left to prove: no time left, whatever the rate.
	done := reconcile.Adoption{}
	w.adoptionPace(&done)
	require.Zero(t, done.SecondsLeft)
	// Nothing read for a whole window: the rate falls to zero.
	w.observe(reconcile.Status{Adopted: reconcile.Adoption{HashedBytes: 240, BytesRead: 160}}, t0.Add(10*time.Minute))
	w.adoptionPace(&ad)
	require.Zero(t, ad.BytesPerSecond)
	require.Zero(t, ad.SecondsLeft)
}
