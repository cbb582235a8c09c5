package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackChunk is how much of a file is written before the kernel is
// asked to start writing it to disk (see writeback).
const writebackChunk = 8 << 20

// writeback is the temp file of a write, asking the kernel to start
// writing each writebackChunk to disk as soon as it is written
// (sync_file_range SYNC_FILE_RANGE_WRITE: it starts the writeback and
// does not wait for it). A file must be durable before its rename, and
// without this the kernel would start writing only at the fsync (or after
// dirty_expire_centisecs, 30 s by default), so the whole file's write
// would be the fsync's to wait for, after the last byte arrived. With it,
// the disk writes while the source delivers and the fsync waits for the
// last chunk or so (see the README's Performance section). It changes
// nothing about durability: the fsync before the rename still decides.
// Filesystems that keep no dirty pages of their own (ZFS writes through
// its ARC, FUSE) return at once or refuse; a refusal stops the calls for
// this file.
type writeback struct {
	f        *os.File
	written  int64 // bytes written so far
	started  int64 // bytes whose writeback has been started
	disabled bool
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if !w.disabled && w.written-w.started >= writebackChunk {
		if unix.SyncFileRange(int(w.f.Fd()), w.started, w.written-w.started, unix.SYNC_FILE_RANGE_WRITE) != nil {
			w.disabled = true
		}
		w.started = w.written
	}
	return n, err
}
