package atomicfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteback writes a file in pieces that straddle the writeback
// chunks: every byte lands, in order, and at most a chunk is left whose
// writeback was not started.
func TestWriteback(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	require.NoError(t, err)
	defer f.Close()
	want := make([]byte, 2*writebackChunk+12345)
	for i := range want {
		want[i] = byte(i * 31)
	}
	w := &writeback{f: f}
	for rest := want; len(rest) > 0; {
		n := min(len(rest), 3<<20+7)
		_, err := w.Write(rest[:n])
		require.NoError(t, err)
		rest = rest[n:]
	}
	require.False(t, w.disabled, "sync_file_range refused on a regular file")
	require.EqualValues(t, len(want), w.written)
	require.Positive(t, w.started, "no writeback was started")
	require.Less(t, w.written-w.started, int64(writebackChunk), "more than a chunk was left without writeback")
	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got))
}

// TestWritebackRefused: where sync_file_range is refused (here a pipe,
// ESPIPE), the calls stop and the writes go on.
func TestWritebackRefused(t *testing.T) {
	r, pw, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	done := make(chan []byte)
	go func() {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r)
		done <- buf.Bytes()
	}()
	want := bytes.Repeat([]byte("x"), writebackChunk+1)
	w := &writeback{f: pw}
	_, err = w.Write(want)
	require.NoError(t, err)
	require.True(t, w.disabled)
	_, err = w.Write([]byte("y"))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	require.Equal(t, append(want, 'y'), <-done)
}
