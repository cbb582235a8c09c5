package objstore

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CopyFrom copies the object srcKey of bucket srcBucket, on this store's
// endpoint, to dstKey of this store, server-side: the import of another
// bucket's objects into a share's target without sending their bytes
// again. srcKey is the source's whole key (no prefix of this store
// applied); dstKey is relative to this store's prefix, as every key here.
//
// The copy gets m as its metadata and Content-Type (CopyObject with
// MetadataDirective REPLACE), so that the daemon finds our "sha256" on it
// and adopts it. It happens only while the source still has ETag srcETag
// (x-amz-copy-source-if-match) and only if nothing is at dstKey
// (If-None-Match: *); either condition failing is ErrPreconditionFailed,
// and the caller tells the two apart with a HEAD of dstKey. Servers that
// ignore If-None-Match on CopyObject replace what is there: callers HEAD
// dstKey first, which leaves a window of one request.
//
// The credentials of this store must be able to read the source bucket.
// size is the source's size; objects over MaxCopySize are refused (one
// CopyObject cannot copy them, and there is no multipart copy here).
// Safe for concurrent use.
func (s *S3) CopyFrom(ctx context.Context, srcBucket, srcKey, srcETag, dstKey string, size int64, m Metadata) (Object, error) {
	if s.members != nil {
		return via(ctx, s, true, nil, func(ctx context.Context, e *S3) (Object, error) {
			return e.CopyFrom(ctx, srcBucket, srcKey, srcETag, dstKey, size, m)
		})
	}

	op := fmt.Sprintf("copy s3://%s/%s to %q", srcBucket, srcKey, dstKey)
	if err := checkKey(s.opts.Prefix, dstKey); err != nil {
		return Object{}, fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case srcBucket == "":
		return Object{}, fmt.Errorf("%s: %w: no source bucket", op, ErrInvalidInput)
	case srcKey == "" || !utf8.ValidString(srcKey) || len(srcKey) > maxKeyLen:
		return Object{}, fmt.Errorf("%s: %w: source key", op, ErrInvalidKey)
	case srcETag == "":
		return Object{}, fmt.Errorf("%s: %w: no source ETag to match", op, ErrInvalidInput)
	case !isLowerHexSHA256(m.SHA256):
		return Object{}, fmt.Errorf("%s: %w: sha256 %q is not 64 lowercase hex digits", op, ErrInvalidInput, m.SHA256)
	case m.CRC32C != "" && !isLowerHex(m.CRC32C, 4):
		return Object{}, fmt.Errorf("%s: %w: crc32c %q is not 8 lowercase hex digits", op, ErrInvalidInput, m.CRC32C)
	case size > MaxCopySize:
		return Object{}, fmt.Errorf("%s: %d bytes is over the %d of one CopyObject (no multipart copy here)", op, size, MaxCopySize)
	}
	ct := m.ContentType
	if ct == "" {
		ct = ContentType(dstKey)
	}
	in := &s3.CopyObjectInput{
		Bucket:            aws.String(s.opts.Bucket),
		Key:               aws.String(s.fullKey(dstKey)),
		CopySource:        aws.String(copySource(srcBucket, srcKey)),
		CopySourceIfMatch: aws.String(`"` + srcETag + `"`),
		IfNoneMatch:       aws.String("*"),
		MetadataDirective: s3types.MetadataDirectiveReplace,
		Metadata:          putMetadata(PutInput{SHA256: m.SHA256, CRC32C: m.CRC32C, Mtime: m.Mtime}),
		ContentType:       aws.String(ct),
	}
	out, err := s.client.CopyObject(ctx, in)
	if err != nil {
		if isPreconditionFailure(err) {
			return Object{}, fmt.Errorf("%s: %w: %w", op, ErrPreconditionFailed, err)
		}
		if isNotFound(err) {
			return Object{}, fmt.Errorf("%s: %w", op, ErrNotFound)
		}
		return Object{}, fmt.Errorf("%s%s: %w", op, hint(err), err)
	}
	o := Object{Key: dstKey, Size: size, VersionID: aws.ToString(out.VersionId), ContentType: ct}
	if out.CopyObjectResult != nil {
		o.ETag = unquote(aws.ToString(out.CopyObjectResult.ETag))
		o.LastModified = aws.ToTime(out.CopyObjectResult.LastModified)
	}
	applyMetadata(&o, in.Metadata)
	s.log.Debug().Str("src_bucket", srcBucket).Str("src", srcKey).Str("dst", dstKey).Str("etag", o.ETag).Msg("copied from another bucket")
	return o, nil
}
