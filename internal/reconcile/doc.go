// Package reconcile owns the decision of what to sync and the per-share
// pipeline that carries it out.
//
// PlanLocal (stat against base) and Plan (local, base, remote) are pure
// planners, table-tested. A worker reads the bucket's side fresh with a
// HEAD, except for a small local change planned as an upload on the guess
// that the bucket holds what the index recorded: that upload is an S3
// conditional write carrying the guess, and only a refusal makes the
// worker look. Uploads carry preconditions once the first listing proved
// the store honors them.
//
// Share wires one share's pipeline. Its serve loop owns the pending files
// and hands each, once settled, to bounded workers that plan, execute and
// record the result only after the far side confirmed it. Candidates come
// from the scanner (scanner.go), the watcher supervisor (watcher.go), the
// bucket listing (poll.go) and bucket events (Share.Notify). Deletes run
// only when proven against the base, the root's health (root.go) and the
// mass-delete guard (guard.go), which trips past its thresholds until a
// person approves.
//
// The package must never record in the index what the far side has not
// confirmed, delete what is not proven, or write into a root that failed
// its health check. It never reads file bytes for transfer (transfer
// does); it talks to the bucket for HEADs, listings, server-side copies
// and the marker. It sets no defaults: every option comes from config.
package reconcile
