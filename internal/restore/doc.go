// Package restore owns the two ways of proving and using the bucket copy of
// a share: Verify, which compares the share, the index and the bucket and
// reports every difference, and Restore, which brings objects (current, or
// as they were at a point in time) back into a share or an empty
// directory, verified.
//
// Verify reads only. In its default mode it compares listings, the index's
// stored SHA-256 and the objects' "sha256" metadata; Deep reads the data
// on both sides and hashes it; SamplePercent limits the content checks to
// a random part of the files. Presence (missing on either side) is always
// checked for every file.
//
// Restore writes only through transfer.Downloader: every file goes to a
// hidden temp name in its directory, is checked against its SHA-256 and
// renamed into place, with its mtime from the object metadata. Object keys
// are untrusted and go through keymap first. A file that exists and
// differs is never replaced unless Options.Overwrite, and never while an
// SMB client holds it open. Files already present with the right content
// are skipped, so a rerun after an interruption only fetches the rest.
//
// Both are safe to run while the daemon runs (the daemon runs them as
// jobs); neither may open the index itself: the caller passes an index
// handle or none.
package restore
