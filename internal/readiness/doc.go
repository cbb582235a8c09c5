// Package readiness owns on-air readiness: reading the playout's
// playlists on a share (M3U, M3U8, PLS and plain lists, in the encodings
// Windows programs write), mapping the Windows paths they name (drive
// letters, UNC roots, relative paths) to share paths, reading each
// playlist's air time from its file name, and checking every track due
// within the horizon. The result is a Report: the problems that would put
// dead air on (with playlist, line, air time, artist and title, path and
// reason) and the bucket-only tracks to download first.
//
// The check is pure: what the appliance knows of each track comes through
// Files, a small interface the caller implements over the index, the share
// and the bucket listing; the playlists come as bytes (Parse) or from an
// fs.FS rooted at the share (Checker.Read). Air times are read in the
// time.Location the caller gives, the appliance's local zone.
//
// # What it must never do
//
//   - Write, fetch or delete anything, or log: it reports, the caller acts.
//   - Read config or open a share by path: the caller converts config's
//     readiness key into a Policy and passes an fs.FS.
//   - Pass a track it could not place: an entry that resolves outside
//     every share, an unknown TrackState, a playlist it cannot parse are
//     all problems, never silently skipped. URL entries (streams) are the
//     one exception: they are not files.
//
// # Concurrency
//
// Parse, CompilePattern and CheckPrefix are pure functions. A Mapper,
// Schedule or Checker is read-only after construction and safe for
// concurrent use; Check calls Files from the calling goroutine only.
// Playlists and Reports are plain values owned by the caller.
package readiness
