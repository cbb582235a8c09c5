// Package reconcile owns the decision of what to sync and the per-share
// pipeline that carries it out.
//
// PlanLocal is the pure planner: from a file's stat and its base entry in
// the index it decides whether the file must be read. It does no I/O, so
// every rule is table-tested. Share is the per-share serve loop: the
// watcher and the periodic scanner report candidates, the loop holds each
// until it has settled (no change for the share's settle window), and
// bounded workers upload it and record the result in the index only after
// the bucket confirmed it.
//
// Plan is the three-way planner (local, base, remote). For each path a
// worker reads the bucket's side fresh with a HEAD, except for a small
// local change whose plan, on the guess that the bucket still holds what
// the index recorded, is an upload: that upload goes as an S3 conditional
// write carrying the guess, and only a refusal makes the worker look.
// Every upload carries what its plan saw as its precondition, once the
// first bucket listing has proved the store honors conditional writes.
//
// Deletes are carried out only when proven against the base state, the
// share root's health and the mass-delete guard. The package never reads
// file bytes itself (transfer does); it talks to the bucket for HEADs,
// listings and the marker object, and moves bytes through transfer.
package reconcile
