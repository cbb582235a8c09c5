// Package s3server starts local S3 servers as child processes: MinIO for
// `genesissync demo` and for the tests (tests/harness), and through Start
// and a Spec any other server the harness runs (versitygw, SeaweedFS).
// Start owns the process lifecycle they share: the log file, the readiness
// poll, stop with a grace period, and death with the parent (a killed demo
// or test binary leaves no server behind).
//
// Only the demo and tests import it; the daemon never starts a server. It
// must not import tests/, and knows nothing of buckets or credentials
// beyond passing them to the server.
package s3server
