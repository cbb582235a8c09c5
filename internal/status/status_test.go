package status

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/reconcile"
)

type fixed Snapshot

func (f fixed) Snapshot() Snapshot { return Snapshot(f) }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestEndpoints(t *testing.T) {
	hostile := `<script>alert("x")</script>.mp3`
	snap := Snapshot{
		Version: "test", StartedAt: time.Now(), Samba: Samba{Mode: "standalone", Up: true},
		Shares: []Share{{Status: reconcile.Status{
			Name: "studio", State: reconcile.StateSyncing, PendingUploads: 2,
			LastError: &reconcile.Failure{Path: hostile, At: time.Now(), Message: "boom"},
		}}},
	}
	srv := New(fixed(snap), zerolog.Nop())

	code, body := get(t, srv, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	code, body = get(t, srv, "/api/status")
	require.Equal(t, http.StatusOK, code)
	var back Snapshot
	require.NoError(t, json.Unmarshal([]byte(body), &back))
	require.Equal(t, 2, back.Shares[0].PendingUploads)
	require.Equal(t, hostile, back.Shares[0].LastError.Path)

	code, body = get(t, srv, "/")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "<script>", "file names are escaped on the page")
	require.Contains(t, body, "&lt;script&gt;")
	require.Contains(t, body, "studio")

	code, _ = get(t, srv, "/nope")
	require.Equal(t, http.StatusNotFound, code)
}

func TestHealthz(t *testing.T) {
	cases := []struct {
		name string
		snap Snapshot
		code int
	}{
		{"smbd down", Snapshot{Samba: Samba{Mode: "standalone"}}, http.StatusServiceUnavailable},
		{"samba off", Snapshot{Samba: Samba{Mode: "off"}}, http.StatusOK},
		{"share error", Snapshot{Samba: Samba{Mode: "off"}, Shares: []Share{{Status: reconcile.Status{Name: "a", State: reconcile.StateError}}}}, http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := get(t, New(fixed(tc.snap), zerolog.Nop()), "/healthz")
			require.Equal(t, tc.code, code)
		})
	}
}

func TestMetrics(t *testing.T) {
	snap := Snapshot{
		Samba: Samba{Mode: "standalone", Up: true},
		Shares: []Share{{Status: reconcile.Status{
			Name: "studio", State: reconcile.StateSyncing, PendingUploads: 3, Uploads: 7, UploadedBytes: 1024,
			OldestPendingAgeSeconds: 4.5, DeleteGuardTripped: true, HeldDeleteCount: 60,
		}}},
	}
	code, body := get(t, New(fixed(snap), zerolog.Nop()), "/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`genesissync_up 1`,
		`genesissync_samba_smbd_up 1`,
		`genesissync_share_pending{share="studio"} 3`,
		`genesissync_transfer_uploads_total{share="studio"} 7`,
		`genesissync_transfer_uploaded_bytes_total{share="studio"} 1024`,
		`genesissync_share_oldest_pending_age_seconds{share="studio"} 4.5`,
		`genesissync_reconcile_delete_guard_tripped{share="studio"} 1`,
		`genesissync_reconcile_held_deletes{share="studio"} 60`,
		`genesissync_share_state{share="studio",state="syncing"} 1`,
		`go_goroutines`,
	} {
		require.Contains(t, body, want)
	}
}

func TestReadyz(t *testing.T) {
	code, _ := get(t, New(fixed(Snapshot{Shares: []Share{{Status: reconcile.Status{Name: "a"}}}}), zerolog.Nop()), "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	code, _ = get(t, New(fixed(Snapshot{Shares: []Share{{Status: reconcile.Status{Name: "a", LastFullScan: time.Now()}}}}), zerolog.Nop()), "/readyz")
	require.Equal(t, http.StatusOK, code)
}
