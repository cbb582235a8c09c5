package objstore

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// GetUnchecked is Get (versionID "") or GetVersion without the SDK's
// response checksum validation: for callers that check every byte of the
// body themselves against the object's "crc32c" or "sha256" metadata,
// where the SDK's check of a single-part object's stored checksum
// (SHA-256 for the appliance's own uploads) would hash the same bytes a
// second time. A
// caller that finds no "sha256" metadata in the returned Object has
// nothing better to check against and should use Get instead. Safe for
// concurrent use.
func (s *S3) GetUnchecked(ctx context.Context, key, versionID string) (io.ReadCloser, Object, error) {
	if s.members != nil {
		return s.getVia(ctx, func(ctx context.Context, e *S3) (io.ReadCloser, Object, error) {
			return e.GetUnchecked(ctx, key, versionID)
		})
	}

	if err := checkKey(s.opts.Prefix, key); err != nil {
		return nil, Object{}, fmt.Errorf("get %q: %w", key, err)
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.opts.Bucket), Key: aws.String(s.fullKey(key))}
	op := "get"
	if versionID != "" {
		in.VersionId = aws.String(versionID)
		op = "get version " + versionID + " of"
	}
	out, err := s.client.GetObject(ctx, in, func(o *s3.Options) {
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if err != nil {
		return nil, Object{}, s.readErr(op, key, err)
	}
	return out.Body, fromGet(key, out), nil
}
