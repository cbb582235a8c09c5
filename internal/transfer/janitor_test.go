package transfer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/layout"
)

// fakeAborter reports each grace it is asked with on asked.
type fakeAborter struct {
	asked   chan time.Duration
	aborted int
	err     error
}

func (f *fakeAborter) AbortStale(_ context.Context, olderThan time.Duration) (int, error) {
	f.asked <- olderThan
	return f.aborted, f.err
}

// trashFolders makes a share root with an old trash folder and one of
// today.
func trashFolders(t *testing.T) (root, old, today string) {
	root = t.TempDir()
	old = filepath.Join(root, layout.TrashDir, "2000-01-01")
	today = filepath.Join(root, layout.TrashDir, time.Now().Format("2006-01-02"))
	for _, d := range []string{old, today} {
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "take.wav"), []byte("x"), 0o644))
	}
	return root, old, today
}

func TestJanitorRound(t *testing.T) {
	root, old, today := trashFolders(t)
	store := &fakeAborter{asked: make(chan time.Duration, 1), aborted: 2}
	var buf bytes.Buffer
	j := NewJanitor("studio", store, NewTrash(root, nil), 7*24*time.Hour, time.Now(), zerolog.New(&buf))

	require.True(t, j.round(context.Background(), 3*time.Hour))
	require.Equal(t, 3*time.Hour, <-store.asked)
	require.NoDirExists(t, old)
	require.DirExists(t, today, "trash of today stays")
	require.Contains(t, buf.String(), `{"level":"info","share":"studio","component":"janitor","aborted":2,"older_than":10800000,"message":"aborted stale multipart uploads"}`)
	require.Contains(t, buf.String(), `{"level":"info","share":"studio","component":"janitor","folders":1,"objects":0,"retention":604800000,"message":"expired trash"}`)

	// A failing store is logged and the trash still expires; nothing to
	// do logs nothing.
	buf.Reset()
	store.err, store.aborted = errors.New("503 Slow Down"), 0
	require.True(t, j.round(context.Background(), time.Hour))
	<-store.asked
	require.Equal(t, `{"level":"warn","share":"studio","component":"janitor","error":"503 Slow Down","message":"cleaning up stale multipart uploads failed; will retry"}`+"\n", buf.String())

	// A share root that cannot be opened fails the expiry, logged.
	buf.Reset()
	store.err = nil
	j.trash = NewTrash(filepath.Join(root, "missing"), nil)
	require.True(t, j.round(context.Background(), time.Hour))
	<-store.asked
	require.Contains(t, buf.String(), `"message":"expiring trash failed; will retry"`)

	// An ended context ends the round quietly.
	buf.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.False(t, j.round(ctx, time.Hour))
	<-store.asked
	require.Empty(t, buf.String())
}

// TestJanitorRun: the first round aborts what was initiated before the
// process started, the later ones what is older than an hour.
func TestJanitorRun(t *testing.T) {
	root, _, _ := trashFolders(t)
	store := &fakeAborter{asked: make(chan time.Duration)}
	started := time.Now().Add(-3 * time.Hour)
	j := NewJanitor("studio", store, NewTrash(root, nil), time.Hour, started, zerolog.Nop())
	require.Equal(t, 30*time.Minute, j.every)
	j.every = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- j.Run(ctx) }()

	first := <-store.asked
	require.GreaterOrEqual(t, first, 3*time.Hour)
	require.Less(t, first, 3*time.Hour+time.Minute)
	require.Equal(t, time.Hour, <-store.asked)
	require.Equal(t, time.Hour, <-store.asked)
	cancel()
	for {
		select {
		case <-store.asked: // a round that had begun ends
		case err := <-ran:
			require.NoError(t, err)
			return
		}
	}
}
