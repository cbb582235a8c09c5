package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/jobs"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

// fakeService records what the handler asked for; it is the daemon's
// side of the protocol, reduced to its answers.
type fakeService struct {
	calls       []string
	approveErr  error
	snapErr     error
	restoreReq  RestoreRequest
	verifyDeep  bool
	verifyPct   float64
	alertErr    error
	destroyNewr bool
}

func (f *fakeService) HasShare(share string) bool { return share == "studio" }
func (f *fakeService) Deletes(string) reconcile.DeleteBatch {
	return reconcile.DeleteBatch{Batch: "b1"}
}
func (f *fakeService) ApproveDeletes(_ context.Context, _, batch string) error {
	f.calls = append(f.calls, "approve "+batch)
	return f.approveErr
}
func (f *fakeService) Tripwire(string) *reconcile.TripwireStatus {
	return &reconcile.TripwireStatus{Tripped: true, HeldCount: 3}
}
func (f *fakeService) ReleaseTripwire(_ context.Context, share string) (string, error) {
	f.calls = append(f.calls, "release "+share)
	return "released 3", f.approveErr
}
func (f *fakeService) RestoreBeforeTrip(share string) (string, string, error) {
	f.calls = append(f.calls, "restore-before-trip "+share)
	return "r-1", "restoring", nil
}
func (f *fakeService) Pause(s string)   { f.calls = append(f.calls, "pause "+s) }
func (f *fakeService) Resume(s string)  { f.calls = append(f.calls, "resume "+s) }
func (f *fakeService) SyncNow(s string) { f.calls = append(f.calls, "sync "+s) }
func (f *fakeService) Snapshots(context.Context, string) (SnapshotList, error) {
	return SnapshotList{Share: "studio", Dataset: "tank/studio"}, f.snapErr
}
func (f *fakeService) TakeSnapshot(context.Context, string) (string, error) {
	return "manual-1", f.snapErr
}
func (f *fakeService) PruneSnapshots(context.Context, string) (PruneResult, error) {
	return PruneResult{Pruned: []string{"old"}}, f.snapErr
}
func (f *fakeService) Rollback(_ context.Context, _, snap string, destroyNewer bool) error {
	f.calls = append(f.calls, "rollback "+snap)
	f.destroyNewr = destroyNewer
	return f.snapErr
}
func (f *fakeService) TestAlert(context.Context) error { return f.alertErr }
func (f *fakeService) VerifyStatus(string) model.Verify {
	return model.Verify{Checked: 9}
}
func (f *fakeService) StartVerify(_ string, deep bool, pct float64) (string, error) {
	f.verifyDeep, f.verifyPct = deep, pct
	return "v1", nil
}
func (f *fakeService) StartRestore(_ string, req RestoreRequest) (string, error) {
	f.restoreReq = req
	return "r1", nil
}
func (f *fakeService) Job(share, kind, id string) (jobs.Job, bool) {
	if id != "v1" {
		return jobs.Job{}, false
	}
	return jobs.Job{ID: id, Kind: kind, Share: share, State: jobs.Done}, true
}

func serve(t *testing.T, svc Service) *Client {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("unix", Socket(dir))
	require.NoError(t, err)
	srv := &http.Server{Handler: Handler(svc, zerolog.Nop())}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	require.True(t, Running(dir))
	require.False(t, Running(t.TempDir()), "no daemon, no answer")
	return NewClient(dir)
}

func TestClientAndHandler(t *testing.T) {
	ctx := context.Background()
	f := &fakeService{}
	c := serve(t, f)

	b, err := c.Deletes(ctx, "studio")
	require.NoError(t, err)
	require.Equal(t, "b1", b.Batch)
	_, err = c.Deletes(ctx, "nope")
	require.ErrorContains(t, err, "404 Not Found: no such share")

	require.NoError(t, c.Approve(ctx, "studio", "b1"))
	f.approveErr = errors.New("batch b1 is not the held batch")
	require.ErrorContains(t, c.Approve(ctx, "studio", "b1"), "409 Conflict: batch b1 is not the held batch")

	tw, err := c.Tripwire(ctx, "studio")
	require.NoError(t, err)
	require.Equal(t, 3, tw.HeldCount)
	msg, err := c.ReleaseTripwire(ctx, "studio")
	require.ErrorContains(t, err, "409 Conflict: batch b1 is not the held batch")
	f.approveErr = nil
	msg, err = c.ReleaseTripwire(ctx, "studio")
	require.NoError(t, err)
	require.Equal(t, "released 3", msg)
	_, err = c.ReleaseTripwire(ctx, "nope")
	require.ErrorContains(t, err, "404")
	id, msg, err := c.RestoreBeforeTrip(ctx, "studio")
	require.NoError(t, err)
	require.Equal(t, "r-1", id)
	require.Equal(t, "restoring", msg)

	for _, verb := range []string{"pause", "resume", "sync"} {
		require.NoError(t, c.ShareAction(ctx, "studio", verb))
	}
	require.ErrorContains(t, c.ShareAction(ctx, "nope", "pause"), "404")
	require.Equal(t, []string{"approve b1", "approve b1", "release studio", "release studio", "restore-before-trip studio", "pause studio", "resume studio", "sync studio"}, f.calls)

	l, err := c.Snapshots(ctx, "studio")
	require.NoError(t, err)
	require.Equal(t, "tank/studio", l.Dataset)
	name, err := c.CreateSnapshot(ctx, "studio")
	require.NoError(t, err)
	require.Equal(t, "manual-1", name)
	p, err := c.PruneSnapshots(ctx, "studio")
	require.NoError(t, err)
	require.Equal(t, []string{"old"}, p.Pruned)
	require.NoError(t, c.Rollback(ctx, "studio", "auto 1", true))
	require.True(t, f.destroyNewr)

	f.snapErr = NotFound(errors.New("share studio: snapshots are off"))
	_, err = c.Snapshots(ctx, "studio")
	require.ErrorContains(t, err, "404 Not Found: share studio: snapshots are off")
	f.snapErr = errors.New("dataset busy")
	require.ErrorContains(t, c.Rollback(ctx, "studio", "s", false), "409 Conflict: dataset busy")
	require.False(t, f.destroyNewr)

	require.NoError(t, c.TestAlert(ctx))
	f.alertErr = errors.New("webhook down")
	require.ErrorContains(t, c.TestAlert(ctx), "502 Bad Gateway: webhook down")

	v, err := c.VerifyStatus(ctx, "studio")
	require.NoError(t, err)
	require.Equal(t, 9, v.Checked)
	id, err = c.StartVerify(ctx, "studio", true, 12.5)
	require.NoError(t, err)
	require.Equal(t, "v1", id)
	require.True(t, f.verifyDeep)
	require.Equal(t, 12.5, f.verifyPct)

	at := time.Date(2026, 12, 7, 14, 5, 0, 123, time.UTC)
	id, err = c.StartRestore(ctx, "studio", RestoreRequest{Path: "Music/a b+c.mp3", Glob: "*.mp3", At: at, Overwrite: true})
	require.NoError(t, err)
	require.Equal(t, "r1", id)
	require.Equal(t, RestoreRequest{Path: "Music/a b+c.mp3", Glob: "*.mp3", At: at, Overwrite: true}, f.restoreReq)

	j, err := c.Job(ctx, "studio", jobs.Verify, "v1")
	require.NoError(t, err)
	require.Equal(t, jobs.Done, j.State)
	_, err = c.Job(ctx, "studio", jobs.Restore, "zz")
	require.ErrorContains(t, err, "404 Not Found: no such job")
}

func TestHandlerRefusesBadArguments(t *testing.T) {
	h := Handler(&fakeService{}, zerolog.Nop())
	for _, tc := range []struct{ path, want string }{
		{"/v1/shares/studio/verify?sample=101", "sample: want a percentage from 0 to 100"},
		{"/v1/shares/studio/verify?sample=x", "sample: want a percentage from 0 to 100"},
		{"/v1/shares/studio/restore?at=" + url.QueryEscape("yesterday"), "at: want an RFC 3339 time"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, nil))
		require.Equal(t, http.StatusBadRequest, rec.Code, tc.path)
		require.Contains(t, rec.Body.String(), tc.want)
	}
}
