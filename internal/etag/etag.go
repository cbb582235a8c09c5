package etag

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxParts is the largest part count S3 accepts in one multipart upload. A
// multipart ETag claiming more parts is not one S3 could have produced.
const MaxParts = 10000

// Kind says which of S3's two ETag forms an ETag has.
type Kind int

const (
	// Opaque is any ETag in neither S3 form: empty, weak (W/), not hex, a
	// part count outside 1..MaxParts. Nothing can be proven from it. It is
	// the zero value, so an unset ETag proves nothing.
	Opaque Kind = iota
	// SinglePart is 32 hex digits: the MD5 of the body for an object written
	// by one PUT, unless the object is SSE-KMS or SSE-C encrypted.
	SinglePart
	// Multipart is 32 hex digits, "-" and the part count N: the MD5 of the
	// concatenated binary MD5s of the N parts, again unless encrypted.
	Multipart
)

// String returns "opaque", "single-part" or "multipart", for logs.
func (k Kind) String() string {
	switch k {
	case SinglePart:
		return "single-part"
	case Multipart:
		return "multipart"
	default:
		return "opaque"
	}
}

// ETag is a parsed S3 ETag. It is a plain value: safe to copy and to share
// between goroutines.
type ETag struct {
	// Kind is the form. Digest and Parts are meaningful only for SinglePart
	// and Multipart.
	Kind Kind
	// Digest is the 16 bytes the hex digits spell.
	Digest [16]byte
	// Parts is N for Multipart, 0 otherwise.
	Parts int
	// Raw is the string Parse was given, kept for logs.
	Raw string
}

// String returns the canonical form without quotes (lowercase hex, "-N" for
// a multipart ETag), or Raw for an Opaque ETag.
func (e ETag) String() string {
	switch e.Kind {
	case SinglePart:
		return hex.EncodeToString(e.Digest[:])
	case Multipart:
		return hex.EncodeToString(e.Digest[:]) + "-" + strconv.Itoa(e.Parts)
	default:
		return e.Raw
	}
}

// ErrMalformed is matched (errors.Is) by every error Parse returns.
var ErrMalformed = errors.New("not an S3 MD5 ETag")

// Parse reads an ETag as S3 returns it, with or without its double quotes;
// surrounding spaces are removed and hex digits may be of either case.
//
// A string in neither S3 form returns an Opaque ETag with Raw set, still a
// valid argument to NewProver, and an error matching ErrMalformed that says
// why. Weak ETags (W/"...") are Opaque: S3 never sends them, so whatever
// sent one promises no digest. A part count is decimal without sign or
// leading zeros, from 1 to MaxParts.
//
// Parse is a pure function, safe for concurrent use.
func Parse(s string) (ETag, error) {
	e := ETag{Raw: s}
	v := strings.TrimSpace(s)
	if strings.HasPrefix(v, "W/") || strings.HasPrefix(v, "w/") {
		return e, malformed(s, "weak ETag")
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if strings.ContainsRune(v, '"') {
		return e, malformed(s, "unbalanced or inner quote")
	}
	digits, count, multipart := strings.Cut(v, "-")
	if len(digits) != 32 {
		return e, malformed(s, "digest is not 32 hex digits")
	}
	if _, err := hex.Decode(e.Digest[:], []byte(digits)); err != nil {
		e.Digest = [16]byte{}
		return e, malformed(s, "digest is not 32 hex digits")
	}
	if !multipart {
		e.Kind = SinglePart
		return e, nil
	}
	n, ok := parseParts(count)
	if !ok {
		e.Digest = [16]byte{}
		return e, malformed(s, fmt.Sprintf("part count is not a decimal from 1 to %d", MaxParts))
	}
	e.Kind, e.Parts = Multipart, n
	return e, nil
}

// parseParts accepts exactly the decimals S3 writes: 1 to MaxParts, no sign,
// no leading zero, no spaces.
func parseParts(s string) (int, bool) {
	if s == "" || len(s) > len(strconv.Itoa(MaxParts)) || s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > MaxParts {
		return 0, false
	}
	return n, true
}

func malformed(s, why string) error {
	return fmt.Errorf("etag %q: %s: %w", s, why, ErrMalformed)
}
