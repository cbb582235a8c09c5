package objstore_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/tests/harness"
)

// wireCounter is a WirePacer that records what the connections ask.
type wireCounter struct {
	mu      sync.Mutex
	chunk   int
	waited  int
	largest int
}

func (w *wireCounter) WaitN(_ context.Context, n int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waited += n
	w.largest = max(w.largest, n)
	return nil
}

func (w *wireCounter) Chunk() int { return w.chunk }

func (w *wireCounter) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waited
}

// TestWirePacer checks that with S3Options.Wire every byte a store sends
// or receives goes through the pacer, in chunks no larger than it allows:
// a multipart Put and a Get of 12 MiB each move at least that many paced
// bytes.
func TestWirePacer(t *testing.T) {
	m := harness.StartMinIO(t)
	w := &wireCounter{chunk: 64 << 10}
	opts := s3Options(m.S3Server, newBucket())
	opts.Wire = w
	s := newS3(t, opts)
	ctx := ctxT(t)
	require.NoError(t, s.EnsureBucket(ctx))

	data := bytes.Repeat([]byte("on air "), (12<<20)/7)
	before := w.total()
	_, err := s.Put(ctx, putInput("music/long.wav", data))
	require.NoError(t, err)
	sent := w.total() - before
	require.GreaterOrEqual(t, sent, len(data), "a Put's body went around the pacer")

	before = w.total()
	r, _, err := s.Get(ctx, "music/long.wav")
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, r.Close())
	require.NoError(t, err)
	require.Equal(t, data, got)
	require.GreaterOrEqual(t, w.total()-before, len(data), "a Get's body went around the pacer")
	require.LessOrEqual(t, w.largest, w.chunk)
}
