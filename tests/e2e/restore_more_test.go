package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/model"
	"genesissync/internal/snapshot"
	"genesissync/internal/zfs"
	"genesissync/internal/zfs/zfstest"
	"genesissync/tests/harness"
)

// preOpSnapshots finds the pre-operation snapshot names of op in out and
// checks that each was named (to the second, UTC) within [from, to].
func preOpSnapshots(t *testing.T, out string, op zfs.PreOp, from, to time.Time) []string {
	t.Helper()
	names := regexp.MustCompile(`gs-pre-`+string(op)+`-\d{4}-\d\d-\d\d-\d{6}`).FindAllString(out, -1)
	for _, name := range names {
		got, at, ok := zfs.ParsePreOpName(name)
		require.True(t, ok, name)
		require.Equal(t, op, got)
		require.False(t, at.Before(from.Truncate(time.Second)) || at.After(to), "%s is not from between %s and %s", name, from, to)
	}
	return names
}

// startZFSAppliance starts the appliance on a dataset of a new zfs-fuse
// pool, with a daily snapshot schedule; seed, if set, writes into the
// share before the daemon starts. It returns the dataset too.
func startZFSAppliance(t *testing.T, seed func(mountpoint string)) (*harness.Appliance, string) {
	t.Helper()
	pool := zfstest.NewPool(t)
	dataset, mountpoint := pool.Dataset(t, "studio")
	if seed != nil {
		seed(mountpoint)
	}
	m := harness.StartMinIO(t)
	return harness.StartAppliance(t, m, harness.ApplianceOptions{
		SharePath: mountpoint, Dataset: dataset, RemoteInterval: time.Second,
		ShareConfig: "    snapshots: {interval: 24h}",
	}), dataset
}

// readSnapshot returns rel's content in the dataset's snapshot snap, read
// through the snapshot package (a temporary clone on zfs-fuse, which has
// no .zfs/snapshot). The daemon must be stopped: its clone upkeep would
// remove a clone it did not make.
func readSnapshot(t *testing.T, dataset, mountpoint, snap string, rels ...string) map[string]string {
	t.Helper()
	m := snapshot.New(snapshot.Options{Dataset: dataset, Mountpoint: mountpoint, Interval: config.DefaultSnapshotInterval, PreOpRetention: config.DefaultPreOpRetention, Log: zerolog.Nop()})
	got := map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, m.WithSnapshotDir(ctx, snap, func(dir string) error {
		for _, rel := range rels {
			b, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				return err
			}
			got[rel] = string(b)
		}
		return nil
	}))
	return got
}

// contentOf is content seed of size as a string, for comparing small files.
func contentOf(t *testing.T, seed uint64, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c")
	writeLocal(t, p, seed, size)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

// TestRestoreLiveZFSShare restores a point in time into a live share on a
// real zfs-fuse dataset through the running daemon. The restore takes a
// gs-pre-restore snapshot before it writes (it holds the files as they
// were), and never replaces a file an SMB client holds open: with
// --overwrite that file is skipped and named; once closed, a rerun
// replaces it. The pipeline then uploads the restored older versions as
// the current ones.
func TestRestoreLiveZFSShare(t *testing.T) {
	ctx := context.Background()
	a, dataset := startZFSAppliance(t, nil)
	mountpoint := a.SharePath
	require.NoError(t, a.Store.EnableVersioning(ctx))

	const size = 64 << 10
	open, other := "music/open.mp3", "music/other.mp3"
	writeLocal(t, filepath.Join(mountpoint, open), 1, size)
	writeLocal(t, filepath.Join(mountpoint, other), 2, size)
	waitSynced(t, a.Store, open, 1, size)
	waitSynced(t, a.Store, other, 2, size)
	time.Sleep(1100 * time.Millisecond) // one-second mtimes
	before := time.Now()
	time.Sleep(1100 * time.Millisecond)
	writeLocal(t, filepath.Join(mountpoint, open), 11, size)
	writeLocal(t, filepath.Join(mountpoint, other), 12, size)
	waitSynced(t, a.Store, open, 11, size)
	waitSynced(t, a.Store, other, 12, size)

	// A playout PC holds open.mp3 open.
	c := a.SMB(t)
	f, err := c.Open(open)
	require.NoError(t, err)
	at := before.Format(time.RFC3339Nano)

	start := time.Now()
	out, code := runCLI(t, a, "restore", "studio", "--prefix", "music/", "--at", at, "--overwrite")
	t.Logf("restore with %s open (exit %d):\n%s", open, code, out)
	require.Zero(t, code, out)
	require.Contains(t, out, "restored 1 files")
	require.Contains(t, out, "1 skipped")
	require.Regexp(t, `skipped.*"`+regexp.QuoteMeta(open)+`".*open by an SMB client`, out)
	pre := preOpSnapshots(t, out, zfs.PreRestore, start, time.Now())
	require.Len(t, pre, 1, out)
	snap := pre[0]
	require.Contains(t, out, "snapshot "+dataset+"@"+snap+" taken first")
	sums := treeSums(t, mountpoint)
	require.Equal(t, sha256Of(2, size), sums[other], "other.mp3 is back at its old version")
	require.Equal(t, sha256Of(11, size), sums[open], "a file open over SMB was replaced")

	require.Contains(t, eventKinds(t, a), "restore.finished", "the restore ran in the daemon")
	list := a.CLI(t, "snapshot", "list", "studio")
	require.Contains(t, list, snap, "the pre-restore snapshot is listed")

	// Closed, a rerun replaces it (and finds the other present).
	require.NoError(t, f.Close())
	out, code = runCLI(t, a, "restore", "studio", "--prefix", "music/", "--at", at, "--overwrite")
	t.Logf("rerun after close (exit %d):\n%s", code, out)
	require.Zero(t, code, out)
	require.Contains(t, out, "restored 1 files")
	require.Contains(t, out, "1 already present")
	require.Equal(t, sha256Of(1, size), treeSums(t, mountpoint)[open])

	// The pipeline makes the restored versions current.
	waitSynced(t, a.Store, open, 1, size)
	waitSynced(t, a.Store, other, 2, size)

	// The first pre-restore snapshot holds the files as they were before
	// the restore wrote anything.
	a.Stop()
	old := readSnapshot(t, dataset, mountpoint, snap, open, other)
	require.Equal(t, contentOf(t, 11, size), old[open])
	require.Equal(t, contentOf(t, 12, size), old[other])
}

// TestRestoreAtWithoutVersioning asks for a point-in-time restore from a
// bucket without versioning: it fails to run (exit 1), writes nothing, and
// names the fix, both into a directory and through the daemon.
func TestRestoreAtWithoutVersioning(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{})
	writeLocal(t, filepath.Join(a.SharePath, "a.wav"), 1, 4<<10)
	waitSynced(t, a.Store, "a.wav", 1, 4<<10)
	at := time.Now().Add(-time.Minute).Format(time.RFC3339)

	dir := filepath.Join(t.TempDir(), "restored")
	out, code := runCLI(t, a, "restore", "studio", "--at", at, "--to", dir)
	t.Logf("restore --at --to on an unversioned bucket (exit %d):\n%s", code, out)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "versioning")
	require.Contains(t, out, "mc version enable")
	require.Contains(t, out, "put-bucket-versioning")
	require.Empty(t, treeSums(t, dir), "nothing restored")

	out, code = runCLI(t, a, "restore", "studio", "--at", at)
	t.Logf("restore --at through the daemon on an unversioned bucket (exit %d):\n%s", code, out)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "mc version enable")
}

// TestScheduledVerify runs a share whose verify is scheduled every minute
// (the shortest the config allows; the first run comes after the interval
// when it is shorter than VerifyFirstDelay). Nobody starts a verify: the
// schedule's first deep run shows on the status API, finds the object
// that was replaced by other bytes under the original sha256 metadata,
// and adds a verify.mismatch event.
func TestScheduledVerify(t *testing.T) {
	t.Parallel() // mostly waiting for the schedule: runs beside the other parallel tests at the end
	ctx := context.Background()
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		RemoteInterval: time.Second,
		ShareConfig:    "    verify: {interval: 1m, sample_percent: 100, deep: true}",
	})
	v := a.Share(t).Verify
	require.Equal(t, time.Minute, v.Interval)
	require.False(t, v.NextRun.IsZero(), "the next scheduled verify is shown")
	require.WithinDuration(t, time.Now().Add(time.Minute), v.NextRun, 15*time.Second)
	require.True(t, v.LastRun.IsZero(), "no verify ran yet")

	files := []seedFile{{"a.wav", 1, 32 << 10}, {"jingles/b.wav", 2, 48 << 10}, {"c.wav", 3, 1}}
	for _, f := range files {
		writeLocal(t, filepath.Join(a.SharePath, f.rel), f.seed, f.size)
	}
	for _, f := range files {
		waitSynced(t, a.Store, f.rel, f.seed, f.size)
	}
	require.Eventually(t, func() bool { st := a.Share(t); return st.State == "in-sync" && st.FilesTracked == 3 },
		30*time.Second, 100*time.Millisecond)

	// A damaged object: other bytes of the same size under the original
	// sha256 metadata.
	orig, err := a.Store.Head(ctx, "jingles/b.wav")
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "bad")
	writeLocal(t, bad, 999, orig.Size)
	m.MC(t, nil, "cp", "--attr", "sha256="+orig.SHA256, bad, "t/"+a.Bucket+"/"+a.Prefix+"jingles/b.wav")
	require.True(t, a.Share(t).Verify.LastRun.IsZero(), "the damage must come before the first scheduled verify")

	var last model.Verify
	require.Eventually(t, func() bool {
		last = a.Share(t).Verify
		return !last.LastRun.IsZero()
	}, 100*time.Second, 500*time.Millisecond, "no scheduled verify finished")
	t.Logf("scheduled verify: %+v", last)
	require.NotEmpty(t, last.LastJob)
	require.Empty(t, last.Error)
	require.Equal(t, "deep", last.Mode)
	require.Equal(t, 3, last.Checked)
	require.Equal(t, 1, last.Mismatches)
	kinds := map[string]string{}
	for _, p := range last.Problems {
		kinds[p.Path] = p.Kind
	}
	require.Equal(t, map[string]string{"jingles/b.wav": "object-corrupt"}, kinds)

	snap, err := a.Status()
	require.NoError(t, err)
	var found []string
	for _, e := range snap.Events {
		if e.Kind == "verify.mismatch" {
			require.Equal(t, "error", e.Level)
			require.Equal(t, "studio", e.Share)
			found = append(found, e.Message)
		}
	}
	require.Len(t, found, 1, "one verify.mismatch event: %+v", snap.Events)
	require.True(t, strings.Contains(found[0], "jingles/b.wav"), found[0])
}
