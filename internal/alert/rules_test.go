package alert

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func share(name string, fn func(*model.Share)) model.Share {
	s := model.Share{Status: reconcile.Status{Name: name, State: reconcile.StateInSync, LastFullScan: t0.Add(-time.Minute)}}
	if fn != nil {
		fn(&s)
	}
	return s
}

func healthy() model.Snapshot {
	return model.Snapshot{
		Now:       t0,
		Samba:     model.Samba{Mode: "standalone", Up: true},
		Shares:    []model.Share{share("studio", func(sh *model.Share) { sh.StaleAfterSeconds = 900 })},
		Endpoints: []model.Endpoint{{URL: "http://minio:9000", Bucket: "station", Reachable: true, CheckedAt: t0}},
		Pools:     []model.Pool{{Name: "tank", Health: "ONLINE", CapacityPercent: 42}},
	}
}

// defaults are the thresholds as config defaults them.
var defaults = Targets{
	FailureStreak:    config.DefaultFailureStreak,
	CapacityWarning:  config.DefaultCapacityWarning,
	CapacityCritical: config.DefaultCapacityCritical,
}

func TestEvaluate(t *testing.T) {
	targets := defaults
	type want struct {
		key      string
		severity Severity
		share    string
		path     string
		contains string
	}
	tests := []struct {
		name   string
		modify func(*model.Snapshot)
		want   []want
	}{
		{name: "healthy box: nothing", modify: func(*model.Snapshot) {}},
		{
			name: "failing file: streak rule names share and file, waits FailureStreak",
			modify: func(s *model.Snapshot) {
				s.Shares[0].PendingFailures = 2
				s.Shares[0].State = reconcile.StateError
				s.Shares[0].LastError = &reconcile.Failure{Path: "jingles/top.mp3", At: t0, Message: "upload: connection refused"}
			},
			want: []want{{key: "sync_failing:studio", severity: Warning, share: "studio", path: "jingles/top.mp3", contains: `"jingles/top.mp3": upload: connection refused`}},
		},
		{
			name: "failing files, newest error share-wide: told as such",
			modify: func(s *model.Snapshot) {
				s.Shares[0].PendingFailures = 1
				s.Shares[0].State = reconcile.StateError
				s.Shares[0].LastError = &reconcile.Failure{At: t0, Message: "list bucket: connection refused"}
			},
			want: []want{{key: "sync_failing:studio", severity: Warning, share: "studio", contains: "1 file(s) keep failing to sync; last error: list bucket: connection refused"}},
		},
		{
			name: "newest error share-wide, a recent one names the file",
			modify: func(s *model.Snapshot) {
				s.Shares[0].PendingFailures = 1
				s.Shares[0].LastError = &reconcile.Failure{At: t0, Message: "list bucket: connection refused"}
				s.Shares[0].RecentErrors = []reconcile.Failure{
					{At: t0, Message: "list bucket: connection refused"},
					{Path: "news/0800.mp3", At: t0.Add(-3 * time.Minute), Message: "upload: connection refused"},
					{Path: "old.mp3", At: t0.Add(-4 * time.Minute), Message: "upload: older"},
				}
			},
			want: []want{{key: "sync_failing:studio", severity: Warning, share: "studio", path: "news/0800.mp3", contains: `e.g. "news/0800.mp3": upload: connection refused`}},
		},
		{
			name: "the pipeline's failing list names the file, whatever the last error",
			modify: func(s *model.Snapshot) {
				s.Shares[0].PendingFailures = 2
				s.Shares[0].LastError = &reconcile.Failure{At: t0, Message: "list bucket: connection refused"}
				s.Shares[0].Failing = []reconcile.Failure{
					{Path: "jingles/top of the hour.mp3", At: t0.Add(-time.Second), Message: "put: connection refused"},
					{Path: "b.mp3", At: t0, Message: "put: connection refused"},
				}
			},
			want: []want{{key: "sync_failing:studio", severity: Warning, share: "studio", path: "jingles/top of the hour.mp3", contains: `2 file(s) keep failing to sync, e.g. "jingles/top of the hour.mp3": put: connection refused`}},
		},
		{
			name: "a file error older than the longest retry is not named",
			modify: func(s *model.Snapshot) {
				s.Shares[0].PendingFailures = 1
				s.Shares[0].LastError = &reconcile.Failure{At: t0, Message: "list bucket: connection refused"}
				s.Shares[0].RecentErrors = []reconcile.Failure{{Path: "news/0800.mp3", At: t0.Add(-11 * time.Minute), Message: "upload: x"}}
			},
			want: []want{{key: "sync_failing:studio", severity: Warning, share: "studio", contains: "; last error: list bucket"}},
		},
		{
			name: "target from the share in the snapshot",
			modify: func(s *model.Snapshot) {
				s.Shares = append(s.Shares, share("news", func(sh *model.Share) {
					sh.OldestPending = t0.Add(-2 * time.Minute)
					sh.StaleAfterSeconds = 60
				}))
			},
			want: []want{{key: "stale:news", severity: Critical, share: "news", contains: "2m0s old, past its 1m0s target"}},
		},
		{
			name: "pending younger than the target: not stale",
			modify: func(s *model.Snapshot) {
				s.Shares[0].OldestPending = t0.Add(-14 * time.Minute)
				s.Shares[0].PendingUploads = 3
			},
		},
		{
			name: "pending older than the target: stale",
			modify: func(s *model.Snapshot) {
				s.Shares[0].OldestPending = t0.Add(-16 * time.Minute)
				s.Shares[0].PendingUploads = 3
			},
			want: []want{{key: "stale:studio", severity: Critical, share: "studio", contains: "16m0s old, past its 15m0s target (3 file(s) waiting)"}},
		},
		{
			name: "share without a target is never stale",
			modify: func(s *model.Snapshot) {
				s.Shares = append(s.Shares, share("news", func(sh *model.Share) { sh.OldestPending = t0.Add(-48 * time.Hour) }))
			},
		},
		{
			name: "delete guard tripped: one problem, not also share_error",
			modify: func(s *model.Snapshot) {
				s.Shares[0].State = reconcile.StateError
				s.Shares[0].DeleteGuardTripped = true
				s.Shares[0].HeldDeleteCount = 200
				s.Shares[0].DeleteBatch = "b-123"
			},
			want: []want{{key: "delete_guard:studio", severity: Warning, share: "studio", contains: "holds 200 deletes (batch b-123)"}},
		},
		{
			name: "delete guard holding a first pass's conflicts: said so",
			modify: func(s *model.Snapshot) {
				s.Shares[0].State = reconcile.StateError
				s.Shares[0].DeleteGuardTripped = true
				s.Shares[0].HeldDeleteCount = 300
				s.Shares[0].HeldConflictCount = 300
				s.Shares[0].DeleteBatch = "b-9"
			},
			want: []want{{key: "delete_guard:studio", severity: Warning, share: "studio", contains: "holds 0 deletes and 300 first-pass conflicts (files on both sides that differ: is this the right bucket prefix?) (batch b-9)"}},
		},
		{
			name: "error state without failing files: root unhealthy",
			modify: func(s *model.Snapshot) {
				s.Shares[0].State = reconcile.StateError
				s.Shares[0].LastError = &reconcile.Failure{At: t0, Message: "share root unhealthy: marker missing"}
			},
			want: []want{{key: "share_error:studio", severity: Critical, share: "studio", contains: "nothing syncs: share root unhealthy: marker missing"}},
		},
		{
			name: "listing failing past the grace: its own rule, not also share_error",
			modify: func(s *model.Snapshot) {
				s.Shares[0].State = reconcile.StateError
				s.Shares[0].ListingFailing = true
				s.Shares[0].ListingError = &reconcile.ListingFailure{Since: t0.Add(-6 * time.Minute), At: t0, Attempts: 12,
					Message: "list bucket: decode key \"100%.txt\": invalid URL escape"}
				s.Shares[0].LastError = &reconcile.Failure{At: t0, Message: s.Shares[0].ListingError.Message}
			},
			want: []want{{key: "bucket_listing_failing:studio", severity: Critical, share: "studio",
				contains: "failed for 6m0s (12 attempts): files added, changed or deleted in the bucket no longer reach the share; last error: list bucket: decode key"}},
		},
		{
			name: "listing failing within the grace: nothing yet",
			modify: func(s *model.Snapshot) {
				s.Shares[0].ListingError = &reconcile.ListingFailure{Since: t0.Add(-time.Minute), At: t0, Attempts: 2, Message: "list bucket: timeout"}
			},
		},
		{
			name:   "verify mismatch",
			modify: func(s *model.Snapshot) { s.Shares[0].Verify.Mismatches = 3 },
			want:   []want{{key: "verify_mismatch:studio", severity: Critical, share: "studio", contains: "3 mismatch(es)"}},
		},
		{
			name:   "smbd down",
			modify: func(s *model.Snapshot) { s.Samba.Up = false; s.Samba.Error = "exit status 1" },
			want:   []want{{key: "smbd_down:smbd", severity: Critical, contains: "smbd is down"}},
		},
		{
			name:   "samba off: smbd not expected",
			modify: func(s *model.Snapshot) { s.Samba = model.Samba{Mode: "off"} },
		},
		{
			name: "bucket unreachable names the shares",
			modify: func(s *model.Snapshot) {
				s.Endpoints[0].Reachable = false
				s.Endpoints[0].Error = "dial tcp: connection refused"
				s.Endpoints[0].Shares = []string{"studio"}
			},
			want: []want{{key: "bucket_unreachable:http://minio:9000/station", severity: Critical, contains: "shares studio cannot sync"}},
		},
		{
			name: "endpoint never probed: unknown, not unreachable",
			modify: func(s *model.Snapshot) {
				s.Endpoints[0] = model.Endpoint{URL: "http://minio:9000", Bucket: "station"}
			},
		},
		{
			name:   "pool degraded is a warning",
			modify: func(s *model.Snapshot) { s.Pools[0].Health = "DEGRADED" },
			want:   []want{{key: "pool_degraded:tank", severity: Warning, contains: "tank is DEGRADED"}},
		},
		{
			name:   "pool faulted is critical",
			modify: func(s *model.Snapshot) { s.Pools[0].Health = "FAULTED" },
			want:   []want{{key: "pool_degraded:tank", severity: Critical, contains: "tank is FAULTED"}},
		},
		{
			name:   "capacity just below 80: nothing",
			modify: func(s *model.Snapshot) { s.Pools[0].CapacityPercent = 79.9 },
		},
		{
			name:   "capacity 80: warning",
			modify: func(s *model.Snapshot) { s.Pools[0].CapacityPercent = 80 },
			want:   []want{{key: "pool_capacity:tank", severity: Warning, contains: "80% full"}},
		},
		{
			name:   "capacity 95: critical",
			modify: func(s *model.Snapshot) { s.Pools[0].CapacityPercent = 95 },
			want:   []want{{key: "pool_capacity:tank", severity: Critical, contains: "95% full"}},
		},
		{
			name:   "pool not checkable: only that, health unknown",
			modify: func(s *model.Snapshot) { s.Pools[0] = model.Pool{Name: "tank", Error: "zpool: not found"} },
			want:   []want{{key: "pool_unchecked:tank", severity: Warning, contains: "zpool: not found"}},
		},
		{
			name: "several at once, sorted by key",
			modify: func(s *model.Snapshot) {
				s.Samba.Up = false
				s.Pools[0].CapacityPercent = 99
				s.Shares[0].Verify.Mismatches = 1
			},
			want: []want{
				{key: "pool_capacity:tank", severity: Critical},
				{key: "smbd_down:smbd", severity: Critical},
				{key: "verify_mismatch:studio", severity: Critical, share: "studio"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := healthy()
			tt.modify(&snap)
			got := Evaluate(snap, targets, t0)
			require.Len(t, got, len(tt.want), "%+v", got)
			for i, w := range tt.want {
				require.Equal(t, w.key, got[i].Key)
				require.Equal(t, w.key, got[i].Rule+":"+got[i].Subject)
				require.Equal(t, w.severity, got[i].Severity)
				require.Equal(t, w.share, got[i].Share)
				require.Equal(t, w.path, got[i].Path)
				require.Contains(t, got[i].Message, w.contains)
				if w.share != "" {
					require.Contains(t, got[i].Message, "share "+w.share)
				}
			}
			// Pure: the same input gives the same output.
			require.Equal(t, got, Evaluate(snap, targets, t0))
		})
	}
}

func TestFailureStreakIsTheProblemsFor(t *testing.T) {
	snap := healthy()
	snap.Shares[0].PendingFailures = 1
	got := Evaluate(snap, defaults, t0)
	require.Len(t, got, 1)
	require.Equal(t, config.DefaultFailureStreak, got[0].For)
	minute := defaults
	minute.FailureStreak = time.Minute
	got = Evaluate(snap, minute, t0)
	require.Equal(t, time.Minute, got[0].For)
}

func TestCapacityThresholdsConfigurable(t *testing.T) {
	snap := healthy()
	snap.Pools[0].CapacityPercent = 70
	got := Evaluate(snap, Targets{CapacityWarning: 60, CapacityCritical: 70}, t0)
	require.Len(t, got, 1)
	require.Equal(t, Critical, got[0].Severity)
}

// TestTrackMissing: one alert per share, naming the problem that airs
// first with its air time, artist and title, path and playlist line, and
// how many problems there are; none when readiness finds nothing.
func TestTrackMissing(t *testing.T) {
	snap := healthy()
	snap.Shares[0].Readiness = model.Readiness{Enabled: true, CheckedAt: t0, Tracks: 3, OK: 3}
	require.Empty(t, Evaluate(snap, defaults, t0), "all ready: no alert")

	air := time.Date(2026, 3, 1, 14, 5, 0, 0, time.Local)
	snap.Shares[0].Readiness.Problems = []model.ReadinessProblem{
		{Playlist: "Playlists/2026-03-01-14.m3u", Line: 3, Air: air, Artist: "Artist", Title: "Title",
			Entry: `Z:\Music\Track.mp3`, Share: "studio", Path: "Music/Track.mp3", Reason: "missing"},
		{Playlist: "Playlists/2026-03-01-15.m3u", Line: 1, Air: air.Add(time.Hour), Entry: "x.mp3", Reason: "refused-name"},
	}
	got := Evaluate(snap, defaults, t0)
	require.Len(t, got, 1)
	p := got[0]
	require.Equal(t, "track_missing:studio", p.Key)
	require.Equal(t, Critical, p.Severity)
	require.Equal(t, "Music/Track.mp3", p.Path)
	require.Equal(t, "share studio: 2026-03-01 14:05 Artist - Title is missing (Music/Track.mp3; Playlists/2026-03-01-14.m3u, line 3); 2 problems in all", p.Message)
	require.Equal(t, air.UTC().Format(time.RFC3339), p.Details["air"])

	// Without #EXTINF, unscheduled and unresolved: the entry as written.
	snap.Shares[0].Readiness.Problems = []model.ReadinessProblem{{Playlist: "Playlists/rotation.m3u", Line: 7, Entry: `\\other\x.mp3`, Reason: "outside-share"}}
	got = Evaluate(snap, defaults, t0)
	require.Equal(t, `share studio: unscheduled \\other\x.mp3 is outside-share (Playlists/rotation.m3u, line 7)`, got[0].Message)
}

// TestTripwire: a trip is critical and immediate, waits for its evidence
// (at most tripEvidenceWait), and names the rule, the first files, the
// SMB client and the held snapshot; single held changes are a warning;
// neither is also a share_error.
func TestTripwire(t *testing.T) {
	snap := healthy()
	sh := &snap.Shares[0]
	sh.State = reconcile.StateError
	sh.Tripwire = &reconcile.TripwireStatus{
		Tripped: true, TrippedAt: t0.Add(-5 * time.Second), Reason: "51 files rewritten without a valid format within 10m0s (max 50)",
		Offending: []string{"Music/1.mp3", "Music/2.mp3", "Music/3.mp3", "Music/4.mp3", "Music/5.mp3", "Music/6.mp3"},
		HeldCount: 12, Held: []reconcile.HeldChange{{Path: "Music/6.mp3", Reason: "tripped"}},
	}
	require.Empty(t, Evaluate(snap, defaults, t0), "waits for the evidence")
	require.Len(t, Evaluate(snap, defaults, t0.Add(tripEvidenceWait)), 1, "but not for ever")

	sh.Tripwire.Evidence = &reconcile.TripEvidence{Snapshot: "gs-pre-tripwire-2026-03-01-115955",
		Clients: []reconcile.TripClient{{User: "playout", Machine: "192.168.1.23", Evidence: "had 3 of the changed files open for writing"}}}
	got := Evaluate(snap, defaults, t0)
	require.Len(t, got, 1)
	p := got[0]
	require.Equal(t, "tripwire:studio", p.Key)
	require.Equal(t, Critical, p.Severity)
	require.True(t, p.Immediate)
	for _, want := range []string{"RANSOMWARE TRIPWIRE TRIPPED", "51 files rewritten", "(12 so far)",
		"Music/1.mp3, Music/2.mp3, Music/3.mp3, Music/4.mp3, Music/5.mp3 and 1 more",
		"playout on 192.168.1.23 (had 3 of the changed files open for writing)", "held snapshot gs-pre-tripwire-2026-03-01-115955"} {
		require.Contains(t, p.Message, want)
	}
	require.Equal(t, "gs-pre-tripwire-2026-03-01-115955", p.Details["snapshot"])

	sh.Tripwire = &reconcile.TripwireStatus{HeldCount: 1, Held: []reconcile.HeldChange{{Path: "Music/a.mp3", Reason: "the content no longer matches .mp3: no ID3 tag or MPEG frame sync"}}}
	got = Evaluate(snap, defaults, t0)
	require.Len(t, got, 1)
	require.Equal(t, Warning, got[0].Severity)
	require.Equal(t, "share studio: the ransomware tripwire holds 1 change(s) back from the bucket: Music/a.mp3 (the content no longer matches .mp3: no ID3 tag or MPEG frame sync); review them on the status page", got[0].Message)

	sh.Tripwire = &reconcile.TripwireStatus{}
	sh.State = reconcile.StateInSync
	require.Empty(t, Evaluate(snap, defaults, t0), "an idle tripwire says nothing")
}

// several is a target with two endpoints, both answering, writes on the
// first: the snapshot the daemon fills for target.endpoints.
func several() model.Snapshot {
	snap := healthy()
	ep := func(order int, url string) model.Endpoint {
		return model.Endpoint{URL: url, Bucket: "station", Shares: []string{"studio"}, Reachable: true, CheckedAt: t0,
			Target: "http://near:9000/station", Order: order, Several: true, FirstWriter: order == 1, Writes: order == 1}
	}
	snap.Endpoints = []model.Endpoint{ep(1, "http://near:9000"), ep(2, "http://far:9000")}
	return snap
}

// down takes endpoint i of the snapshot down since d before t0.
// wantProblem is a problem a rule table expects: its key and severity,
// and its message and details where set.
type wantProblem struct {
	key      string
	severity Severity
	message  string
	details  map[string]string
}

// requireProblems evaluates snap and checks it gives exactly want, in
// order, each also passing each; and that evaluating again gives the
// same.
func requireProblems(t *testing.T, snap model.Snapshot, want []wantProblem, each func(Problem)) {
	t.Helper()
	got := Evaluate(snap, defaults, t0)
	require.Len(t, got, len(want), "%+v", got)
	for i, w := range want {
		require.Equal(t, w.key, got[i].Key)
		require.Equal(t, w.severity, got[i].Severity)
		each(got[i])
		if w.message != "" {
			require.Equal(t, w.message, got[i].Message)
		}
		if w.details != nil {
			require.Equal(t, w.details, got[i].Details)
		}
	}
	require.Equal(t, got, Evaluate(snap, defaults, t0))
}

func down(s *model.Snapshot, i int, d time.Duration, err string) {
	ep := &s.Endpoints[i]
	ep.Reachable, ep.DownSince, ep.Error, ep.Writes = false, t0.Add(-d), err, false
}

// TestEndpointRules: of a target with several endpoints, endpoint_down
// past 5 minutes while another answers, writes_failed_over when writes
// leave the first writer, bucket_unreachable only when none answers (one
// problem for the target); targets with one endpoint are as before.
func TestEndpointRules(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*model.Snapshot)
		want   []wantProblem
	}{
		{name: "both answering: nothing", modify: func(*model.Snapshot) {}},
		{
			name:   "the second down 4m59s: not yet",
			modify: func(s *model.Snapshot) { down(s, 1, 5*time.Minute-time.Second, "dial tcp: connection refused") },
		},
		{
			name:   "the second down exactly 5m: not yet, it must be longer",
			modify: func(s *model.Snapshot) { down(s, 1, 5*time.Minute, "dial tcp: connection refused") },
		},
		{
			name:   "the second down 5m01s: endpoint_down, requests stay on the first; not bucket_unreachable",
			modify: func(s *model.Snapshot) { down(s, 1, 5*time.Minute+time.Second, "dial tcp: connection refused") },
			want: []wantProblem{{key: "endpoint_down:http://far:9000/station", severity: Warning,
				message: "bucket station at http://far:9000 (endpoint 2 of 2) is unreachable since 2026-03-01 11:54 UTC (5m1s): dial tcp: connection refused; requests go to http://near:9000 (endpoint 1) instead",
				details: map[string]string{"error": "dial tcp: connection refused", "down_since": "2026-03-01T11:54:59Z", "order": "2", "target": "http://near:9000/station"}}},
		},
		{
			name: "without DownSince, the last check counts",
			modify: func(s *model.Snapshot) {
				s.Endpoints[1].Reachable, s.Endpoints[1].CheckedAt = false, t0.Add(-6*time.Minute)
			},
			want: []wantProblem{{key: "endpoint_down:http://far:9000/station", severity: Warning,
				message: "bucket station at http://far:9000 (endpoint 2 of 2) is unreachable since 2026-03-01 11:54 UTC (6m0s); requests go to http://near:9000 (endpoint 1) instead",
				details: map[string]string{"down_since": "2026-03-01T11:54:00Z", "order": "2", "target": "http://near:9000/station"}}},
		},
		{
			name: "the first writer down 4m59s, writes on the second: writes_failed_over alone",
			modify: func(s *model.Snapshot) {
				down(s, 0, 5*time.Minute-time.Second, "timeout")
				s.Endpoints[1].Writes = true
			},
			want: []wantProblem{{key: "writes_failed_over:http://near:9000/station", severity: Warning,
				message: "writes of bucket station go to http://far:9000 (endpoint 2): http://near:9000 (endpoint 1) is down since 2026-03-01 11:55 UTC (4m59s): timeout",
				details: map[string]string{"writer": "http://far:9000", "writer_order": "2", "first_writer": "http://near:9000", "first_writer_order": "1",
					"first_writer_error": "timeout", "down_since": "2026-03-01T11:55:01Z"}}},
		},
		{
			name: "the first writer down 5m01s, writes on the second: both, sorted by key",
			modify: func(s *model.Snapshot) {
				down(s, 0, 5*time.Minute+time.Second, "timeout")
				s.Endpoints[1].Writes = true
			},
			want: []wantProblem{
				{key: "endpoint_down:http://near:9000/station", severity: Warning,
					message: "bucket station at http://near:9000 (endpoint 1 of 2) is unreachable since 2026-03-01 11:54 UTC (5m1s): timeout; requests go to http://far:9000 (endpoint 2) instead"},
				{key: "writes_failed_over:http://near:9000/station", severity: Warning,
					message: "writes of bucket station go to http://far:9000 (endpoint 2): http://near:9000 (endpoint 1) is down since 2026-03-01 11:54 UTC (5m1s): timeout"},
			},
		},
		{
			name: "a read-only replica answers, the only writer is down: reads go there, no endpoint takes writes",
			modify: func(s *model.Snapshot) {
				down(s, 0, 10*time.Minute, "timeout")
				s.Endpoints[1].ReadOnly = true
			},
			want: []wantProblem{{key: "endpoint_down:http://near:9000/station", severity: Warning,
				message: "bucket station at http://near:9000 (endpoint 1 of 2) is unreachable since 2026-03-01 11:50 UTC (10m0s): timeout; reads go to http://far:9000 (endpoint 2) instead; no endpoint takes writes"}},
		},
		{
			name: "reads on the first, writes failed over to the third",
			modify: func(s *model.Snapshot) {
				third := s.Endpoints[1]
				third.URL, third.Order = "http://third:9000", 3
				s.Endpoints[0].ReadOnly, s.Endpoints[0].Writes, s.Endpoints[0].FirstWriter = true, false, false
				s.Endpoints[1].FirstWriter = true
				down(s, 1, 6*time.Minute, "timeout")
				third.Writes = true
				s.Endpoints = append(s.Endpoints, third)
			},
			want: []wantProblem{
				{key: "endpoint_down:http://far:9000/station", severity: Warning,
					message: "bucket station at http://far:9000 (endpoint 2 of 3) is unreachable since 2026-03-01 11:54 UTC (6m0s): timeout; reads go to http://near:9000 (endpoint 1) instead, writes to http://third:9000 (endpoint 3)"},
				{key: "writes_failed_over:http://near:9000/station", severity: Warning,
					message: "writes of bucket station go to http://third:9000 (endpoint 3): http://far:9000 (endpoint 2) is down since 2026-03-01 11:54 UTC (6m0s): timeout"},
			},
		},
		{
			name: "both down: bucket_unreachable for the target, naming each, and nothing else",
			modify: func(s *model.Snapshot) {
				down(s, 0, time.Hour, "dial tcp: connection refused")
				down(s, 1, 2*time.Minute, "timeout")
			},
			want: []wantProblem{{key: "bucket_unreachable:http://near:9000/station", severity: Critical,
				message: "bucket station is unreachable at every endpoint: http://near:9000 (endpoint 1): dial tcp: connection refused; http://far:9000 (endpoint 2): timeout (shares studio cannot sync)",
				details: map[string]string{"endpoints": "2", "endpoint_1": "http://near:9000: dial tcp: connection refused", "endpoint_2": "http://far:9000: timeout",
					"checked_at": "2026-03-01T12:00:00Z"}}},
		},
		{
			name: "nothing probed yet: nothing known",
			modify: func(s *model.Snapshot) {
				for i := range s.Endpoints {
					s.Endpoints[i].Reachable, s.Endpoints[i].CheckedAt = false, time.Time{}
				}
			},
		},
		{
			name: "a target with one endpoint next to one with several: each by its own rule",
			modify: func(s *model.Snapshot) {
				s.Endpoints = append(s.Endpoints, model.Endpoint{URL: "http://minio:9000", Bucket: "archive", Reachable: false, CheckedAt: t0,
					Error: "dial tcp: connection refused", Shares: []string{"archive"}})
				down(s, 1, 5*time.Minute+time.Second, "timeout")
			},
			want: []wantProblem{
				{key: "bucket_unreachable:http://minio:9000/archive", severity: Critical,
					message: "bucket archive at http://minio:9000 is unreachable (shares archive cannot sync)",
					details: map[string]string{"checked_at": "2026-03-01T12:00:00Z", "error": "dial tcp: connection refused"}},
				{key: "endpoint_down:http://far:9000/station", severity: Warning},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := several()
			tt.modify(&snap)
			requireProblems(t, snap, tt.want, func(p Problem) {
				require.Empty(t, p.Share, "a bucket's problem is box-wide")
			})
		})
	}
}

// peersSnapshot has share studio on a prefix with this appliance
// (studio-a) and studio-b, both live.
func peersSnapshot() model.Snapshot {
	snap := healthy()
	snap.Shares[0].Peers = &model.Peers{Self: "studio-a", StaleAfterSeconds: 900, CheckedAt: t0, Appliances: []model.Peer{
		{Name: "studio-a", Version: "1.4.0", Self: true, LastSeen: t0},
		{Name: "studio-b", Version: "1.3.2", LastSeen: t0.Add(-time.Minute)},
	}}
	return snap
}

func TestPeerRules(t *testing.T) {
	const dup = "another appliance named studio-a is live on this prefix (version 1.5.0, started 2026-03-01 11:00:00 UTC, last seen 2026-03-01 11:59:30 UTC, instance 0123456789abcdef): the two overwrite each other's heartbeat and name the same writer in what they write; give one of them another appliance.name"
	tests := []struct {
		name   string
		modify func(*model.Peers)
		want   []wantProblem
	}{
		{name: "all live: nothing", modify: func(*model.Peers) {}},
		{
			name: "studio-b stale: appliance_stale naming it, the share and since when",
			modify: func(ps *model.Peers) {
				ps.Appliances[1].LastSeen, ps.Appliances[1].Stale = t0.Add(-20*time.Minute), true
			},
			want: []wantProblem{{key: "appliance_stale:studio/studio-b", severity: Warning,
				message: "appliance studio-b on the prefix of share studio has not been seen for 20m0s (last seen 2026-03-01 11:40 UTC): it may be down or cut off",
				details: map[string]string{"appliance": "studio-b", "version": "1.3.2", "last_seen": "2026-03-01T11:40:00Z", "silent": "20m0s", "stale_after": "15m0s"}}},
		},
		{
			name: "studio-b stopped: nothing, it said so",
			modify: func(ps *model.Peers) {
				ps.Appliances[1].LastSeen, ps.Appliances[1].Stopped = t0.Add(-20*time.Minute), true
			},
		},
		{
			name: "stopped and stale at once (an old snapshot): stopped wins",
			modify: func(ps *model.Peers) {
				ps.Appliances[1].LastSeen, ps.Appliances[1].Stopped, ps.Appliances[1].Stale = t0.Add(-20*time.Minute), true, true
			},
		},
		{
			name:   "this appliance is never stale to itself",
			modify: func(ps *model.Peers) { ps.Appliances[0].Stale = true },
		},
		{
			name:   "a duplicate of this one's name: appliance_duplicate with the sentence",
			modify: func(ps *model.Peers) { ps.Duplicate = dup },
			want: []wantProblem{{key: "appliance_duplicate:studio", severity: Critical, message: "share studio: " + dup,
				details: map[string]string{"appliance": "studio-a"}}},
		},
		{
			name: "both, sorted by key",
			modify: func(ps *model.Peers) {
				ps.Duplicate = dup
				ps.Appliances = append(ps.Appliances, model.Peer{Name: "studio-c", LastSeen: t0.Add(-time.Hour), Stale: true})
				ps.Appliances[1].LastSeen, ps.Appliances[1].Stale = t0.Add(-16*time.Minute), true
			},
			want: []wantProblem{
				{key: "appliance_duplicate:studio", severity: Critical},
				{key: "appliance_stale:studio/studio-b", severity: Warning,
					message: "appliance studio-b on the prefix of share studio has not been seen for 16m0s (last seen 2026-03-01 11:44 UTC): it may be down or cut off"},
				{key: "appliance_stale:studio/studio-c", severity: Warning,
					message: "appliance studio-c on the prefix of share studio has not been seen for 1h0m0s (last seen 2026-03-01 11:00 UTC): it may be down or cut off",
					details: map[string]string{"appliance": "studio-c", "last_seen": "2026-03-01T11:00:00Z", "silent": "1h0m0s", "stale_after": "15m0s"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := peersSnapshot()
			tt.modify(snap.Shares[0].Peers)
			requireProblems(t, snap, tt.want, func(p Problem) {
				require.Equal(t, "studio", p.Share)
				require.Contains(t, p.Message, "share studio")
			})
		})
	}

	snap := healthy()
	require.Nil(t, snap.Shares[0].Peers)
	require.Empty(t, Evaluate(snap, defaults, t0), "no heartbeats kept: no peer rules")
}
