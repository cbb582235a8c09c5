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
	"genesissync/internal/sharehistory"
	"genesissync/internal/status"
)

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
	d.history = sharehistory.New([]sharehistory.Share{{Name: "studio", Status: func() reconcile.Status {
		return reconcile.Status{Name: "studio", LastError: &reconcile.Failure{Path: "a.mp3", Message: "boom"}}
	}}})
	d.history.Sample()
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
