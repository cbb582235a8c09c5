package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/etag"
)

// Server-side copies of objects over MaxCopySize, as S3 specifies them:
// CreateMultipartUpload on the destination with the headers the result
// must have, UploadPartCopy for each byte range of the source (each
// conditional on the source's ETag), CompleteMultipartUpload; on any
// failure AbortMultipartUpload. Copy and ReplaceMetadata use it.

// defaultCopyPartSize is the part size of a multipart copy, raised for
// objects that would otherwise need more than etag.MaxParts parts. 512 MiB
// keeps each part a few seconds of server-side work, well inside
// ResponseTimeout on slow disks, and is a power of two MiB, which
// etag.PartSizes tries: the copy's multipart ETag stays provable.
const defaultCopyPartSize int64 = 512 << 20

// copyTuning is S3Options.copyTuning: tests lower the threshold and the
// part size, so that a 12 MiB object is copied in three 5 MiB parts on a
// real server, and watch or disturb a copy between its steps.
type copyTuning struct {
	threshold int64 // objects larger than this are copied in parts; 0: MaxCopySize
	partSize  int64 // the part size before the etag.MaxParts adjustment; 0: defaultCopyPartSize
	// afterPart runs after each part is copied, in that part's goroutine,
	// before its slot is given to the next part.
	afterPart func(part int32)
	// beforeComplete runs once every part is copied.
	beforeComplete func()
}

func (s *S3) copyThreshold() int64 {
	if t := s.opts.copyTuning; t != nil && t.threshold > 0 {
		return t.threshold
	}
	return MaxCopySize
}

// copyPartSize is the part size of a multipart copy of size bytes: preferred,
// raised to ceil(size/etag.MaxParts) when that is larger, and never under
// MinPartSize. It fails when the parts would exceed MaxPartSize (over
// 50 TiB; S3 objects end at 5 TiB). Pure.
func copyPartSize(size, preferred int64) (int64, error) {
	part := max(preferred, (size+etag.MaxParts-1)/etag.MaxParts, MinPartSize)
	if part > MaxPartSize {
		return 0, fmt.Errorf("%w: %d bytes do not fit in %d parts of at most %d bytes", ErrInvalidInput, size, etag.MaxParts, MaxPartSize)
	}
	return part, nil
}

// partCopy is one multipart copy: the size bytes of the object at src,
// which must keep ETag srcETag until the last part is copied, to a new
// object at dst with the headers in create.
type partCopy struct {
	src, dst string // keys relative to the store prefix
	srcETag  string // unquoted
	size     int64
	// create carries the result's metadata and Content-Type (and, for
	// Copy, the source's other headers); Bucket and Key are set here.
	create *s3.CreateMultipartUploadInput
	// dstIfMatch, when set, is the If-Match of CompleteMultipartUpload:
	// the copy is published only while dst still has this ETag.
	dstIfMatch string
}

// copyParts runs c and returns the completed upload. Parts are copied
// PartConcurrency at a time. On any failure, including cancellation of
// ctx, it waits for every part request to return and then aborts the
// upload on a fresh context (abortUpload), so that nothing is left open
// but what a kill -9 leaves, which AbortStale cleans up. Errors are the
// SDK's, wrapped with the part; the caller classifies them (copyErr).
func (s *S3) copyParts(ctx context.Context, c partCopy) (*s3.CompleteMultipartUploadOutput, error) {
	preferred := defaultCopyPartSize
	if t := s.opts.copyTuning; t != nil && t.partSize > 0 {
		preferred = t.partSize
	}
	partSize, err := copyPartSize(c.size, preferred)
	if err != nil {
		return nil, err
	}
	c.create.Bucket = aws.String(s.opts.Bucket)
	c.create.Key = aws.String(s.fullKey(c.dst))
	up, err := s.client.CreateMultipartUpload(ctx, c.create)
	if err != nil {
		return nil, fmt.Errorf("create multipart upload: %w", err)
	}
	uploadID := aws.ToString(up.UploadId)
	out, err := s.copyUpload(ctx, c, uploadID, partSize)
	if err != nil {
		s.abortUpload(ctx, c.dst, uploadID)
		return nil, err
	}
	return out, nil
}

func (s *S3) copyUpload(ctx context.Context, c partCopy, uploadID string, partSize int64) (*s3.CompleteMultipartUploadOutput, error) {
	var afterPart func(int32)
	var beforeComplete func()
	if t := s.opts.copyTuning; t != nil {
		afterPart, beforeComplete = t.afterPart, t.beforeComplete
	}
	n := (c.size + partSize - 1) / partSize
	parts := make([]s3types.CompletedPart, n)
	source := aws.String(copySource(s.opts.Bucket, s.fullKey(c.src)))
	srcIfMatch := aws.String(`"` + c.srcETag + `"`)

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.PartConcurrency)
	for i := range n {
		if gctx.Err() != nil {
			break // a part failed, or ctx is done: start no more
		}
		first := i * partSize
		last := min(first+partSize, c.size) - 1
		num := int32(i + 1)
		g.Go(func() error {
			out, err := s.client.UploadPartCopy(gctx, &s3.UploadPartCopyInput{
				Bucket:            aws.String(s.opts.Bucket),
				Key:               aws.String(s.fullKey(c.dst)),
				UploadId:          aws.String(uploadID),
				PartNumber:        aws.Int32(num),
				CopySource:        source,
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
				CopySourceIfMatch: srcIfMatch,
			})
			if err != nil {
				return fmt.Errorf("part %d of %d (bytes %d-%d): %w", num, n, first, last, err)
			}
			if out.CopyPartResult == nil || aws.ToString(out.CopyPartResult.ETag) == "" {
				return fmt.Errorf("part %d of %d: the server returned no ETag", num, n)
			}
			parts[i] = s3types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(num)}
			if afterPart != nil {
				afterPart(num)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // cancelled before the last part was started
	}
	if beforeComplete != nil {
		beforeComplete()
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.opts.Bucket),
		Key:             aws.String(s.fullKey(c.dst)),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	}
	if c.dstIfMatch != "" {
		in.IfMatch = aws.String(`"` + c.dstIfMatch + `"`)
	}
	out, err := s.client.CompleteMultipartUpload(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("complete multipart upload of %d parts: %w", n, err)
	}
	return out, nil
}

// copyHeaders is the CreateMultipartUpload of a copy that keeps the
// source's metadata and headers, as CopyObject's MetadataDirective COPY
// does: user metadata, Content-Type, Cache-Control, Content-Disposition,
// Content-Encoding, Content-Language, Expires (when it parses as an HTTP
// date) and the website redirect. Storage class, encryption and Object
// Lock settings come from the bucket's defaults, as they do for a
// CopyObject that names none. Tags are not copied (CopyObject's
// TaggingDirective COPY would): that would need s3:GetObjectTagging, and
// the appliance writes no tags.
func copyHeaders(head *s3.HeadObjectOutput) *s3.CreateMultipartUploadInput {
	in := &s3.CreateMultipartUploadInput{
		Metadata:                head.Metadata,
		ContentType:             head.ContentType,
		CacheControl:            head.CacheControl,
		ContentDisposition:      head.ContentDisposition,
		ContentEncoding:         head.ContentEncoding,
		ContentLanguage:         head.ContentLanguage,
		WebsiteRedirectLocation: head.WebsiteRedirectLocation,
	}
	if t, err := http.ParseTime(aws.ToString(head.ExpiresString)); err == nil {
		in.Expires = aws.Time(t)
	}
	return in
}

// copyErr wraps an error of Copy or ReplaceMetadata with what (the
// operation and its keys) and classifies it: a failed condition is
// ErrPreconditionFailed, a missing source ErrNotFound, and a cancellation
// stays visible to errors.Is.
func copyErr(ctx context.Context, what string, err error) error {
	switch ctxErr := ctx.Err(); {
	case isPreconditionFailure(err):
		return fmt.Errorf("%s: %w: %w", what, ErrPreconditionFailed, err)
	case isNotFound(err):
		return fmt.Errorf("%s: %w: %w", what, ErrNotFound, err)
	case ctxErr != nil && !errors.Is(err, ctxErr):
		return fmt.Errorf("%s: %w: %w", what, ctxErr, err)
	case isCode(err, "NoSuchUpload"):
		return fmt.Errorf("%s (its multipart upload was aborted meanwhile, as AbortStale does to old ones): %w", what, err)
	default:
		return fmt.Errorf("%s%s: %w", what, hint(err), err)
	}
}
