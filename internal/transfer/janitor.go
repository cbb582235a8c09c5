package transfer

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/objstore"
)

// At start every multipart upload initiated before this process is a
// crash's leftover; later only those older than janitorGrace, since newer
// ones may be ours.
const (
	janitorEvery = 30 * time.Minute
	janitorGrace = time.Hour
)

// staleAborter is what the janitor needs of the store.
type staleAborter interface {
	AbortStale(ctx context.Context, olderThan time.Duration) (int, error)
}

var _ staleAborter = (*objstore.S3)(nil)

// Janitor aborts a share's multipart uploads a crash left open and
// removes trash older than the retention, at start and every 30 minutes.
// Failures are logged and retried next round; they never stop the share.
// Run is called once.
type Janitor struct {
	store     staleAborter
	trash     *Trash
	retention time.Duration
	started   time.Time
	every     time.Duration
	log       zerolog.Logger
}

// NewJanitor returns the janitor of share's store and trash; started is
// when this process started. It logs with the share and component=janitor.
func NewJanitor(share string, store staleAborter, trash *Trash, retention time.Duration, started time.Time, log zerolog.Logger) *Janitor {
	return &Janitor{store: store, trash: trash, retention: retention, started: started, every: janitorEvery,
		log: log.With().Str("share", share).Str("component", "janitor").Logger()}
}

// Run cleans up at once and then every 30 minutes until ctx ends. It
// always returns nil.
func (j *Janitor) Run(ctx context.Context) error {
	grace := time.Since(j.started)
	for {
		if !j.round(ctx, grace) {
			return nil
		}
		grace = janitorGrace
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(j.every):
		}
	}
}

// round aborts the uploads initiated more than grace ago and expires the
// trash. It reports false when ctx ended meanwhile.
func (j *Janitor) round(ctx context.Context, grace time.Duration) bool {
	n, err := j.store.AbortStale(ctx, grace)
	switch {
	case ctx.Err() != nil:
		return false
	case err != nil:
		j.log.Warn().Err(err).Msg("cleaning up stale multipart uploads failed; will retry")
	case n > 0:
		j.log.Info().Int("aborted", n).Dur("older_than", grace).Msg("aborted stale multipart uploads")
	}
	folders, objects, err := j.trash.Expire(ctx, j.retention)
	switch {
	case ctx.Err() != nil:
		return false
	case err != nil:
		j.log.Warn().Err(err).Msg("expiring trash failed; will retry")
	case folders+objects > 0:
		j.log.Info().Int("folders", folders).Int("objects", objects).Dur("retention", j.retention).Msg("expired trash")
	}
	return true
}
