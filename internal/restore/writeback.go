package restore

import (
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"genesissync/internal/transfer"
)

// writebackChunk is how much of a file's data is written (into the page
// cache) before the restore asks the kernel to start writing it to disk.
// Without these hints nothing reaches the disk before the downloader's
// fsync (the kernel's background writeback starts only at
// dirty_background_ratio, gigabytes on a machine with a lot of RAM), so
// every file's whole data is written in its final fsync, after the last
// byte arrived, and the disk idles while the network works.
const writebackChunk = 8 << 20

// writebackMin is the smallest object that gets writeback hints: a
// smaller one fits in a few chunks and its fsync is short anyway.
var writebackMin int64 = 2 * writebackChunk

// writebackBody wraps an object body that transfer.Downloader streams
// into a temp file in dir (share-relative; "." for the top) named
// transfer.TempPrefix + random + "-" + base. Every writebackChunk bytes
// it asks its own goroutine to start writeback (sync_file_range
// SYNC_FILE_RANGE_WRITE) of the bytes the downloader has written so far,
// so that the downloader's fsync finds most of the file on disk already.
// The system call submits the I/O in the calling thread (block
// allocation, queueing), which is why it does not run in Read: the
// stream goes on meanwhile, and a hint that finds the goroutine busy is
// merged into the next one.
//
// It is only a hint to the kernel: it opens the temp file read-only
// through the restore's Root, never writes, renames or removes anything,
// and any failure (no temp file found, an error from the system call)
// just turns the hints off for this file. Durability is still the
// downloader's fsync before the rename. If more than one temp file of
// base is there (a crashed run's leftover, in a live share), each gets
// the hints; that costs a little I/O and nothing else.
type writebackBody struct {
	io.ReadCloser
	root      *os.Root
	dir, base string
	off       int64 // bytes handed to the downloader before the current Read
	hinted    int64 // bytes already handed to the goroutine
	ranges    chan [2]int64
	done      chan struct{}
	hints     int // sync_file_range calls that succeeded; read after Close
}

func newWritebackBody(body io.ReadCloser, root *os.Root, rel string) *writebackBody {
	w := &writebackBody{ReadCloser: body, root: root, dir: path.Dir(rel), base: path.Base(rel),
		ranges: make(chan [2]int64), done: make(chan struct{})}
	go w.flush()
	return w
}

func (w *writebackBody) Read(p []byte) (int, error) {
	// The downloader writes what one Read returned before it calls Read
	// again: the bytes before off are in the temp file.
	if w.off-w.hinted >= writebackChunk {
		select {
		case w.ranges <- [2]int64{w.hinted, w.off - w.hinted}:
			w.hinted = w.off
		default: // busy: this range goes with the next hint
		}
	}
	n, err := w.ReadCloser.Read(p)
	w.off += int64(n)
	return n, err
}

// flush runs the hints until Close.
func (w *writebackBody) flush() {
	defer close(w.done)
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	off := false
	for r := range w.ranges {
		if off {
			continue
		}
		if files == nil {
			if files = w.open(); files == nil {
				off = true
				continue
			}
		}
		for _, f := range files {
			if err := unix.SyncFileRange(int(f.Fd()), r[0], r[1], unix.SYNC_FILE_RANGE_WRITE); err != nil {
				off = true
			} else {
				w.hints++
			}
		}
	}
}

// open finds and opens (read-only) the temp files of base in dir.
func (w *writebackBody) open() []*os.File {
	d, err := w.root.Open(w.dir)
	if err != nil {
		return nil
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil
	}
	var files []*os.File
	for _, name := range names {
		if !isTempOf(name, w.base) {
			continue
		}
		if f, err := w.root.Open(path.Join(w.dir, name)); err == nil {
			files = append(files, f)
		}
	}
	return files
}

// isTempOf reports whether name is a downloader temp name for base:
// TempPrefix, 16 hex digits, "-", then base or a shortened base (names
// are cut to fit the file system's limit).
func isTempOf(name, base string) bool {
	rest, ok := strings.CutPrefix(name, transfer.TempPrefix)
	if !ok || len(rest) < 18 || rest[16] != '-' {
		return false
	}
	return strings.HasPrefix(base, rest[17:])
}

// Close stops the hints (waiting for one in progress) and closes the
// body.
func (w *writebackBody) Close() error {
	if w.ranges != nil {
		close(w.ranges)
		<-w.done
		w.ranges = nil
	}
	return w.ReadCloser.Close()
}
