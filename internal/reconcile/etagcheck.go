package reconcile

import (
	"io"

	"genesissync/internal/etag"
	"genesissync/internal/objstore"
)

// etagCheck is written every byte of a local file and then says whether
// those bytes reproduce the object's ETag.
type etagCheck interface {
	io.Writer
	Match() bool
}

// newETagCheck returns the check of o's ETag for a local file of size
// bytes, or nil when the ETag is not in an S3 form. Only equality counts:
// a mismatch leaves the decision to reading the object, as some servers'
// ETags are not S3's.
func newETagCheck(size int64, o objstore.Object) etagCheck {
	tag, err := etag.Parse(o.ETag)
	if err != nil || !o.ETagIsMD5() {
		return nil
	}
	return proverCheck{etag.NewProver(size, tag, true)}
}

type proverCheck struct{ *etag.Prover }

func (p proverCheck) Match() bool { return p.Result().Verdict == etag.Equal }
