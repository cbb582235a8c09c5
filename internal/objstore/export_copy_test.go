package objstore

// Test-only access to the multipart copy (s3_copy.go) for objstore_test.

// SetMultipartCopy makes s copy objects over threshold bytes in parts of
// partSize (before the 10,000-part adjustment), instead of MaxCopySize and
// 512 MiB. Call it before s is used.
func (s *S3) SetMultipartCopy(threshold, partSize int64) {
	t := s.tuning()
	t.threshold, t.partSize = threshold, partSize
}

// SetCopyHooks sets functions the multipart copy calls after each part
// (from that part's goroutine) and before CompleteMultipartUpload; nil
// removes one. Call it before s is used.
func (s *S3) SetCopyHooks(afterPart func(part int32), beforeComplete func()) {
	t := s.tuning()
	t.afterPart, t.beforeComplete = afterPart, beforeComplete
}

func (s *S3) tuning() *copyTuning {
	if s.opts.copyTuning == nil {
		s.opts.copyTuning = &copyTuning{}
	}
	return s.opts.copyTuning
}

// CopyPartSize is the part size of a multipart copy.
var CopyPartSize = copyPartSize
