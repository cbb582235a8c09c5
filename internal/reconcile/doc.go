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
// This package never deletes anything, local or remote: deletes must be
// proven against the base state, the share root's health and the mass
// delete guard, which the two-way reconciler adds. It never reads file
// bytes itself (transfer does) and never talks to the bucket directly.
package reconcile
