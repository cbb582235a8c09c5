package samba

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMakeRunDirsParentsSearchable: a RunDir under a 0750 state_dir (the
// default) must stay reachable by smbd's children running as the force
// user, or Samba takes live share-mode lock holders for dead ones.
func TestMakeRunDirsParentsSearchable(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.Mkdir(state, 0o750))
	require.NoError(t, os.Chmod(state, 0o750))
	g := testGlobal()
	g.RunDir = filepath.Join(state, "samba")
	require.NoError(t, MakeRunDirs(g))

	for d := g.RunDir; d != filepath.Dir(d); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		require.NoError(t, err)
		require.NotZero(t, fi.Mode().Perm()&0o001, "%s (%v) is not searchable by others", d, fi.Mode().Perm())
	}
	fi, err := os.Stat(state)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o751), fi.Mode().Perm(), "search added, nothing else")
	fi, err = os.Stat(filepath.Join(g.RunDir, "lock"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
}
