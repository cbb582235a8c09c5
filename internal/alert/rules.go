package alert

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"genesissync/internal/model"
	"genesissync/internal/reconcile"
)

// Severity says how urgent a problem is.
type Severity string

// Severities, from the station's point of view.
const (
	// Warning needs attention soon: protection is reduced or a person
	// must decide something, but nothing is broken for playout yet.
	Warning Severity = "warning"
	// Critical is broken now: playout, backups or integrity are at risk.
	Critical Severity = "critical"
)

// Rule names: the first half of a problem's key. They are stable; webhook
// receivers may match on them.
const (
	RuleSyncFailing = "sync_failing"
	RuleStale       = "stale"
	RuleDeleteGuard = "delete_guard"
	RuleShareError  = "share_error"
	// RuleBucketListingFailing: no bucket listing completed for the
	// share's listing grace; the bucket-to-share direction has stopped.
	RuleBucketListingFailing = "bucket_listing_failing"
	RuleVerifyMismatch       = "verify_mismatch"
	RuleSmbdDown             = "smbd_down"
	// RuleBucketUnreachable: a bucket endpoint is unreachable; of a
	// target with several endpoints, every one of them.
	RuleBucketUnreachable = "bucket_unreachable"
	// RuleEndpointDown: one endpoint of a target with several stays
	// unreachable while another answers: the target still serves, with
	// less redundancy or from farther away.
	RuleEndpointDown = "endpoint_down"
	// RuleWritesFailedOver: a target's writes go to an endpoint other
	// than the first in its list that takes writes.
	RuleWritesFailedOver = "writes_failed_over"
	RulePoolDegraded     = "pool_degraded"
	RulePoolCapacity     = "pool_capacity"
	RulePoolUnchecked    = "pool_unchecked"
	// RuleTrackMissing: a track a playlist will air within the horizon
	// is not ready (missing, refused, not synced, a conflict, outside
	// every share), or a playlist cannot be read.
	RuleTrackMissing = "track_missing"
	// RuleTripwire: the share's ransomware tripwire tripped, or holds
	// changes whose content no longer matches their format.
	RuleTripwire = "tripwire"
	// RuleApplianceStale: another appliance on a share's bucket prefix
	// has written no heartbeat for longer than appliance.stale_after and
	// did not say it stopped.
	RuleApplianceStale = "appliance_stale"
	// RuleApplianceDuplicate: another appliance with this one's name is
	// live on a share's bucket prefix.
	RuleApplianceDuplicate = "appliance_duplicate"
)

// Problem is one active problem found by Evaluate. It is a value.
type Problem struct {
	// Key identifies the problem across evaluations: Rule + ":" +
	// Subject. The engine deduplicates on it.
	Key      string   `json:"key"`
	Rule     string   `json:"rule"`
	Subject  string   `json:"subject"` // share, pool, endpoint, target or "smbd"
	Severity Severity `json:"severity"`
	// Share is the share concerned, empty for box-wide problems.
	Share string `json:"share,omitempty"`
	// Path is the file concerned (share-relative), if there is one.
	Path string `json:"path,omitempty"`
	// Message is one human sentence naming the share and file.
	Message string `json:"message"`
	// Details are extra facts (counts, ages, the last error).
	Details map[string]string `json:"details,omitempty"`
	// For is how long the problem must persist before it fires, on top
	// of the engine's own "for" (the larger wins). The failure streak
	// rule uses it: a failing file fires only after the streak.
	For time.Duration `json:"-"`
	// Immediate fires on the first evaluation that sees the problem,
	// whatever the engine's "for": a tripped tripwire is never a blip,
	// and minutes count while a PC encrypts.
	Immediate bool `json:"-"`
}

// Targets are the rules' thresholds, which the snapshot does not carry
// (each share's recovery point target it does). They are taken as given:
// config (alerts.*) owns their defaults and their checks.
type Targets struct {
	// FailureStreak is how long a file must keep failing (its retries
	// included) before sync_failing fires (alerts.failure_streak).
	FailureStreak time.Duration
	// CapacityWarning and CapacityCritical are the pool fill percentages
	// of a warning and of a critical pool_capacity
	// (alerts.capacity_warning, alerts.capacity_critical).
	CapacityWarning  float64
	CapacityCritical float64
}

// Evaluate returns the problems active in snap at now, sorted by key. It
// is pure: no I/O, no clock, no state; the same input gives the same
// output.
func Evaluate(snap model.Snapshot, t Targets, now time.Time) []Problem {
	var out []Problem
	add := func(p Problem) {
		p.Key = p.Rule + ":" + p.Subject
		out = append(out, p)
	}

	if snap.Samba.Mode != "" && snap.Samba.Mode != "off" && !snap.Samba.Up {
		p := Problem{Rule: RuleSmbdDown, Subject: "smbd", Severity: Critical,
			Message: "smbd is down: playout PCs cannot reach the shares"}
		if snap.Samba.Error != "" {
			p.Details = map[string]string{"error": snap.Samba.Error}
		}
		add(p)
	}

	for _, sh := range snap.Shares {
		shareRules(sh, t, now, add)
	}

	endpointRules(snap.Endpoints, now, add)

	for _, pool := range snap.Pools {
		poolRules(pool, t, add)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func shareRules(sh model.Share, t Targets, now time.Time, add func(Problem)) {
	name := sh.Name
	lastErr := func(d map[string]string) (string, map[string]string) {
		if sh.LastError == nil {
			return "", d
		}
		d["last_error"] = sh.LastError.Message
		if sh.LastError.Path != "" {
			d["last_error_path"] = sh.LastError.Path
		}
		d["last_error_at"] = sh.LastError.At.UTC().Format(time.RFC3339)
		return sh.LastError.Path, d
	}

	if sh.PendingFailures > 0 {
		_, d := lastErr(map[string]string{"failing_files": fmt.Sprint(sh.PendingFailures)})
		msg := fmt.Sprintf("share %s: %d file(s) keep failing to sync", name, sh.PendingFailures)
		path := ""
		if f := failingFile(sh, now); f != nil {
			path = f.Path
			msg += fmt.Sprintf(", e.g. %q: %s", f.Path, f.Message)
			d["file"], d["file_error"] = f.Path, f.Message
		} else if sh.LastError != nil {
			// Only share-wide errors are known (a bucket listing, a
			// scan): the snapshot does not say which files fail.
			msg += "; last error: " + sh.LastError.Message
		}
		add(Problem{Rule: RuleSyncFailing, Subject: name, Share: name, Path: path, Severity: Warning,
			Message: msg, Details: d, For: t.FailureStreak})
	}

	if st := sh.StalenessAt(now); st.Stale {
		age := st.Age.Truncate(time.Second)
		add(Problem{Rule: RuleStale, Subject: name, Share: name, Severity: Critical,
			Message: fmt.Sprintf("share %s is stale: the oldest unsynced change is %s old, past its %s target (%d file(s) waiting)",
				name, age, st.Target, sh.PendingUploads),
			Details: map[string]string{
				"oldest_pending": sh.OldestPending.UTC().Format(time.RFC3339),
				"age":            age.String(),
				"stale_after":    st.Target.String(),
				"pending":        fmt.Sprint(sh.PendingUploads),
			}})
	}

	if sh.DeleteGuardTripped {
		what := fmt.Sprintf("%d deletes", sh.HeldDeleteCount)
		if c := sh.HeldConflictCount; c > 0 {
			// A first pass over a bucket that does not match the share.
			what = fmt.Sprintf("%d deletes and %d first-pass conflicts (files on both sides that differ: is this the right bucket prefix?)", sh.HeldDeleteCount-c, c)
		}
		add(Problem{Rule: RuleDeleteGuard, Subject: name, Share: name, Severity: Warning,
			Message: fmt.Sprintf("share %s: the mass-delete guard holds %s (batch %s); review with `genesissync deletes show %s`, release with `genesissync deletes approve %s`",
				name, what, sh.DeleteBatch, name, name),
			Details: map[string]string{"held_deletes": fmt.Sprint(sh.HeldDeleteCount), "held_conflicts": fmt.Sprint(sh.HeldConflictCount), "batch": sh.DeleteBatch}})
	}

	if p, ok := tripwireProblem(sh, now); ok {
		add(p)
	}

	if sh.ListingFailing && sh.ListingError != nil {
		le := sh.ListingError
		down := now.Sub(le.Since).Truncate(time.Second)
		add(Problem{Rule: RuleBucketListingFailing, Subject: name, Share: name, Severity: Critical,
			Message: fmt.Sprintf("share %s: the bucket listing has failed for %s (%d attempts): files added, changed or deleted in the bucket no longer reach the share; last error: %s",
				name, down, le.Attempts, le.Message),
			Details: map[string]string{
				"last_listing":  le.Since.UTC().Format(time.RFC3339),
				"attempts":      fmt.Sprint(le.Attempts),
				"last_error":    le.Message,
				"last_error_at": le.At.UTC().Format(time.RFC3339),
			}})
	}

	// The error state also covers failing files, a tripped guard, a
	// failing listing and the tripwire, which have their own rules; what is left is
	// share-wide: the root is unhealthy (dataset not mounted, marker
	// missing) or the scan fails.
	tripAlarm := sh.Tripwire != nil && (sh.Tripwire.Tripped || sh.Tripwire.HeldCount > 0)
	if sh.State == reconcile.StateError && sh.PendingFailures == 0 && !sh.DeleteGuardTripped && !sh.ListingFailing && !tripAlarm {
		path, d := lastErr(map[string]string{})
		msg := fmt.Sprintf("share %s is in error: nothing syncs", name)
		if sh.LastError != nil {
			msg += ": " + sh.LastError.Message
		}
		add(Problem{Rule: RuleShareError, Subject: name, Share: name, Path: path, Severity: Critical, Message: msg, Details: d})
	}

	if rd := sh.Readiness; len(rd.Problems) > 0 {
		add(trackMissing(name, rd))
	}

	if ps := sh.Peers; ps != nil {
		peerRules(name, *ps, now, add)
	}

	if sh.Verify.Mismatches > 0 {
		add(Problem{Rule: RuleVerifyMismatch, Subject: name, Share: name, Severity: Critical,
			Message: fmt.Sprintf("share %s: the last verify found %d mismatch(es) between the share, the index and the bucket", name, sh.Verify.Mismatches),
			Details: map[string]string{"mismatches": fmt.Sprint(sh.Verify.Mismatches)}})
	}
}

// peerRules are the rules of the appliances on the prefix of share:
// appliance_stale for each other one silent past its stale_after without
// having stopped, appliance_duplicate while another has this one's name.
func peerRules(share string, ps model.Peers, now time.Time, add func(Problem)) {
	for _, pe := range ps.Appliances {
		if pe.Self || pe.Stopped || !pe.Stale {
			continue
		}
		silent := now.Sub(pe.LastSeen).Truncate(time.Second)
		d := map[string]string{"appliance": pe.Name, "last_seen": pe.LastSeen.UTC().Format(time.RFC3339), "silent": silent.String(),
			"stale_after": (time.Duration(ps.StaleAfterSeconds * float64(time.Second))).String()}
		if pe.Version != "" {
			d["version"] = pe.Version
		}
		add(Problem{Rule: RuleApplianceStale, Subject: share + "/" + pe.Name, Share: share, Severity: Warning,
			Message: fmt.Sprintf("appliance %s on the prefix of share %s has not been seen for %s (last seen %s): it may be down or cut off",
				pe.Name, share, silent, pe.LastSeen.UTC().Format("2006-01-02 15:04 UTC")),
			Details: d})
	}
	if ps.Duplicate != "" {
		add(Problem{Rule: RuleApplianceDuplicate, Subject: share, Share: share, Severity: Critical,
			Message: fmt.Sprintf("share %s: %s", share, ps.Duplicate),
			Details: map[string]string{"appliance": ps.Self}})
	}
}

// trackMissing is the readiness problem of share: one alert naming the
// problem that airs first, with how many there are in all.
func trackMissing(share string, rd model.Readiness) Problem {
	p := rd.Problems[0] // soonest first
	when := "unscheduled"
	if !p.Air.IsZero() {
		when = p.Air.Local().Format("2006-01-02 15:04")
	}
	what := strings.TrimSpace(strings.Trim(p.Artist+" - "+p.Title, " -"))
	if what == "" {
		what = p.Entry
	}
	where := fmt.Sprintf("%s, line %d", p.Playlist, p.Line)
	if p.Path != "" {
		where = p.Path + "; " + where
	}
	msg := fmt.Sprintf("share %s: %s %s is %s (%s)", share, when, what, p.Reason, where)
	if n := len(rd.Problems); n > 1 {
		msg += fmt.Sprintf("; %d problems in all", n)
	}
	d := map[string]string{"playlist": p.Playlist, "line": fmt.Sprint(p.Line), "entry": p.Entry, "reason": p.Reason,
		"problems": fmt.Sprint(len(rd.Problems))}
	if !p.Air.IsZero() {
		d["air"] = p.Air.UTC().Format(time.RFC3339)
	}
	if p.Detail != "" {
		d["detail"] = p.Detail
	}
	return Problem{Rule: RuleTrackMissing, Subject: share, Share: share, Path: p.Path, Severity: Critical, Message: msg, Details: d}
}

// recentFileError is how old a file's error may be to still be named as
// failing: a failing file is retried at least every 5 minutes (the
// pipeline's longest backoff), so twice that.
const recentFileError = 10 * time.Minute

// failingFile is a file failing now: the longest failing of the share's
// Failing list; or, from an older snapshot without it, the newest recent
// error that names a file (the last error alone is often share-wide, such
// as a failed bucket listing).
func failingFile(sh model.Share, now time.Time) *reconcile.Failure {
	if len(sh.Failing) > 0 {
		return &sh.Failing[0]
	}
	if e := sh.LastError; e != nil && e.Path != "" {
		return e
	}
	for i := range sh.RecentErrors { // newest first
		if e := &sh.RecentErrors[i]; e.Path != "" && now.Sub(e.At) <= recentFileError {
			return e
		}
	}
	return nil
}

// endpointDownAfter is how long an endpoint of a target with several
// endpoints must stay unreachable before endpoint_down: the target still
// serves from another, so a replica's restart or a short outage of the
// line to it (a few probe intervals, target.probe_interval 1m) is not
// worth a notice.
const endpointDownAfter = 5 * time.Minute

// endpointRules are the rules of the bucket endpoints: bucket_unreachable
// per endpoint of a target with one endpoint; per target with several,
// bucket_unreachable when none answers, else endpoint_down for each that
// has been down past endpointDownAfter and writes_failed_over when its
// writes have left the first endpoint that takes them.
func endpointRules(eps []model.Endpoint, now time.Time, add func(Problem)) {
	var targets [][]model.Endpoint // of several endpoints, in the snapshot's order
	at := map[string]int{}
	for _, ep := range eps {
		if !ep.Several {
			if p, ok := endpointUnreachable(ep); ok {
				add(p)
			}
			continue
		}
		key := targetName(ep)
		i, ok := at[key]
		if !ok {
			i = len(targets)
			at[key] = i
			targets = append(targets, nil)
		}
		targets[i] = append(targets[i], ep)
	}
	for _, t := range targets {
		sort.SliceStable(t, func(i, j int) bool { return t[i].Order < t[j].Order })
		targetRules(t, now, add)
	}
}

// endpointUnreachable is bucket_unreachable of a target with one endpoint.
func endpointUnreachable(ep model.Endpoint) (Problem, bool) {
	if ep.Reachable || ep.CheckedAt.IsZero() {
		return Problem{}, false // reachable, or not probed yet: nothing known
	}
	msg := fmt.Sprintf("bucket %s at %s is unreachable", ep.Bucket, ep.URL)
	if len(ep.Shares) > 0 {
		msg += " (shares " + strings.Join(ep.Shares, ", ") + " cannot sync)"
	}
	d := map[string]string{"checked_at": ep.CheckedAt.UTC().Format(time.RFC3339)}
	if ep.Error != "" {
		d["error"] = ep.Error
	}
	return Problem{Rule: RuleBucketUnreachable, Subject: endpointName(ep), Severity: Critical, Message: msg, Details: d}, true
}

// targetRules are the rules of one target with several endpoints, eps in
// their order.
func targetRules(eps []model.Endpoint, now time.Time, add func(Problem)) {
	var reads, writes *model.Endpoint // where requests go now
	known := false
	for i := range eps {
		ep := &eps[i]
		if ep.Reachable && reads == nil {
			reads = ep
		}
		if ep.Writes && writes == nil {
			writes = ep
		}
		if !downSince(*ep).IsZero() {
			known = true
		}
	}
	if reads == nil {
		if known {
			add(targetUnreachable(eps))
		}
		return // nothing answers: no endpoint is down "while another answers"
	}

	instead := fmt.Sprintf("requests go to %s instead", place(*reads))
	switch {
	case writes == nil:
		instead = fmt.Sprintf("reads go to %s instead; no endpoint takes writes", place(*reads))
	case writes != reads:
		instead = fmt.Sprintf("reads go to %s instead, writes to %s", place(*reads), place(*writes))
	}
	for _, ep := range eps {
		since := downSince(ep)
		if ep.Reachable || since.IsZero() || now.Sub(since) <= endpointDownAfter {
			continue
		}
		msg := fmt.Sprintf("bucket %s at %s (endpoint %d of %d) is unreachable since %s", ep.Bucket, ep.URL, ep.Order, len(eps), when(since, now))
		if ep.Error != "" {
			msg += ": " + ep.Error
		}
		d := map[string]string{"down_since": since.UTC().Format(time.RFC3339), "order": fmt.Sprint(ep.Order), "target": targetName(ep)}
		if ep.Error != "" {
			d["error"] = ep.Error
		}
		add(Problem{Rule: RuleEndpointDown, Subject: endpointName(ep), Severity: Warning, Message: msg + "; " + instead, Details: d})
	}

	if writes == nil || writes.FirstWriter {
		return
	}
	msg := fmt.Sprintf("writes of bucket %s go to %s", writes.Bucket, place(*writes))
	d := map[string]string{"writer": writes.URL, "writer_order": fmt.Sprint(writes.Order)}
	for _, ep := range eps {
		if !ep.FirstWriter {
			continue
		}
		d["first_writer"], d["first_writer_order"] = ep.URL, fmt.Sprint(ep.Order)
		switch since := downSince(ep); {
		case ep.Reachable:
			msg += fmt.Sprintf(": %s takes no writes now", place(ep))
		case since.IsZero():
			msg += fmt.Sprintf(": %s is down", place(ep))
		default:
			msg += fmt.Sprintf(": %s is down since %s", place(ep), when(since, now))
			d["down_since"] = since.UTC().Format(time.RFC3339)
		}
		if ep.Error != "" {
			msg += ": " + ep.Error
			d["first_writer_error"] = ep.Error
		}
		break
	}
	add(Problem{Rule: RuleWritesFailedOver, Subject: targetName(*writes), Severity: Warning, Message: msg, Details: d})
}

// targetUnreachable is bucket_unreachable of a target none of whose
// several endpoints answers: one problem for the target, naming each.
func targetUnreachable(eps []model.Endpoint) Problem {
	var each, shares []string
	seen := map[string]bool{}
	d := map[string]string{"endpoints": fmt.Sprint(len(eps))}
	var checked time.Time
	for _, ep := range eps {
		why := ep.Error
		switch {
		case downSince(ep).IsZero():
			why = "not probed yet"
		case why == "":
			why = "unreachable"
		}
		each = append(each, fmt.Sprintf("%s (endpoint %d): %s", ep.URL, ep.Order, why))
		d[fmt.Sprintf("endpoint_%d", ep.Order)] = ep.URL + ": " + why
		if ep.CheckedAt.After(checked) {
			checked = ep.CheckedAt
		}
		for _, s := range ep.Shares {
			if !seen[s] {
				seen[s] = true
				shares = append(shares, s)
			}
		}
	}
	if !checked.IsZero() {
		d["checked_at"] = checked.UTC().Format(time.RFC3339)
	}
	msg := fmt.Sprintf("bucket %s is unreachable at every endpoint: %s", eps[0].Bucket, strings.Join(each, "; "))
	if len(shares) > 0 {
		msg += " (shares " + strings.Join(shares, ", ") + " cannot sync)"
	}
	return Problem{Rule: RuleBucketUnreachable, Subject: targetName(eps[0]), Severity: Critical, Message: msg, Details: d}
}

// endpointName is an endpoint's subject: its URL and bucket.
func endpointName(ep model.Endpoint) string {
	if ep.Bucket == "" {
		return ep.URL
	}
	return ep.URL + "/" + ep.Bucket
}

// targetName is the subject of a target's problems: the model's Target,
// or, from a snapshot without it, the bucket alone.
func targetName(ep model.Endpoint) string {
	if ep.Target != "" {
		return ep.Target
	}
	return ep.Bucket
}

// downSince is when the endpoint was last known down, from its
// DownSince or, without it, its last check; zero while nothing is known.
func downSince(ep model.Endpoint) time.Time {
	if !ep.DownSince.IsZero() {
		return ep.DownSince
	}
	return ep.CheckedAt
}

// place names an endpoint of a target with several: its URL and order.
func place(ep model.Endpoint) string {
	return fmt.Sprintf("%s (endpoint %d)", ep.URL, ep.Order)
}

// when is a time in the past as a message gives it: UTC, and how long ago.
func when(t, now time.Time) string {
	return fmt.Sprintf("%s (%s)", t.UTC().Format("2006-01-02 15:04 UTC"), now.Sub(t).Truncate(time.Second))
}

func poolRules(pool model.Pool, t Targets, add func(Problem)) {
	if pool.Error != "" {
		add(Problem{Rule: RulePoolUnchecked, Subject: pool.Name, Severity: Warning,
			Message: fmt.Sprintf("ZFS pool %s cannot be checked: %s", pool.Name, pool.Error),
			Details: map[string]string{"error": pool.Error}})
		return // health and capacity are unknown, not bad
	}
	if pool.Health != "" && pool.Health != "ONLINE" {
		sev := Critical
		if pool.Health == "DEGRADED" {
			sev = Warning // still serving, redundancy lost
		}
		add(Problem{Rule: RulePoolDegraded, Subject: pool.Name, Severity: sev,
			Message: fmt.Sprintf("ZFS pool %s is %s", pool.Name, pool.Health),
			Details: map[string]string{"health": pool.Health}})
	}
	var sev Severity
	switch {
	case pool.CapacityPercent >= t.CapacityCritical:
		sev = Critical
	case pool.CapacityPercent >= t.CapacityWarning:
		sev = Warning
	default:
		return
	}
	add(Problem{Rule: RulePoolCapacity, Subject: pool.Name, Severity: sev,
		Message: fmt.Sprintf("ZFS pool %s is %.0f%% full", pool.Name, pool.CapacityPercent),
		Details: map[string]string{"capacity_percent": fmt.Sprintf("%.1f", pool.CapacityPercent)}})
}

// tripEvidenceWait is how long a trip's alert waits for its evidence (the
// SMB clients, the held snapshot) before it goes out without.
const tripEvidenceWait = 15 * time.Second

// tripwireProblem is the share's tripwire problem, if any: critical when it
// tripped (once its evidence is in, or tripEvidenceWait after the trip),
// a warning when it holds single changes.
func tripwireProblem(sh model.Share, now time.Time) (Problem, bool) {
	tw := sh.Tripwire
	if tw == nil || (!tw.Tripped && tw.HeldCount == 0) {
		return Problem{}, false
	}
	name := sh.Name
	d := map[string]string{
		"held":       fmt.Sprint(tw.HeldCount),
		"counted":    fmt.Sprint(tw.Counted),
		"mismatches": fmt.Sprint(tw.Mismatches),
	}
	first := tw.Offending
	if !tw.Tripped || len(first) == 0 {
		// Single holds: the held paths (Offending also lists new files
		// that went up).
		first = nil
		for _, h := range tw.Held {
			first = append(first, h.Path)
		}
	}
	files := strings.Join(first[:min(len(first), 5)], ", ")
	if len(first) > 5 {
		files += fmt.Sprintf(" and %d more", len(first)-5)
	}
	d["first_files"] = files
	if !tw.Tripped {
		return Problem{Rule: RuleTripwire, Subject: name, Share: name, Severity: Warning, Immediate: true,
			Message: fmt.Sprintf("share %s: the ransomware tripwire holds %d change(s) back from the bucket: %s (%s); review them on the status page",
				name, tw.HeldCount, files, tw.Held[0].Reason),
			Details: d}, true
	}
	if tw.Evidence == nil && now.Sub(tw.TrippedAt) < tripEvidenceWait {
		return Problem{}, false
	}
	d["tripped_at"] = tw.TrippedAt.UTC().Format(time.RFC3339)
	d["rule"] = tw.Reason
	who := "no SMB client could be named"
	if ev := tw.Evidence; ev != nil {
		if ev.Snapshot != "" {
			d["snapshot"] = ev.Snapshot
		}
		if len(ev.Problems) > 0 {
			d["problems"] = strings.Join(ev.Problems, "; ")
		}
		var names []string
		for _, c := range ev.Clients {
			names = append(names, fmt.Sprintf("%s on %s (%s)", c.User, c.Machine, c.Evidence))
		}
		if len(names) > 0 {
			who = "SMB client(s): " + strings.Join(names[:min(len(names), 3)], "; ")
			d["clients"] = strings.Join(names, "; ")
		}
	}
	msg := fmt.Sprintf("share %s: RANSOMWARE TRIPWIRE TRIPPED at %s: %s. Changes and deletes of existing files are held back from the bucket (%d so far); first files: %s. %s: take that PC off the network, then on the status page release the hold (the changes are legitimate) or restore from before the trip",
		name, tw.TrippedAt.Format("15:04:05"), tw.Reason, tw.HeldCount, files, who)
	if snap := d["snapshot"]; snap != "" {
		msg += "; held snapshot " + snap
	}
	return Problem{Rule: RuleTripwire, Subject: name, Share: name, Severity: Critical, Immediate: true, Message: msg, Details: d}, true
}
