package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Object describes one stored object. Listing fills Key, Size, ETag and
// LastModified (VersionID where the store knows it); Head, Get and Put fill
// everything they know, including SHA256 and Mtime from user metadata. Put
// cannot know LastModified (S3 does not return it) and leaves it zero.
type Object struct {
	Key          string    // relative to the store's prefix
	Size         int64     // bytes
	ETag         string    // without quotes; only comparable with ETags from the same store
	VersionID    string    // empty when the bucket is not versioned or the listing does not say
	LastModified time.Time // as reported by the store
	SHA256       string    // lowercase hex, from user metadata "sha256"; empty if absent
	CRC32C       string    // 8 lowercase hex digits, from user metadata "crc32c"; empty if absent
	Mtime        time.Time // from user metadata "mtime" (RFC3339Nano); zero if absent
	ContentType  string    // from Put, Head and Get (ContentType of the key at upload); empty from listings
	// Writer is the appliance that wrote the object, from user metadata
	// "writer" (PutInput.Writer); empty for other tools' objects and for
	// a value that is no valid appliance name (ValidWriter).
	Writer string
	// Encryption is the server-side encryption Head and Get report:
	// "AES256" (SSE-S3), "aws:kms", "aws:kms:dsse", "SSE-C"; empty for
	// none or unknown. The ETag of an SSE-KMS or SSE-C object is not an MD5.
	Encryption string
}

// ETagIsMD5 reports whether a single-part ETag of o can be the MD5 of its
// bytes: not when the object is encrypted with KMS keys or a customer key.
func (o Object) ETagIsMD5() bool {
	switch o.Encryption {
	case "", "AES256":
		return true
	}
	return false
}

// PutInput is one upload. The caller owns Body; Put does not close it.
type PutInput struct {
	Key string
	// Body is read once, sequentially, to EOF. If it returns a non-EOF
	// error, or yields more or fewer than Size bytes, or bytes whose
	// checksum (CRC32C if given, else SHA256) differs, the upload is
	// aborted and nothing is left behind.
	Body io.Reader
	// Size is the exact size of Body in bytes.
	Size int64
	// SHA256 is the lowercase hex SHA-256 of the whole body, known before the
	// upload. It is stored as metadata "sha256"; for single-part uploads it is
	// also sent as the S3 ChecksumSHA256 so that the server verifies it.
	SHA256 string
	// CRC32C, optional, is the CRC-32C (Castagnoli) of the whole body as 8
	// lowercase hex digits, taken in the same pass over the source as
	// SHA256. When set, Put checks the streamed bytes against it instead of
	// a second SHA-256 (CRC-32C is computed in hardware, SHA-256 is far
	// dearer), and stores it as metadata "crc32c" for downloads to check
	// the same cheap way. Either check catches a source that changed
	// between the hash pass and the upload; SHA256 stays the identity.
	CRC32C string
	// Mtime is stored as metadata "mtime" (RFC3339Nano, UTC); zero means
	// none.
	Mtime time.Time
	// IfAbsent and IfMatch make the write conditional (S3 conditional
	// writes): with IfAbsent it succeeds only if no object is at the key,
	// with IfMatch only if the current object's ETag is IfMatch. The server
	// decides atomically when the object is published; a refusal is
	// ErrPreconditionFailed and writes nothing. At most one may be set.
	IfAbsent bool
	IfMatch  string
	// Writer, when set, names the appliance writing the object (stored as
	// metadata "writer"; see Object.Writer). It must be a ValidWriter.
	Writer string
}

// Store is the object-store contract the appliance programs against. All
// methods are safe for concurrent use; keys are relative to the store's
// prefix.
type Store interface {
	// Put uploads a whole object or nothing; see PutInput.
	Put(ctx context.Context, in PutInput) (Object, error)
	// Head returns the object's description; ErrNotFound when absent.
	Head(ctx context.Context, key string) (Object, error)
	// Get returns the object's body, which the caller must close, and its
	// description; ErrNotFound when absent.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// List calls fn for every object under the store prefix + prefix, in
	// lexical (UTF-8 byte) order, page by page. An error from fn stops the
	// listing and is returned unwrapped.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// Delete removes the object; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

var (
	// ErrNotFound is returned (wrapped) by Head and Get when the key does not
	// exist.
	ErrNotFound = errors.New("object not found")
	// ErrChecksumMismatch is returned (wrapped) by Put when the body does not
	// hash to PutInput.SHA256, whether found locally while streaming or by
	// the server (BadDigest and its relatives).
	ErrChecksumMismatch = errors.New("checksum mismatch")
	// ErrChecksumHeadersRefused is returned (wrapped) by a request the
	// server refused for its checksum headers; the store sends none from
	// then on (S3.ChecksumHeaders), so trying again succeeds.
	ErrChecksumHeadersRefused = errors.New("the server refuses checksum headers")
	// ErrSizeMismatch is returned (wrapped) by Put when the body yields more
	// or fewer bytes than PutInput.Size: the source changed while it was
	// read.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrPreconditionFailed is returned (wrapped) by a conditional Put
	// (PutInput.IfAbsent, PutInput.IfMatch) when the object at the key is
	// not in the state the caller named: it was written by someone else.
	ErrPreconditionFailed = errors.New("precondition failed: the object changed")
	// ErrInvalidKey is returned (wrapped) for an empty key, a key that is
	// not valid UTF-8, or one longer than S3 allows with the store prefix.
	ErrInvalidKey = errors.New("invalid object key")
	// ErrInvalidInput is returned (wrapped) by Put for a nil body, a
	// negative size, a SHA256 that is not 64 lowercase hex digits or a
	// CRC32C that is not 8.
	ErrInvalidInput = errors.New("invalid put input")
)

// Metadata keys as stored in S3 user metadata (x-amz-meta-*).
const (
	metaSHA256 = "sha256"
	metaCRC32C = "crc32c"
	metaMtime  = "mtime"
	metaWriter = "writer"
)

// maxKeyLen is S3's limit on the UTF-8 length of a full key.
const maxKeyLen = 1024

// checkKey validates a key relative to prefix.
func checkKey(prefix, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidKey)
	case len(prefix)+len(key) > maxKeyLen:
		return fmt.Errorf("%w: longer than %d bytes with prefix", ErrInvalidKey, maxKeyLen)
	}
	return nil
}

// checkPut validates everything about in except the key.
func checkPut(in PutInput) error {
	switch {
	case in.Body == nil:
		return fmt.Errorf("%w: nil body", ErrInvalidInput)
	case in.Size < 0:
		return fmt.Errorf("%w: negative size %d", ErrInvalidInput, in.Size)
	case !isLowerHexSHA256(in.SHA256):
		return fmt.Errorf("%w: sha256 %q is not 64 lowercase hex digits", ErrInvalidInput, in.SHA256)
	case in.CRC32C != "" && !isLowerHex(in.CRC32C, crc32.Size):
		return fmt.Errorf("%w: crc32c %q is not 8 lowercase hex digits", ErrInvalidInput, in.CRC32C)
	case in.IfAbsent && in.IfMatch != "":
		return fmt.Errorf("%w: both IfAbsent and IfMatch", ErrInvalidInput)
	case in.Writer != "" && !ValidWriter(in.Writer):
		return fmt.Errorf("%w: writer %q is no appliance name", ErrInvalidInput, in.Writer)
	}
	return nil
}

func isLowerHexSHA256(s string) bool { return isLowerHex(s, sha256.Size) }

// isLowerHex reports whether s is n bytes in lowercase hex.
func isLowerHex(s string, n int) bool {
	if len(s) != n*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// putMetadata returns the user metadata stored with in.
func putMetadata(in PutInput) map[string]string {
	m := map[string]string{metaSHA256: in.SHA256}
	if in.CRC32C != "" {
		m[metaCRC32C] = in.CRC32C
	}
	if !in.Mtime.IsZero() {
		m[metaMtime] = in.Mtime.UTC().Format(time.RFC3339Nano)
	}
	if in.Writer != "" {
		m[metaWriter] = in.Writer
	}
	return m
}

// writerRE is what an appliance name (PutInput.Writer) may be: it goes
// into object metadata and into the names of conflict copies.
var writerRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidWriter reports whether name may name an appliance: lower-case
// letters, digits and hyphens, up to 63, starting with a letter or digit.
func ValidWriter(name string) bool { return writerRE.MatchString(name) }

// applyMetadata fills o.SHA256, o.CRC32C, o.Mtime and o.Writer from user metadata,
// matching keys case-insensitively as stores differ in how they return
// them. A malformed value is ignored rather than failing the read: the
// object is still there, it just lacks the field.
func applyMetadata(o *Object, meta map[string]string) {
	for k, v := range meta {
		switch strings.ToLower(k) {
		case metaSHA256:
			if v = strings.ToLower(strings.TrimSpace(v)); isLowerHexSHA256(v) {
				o.SHA256 = v
			}
		case metaCRC32C:
			if v = strings.ToLower(strings.TrimSpace(v)); isLowerHex(v, crc32.Size) {
				o.CRC32C = v
			}
		case metaMtime:
			if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v)); err == nil {
				o.Mtime = t.UTC()
			}
		case metaWriter:
			if v = strings.TrimSpace(v); ValidWriter(v) {
				o.Writer = v
			}
		}
	}
}

// verifyingReader passes a body through while counting and checksumming
// it (CRC-32C when the caller gave one, else SHA-256). A body that runs
// past its declared size fails at once; at its end a size or checksum
// mismatch replaces io.EOF with ErrSizeMismatch or ErrChecksumMismatch, so
// the uploader fails (and aborts) instead of completing. Errors are sticky.
type verifyingReader struct {
	r    io.Reader
	size int64
	algo string // "crc32c" or "sha256"
	want string // lowercase hex
	n    int64
	h    hash.Hash
	err  error
}

func newVerifyingReader(r io.Reader, size int64, sha, crc string) *verifyingReader {
	if crc != "" {
		return &verifyingReader{r: r, size: size, algo: metaCRC32C, want: crc, h: NewCRC32C()}
	}
	return &verifyingReader{r: r, size: size, algo: metaSHA256, want: sha, h: sha256.New()}
}

// castagnoli is the CRC-32C table; hash/crc32 uses the CPU's instruction
// for it (SSE4.2, ARMv8 CRC).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// NewCRC32C returns a hash of the CRC-32C that PutInput.CRC32C and
// Object.CRC32C carry: hex.EncodeToString of its Sum is their form.
func NewCRC32C() hash.Hash32 { return crc32.New(castagnoli) }

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	if n > 0 {
		v.n += int64(n)
		if v.n > v.size {
			v.err = fmt.Errorf("%w: body is longer than the declared %d bytes", ErrSizeMismatch, v.size)
			return 0, v.err
		}
		v.h.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		v.err = v.finish()
		return n, v.err
	case err != nil:
		v.err = err
	}
	return n, err
}

func (v *verifyingReader) finish() error {
	if v.n != v.size {
		return fmt.Errorf("%w: body has %d bytes, declared %d", ErrSizeMismatch, v.n, v.size)
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return fmt.Errorf("%w: body %s is %s, declared %s", ErrChecksumMismatch, v.algo, got, v.want)
	}
	return io.EOF
}
