package e2e

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/zfs/zfstest"
	"genesissync/tests/harness"
)

// objectBytes reads an object of the appliance's bucket, "" when missing.
func objectBytes(t *testing.T, a *harness.Appliance, key string) (string, bool) {
	t.Helper()
	rc, _, err := a.Store.Get(context.Background(), key)
	if err != nil {
		return "", false
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b), true
}

// smbclient runs smbclient against the appliance's share as the studio user.
func smbclient(t *testing.T, a *harness.Appliance, command string) (string, error) {
	t.Helper()
	host, port, ok := strings.Cut(a.SMBAddr, ":")
	require.True(t, ok)
	out, err := exec.Command("smbclient", "//"+host+"/studio", "-p", port, "-U", a.User+"%"+a.Password,
		"-m", "SMB3", "-c", command).CombinedOutput()
	return string(out), err
}

// createSnapshot takes a manual snapshot through the CLI (and so the
// daemon's admin socket); a snapshot in the same minute is refused, so it
// retries into the next minute.
func createSnapshot(t *testing.T, a *harness.Appliance) string {
	t.Helper()
	re := regexp.MustCompile(`@(gs-\d{4}-\d\d-\d\d-\d{4}) taken`)
	deadline := time.Now().Add(75 * time.Second)
	for {
		out, err := exec.Command(harness.Binary(t), "snapshot", "create", "studio", "--config", a.ConfigPath).CombinedOutput()
		if err == nil {
			m := re.FindStringSubmatch(string(out))
			require.NotNil(t, m, "snapshot create printed %q", out)
			return m[1]
		}
		require.Contains(t, string(out), "this minute already", "snapshot create failed")
		require.True(t, time.Now().Before(deadline), "no snapshot could be taken: %s", out)
		time.Sleep(3 * time.Second)
	}
}

// TestSnapshotsPreviousVersionsAndRollback runs the appliance on a real
// zfs-fuse dataset with snapshots on, and checks, through the running
// daemon, real smbd and MinIO:
//   - pool health and dataset figures reach the status API;
//   - a manual snapshot is listed by the CLI and appears to an SMB client
//     as a previous version of a file (smbclient allinfo lists its @GMT
//     token), and reading the file at that token returns the old bytes;
//   - a rollback is refused while the share syncs; once in sync it
//     restores the overwritten file, uploads it again, and the file the
//     rollback removed is NOT deleted from the bucket: the delete waits in
//     a tripped batch for a person's approval.
func TestSnapshotsPreviousVersionsAndRollback(t *testing.T) {
	pool := zfstest.NewPool(t)
	dataset, mountpoint := pool.Dataset(t, "studio")
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		SharePath: mountpoint, Dataset: dataset, RemoteInterval: time.Second,
		// No periodic full scan: on zfs-fuse's one-second mtimes a scan
		// re-hashes files synced a moment ago (racily clean), and one
		// landing in the rollback's quiet window makes the rollback
		// refuse, rightly, as "syncing" (CI saw it once). The rollback
		// asks for its own full scan.
		ScanInterval: time.Hour,
		// Many deletes are allowed without approval: the rollback's
		// single delete must be held by the rollback, not by the guard.
		DeleteGuardPercent: 100,
		ShareConfig:        "    snapshots: {interval: 24h}",
	})

	// Health figures.
	require.Eventually(t, func() bool {
		st, err := a.Status()
		return err == nil && len(st.Pools) == 1 && st.Pools[0].Health != ""
	}, 30*time.Second, 200*time.Millisecond, "no pool health in the status API")
	st, err := a.Status()
	require.NoError(t, err)
	p := st.Pools[0]
	require.Equal(t, pool.Name, p.Name)
	require.Equal(t, "ONLINE", p.Health)
	require.True(t, p.Healthy, "zpool status -x: %s", p.Problem)
	require.Positive(t, p.Size)
	require.Positive(t, p.Free)
	require.Equal(t, "none", p.Scan)
	require.Empty(t, p.Error)

	song := filepath.Join(mountpoint, "music", "song.mp3")
	jingle := filepath.Join(mountpoint, "music", "jingle.mp3")
	require.NoError(t, os.MkdirAll(filepath.Dir(song), 0o755))
	require.NoError(t, os.WriteFile(song, []byte("version one of the song"), 0o644))
	require.NoError(t, os.WriteFile(jingle, []byte("a jingle"), 0o644))
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.State == "in-sync" && st.FilesTracked == 2
	}, time.Minute, 200*time.Millisecond)

	snap := createSnapshot(t, a)
	list := a.CLI(t, "snapshot", "list", "studio")
	require.Contains(t, list, snap+"  scheduled")
	sh := a.Share(t).Snapshots
	require.True(t, sh.Enabled)
	require.Equal(t, "clones", sh.PreviousVersions, "zfs-fuse has no .zfs/snapshot")
	require.Equal(t, dataset, sh.Dataset)
	require.Positive(t, sh.DatasetAvailable)

	// The studio overwrites the song by mistake and adds a file.
	require.NoError(t, os.WriteFile(song, []byte("VERSION TWO, the wrong one"), 0o644))
	extra := filepath.Join(mountpoint, "music", "added-after.mp3")
	require.NoError(t, os.WriteFile(extra, []byte("added after the snapshot"), 0o644))
	// Right away the share is syncing: a rollback is refused.
	out, err := exec.Command(harness.Binary(t), "snapshot", "rollback", "studio", snap, "--yes", "--config", a.ConfigPath).CombinedOutput()
	require.Error(t, err, "a rollback while syncing must be refused: %s", out)
	require.Contains(t, string(out), "roll back once it is in sync")
	require.Eventually(t, func() bool {
		st := a.Share(t)
		got, _ := objectBytes(t, a, "music/song.mp3")
		return st.State == "in-sync" && st.FilesTracked == 3 && got == "VERSION TWO, the wrong one"
	}, time.Minute, 200*time.Millisecond)

	// Previous Versions through real smbd: the snapshot is a version of
	// the song, and reading the song at its @GMT token gives the old bytes.
	tok, err := time.Parse("gs-2006-01-02-1504", snap)
	require.NoError(t, err)
	gmt := tok.UTC().Format("@GMT-2006.01.02-15.04.05")
	info, err := smbclient(t, a, `allinfo "music\song.mp3"`)
	require.NoError(t, err, info)
	require.Contains(t, info, gmt, "allinfo lists no previous version for the snapshot:\n%s", info)
	dst := filepath.Join(t.TempDir(), "old.mp3")
	outGet, err := smbclient(t, a, `get "`+gmt+`\music\song.mp3" "`+dst+`"`)
	require.NoError(t, err, outGet)
	old, err := os.ReadFile(dst)
	require.NoError(t, err)
	require.Equal(t, "version one of the song", string(old))
	// The clone directory itself stays invisible over SMB.
	ls, err := smbclient(t, a, `ls`)
	require.NoError(t, err, ls)
	require.NotContains(t, ls, ".genesissync")

	// Roll back through the CLI.
	out2 := a.CLI(t, "snapshot", "rollback", "studio", snap, "--yes")
	require.Contains(t, out2, "rolled back to "+snap)
	got, err := os.ReadFile(song)
	require.NoError(t, err)
	require.Equal(t, "version one of the song", string(got), "the rollback restored the song")
	_, err = os.Stat(extra)
	require.True(t, os.IsNotExist(err), "the file added after the snapshot is gone locally")

	// The restored song is uploaded again; the removed file's delete
	// waits for approval and its object stays.
	require.Eventually(t, func() bool {
		got, _ := objectBytes(t, a, "music/song.mp3")
		st := a.Share(t)
		return got == "version one of the song" && st.DeleteGuardTripped
	}, time.Minute, 200*time.Millisecond, "the song was not uploaded again, or the delete was not held")
	st2 := a.Share(t)
	require.Len(t, st2.HeldDeletes, 1)
	require.Equal(t, "music/added-after.mp3", st2.HeldDeletes[0].Path)
	time.Sleep(5 * time.Second) // listings and retries
	body, ok := objectBytes(t, a, "music/added-after.mp3")
	require.True(t, ok, "the rollback deleted an object from the bucket without approval")
	require.Equal(t, "added after the snapshot", body)
	shows := a.CLI(t, "deletes", "show", "studio")
	require.Contains(t, shows, "added-after.mp3")

	// The rollback and the share's events are on record.
	ev, err := a.Status()
	require.NoError(t, err)
	kinds := []string{}
	for _, e := range ev.Events {
		kinds = append(kinds, e.Kind)
	}
	require.Contains(t, kinds, "snapshot.rolled_back")

	// Snapshots are still listed, and Previous Versions rebuilt.
	require.Contains(t, a.CLI(t, "snapshot", "list", "studio"), snap)
	info, err = smbclient(t, a, `allinfo "music\song.mp3"`)
	require.NoError(t, err, info)
	require.Contains(t, info, gmt)
}
