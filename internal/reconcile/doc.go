// Package reconcile owns the decision of what to sync and the per-share
// pipeline that carries it out.
//
// PlanLocal is the pure planner: from a file's stat and its base entry in
// the index it decides whether the file must be read. It does no I/O, so
// every rule is table-tested.
//
// Plan is the three-way planner (local, base, remote). For each path a
// worker reads the bucket's side fresh with a HEAD, except for a small
// local change whose plan, on the guess that the bucket still holds what
// the index recorded, is an upload: that upload goes as an S3 conditional
// write carrying the guess, and only a refusal makes the worker look.
// Every upload carries what its plan saw as its precondition, once the
// first bucket listing has proved the store honors conditional writes.
//
// Share is one share's pipeline and wires its parts; its serve loop owns
// the pending files and hands each, once settled (no change for the
// share's settle window), to bounded workers, which plan, execute and
// record the result in the index only after the far side confirmed it.
// Candidates come from:
//   - the scanner (scanner.go): full and directory scans, comparing the
//     share with the index;
//   - the watcher supervisor (watcher.go): inotify batches, a restart and
//     a full scan when the watcher stops, a full scan on overflow;
//   - the bucket listing (poll.go) and bucket events (Share.Notify).
//
// Deletes are carried out only when proven against the base state, the
// share root's health (shareRoot, root.go) and the mass-delete guard
// (deleteGuard, guard.go), which holds each pass's batch and trips past
// its thresholds until a person approves.
//
// The package must never record in the index what the far side has not
// confirmed, delete what is not proven, or write into a root that failed
// its health check. It never reads file bytes itself (scan hashes them,
// transfer moves them); it talks to the bucket for HEADs, listings,
// server-side copies and the marker object. It sets no defaults: every
// option comes from config, through the daemon.
package reconcile
