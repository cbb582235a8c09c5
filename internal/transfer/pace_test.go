package transfer_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/transfer"
)

// countingPacer records what transfers ask of their pacer.
type countingPacer struct {
	mu               sync.Mutex
	chunk            int
	acquired, freed  int
	waited, largestN int
	block            bool // Acquire waits for ctx
}

func (p *countingPacer) Acquire(ctx context.Context) (func(), error) {
	if p.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	p.mu.Lock()
	p.acquired++
	p.mu.Unlock()
	return func() { p.mu.Lock(); p.freed++; p.mu.Unlock() }, nil
}

func (p *countingPacer) WaitN(_ context.Context, n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waited += n
	p.largestN = max(p.largestN, n)
	return nil
}

func (p *countingPacer) Chunk() int { return p.chunk }

// TestPacer checks that uploads and downloads ask their pacer for a slot
// and that an upload's hash pass reads in chunks no larger than it allows,
// waiting for each (playout-aware transfers depend on it; the wire is
// paced by the store, see objstore's TestWirePacer).
func TestPacer(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	root := t.TempDir()
	const size = 6<<20 + 123 // multipart at the store's 5 MiB parts
	data := writeFile(t, filepath.Join(root, "music", "song.wav"), 7, size)

	up := &countingPacer{chunk: 64 << 10}
	res, err := transfer.NewUploader(root, store, 0).WithPacer(up).Upload(ctx, "music/song.wav", nil, transfer.Precondition{})
	require.NoError(t, err)
	require.Equal(t, transfer.Uploaded, res.Outcome)
	require.Equal(t, 1, up.acquired)
	require.Equal(t, 1, up.freed)
	require.Equal(t, size, up.waited, "the hash pass, each byte once")
	require.LessOrEqual(t, up.largestN, up.chunk)

	down := &countingPacer{chunk: 32 << 10}
	other := t.TempDir()
	_, err = transfer.NewDownloader(other, store, -1, -1).WithPacer(down).Download(ctx, "music/song.wav", nil)
	require.NoError(t, err)
	require.Equal(t, 1, down.acquired)
	require.Equal(t, 1, down.freed)
	require.Zero(t, down.waited, "a download's bytes are paced on the wire")
	got, err := os.ReadFile(filepath.Join(other, "music", "song.wav"))
	require.NoError(t, err)
	require.Equal(t, data, got)

	// A transfer waiting for its slot gives up with its context and
	// touches nothing.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = transfer.NewUploader(root, store, 0).WithPacer(&countingPacer{block: true}).Upload(cctx, "music/song.wav", nil, transfer.Precondition{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	third := t.TempDir()
	_, err = transfer.NewDownloader(third, store, -1, -1).WithPacer(&countingPacer{block: true}).Download(cctx, "music/song.wav", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoFileExists(t, filepath.Join(third, "music", "song.wav"))
}
