// Package atomicfile owns putting a file on a share whole or not at all:
// every file the appliance writes into a share (downloads, restores from
// the bucket or a snapshot, imports) goes through it.
//
// A write opens the share as an os.Root and walks to the target's
// directory one component at a time, creating missing ones (service user,
// 0775) and refusing any symlink, even one inside the share: Samba may
// follow it, the appliance does not write through it. The content goes to
// a temp name (layout.TempPrefix, vetoed by Samba, excluded by the
// scanner) in the target's directory, gets owner, mode and times on the
// descriptor and an fsync (writeback starts every writebackChunk, so the
// fsync waits only for the tail), so it is durable before it has its real
// name. Just before the rename the directory must still be at its path,
// the caller's check must pass and the context must be live; after it the
// directory is fsynced. Every failure, a writer's panic included, removes
// the temp file; only a crash leaves one, for CleanTemp at the next start.
//
// It never decides what to write or whether a file may be replaced (the
// callers ask smbd and compare versions), never hashes or verifies
// content, never writes outside the share or through a symlink whatever
// changes concurrently, and never writes the reserved names: the reserved
// namespace is refused like any unsafe path.
//
// A Share is safe for concurrent use; a File is one write, for one
// goroutine.
package atomicfile
