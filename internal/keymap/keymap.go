package keymap

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"genesissync/internal/layout"
)

// Reason says why a key or path was refused. Its values are short, stable,
// machine-readable strings (metrics labels, API fields); the constants below
// are all of them. A Reason is a plain value, safe to share.
type Reason string

// The reasons a name is refused, in the package documentation's order.
const (
	ReasonEmpty               Reason = "empty"                 // the whole key is empty
	ReasonTooLong             Reason = "too-long"              // over MaxKeyBytes
	ReasonAbsolute            Reason = "absolute"              // starts with "/"
	ReasonEmptySegment        Reason = "empty-segment"         // "a//b", or a path (not a key) ending in "/"
	ReasonDotSegment          Reason = "dot-segment"           // a "." or ".." segment
	ReasonInvalidUTF8         Reason = "invalid-utf8"          // not valid UTF-8
	ReasonNUL                 Reason = "nul"                   // a NUL byte
	ReasonBackslash           Reason = "backslash"             // a "\", a separator to Windows
	ReasonSlash               Reason = "slash"                 // a "/" in the one name given to Check
	ReasonControlChar         Reason = "control-char"          // C0, DEL, C1, U+2028, U+2029
	ReasonWindowsIllegalChar  Reason = "windows-illegal-char"  // one of < > : " | ? *
	ReasonFormatChar          Reason = "format-char"           // an invisible format character (Cf or default-ignorable) other than ZWNJ and ZWJ
	ReasonSegmentTooLong      Reason = "segment-too-long"      // a segment over MaxSegmentBytes
	ReasonTrailingDotOrSpace  Reason = "trailing-dot-or-space" // a segment ending in "." or " "
	ReasonReservedPrefix      Reason = "reserved-prefix"       // a segment starting with layout.ReservedPrefix, in any case
	ReasonWindowsReservedName Reason = "windows-reserved-name" // CON, NUL, COM1, LPT¹, ... with or without extension
	ReasonCaseCollision       Reason = "case-collision"        // equal to an earlier path of the share but for case (Folder)
)

const (
	// MaxKeyBytes is the longest key accepted, in bytes: S3's limit.
	MaxKeyBytes = 1024
	// MaxSegmentBytes is the longest path segment accepted, in bytes: NAME_MAX
	// of ext4 and ZFS.
	MaxSegmentBytes = 255
)

// ErrDirMarker is matched (errors.Is) by the error LocalPath returns for a
// valid key ending in "/": a directory marker object, which has no file to
// become. It is not a refusal; callers skip the key quietly.
var ErrDirMarker = errors.New("directory marker object")

// RefusedError says that a key or path was refused and why. It is returned
// by LocalPath, Key, Check and Folder.Add as a *RefusedError. Its fields are
// set once; a RefusedError is safe to share between goroutines.
type RefusedError struct {
	// Key is the refused key, share path or name, exactly as given.
	Key string
	// Reason is the stable, machine-readable cause.
	Reason Reason
	// Detail is for people: the offending segment, character or length, or
	// for a case collision `collides with "the/earlier/path"`. Names in it
	// are quoted with %q; it is never parsed.
	Detail string
}

// Error quotes the key with %q, so that control and format characters are
// visible and cannot forge a log line.
func (e *RefusedError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("refused %q: %s", e.Key, e.Reason)
	}
	return fmt.Sprintf("refused %q: %s: %s", e.Key, e.Reason, e.Detail)
}

// LocalPath validates a key from the bucket, relative to the share's prefix,
// and returns the share-relative, slash-separated path it maps to: the key
// itself. A refused key returns a *RefusedError. A key ending in "/" whose
// directory path is valid returns an error matching ErrDirMarker. LocalPath
// is pure and safe for concurrent use.
func LocalPath(key string) (string, error) {
	if err := checkPath(key, true); err != nil {
		return "", err
	}
	return key, nil
}

// Key maps a share-relative, slash-separated path of a local file to its
// key: the path itself. It refuses, with the same *RefusedError, every path
// that LocalPath would refuse, so that nothing is uploaded that could never
// come back down; a path ending in "/" is refused with ReasonEmptySegment.
// Key is pure and safe for concurrent use.
func Key(rel string) (string, error) {
	if err := checkPath(rel, false); err != nil {
		return "", err
	}
	return rel, nil
}

// Check validates one path segment, such as a conflict name about to be
// created, with the same rules as each segment of a key; a "/" in it is
// refused with ReasonSlash. It returns nil or a *RefusedError. Check is pure
// and safe for concurrent use.
func Check(name string) error {
	if r, what := checkSegment(name); r != "" {
		return &RefusedError{Key: name, Reason: r, Detail: what}
	}
	return nil
}

// checkPath applies the rules to a key (dirMarkers: a trailing "/" marks a
// directory) or to a share path.
func checkPath(p string, dirMarkers bool) error {
	switch {
	case p == "":
		return &RefusedError{Key: p, Reason: ReasonEmpty}
	case len(p) > MaxKeyBytes:
		return &RefusedError{Key: p, Reason: ReasonTooLong,
			Detail: fmt.Sprintf("%d bytes (limit %d)", len(p), MaxKeyBytes)}
	case p[0] == '/':
		return &RefusedError{Key: p, Reason: ReasonAbsolute}
	}
	body, marker := p, false
	if dirMarkers && p[len(p)-1] == '/' {
		body, marker = p[:len(p)-1], true
	}
	for rest, more := body, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		if r, what := checkSegment(seg); r != "" {
			detail := fmt.Sprintf("segment %q", seg)
			if what != "" {
				detail = what + " in " + detail
			}
			return &RefusedError{Key: p, Reason: r, Detail: detail}
		}
	}
	if marker {
		return fmt.Errorf("key %q: %w", p, ErrDirMarker)
	}
	return nil
}

// checkSegment returns the reason one segment is refused, with what offends
// (without naming the segment), or "" when it is fine.
func checkSegment(seg string) (Reason, string) {
	switch seg {
	case "":
		return ReasonEmptySegment, ""
	case ".", "..":
		return ReasonDotSegment, ""
	}
	for i := 0; i < len(seg); {
		r, size := utf8.DecodeRuneInString(seg[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return ReasonInvalidUTF8, fmt.Sprintf("byte 0x%02x at offset %d", seg[i], i)
		case r == 0:
			return ReasonNUL, ""
		case r == '\\':
			return ReasonBackslash, ""
		case r == '/':
			return ReasonSlash, ""
		case isControl(r):
			return ReasonControlChar, fmt.Sprintf("%U", r)
		case strings.ContainsRune(`<>:"|?*`, r):
			return ReasonWindowsIllegalChar, fmt.Sprintf("%q", r)
		case isFormat(r):
			return ReasonFormatChar, fmt.Sprintf("%U", r)
		}
		i += size
	}
	if len(seg) > MaxSegmentBytes {
		return ReasonSegmentTooLong, fmt.Sprintf("%d bytes (limit %d)", len(seg), MaxSegmentBytes)
	}
	if last := seg[len(seg)-1]; last == '.' || last == ' ' {
		return ReasonTrailingDotOrSpace, ""
	}
	if hasFoldPrefix(seg, layout.ReservedPrefix) {
		return ReasonReservedPrefix, ""
	}
	if base, ok := windowsDevice(seg); ok {
		return ReasonWindowsReservedName, fmt.Sprintf("device %q", base)
	}
	return "", ""
}

// isControl reports C0, DEL, C1 and the line and paragraph separators.
func isControl(r rune) bool {
	return r < 0x20 || (0x7f <= r && r <= 0x9f) || r == '\u2028' || r == '\u2029'
}

// isFormat reports an invisible format character (Cf) or other
// default-ignorable code point, except ZWNJ and ZWJ (see the package
// documentation).
func isFormat(r rune) bool {
	return r != '\u200c' && r != '\u200d' &&
		(unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r))
}

// windowsDevice reports whether seg names a Windows device: the part before
// the first dot, less trailing spaces, is a device name in any case. It
// returns that part.
func windowsDevice(seg string) (string, bool) {
	base, _, _ := strings.Cut(seg, ".")
	base = strings.TrimRight(base, " ")
	// The longest device name, CONOUT$, has 7 bytes, COM³ 5.
	if len(base) < 3 || len(base) > 7 {
		return "", false
	}
	switch b := foldString(base); b {
	case "con", "prn", "aux", "nul", "conin$", "conout$":
		return base, true
	default:
		if len(b) < 4 || (b[:3] != "com" && b[:3] != "lpt") {
			return "", false
		}
		switch b[3:] {
		case "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3":
			return base, true
		}
	}
	return "", false
}
