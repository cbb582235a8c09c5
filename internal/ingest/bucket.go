package ingest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"genesissync/internal/etag"
	"genesissync/internal/keymap"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
)

// Objects is what a bucket import reads: the source bucket's objects,
// keys relative to its prefix (an *objstore.S3 opened on the source
// bucket and prefix; objstore.Memory in tests). It must be safe for
// concurrent use.
type Objects interface {
	List(ctx context.Context, prefix string, fn func(objstore.Object) error) error
	Head(ctx context.Context, key string) (objstore.Object, error)
	Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error)
}

// Copier makes the server-side copies of a bucket import into the share's
// target: the share's *objstore.S3, keys relative to its prefix. It must
// be safe for concurrent use.
type Copier interface {
	Head(ctx context.Context, key string) (objstore.Object, error)
	CopyFrom(ctx context.Context, srcBucket, srcKey, srcETag, dstKey string, size int64, m objstore.Metadata) (objstore.Object, error)
}

var (
	_ Objects = (*objstore.S3)(nil)
	_ Objects = (*objstore.Memory)(nil)
	_ Copier  = (*objstore.S3)(nil)
)

// BucketSource is a bucket prefix to import from (--from-bucket).
type BucketSource struct {
	// Objects lists and reads the source objects.
	Objects Objects
	// Bucket and Prefix say where Objects' keys are (Prefix + key is the
	// whole key in Bucket; Prefix is "" or ends in "/"): for reports, and
	// as the source of server-side copies.
	Bucket, Prefix string
	// Target, when set, is the share's target on the source's endpoint,
	// with credentials that can read the source: every object imported or
	// found identical is copied server-side to the share path's key there,
	// with our metadata, unless the target already holds an object at that
	// key, so that the daemon adopts both sides without uploading.
	Target Copier
}

// name is how reports name the source object key.
func (b *BucketSource) name(key string) string {
	return "s3://" + b.Bucket + "/" + b.Prefix + key
}

// ParseBucketURL reads --from-bucket's s3://BUCKET[/PREFIX]: the bucket,
// and the prefix as a folder ("" or ending in "/").
func ParseBucketURL(s string) (bucket, prefix string, err error) {
	// By hand, not by net/url: a prefix may hold "%", "?" or "#", which
	// are key characters here, not escapes, a query or a fragment.
	rest, ok := strings.CutPrefix(s, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" || strings.ContainsAny(bucket, "@:?#% ") {
		return "", "", fmt.Errorf("bucket URL %q: want s3://BUCKET or s3://BUCKET/PREFIX", s)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if prefix != "" {
		for _, seg := range strings.Split(strings.TrimSuffix(prefix, "/"), "/") {
			if seg == "" || seg == "." || seg == ".." {
				return "", "", fmt.Errorf("bucket URL %q: the prefix has an empty, \".\" or \"..\" segment", s)
			}
		}
	}
	return bucket, prefix, nil
}

// From is where a bucket import reads, as the command line says it.
type From struct {
	// URL is s3://BUCKET[/PREFIX].
	URL string
	// Endpoint is the source's service URL; "" means the target's.
	Endpoint string
	// CredentialsFile is an AWS shared credentials file (profile
	// "default") for the source, the format of the target's
	// credentials_file; "" means the target's credentials.
	CredentialsFile string
}

// SourceOptions returns the object-store options of a bucket import's
// source from those of the share's target: the target's endpoint, region,
// addressing and credentials unless f names others (another endpoint is
// addressed path-style, which every S3 server accepts). same reports
// whether the source is on the target's endpoint with the target's
// credentials or others that may read it, so that server-side copies are
// possible. A source that overlaps the target's own prefix is refused. It
// is pure.
func SourceOptions(target objstore.S3Options, f From) (src objstore.S3Options, same bool, err error) {
	bucket, prefix, err := ParseBucketURL(f.URL)
	if err != nil {
		return src, false, err
	}
	src = target
	src.Bucket, src.Prefix = bucket, prefix
	src.Wire = nil
	endpoint := strings.TrimSuffix(f.Endpoint, "/")
	same = endpoint == "" || endpoint == strings.TrimSuffix(target.Endpoint, "/")
	if !same {
		// One endpoint, named: not the target's list of replicas.
		src.Endpoint, src.Endpoints, src.PathStyle = endpoint, nil, true
	}
	if f.CredentialsFile != "" {
		if !filepath.IsAbs(f.CredentialsFile) {
			if src.CredentialsFile, err = filepath.Abs(f.CredentialsFile); err != nil {
				return src, false, err
			}
		} else {
			src.CredentialsFile = f.CredentialsFile
		}
		src.AccessKeyID, src.SecretAccessKey, src.Profile = "", "", ""
	}
	tp := strings.TrimLeft(target.Prefix, "/")
	if tp != "" && !strings.HasSuffix(tp, "/") {
		tp += "/"
	}
	if same && bucket == target.Bucket && (strings.HasPrefix(prefix, tp) || strings.HasPrefix(tp, prefix)) {
		return src, false, fmt.Errorf("import from s3://%s/%s: overlaps the share's own target s3://%s/%s", bucket, prefix, target.Bucket, tp)
	}
	return src, same, nil
}

// listBucket adds the source objects to files, as Import's walk does for
// a directory: the key mapped to a share path by keymap (refused keys
// reported), excluded names and the appliance's own objects skipped.
func listBucket(ctx context.Context, b *BucketSource, into string, m *scan.Matcher, folder *keymap.Folder,
	winner map[string]string, res *Result, files *[]file) error {
	return b.Objects.List(ctx, "", func(obj objstore.Object) error {
		if layout.IsInternal(obj.Key) {
			return nil
		}
		src := b.name(obj.Key)
		rel, err := keymap.LocalPath(obj.Key)
		if errors.Is(err, keymap.ErrDirMarker) {
			return nil
		}
		if err != nil {
			res.refuse(src, err.Error())
			return nil
		}
		if into != "" {
			rel = into + "/" + rel
		}
		if m.ExcludedPath(rel) || !admit(res, folder, winner, rel, src) {
			return nil
		}
		winner[rel] = src
		*files = append(*files, file{src: src, rel: rel, size: obj.Size, mod: obj.LastModified, key: obj.Key, bucket: b})
		return nil
	})
}

// How an object's bytes were proven (Result.VerifiedBy).
const (
	proofSHA256    = "sha256"         // equal to the object's sha256 metadata
	proofMD5       = "etag-md5"       // its single-part ETag reproduced
	proofMultipart = "etag-multipart" // its multipart ETag reproduced
	proofRead      = "read"           // an existing share file: the object read and hashed
	proofMtime     = "size-mtime"     // an existing share file: same size and mtime (what an earlier run copied)
)

// etagProof names the proof of a reproduced ETag.
func etagProof(e etag.ETag) string {
	if e.Kind == etag.Multipart {
		return proofMultipart
	}
	return proofMD5
}

// target outcomes of one object (Result.Target*).
type targetOutcome int

const (
	targetNone    targetOutcome = iota
	targetCopied                // copied server-side (or would be, in a dry run)
	targetPresent               // the target holds the same sha256 already
	targetSkipped               // not copied; the daemon uploads the file (why says why)
)

type objDone struct {
	out        outcome
	why        string // failed: the error
	proof      string // copied or identical: how its bytes were proven, "" if not
	unverified string // copied without proof: why none was possible
	target     targetOutcome
	targetWhy  string
}

// importObject brings one object into the share, verified, and makes its
// server-side copy, or says why not.
func importObject(ctx context.Context, o Options, f file) objDone {
	b := f.bucket
	var (
		d     objDone
		sum   string // the bytes' SHA-256, "" when not known
		crc   string // their CRC-32C, "" when not known
		srcET string // the ETag of the object whose bytes were proven
		mtime time.Time
	)
	dst := filepath.Join(o.Root, filepath.FromSlash(f.rel))
	fi, err := os.Lstat(dst)
	switch {
	case err == nil && (!fi.Mode().IsRegular() || fi.Size() != f.size):
		return objDone{out: collided}
	case err == nil:
		obj, err := b.Objects.Head(ctx, f.key)
		if err != nil {
			return objDone{out: failed, why: err.Error()}
		}
		if obj.Size != fi.Size() {
			return objDone{out: collided}
		}
		srcET, mtime = obj.ETag, fi.ModTime()
		if objMtime(obj).Equal(fi.ModTime()) {
			// What an earlier (interrupted) run published: the mtime is
			// the object's. As rsync, no read.
			d.proof, sum, crc = proofMtime, obj.SHA256, obj.CRC32C
		} else {
			p, err := prove(ctx, o, b, f.rel, obj)
			switch {
			case err != nil:
				return objDone{out: failed, why: err.Error()}
			case !p.same:
				return objDone{out: collided}
			}
			d.proof, sum, crc = p.proof, p.sum, p.crc
		}
		d.out = identical
	case !errors.Is(err, fs.ErrNotExist):
		return objDone{out: failed, why: err.Error()}
	case o.DryRun:
		d.out = copied
	default:
		g := &objectGetter{src: b.Objects}
		dl := transfer.NewDownloader(o.Root, g, o.UID, o.GID).WithTempTag(layout.ImportTempTag)
		e, err := dl.DownloadAs(ctx, f.key, f.rel, nil)
		switch {
		case errors.Is(err, transfer.ErrLocalChanged):
			return objDone{out: collided}
		case err != nil:
			return objDone{out: failed, why: err.Error()}
		}
		d.out = copied
		d.proof, d.unverified = g.v.proof, g.v.unverified
		sum, crc, srcET, mtime = e.SHA256, g.v.crc(), g.obj.ETag, e.Mtime
	}
	switch {
	case b.Target == nil:
	case d.unverified != "":
		// The copy would carry the sha256 of bytes that may not be the
		// object's: the daemon uploads the file instead.
		d.target, d.targetWhy = targetSkipped, "not copied server-side: its bytes are not verified; the daemon uploads the file"
	default:
		d.target, d.targetWhy = copyToTarget(ctx, o, f, sum, crc, srcET, mtime)
	}
	return d
}

// objMtime is the mtime a download gives the object's file.
func objMtime(o objstore.Object) time.Time {
	if !o.Mtime.IsZero() {
		return o.Mtime
	}
	return o.LastModified
}

// copyToTarget copies the object server-side to the share path's key in
// the share's target, with our metadata, unless the target holds an
// object there already; sum, crc, srcETag and mtime are what the share's
// file was proven or published with ("" sum: not known yet).
func copyToTarget(ctx context.Context, o Options, f file, sum, crc, srcETag string, mtime time.Time) (targetOutcome, string) {
	b := f.bucket
	if o.DryRun {
		if st, why := targetState(ctx, b.Target, f.rel, sum); st != targetNone {
			return st, why
		}
		return targetCopied, ""
	}
	if sum == "" {
		// Identical by size and mtime, and the object has no sha256: the
		// metadata the copy gets must be proven first.
		obj, err := b.Objects.Head(ctx, f.key)
		if err != nil {
			return targetSkipped, err.Error()
		}
		p, err := prove(ctx, o, b, f.rel, obj)
		switch {
		case err != nil:
			return targetSkipped, err.Error()
		case !p.same:
			return targetSkipped, "the share's file is not the object's bytes; not copied"
		}
		sum, crc, srcETag = p.sum, p.crc, obj.ETag
	}
	if st, why := targetState(ctx, b.Target, f.rel, sum); st != targetNone {
		return st, why
	}
	_, err := b.Target.CopyFrom(ctx, b.Bucket, b.Prefix+f.key, srcETag, f.rel, f.size,
		objstore.Metadata{SHA256: sum, CRC32C: crc, Mtime: mtime})
	if errors.Is(err, objstore.ErrPreconditionFailed) {
		// Something took the key meanwhile (the daemon uploading the
		// file just published), or the source changed.
		if st, _ := targetState(ctx, b.Target, f.rel, sum); st == targetPresent {
			return targetPresent, ""
		}
	}
	if err != nil {
		return targetSkipped, "not copied server-side: " + err.Error()
	}
	return targetCopied, ""
}

// targetState says what the share's target holds at rel: nothing
// (targetNone), an object with sha256 sum (targetPresent), or something
// else, left alone (targetSkipped, with why). A sum of "" matches nothing.
func targetState(ctx context.Context, t Copier, rel, sum string) (targetOutcome, string) {
	h, err := t.Head(ctx, rel)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return targetNone, ""
	case err != nil:
		return targetSkipped, err.Error()
	case sum != "" && h.SHA256 == sum:
		return targetPresent, ""
	}
	return targetSkipped, "the share's target holds other bytes, or bytes not proven the same, at this key: left alone for the daemon to reconcile"
}

// proof is what prove found.
type proof struct {
	same     bool
	proof    string
	sum, crc string // of the share's file
}

// prove reads the share's file at rel once and decides whether it holds
// obj's bytes: by its sha256 metadata, else its ETag reproduced, else by
// reading and hashing the object.
func prove(ctx context.Context, o Options, b *BucketSource, rel string, obj objstore.Object) (proof, error) {
	remote, _ := etag.Parse(obj.ETag) // a malformed ETag is Opaque and proves nothing
	pv := etag.NewProver(obj.Size, remote, obj.ETagIsMD5())
	c := objstore.NewCRC32C()
	sum, st, err := scan.HashFileWith(ctx, o.Root, rel, pv, c)
	if err != nil {
		return proof{}, err
	}
	p := proof{sum: sum, crc: hex.EncodeToString(c.Sum(nil))}
	if st.Size != obj.Size {
		return p, nil
	}
	if obj.SHA256 != "" {
		p.same, p.proof = sum == obj.SHA256, proofSHA256
		return p, nil
	}
	switch r := pv.Result(); r.Verdict {
	case etag.Equal:
		p.same, p.proof = true, etagProof(remote)
		return p, nil
	case etag.Differs:
		return p, nil
	}
	// Reading the object proves it either way.
	remoteSum, err := transfer.NewDownloader(o.Root, b.Objects, o.UID, o.GID).HashObject(ctx, obj.Key, obj)
	if err != nil {
		return proof{}, err
	}
	p.same, p.proof = remoteSum == sum, proofRead
	return p, nil
}

// objectGetter serves one source object to a Downloader and verifies its
// bytes on the way (see verifier). It is used for one download.
type objectGetter struct {
	src Objects
	obj objstore.Object // as the GET described it
	v   *verifier
}

// Get hands the downloader the object with its "crc32c" and ETag taken
// off: the downloader then checks the SHA-256 against the "sha256"
// metadata itself (an import proves by the strongest sum there is, not by
// the CRC-32C alone), and the ETag, single-part or multipart, is proven
// here, once.
func (g *objectGetter) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	body, obj, err := g.src.Get(ctx, key)
	if err != nil {
		return nil, obj, err
	}
	g.obj, g.v = obj, newVerifier(obj)
	hand := obj
	hand.CRC32C, hand.ETag = "", ""
	return &verifyingBody{ReadCloser: body, v: g.v}, hand, nil
}

// verifier proves an object's bytes as they stream: the downloader checks
// its "sha256" metadata; without one, its ETag is reproduced and a proven
// difference fails the read. The CRC-32C is taken for the copy's metadata.
type verifier struct {
	obj        objstore.Object
	remote     etag.ETag
	prover     *etag.Prover // nil when the object has a sha256
	c          hash.Hash32
	w          io.Writer
	proof      string // set at EOF
	unverified string // set at EOF: why nothing could be proven
}

func newVerifier(obj objstore.Object) *verifier {
	v := &verifier{obj: obj, c: objstore.NewCRC32C()}
	v.w = v.c
	if obj.SHA256 == "" {
		v.remote, _ = etag.Parse(obj.ETag)
		v.prover = etag.NewProver(obj.Size, v.remote, obj.ETagIsMD5())
		v.w = io.MultiWriter(v.c, v.prover)
	}
	return v
}

func (v *verifier) crc() string { return hex.EncodeToString(v.c.Sum(nil)) }

func (v *verifier) finish() error {
	if v.prover == nil {
		v.proof = proofSHA256 // checked by the downloader: a mismatch is never published
		return nil
	}
	r := v.prover.Result()
	switch r.Verdict {
	case etag.Equal:
		v.proof = etagProof(v.remote)
		return nil
	case etag.Differs:
		return fmt.Errorf("%w: the bytes do not reproduce the ETag %s (%s)", transfer.ErrCorrupt, v.obj.ETag, r.Reason)
	}
	v.unverified = "not verified: " + unverifiedReason(v.obj, r)
	return nil
}

// unverifiedReason says why an object without "sha256" metadata could not
// be proven from its ETag.
func unverifiedReason(obj objstore.Object, r etag.Result) string {
	switch r.Reason {
	case etag.ReasonNotMD5:
		return fmt.Sprintf("no sha256 metadata, and the ETag of an object encrypted with %s is no MD5 of its bytes", obj.Encryption)
	case etag.ReasonOpaque:
		return fmt.Sprintf("no sha256 metadata, and the ETag %q is no MD5 digest", obj.ETag)
	default:
		return fmt.Sprintf("no sha256 metadata, and no part size tried reproduces the multipart ETag %s (%s)", obj.ETag, r.Reason)
	}
}

// verifyingBody feeds a verifier and replaces the body's io.EOF with its
// verdict's error.
type verifyingBody struct {
	io.ReadCloser
	v    *verifier
	done bool
	err  error
}

func (b *verifyingBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, b.err
	}
	n, err := b.ReadCloser.Read(p)
	b.v.w.Write(p[:n]) // hashes never fail
	if err == io.EOF {
		b.done = true
		b.err = io.EOF
		if verr := b.v.finish(); verr != nil {
			b.err = verr
		}
		return n, b.err
	}
	return n, err
}
