package sharehistory

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/reconcile"
)

// TestSeriesByMinute: the largest backlog and recovery point of each
// minute, and the rate over the seconds sampled.
func TestSeriesByMinute(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var s series
	s.observe(reconcile.Status{PendingUploads: 3, OldestPendingAgeSeconds: 5}, t0)
	s.observe(reconcile.Status{PendingUploads: 7, UploadedBytes: 2000, OldestPendingAgeSeconds: 9}, t0.Add(20*time.Second))
	s.observe(reconcile.Status{PendingUploads: 1, UploadedBytes: 4000, DownloadedBytes: 600, OldestPendingAgeSeconds: 1}, t0.Add(40*time.Second))
	s.observe(reconcile.Status{UploadedBytes: 4600, DownloadedBytes: 600}, t0.Add(70*time.Second))

	got := s.model()
	require.Len(t, got, 2)
	require.Equal(t, t0, got[0].At)
	require.Equal(t, 7, got[0].Backlog, "the minute's largest backlog")
	require.Equal(t, 9.0, got[0].RecoveryPointSeconds)
	require.InDelta(t, 100, got[0].UploadBytesPerSecond, 0.001, "4000 bytes over the 40 s sampled")
	require.InDelta(t, 15, got[0].DownloadBytesPerSecond, 0.001)
	require.Equal(t, t0.Add(time.Minute), got[1].At)
	require.InDelta(t, 20, got[1].UploadBytesPerSecond, 0.001, "600 bytes over 30 s, credited to the minute the sample fell in")
	require.Zero(t, got[1].Backlog)
}

// TestSeriesRestartsAndGaps: a counter that restarts at zero (the daemon
// restarted) and a long gap credit no bytes; points older than a day go.
func TestSeriesRestartsAndGaps(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var s series
	s.observe(reconcile.Status{UploadedBytes: 1 << 30}, t0)
	s.observe(reconcile.Status{UploadedBytes: 100}, t0.Add(2*time.Second))
	require.Zero(t, s.model()[0].UploadBytesPerSecond, "a counter that went back moved nothing")
	s.observe(reconcile.Status{UploadedBytes: 1 << 20}, t0.Add(10*time.Minute))
	require.Len(t, s.model(), 2)
	require.Zero(t, s.model()[1].UploadBytesPerSecond, "bytes over an unwatched gap are not a minute's rate")

	for i := range 30 * 60 { // another 30 hours, a sample a minute
		s.observe(reconcile.Status{}, t0.Add(11*time.Minute+time.Duration(i)*time.Minute))
	}
	got := s.model()
	require.Len(t, got, 24*60+1, "a day back from the newest minute, both ends kept")
	require.Equal(t, got[len(got)-1].At.Add(-seriesSpan), got[0].At)
}

// TestSeriesSavedAndLoaded: the saved form gives back the same points;
// points too old, in the future or out of order are dropped; another
// version is refused.
func TestSeriesSavedAndLoaded(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var s series
	s.observe(reconcile.Status{PendingUploads: 2, OldestPendingAgeSeconds: 4}, t0)
	s.observe(reconcile.Status{PendingUploads: 2, UploadedBytes: 300, OldestPendingAgeSeconds: 6}, t0.Add(3*time.Second))
	s.observe(reconcile.Status{UploadedBytes: 900}, t0.Add(63*time.Second))
	b, err := s.marshal()
	require.NoError(t, err)

	var back series
	require.NoError(t, back.unmarshal(b, t0.Add(2*time.Minute)))
	require.Equal(t, s.model(), back.model())
	require.NoError(t, back.unmarshal(b, t0.Add(25*time.Hour)))
	require.Empty(t, back.model(), "older than a day")
	require.NoError(t, back.unmarshal(b, t0.Add(30*time.Second)))
	require.Len(t, back.model(), 1, "a minute after now is dropped")

	require.NoError(t, back.unmarshal([]byte(`{"v":1,"points":[[200,0,0,0,0,0],[100,0,0,0,0,0]]}`), time.Unix(300, 0)))
	require.Len(t, back.model(), 1, "out of order")
	require.ErrorContains(t, back.unmarshal([]byte(`{"v":2,"points":[]}`), t0), "version 2")
	require.Error(t, back.unmarshal([]byte(`not json`), t0))
}

// memStore is a Store in memory; fail makes its saves fail.
type memStore struct {
	saved map[string][]byte
	fail  bool
}

func (m *memStore) LoadHistory(share string) ([]byte, error) { return m.saved[share], nil }
func (m *memStore) SaveHistory(share string, b []byte) error {
	if m.fail {
		return errors.New("disk full")
	}
	m.saved[share] = b
	return nil
}

// TestWatcherPersist: the charts survive a restart through the Store; a
// share whose saved history is unreadable starts empty, and says so.
func TestWatcherPersist(t *testing.T) {
	st := reconcile.Status{Name: "studio", PendingUploads: 4}
	shares := []Share{{Name: "studio", Status: func() reconcile.Status { return st }}, {Name: "news", Status: func() reconcile.Status { return reconcile.Status{} }}}
	store := &memStore{saved: map[string][]byte{"news": []byte("garbage")}}
	var logs bytes.Buffer
	w := New(shares)
	w.Persist(store, zerolog.New(&logs))
	require.Contains(t, logs.String(), `"share":"news"`)
	require.Empty(t, w.History("news"))
	w.Sample()
	w.Save()
	require.Contains(t, store.saved, "studio")

	again := New(shares)
	again.Persist(store, zerolog.Nop())
	got := again.History("studio")
	require.Len(t, got, 1)
	require.Equal(t, 4, got[0].Backlog, "the saved minute is back")
	require.Empty(t, again.History("nope"))
	var none *Watcher
	require.Empty(t, none.History("studio"))

	store.fail = true
	logs.Reset()
	w.Save()
	require.Contains(t, logs.String(), "disk full", "a failed save is logged")
}
