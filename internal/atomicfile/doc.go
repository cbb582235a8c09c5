// Package atomicfile owns putting a file on a share whole or not at all:
// every file the appliance writes into a share (downloads, restores from
// the bucket or from a snapshot, imports) goes through it.
//
// A write opens the share as an os.Root and walks the target's directory
// one component at a time, creating missing ones (owned by the service
// user, mode 0775) and refusing any component that is a symlink, even one
// pointing inside the share: Samba may follow it, the appliance does not
// write through it. The content goes to a temp name layout.TempPrefix+random+
// "-"+base in the target's own directory, a name Samba vetoes and the
// scanner excludes; the temp file gets its owner and mode on the
// descriptor, its times, and an fsync, so that data and metadata are
// durable before it has its real name (the disk's writeback is started
// every 8 MiB as it is written, so the fsync waits only for the tail). Just before the rename the
// directory must still be at its path, the caller's check (the download's
// expectation of what is at the target) must pass, and the context must
// not be cancelled; then the temp file is renamed over the target and the
// directory fsynced. Every failure, a panic of the writer included,
// removes the temp file; only a crash leaves one, and CleanTemp removes
// those at the next start.
//
// It never decides what to write or whether a file may be replaced (an
// SMB client holding it open, a changed local version: the callers ask),
// never hashes or verifies content itself (the caller's writer and check
// do), never writes outside the share or through a symlink, whatever
// path it is given or changes concurrently, and never writes the
// appliance's own reserved names (the share marker, the trash): those are
// refused like any other path in the reserved namespace.
//
// A Share is safe for concurrent use; a File is one write, for one
// goroutine.
package atomicfile
