package keymap

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"genesissync/internal/layout"
)

// The committed seed corpora are in testdata/fuzz/<FuzzName>/; the table
// cases of keymap_test.go are added as seeds too. Run a fuzzer with
//
//	go test -run '^$' -fuzz FuzzLocalPath -fuzztime 20s ./internal/keymap/
//
// and commit any failing input it writes to testdata/fuzz with the fix.

var allReasons = []Reason{
	ReasonEmpty, ReasonTooLong, ReasonAbsolute, ReasonEmptySegment, ReasonDotSegment,
	ReasonInvalidUTF8, ReasonNUL, ReasonBackslash, ReasonSlash, ReasonControlChar,
	ReasonWindowsIllegalChar, ReasonFormatChar, ReasonSegmentTooLong,
	ReasonTrailingDotOrSpace, ReasonReservedPrefix, ReasonWindowsReservedName,
	ReasonCaseCollision,
}

func FuzzLocalPath(f *testing.F) {
	for _, tc := range keyCases {
		f.Add(tc.key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		p, err := LocalPath(key)
		var re *RefusedError
		switch {
		case err == nil:
			requireAccepted(t, key, p)
			k, err := Key(p)
			require.NoError(t, err, "Key refuses what LocalPath accepted")
			require.Equal(t, key, k, "round trip")
		case errors.Is(err, ErrDirMarker):
			require.Empty(t, p)
			require.True(t, strings.HasSuffix(key, "/"), "%q", key)
			dir := strings.TrimSuffix(key, "/")
			got, err2 := LocalPath(dir)
			require.NoError(t, err2, "a marker's directory is a valid key")
			requireAccepted(t, dir, got)
			require.Contains(t, err.Error(), fmt.Sprintf("%q", key))
			requirePrintable(t, err.Error())
		default:
			require.ErrorAs(t, err, &re)
			require.Empty(t, p)
			requireRefusal(t, key, re)
			// Key refuses it too, for the same reason: nothing LocalPath
			// refuses is ever uploaded.
			_, kerr := Key(key)
			var kre *RefusedError
			require.ErrorAs(t, kerr, &kre)
			require.Equal(t, re.Reason, kre.Reason)
		}
		// A key of one segment gets the verdict Check gives the segment.
		if key != "" && !strings.Contains(key, "/") && len(key) <= MaxKeyBytes {
			cerr := Check(key)
			if err == nil {
				require.NoError(t, cerr)
			} else {
				var cre *RefusedError
				require.ErrorAs(t, cerr, &cre)
				require.Equal(t, re.Reason, cre.Reason)
			}
		}
	})
}

func FuzzKey(f *testing.F) {
	for _, tc := range keyCases {
		f.Add(tc.key)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		k, err := Key(rel)
		lp, lerr := LocalPath(rel)
		if err == nil {
			require.Equal(t, rel, k)
			require.NoError(t, lerr, "LocalPath refuses what Key accepted: it could never come back down")
			require.Equal(t, rel, lp)
			requireAccepted(t, rel, k)
			return
		}
		require.Empty(t, k)
		var re *RefusedError
		require.ErrorAs(t, err, &re)
		requireRefusal(t, rel, re)
		require.NotErrorIs(t, err, ErrDirMarker)
		var lre *RefusedError
		switch {
		case errors.As(lerr, &lre):
			require.Equal(t, lre.Reason, re.Reason)
		case errors.Is(lerr, ErrDirMarker):
			require.True(t, strings.HasSuffix(rel, "/"))
			require.Equal(t, ReasonEmptySegment, re.Reason)
		default:
			require.Failf(t, "LocalPath accepts what Key refused", "%q: %v", rel, err)
		}
	})
}

func FuzzFolder(f *testing.F) {
	f.Add("A/x\na/y")
	f.Fuzz(func(t *testing.T, data string) {
		paths := strings.Split(data, "\n")
		if len(paths) > 64 {
			paths = paths[:64]
		}
		folder := NewFolder()
		var kept []string
		for _, p := range paths {
			want := modelCollision(kept, p)
			err := folder.Add(p)
			if want == "" {
				require.NoError(t, err, "%q after %q", p, kept)
				if !slices.Contains(kept, p) {
					kept = append(kept, p)
				}
				continue
			}
			var re *RefusedError
			require.ErrorAs(t, err, &re, "%q after %q", p, kept)
			require.Equal(t, ReasonCaseCollision, re.Reason)
			require.Equal(t, p, re.Key)
			require.Equal(t, fmt.Sprintf("collides with %q", want), re.Detail)
			requirePrintable(t, re.Error())
		}
	})
}

// modelCollision is Folder's specification, by brute force: the leading
// segments of the first kept path that equal p's under strings.EqualFold, per
// rune, but not byte for byte; "" when there are none.
func modelCollision(kept []string, p string) string {
	ps := strings.Split(p, "/")
	for _, q := range kept {
		qs := strings.Split(q, "/")
		for i := 0; i < len(ps) && i < len(qs); i++ {
			if !segmentEqualFold(ps[i], qs[i]) {
				break
			}
			if ps[i] != qs[i] {
				return strings.Join(qs[:i+1], "/")
			}
		}
	}
	return ""
}

// segmentEqualFold is strings.EqualFold rune by rune, except that invalid
// UTF-8 bytes must match exactly (EqualFold takes any two as equal).
func segmentEqualFold(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		badA, badB := ra == utf8.RuneError && na == 1, rb == utf8.RuneError && nb == 1
		switch {
		case badA || badB:
			if !badA || !badB || a[0] != b[0] {
				return false
			}
		case !strings.EqualFold(string(ra), string(rb)):
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return a == "" && b == ""
}

// requireAccepted checks, independently of the package's own rules, what an
// accepted key must be: the identity, printable, within the limits, and
// inside the share root when joined onto it.
func requireAccepted(t *testing.T, key, p string) {
	t.Helper()
	require.Equal(t, key, p, "the mapping is the identity")
	require.True(t, utf8.ValidString(p), "%q", p)
	require.NotEmpty(t, p)
	require.LessOrEqual(t, len(p), MaxKeyBytes)
	require.True(t, filepath.IsLocal(filepath.FromSlash(p)), "%q", p)
	for _, seg := range strings.Split(p, "/") {
		require.NotContains(t, []string{"", ".", ".."}, seg, "%q", p)
		require.LessOrEqual(t, len(seg), MaxSegmentBytes, "%q", p)
		require.False(t, strings.ContainsAny(seg, "\\<>:\"|?*"), "%q", p)
		require.False(t, strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " "), "%q", p)
		require.False(t, strings.HasPrefix(strings.ToLower(seg), layout.ReservedPrefix), "%q", p)
		require.NoError(t, Check(seg))
		for _, r := range seg {
			require.False(t, unicode.IsControl(r) || r == '\u2028' || r == '\u2029', "%q holds %U", p, r)
			invisible := unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
			require.False(t, invisible && r != '\u200c' && r != '\u200d', "%q holds %U", p, r)
		}
	}

	root := filepath.FromSlash("/srv/genesissync/share")
	joined := filepath.Join(root, filepath.FromSlash(p))
	require.Equal(t, root+string(filepath.Separator)+filepath.FromSlash(p), joined, "Join cleaned nothing away")
	rel, err := filepath.Rel(root, joined)
	require.NoError(t, err)
	require.False(t, filepath.IsAbs(rel), "%q", rel)
	require.NotEqual(t, ".", rel, "strictly inside the root")
	require.False(t, rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)), "%q escapes", rel)
	require.Equal(t, filepath.FromSlash(p), rel)
}

// requireRefusal checks a refusal's shape: the key as given, a known reason,
// a printable message that quotes the key.
func requireRefusal(t *testing.T, key string, re *RefusedError) {
	t.Helper()
	require.Equal(t, key, re.Key)
	require.Contains(t, allReasons, re.Reason)
	require.NotEqual(t, ReasonSlash, re.Reason, "only Check refuses a slash")
	require.NotEqual(t, ReasonCaseCollision, re.Reason, "only Folder finds collisions")
	msg := re.Error()
	require.True(t, strings.HasPrefix(msg, fmt.Sprintf("refused %q: %s", key, re.Reason)), "%s", msg)
	requirePrintable(t, msg)
}
