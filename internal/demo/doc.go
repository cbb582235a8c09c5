// Package demo owns `genesissync demo`: the appliance end to end on
// loopback. It starts a real MinIO server, creates the buckets, points the
// example config's paths into the demo directory through GENESISSYNC_*
// overrides, runs the daemon (which runs its own smbd) and reports how to
// connect, also as <dir>/demo.env. On cancellation it stops everything it
// started.
//
// It is a development and evaluation tool: it never touches a system
// smbd, and everything it writes stays under its directory.
package demo
