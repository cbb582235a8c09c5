package objstore

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Version is one entry of a versioned bucket's history of a key: a stored
// version of the object, or a delete marker (then Size, ETag and the
// hashes are empty). Listing does not return user metadata: SHA256 and
// Mtime are empty; GetVersion and HeadVersion fill them.
type Version struct {
	Object
	// IsLatest marks the key's current version (or current delete marker).
	IsLatest bool
	// DeleteMarker marks a delete: at this time the key stopped existing.
	DeleteMarker bool
}

// ListVersions calls fn for every version and delete marker under the
// store prefix + prefix: keys in lexical order, and for each key its
// versions newest first, as S3 returns them. An error from fn stops the
// listing and is returned unwrapped. On a bucket that never had
// versioning every key has one version with VersionID "null". Safe for
// concurrent use.
func (s *S3) ListVersions(ctx context.Context, prefix string, fn func(Version) error) error {
	p := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{
		Bucket:       aws.String(s.opts.Bucket),
		Prefix:       aws.String(s.fullKey(prefix)),
		EncodingType: s3types.EncodingTypeUrl,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list versions %q: %w", prefix, err)
		}
		// A page holds versions and delete markers in two lists; merge
		// them back into key order, newest first within a key.
		var vs []Version
		for _, v := range page.Versions {
			vs = append(vs, Version{Object: Object{
				Key: aws.ToString(v.Key), Size: aws.ToInt64(v.Size), ETag: unquote(aws.ToString(v.ETag)),
				VersionID: aws.ToString(v.VersionId), LastModified: aws.ToTime(v.LastModified),
			}, IsLatest: aws.ToBool(v.IsLatest)})
		}
		for _, m := range page.DeleteMarkers {
			vs = append(vs, Version{Object: Object{
				Key: aws.ToString(m.Key), VersionID: aws.ToString(m.VersionId), LastModified: aws.ToTime(m.LastModified),
			}, IsLatest: aws.ToBool(m.IsLatest), DeleteMarker: true})
		}
		sortVersions(vs)
		for _, v := range vs {
			full, err := decodeKey(page.EncodingType, v.Key)
			if err != nil {
				return fmt.Errorf("list versions %q: decode key %q: %w", prefix, v.Key, err)
			}
			key, ok := strings.CutPrefix(full, s.opts.Prefix)
			if !ok || key == "" {
				continue
			}
			v.Key = key
			if err := fn(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortVersions orders vs by key, then newest first (a stable order for
// equal times keeps S3's own order).
func sortVersions(vs []Version) {
	for i := 1; i < len(vs); i++ { // insertion sort: pages are small and nearly sorted
		for j := i; j > 0 && versionLess(vs[j], vs[j-1]); j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

func versionLess(a, b Version) bool {
	if a.Key != b.Key {
		return a.Key < b.Key
	}
	return a.LastModified.After(b.LastModified)
}

// GetVersion is Get of one version of key. ErrNotFound when the version
// does not exist. Safe for concurrent use.
func (s *S3) GetVersion(ctx context.Context, key, versionID string) (io.ReadCloser, Object, error) {
	if err := checkKey(s.opts.Prefix, key); err != nil {
		return nil, Object{}, fmt.Errorf("get %q version %q: %w", key, versionID, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket:    aws.String(s.opts.Bucket),
		Key:       aws.String(s.fullKey(key)),
		VersionId: aws.String(versionID),
	})
	if err != nil {
		return nil, Object{}, s.readErr("get version "+versionID+" of", key, err)
	}
	o := describe(key, out.ContentLength, out.ETag, out.VersionId, out.LastModified, out.Metadata)
	return out.Body, o, nil
}

// HeadVersion is Head of one version of key. Safe for concurrent use.
func (s *S3) HeadVersion(ctx context.Context, key, versionID string) (Object, error) {
	if err := checkKey(s.opts.Prefix, key); err != nil {
		return Object{}, fmt.Errorf("head %q version %q: %w", key, versionID, err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:    aws.String(s.opts.Bucket),
		Key:       aws.String(s.fullKey(key)),
		VersionId: aws.String(versionID),
	})
	if err != nil {
		return Object{}, s.readErr("head version "+versionID+" of", key, err)
	}
	return describe(key, out.ContentLength, out.ETag, out.VersionId, out.LastModified, out.Metadata), nil
}

// describe builds the Object of a HEAD or GET response of key.
func describe(key string, size *int64, etag, versionID *string, modified *time.Time, meta map[string]string) Object {
	o := Object{
		Key:          key,
		Size:         aws.ToInt64(size),
		ETag:         unquote(aws.ToString(etag)),
		VersionID:    aws.ToString(versionID),
		LastModified: aws.ToTime(modified),
	}
	applyMetadata(&o, meta)
	return o
}
