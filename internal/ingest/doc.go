// Package ingest owns bringing existing media trees into a share: an old
// playout PC's folder, a USB disk, an old NAS mount, several of them into
// one share (the consolidation of separate local stores into shared
// storage). `genesissync import` is a thin layer over Import.
//
// Every file is written through transfer.Downloader's atomic publish (the
// one writer of files on a share): a hidden temp name in the target
// folder, the SHA-256 taken while it streams, fsync, owner, mode and mtime
// set, renamed into place only while the name is still free. It never
// replaces a file: a path the share (or an earlier source) already holds
// with other bytes is a collision, reported and left alone. Names the
// share cannot hold are refused with keymap's reasons.
//
// A bucket prefix (`import --from-bucket s3://BUCKET/PREFIX`) is one more
// source, read through a small consumer interface (Objects): each object
// verified while it streams (its sha256 metadata, else its ETag
// reproduced; "not verified" noted where neither can prove anything).
// When the bucket is on the share's target endpoint, each object is also
// copied server-side into the share's target prefix with our metadata
// (Copier, objstore.S3.CopyFrom), only where the target has nothing at
// that key, so that the daemon adopts both sides without uploading.
//
// What it must never do: write outside the share (paths are checked
// lexically and walked through os.Root by the downloader), follow a
// symlink in a source, overwrite anything (a file on the share or an
// object in the target), publish a file that changed while it was read,
// publish an object whose bytes differ from its sha256 or ETag, or put a
// sha256 on a target object that was not proven.
//
// Import may be called concurrently for different shares; for one share,
// concurrent imports are the caller's to prevent.
package ingest
