package samba

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
)

func testConfig() *config.Config {
	cfg := &config.Config{
		StateDir: "/var/lib/genesissync",
		Users: map[string]config.User{
			"studio":  {Password: "pw-studio"},
			"player1": {Password: "pw-player"},
		},
		Shares: map[string]*config.Share{
			"playout": {
				Path:    "/tank/playout",
				Comment: "Playout library",
				Access:  map[string]string{"studio": config.AccessReadWrite, "player1": config.AccessReadOnly},
			},
			"jingles": {
				Path:   "/tank/jingles",
				Access: map[string]string{"studio": config.AccessReadWrite},
			},
		},
	}
	cfg.ApplyDefaults()
	return cfg
}

func TestDefs(t *testing.T) {
	defs, g, err := Defs(testConfig())
	require.NoError(t, err)
	require.Equal(t, Global{
		Listen:      "127.0.0.1",
		Port:        445,
		RunDir:      "/var/lib/genesissync/samba",
		ServiceUser: "genesissync",
		Workgroup:   "WORKGROUP",
		NetbiosName: "GENESISSYNC",
	}, g)
	require.Equal(t, []ShareDef{
		{Name: "jingles", Path: "/tank/jingles", ReadWrite: []string{"studio"}, ReadOnly: []string{}, ForceUser: "genesissync"},
		{Name: "playout", Path: "/tank/playout", Comment: "Playout library", ReadWrite: []string{"studio"}, ReadOnly: []string{"player1"}, ForceUser: "genesissync"},
	}, defs)

	// Explicit settings win over defaults.
	cfg := testConfig()
	cfg.Samba = config.Samba{Mode: config.SambaStandalone, Listen: "0.0.0.0", Port: 1445, RunDir: "/run/gs",
		ServiceUser: "media", Workgroup: "STATION", NetbiosName: "STUDIO1"}
	defs, g, err = Defs(cfg)
	require.NoError(t, err)
	require.Equal(t, Global{Listen: "0.0.0.0", Port: 1445, RunDir: "/run/gs", ServiceUser: "media",
		Workgroup: "STATION", NetbiosName: "STUDIO1"}, g)
	require.Equal(t, "media", defs[0].ForceUser)

	// The result renders.
	_, err = Render(g, defs)
	require.NoError(t, err)
	_, err = RenderInclude(defs)
	require.NoError(t, err)

	// Appliance mode needs no run dir.
	cfg = testConfig()
	cfg.StateDir, cfg.Samba.RunDir = "", ""
	cfg.Samba.Mode = config.SambaAppliance
	_, _, err = Defs(cfg)
	require.NoError(t, err)
}

func TestDefsErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*config.Config)
		want string
	}{
		{"unknown access", func(c *config.Config) { c.Shares["playout"].Access["studio"] = "admin" },
			`share "playout": user "studio": access "admin": want rw or ro`},
		{"undefined user", func(c *config.Config) { c.Shares["playout"].Access["ghost"] = "ro" },
			`share "playout": user "ghost": has access but is not defined in users`},
		{"hostile share name", func(c *config.Config) { c.Shares["x\n[global]"] = c.Shares["playout"]; delete(c.Shares, "playout") },
			`share "x\n[global]": invalid name`},
		{"hostile path", func(c *config.Config) { c.Shares["playout"].Path = "/tank\ninclude = /etc/passwd" },
			`share "playout": path "/tank\ninclude = /etc/passwd"`},
		{"no access", func(c *config.Config) { c.Shares["jingles"].Access = nil }, `share "jingles": no user has access`},
		{"nil share", func(c *config.Config) { c.Shares["jingles"] = nil }, `share "jingles": empty definition`},
		{"no run dir", func(c *config.Config) { c.Samba.RunDir = "" }, "samba run dir: empty"},
		{"bad listen", func(c *config.Config) { c.Samba.Listen = "localhost" }, `samba listen "localhost": not an IP address`},
		{"bad service user", func(c *config.Config) { c.Samba.ServiceUser = "root" }, `samba service user "root"`},
		{"bad service user, appliance", func(c *config.Config) { c.Samba.Mode = config.SambaAppliance; c.Samba.ServiceUser = "Bad User" },
			`samba service user "Bad User"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.mod(cfg)
			_, _, err := Defs(cfg)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
	_, _, err := Defs(nil)
	require.Error(t, err)
}

// TestDefsPreviousVersions: a share on a ZFS dataset with Previous
// Versions on gets shadow_copy2, reading .zfs/snapshot where the dataset
// shows one and the appliance's clone directory where not (zfs-fuse); a
// plain directory, or previous_versions: false, gets none.
func TestDefsPreviousVersions(t *testing.T) {
	on, off := true, false
	withZFS := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(withZFS, ".zfs", "snapshot"), 0o755))
	cfg := testConfig()
	cfg.Shares["playout"].Path = withZFS
	cfg.Shares["playout"].Dataset = "tank/playout"
	cfg.Shares["playout"].Snapshots = config.SnapshotPolicy{Enabled: &on, PreviousVersions: &on}
	cfg.Shares["jingles"].Path = t.TempDir()
	cfg.Shares["jingles"].Dataset = "tank/jingles"
	cfg.Shares["jingles"].Snapshots = config.SnapshotPolicy{Enabled: &on, PreviousVersions: &on}
	cfg.Shares["news"] = &config.Share{Path: t.TempDir(), Dataset: "tank/news", Access: map[string]string{"studio": config.AccessReadWrite},
		Snapshots: config.SnapshotPolicy{Enabled: &on, PreviousVersions: &off}}
	cfg.Shares["plain"] = &config.Share{Path: t.TempDir(), Access: map[string]string{"studio": config.AccessReadWrite}}
	defs, _, err := Defs(cfg)
	require.NoError(t, err)
	got := map[string]string{}
	for _, d := range defs {
		got[d.Name] = d.ShadowSnapdir
	}
	require.Equal(t, map[string]string{"jingles": ".genesissync-snapshots", "news": "", "plain": "", "playout": ".zfs/snapshot"}, got)
	data, err := RenderInclude(defs)
	require.NoError(t, err)
	require.Contains(t, string(data), "\tshadow:format = gs-%Y-%m-%d-%H%M\n")
}
