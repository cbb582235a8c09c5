package etag

import (
	"bytes"
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash"
	"slices"
)

// Verdict is what a Prover concluded about the bytes written to it and the
// remote object.
type Verdict int

const (
	// Unknown: nothing was proven either way (an opaque ETag, one the caller
	// said is not an MD5, or a multipart ETag no candidate reproduced). The
	// zero value, so a forgotten check proves nothing.
	Unknown Verdict = iota
	// Equal: the bytes reproduce the ETag exactly, over exactly the object's
	// size.
	Equal
	// Differs: the bytes cannot be the object's: their length is not the
	// object's size, or the ETag is a whole-body MD5 (single-part or one
	// part, and the caller said it is an MD5) and the bytes have another.
	// A multipart mismatch is never Differs.
	Differs
)

// String returns "unknown", "equal" or "differs", for logs.
func (v Verdict) String() string {
	switch v {
	case Equal:
		return "equal"
	case Differs:
		return "differs"
	default:
		return "unknown"
	}
}

// Reasons a Result carries, one per way of reaching a verdict. They are
// stable strings, for logs and metrics labels.
const (
	ReasonMD5Match       = "md5-match"              // Equal: single-part MD5 reproduced
	ReasonMultipartMatch = "multipart-match"        // Equal: multipart ETag reproduced with PartSize
	ReasonMD5Mismatch    = "md5-mismatch"           // Differs: whole-body MD5 (single-part or 1 part) differs
	ReasonLength         = "length-mismatch"        // Differs: bytes written != object size
	ReasonOpaque         = "opaque-etag"            // Unknown: ETag in neither S3 form
	ReasonNotMD5         = "etag-not-md5"           // Unknown: caller said the ETag is no MD5 (SSE-KMS, SSE-C)
	ReasonNoPartSize     = "no-candidate-part-size" // Unknown: no part size fits size and N
	ReasonNoMatch        = "no-candidate-matched"   // Unknown: candidates tried, none reproduced the ETag
)

// Result is a Prover's conclusion. It is a plain value.
type Result struct {
	Verdict Verdict
	// Reason is one of the Reason constants.
	Reason string
	// PartSize is the part size that reproduced a multipart ETag (the object
	// size for a one-part ETag), 0 otherwise.
	PartSize int64
	// PartSource names where PartSize came from, for logs: the first tool
	// whose formula gives it ("minio-go", "rclone", ...; a hint, not the
	// uploader's identity, as tools share sizes), else the generic rule
	// ("power-of-two-mib", "equal-split", "mib-multiple", "mb-multiple"), or
	// "whole-body" for one part; empty without a match.
	PartSource string
	// Candidates is how many part sizes were hashed (0 unless multipart).
	Candidates int
}

// ErrFinished is returned by Write after Result: the verdict is fixed.
var ErrFinished = errors.New("etag: write after Result")

// Prover hashes a local file once, as an io.Writer, and says whether it
// equals the remote object whose size and ETag it was made with.
//
// Each byte goes into the whole-body MD5 and, for a multipart ETag, into the
// running part MD5 of each candidate part size (at most MaxCandidates)
// whose first part it follows; completed part digests feed one outer MD5
// per candidate. A first part is a prefix of the body, so its digest is read
// off the whole-body MD5 as the stream passes its end. Nothing is buffered:
// memory is constant, and CPU is one MD5 pass plus, per candidate, one over
// the bytes after its first part. Few-part ETags of large files have the
// widest part-size ranges and so the most candidates (BenchmarkProver).
//
// A Prover is owned by one goroutine: none of its methods may be called
// concurrently. Write it the whole file, in any chunking, then call Result.
type Prover struct {
	size    int64
	remote  ETag
	isMD5   bool
	written int64
	whole   hash.Hash
	cands   []partHasher // in PartSizes order, which Result prefers
	byFirst []int        // indices into cands by part size: first-part ends in file order
	next    int          // byFirst[next] is the next first-part end to reach
	done    bool
	result  Result
}

// partHasher recomputes a multipart ETag for one part size.
type partHasher struct {
	size  int64     // part size
	fill  int64     // bytes in the current part (after the first)
	parts int       // parts completed; the first is taken from the whole MD5
	part  hash.Hash // MD5 of the current part
	outer hash.Hash // MD5 of the completed parts' digests, concatenated
	buf   [md5.Size]byte
}

// NewProver returns a Prover for an object of size bytes whose ETag is
// remote. etagIsMD5 is the caller's statement that the ETag is an MD5 of the
// plaintext (not SSE-KMS or SSE-C); when false, only a length mismatch can
// be proven. A zero (Opaque) remote ETag makes the Prover just compute MD5.
func NewProver(size int64, remote ETag, etagIsMD5 bool) *Prover {
	p := &Prover{size: size, remote: remote, isMD5: etagIsMD5, whole: md5.New()}
	if etagIsMD5 && remote.Kind == Multipart && remote.Parts > 1 {
		for i, ps := range PartSizes(size, remote.Parts) {
			p.cands = append(p.cands, partHasher{size: ps, part: md5.New(), outer: md5.New()})
			p.byFirst = append(p.byFirst, i)
		}
		slices.SortFunc(p.byFirst, func(a, b int) int { return cmp.Compare(p.cands[a].size, p.cands[b].size) })
	}
	return p
}

// Write hashes b. It never fails before Result, and returns ErrFinished
// after it. Bytes past the object's size still count towards MD5 and make
// the verdict Differs.
func (p *Prover) Write(b []byte) (int, error) {
	if p.done {
		return 0, ErrFinished
	}
	start := p.written
	p.written += int64(len(b))

	// The whole-body MD5, stopping at each first-part end on the way.
	rest, pos := b, start
	for ; p.next < len(p.byFirst); p.next++ {
		h := &p.cands[p.byFirst[p.next]]
		if h.size > pos+int64(len(rest)) {
			break
		}
		k := h.size - pos
		p.whole.Write(rest[:k])
		rest, pos = rest[k:], h.size
		h.outer.Write(p.whole.Sum(h.buf[:0]))
		h.parts = 1
	}
	p.whole.Write(rest)

	// Parts 2..N of each candidate, never past the object's size.
	feed := b[:min(int64(len(b)), max(p.size-start, 0))]
	for i := range p.cands {
		h := &p.cands[i]
		if skip := h.size - start; skip < int64(len(feed)) {
			h.write(feed[max(skip, 0):])
		}
	}
	return len(b), nil
}

// write hashes bytes that follow the candidate's first part.
func (h *partHasher) write(b []byte) {
	for len(b) > 0 {
		k := min(int64(len(b)), h.size-h.fill)
		h.part.Write(b[:k])
		h.fill += k
		b = b[k:]
		if h.fill == h.size {
			h.endPart()
		}
	}
}

func (h *partHasher) endPart() {
	h.outer.Write(h.part.Sum(h.buf[:0]))
	h.part.Reset()
	h.fill = 0
	h.parts++
}

// MD5 returns the lowercase hex MD5 of the bytes written so far. It may be
// called before or after Result.
func (p *Prover) MD5() string {
	return hex.EncodeToString(p.whole.Sum(nil))
}

// Result ends the Prover and returns its verdict. Call it after writing the
// whole file; calling it again returns the same Result. Equal means exactly
// size bytes reproduced the remote ETag digit for digit (MD5-equal; see the
// package documentation).
func (p *Prover) Result() Result {
	if p.done {
		return p.result
	}
	p.done = true
	p.result = p.verdict()
	return p.result
}

func (p *Prover) verdict() Result {
	if p.written != p.size {
		return Result{Verdict: Differs, Reason: ReasonLength}
	}
	switch {
	case p.remote.Kind != SinglePart && p.remote.Kind != Multipart:
		return Result{Reason: ReasonOpaque}
	case !p.isMD5:
		return Result{Reason: ReasonNotMD5}
	}
	whole := p.whole.Sum(nil)
	switch {
	case p.remote.Kind == SinglePart:
		if bytes.Equal(whole, p.remote.Digest[:]) {
			return Result{Verdict: Equal, Reason: ReasonMD5Match}
		}
		return Result{Verdict: Differs, Reason: ReasonMD5Mismatch}
	case p.remote.Parts == 1:
		// The one part is the whole body whatever the part size, so this is
		// as strong as a single-part MD5, mismatch included.
		if md5.Sum(whole) == p.remote.Digest {
			return Result{Verdict: Equal, Reason: ReasonMultipartMatch, PartSize: p.size,
				PartSource: partSource(p.size, 1, p.size)}
		}
		return Result{Verdict: Differs, Reason: ReasonMD5Mismatch}
	}
	if len(p.cands) == 0 {
		return Result{Reason: ReasonNoPartSize}
	}
	r := Result{Reason: ReasonNoMatch, Candidates: len(p.cands)}
	for i := range p.cands {
		h := &p.cands[i]
		if h.fill > 0 {
			h.endPart()
		}
		if h.parts != p.remote.Parts {
			continue // cannot happen for a candidate from PartSizes
		}
		if bytes.Equal(h.outer.Sum(nil), p.remote.Digest[:]) && r.Verdict != Equal {
			r.Verdict, r.Reason, r.PartSize = Equal, ReasonMultipartMatch, h.size
			r.PartSource = partSource(p.size, p.remote.Parts, h.size)
		}
	}
	return r
}
