package e2e

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// writeLocal writes content seed straight onto the share's disk, as a
// process on the appliance would.
func writeLocal(t *testing.T, p string, seed uint64, size int64) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	f, err := os.Create(p)
	require.NoError(t, err)
	_, err = io.Copy(f, newContent(seed, size))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}
