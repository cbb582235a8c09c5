package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/model"
)

func TestWarningsFromTheWarningsDir(t *testing.T) {
	state := t.TempDir()
	d := New(&config.Config{StateDir: state, Shares: map[string]*config.Share{"studio": {Name: "studio", StaleAfter: time.Minute}}}, zerolog.Nop(), "test")
	require.Empty(t, d.warnings(), "no directory: no warnings")

	dir := WarningsDir(state)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file-backed-pool"), []byte("No second disk: the pool is a file on the system disk.\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config-invalid"), []byte("shares.studio.target.bucket: required"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".tmp-partial"), []byte("ignored"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "subdir"), 0o755))

	require.Equal(t, []model.Warning{
		{ID: "config-invalid", Message: "shares.studio.target.bucket: required"},
		{ID: "file-backed-pool", Message: "No second disk: the pool is a file on the system disk."},
	}, d.warnings())
	require.Len(t, d.Snapshot().Warnings, 2)
}
