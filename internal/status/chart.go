package status

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"genesissync/internal/model"
)

// A chart is one of a share's last-day series drawn as a small SVG on the
// server: no script, no front-end build, nothing the page's CSP has to
// allow beyond img-src 'self'. Only presentation attributes style it (the
// SVG's own CSP forbids style elements and attributes too).
type chart struct {
	title string
	value func(model.HistoryPoint) float64
	label func(float64) string
	color string
}

// charts are the series the status page shows per share, by URL name.
var charts = map[string]chart{
	"backlog": {"Backlog", func(p model.HistoryPoint) float64 { return float64(p.Backlog) },
		func(v float64) string { return fmt.Sprintf("%.0f files", v) }, "#b36b00"},
	"upload": {"Upload", func(p model.HistoryPoint) float64 { return p.UploadBytesPerSecond },
		func(v float64) string { return model.HumanBytes(int64(v)) + "/s" }, "#1f6fb2"},
	"download": {"Download", func(p model.HistoryPoint) float64 { return p.DownloadBytesPerSecond },
		func(v float64) string { return model.HumanBytes(int64(v)) + "/s" }, "#2a8a4a"},
	"recovery-point": {"Recovery point", func(p model.HistoryPoint) float64 { return p.RecoveryPointSeconds },
		func(v float64) string { return humanDuration(time.Duration(v * float64(time.Second))) }, "#a33"},
}

// chartNames are the charts in the order the page shows them.
var chartNames = []string{"backlog", "upload", "download", "recovery-point"}

// The chart's geometry, in SVG user units: the plot sits below a line of
// text (title and the day's peak).
const (
	chartW, chartH = 240, 64
	plotTop        = 16
	plotH          = chartH - plotTop - 2
)

// renderChart draws points (oldest first, a point a minute) over the day
// before now: a line that breaks where minutes are missing (the daemon was
// stopped), scaled to the day's peak, which the text names.
func renderChart(c chart, points []model.HistoryPoint, now time.Time) []byte {
	peak := 0.0
	for _, p := range points {
		peak = max(peak, c.value(p))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<title>%s over the last 24 h, peak %s</title>`, c.title, c.label(peak))
	fmt.Fprintf(&b, `<rect x="0.5" y="%d.5" width="%d" height="%d" fill="#fafafa" stroke="#ddd"/>`, plotTop, chartW-1, plotH+1)
	fmt.Fprintf(&b, `<text x="2" y="11" font-family="sans-serif" font-size="10" fill="#333">%s</text>`, c.title)
	fmt.Fprintf(&b, `<text x="%d" y="11" font-family="sans-serif" font-size="10" fill="#666" text-anchor="end">peak %s</text>`, chartW-2, c.label(peak))
	for _, line := range chartLines(c, points, now, peak) {
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, c.color, line)
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// chartLines are the polylines' point lists: x by time across the day,
// y by value against peak (a flat line at the bottom while peak is 0).
func chartLines(c chart, points []model.HistoryPoint, now time.Time, peak float64) []string {
	start := now.Add(-24 * time.Hour)
	var lines []string
	var cur strings.Builder
	var prev time.Time
	for _, p := range points {
		if p.At.Before(start) {
			continue
		}
		if !prev.IsZero() && p.At.Sub(prev) > 2*time.Minute && cur.Len() > 0 {
			lines, cur = append(lines, cur.String()), strings.Builder{}
		}
		prev = p.At
		x := float64(chartW-1) * p.At.Sub(start).Seconds() / (24 * time.Hour).Seconds()
		y := float64(plotTop + plotH)
		if peak > 0 {
			y -= float64(plotH-1) * c.value(p) / peak
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		fmt.Fprintf(&cur, "%.1f,%.1f", x+0.5, y)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// chartSVG serves GET /charts/{share}/{chart}: 404 for an unknown share
// or chart, an empty chart for a share not sampled yet.
func (s *Server) chartSVG(w http.ResponseWriter, r *http.Request, _ *session) {
	c, ok := charts[r.PathValue("chart")]
	share := r.PathValue("share")
	if !ok || !s.hasShare(share) {
		http.NotFound(w, r)
		return
	}
	var points []model.HistoryPoint
	if s.opts.History != nil {
		points = s.opts.History(share)
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(renderChart(c, points, time.Now()))
}

// hasShare reports whether the snapshot has a share of that name.
func (s *Server) hasShare(name string) bool {
	for _, sh := range s.src.Snapshot().Shares {
		if sh.Name == name {
			return true
		}
	}
	return false
}
