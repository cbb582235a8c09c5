package zfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0ctx = context.Background()

// fakeStep is one expected command and its answer. With stderr set the
// command fails, as the real tool would, with that standard error.
type fakeStep struct {
	cmd    string // "zfs destroy tank/media@x"; empty: any
	out    string
	stderr string
}

// fakeRunner answers the commands of steps, in order, and fails the test on
// any other command.
type fakeRunner struct {
	t     *testing.T
	steps []fakeStep
	ran   []string
}

func (f *fakeRunner) run(_ context.Context, tool string, args ...string) ([]byte, error) {
	cmd := strings.Join(append([]string{tool}, args...), " ")
	f.ran = append(f.ran, cmd)
	if len(f.steps) == 0 {
		if f.t != nil {
			f.t.Fatalf("unexpected command %q", cmd)
		}
		return nil, fmt.Errorf("unexpected command %q", cmd)
	}
	s := f.steps[0]
	f.steps = f.steps[1:]
	if s.cmd != "" && s.cmd != cmd {
		if f.t != nil {
			f.t.Fatalf("ran %q, want %q", cmd, s.cmd)
		}
		return nil, fmt.Errorf("ran %q, want %q", cmd, s.cmd)
	}
	if s.stderr != "" {
		return []byte(s.out), newToolError(tool, args, errors.New("exit status 1"), s.stderr)
	}
	return []byte(s.out), nil
}

func (f *fakeRunner) done(t *testing.T) {
	t.Helper()
	require.Empty(t, f.steps, "commands not run; ran %q", f.ran)
}

func capture(t *testing.T, flavour, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", flavour, name))
	require.NoError(t, err)
	return string(b)
}

var fastRetry = retryPolicy{attempts: 4, first: time.Millisecond, max: 2 * time.Millisecond}

func TestDestroySnapshot(t *testing.T) {
	const destroy = "zfs destroy tank/media@gs-2026-11-22-0100"
	const refs = "zfs get -H -p -o name,property,value userrefs tank/media@gs-2026-11-22-0100"
	busy := capture(t, "zfs-fuse", "stderr/busy-fresh-clone.txt")
	tests := []struct {
		name  string
		steps []fakeStep
		want  error // nil: success
	}{
		{"at once", []fakeStep{{cmd: destroy}}, nil},
		{"busy, then gone", []fakeStep{
			{cmd: destroy, stderr: busy},
			{cmd: refs, out: "tank/media@gs-2026-11-22-0100\tuserrefs\t0\n"},
			{cmd: destroy},
		}, nil},
		{"busy because held (zfs-fuse): no retry", []fakeStep{
			{cmd: destroy, stderr: capture(t, "zfs-fuse", "stderr/busy-held-destroy.txt")},
			{cmd: refs, out: "tank/media@gs-2026-11-22-0100\tuserrefs\t1\n"},
		}, ErrHeld},
		{"held (OpenZFS says so)", []fakeStep{
			{cmd: destroy, stderr: capture(t, "openzfs", "stderr/held-destroy.txt")},
		}, ErrHeld},
		{"busy to the end", []fakeStep{
			{cmd: destroy, stderr: busy}, {cmd: refs, out: "tank/media@gs-2026-11-22-0100\tuserrefs\t0\n"},
			{cmd: destroy, stderr: busy}, {cmd: refs, stderr: busy},
			{cmd: destroy, stderr: busy}, {cmd: refs, out: "tank/media@gs-2026-11-22-0100\tuserrefs\t0\n"},
			{cmd: destroy, stderr: busy}, {cmd: refs, out: "tank/media@gs-2026-11-22-0100\tuserrefs\t0\n"},
		}, ErrBusy},
		{"not there", []fakeStep{{cmd: destroy, stderr: capture(t, "zfs-fuse", "stderr/notfound-destroy.txt")}}, ErrNotFound},
		{"cloned", []fakeStep{{cmd: destroy, stderr: capture(t, "zfs-fuse", "stderr/hasclones-destroy.txt")}}, ErrHasClones},
		{"daemon down", []fakeStep{{cmd: destroy, stderr: capture(t, "zfs-fuse", "stderr/nozfs-daemon-down.txt")}}, ErrNoZFS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{t: t, steps: tt.steps}
			err := destroySnapshot(t0ctx, r, fastRetry, "tank/media", "gs-2026-11-22-0100")
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
				require.Contains(t, err.Error(), `destroy snapshot "tank/media@gs-2026-11-22-0100"`)
			}
			r.done(t)
		})
	}

	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t0ctx)
		r := &fakeRunner{t: t, steps: []fakeStep{
			{cmd: destroy, stderr: busy},
			{cmd: refs, out: "tank/media@gs-2026-11-22-0100\tuserrefs\t0\n"},
		}}
		cancel()
		err := destroySnapshot(ctx, r, retryPolicy{attempts: 5, first: time.Hour, max: time.Hour}, "tank/media", "gs-2026-11-22-0100")
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, ErrBusy)
	})

	t.Run("never a file system", func(t *testing.T) {
		for _, snap := range []string{"", "x@y", "-r", "a%b"} {
			r := &fakeRunner{t: t}
			require.ErrorIs(t, destroySnapshot(t0ctx, r, fastRetry, "tank/media", snap), ErrInvalidName)
			require.Empty(t, r.ran)
		}
	})
}

// snapshotsOut is `zfs get -H -p -r -d 1` output for tank/media with the
// given snapshots, in hash order (b before a), each "name:txg:holds".
func snapshotsOut(specs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tank/media\ttype\tfilesystem\ntank/media\tcreation\t1795309200\ntank/media\tcreatetxg\t7\ntank/media\tused\t1\ntank/media\treferenced\t1\ntank/media\tuserrefs\t-\n")
	for _, s := range specs {
		f := strings.Split(s, ":")
		full := "tank/media@" + f[0]
		for _, kv := range [][2]string{{"type", "snapshot"}, {"creation", "1795309200"}, {"createtxg", f[1]}, {"used", "0"}, {"referenced", "1"}, {"userrefs", f[2]}} {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", full, kv[0], kv[1])
		}
	}
	return b.String()
}

func TestRollback(t *testing.T) {
	const list = "zfs get -H -p -r -d 1 -o name,property,value type,creation,createtxg,used,referenced,userrefs tank/media"
	// Created in the same second: only the txg orders them.
	three := snapshotsOut("gs-pre-delete-2026-11-22-020000:30:0", "gs-2026-11-22-0200:20:0", "gs-2026-11-22-0100:10:0")
	heldNewer := snapshotsOut("gs-2026-11-22-0200:20:1", "gs-2026-11-22-0100:10:0")
	tests := []struct {
		name  string
		snap  string
		opts  RollbackOptions
		steps []fakeStep
		want  error
		newer []string
	}{
		{"to the newest", "gs-pre-delete-2026-11-22-020000", RollbackOptions{},
			[]fakeStep{{cmd: list, out: three}, {cmd: "zfs rollback tank/media@gs-pre-delete-2026-11-22-020000"}}, nil, nil},
		{"newer exist: refused by default", "gs-2026-11-22-0100", RollbackOptions{},
			[]fakeStep{{cmd: list, out: three}}, ErrNewerSnapshots, []string{"gs-2026-11-22-0200", "gs-pre-delete-2026-11-22-020000"}},
		{"newer exist: destroyed when told", "gs-2026-11-22-0100", RollbackOptions{DestroyNewer: true},
			[]fakeStep{{cmd: list, out: three}, {cmd: "zfs rollback -r tank/media@gs-2026-11-22-0100"}}, nil, nil},
		{"a newer one is held: refused before anything", "gs-2026-11-22-0100", RollbackOptions{DestroyNewer: true},
			[]fakeStep{{cmd: list, out: heldNewer}}, ErrHeld, nil},
		{"no such snapshot", "gs-2026-11-22-0300", RollbackOptions{},
			[]fakeStep{{cmd: list, out: three}}, ErrNotFound, nil},
		{"the tool refuses (a snapshot came in between)", "gs-pre-delete-2026-11-22-020000", RollbackOptions{},
			[]fakeStep{{cmd: list, out: three}, {cmd: "zfs rollback tank/media@gs-pre-delete-2026-11-22-020000", stderr: capture(t, "zfs-fuse", "stderr/other-rollback-newer.txt")}},
			errors.New("more recent snapshots exist"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{t: t, steps: tt.steps}
			err := rollback(t0ctx, r, "tank/media", tt.snap, tt.opts)
			r.done(t)
			switch {
			case tt.want == nil:
				require.NoError(t, err)
			case tt.newer != nil:
				var ne *NewerSnapshotsError
				require.ErrorAs(t, err, &ne)
				require.Equal(t, tt.newer, ne.Newer)
				require.ErrorIs(t, err, ErrNewerSnapshots)
			case errors.Is(tt.want, ErrHeld) || errors.Is(tt.want, ErrNotFound):
				require.ErrorIs(t, err, tt.want)
			default:
				require.ErrorContains(t, err, tt.want.Error())
			}
		})
	}
}

func TestSnapshotHoldRelease(t *testing.T) {
	r := &fakeRunner{t: t, steps: []fakeStep{
		{cmd: "zfs snapshot tank/media@gs-2026-11-22-0300"},
		{cmd: "zfs snapshot tank/media@gs-2026-11-22-0300", stderr: capture(t, "zfs-fuse", "stderr/exists-snapshot.txt")},
		{cmd: "zfs hold genesissync tank/media@gs-2026-11-22-0300"},
		{cmd: "zfs hold genesissync tank/media@gs-2026-11-22-0300", stderr: capture(t, "zfs-fuse", "stderr/exists-hold.txt")},
		{cmd: "zfs release genesissync tank/media@gs-2026-11-22-0300"},
		{cmd: "zfs release genesissync tank/media@gs-2026-11-22-0300", stderr: capture(t, "zfs-fuse", "stderr/notfound-release.txt")},
	}}
	require.NoError(t, snapshot(t0ctx, r, "tank/media", "gs-2026-11-22-0300"))
	require.ErrorIs(t, snapshot(t0ctx, r, "tank/media", "gs-2026-11-22-0300"), ErrExists)
	require.NoError(t, holdRelease(t0ctx, r, "hold", "tank/media", "gs-2026-11-22-0300", "genesissync"))
	require.ErrorIs(t, holdRelease(t0ctx, r, "hold", "tank/media", "gs-2026-11-22-0300", "genesissync"), ErrExists)
	require.NoError(t, holdRelease(t0ctx, r, "release", "tank/media", "gs-2026-11-22-0300", "genesissync"))
	require.ErrorIs(t, holdRelease(t0ctx, r, "release", "tank/media", "gs-2026-11-22-0300", "genesissync"), ErrNotFound)
	require.ErrorIs(t, holdRelease(t0ctx, r, "hold", "tank/media", "gs-2026-11-22-0300", "-r"), ErrInvalidName)
	r.done(t)
}

func TestPoolStatusFallsBackWithoutP(t *testing.T) {
	const props = "name,size,allocated,free,capacity,health"
	t.Run("zfs-fuse", func(t *testing.T) {
		r := &fakeRunner{t: t, steps: []fakeStep{
			{cmd: "zpool list -H -p -o " + props + " gs-golden", stderr: capture(t, "zfs-fuse", "list-p-unsupported.err")},
			{cmd: "zpool list -H -o " + props + " gs-golden", out: capture(t, "zfs-fuse", "list-degraded.out")},
			{cmd: "zpool status gs-golden", out: capture(t, "zfs-fuse", "status-degraded.out")},
		}}
		info, err := poolStatus(t0ctx, r, "gs-golden", time.UTC)
		require.NoError(t, err)
		r.done(t)
		require.Equal(t, "DEGRADED", info.Health)
		require.False(t, info.SizesExact)
		require.Equal(t, 22, info.CapacityPercent)
		require.Contains(t, info.Action, "zpool online")
		golden(t, "testdata/zfs-fuse/poolstatus-degraded.golden", info)
	})
	t.Run("openzfs", func(t *testing.T) {
		r := &fakeRunner{t: t, steps: []fakeStep{
			{cmd: "zpool list -H -p -o " + props + " tank", out: capture(t, "openzfs", "list-online.out")},
			{cmd: "zpool status tank", out: capture(t, "openzfs", "status-scrubbed.out")},
		}}
		info, err := poolStatus(t0ctx, r, "tank", time.UTC)
		require.NoError(t, err)
		r.done(t)
		require.True(t, info.SizesExact)
		golden(t, "testdata/openzfs/poolstatus-scrubbed.golden", info)
	})
	t.Run("no such pool", func(t *testing.T) {
		r := &fakeRunner{t: t, steps: []fakeStep{
			{cmd: "zpool list -H -p -o " + props + " nope", stderr: capture(t, "zfs-fuse", "stderr/notfound-pool.txt")},
		}}
		_, err := poolStatus(t0ctx, r, "nope", time.UTC)
		require.ErrorIs(t, err, ErrNotFound)
		require.ErrorContains(t, err, `pool status "nope"`)
	})
}

func TestHealthy(t *testing.T) {
	r := &fakeRunner{t: t, steps: []fakeStep{
		{cmd: "zpool status -x", out: capture(t, "openzfs", "status-x-healthy.out")},
		{cmd: "zpool status -x gs-golden", out: capture(t, "zfs-fuse", "status-x-label-missing.out")},
		{cmd: "zpool status -x nope", stderr: capture(t, "zfs-fuse", "stderr/notfound-pool.txt")},
	}}
	ok, msg, err := healthy(t0ctx, r)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "all pools are healthy", msg)

	ok, msg, err = healthy(t0ctx, r, "gs-golden")
	require.NoError(t, err)
	require.False(t, ok)
	require.Contains(t, msg, "label is missing")

	_, _, err = healthy(t0ctx, r, "nope")
	require.ErrorIs(t, err, ErrNotFound)
	r.done(t)

	_, _, err = healthy(t0ctx, &fakeRunner{t: t}, "-v")
	require.ErrorIs(t, err, ErrInvalidName)
}

func TestDatasetForPath(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"media/jingles", "offline", "outside"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.Symlink(filepath.Join(root, "media"), filepath.Join(root, "link")))
	list := fmt.Sprintf("tank\t%[1]s/pool\tyes\ntank/media\t%[1]s/media\tyes\ntank/offline\t%[1]s/offline\tno\ntank/old\tlegacy\tno\n", root)
	listCmd := "zfs list -H -o name,mountpoint,mounted -t filesystem"
	get := func(name, mp, mounted string) string {
		return fmt.Sprintf("%[1]s\ttype\tfilesystem\n%[1]s\tmountpoint\t%[2]s\n%[1]s\tmounted\t%[3]s\n%[1]s\tused\t1\n%[1]s\tavailable\t2\n%[1]s\treferenced\t3\n%[1]s\tcreation\t1795309200\n", name, mp, mounted)
	}
	getCmd := func(name string) string {
		return "zfs get -H -p -o name,property,value type,mountpoint,mounted,used,available,referenced,creation " + name
	}
	tests := []struct {
		name  string
		path  string
		steps []fakeStep
		want  string
		err   error
	}{
		{"share root", filepath.Join(root, "media"), []fakeStep{{cmd: listCmd, out: list}, {cmd: getCmd("tank/media"), out: get("tank/media", root+"/media", "yes")}}, "tank/media", nil},
		{"below it, through a symlink", filepath.Join(root, "link", "jingles"), []fakeStep{{cmd: listCmd, out: list}, {cmd: getCmd("tank/media"), out: get("tank/media", root+"/media", "yes")}}, "tank/media", nil},
		{"dataset not mounted: the directory is an empty stand-in", filepath.Join(root, "offline"), []fakeStep{{cmd: listCmd, out: list}, {cmd: getCmd("tank/offline"), out: get("tank/offline", root+"/offline", "no")}}, "tank/offline", ErrNotMounted},
		{"mounted between list and get", filepath.Join(root, "media"), []fakeStep{{cmd: listCmd, out: list}, {cmd: getCmd("tank/media"), out: get("tank/media", root+"/media", "no")}}, "tank/media", ErrNotMounted},
		{"no dataset", filepath.Join(root, "outside"), []fakeStep{{cmd: listCmd, out: list}}, "", ErrNoDataset},
		{"no such path", filepath.Join(root, "missing"), nil, "", os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{t: t, steps: tt.steps}
			info, err := datasetForPath(t0ctx, r, tt.path)
			r.done(t)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.want, info.Name)
		})
	}
}

func TestToolErrorText(t *testing.T) {
	te := newToolError("zfs", []string{"destroy", "tank/media@x"}, errors.New("exit status 1"), "cannot destroy 'tank/media@x': dataset is busy\n\n")
	require.Equal(t, "zfs destroy: exit status 1: cannot destroy 'tank/media@x': dataset is busy", te.Error())
	require.ErrorIs(t, fmt.Errorf("wrapped: %w", te), ErrBusy)
	require.NotErrorIs(t, te, ErrNotFound)
}
