// Package watch owns local change detection for one share: a recursive
// inotify watch (through fsnotify) over the share tree, turned into
// de-duplicated, debounced, sorted batches of hints, each saying "look at this
// path", "rescan this directory" or "rescan everything".
//
// It owns the set of inotify watches under the share root: every directory,
// new and moved-in ones (with everything below them) as they appear; removed
// or renamed-away ones are dropped.
//
// It must never read file contents, decide whether a file has settled or
// should be uploaded, touch the index or the bucket, or follow a symbolic link:
// it only names paths, share-relative, slash-separated, cleaned, never outside
// the share. The consumer owns the settle window and the decision.
//
// The watcher is a hint source, not the truth. inotify loses events (queue
// overflow, an unmounted dataset, the watch limit) and cannot see changes made
// on another host; every loss the watcher can detect becomes a Full change, and
// the periodic full scan stays authoritative. An unmount is invisible here
// (fsnotify swallows IN_UNMOUNT): the share-health check owns that, and after a
// remount the owner creates a new Watcher.
//
// Event choices, on Linux:
//
//   - Create, Write, Remove and Rename are reported for the path they name.
//     A created or moved-in directory is watched recursively first, then
//     reported as a Dir change, because files may have appeared in it before
//     its watch existed. A removed or renamed-away directory is reported as a
//     Dir change and its watches (and those below it) are dropped.
//   - Chmod (IN_ATTRIB) on a file is reported: Windows copy tools and Samba
//     set a file's timestamps explicitly (SetFileTime at or just before
//     close), which reaches Linux as utimensat and raises IN_ATTRIB only,
//     often after the last IN_MODIFY. The index and the settle window compare
//     that mtime. The noise from Samba's DOS-attribute xattrs is
//     de-duplicated by the batch and made a no-op by the consumer's re-stat.
//     Chmod on a directory is dropped: directories carry nothing we sync.
//   - Close-after-write (IN_CLOSE_WRITE) is not subscribed: fsnotify
//     (v1.10.1) keeps it unexported, so the last Write or Chmod of a file is
//     what the consumer's settle window sees.
//
// The watch limit is the sysctl fs.inotify.max_user_watches (one watch per
// directory); the kernel queue length is fs.inotify.max_queued_events.
package watch
