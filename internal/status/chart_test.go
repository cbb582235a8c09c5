package status

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

// svgDoc is what the tests read back of a chart.
type svgDoc struct {
	Title string `xml:"title"`
	Lines []struct {
		Points string `xml:"points,attr"`
	} `xml:"polyline"`
}

func parseSVG(t *testing.T, b []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	require.NoError(t, xml.Unmarshal(b, &doc), "a well-formed SVG: %s", b)
	return doc
}

// TestRenderChart: the line spans the day by time, breaks where minutes
// are missing, is scaled to the peak the title names, and uses no style
// the CSP would block.
func TestRenderChart(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var points []model.HistoryPoint
	for i := range 10 { // 10 minutes, 2 hours ago
		points = append(points, model.HistoryPoint{At: now.Add(-2*time.Hour + time.Duration(i)*time.Minute), Backlog: i})
	}
	for i := range 5 { // a gap (the daemon was stopped), then the last 5 minutes up to now
		points = append(points, model.HistoryPoint{At: now.Add(time.Duration(i-4) * time.Minute), Backlog: 40})
	}
	points = append([]model.HistoryPoint{{At: now.Add(-25 * time.Hour), Backlog: 1}}, points...) // older than a day: not drawn
	b := renderChart(charts["backlog"], points, now)
	doc := parseSVG(t, b)
	require.Equal(t, "Backlog over the last 24 h, peak 40 files", doc.Title)
	require.Len(t, doc.Lines, 2, "the gap breaks the line")
	require.Len(t, strings.Fields(doc.Lines[0].Points), 10)
	require.Len(t, strings.Fields(doc.Lines[1].Points), 5)
	last := strings.Fields(doc.Lines[1].Points)[4]
	require.Equal(t, "239.5,17.0", last, "the newest point at the right edge, the peak at the top")
	require.NotContains(t, string(b), "style", "presentation attributes only")

	doc = parseSVG(t, renderChart(charts["upload"], nil, now))
	require.Empty(t, doc.Lines, "no samples yet: an empty chart")
	require.Contains(t, doc.Title, "peak 0 B/s")
	doc = parseSVG(t, renderChart(charts["recovery-point"], []model.HistoryPoint{{At: now, RecoveryPointSeconds: 90}}, now))
	require.Contains(t, doc.Title, "peak 1m30s")
	require.Len(t, doc.Lines, 1)
}

// TestChartEndpoint: the charts are served as SVG for known shares and
// charts only, and are not public unless the page is.
func TestChartEndpoint(t *testing.T) {
	snap := model.Snapshot{Shares: []model.Share{{Status: reconcile.Status{Name: "studio"}}}}
	asked := ""
	history := func(share string) []model.HistoryPoint {
		asked = share
		return []model.HistoryPoint{{At: time.Now(), Backlog: 3}}
	}
	srv := New(fixed(snap), zerolog.Nop(), Options{Public: true, History: history})
	rec := httptestGet(srv, "/charts/studio/backlog")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "image/svg+xml", rec.Header().Get("Content-Type"))
	require.Equal(t, "studio", asked)
	require.Contains(t, parseSVG(t, rec.Body.Bytes()).Title, "peak 3 files")
	for _, name := range chartNames {
		require.Equal(t, http.StatusOK, httptestGet(srv, "/charts/studio/"+name).Code, name)
	}
	require.Equal(t, http.StatusNotFound, httptestGet(srv, "/charts/nope/backlog").Code)
	require.Equal(t, http.StatusNotFound, httptestGet(srv, "/charts/studio/nope").Code)

	code, body := get(t, srv, "/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `src="/charts/studio/recovery-point"`, "the page shows the charts")

	private := New(fixed(snap), zerolog.Nop(), Options{Admins: map[string]string{"alice": "x"}, History: history})
	rec = httptestGet(private, "/charts/studio/backlog")
	require.Equal(t, http.StatusSeeOther, rec.Code, "a private page's charts need a login")
}

func httptestGet(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}
