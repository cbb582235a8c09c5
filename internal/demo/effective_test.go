package demo

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/tripwire"
)

// TestEffectiveConfig: the example config with the demo's overrides
// parses to what the demo runs, keeps its comments, and gains the keys it
// lacked.
func TestEffectiveConfig(t *testing.T) {
	data, err := os.ReadFile("../../configs/genesissync.example.yaml")
	require.NoError(t, err)
	probe, err := config.Parse(data, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	out, err := effectiveConfig(data, demoOverrides(probe, dir, Options{MinIOAddr: "127.0.0.1:9100", SMBPort: 4999, StatusAddr: "127.0.0.1:8099"}))
	require.NoError(t, err)
	cfg, err := config.Parse(out, nil)
	require.NoError(t, err, "%s", out)
	require.Equal(t, filepath.Join(dir, "state"), cfg.StateDir)
	require.Equal(t, filepath.Join(dir, "samba"), cfg.Samba.RunDir)
	require.Equal(t, 4999, cfg.Samba.Port)
	require.Equal(t, "127.0.0.1:8099", cfg.Status.Listen)
	require.False(t, cfg.Status.IsSecureCookie())
	require.Equal(t, filepath.Join(dir, "shares", "studio"), cfg.Shares["studio"].Path)
	require.Equal(t, "http://127.0.0.1:9100", cfg.Shares["studio"].Target.Endpoint)
	require.Equal(t, probe.Shares["studio"].Target.Bucket, cfg.Shares["studio"].Target.Bucket, "the rest as it was")
	require.Contains(t, string(out), "# recovery point target", "comments kept")

	_, err = effectiveConfig([]byte("- a list"), nil)
	require.ErrorContains(t, err, "not a YAML mapping")
	_, err = effectiveConfig([]byte("samba: 3\n"), []override{{path: []string{"samba", "port"}, tag: "!!int", value: "1"}})
	require.ErrorContains(t, err, `samba.port: "samba" is not a mapping`)
}

// TestSeedOnAir: the sample is real MPEG audio frames and a playlist, and
// a second run leaves what is there.
func TestSeedOnAir(t *testing.T) {
	share := t.TempDir()
	require.NoError(t, seedOnAir(share, -1, -1))
	track, err := os.ReadFile(filepath.Join(share, demoTrack))
	require.NoError(t, err)
	require.Equal(t, []byte{0xFF, 0xFB}, track[:2], "an MPEG frame sync")
	require.Equal(t, byte(0xFF), track[417], "the next frame follows")
	v := tripwire.Sniff(demoTrack, track[:min(len(track), tripwire.HeadSize)])
	require.True(t, v.Known && v.Matches, "the tripwire sees MPEG audio: %+v", v)
	require.NoError(t, os.WriteFile(filepath.Join(share, demoPlaylist), []byte("edited"), 0o644))
	require.NoError(t, seedOnAir(share, -1, -1))

	if os.Geteuid() == 0 { // the demo runs as root and gives the sample to the service user
		owned := t.TempDir()
		require.NoError(t, seedOnAir(owned, 65534, 65534))
		for _, rel := range []string{"Music", demoTrack, "Playlists", demoPlaylist} {
			fi, err := os.Stat(filepath.Join(owned, rel))
			require.NoError(t, err)
			require.Equal(t, uint32(65534), fi.Sys().(*syscall.Stat_t).Uid, rel)
		}
	}
	got, err := os.ReadFile(filepath.Join(share, demoPlaylist))
	require.NoError(t, err)
	require.Equal(t, "edited", string(got))
}
