package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"genesissync/internal/index"
	"genesissync/internal/keymap"
	"genesissync/internal/objstore"
	"genesissync/internal/transfer"
)

// poller lists the bucket every RemoteInterval and reports as candidates
// the objects that differ from the index by size or ETag (new or changed
// in the bucket) and the index entries that the listing lacks (deleted in
// the bucket). A pass where nothing changed makes no per-object request:
// the listing alone (1,000 keys a page) is compared with the index.
// Refused keys are reported and skipped.
func (s *Share) poller(ctx context.Context, foundc chan<- found) error {
	var last string
	for {
		if err := s.pollOnce(ctx, foundc); err != nil && ctx.Err() == nil {
			// The same failure every interval is logged once; the status
			// keeps its time current.
			if err.Error() != last {
				s.fail("", err)
			} else {
				s.failQuiet("", err)
			}
			last = err.Error()
		} else {
			last = ""
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.opts.RemoteInterval):
		}
	}
}

func (s *Share) pollOnce(ctx context.Context, foundc chan<- found) error {
	start := time.Now()
	send := func(rel string) error {
		select {
		case foundc <- found{rel: rel, remote: true}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	// What the share holds by the index; its names come first in the
	// case-collision check, so an existing file keeps its name.
	folder := keymap.NewFolder()
	type tracked struct {
		path     string
		syncedAt time.Time
	}
	var known []tracked
	err := s.opts.Index.ForEach(func(p string, e index.Entry) error {
		known = append(known, tracked{p, e.SyncedAt})
		_ = folder.Add(p)
		return nil
	})
	if err != nil {
		return err
	}

	seen := map[string]struct{}{}
	listed, changed := 0, 0
	marker := false
	var refused []Refused
	err = s.opts.Remote.List(ctx, "", func(o objstore.Object) error {
		if strings.HasPrefix(o.Key, transfer.TrashDir+"/") {
			return nil // recoverable deletes, not share content
		}
		if o.Key == MarkerName {
			marker = true
			return nil
		}
		listed++
		rel, err := keymap.LocalPath(o.Key)
		if errors.Is(err, keymap.ErrDirMarker) {
			return nil
		}
		if err == nil {
			err = folder.Add(rel)
		}
		if err != nil {
			refused = append(refused, refusal(o.Key, err))
			return nil
		}
		seen[rel] = struct{}{}
		b, ok, err := s.opts.Index.Get(rel)
		if err != nil {
			return err
		}
		if ok && !remoteChanged(&b, &o) {
			return nil
		}
		changed++
		return send(rel)
	})
	if err != nil {
		return fmt.Errorf("list bucket: %w", err)
	}
	s.update(func(st *Status) {
		st.RefusedCount = len(refused)
		st.Refused = refused[:min(len(refused), maxListed)]
	})
	for _, r := range refused {
		s.log.Warn().Str("key", r.Key).Str("reason", r.Reason).Str("detail", r.Detail).Msg("object key refused: not written to the share")
	}

	if !marker {
		// The bucket side's marker proves that this listing is the
		// share's target; without it (wrong bucket or prefix, a
		// lifecycle rule, an outage answering empty) missing objects are
		// a fault, never deletes.
		if len(known) > 0 {
			return fmt.Errorf("bucket marker object %q is missing while %d files are tracked: is this the right bucket and prefix? Not treating missing objects as deletes", MarkerName, len(known))
		}
		if err := s.putMarker(ctx); err != nil {
			return err
		}
	}
	// Index entries the listing lacks: deleted in the bucket, or uploaded
	// after the listing passed their key (skipped by SyncedAt). Each is
	// checked again by HEAD before anything is decided.
	gone := 0
	for _, k := range known {
		if _, ok := seen[k.path]; !ok && k.syncedAt.Before(start) {
			gone++
			if err := send(k.path); err != nil {
				return err
			}
		}
	}
	s.log.Debug().Int("listed", listed).Int("changed", changed).Int("gone", gone).Int("refused", len(refused)).
		Dur("took", time.Since(start)).Msg("bucket listed")
	s.update(func(st *Status) { st.LastRemoteList = start })
	return nil
}

// refusal describes a refused key for the status API.
func refusal(key string, err error) Refused {
	var re *keymap.RefusedError
	if errors.As(err, &re) {
		return Refused{Key: key, Reason: string(re.Reason), Detail: re.Detail}
	}
	return Refused{Key: key, Reason: "invalid", Detail: err.Error()}
}

// putMarker writes the bucket side's marker object (first start).
func (s *Share) putMarker(ctx context.Context) error {
	data := []byte(fmt.Sprintf("GenesisSync share %q. This object proves the listing is the share's; do not delete it.\n", s.opts.Name))
	sum := sha256.Sum256(data)
	_, err := s.opts.Remote.Put(ctx, objstore.PutInput{
		Key: MarkerName, Body: bytes.NewReader(data), Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Mtime: time.Now(),
	})
	if err != nil {
		return fmt.Errorf("write bucket marker: %w", err)
	}
	s.log.Info().Str("key", MarkerName).Msg("bucket marker written (first start)")
	return nil
}
