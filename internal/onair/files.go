package onair

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"

	"genesissync/internal/index"
	"genesissync/internal/keymap"
	"genesissync/internal/objstore"
	"genesissync/internal/readiness"
	"genesissync/internal/reconcile"
	"genesissync/internal/scan"
)

// Bucket is what a check asks of the share's bucket: whether an object
// is there (Head), and which keys a folder holds (List), for a name the
// playlist spells in another case than the bucket.
type Bucket interface {
	Head(ctx context.Context, key string) (objstore.Object, error)
	List(ctx context.Context, prefix string, fn func(objstore.Object) error) error
}

// Index is what a check reads of the share's index.
type Index interface {
	Get(path string) (index.Entry, bool, error)
}

// shareFiles is one share as one check sees it: its root, index, bucket
// and the pipeline's status taken when the check began.
type shareFiles struct {
	root   *os.Root
	dir    string // the root's path, for scan.Stat
	index  Index
	remote Bucket
	status reconcile.Status
	// dirs caches folder listings for the case-insensitive lookup, by
	// share-relative folder ("" is the root); nil entry: unreadable.
	dirs map[string][]string
}

// files implements readiness.Files over the shares of one check.
type files struct {
	ctx    context.Context
	shares map[string]*shareFiles
}

var _ readiness.Files = (*files)(nil)

// Track judges one track. See readiness.Files.
func (f *files) Track(share, rel string) (readiness.TrackState, string) {
	sf := f.shares[share]
	if sf == nil {
		return readiness.Missing, ""
	}
	if reconcile.IsConflictCopy(rel) {
		return readiness.Conflict, rel
	}
	stored, ok := sf.lookup(rel)
	if !ok {
		return sf.absent(f.ctx, rel)
	}
	st, err := scan.Stat(sf.dir, stored)
	if err != nil { // a folder, a symlink, or gone since the lookup
		return readiness.Missing, stored
	}
	for _, c := range sf.status.Conflicts {
		if c.Path == stored {
			return readiness.Conflict, stored
		}
	}
	e, found, err := sf.index.Get(stored)
	// Indexed, not PlanLocal: a file just uploaded is racy (re-hashed
	// once by the next scan), yet it is the version in the bucket.
	if err != nil || !found || e.LocalGone || !reconcile.Indexed(st, e) {
		return readiness.NotSynced, stored
	}
	return readiness.Ready, stored
}

// absent judges a track that is not on the share: a name the appliance
// refuses, in the bucket (to fetch), or missing.
func (sf *shareFiles) absent(ctx context.Context, rel string) (readiness.TrackState, string) {
	if _, err := keymap.Key(rel); err != nil {
		return readiness.RefusedName, rel
	}
	// Status shares its slices with the pipeline: read them, never append.
	for _, list := range [][]reconcile.Refused{sf.status.Refused, sf.status.RefusedPaths} {
		for _, r := range list {
			if strings.EqualFold(r.Key, rel) {
				return readiness.RefusedName, r.Key
			}
		}
	}
	if _, err := sf.remote.Head(ctx, rel); err == nil {
		return readiness.BucketOnly, rel
	}
	if key, ok := sf.bucketFold(ctx, rel); ok {
		return readiness.BucketOnly, key
	}
	return readiness.Missing, rel
}

// maxFoldListing bounds the listing bucketFold reads for one name.
const maxFoldListing = 10000

// errEnough stops a listing that has found what it looked for, or read
// maxFoldListing keys.
var errEnough = errors.New("enough")

// bucketFold finds rel in the bucket in another case, as Windows would
// find it once it is on the share: it lists rel's folder (as the share
// stores that folder, when it does) and takes the first key equal to rel
// but for case. S3 keys are case-sensitive, so this is the only way; the
// listing is bounded to maxFoldListing keys.
func (sf *shareFiles) bucketFold(ctx context.Context, rel string) (string, bool) {
	dir := path.Dir(rel)
	prefix := ""
	if dir != "." {
		if stored, ok := sf.lookup(dir); ok {
			dir = stored
		}
		prefix = dir + "/"
	}
	found, n := "", 0
	err := sf.remote.List(ctx, prefix, func(o objstore.Object) error {
		if n++; n > maxFoldListing {
			return errEnough
		}
		if strings.EqualFold(o.Key, rel) && path.Dir(o.Key) == path.Dir(prefix+"x") {
			found = o.Key
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return "", false
	}
	return found, found != ""
}

// lookup finds rel on the share as Windows would: the exact name first,
// else each path element matched case-insensitively (the first match in
// name order when several differ only by case). It returns the stored
// path.
func (sf *shareFiles) lookup(rel string) (string, bool) {
	if _, err := sf.root.Lstat(rel); err == nil {
		return rel, true
	}
	stored := ""
	for elem := range strings.SplitSeq(rel, "/") {
		name, ok := sf.match(stored, elem)
		if !ok {
			return "", false
		}
		stored = path.Join(stored, name)
	}
	return stored, true
}

// match is the entry of folder dir whose name equals elem but for case.
func (sf *shareFiles) match(dir, elem string) (string, bool) {
	names, seen := sf.dirs[dir]
	if !seen {
		names = sf.readDir(dir)
		sf.dirs[dir] = names
	}
	for _, n := range names {
		if n == elem {
			return n, true
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, elem) {
			return n, true
		}
	}
	return "", false
}

// readDir lists folder dir of the share, sorted; nil when it cannot be
// read.
func (sf *shareFiles) readDir(dir string) []string {
	d, err := fs.ReadDir(sf.root.FS(), cleanDir(dir))
	if err != nil {
		return nil
	}
	names := make([]string, len(d))
	for i, e := range d {
		names[i] = e.Name()
	}
	return names
}

func cleanDir(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}
