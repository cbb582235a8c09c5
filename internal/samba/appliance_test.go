package samba

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteInclude(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "genesissync-shares.conf")

	require.NoError(t, WriteInclude(path, []byte("one\n")))
	require.NoError(t, WriteInclude(path, []byte("two\n")))

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "two\n", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 1, "temp file left behind")

	err = WriteInclude(filepath.Join(dir, "missing", "x.conf"), []byte("x"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "write samba include "+filepath.Join(dir, "missing", "x.conf"))
}
