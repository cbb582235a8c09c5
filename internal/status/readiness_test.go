package status

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

// TestOnAirPanelAndMetrics: a share's readiness shows on the page (its
// problems escaped), in the API and as metrics by reason.
func TestOnAirPanelAndMetrics(t *testing.T) {
	now := time.Now()
	air := now.Add(3 * time.Hour).Truncate(time.Minute)
	rd := model.Readiness{Enabled: true, CheckedAt: now, Playlists: 2, Tracks: 10, OK: 8, FirstProblemAir: air,
		Problems: []model.ReadinessProblem{
			{Playlist: "Playlists/a.m3u", Line: 4, Air: air, Artist: hostile, Title: "Title", Path: "Music/x.mp3", Reason: "missing"},
			{Playlist: "Playlists/b.m3u", Line: 1, Entry: `\\elsewhere\y.mp3`, Reason: "outside-share"},
		},
		Fetching: []string{"Music/z.mp3"},
		Hours: []model.ReadinessHour{{Start: air.Truncate(time.Hour), Tracks: 6, Problems: 1, Level: "error"},
			{Start: air.Truncate(time.Hour).Add(time.Hour), Tracks: 4, Level: "info"}}}
	snap := model.Snapshot{Now: now, Samba: model.Samba{Mode: "off"}, Shares: []model.Share{
		{Status: reconcile.Status{Name: "studio"}, Readiness: rd},
		{Status: reconcile.Status{Name: "news"}}, // readiness off
	}}
	srv := New(fixed(snap), zerolog.Nop(), Options{Public: true})

	code, body := get(t, srv, "/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `<tr class="onair">`)
	require.Equal(t, 1, strings.Count(body, `<tr class="onair">`), "only the share with playlists")
	require.Contains(t, body, airTime(air))
	require.Contains(t, body, `\\elsewhere\y.mp3`, "an unresolved entry as written")
	require.Contains(t, body, "fetching 1 from the bucket")
	require.Contains(t, body, `<li class="lvl-error"><span class="f-start">`+air.Truncate(time.Hour).Local().Format("Mon 15:04")+`</span><span class="f-tracks">6 entries</span><span class="f-problems">1 problem</span>`)
	require.Contains(t, body, `<span class="f-tracks">4 entries</span><span class="f-problems">ready</span>`, "an hour without problems")
	require.NotContains(t, body, hostile, "escaped")

	code, body = get(t, srv, "/api/status")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"reason": "outside-share"`)

	code, body = get(t, srv, "/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `genesissync_readiness_problems{reason="missing",share="studio"} 1`)
	require.Contains(t, body, `genesissync_readiness_problems{reason="conflict",share="studio"} 0`, "every reason has a series")
	require.Contains(t, body, `genesissync_readiness_tracks_ok{share="studio"} 8`)
	require.Contains(t, body, `genesissync_readiness_seconds_until_problem{share="studio"}`)
	require.NotContains(t, body, `genesissync_readiness_tracks{share="news"}`, "off: no series")
}
