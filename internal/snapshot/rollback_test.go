package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/zfs"
	"genesissync/internal/zfs/zfstest"
)

// fakePipeline records what a rollback asks of it. paused is the state
// it reports once paused (a change noticed in the quiet window).
type fakePipeline struct {
	mu      sync.Mutex
	state   PipelineState
	paused  *PipelineState
	waitErr error
	calls   []string
}

func (p *fakePipeline) call(c string) { p.mu.Lock(); p.calls = append(p.calls, c); p.mu.Unlock() }

func (p *fakePipeline) State() PipelineState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

func (p *fakePipeline) Pause(string) {
	p.call("pause")
	p.mu.Lock()
	if p.paused != nil {
		p.state = *p.paused
	}
	p.mu.Unlock()
}

func (p *fakePipeline) Resume()                { p.call("resume") }
func (p *fakePipeline) HoldNextDeletes(string) { p.call("hold") }
func (p *fakePipeline) SyncNow()               { p.call("sync") }

func (p *fakePipeline) WaitIdle(context.Context) error {
	p.call("wait")
	return p.waitErr
}

var inSync = PipelineState{State: "in-sync", InSync: true}

// TestRollbackShareRefuses: a share that is syncing, gets a change in the
// quiet window, or keeps transfers in flight is not rolled back, and a
// paused pipeline is always resumed. None of these reach ZFS.
func TestRollbackShareRefuses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		p         *fakePipeline
		cancelled bool
		want      string
		calls     []string
	}{
		{
			name:  "syncing",
			p:     &fakePipeline{state: PipelineState{State: "syncing", PendingUploads: 2}},
			want:  "share studio is syncing (0 transfers in flight, 2 uploads pending): roll back once it is in sync",
			calls: nil,
		},
		{
			name:  "transfers in flight",
			p:     &fakePipeline{state: PipelineState{State: "in-sync", InSync: true, InFlight: 1}},
			want:  "share studio is in-sync (1 transfers in flight, 0 uploads pending)",
			calls: nil,
		},
		{
			name:  "a change in the quiet window",
			p:     &fakePipeline{state: inSync, paused: &PipelineState{State: "in-sync", InSync: true, PendingUploads: 1}},
			want:  "share studio is syncing (1 uploads pending)",
			calls: []string{"pause", "resume"},
		},
		{
			name:  "a failing upload in the quiet window",
			p:     &fakePipeline{state: inSync, paused: &PipelineState{State: "in-sync", InSync: true, PendingFailures: 1}},
			want:  "share studio is syncing (0 uploads pending)",
			calls: []string{"pause", "resume"},
		},
		{
			name:      "cancelled in the quiet window",
			p:         &fakePipeline{state: inSync},
			cancelled: true,
			want:      context.Canceled.Error(),
			calls:     []string{"pause", "resume"},
		},
		{
			name:  "transfers do not finish",
			p:     &fakePipeline{state: inSync, waitErr: context.DeadlineExceeded},
			want:  "rollback studio: transfers still in flight after 20s",
			calls: []string{"pause", "hold", "wait", "resume"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Options{Share: "studio", Dataset: "nopool/studio", Mountpoint: t.TempDir(), Interval: config.DefaultSnapshotInterval, PreOpRetention: config.DefaultPreOpRetention, Log: zerolog.New(zerolog.NewTestWriter(t))})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelled {
				cancel()
			}
			err := m.RollbackShare(ctx, tc.p, 0, "gs-2026-11-20-0010", false)
			require.ErrorContains(t, err, tc.want)
			require.Equal(t, tc.calls, tc.p.calls)
		})
	}
}

// TestRollbackShareOnRealPool rolls a live share back on a zfs-fuse pool:
// the files are the snapshot's again, deletes are held before and after,
// the pipeline resumes and scans; newer snapshots are destroyed only when
// asked.
func TestRollbackShareOnRealPool(t *testing.T) {
	ctx := context.Background()
	pool := zfstest.NewPool(t)
	dataset, mp := pool.Dataset(t, "studio")
	var events []string
	m := New(Options{
		Share: "studio", Dataset: dataset, Mountpoint: mp,
		Interval: config.DefaultSnapshotInterval, PreOpRetention: config.DefaultPreOpRetention,
		Event: func(level, kind, msg string) { events = append(events, kind) },
		Log:   zerolog.New(zerolog.NewTestWriter(t)),
	})
	song := filepath.Join(mp, "song.mp3")
	require.NoError(t, os.WriteFile(song, []byte("v1"), 0o644))
	require.NoError(t, zfs.Snapshot(ctx, dataset, "gs-2026-11-20-0010"))
	require.NoError(t, os.WriteFile(song, []byte("v2"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mp, "new.mp3"), []byte("new"), 0o644))
	require.NoError(t, zfs.Snapshot(ctx, dataset, "gs-2026-11-20-0110"))

	p := &fakePipeline{state: inSync}
	err := m.RollbackShare(ctx, p, 0, "gs-2026-11-20-0010", false)
	var newer *zfs.NewerSnapshotsError
	require.True(t, errors.As(err, &newer), "newer snapshots refuse: %v", err)
	require.Equal(t, []string{"gs-2026-11-20-0110"}, newer.Newer)
	require.Equal(t, []string{"pause", "hold", "wait", "resume"}, p.calls, "refused: no scan, still resumed")
	got, err := os.ReadFile(song)
	require.NoError(t, err)
	require.Equal(t, "v2", string(got), "nothing rolled back")

	p = &fakePipeline{state: inSync}
	require.NoError(t, m.RollbackShare(ctx, p, 0, "gs-2026-11-20-0010", true))
	require.Equal(t, []string{"pause", "hold", "wait", "hold", "resume", "sync", "resume"}, p.calls)
	got, err = os.ReadFile(song)
	require.NoError(t, err)
	require.Equal(t, "v1", string(got))
	_, err = os.Lstat(filepath.Join(mp, "new.mp3"))
	require.ErrorIs(t, err, os.ErrNotExist)
	snaps, err := m.List(ctx)
	require.NoError(t, err)
	require.Len(t, snaps, 1, "the newer snapshot was destroyed")
	require.Contains(t, events, KindRolledBack)
}
