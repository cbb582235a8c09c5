package transfer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"genesissync/internal/atomicfile"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
)

// remoteTrasher is what recoverable remote deletes need from the store.
type remoteTrasher interface {
	List(ctx context.Context, prefix string, fn func(objstore.Object) error) error
	Head(ctx context.Context, key string) (objstore.Object, error)
	Delete(ctx context.Context, key string) error
	DeleteIfMatch(ctx context.Context, key, etag string) error
	Copy(ctx context.Context, src, dst, ifMatch string) (objstore.Object, error)
	Versioning(ctx context.Context) (bool, error)
}

var _ remoteTrasher = (*objstore.S3)(nil)

// Trash carries out deletes recoverably: a share file is renamed into
// layout.TrashDir/<date>/; in the bucket, versioning keeps the old version
// behind a delete marker, else a server-side copy under
// layout.TrashDir/<date>/ precedes the delete. Safe for concurrent use.
type Trash struct {
	root  string
	store remoteTrasher
	now   func() time.Time

	mu          sync.Mutex
	versioning  bool
	versionedAt time.Time
}

// NewTrash returns the trash of the share at root and its bucket target.
func NewTrash(root string, store remoteTrasher) *Trash {
	return &Trash{root: root, store: store, now: time.Now}
}

// ErrChanged marks a delete refused because the file or object is no
// longer the version the delete was proven against.
var ErrChanged = errors.New("changed since the delete was decided")

// TrashLocal moves the share file rel into the trash, provided it is
// still exactly the version expect describes. Parent directories are left
// in place (a studio's folder structure is theirs).
func (t *Trash) TrashLocal(ctx context.Context, rel string, expect scan.File) (string, error) {
	if err := atomicfile.CheckPath(t.root, rel); err != nil {
		return "", fmt.Errorf("trash %q: %w", rel, err)
	}
	root, err := os.OpenRoot(t.root)
	if err != nil {
		return "", fmt.Errorf("trash %q: %w", rel, err)
	}
	defer root.Close()
	fi, err := root.Lstat(rel)
	if err != nil {
		return "", fmt.Errorf("trash %q: %w", rel, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("trash %q: %w", rel, scan.ErrNotRegular)
	}
	if got, _ := scan.Stat(t.root, rel); !got.SameVersion(expect) {
		return "", fmt.Errorf("trash %q: %w", rel, ErrChanged)
	}
	dst, err := t.freeName(root, path.Join(layout.TrashDir, t.now().Format("2006-01-02"), rel))
	if err != nil {
		return "", fmt.Errorf("trash %q: %w", rel, err)
	}
	if err := root.MkdirAll(path.Dir(dst), 0o700); err != nil {
		return "", fmt.Errorf("trash %q: %w", rel, err)
	}
	if err := root.Rename(rel, dst); err != nil {
		return "", fmt.Errorf("trash %q: %w", rel, err)
	}
	return dst, nil
}

func (t *Trash) freeName(root *os.Root, p string) (string, error) {
	for i := 0; i < 1000; i++ {
		cand := p
		if i > 0 {
			cand = fmt.Sprintf("%s.%d", p, i)
		}
		if _, err := root.Lstat(cand); errors.Is(err, fs.ErrNotExist) {
			return cand, nil
		}
	}
	return "", fmt.Errorf("no free trash name for %q", p)
}

// TrashRemote deletes the object at key recoverably if it still has etag,
// and returns where it can be found: "version" or the trash key.
func (t *Trash) TrashRemote(ctx context.Context, key, etag string) (string, error) {
	versioned, err := t.versioned(ctx)
	if err != nil {
		return "", err
	}
	o, err := t.store.Head(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		return "", nil // already gone: nothing to do
	}
	if err != nil {
		return "", err
	}
	if o.ETag != etag {
		return "", fmt.Errorf("trash object %q: %w", key, ErrChanged)
	}
	where := "version " + o.VersionID
	if !versioned {
		where = path.Join(layout.TrashDir, t.now().UTC().Format("2006-01-02"), key)
		if _, err := t.store.Copy(ctx, key, where, etag); err != nil {
			if errors.Is(err, objstore.ErrPreconditionFailed) {
				return "", fmt.Errorf("trash object %q: %w: %w", key, ErrChanged, err)
			}
			return "", fmt.Errorf("trash object %q: %w", key, err)
		}
	}
	// Only the version the delete was decided on: a web app's save
	// between the HEAD and here stays (where the server honors If-Match
	// on DeleteObject; MinIO ignores it).
	if err := t.store.DeleteIfMatch(ctx, key, etag); err != nil {
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			return "", fmt.Errorf("trash object %q: %w: %w", key, ErrChanged, err)
		}
		return "", err
	}
	return where, nil
}

// versioned caches the bucket's versioning status for ten minutes.
func (t *Trash) versioned(ctx context.Context) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if time.Since(t.versionedAt) < 10*time.Minute {
		return t.versioning, nil
	}
	v, err := t.store.Versioning(ctx)
	if err != nil {
		return false, err
	}
	t.versioning, t.versionedAt = v, time.Now()
	return v, nil
}

// Expire removes the layout.TrashDir/<date>/ folders and objects older
// than retention on both sides and returns how many it removed. Today's
// trash is never removed.
func (t *Trash) Expire(ctx context.Context, retention time.Duration) (int, int, error) {
	cutoff := t.now().Add(-retention)
	expired := func(day string) bool {
		d, err := time.Parse("2006-01-02", day)
		return err == nil && d.Add(24*time.Hour).Before(cutoff)
	}
	folders := 0
	var errs []error
	if root, err := os.OpenRoot(t.root); err == nil {
		entries, err := fs.ReadDir(root.FS(), layout.TrashDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		for _, e := range entries {
			if e.IsDir() && expired(e.Name()) {
				if err := root.RemoveAll(path.Join(layout.TrashDir, e.Name())); err != nil {
					errs = append(errs, err)
					continue
				}
				folders++
			}
		}
		root.Close()
	} else {
		errs = append(errs, err)
	}
	objects := 0
	if t.store != nil {
		var old []string
		err := t.store.List(ctx, layout.TrashDir+"/", func(o objstore.Object) error {
			rest := o.Key[len(layout.TrashDir)+1:]
			if i := strings.IndexByte(rest, '/'); i > 0 && expired(rest[:i]) {
				old = append(old, o.Key)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		for _, k := range old {
			if err := t.store.Delete(ctx, k); err != nil {
				errs = append(errs, err)
				continue
			}
			objects++
		}
	}
	return folders, objects, errors.Join(errs...)
}
