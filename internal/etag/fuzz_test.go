package etag

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fuzz targets run their seeds with every go test; to search further:
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 20s ./internal/etag/
//	go test -run '^$' -fuzz FuzzPartSizes -fuzztime 20s ./internal/etag/
//	go test -run '^$' -fuzz FuzzProver -fuzztime 20s ./internal/etag/

// FuzzParse checks that Parse never panics, that an error comes exactly
// with Opaque, and that a parsed ETag survives its own String, quoted and in
// upper case.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`"` + emptyMD5 + `"`, emptyMD5 + "-1", emptyMD5 + "-10000", emptyMD5 + "-10001",
		`W/"` + emptyMD5 + `"`, `""`, `"`, "", strings.ToUpper(emptyMD5) + "-07", " " + emptyMD5 + "-2 ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		require.Equal(t, s, e.Raw)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			require.Equal(t, Opaque, e.Kind)
			return
		}
		require.NotEqual(t, Opaque, e.Kind)
		if e.Kind == Multipart {
			require.GreaterOrEqual(t, e.Parts, 1)
			require.LessOrEqual(t, e.Parts, MaxParts)
		} else {
			require.Zero(t, e.Parts)
		}
		for _, form := range []string{e.String(), `"` + e.String() + `"`, strings.ToUpper(e.String())} {
			again, err := Parse(form)
			require.NoError(t, err)
			require.Equal(t, e.Kind, again.Kind)
			require.Equal(t, e.Digest, again.Digest)
			require.Equal(t, e.Parts, again.Parts)
		}
	})
}

// FuzzPartSizes checks the candidate invariants for any size and count,
// including the int64 extremes.
func FuzzPartSizes(f *testing.F) {
	f.Add(int64(40*miB), 3)
	f.Add(int64(1<<30), 2)
	f.Add(int64(0), 1)
	f.Add(int64(-1), 2)
	f.Add(int64(1<<63-1), 2)
	f.Add(int64(1<<63-1), 10000)
	f.Add(int64(5243928576), 313)
	f.Fuzz(func(t *testing.T, size int64, parts int) {
		got := PartSizes(size, parts)
		checkCandidates(t, size, parts, got)
		if parts < 1 || parts > MaxParts || size < 0 {
			require.Nil(t, got)
		}
	})
}

// FuzzProver cuts data at one of PartSizes' candidates, computes the ETag
// with the reference implementation, and checks that a Prover fed in
// data-driven chunks proves it with that part size, and that a changed byte
// is never Equal.
func FuzzProver(f *testing.F) {
	f.Add([]byte("hello, world"), uint16(3), uint8(0), uint8(5))
	f.Add([]byte{}, uint16(1), uint8(0), uint8(1))
	f.Add([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), uint16(7), uint8(2), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, parts uint16, pick, chunk uint8) {
		n := 1 + int(parts)%64
		cands := PartSizes(int64(len(data)), n)
		if len(cands) == 0 {
			return
		}
		part := cands[int(pick)%len(cands)]
		remote := mustParse(t, refMultipart(data, int(max(part, 1))))
		require.Equal(t, n, remote.Parts)

		p := NewProver(int64(len(data)), remote, true)
		feed(t, p, data, []int{1 + int(chunk)%17, 1, 1 + int(chunk)})
		r := p.Result()
		require.Equal(t, Equal, r.Verdict, "%+v", r)
		require.Equal(t, part, r.PartSize)
		require.Equal(t, refMD5(data), p.MD5())

		if len(data) == 0 {
			return
		}
		changed := append([]byte(nil), data...)
		changed[int(chunk)%len(changed)] ^= 0x80
		q := NewProver(int64(len(changed)), remote, true)
		feed(t, q, changed, []int{1 + int(chunk)})
		require.NotEqual(t, Equal, q.Result().Verdict)
	})
}
