// Package transfer owns moving one file's bytes between the share and the
// object store, whole and verified.
//
// Upload reads a settled file twice through one open descriptor: once to
// hash it (SHA-256, stored as object metadata and, for single-part
// objects, checked by the server as the S3 checksum), then to stream it.
// The streaming pass hashes again and re-stats the file; if anything
// differs it fails the body at EOF, so the object store aborts the upload
// and no partial or mixed object is ever published. Uploads of unchanged
// content (a touched file) publish nothing and only refresh the index
// entry.
//
// transfer never decides what to sync (reconcile does) and never writes
// the index; it returns the entry for the caller to record after the far
// side confirmed. An Uploader is safe for concurrent use; its bandwidth
// limiter is shared by all uploads of the share.
package transfer
