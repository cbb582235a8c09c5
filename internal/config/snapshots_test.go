package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// onZFS is minimal with the share on a ZFS dataset.
var onZFS = strings.Replace(minimal, "path: /srv/studio", "path: /srv/studio\n    dataset: tank/studio", 1)

func withSnapshots(base, yaml string) string {
	return strings.Replace(base, "path: /srv/studio", "path: /srv/studio\n    snapshots: "+yaml, 1)
}

func TestSnapshotDefaults(t *testing.T) {
	cfg, err := Parse([]byte(onZFS), nil)
	require.NoError(t, err)
	p := cfg.Shares["studio"].Snapshots
	require.True(t, p.On(), "a share with a dataset takes snapshots by default")
	require.True(t, p.ShowPreviousVersions())
	require.Equal(t, time.Hour, p.Interval)
	require.Equal(t, 30*24*time.Hour, p.PreOpRetention)
	h, d, w, m := p.Keep.Counts()
	require.Equal(t, []int{48, 30, 8, 6}, []int{h, d, w, m})

	cfg, err = Parse([]byte(minimal), nil)
	require.NoError(t, err)
	p = cfg.Shares["studio"].Snapshots
	require.False(t, p.On(), "a plain directory has snapshots off")
	require.False(t, p.ShowPreviousVersions())

	// A count given explicitly, even 0, is kept; the others default.
	cfg, err = Parse([]byte(withSnapshots(onZFS, "{interval: 15m, keep: {hourly: 0, monthly: 12}, previous_versions: false}")), nil)
	require.NoError(t, err)
	p = cfg.Shares["studio"].Snapshots
	require.Equal(t, 15*time.Minute, p.Interval)
	h, d, w, m = p.Keep.Counts()
	require.Equal(t, []int{0, 30, 8, 12}, []int{h, d, w, m})
	require.True(t, p.On())
	require.False(t, p.ShowPreviousVersions())
}

func TestSnapshotErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"enabled without dataset", withSnapshots(minimal, "{enabled: true}"), "shares.studio.snapshots.enabled: snapshots need a ZFS dataset: set shares.studio.dataset"},
		{"interval too short", withSnapshots(onZFS, "{interval: 30s}"), "shares.studio.snapshots.interval: must be whole minutes from 1m to 24h"},
		{"interval not whole minutes", withSnapshots(onZFS, "{interval: 90s}"), "shares.studio.snapshots.interval"},
		{"interval too long", withSnapshots(onZFS, "{interval: 48h}"), "shares.studio.snapshots.interval"},
		{"negative keep", withSnapshots(onZFS, "{keep: {daily: -1}}"), "shares.studio.snapshots.keep.daily: must be 0-10000; got -1"},
		{"unknown keep class", withSnapshots(onZFS, "{keep: {yearly: 2}}"), "shares.studio.snapshots.keep.yearly: unknown key"},
		{"short pre-op retention", withSnapshots(onZFS, "{pre_op_retention: 10m}"), "shares.studio.snapshots.pre_op_retention: must be at least 1h"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), nil)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := Parse([]byte(withSnapshots(minimal, "{enabled: false}")), nil)
	require.NoError(t, err, "snapshots off on a plain directory is fine")
}
