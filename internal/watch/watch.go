package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// Change says what the watcher saw. It takes exactly one of three forms:
//
//	{Path: "a/b.mp3"}       something at this path was created, written, closed, had its
//	                        attributes or times changed, was removed, or was renamed to or from here
//	{Path: "a", Dir: true}  rescan directory "a" and everything below it: a new or
//	                        moved-in directory, a removed or moved-away one, or
//	                        too many changes inside it (see Options.DirCollapse)
//	{Full: true}            rescan the whole share: queue overflow, a watcher
//	                        error, too many changes (see Options.FullCollapse)
//
// Path is share-relative, slash-separated and cleaned; it is never empty,
// never absolute and never starts with "../". A Change is a hint to look, not
// a verdict: the path may already be gone, or unchanged, when it is looked at.
// A Dir or Full rescan covers ignored names too; the rescan applies its own
// ignore rules. Change is a plain value, safe to copy and share.
type Change struct {
	Path string
	Dir  bool
	Full bool
}

// Defaults for the zero values of Options.
const (
	DefaultQuiet        = 200 * time.Millisecond
	DefaultMaxDelay     = 2 * time.Second
	DefaultDirCollapse  = 64
	DefaultFullCollapse = 4096
)

// Options configure a Watcher. Only Root is required. New copies them; later
// changes have no effect.
type Options struct {
	// Root is the share root, an existing directory. A relative path is made
	// absolute and symbolic links in it are resolved once, in New.
	Root string

	// Ignore, when set, names paths that are neither reported nor watched
	// (our own temp names, for example). rel is share-relative and
	// slash-separated; dir says whether rel is a directory. When the kind
	// cannot be known, for the removal of something that was not a watched
	// directory, dir is false. Ignore is called from the goroutine running
	// New or Run, never concurrently, and must not block.
	Ignore func(rel string, dir bool) bool

	// Quiet is the batch window: a batch is delivered once no new event has
	// arrived for Quiet; 0 means DefaultQuiet. MaxDelay bounds the wait under
	// a constant stream of events: a batch is delivered at most MaxDelay
	// after its first event; 0 means DefaultMaxDelay.
	Quiet    time.Duration
	MaxDelay time.Duration

	// DirCollapse: more than this many distinct entries pending directly
	// inside one directory collapse to a Dir change for it (a collapse of the
	// share root is a Full change). 0 means DefaultDirCollapse.
	DirCollapse int

	// FullCollapse: more than this many pending changes in one batch, after
	// directory collapsing, collapse to a Full change; it also bounds the
	// memory a batch can take while the consumer is slow. 0 means
	// DefaultFullCollapse.
	FullCollapse int
}

var (
	// ErrWatchLimit is wrapped by errors from New when the inotify watch limit
	// (one watch per directory of the share) was reached.
	ErrWatchLimit = errors.New("inotify watch limit reached (raise sysctl fs.inotify.max_user_watches)")

	// ErrRootGone is wrapped by the error Run returns when the share root
	// itself was removed or renamed; the last batch delivered before it is a
	// Full change. The owner decides when to create a new Watcher.
	ErrRootGone = errors.New("share root removed or renamed")
)

// Watcher watches one share tree. New, then Run once; Close may be called
// from any goroutine at any time and is only needed when Run will not be
// called or must be stopped without its context.
type Watcher struct {
	root string // absolute, cleaned, symlinks resolved
	opts Options
	log  zerolog.Logger
	fs   *fsnotify.Watcher

	// Owned by the goroutine running New, then by the one running Run.
	tree        *tree
	limitLogged bool

	running atomic.Bool
}

// New checks the share root, creates an inotify instance and watches every
// directory under the root, not following symbolic links and skipping
// ignored directories. It fails when the root is missing or not a
// directory, and when the inotify watch limit is hit (wrapping
// ErrWatchLimit). A subdirectory that cannot be watched for another reason
// is logged and left to the full scan.
//
// New adds component=watch and root to log.
func New(opts Options, log zerolog.Logger) (*Watcher, error) {
	if opts.Root == "" {
		return nil, errors.New("watch: share root not set")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("watch: share root %q: %w", opts.Root, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("watch: share root %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("watch: share root %s is not a directory", root)
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return nil, fmt.Errorf("watch: share root %s: %w", opts.Root, err)
	}

	if opts.Quiet <= 0 {
		opts.Quiet = DefaultQuiet
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.DirCollapse <= 0 {
		opts.DirCollapse = DefaultDirCollapse
	}
	if opts.FullCollapse <= 0 {
		opts.FullCollapse = DefaultFullCollapse
	}
	opts.Root = root

	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		if errors.Is(err, syscall.EMFILE) {
			return nil, fmt.Errorf("watch %s: create inotify instance (check sysctl fs.inotify.max_user_instances and the open-file limit): %w", root, err)
		}
		return nil, fmt.Errorf("watch %s: create inotify instance: %w", root, err)
	}
	w := &Watcher{
		root: root,
		opts: opts,
		log:  log.With().Str("component", "watch").Str("root", root).Logger(),
		fs:   fsw,
		tree: newTree(),
	}
	start := time.Now()
	if err := w.watchTree(""); err != nil {
		_ = fsw.Close()
		return nil, err
	}
	w.log.Debug().Int("dirs", len(w.tree.dirs)).Dur("took", time.Since(start)).Msg("watches added")
	return w, nil
}

// Close releases the inotify instance, for a Watcher whose Run will never
// be called (Run closes it itself). Safe to call from any goroutine, more
// than once.
func (w *Watcher) Close() error {
	return w.fs.Close()
}

// Run delivers batches of changes on out until ctx is cancelled, then closes
// the inotify instance and returns nil. A batch is de-duplicated, collapsed
// (see Options) and sorted by Path, or is exactly one Full change; it is
// delivered once events have been quiet for Options.Quiet, or MaxDelay after
// its first event. Events keep being read while a send on out is blocked, so
// a slow consumer makes batches larger (up to a Full change), not the kernel
// queue overflow. Every send also watches ctx; pending changes are dropped on
// cancel (the consumer's startup scan covers them).
//
// Run returns an error wrapping ErrRootGone, after delivering a Full change,
// when the share root is removed or renamed, and an error when the inotify
// instance was closed underneath it (Close). Run may be called once.
func (w *Watcher) Run(ctx context.Context, out chan<- []Change) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("watch: Run called more than once")
	}
	defer func() {
		if err := w.fs.Close(); err != nil {
			w.log.Debug().Err(err).Msg("close inotify")
		}
	}()
	w.log.Info().Int("dirs", len(w.tree.dirs)).Msg("watching share")

	var (
		p     = newPending(w.opts.DirCollapse, w.opts.FullCollapse)
		timer = time.NewTimer(time.Hour)

		first, last time.Time       // first and latest event of what p holds
		batch       []Change        // taken from p, waiting for the consumer
		send        chan<- []Change // out while batch waits, else nil
		final       error           // returned once batch is delivered
	)
	timer.Stop()
	defer timer.Stop()

	// touch records an event that p now holds or covers.
	touch := func() {
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		last = now
		timer.Reset(w.wait(first, last))
	}
	rootGone := func(why string) {
		w.log.Error().Msg("share root " + why + "; watcher stops after a full rescan is delivered")
		p.take()
		batch, send = []Change{{Full: true}}, out
		final = fmt.Errorf("watch %s: %w", w.root, ErrRootGone)
	}

	for {
		var tick <-chan time.Time
		if batch == nil && !p.empty() {
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return nil

		case ev, ok := <-w.fs.Events:
			if !ok {
				return w.closedErr(ctx)
			}
			switch w.handle(ev, p) {
			case keep:
				touch()
			case gone:
				rootGone("removed or renamed")
			}

		case err, ok := <-w.fs.Errors:
			if !ok {
				return w.closedErr(ctx)
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn().Msg("inotify queue overflowed (sysctl fs.inotify.max_queued_events); full rescan")
			} else {
				w.log.Error().Err(err).Msg("inotify error; full rescan")
			}
			p.addFull()
			touch()
			// Directories created while events were lost have no watch yet.
			if err := w.resync(); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					rootGone("missing")
				} else {
					w.logWatchErr(err)
				}
			}

		case <-tick:
			batch = p.take()
			first = time.Time{}
			if batch != nil {
				send = out
			}

		case send <- batch:
			w.log.Debug().Int("changes", len(batch)).Bool("full", batch[0].Full).Msg("batch delivered")
			if final != nil {
				return final
			}
			batch, send = nil, nil
			if !p.empty() {
				timer.Reset(w.wait(first, last))
			}
		}
	}
}

// wait returns how long until a batch whose first and latest events are
// first and last is due.
func (w *Watcher) wait(first, last time.Time) time.Duration {
	due := last.Add(w.opts.Quiet)
	if byMax := first.Add(w.opts.MaxDelay); byMax.Before(due) {
		due = byMax
	}
	return time.Until(due)
}

func (w *Watcher) closedErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("watch %s: inotify instance closed", w.root)
}

type verdict int

const (
	drop verdict = iota // not ours: ignored, outside the share, a directory's attributes
	keep                // recorded in (or covered by) the pending batch
	gone                // the share root itself was removed or renamed
)

// handle turns one fsnotify event into pending changes and watch updates.
func (w *Watcher) handle(ev fsnotify.Event, p *pending) verdict {
	rel, ok := w.relOf(ev.Name)
	if !ok {
		w.log.Debug().Str("name", ev.Name).Msg("event outside the share root dropped")
		return drop
	}
	if e := w.log.Trace(); e.Enabled() {
		e.Str("op", ev.Op.String()).Str("path", rel).Msg("event")
	}
	if rel == "" {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			return gone
		}
		return drop
	}
	wasDir := w.tree.has(rel)

	switch {
	case ev.Has(fsnotify.Create):
		return w.created(rel, wasDir, p)

	case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
		if wasDir {
			w.unwatch(rel)
			p.addDir(rel)
			return keep
		}
		if w.ignored(rel, false) {
			return drop
		}
		p.addFile(rel)
		return keep

	case ev.Has(fsnotify.Write), ev.Has(fsnotify.Chmod):
		if wasDir || w.ignored(rel, false) {
			return drop
		}
		p.addFile(rel)
		return keep
	}
	return drop
}

// created handles a Create (or moved-in) event for rel.
func (w *Watcher) created(rel string, wasDir bool, p *pending) verdict {
	fi, err := os.Lstat(w.abs(rel))
	if err == nil && fi.IsDir() {
		if w.ignored(rel, true) {
			return drop
		}
		// Always walk, even when rel is already watched: a directory
		// removed and re-created at the same path needs its new watches, and
		// Add is a no-op for a watch that exists.
		if err := w.watchTree(rel); err != nil {
			w.logWatchErr(err)
		}
		p.addDir(rel)
		return keep
	}
	if wasDir { // a watched directory was replaced by something else
		w.unwatch(rel)
		p.addDir(rel)
		return keep
	}
	if w.ignored(rel, false) {
		return drop
	}
	p.addFile(rel)
	return keep
}

// watchTree adds watches for the directory top (share-relative) and every
// directory below it that is not ignored, parents before children and each
// watch before its directory is listed, so that nothing created meanwhile is
// missed. It returns an error when top cannot be watched or the watch limit
// is hit; other failures below top are logged and skipped.
func (w *Watcher) watchTree(top string) error {
	topAbs := w.abs(top)
	return filepath.WalkDir(topAbs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == topAbs {
				return fmt.Errorf("watch %s: %w", p, err)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				w.log.Warn().Err(err).Str("dir", p).Msg("cannot list directory; its changes are left to the full scan")
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		rel, ok := w.relOf(p)
		if !ok {
			return filepath.SkipDir
		}
		if rel != top && w.ignored(rel, true) {
			return filepath.SkipDir
		}
		if err := w.fs.Add(p); err != nil {
			switch {
			case errors.Is(err, syscall.ENOSPC):
				return addErr(p, err)
			case p == topAbs:
				return addErr(p, err)
			case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
				// Gone or replaced since it was listed; its parent's
				// watch reports that.
			default:
				w.log.Warn().Err(err).Str("dir", p).Msg("cannot watch directory; its changes are left to the full scan")
			}
			return filepath.SkipDir
		}
		w.tree.add(rel)
		return nil
	})
}

// addErr wraps a failure to add the watch on dir, naming the sysctl when the
// watch limit was hit.
func addErr(dir string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("watch %s: %w: %w", dir, ErrWatchLimit, err)
	}
	return fmt.Errorf("watch %s: %w", dir, err)
}

// logWatchErr logs a watchTree failure inside Run; the watch limit is logged
// at error level once per Watcher, then at debug.
func (w *Watcher) logWatchErr(err error) {
	switch {
	case errors.Is(err, ErrWatchLimit):
		if !w.limitLogged {
			w.limitLogged = true
			w.log.Error().Err(err).Msg("new directories are not watched; their changes are left to the full scan")
			return
		}
		w.log.Debug().Err(err).Msg("new directory not watched")
	case errors.Is(err, fs.ErrNotExist):
		w.log.Debug().Err(err).Msg("directory vanished before it was watched")
	default:
		w.log.Warn().Err(err).Msg("cannot watch directory; its changes are left to the full scan")
	}
}

// unwatch drops the watches of rel and every directory below it. The kernel
// has usually dropped them already (deleted), but a renamed directory keeps
// its watches under their old names, and those must not report stale paths.
func (w *Watcher) unwatch(rel string) {
	for _, d := range w.tree.removeSubtree(rel) {
		if err := w.fs.Remove(w.abs(d)); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
			w.log.Trace().Err(err).Str("dir", d).Msg("remove watch")
		}
	}
}

// resync walks the whole share again after events were lost: directories
// that appeared get watches, and watches of directories that disappeared are
// dropped. On error nothing is dropped.
func (w *Watcher) resync() error {
	old := w.tree
	w.tree = newTree()
	err := w.watchTree("")
	for d := range old.dirs {
		if w.tree.has(d) {
			continue
		}
		if err != nil {
			w.tree.add(d)
			continue
		}
		if rerr := w.fs.Remove(w.abs(d)); rerr != nil && !errors.Is(rerr, fsnotify.ErrNonExistentWatch) {
			w.log.Trace().Err(rerr).Str("dir", d).Msg("remove watch")
		}
	}
	return err
}

func (w *Watcher) ignored(rel string, dir bool) bool {
	return w.opts.Ignore != nil && w.opts.Ignore(rel, dir)
}

func (w *Watcher) abs(rel string) string {
	if rel == "" {
		return w.root
	}
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

// relOf returns the share-relative, slash-separated, cleaned form of an
// absolute path under the root ("" for the root itself), or false when name
// is not under the root.
func (w *Watcher) relOf(name string) (string, bool) {
	if name == w.root {
		return "", true
	}
	prefix := w.root
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if !strings.HasPrefix(name, prefix) {
		return "", false
	}
	rel := path.Clean(filepath.ToSlash(name[len(prefix):]))
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || strings.HasPrefix(rel, "/") {
		return "", false
	}
	return rel, true
}
