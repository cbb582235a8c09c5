// Package periodic runs a step at once and then on a fixed period until
// its context ends: the loop of every watcher and prober in the daemon,
// written once so that each of them says only what it does per period.
package periodic

import (
	"context"
	"time"
)

// Run calls step at once and then every period until ctx ends; no step
// starts once ctx has ended. A step that overruns the period delays the
// next one rather than piling up (time.Ticker drops the ticks it could
// not deliver).
func Run(ctx context.Context, period time.Duration, step func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		step()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ctx.Err() != nil {
				return
			}
		}
	}
}
