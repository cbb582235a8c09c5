package reconcile

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpenFileCacheErrsOnTheSafeSide(t *testing.T) {
	fail := true
	reported := 0
	c := &OpenFileCache{
		List: func(context.Context) (map[string]bool, error) {
			if fail {
				return nil, errors.New("smbstatus: not found")
			}
			return map[string]bool{"w.mp3": true, "r.mp3": false}, nil
		},
		OnError: func(error) { reported++ },
	}
	ctx := context.Background()
	require.False(t, c.Writing(ctx, "x.mp3"), "a failed listing does not hold reads back")
	require.True(t, c.Open(ctx, "x.mp3"), "a failed listing never lets a file be replaced")
	require.Equal(t, 2, reported)

	fail = false
	require.True(t, c.Open(ctx, "r.mp3"))
	require.False(t, c.Open(ctx, "x.mp3"))
	require.True(t, c.Writing(ctx, "w.mp3"))
	require.False(t, c.Writing(ctx, "r.mp3"))
}
