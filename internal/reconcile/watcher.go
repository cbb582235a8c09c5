package reconcile

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/scan"
	"genesissync/internal/watch"
)

// watcherRetry is the wait before restarting a watcher that failed or
// stopped; periodic scans cover the share meanwhile.
const watcherRetry = 10 * time.Second

// watchSupervisor keeps an inotify watcher running over the share root
// and delivers its batches to the loop, restarting it after retry (a
// dataset mounted late or remounted gets a fresh one) and calling lost,
// a full scan, after each restart. One goroutine runs it and calls failed
// and lost.
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

// route hands a batch on: an overflow asks for a full scan, a directory
// for a scan of it, a file is a candidate. Loop goroutine only.
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
