package objstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Versioning reports whether the bucket keeps object versions (status
// Enabled): a plain delete then only adds a delete marker and the data
// stays recoverable. Safe for concurrent use.
func (s *S3) Versioning(ctx context.Context) (bool, error) {
	out, err := s.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(s.opts.Bucket)})
	if err != nil {
		return false, fmt.Errorf("bucket %q versioning: %w", s.opts.Bucket, err)
	}
	return out.Status == s3types.BucketVersioningStatusEnabled, nil
}

// EnableVersioning turns versioning on for the bucket (tests, demo).
func (s *S3) EnableVersioning(ctx context.Context) error {
	_, err := s.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(s.opts.Bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return fmt.Errorf("bucket %q: enable versioning: %w", s.opts.Bucket, err)
	}
	return nil
}

// Copy copies the object at src to dst inside the bucket, server-side,
// keeping its metadata. If ifMatch is not empty the copy happens only
// while src still has that ETag (else an error, not retryable). Objects
// over 5 GiB need a multipart copy, which this does not do yet: S3
// refuses them with a clear error. Safe for concurrent use.
func (s *S3) Copy(ctx context.Context, src, dst, ifMatch string) (Object, error) {
	for _, k := range []string{src, dst} {
		if err := checkKey(s.opts.Prefix, k); err != nil {
			return Object{}, fmt.Errorf("copy %q to %q: %w", src, dst, err)
		}
	}
	in := &s3.CopyObjectInput{
		Bucket:            aws.String(s.opts.Bucket),
		Key:               aws.String(s.fullKey(dst)),
		CopySource:        aws.String(copySource(s.opts.Bucket, s.fullKey(src))),
		MetadataDirective: s3types.MetadataDirectiveCopy,
	}
	if ifMatch != "" {
		in.CopySourceIfMatch = aws.String(`"` + ifMatch + `"`)
	}
	out, err := s.client.CopyObject(ctx, in)
	if err != nil {
		return Object{}, s.readErr("copy", src, err)
	}
	o := Object{Key: dst, VersionID: aws.ToString(out.VersionId)}
	if out.CopyObjectResult != nil {
		o.ETag = unquote(aws.ToString(out.CopyObjectResult.ETag))
		o.LastModified = aws.ToTime(out.CopyObjectResult.LastModified)
	}
	s.log.Debug().Str("src", src).Str("dst", dst).Msg("copy")
	return o, nil
}

// copySource is the URL-encoded "bucket/key" CopyObject wants: every byte
// outside RFC 3986's unreserved set percent-encoded, "/" kept, as the
// SDKs' own encoders do. (url.PathEscape leaves "+", "&", "=", ",", ";",
// ":", "@" and "$" as they are, and S3 reads a bare "+" there as a
// space: "Simon + Garfunkel.mp3" would name another object.)
func copySource(bucket, key string) string {
	return escapeCopyPath(bucket) + "/" + escapeCopyPath(key)
}

// escapeCopyPath percent-encodes s for x-amz-copy-source, keeping "/".
func escapeCopyPath(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
