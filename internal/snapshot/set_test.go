package snapshot

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/zfs"
)

// offManager is a Manager with Previous Versions off, which New builds
// without asking ZFS.
func offManager(share, dataset string) *Manager {
	return New(Options{Share: share, Dataset: dataset, Interval: time.Hour, PreOpRetention: 30 * 24 * time.Hour, Log: zerolog.Nop()})
}

// TestSetStatus: the status of a plain directory, of a ZFS share with
// snapshots off and of one with snapshots on, from the last listing (the
// newest ten, newest first); a failed listing keeps the last good list
// and shows its error.
func TestSetStatus(t *testing.T) {
	s := NewSet([]Share{
		{Name: "plain"},
		{Name: "off", Dataset: "tank/off"},
		{Name: "on", Dataset: "gs-no-such-pool/on", Manager: offManager("on", "gs-no-such-pool/on")},
	}, zerolog.Nop())
	s.datasets["off"] = zfs.DatasetInfo{Used: 10, Available: 20}

	require.Equal(t, "the share is a plain directory, not a ZFS dataset", s.Status("plain").Reason)
	off := s.Status("off")
	require.False(t, off.Enabled)
	require.Equal(t, "snapshots are turned off for this share (snapshots.enabled: false)", off.Reason)
	require.Equal(t, "tank/off", off.Dataset)
	require.Equal(t, uint64(10), off.DatasetUsed)
	require.Equal(t, uint64(20), off.DatasetAvailable)

	var snaps []zfs.SnapshotInfo
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		at := base.Add(time.Duration(i) * time.Hour)
		snaps = append(snaps, zfs.SnapshotInfo{Dataset: "gs-no-such-pool/on", Name: zfs.ScheduleName(at), Created: at, Used: uint64(i)})
	}
	snaps[11].Holds = 1
	s.listed["on"] = listing{snaps: snaps, at: base}
	on := s.Status("on")
	require.True(t, on.Enabled)
	require.Empty(t, on.Reason)
	require.Equal(t, 3600.0, on.IntervalSeconds)
	require.Equal(t, ModeOff, on.PreviousVersions)
	require.Equal(t, 12, on.Count)
	require.Len(t, on.Recent, 10)
	require.Equal(t, snaps[11].Name, on.Recent[0].Name, "newest first")
	require.True(t, on.Recent[0].Held)
	require.Equal(t, "scheduled", on.Recent[0].Kind)
	require.Equal(t, snaps[2].Name, on.Recent[9].Name)
	require.Empty(t, on.LastError)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.Refresh(ctx, "on") // the pool does not exist: the listing fails
	on = s.Status("on")
	require.NotEmpty(t, on.LastError)
	require.False(t, on.LastErrorAt.IsZero())
	require.Equal(t, 12, on.Count, "the last good list stays")
}

// TestSetManager: an unknown share and a share without snapshots are told
// apart; an approved delete on a share without snapshots needs none.
func TestSetManager(t *testing.T) {
	m := offManager("on", "tank/on")
	s := NewSet([]Share{{Name: "plain"}, {Name: "off", Dataset: "tank/off"}, {Name: "on", Dataset: "tank/on", Manager: m}}, zerolog.Nop())
	got, err := s.Manager("on")
	require.NoError(t, err)
	require.Same(t, m, got)
	for _, share := range []string{"plain", "off"} {
		_, err = s.Manager(share)
		require.ErrorIs(t, err, ErrNoSnapshots, share)
		require.Equal(t, fmt.Sprintf("share %s: %v", share, ErrNoSnapshots), err.Error())
		require.NoError(t, s.BeforeDeletes(context.Background(), share))
	}
	_, err = s.Manager("nope")
	require.EqualError(t, err, `no share "nope"`)
	require.ErrorIs(t, err, ErrNoShare, "the admin API answers 404 on it")
	require.EqualError(t, s.BeforeDeletes(context.Background(), "nope"), `no share "nope"`)
}
