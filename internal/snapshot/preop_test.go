package snapshot

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/zfs"
)

// TestTakePreOp checks the retry of a pre-operation snapshot whose name
// (to the second) another operation took this second: with a moving
// clock it gets the next second's name, with a frozen one the error.
func TestTakePreOp(t *testing.T) {
	frozen := time.Date(2026, 11, 22, 3, 15, 2, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		now     func() time.Time
		taken   int // names already taken by other operations, from the first
		wantErr bool
	}{
		{"free name", time.Now, 0, false},
		{"taken this second, the next is free", time.Now, 1, false},
		{"frozen clock", func() time.Time { return frozen }, 1, true},
		{"gives up after three names", time.Now, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tried []string
			take := func(_ context.Context, dataset, name string) error {
				require.Equal(t, "tank/studio", dataset)
				tried = append(tried, name)
				if len(tried) <= tc.taken {
					return fmt.Errorf("zfs snapshot: %w", zfs.ErrExists)
				}
				return nil
			}
			name, err := TakePreOp(context.Background(), "tank/studio", zfs.PreRestore, tc.now, take)
			if tc.wantErr {
				require.ErrorIs(t, err, zfs.ErrExists)
				require.Empty(t, name)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tried[len(tried)-1], name)
			op, _, ok := zfs.ParsePreOpName(name)
			require.True(t, ok)
			require.Equal(t, zfs.PreRestore, op)
			require.Len(t, tried, tc.taken+1)
			if tc.taken > 0 {
				require.NotEqual(t, tried[0], name, "the retry takes another second's name")
			}
		})
	}
	_, err := TakePreOp(context.Background(), "tank/studio", zfs.PreOp("Bad"), nil, nil)
	require.ErrorIs(t, err, zfs.ErrInvalidName)
}
