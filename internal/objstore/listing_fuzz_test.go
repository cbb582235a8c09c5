package objstore

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"genesissync/internal/keymap"
)

// encodings are the ways an S3 server may URL-encode a listed key when
// asked for encoding-type=url: form encoding with "/" escaped or kept
// (MinIO keeps it), a space as %20 instead of "+", every byte escaped,
// hex digits in either case.
var encodings = map[string]func(string) string{
	"query":         url.QueryEscape,
	"query, / kept": func(k string) string { return strings.ReplaceAll(url.QueryEscape(k), "%2F", "/") },
	"space %20":     func(k string) string { return strings.ReplaceAll(url.QueryEscape(k), "+", "%20") },
	"every byte":    func(k string) string { return escapeAll(k, "0123456789ABCDEF") },
	"lower hex":     func(k string) string { return escapeAll(k, "0123456789abcdef") },
}

func escapeAll(k, digits string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		b.WriteByte('%')
		b.WriteByte(digits[k[i]>>4])
		b.WriteByte(digits[k[i]&15])
	}
	return b.String()
}

// FuzzListedKey: any key, listed raw (a server that ignores
// encoding-type=url says so by an empty EncodingType) or URL-encoded in
// any of the ways servers do it, decodes to exactly the stored key, and so
// maps to the same share path or to the same refusal.
func FuzzListedKey(f *testing.F) {
	for _, k := range []string{"p+q.txt", "100%.txt", "a b/c+d%2B.mp3", "Simon + Garfunkel.mp3",
		"é/ü(1)&=,;:@$.mp3", "../x", "a\x00b", "dir/", "%", "+", "%zz", "a%2Fb"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if key == "" || !utf8.ValidString(key) {
			return // objstore refuses these before any request
		}
		want, wantErr := keymap.LocalPath(key)
		check := func(how, listed string, enc s3types.EncodingType) {
			got, err := decodeKey(enc, listed)
			require.NoError(t, err, "%s: %q", how, listed)
			require.Equal(t, key, got, "%s: %q", how, listed)
			p, perr := keymap.LocalPath(got)
			require.Equal(t, want, p, how)
			var re1, re2 *keymap.RefusedError
			if errors.As(wantErr, &re1) {
				require.ErrorAs(t, perr, &re2, how)
				require.Equal(t, re1.Reason, re2.Reason, how)
			} else {
				require.Equal(t, wantErr == nil, perr == nil, how)
			}
		}
		check("raw", key, "")
		for how, enc := range encodings {
			check(how, enc(key), s3types.EncodingTypeUrl)
		}
	})
}
