package reconcile

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAlive(t *testing.T) {
	s := New(Options{Name: "studio", Root: t.TempDir(), Uploaders: 1})
	require.True(t, s.Alive(time.Second), "before the loop's first round")

	s.beat.Store(time.Now().UnixNano())
	require.True(t, s.Alive(time.Second), "loop went round just now")

	s.beat.Store(time.Now().Add(-5 * time.Second).UnixNano())
	require.False(t, s.Alive(time.Second), "loop stuck for 5s")
	require.True(t, s.Alive(10*time.Second), "5s is within 10s")

	s.beat.Store(time.Now().UnixNano())
	close(s.stopped)
	require.False(t, s.Alive(time.Second), "after Run returned")
}
