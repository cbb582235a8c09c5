// Package transfer owns moving one file's bytes between the share and the
// object store, whole and verified.
//
// Upload reads a settled file twice through one open descriptor: once to
// hash it (SHA-256, stored as object metadata and, for single-part
// objects, checked by the server as the S3 checksum; and CRC-32C, in the
// same pass), then to stream it. The store checks the streamed bytes
// against the CRC-32C and Upload re-stats the file; if anything differs
// the body fails at EOF, so the object store aborts the upload and no
// partial or mixed object is ever published. Uploads of unchanged
// content (a touched file) publish nothing and only refresh the index
// entry. An upload carries a Precondition, what the bucket must hold for
// it to publish (S3 conditional writes), so that a save in the bucket
// since the caller looked is never overwritten.
//
// Downloads check every byte against the object's CRC-32C metadata when
// it has one beside its SHA-256 (the appliance's own uploads), else
// against its SHA-256 or a single-part MD5 ETag.
//
// transfer never decides what to sync (reconcile does) and never writes
// the index; it returns the entry for the caller to record after the far
// side confirmed. An Uploader is safe for concurrent use; its bandwidth
// limiter is shared by all uploads of the share.
//
// WithPacer lets uploads and downloads yield to playout (a Pacer, the
// box-wide playout.Governor): each transfer waits for a slot, and an
// upload's hash pass for each chunk it reads; the bytes on the network
// are paced by the store with the same pacer (objstore.S3Options.Wire).
//
// Download is the way back, and a file appears on the share only whole and
// verified: the body streams through an atomicfile.Share into a hidden
// temp file in the target's own directory, is checked against the
// object's size and CRC-32C or SHA-256 (or, for foreign single-part
// objects, its MD5 ETag), gets its owner, mode and mtime, is fsynced, and
// only then is renamed over the target, after a last check that the local
// path is still what the caller planned against; the directory is fsynced
// after. The walk through the share, the refusal of symlinks, the temp
// names and their cleanup after a crash are atomicfile's; transfer adds
// the verification and the expectation. A Downloader is safe for
// concurrent use. Whether an SMB client has the target open is the
// caller's question, asked of smbd before calling Download.
//
// A Trash carries out deletes recoverably and expires what is older than
// the share's retention; a Janitor runs that expiry and aborts the
// multipart uploads a crash left open in the store, per share, at start
// and every 30 minutes.
package transfer
