package restore

import (
	"context"
	"errors"
	"io"
	"strings"

	"genesissync/internal/index"
	"genesissync/internal/keymap"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
)

// Bucket is the part of the object store that verify and restore read.
type Bucket interface {
	Head(ctx context.Context, key string) (objstore.Object, error)
	Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error)
	List(ctx context.Context, prefix string, fn func(objstore.Object) error) error
}

// Versions is what a point-in-time restore needs besides Bucket.
type Versions interface {
	Versioning(ctx context.Context) (bool, error)
	ListVersions(ctx context.Context, prefix string, fn func(objstore.Version) error) error
	GetVersion(ctx context.Context, key, versionID string) (io.ReadCloser, objstore.Object, error)
	HeadVersion(ctx context.Context, key, versionID string) (objstore.Object, error)
}

var (
	_ Bucket   = (*objstore.S3)(nil)
	_ Versions = (*objstore.S3)(nil)
	_ Bucket   = (*objstore.Memory)(nil)
)

// Index is the part of a share's index that verify reads.
type Index interface {
	ForEach(fn func(path string, e index.Entry) error) error
}

// IndexWriter is the part of a share's index a cold-boot restore writes.
type IndexWriter interface {
	Empty() (bool, error)
	Put(path string, e index.Entry) error
}

var _ IndexWriter = (*index.Share)(nil)

// OpenFiles says whether an SMB client holds a share path open; a
// reconcile.OpenFileCache fits. Open must fail closed (say true) when it
// cannot tell.
type OpenFiles interface {
	Open(ctx context.Context, rel string) bool
}

// classify maps a bucket key to its share path; ok is false for the
// appliance's objects, directory markers, excluded and refused names
// (refused then set).
func classify(key string, m *scan.Matcher) (rel string, ok bool, refused error) {
	if layout.IsInternal(key) {
		return "", false, nil
	}
	rel, err := keymap.LocalPath(key)
	switch {
	case errors.Is(err, keymap.ErrDirMarker):
		return "", false, nil
	case err != nil:
		return "", false, err
	case m != nil && m.ExcludedPath(rel):
		return "", false, nil
	}
	return rel, true, nil
}

// reservedPath reports whether a share path is in the appliance's own
// namespace (marker, trash, temp files) in any of its segments.
func reservedPath(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(strings.ToLower(seg), layout.ReservedPrefix) {
			return true
		}
	}
	return false
}
