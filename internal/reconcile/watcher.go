package reconcile

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/scan"
	"genesissync/internal/watch"
)

// watcherRetry is how long the supervisor waits before starting the
// watcher again after it could not start or stopped (share root missing,
// unmounted, watch limit). Periodic scans keep the share covered
// meanwhile.
const watcherRetry = 10 * time.Second

// watchSupervisor keeps an inotify watcher (internal/watch) running over
// the share root and delivers its batches of changes to the loop. A
// watcher that cannot start or stops is started again after retry: a
// dataset mounted after the daemon started, or unmounted and mounted
// again, gets a fresh one. Events are lost in between, so after every
// restart it calls lost, which asks for a full scan. One goroutine runs
// it (run); failed and lost are called from that goroutine.
type watchSupervisor struct {
	root    string
	matcher *scan.Matcher
	retry   time.Duration
	log     zerolog.Logger
	failed  func(error) // a failure to start or run, for the status
	lost    func()      // events were lost: rescan
}

// run supervises the watcher until ctx ends; it returns nil then.
func (w *watchSupervisor) run(ctx context.Context, changes chan<- []watch.Change) error {
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(w.retry):
			}
		}
		wt, err := watch.New(watch.Options{
			Root:   w.root,
			Ignore: func(rel string, _ bool) bool { return w.matcher.Excluded(rel) },
		}, w.log)
		if err != nil {
			w.failed(err)
			continue
		}
		if !first {
			w.lost()
		}
		err = wt.Run(ctx, changes)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.failed(err)
		}
	}
}

// route hands a batch of the watcher's changes on: an overflow (Full)
// asks for a full scan and a directory (new, moved in, or too many
// changes in it) for a scan of it; a file is a candidate seen by the
// watcher. Loop goroutine only.
func route(batch []watch.Change, scans *scanQueue, note func(found)) {
	for _, ch := range batch {
		switch {
		case ch.Full:
			scans.wantFull()
		case ch.Dir:
			scans.wantDir(ch.Path)
		default:
			note(found{rel: ch.Path, event: true})
		}
	}
}
