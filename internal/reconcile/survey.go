package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/index"
	"genesissync/internal/keymap"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
)

// Survey is the plan of a full pass, decided by the pass's own code with
// nothing carried out: what `genesissync adopt --dry-run` prints. It is a
// value.
type Survey struct {
	// IdenticalBy* are paths on both sides without a base, proven equal
	// (by our metadata, the ETag, or reading the object) and adopted.
	IdenticalByMetadata Tally `json:"identical_by_metadata"`
	IdenticalByETag     Tally `json:"identical_by_etag"`
	IdenticalByReading  Tally `json:"identical_by_reading"`
	// Different are paths whose two sides hold other bytes: each becomes
	// a conflict (both versions kept).
	Different Tally `json:"different"`
	// OnlyLocal are uploaded, OnlyRemote downloaded.
	OnlyLocal  Tally `json:"only_local"`
	OnlyRemote Tally `json:"only_remote"`
	// InSync are paths the index already knows as synced and unchanged;
	// Changed are known paths with a change to carry either way; Deletes
	// are proven deletes (still subject to the mass-delete guard).
	InSync  Tally `json:"in_sync"`
	Changed Tally `json:"changed"`
	Deletes Tally `json:"deletes"`
	// Refused are names that cannot cross (keymap's reasons); Waiting
	// are files being written now (inside the settle window) or that
	// failed to be read, with Errors naming a few.
	Refused Tally `json:"refused"`
	Waiting Tally `json:"waiting"`
	// BytesRead is what reading objects for a proof took from the bucket.
	BytesRead int64 `json:"bytes_read"`
	// Conflicts, RefusedPaths and Errors name the first paths of each
	// (at most 100).
	Conflicts    []string `json:"conflicts,omitempty"`
	RefusedPaths []string `json:"refused_paths,omitempty"`
	Errors       []string `json:"errors,omitempty"`
}

// Tally counts files and their bytes.
type Tally struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

func (t *Tally) add(n int64) { t.Files++; t.Bytes += n }

// Survey decides every path as a full pass would and carries out nothing:
// no transfer, delete, backfill or index write; it only reads what the
// proofs need. Run it instead of the pipeline (Run), never beside it.
func (s *Share) Survey(ctx context.Context) (Survey, error) {
	var sv Survey
	if err := s.root.ok(ctx); err != nil {
		return sv, err
	}
	paths := map[string]struct{}{}
	err := scan.Walk(ctx, s.opts.Root, "", s.opts.Matcher, func(f scan.File) error {
		paths[f.Path] = struct{}{}
		return nil
	})
	if err != nil {
		return sv, fmt.Errorf("survey: walk the share: %w", err)
	}
	folder := keymap.NewFolder()
	err = s.opts.Remote.List(ctx, "", func(o objstore.Object) error {
		if layout.IsInternal(o.Key) {
			return nil
		}
		rel, err := keymap.LocalPath(o.Key)
		if errors.Is(err, keymap.ErrDirMarker) || err == nil && s.opts.Matcher.ExcludedPath(rel) {
			return nil
		}
		if err == nil {
			err = folder.Add(rel)
		}
		if err != nil {
			sv.Refused.add(o.Size)
			sv.RefusedPaths = appendCapped(sv.RefusedPaths, o.Key+": "+err.Error(), maxListed)
			return nil
		}
		paths[rel] = struct{}{}
		return nil
	})
	if err != nil {
		return sv, fmt.Errorf("survey: list bucket: %w", err)
	}
	err = s.opts.Index.ForEach(func(p string, _ index.Entry) error {
		paths[p] = struct{}{}
		return nil
	})
	if err != nil {
		return sv, fmt.Errorf("survey: read index: %w", err)
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)

	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Uploaders)
	for _, rel := range sorted {
		g.Go(func() error {
			if s.opts.Matcher.ExcludedPath(rel) {
				return nil // an index entry of a name excluded since
			}
			r, in, key, ok := s.gather(job{rel: rel})
			var a Action
			if ok {
				a, ok = s.decide(gctx, &r, &in, key)
			}
			if err := gctx.Err(); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			sv.BytesRead += r.readBytes
			if !ok {
				size := int64(0)
				if in.Local != nil {
					size = in.Local.Size
				}
				if r.out == outRefused {
					sv.Refused.add(size)
					sv.RefusedPaths = appendCapped(sv.RefusedPaths, rel+": "+r.err.Error(), maxListed)
					return nil
				}
				sv.Waiting.add(size)
				if !errors.Is(r.err, errNotSettled) {
					sv.Errors = appendCapped(sv.Errors, r.err.Error(), maxListed)
				}
				return nil
			}
			sv.count(rel, a, r.proof, in)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return sv, err
	}
	sort.Strings(sv.Conflicts)
	return sv, nil
}

// count files one decided path under its heading.
func (sv *Survey) count(rel string, a Action, p proof, in Input) {
	size := int64(0)
	switch {
	case in.Local != nil:
		size = in.Local.Size
	case in.Remote != nil:
		size = in.Remote.Size
	case in.Base != nil:
		size = in.Base.Size
	}
	switch a {
	case Adopt:
		switch p {
		case proofMetadata:
			sv.IdenticalByMetadata.add(size)
		case proofETag:
			sv.IdenticalByETag.add(size)
		case proofReading:
			sv.IdenticalByReading.add(size)
		default:
			sv.InSync.add(size) // a touch: the stat is refreshed
		}
	case Conflict:
		sv.Different.add(size)
		sv.Conflicts = appendCapped(sv.Conflicts, rel, maxListed)
	case Upload:
		if in.Base == nil && in.Remote == nil {
			sv.OnlyLocal.add(size)
		} else {
			sv.Changed.add(size)
		}
	case Download:
		if in.Base == nil && in.Local == nil {
			sv.OnlyRemote.add(size)
		} else {
			sv.Changed.add(size)
		}
	case DeleteLocal, DeleteRemote:
		sv.Deletes.add(size)
	case Nothing, Forget, KeepDeleted:
		sv.InSync.add(size)
	}
}
