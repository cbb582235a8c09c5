package sharehistory

import (
	"encoding/json"
	"fmt"
	"time"

	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

// seriesSpan is how far back the charts reach: the last day, a point a
// minute (1,440 points a share).
const seriesSpan = 24 * time.Hour

// maxSampleGap is the longest gap between two samples whose counter growth
// is credited to the minute; a longer one (the daemon was stopped, or
// its clock jumped) starts afresh, so no minute shows bytes moved while
// nobody watched.
const maxSampleGap = time.Minute

// minute is one point of the series as it is built: the bytes moved and
// the seconds sampled, so that a partly sampled minute shows a true rate.
type minute struct {
	at            time.Time
	backlog       int
	up, down      int64
	seconds       float64
	recoveryPoint float64
}

// series is one share's last day by the minute, oldest first. Pure: fed
// samples with their times; the Watcher guards it.
type series struct {
	points []minute
	// last is the previous sample's counters and time; zero before the
	// first sample of this run (counters restart at zero with the daemon).
	last     time.Time
	lastUp   int64
	lastDown int64
}

// observe adds one sample of the share's status at now.
func (s *series) observe(st reconcile.Status, now time.Time) {
	at := now.Truncate(time.Minute)
	if n := len(s.points); n == 0 || s.points[n-1].at.Before(at) {
		s.points = append(s.points, minute{at: at})
	}
	p := &s.points[len(s.points)-1] // a clock that went back folds into the newest minute
	p.backlog = max(p.backlog, st.PendingUploads)
	p.recoveryPoint = max(p.recoveryPoint, st.OldestPendingAgeSeconds)
	if gap := now.Sub(s.last); !s.last.IsZero() && gap > 0 && gap <= maxSampleGap {
		p.up += max(st.UploadedBytes-s.lastUp, 0)
		p.down += max(st.DownloadedBytes-s.lastDown, 0)
		p.seconds += gap.Seconds()
	}
	s.last, s.lastUp, s.lastDown = now, st.UploadedBytes, st.DownloadedBytes
	cut := 0
	for cut < len(s.points) && now.Sub(s.points[cut].at) > seriesSpan {
		cut++
	}
	s.points = s.points[cut:]
}

// model is the series as the charts read it.
func (s *series) model() []model.HistoryPoint {
	out := make([]model.HistoryPoint, len(s.points))
	for i, p := range s.points {
		out[i] = model.HistoryPoint{At: p.at, Backlog: p.backlog, RecoveryPointSeconds: p.recoveryPoint}
		if p.seconds > 0 {
			out[i].UploadBytesPerSecond = float64(p.up) / p.seconds
			out[i].DownloadBytesPerSecond = float64(p.down) / p.seconds
		}
	}
	return out
}

// seriesVersion is the saved form's version; Load ignores any other.
const seriesVersion = 1

// savedSeries is the form kept in the index across restarts: one array
// per minute, [unix seconds, backlog, bytes up, bytes down, seconds
// sampled, recovery point seconds], about 40 bytes a point.
type savedSeries struct {
	Version int          `json:"v"`
	Points  [][6]float64 `json:"points"`
}

func (s *series) marshal() ([]byte, error) {
	saved := savedSeries{Version: seriesVersion, Points: make([][6]float64, len(s.points))}
	for i, p := range s.points {
		saved.Points[i] = [6]float64{float64(p.at.Unix()), float64(p.backlog), float64(p.up), float64(p.down), p.seconds, p.recoveryPoint}
	}
	return json.Marshal(saved)
}

// unmarshal replaces the points with the saved ones, keeping those within
// the span before now, in order.
func (s *series) unmarshal(b []byte, now time.Time) error {
	var saved savedSeries
	if err := json.Unmarshal(b, &saved); err != nil {
		return err
	}
	if saved.Version != seriesVersion {
		return fmt.Errorf("saved history has version %d, this build reads %d", saved.Version, seriesVersion)
	}
	s.points = s.points[:0]
	for _, v := range saved.Points {
		at := time.Unix(int64(v[0]), 0).In(now.Location())
		if now.Sub(at) > seriesSpan || at.After(now) || (len(s.points) > 0 && !at.After(s.points[len(s.points)-1].at)) {
			continue
		}
		s.points = append(s.points, minute{at: at, backlog: int(v[1]), up: int64(v[2]), down: int64(v[3]), seconds: v[4], recoveryPoint: v[5]})
	}
	return nil
}
