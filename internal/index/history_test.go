package index

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHistoryKeptAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := Open(path)
	require.NoError(t, err)
	got, err := ix.LoadHistory("studio")
	require.NoError(t, err)
	require.Nil(t, got, "nothing saved yet")
	require.NoError(t, ix.SaveHistory("studio", []byte(`{"v":1}`)))
	require.NoError(t, ix.SaveHistory("studio", []byte(`{"v":1,"points":[]}`)))
	require.NoError(t, ix.Close())

	ix, err = Open(path)
	require.NoError(t, err)
	defer ix.Close()
	got, err = ix.LoadHistory("studio")
	require.NoError(t, err)
	require.Equal(t, `{"v":1,"points":[]}`, string(got), "the last save wins")
	n := 0
	require.NoError(t, ix.Share("studio").ForEach(func(string, Entry) error { n++; return nil }))
	require.Zero(t, n, "history is not an entry of the share")
}
