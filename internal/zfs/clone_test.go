package zfs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDestroyCloneRefusesNonClones(t *testing.T) {
	t.Run("a file system without origin is never destroyed", func(t *testing.T) {
		f := &fakeRunner{t: t, steps: []fakeStep{
			{cmd: "zfs get -H -p -o name,property,value origin tank/media/archive", out: "tank/media/archive\torigin\t-\n"},
		}}
		err := destroyClone(t0ctx, f, "tank/media/archive", fastRetry)
		require.ErrorContains(t, err, "not a clone")
		f.done(t)
	})
	t.Run("a clone is destroyed, busy retried", func(t *testing.T) {
		f := &fakeRunner{t: t, steps: []fakeStep{
			{cmd: "zfs get -H -p -o name,property,value origin tank/media/gs-shadow-x", out: "tank/media/gs-shadow-x\torigin\ttank/media@gs-2026-11-22-0100\n"},
			{cmd: "zfs destroy tank/media/gs-shadow-x", stderr: "cannot destroy 'tank/media/gs-shadow-x': dataset is busy\n"},
			{cmd: "zfs destroy tank/media/gs-shadow-x"},
		}}
		require.NoError(t, destroyClone(t0ctx, f, "tank/media/gs-shadow-x", fastRetry))
		f.done(t)
	})
	t.Run("a snapshot name is refused before any command", func(t *testing.T) {
		f := &fakeRunner{t: t}
		require.ErrorIs(t, destroyClone(t0ctx, f, "tank/media@gs-2026-11-22-0100", fastRetry), ErrInvalidName)
	})
}

func TestCloneChecksMountpoint(t *testing.T) {
	f := &fakeRunner{t: t}
	for _, mp := range []string{"relative", "/a/../b", "/a,b", "/a\nb", "/"} {
		require.ErrorIs(t, cloneSnapshot(t0ctx, f, "tank/media", "gs-2026-11-22-0100", "tank/media/gs-shadow-x", mp), ErrInvalidName, mp)
	}
	f = &fakeRunner{t: t, steps: []fakeStep{{cmd: "zfs clone -o readonly=on -o mountpoint=/tank/media/.genesissync-snapshots/gs-2026-11-22-0100 tank/media@gs-2026-11-22-0100 tank/media/gs-shadow-x"}}}
	require.NoError(t, cloneSnapshot(t0ctx, f, "tank/media", "gs-2026-11-22-0100", "tank/media/gs-shadow-x", "/tank/media/.genesissync-snapshots/gs-2026-11-22-0100"))
	f.done(t)
}
