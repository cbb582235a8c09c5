package sharehistory

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

func TestHistory(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	e1 := &reconcile.Failure{Path: "a.mp3", At: t0, Message: "boom"}
	e2 := &reconcile.Failure{Path: "b.mp3", At: t0.Add(time.Second), Message: "bang"}
	var h history
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
		h.observe(reconcile.Status{UploadedBytes: s.up, DownloadedBytes: s.down, LastError: s.err}, t0.Add(s.at))
	}
	require.Equal(t, []reconcile.Failure{*e2, *e1}, h.errors, "newest first, no repeats")
	up, down := h.rates()
	require.InDelta(t, 1024, up, 0.01)
	require.InDelta(t, 1024.0/6, down, 0.01)

	// Samples older than the window go, keeping at least two.
	h.observe(reconcile.Status{UploadedBytes: 6144, DownloadedBytes: 1024}, t0.Add(10*time.Minute))
	require.Len(t, h.samples, 2)
	up, _ = h.rates()
	require.Zero(t, up, "nothing moved in the last window")

	for i := range 2 * recentErrors {
		h.observe(reconcile.Status{LastError: &reconcile.Failure{Path: "x", At: t0.Add(time.Duration(i) * time.Hour)}}, t0)
	}
	require.Len(t, h.errors, recentErrors)
}

// TestHistoryAdoptionPace: the proof read rate over the samples and
// the time left at it for what is still to prove.
func TestHistoryAdoptionPace(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var h history
	ad := reconcile.Adoption{Pending: 10, PendingBytes: 4000}
	h.adoptionPace(&ad)
	require.Zero(t, ad.BytesPerSecond, "one sample or none: no rate yet")
	require.Zero(t, ad.SecondsLeft)
	for i, read := range []int64{0, 200, 400} { // 100 B/s: share 60 %, bucket 40 %
		h.observe(reconcile.Status{Adopted: reconcile.Adoption{HashedBytes: read * 6 / 10, BytesRead: read * 4 / 10}}, t0.Add(time.Duration(2*i)*time.Second))
	}
	h.adoptionPace(&ad)
	require.InDelta(t, 100, ad.BytesPerSecond, 0.01)
	require.InDelta(t, 40, ad.SecondsLeft, 0.01)
	// Nothing left to prove: no time left, whatever the rate.
	done := reconcile.Adoption{}
	h.adoptionPace(&done)
	require.Zero(t, done.SecondsLeft)
	// Nothing read for a whole window: the rate falls to zero.
	h.observe(reconcile.Status{Adopted: reconcile.Adoption{HashedBytes: 240, BytesRead: 160}}, t0.Add(10*time.Minute))
	h.adoptionPace(&ad)
	require.Zero(t, ad.BytesPerSecond)
	require.Zero(t, ad.SecondsLeft)
}

func TestWatcherFill(t *testing.T) {
	st := reconcile.Status{Name: "studio", LastError: &reconcile.Failure{Path: "a.mp3", Message: "boom"},
		Adopted: reconcile.Adoption{Pending: 1, PendingBytes: 100}}
	w := New([]Share{{Name: "studio", Status: func() reconcile.Status { return st }}})

	sh := model.Share{Status: reconcile.Status{Name: "studio"}}
	w.Fill(&sh)
	require.NotNil(t, sh.RecentErrors, "not sampled yet: an empty list, not null, in the JSON")
	require.Empty(t, sh.RecentErrors)

	w.Sample()
	st.UploadedBytes = 1 << 20
	time.Sleep(time.Millisecond) // the samples' times differ
	w.Sample()
	sh = model.Share{Status: st}
	w.Fill(&sh)
	require.Equal(t, []reconcile.Failure{*st.LastError}, sh.RecentErrors)
	require.Positive(t, sh.UploadBytesPerSecond, "the counter grew between the samples")
	require.Zero(t, sh.DownloadBytesPerSecond)
	require.Zero(t, sh.Adopted.BytesPerSecond, "no proof read")

	sh.RecentErrors[0].Path = "changed"
	w.Fill(&sh)
	require.Equal(t, "a.mp3", sh.RecentErrors[0].Path, "the errors are a copy")

	other := model.Share{Status: reconcile.Status{Name: "other"}}
	w.Fill(&other)
	require.NotNil(t, other.RecentErrors, "an unknown share: an empty list, not null")
	var none *Watcher
	none.Fill(&other)
	require.NotNil(t, other.RecentErrors)
}
