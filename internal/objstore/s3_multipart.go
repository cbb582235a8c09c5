package objstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Upload is an open (neither completed nor aborted) multipart upload.
type Upload struct {
	Key       string // relative to the store's prefix
	UploadID  string
	Initiated time.Time
}

// ListMultipartUploads returns the open multipart uploads under the store
// prefix, oldest first as the server orders them. It lists bucket-wide and
// filters here, because MinIO treats a ListMultipartUploads prefix as an
// exact key (see the package documentation). Safe for concurrent use.
func (s *S3) ListMultipartUploads(ctx context.Context) ([]Upload, error) {
	if s.members != nil {
		var all []Upload
		err := s.onEach(true, func(e *S3) error {
			ups, err := e.ListMultipartUploads(ctx)
			all = append(all, ups...)
			return err
		})
		return all, err
	}

	var (
		uploads             []Upload
		keyMarker, idMarker *string
	)
	for {
		out, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{
			Bucket:         aws.String(s.opts.Bucket),
			EncodingType:   s3types.EncodingTypeUrl,
			KeyMarker:      keyMarker,
			UploadIdMarker: idMarker,
		})
		if err != nil {
			return nil, fmt.Errorf("list multipart uploads in %q: %w", s.opts.Bucket, err)
		}
		for _, u := range out.Uploads {
			full, err := decodeKey(out.EncodingType, aws.ToString(u.Key))
			if err != nil {
				return nil, fmt.Errorf("list multipart uploads in %q: decode key %q: %w", s.opts.Bucket, aws.ToString(u.Key), err)
			}
			key, ok := strings.CutPrefix(full, s.opts.Prefix)
			if !ok {
				continue
			}
			uploads = append(uploads, Upload{Key: key, UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
		if !aws.ToBool(out.IsTruncated) {
			return uploads, nil
		}
		// The marker comes back URL-encoded when the response says so;
		// it goes out again as the key it is.
		nextKey, err := decodeKey(out.EncodingType, aws.ToString(out.NextKeyMarker))
		if err != nil {
			return nil, fmt.Errorf("list multipart uploads in %q: decode key marker %q: %w", s.opts.Bucket, aws.ToString(out.NextKeyMarker), err)
		}
		next, nextID := aws.String(nextKey), out.NextUploadIdMarker
		if aws.ToString(next) == aws.ToString(keyMarker) && aws.ToString(nextID) == aws.ToString(idMarker) {
			// A server that says "truncated" without moving on would loop
			// forever; what we have is what we get.
			return uploads, nil
		}
		keyMarker, idMarker = next, nextID
	}
}

// AbortStale aborts the open multipart uploads under the store prefix that
// were initiated more than olderThan ago: the janitor for uploads left
// behind by a crash. olderThan must exceed the longest upload a live Put may
// still be running (an hour is safe). It returns how many it aborted; an
// upload that vanished meanwhile is not an error. Safe for concurrent use.
func (s *S3) AbortStale(ctx context.Context, olderThan time.Duration) (int, error) {
	if s.members != nil {
		// Each endpoint keeps its own uploads: one left on an endpoint
		// that went down is aborted once it answers again.
		var n int
		err := s.onEach(true, func(e *S3) error {
			k, err := e.AbortStale(ctx, olderThan)
			n += k
			return err
		})
		return n, err
	}

	uploads, err := s.ListMultipartUploads(ctx)
	if err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-olderThan)
	var (
		n    int
		errs []error
	)
	for _, u := range uploads {
		if !u.Initiated.Before(cutoff) {
			continue
		}
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket:   aws.String(s.opts.Bucket),
			Key:      aws.String(s.fullKey(u.Key)),
			UploadId: aws.String(u.UploadID),
		})
		switch {
		case err == nil:
			n++
			s.log.Info().Str("key", u.Key).Str("upload_id", u.UploadID).Time("initiated", u.Initiated).
				Msg("aborted stale multipart upload")
		case isCode(err, "NoSuchUpload"):
		default:
			errs = append(errs, fmt.Errorf("abort multipart upload %q (%s): %w", u.Key, u.UploadID, err))
			if ctx.Err() != nil {
				return n, errors.Join(errs...)
			}
		}
	}
	return n, errors.Join(errs...)
}
