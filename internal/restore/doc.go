// Package restore owns the two ways of proving and using the bucket copy of
// a share: Verify compares the share, the index and the bucket and reports
// every difference; Restore brings objects (current, or as of a point in
// time) back into a share or an empty directory, verified.
//
// Verify only reads. By default it compares listings, the index's SHA-256
// and the objects' "sha256" metadata; Deep hashes the data on both sides;
// SamplePercent limits content checks to a random part. Presence is always
// checked for every file.
//
// Restore writes only through transfer.Downloader (temp name, verified,
// renamed, mtime from metadata). Object keys are untrusted and go through
// keymap first. A differing file is never replaced without
// Options.Overwrite, and never while an SMB client holds it open. Files
// already right are skipped, so a rerun fetches only the rest.
//
// Both are safe while the daemon runs (it runs them as jobs); neither
// opens the index itself: the caller passes a handle or none.
package restore
