package sharehistory

import (
	"time"

	"genesissync/internal/reconcile"
)

const (
	// rateWindow is the span over which throughput is averaged.
	rateWindow = time.Minute
	// recentErrors is how many distinct errors a share keeps for the page.
	recentErrors = 20
)

// history is one share's past as sampled: pure, no clock of its own. Not
// safe for concurrent use; the Watcher guards its histories.
type history struct {
	errors  []reconcile.Failure // newest first
	samples []sample            // oldest first, within rateWindow
	series  series              // the last day by the minute, for the charts
}

type sample struct {
	at       time.Time
	up, down int64
	proof    int64 // bytes adoption proofs read (share and bucket)
}

// observe records the share's status as sampled at now: a new last
// error, and the transfer counters. An error that is replaced by another
// between two samples is not seen; the count of errors is exact in the
// share's status.
func (h *history) observe(st reconcile.Status, now time.Time) {
	if e := st.LastError; e != nil && (len(h.errors) == 0 || h.errors[0] != *e) {
		h.errors = append([]reconcile.Failure{*e}, h.errors[:min(len(h.errors), recentErrors-1)]...)
	}
	h.series.observe(st, now)
	h.samples = append(h.samples, sample{at: now, up: st.UploadedBytes, down: st.DownloadedBytes,
		proof: st.Adopted.HashedBytes + st.Adopted.BytesRead})
	cut := 0 // keep at least two samples, else those within the window
	for cut < len(h.samples)-2 && now.Sub(h.samples[cut].at) > rateWindow {
		cut++
	}
	h.samples = h.samples[cut:]
}

// rates are the upload and download bytes per second over the samples.
func (h *history) rates() (up, down float64) {
	return h.rate(func(s sample) int64 { return s.up }), h.rate(func(s sample) int64 { return s.down })
}

// rate is the growth per second of one counter over the samples.
func (h *history) rate(counter func(sample) int64) float64 {
	n := len(h.samples)
	if n < 2 {
		return 0
	}
	first, last := h.samples[0], h.samples[n-1]
	dt := last.at.Sub(first.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(max(counter(last)-counter(first), 0)) / dt
}

// adoptionPace fills in how fast adoption proofs read and the time left
// at that pace for what is still to prove.
func (h *history) adoptionPace(ad *reconcile.Adoption) {
	ad.BytesPerSecond = h.rate(func(s sample) int64 { return s.proof })
	ad.SecondsLeft = 0
	if ad.Pending > 0 && ad.BytesPerSecond > 0 {
		ad.SecondsLeft = float64(ad.PendingBytes) / ad.BytesPerSecond
	}
}
