package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// TestShareFullDuringDownload puts the share on a 4 MiB tmpfs and an
// 8 MiB object in the bucket: the download must fail with a clear error,
// leave no partial or temp file on the share, and succeed once the
// filesystem has room.
func TestShareFullDuringDownload(t *testing.T) {
	m := harness.StartMinIO(t)
	share := filepath.Join(t.TempDir(), "share")
	require.NoError(t, os.MkdirAll(share, 0o755))
	mount := func(args ...string) {
		t.Helper()
		out, err := exec.Command("mount", args...).CombinedOutput()
		require.NoError(t, err, "mount %v: %s", args, out)
	}
	mount("-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", share)
	t.Cleanup(func() { _ = exec.Command("umount", "-l", share).Run() })

	a := harness.StartAppliance(t, m, harness.ApplianceOptions{SharePath: share, RemoteInterval: time.Second})
	writeLocal(t, filepath.Join(share, "small.mp3"), 21, 64<<10)
	waitObject(t, a.Store, "small.mp3", time.Minute)

	putRemote(t, a, "big/hour.mp3", 22, 8<<20)
	msg := waitShareError(t, a, "no space left on device")
	t.Logf("status API: %s", msg)
	require.Contains(t, msg, "big/hour.mp3", "the error names the file")
	requireNoPartials(t, share)
	_, err := os.Stat(filepath.Join(share, "big/hour.mp3"))
	require.True(t, os.IsNotExist(err), "no partial file may be visible under the real name")
	requireLocal(t, a, "small.mp3", 21, 64<<10) // what was there is intact

	mount("-o", "remount,size=64m", share)
	requireLocal(t, a, "big/hour.mp3", 22, 8<<20)
	requireNoPartials(t, share)
	require.Eventually(t, func() bool { return a.Share(t).State == "in-sync" }, 2*time.Minute, 200*time.Millisecond)
}

// TestDirectoryReplacedByFile removes a synced folder and saves a file of
// the same name: the folder's objects are deleted (recoverably) and the
// file uploaded, with nothing left in between.
func TestDirectoryReplacedByFile(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second, DeleteGuardPercent: 100})
	writeLocal(t, filepath.Join(a.SharePath, "shows/a.mp3"), 31, 16<<10)
	writeLocal(t, filepath.Join(a.SharePath, "shows/b.mp3"), 32, 16<<10)
	writeLocal(t, filepath.Join(a.SharePath, "keep.mp3"), 33, 16<<10)
	for _, k := range []string{"shows/a.mp3", "shows/b.mp3", "keep.mp3"} {
		waitObject(t, a.Store, k, time.Minute)
	}
	require.NoError(t, os.RemoveAll(filepath.Join(a.SharePath, "shows")))
	writeLocal(t, filepath.Join(a.SharePath, "shows"), 34, 16<<10)

	waitObject(t, a.Store, "shows", time.Minute)
	requireObject(t, a.Store, "shows", 34, 16<<10)
	require.Eventually(t, func() bool {
		n := 0
		_ = a.Store.List(context.Background(), "shows/", func(objstore.Object) error { n++; return nil })
		return n == 0
	}, time.Minute, 200*time.Millisecond, "the folder's objects were not deleted")
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.State == "in-sync" && st.FilesTracked == 2
	}, time.Minute, 200*time.Millisecond)
	fi, err := os.Stat(filepath.Join(a.SharePath, "shows"))
	require.NoError(t, err)
	require.True(t, fi.Mode().IsRegular(), "the share keeps the file, not a folder")
}

// requireNoPartials fails if a download temp file is left on the share.
func requireNoPartials(t *testing.T, root string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		require.False(t, strings.HasPrefix(d.Name(), ".genesissync-tmp-"), "temp file left: %s", p)
		return nil
	}))
}

// TestPermissionDeniedFolder makes a share folder immutable (chattr +i:
// even root may not create files in it; the daemon runs as root with
// CAP_DAC_OVERRIDE, so plain permission bits never stop it): an object
// that belongs there cannot be downloaded. The error names the file, the
// rest of the share keeps syncing, and the file arrives once the folder is
// writable again.
func TestPermissionDeniedFolder(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	locked := filepath.Join(a.SharePath, "locked")
	require.NoError(t, os.MkdirAll(locked, 0o755))
	chattr := func(flag string) {
		t.Helper()
		out, err := exec.Command("chattr", flag, locked).CombinedOutput()
		require.NoError(t, err, "chattr %s: %s", flag, out)
	}
	chattr("+i")
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", locked).Run() })

	putRemote(t, a, "locked/news.mp3", 41, 32<<10)
	msg := waitShareError(t, a, "operation not permitted", "permission denied")
	require.Contains(t, msg, "locked/news.mp3", "the error names the file")
	t.Logf("status API: %s", msg)

	writeLocal(t, filepath.Join(a.SharePath, "free.mp3"), 42, 16<<10)
	waitObject(t, a.Store, "free.mp3", time.Minute) // the rest of the share keeps syncing
	requireObject(t, a.Store, "free.mp3", 42, 16<<10)

	chattr("-i")
	requireLocal(t, a, "locked/news.mp3", 41, 32<<10)
	requireNoPartials(t, a.SharePath)
	require.Eventually(t, func() bool { return a.Share(t).State == "in-sync" }, 2*time.Minute, 200*time.Millisecond)
}
