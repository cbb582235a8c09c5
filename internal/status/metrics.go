package status

import (
	"net/http"
	"time"

	"genesissync/internal/model"
	"genesissync/internal/readiness"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// collector exposes a model.Snapshot as Prometheus metrics, read at scrape
// time: the daemon keeps no second set of counters. Metric names follow
// genesissync_<subsystem>_<name>; every share metric has a share label.
type collector struct {
	src Source
}

var (
	shareLabels    = []string{"share"}
	endpointLabels = []string{"endpoint", "bucket"}
	descs          = struct {
		up, smbdUp, filesTracked, bytesTracked, pending, inFlight, oldestAge, lastScan,
		uploads, uploadedBytes, downloads, downloadedBytes, deletes, renames, errors,
		conflicts, refused, heldDeletes, guardTripped, state,
		tripwireTripped, tripwireHeld, tripwireCounted,
		info, started, sessions, openFiles, stale, staleAfter, paused, upRate, downRate,
		poolHealthy, poolHealth, poolCapacity, endpointUp, endpointLatency,
		endpointOrder, endpointWrites, endpointRequests, endpointFailures, endpointMisses, endpointReadBytes, endpointWrittenBytes,
		snapEnabled, snapCount, snapAvailable, poolFree, verifyMismatches, verifyWarnings, verifyLastRun, verifyRunning,
		playoutActive, playoutReads, adopted, adoptReadBytes, adoptHashedBytes, adoptPending, backfilled, listingFailing,
		readyTracks, readyOK, readyProblems, readyFirst *prometheus.Desc
	}{
		adopted:          prometheus.NewDesc("genesissync_reconcile_adopted_total", "Paths found on both sides without a base and proven equal (nothing transferred), by proof: metadata, etag, reading.", []string{"share", "proof"}, nil),
		adoptReadBytes:   prometheus.NewDesc("genesissync_reconcile_adopt_read_bytes_total", "Object bytes read to prove or disprove equality with a local file.", shareLabels, nil),
		adoptHashedBytes: prometheus.NewDesc("genesissync_reconcile_adopt_hashed_bytes_total", "Share bytes read to prove or disprove equality with an object.", shareLabels, nil),
		adoptPending:     prometheus.NewDesc("genesissync_reconcile_adopt_pending_files", "Paths on both sides without a base still waiting for their adoption proof.", shareLabels, nil),
		backfilled:       prometheus.NewDesc("genesissync_reconcile_backfilled_total", "Objects other tools wrote that were given the appliance's metadata by a server-side copy.", shareLabels, nil),
		listingFailing:   prometheus.NewDesc("genesissync_reconcile_listing_failing", "1 while no bucket listing has completed for the listing grace.", shareLabels, nil),
		up:               prometheus.NewDesc("genesissync_up", "1 while the daemon serves.", nil, nil),
		smbdUp:           prometheus.NewDesc("genesissync_samba_smbd_up", "1 when the managed smbd is up.", nil, nil),
		filesTracked:     prometheus.NewDesc("genesissync_share_files_tracked", "Files the index knows as synced.", shareLabels, nil),
		bytesTracked:     prometheus.NewDesc("genesissync_share_bytes_tracked", "Bytes of the files the index knows as synced.", shareLabels, nil),
		pending:          prometheus.NewDesc("genesissync_share_pending", "Paths waiting to be synced (settling, retrying or in flight).", shareLabels, nil),
		inFlight:         prometheus.NewDesc("genesissync_share_in_flight", "Paths being transferred now.", shareLabels, nil),
		oldestAge:        prometheus.NewDesc("genesissync_share_oldest_pending_age_seconds", "Age of the oldest unsynced change: the recovery point.", shareLabels, nil),
		lastScan:         prometheus.NewDesc("genesissync_share_last_full_scan_timestamp_seconds", "When the last full scan of the share finished.", shareLabels, nil),
		uploads:          prometheus.NewDesc("genesissync_transfer_uploads_total", "Files uploaded.", shareLabels, nil),
		uploadedBytes:    prometheus.NewDesc("genesissync_transfer_uploaded_bytes_total", "Bytes uploaded.", shareLabels, nil),
		downloads:        prometheus.NewDesc("genesissync_transfer_downloads_total", "Files downloaded.", shareLabels, nil),
		downloadedBytes:  prometheus.NewDesc("genesissync_transfer_downloaded_bytes_total", "Bytes downloaded.", shareLabels, nil),
		deletes:          prometheus.NewDesc("genesissync_reconcile_deletes_total", "Deletes carried out (recoverably).", shareLabels, nil),
		renames:          prometheus.NewDesc("genesissync_reconcile_renames_total", "Renames done as server-side copies.", shareLabels, nil),
		errors:           prometheus.NewDesc("genesissync_reconcile_errors_total", "Failed sync attempts.", shareLabels, nil),
		conflicts:        prometheus.NewDesc("genesissync_reconcile_conflicts", "Recent conflicts (both versions kept).", shareLabels, nil),
		refused:          prometheus.NewDesc("genesissync_reconcile_refused_keys", "Object keys refused in the last bucket listing.", shareLabels, nil),
		heldDeletes:      prometheus.NewDesc("genesissync_reconcile_held_deletes", "Deletes waiting for the delete guard or an approval.", shareLabels, nil),
		guardTripped:     prometheus.NewDesc("genesissync_reconcile_delete_guard_tripped", "1 while deletes are paused for approval.", shareLabels, nil),
		tripwireTripped:  prometheus.NewDesc("genesissync_tripwire_tripped", "1 while the share's ransomware tripwire holds its changes for a person.", shareLabels, nil),
		tripwireHeld:     prometheus.NewDesc("genesissync_tripwire_held_changes", "Changes the ransomware tripwire holds back from the bucket.", shareLabels, nil),
		tripwireCounted:  prometheus.NewDesc("genesissync_tripwire_counted_changes", "Suspicious changes within the tripwire's window (it trips past max_rewrites).", shareLabels, nil),
		state:            prometheus.NewDesc("genesissync_share_state", "1 for the share's current state.", []string{"share", "state"}, nil),

		info:             prometheus.NewDesc("genesissync_build_info", "1, labelled with the running version.", []string{"version"}, nil),
		started:          prometheus.NewDesc("genesissync_start_time_seconds", "When the daemon started (Unix time).", nil, nil),
		sessions:         prometheus.NewDesc("genesissync_samba_sessions", "SMB sessions connected, as smbstatus last reported.", nil, nil),
		openFiles:        prometheus.NewDesc("genesissync_samba_open_files", "Files SMB clients hold open, as smbstatus last reported.", nil, nil),
		stale:            prometheus.NewDesc("genesissync_share_stale", "1 while the oldest unsynced change is older than the share's stale_after target.", shareLabels, nil),
		staleAfter:       prometheus.NewDesc("genesissync_share_stale_after_seconds", "The share's recovery point target (stale_after).", shareLabels, nil),
		paused:           prometheus.NewDesc("genesissync_share_paused", "1 while the share's transfers are paused.", shareLabels, nil),
		upRate:           prometheus.NewDesc("genesissync_transfer_upload_bytes_per_second", "Upload rate over the last minute.", shareLabels, nil),
		downRate:         prometheus.NewDesc("genesissync_transfer_download_bytes_per_second", "Download rate over the last minute.", shareLabels, nil),
		poolHealthy:      prometheus.NewDesc("genesissync_zfs_pool_healthy", "1 when the pool is ONLINE.", []string{"pool"}, nil),
		poolHealth:       prometheus.NewDesc("genesissync_zfs_pool_health", "1 for the pool's current health (ONLINE, DEGRADED, FAULTED, ...).", []string{"pool", "health"}, nil),
		poolCapacity:     prometheus.NewDesc("genesissync_zfs_pool_capacity_percent", "Used part of the pool's size, in percent.", []string{"pool"}, nil),
		endpointUp:       prometheus.NewDesc("genesissync_objstore_endpoint_up", "1 when the bucket endpoint answered the last probe.", []string{"endpoint", "bucket"}, nil),
		endpointLatency:  prometheus.NewDesc("genesissync_objstore_endpoint_latency_seconds", "Duration of the last probe of the bucket endpoint.", []string{"endpoint", "bucket"}, nil),
		snapEnabled:      prometheus.NewDesc("genesissync_snapshot_enabled", "1 when the share is on ZFS and gets snapshots.", shareLabels, nil),
		verifyMismatches: prometheus.NewDesc("genesissync_verify_mismatches", "Mismatches found by the share's last finished verify.", shareLabels, nil),
		snapCount:        prometheus.NewDesc("genesissync_snapshot_count", "Snapshots of the share's dataset.", shareLabels, nil),
		snapAvailable:    prometheus.NewDesc("genesissync_snapshot_dataset_available_bytes", "Bytes still available to the share's dataset.", shareLabels, nil),
		poolFree:         prometheus.NewDesc("genesissync_zfs_pool_free_bytes", "Free bytes of the pool.", []string{"pool"}, nil),
		verifyWarnings:   prometheus.NewDesc("genesissync_verify_warnings", "Findings of the share's last finished verify that are not mismatches.", shareLabels, nil),
		verifyLastRun:    prometheus.NewDesc("genesissync_verify_last_run_timestamp_seconds", "When the share's last verify finished.", shareLabels, nil),
		verifyRunning:    prometheus.NewDesc("genesissync_verify_running", "1 while a verify or restore job of the share runs.", shareLabels, nil),
		playoutActive:    prometheus.NewDesc("genesissync_playout_active", "1 while SMB clients play out and transfers are held to the playout rate.", nil, nil),
		readyTracks:      prometheus.NewDesc("genesissync_readiness_tracks", "Playlist entries due within the horizon that the last readiness check checked.", shareLabels, nil),
		readyOK:          prometheus.NewDesc("genesissync_readiness_tracks_ok", "Of those, the entries ready to air.", shareLabels, nil),
		readyProblems:    prometheus.NewDesc("genesissync_readiness_problems", "Entries and playlists that would air dead air, by reason.", []string{"share", "reason"}, nil),
		readyFirst:       prometheus.NewDesc("genesissync_readiness_seconds_until_problem", "Seconds until the first scheduled problem airs (absent when none is scheduled).", shareLabels, nil),
		playoutReads:     prometheus.NewDesc("genesissync_playout_client_read_bytes_per_second", "Bytes per second smbd's clients read, as last sampled.", nil, nil),

		// Of a target with several endpoints (target.endpoints) only.
		endpointOrder:        prometheus.NewDesc("genesissync_objstore_endpoint_order", "The endpoint's place in its target's list, from 1 (nearest first).", endpointLabels, nil),
		endpointWrites:       prometheus.NewDesc("genesissync_objstore_endpoint_writes", "1 while the endpoint takes its target's writes.", endpointLabels, nil),
		endpointRequests:     prometheus.NewDesc("genesissync_objstore_endpoint_requests_total", "Requests sent to the endpoint.", endpointLabels, nil),
		endpointFailures:     prometheus.NewDesc("genesissync_objstore_endpoint_failures_total", "Requests to the endpoint that failed for its own reason (it was then passed over).", endpointLabels, nil),
		endpointMisses:       prometheus.NewDesc("genesissync_objstore_endpoint_misses_total", "Reads the endpoint answered with 404 that the next endpoint was asked (a lagging replica).", endpointLabels, nil),
		endpointReadBytes:    prometheus.NewDesc("genesissync_objstore_endpoint_read_bytes_total", "Object bytes the endpoint served.", endpointLabels, nil),
		endpointWrittenBytes: prometheus.NewDesc("genesissync_objstore_endpoint_written_bytes_total", "Object bytes the endpoint took.", endpointLabels, nil),
	}
)

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.src.Snapshot()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descs.up, 1)
	gauge(descs.info, 1, snap.Version)
	if !snap.StartedAt.IsZero() {
		gauge(descs.started, float64(snap.StartedAt.Unix()))
	}
	if snap.Samba.Mode != "off" {
		gauge(descs.smbdUp, b2f(snap.Samba.Up))
		if !snap.Clients.CheckedAt.IsZero() {
			gauge(descs.sessions, float64(len(snap.Clients.Sessions)))
			gauge(descs.openFiles, float64(len(snap.Clients.OpenFiles)))
		}
	}
	if snap.Playout.Aware {
		gauge(descs.playoutActive, b2f(snap.Playout.Active))
		gauge(descs.playoutReads, float64(snap.Playout.ClientReadBytesPerSecond))
	}
	for _, p := range snap.Pools {
		if p.Error != "" && p.Health == "" {
			continue
		}
		gauge(descs.poolHealthy, b2f(p.Health == "ONLINE"), p.Name)
		gauge(descs.poolHealth, 1, p.Name, p.Health)
		gauge(descs.poolCapacity, p.CapacityPercent, p.Name)
		gauge(descs.poolFree, float64(p.Free), p.Name)
	}
	for _, e := range snap.Endpoints {
		if e.CheckedAt.IsZero() {
			continue
		}
		gauge(descs.endpointUp, b2f(e.Reachable), e.URL, e.Bucket)
		gauge(descs.endpointLatency, e.LatencyMs/1000, e.URL, e.Bucket)
	}
	for _, e := range snap.Endpoints {
		if !e.Several {
			continue
		}
		gauge(descs.endpointOrder, float64(e.Order), e.URL, e.Bucket)
		gauge(descs.endpointWrites, b2f(e.Writes), e.URL, e.Bucket)
		counter(descs.endpointRequests, float64(e.Requests), e.URL, e.Bucket)
		counter(descs.endpointFailures, float64(e.Failures), e.URL, e.Bucket)
		counter(descs.endpointMisses, float64(e.Misses), e.URL, e.Bucket)
		counter(descs.endpointReadBytes, float64(e.BytesRead), e.URL, e.Bucket)
		counter(descs.endpointWrittenBytes, float64(e.BytesWritten), e.URL, e.Bucket)
	}
	for _, s := range snap.Shares {
		n := s.Name
		gauge(descs.filesTracked, float64(s.FilesTracked), n)
		gauge(descs.bytesTracked, float64(s.BytesTracked), n)
		gauge(descs.pending, float64(s.PendingUploads), n)
		gauge(descs.inFlight, float64(s.InFlight), n)
		gauge(descs.oldestAge, s.OldestPendingAgeSeconds, n)
		if !s.LastFullScanDone.IsZero() {
			gauge(descs.lastScan, float64(s.LastFullScanDone.Unix()), n)
		}
		counter(descs.uploads, float64(s.Uploads), n)
		counter(descs.uploadedBytes, float64(s.UploadedBytes), n)
		counter(descs.downloads, float64(s.Downloads), n)
		counter(descs.downloadedBytes, float64(s.DownloadedBytes), n)
		counter(descs.deletes, float64(s.Deletes), n)
		counter(descs.renames, float64(s.Renames), n)
		counter(descs.errors, float64(s.Errors), n)
		gauge(descs.conflicts, float64(len(s.Conflicts)), n)
		gauge(descs.refused, float64(s.RefusedCount), n)
		gauge(descs.heldDeletes, float64(s.HeldDeleteCount), n)
		gauge(descs.guardTripped, b2f(s.DeleteGuardTripped), n)
		if tw := s.Tripwire; tw != nil {
			gauge(descs.tripwireTripped, b2f(tw.Tripped), n)
			gauge(descs.tripwireHeld, float64(tw.HeldCount), n)
			gauge(descs.tripwireCounted, float64(tw.Counted), n)
		}
		gauge(descs.state, 1, n, s.State)
		gauge(descs.stale, b2f(s.Stale), n)
		gauge(descs.staleAfter, s.StaleAfterSeconds, n)
		gauge(descs.paused, b2f(s.PausedReason != ""), n)
		gauge(descs.upRate, s.UploadBytesPerSecond, n)
		gauge(descs.downRate, s.DownloadBytesPerSecond, n)
		gauge(descs.snapEnabled, b2f(s.Snapshots.Enabled), n)
		if s.Snapshots.Enabled {
			gauge(descs.snapCount, float64(s.Snapshots.Count), n)
			gauge(descs.snapAvailable, float64(s.Snapshots.DatasetAvailable), n)
		}
		gauge(descs.verifyMismatches, float64(s.Verify.Mismatches), n)
		gauge(descs.verifyWarnings, float64(s.Verify.Warnings), n)
		if !s.Verify.LastRun.IsZero() {
			gauge(descs.verifyLastRun, float64(s.Verify.LastRun.Unix()), n)
		}
		gauge(descs.verifyRunning, b2f(s.Verify.Running != nil), n)
		counter(descs.adopted, float64(s.Adopted.ByMetadata), n, "metadata")
		counter(descs.adopted, float64(s.Adopted.ByETag), n, "etag")
		counter(descs.adopted, float64(s.Adopted.ByReading), n, "reading")
		counter(descs.adoptReadBytes, float64(s.Adopted.BytesRead), n)
		counter(descs.adoptHashedBytes, float64(s.Adopted.HashedBytes), n)
		gauge(descs.adoptPending, float64(s.Adopted.Pending), n)
		counter(descs.backfilled, float64(s.Backfilled), n)
		gauge(descs.listingFailing, b2f(s.ListingFailing), n)
		readinessMetrics(s.Readiness, n, snap.Now, gauge)
	}
}

// readinessMetrics are the share's readiness series, once it has been
// checked.
func readinessMetrics(r model.Readiness, share string, now time.Time, gauge func(*prometheus.Desc, float64, ...string)) {
	if !r.Enabled || r.CheckedAt.IsZero() {
		return
	}
	gauge(descs.readyTracks, float64(r.Tracks), share)
	gauge(descs.readyOK, float64(r.OK), share)
	by := map[string]int{}
	for _, p := range r.Problems {
		by[p.Reason]++
	}
	for _, reason := range readiness.Reasons {
		gauge(descs.readyProblems, float64(by[string(reason)]), share, string(reason))
	}
	if !r.FirstProblemAir.IsZero() {
		gauge(descs.readyFirst, r.FirstProblemAir.Sub(now).Seconds(), share)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler serves the snapshot's metrics plus the Go runtime's and
// the process's, from a registry of its own (no global state).
func metricsHandler(src Source) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{src}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
