package reconcile

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/index"
	"genesissync/internal/scan"
)

// scanner walks the share (fully or one directory) when the loop asks and
// reports files whose stat differs from the index and entries the walk did
// not see. It never writes the index. One goroutine runs it.
type scanner struct {
	root    *shareRoot
	matcher *scan.Matcher
	index   *index.Share
	log     zerolog.Logger
}

// scanDone is the end of one scan.
type scanDone struct {
	full bool
	at   time.Time
	err  error
}

// run scans each directory received on dirs ("" is the whole share),
// sends candidates to foundc and the end of each scan to done.
func (sc *scanner) run(ctx context.Context, dirs <-chan string, foundc chan<- found, done chan<- scanDone) error {
	for {
		var dir string
		select {
		case <-ctx.Done():
			return ctx.Err()
		case dir = <-dirs:
		}
		start := time.Now()
		n := 0
		seen := map[string]struct{}{}
		// Every scan: a directory scan of an unmounted dataset reports deletes.
		err := sc.root.ok(ctx)
		if err == nil {
			err = scan.Walk(ctx, sc.root.path, dir, sc.matcher, func(f scan.File) error {
				seen[f.Path] = struct{}{}
				return sc.scanned(ctx, f, foundc, &n)
			})
		}
		if dir != "" && errors.Is(err, fs.ErrNotExist) {
			err = nil // a directory that came and went
		}
		if err == nil {
			err = sc.missing(ctx, dir, seen, foundc, &n)
		}
		sc.log.Debug().Str("dir", dir).Int("candidates", n).Dur("took", time.Since(start)).Err(err).Msg("scan done")
		select {
		case done <- scanDone{full: dir == "", at: start, err: err}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// scanned reports f as a candidate when its stat differs from the index.
func (sc *scanner) scanned(ctx context.Context, f scan.File, foundc chan<- found, n *int) error {
	base, ok, err := sc.index.Get(f.Path)
	if err != nil {
		return err
	}
	var b *index.Entry
	if ok {
		b = &base
	}
	if PlanLocal(f, b) == InSync {
		return nil
	}
	*n++
	select {
	case foundc <- found{rel: f.Path, mtime: f.Mtime, unbased: b == nil, size: f.Size}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// missing reports the index entries under dir the walk did not see; the
// worker's fresh stat sorts out deletes from misses. The root's marker is
// checked first, so an unmounted dataset never gets here.
func (sc *scanner) missing(ctx context.Context, dir string, seen map[string]struct{}, foundc chan<- found, n *int) error {
	var gone []string
	tracked := 0
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	err := sc.index.ForEach(func(p string, e index.Entry) error {
		if prefix != "" && !strings.HasPrefix(p, prefix) {
			return nil
		}
		tracked++
		if _, ok := seen[p]; !ok && !e.LocalGone {
			gone = append(gone, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if dir == "" && len(seen) == 0 && tracked > 0 {
		// The marker proved the root: a real mass delete, which the guard holds.
		sc.log.Warn().Int("tracked", tracked).Msg("the share is empty: every tracked file was deleted on the share")
	}
	for _, p := range gone {
		*n++
		select {
		case foundc <- found{rel: p}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// scanQueue is the scans still to ask for: a full scan supersedes every
// directory scan; one runs at a time. Loop goroutine only.
type scanQueue struct {
	full bool                // a full scan is wanted
	dirs map[string]struct{} // directories to scan
	busy bool                // the scanner has a scan
}

// newScanQueue returns a queue whose first scan is a full one.
func newScanQueue() *scanQueue { return &scanQueue{full: true, dirs: map[string]struct{}{}} }

func (q *scanQueue) wantFull() { q.full = true }

func (q *scanQueue) wantDir(dir string) { q.dirs[dir] = struct{}{} }

// next takes the scan to hand the free scanner ("" is full); busy until done.
func (q *scanQueue) next() (dir string, ok bool) {
	if q.busy {
		return "", false
	}
	switch {
	case q.full:
		q.full = false
		clear(q.dirs)
	case len(q.dirs) > 0:
		for d := range q.dirs {
			dir = d
			break
		}
		delete(q.dirs, dir)
	default:
		return "", false
	}
	q.busy = true
	return dir, true
}

func (q *scanQueue) done() { q.busy = false }
