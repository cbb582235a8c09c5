// Package transfer owns moving one file's bytes between the share and the
// object store, whole and verified.
//
// Upload reads a settled file twice through one descriptor: once to hash
// it (SHA-256, stored as metadata and, single-part, checked by the server
// as the S3 checksum; CRC-32C in the same pass), then to stream it. The
// store checks the stream against the CRC-32C and Upload re-stats the
// file; any difference fails the body at EOF, so the store aborts and no
// partial or mixed object is published. Unchanged content publishes
// nothing. An upload's Precondition (S3 conditional writes) keeps a save
// made in the bucket since the caller looked from being overwritten.
//
// Download publishes a file only whole and verified (CRC-32C or SHA-256
// metadata, else a single-part MD5 ETag): through an atomicfile.Share into
// a temp file beside the target, fsynced, renamed over the target after a
// last check that the path is what the caller planned against. The walk,
// symlink refusal and temp names are atomicfile's; transfer adds the
// verification and the expectation. Whether an SMB client has the target
// open is the caller's question.
//
// transfer never decides what to sync (reconcile does) and never writes
// the index; it returns the entry to record. Uploader and Downloader are
// safe for concurrent use; an Uploader's bandwidth limiter is shared by
// the share's uploads. WithPacer makes transfers yield to playout (a
// Pacer); the store paces the wire with the same pacer.
//
// A Trash carries out deletes recoverably and expires old trash; a Janitor
// runs that expiry and aborts multipart uploads a crash left open, per
// share, at start and every 30 minutes.
package transfer
