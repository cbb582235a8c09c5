package reconcile

import (
	"context"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"time"

	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
)

// backfiller gives an object another tool wrote our metadata, without
// sending its bytes again (objstore.S3.ReplaceMetadata).
type backfiller interface {
	ReplaceMetadata(ctx context.Context, key, ifMatch string, size int64, m objstore.Metadata) (objstore.Object, error)
}

var _ backfiller = (*objstore.S3)(nil)

// localProof is one read of a local file: its SHA-256, whether it
// reproduces a foreign object's ETag, and the CRC-32C a backfill stores.
type localProof struct {
	sha256, crc32c string
	etagMatch      bool
}

// proveLocal hashes the local file at rel once for every proof the object
// remote (nil: none) may need. f is the stat the plan used; a file that
// changed since fails with errNotSettled.
func (s *Share) proveLocal(ctx context.Context, rel string, f scan.File, remote *objstore.Object) (localProof, error) {
	var also []io.Writer
	var crc hash.Hash32
	var tag etagCheck
	if remote != nil && remote.SHA256 == "" && remote.Size == f.Size {
		crc = objstore.NewCRC32C()
		tag = newETagCheck(f.Size, *remote)
		also = append(also, crc)
		if tag != nil {
			also = append(also, tag)
		}
	}
	sum, f2, err := scan.HashFileWith(ctx, s.opts.Root, rel, also...)
	if err != nil {
		return localProof{}, err
	}
	if !f2.SameVersion(f) {
		return localProof{}, errNotSettled
	}
	p := localProof{sha256: sum}
	if crc != nil {
		p.crc32c = hex.EncodeToString(crc.Sum(nil))
	}
	if tag != nil {
		p.etagMatch = tag.Match()
	}
	return p, nil
}

// backfill gives the object at key, proven to hold e's bytes, our metadata
// and returns e with the object's new identity. When it is off or fails
// (read-only credentials, object replaced, no CopyObject) it logs and
// returns e unchanged.
func (s *Share) backfill(ctx context.Context, rel, key string, remote objstore.Object, e index.Entry, crc string) index.Entry {
	if s.opts.Backfill == nil || remote.SHA256 != "" {
		return e
	}
	ct := remote.ContentType
	switch ct {
	case "", objstore.DefaultContentType, "binary/octet-stream":
		ct = "" // objstore.ContentType(key)
	}
	o, err := s.opts.Backfill.ReplaceMetadata(ctx, key, remote.ETag, remote.Size,
		objstore.Metadata{SHA256: e.SHA256, CRC32C: crc, Mtime: e.Mtime, ContentType: ct})
	if err != nil {
		ev := s.log.Warn()
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			ev = s.log.Info() // replaced meanwhile: the next listing sees it
		}
		ev.Str("path", rel).Err(err).Msg("metadata backfill failed; the object stays as it is, without our sha256")
		return e
	}
	e.ETag, e.VersionID, e.SyncedAt = o.ETag, o.VersionID, time.Now()
	s.log.Debug().Str("path", rel).Str("etag", o.ETag).Msg("metadata backfilled")
	s.update(func(st *Status) { st.Backfilled++ })
	return e
}
