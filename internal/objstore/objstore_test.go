package objstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func body(n int) ([]byte, string) {
	b := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	h := sha256.Sum256(b)
	return b, hex.EncodeToString(h[:])
}

var errDisk = errors.New("disk read failed")

// failAfter yields n bytes of r, then fails.
type failAfter struct {
	r io.Reader
	n int
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDisk
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

func TestVerifyingReader(t *testing.T) {
	b, sum := body(100)
	crc := fmt.Sprintf("%08x", crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	tests := []struct {
		name    string
		r       io.Reader
		size    int64
		sha     string
		crc     string
		wantErr error
	}{
		{"exact", bytes.NewReader(b), 100, sum, "", nil},
		{"short", bytes.NewReader(b[:99]), 100, sum, "", ErrSizeMismatch},
		{"long", bytes.NewReader(append(b, 'x')), 100, sum, "", ErrSizeMismatch},
		{"wrong sha", bytes.NewReader(b), 100, strings.Repeat("0", 64), "", ErrChecksumMismatch},
		{"body error", &failAfter{r: bytes.NewReader(b), n: 50}, 100, sum, "", errDisk},
		{"one byte at a time", &oneByte{r: bytes.NewReader(b)}, 100, sum, "", nil},
		{"crc32c exact", bytes.NewReader(b), 100, sum, crc, nil},
		// With a CRC32C given, the SHA-256 is not computed again: a wrong
		// one passes here (the server verifies single-part SHA-256s).
		{"crc32c exact, sha not rechecked", bytes.NewReader(b), 100, strings.Repeat("0", 64), crc, nil},
		{"wrong crc32c", bytes.NewReader(b), 100, sum, "00000000", ErrChecksumMismatch},
		{"crc32c short", bytes.NewReader(b[:99]), 100, sum, crc, ErrSizeMismatch},
		{"crc32c one flipped bit", bytes.NewReader(flip(b, 37)), 100, sum, crc, ErrChecksumMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifyingReader(tc.r, tc.size, tc.sha, tc.crc)
			got, err := io.ReadAll(v)
			if tc.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, b, got)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			_, err = v.Read(make([]byte, 1))
			require.ErrorIs(t, err, tc.wantErr, "errors are sticky")
		})
	}
}

type oneByte struct{ r io.Reader }

func (o *oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(1, len(p))]) }

// flip returns a copy of b with bit i flipped.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i/8] ^= 1 << (i % 8)
	return c
}
