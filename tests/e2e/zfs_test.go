package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/zfs/zfstest"
	"genesissync/tests/harness"
)

// TestUnmountedDatasetDeletesNothing runs a share on a real ZFS dataset
// (zfs-fuse) and unmounts it. Even with a marker file left in the empty
// mountpoint (as a stale copy could be), the dataset check stops every
// scan, download and delete; mounted again, the share converges.
func TestUnmountedDatasetDeletesNothing(t *testing.T) {
	pool := zfstest.NewPool(t)
	dataset, mountpoint := pool.Dataset(t, "studio")
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		SharePath: mountpoint, Dataset: dataset, RemoteInterval: time.Second, ScanInterval: 10 * time.Second,
		// On zfs-fuse, Previous Versions are clones mounted inside the
		// dataset, and `zfs unmount` of a dataset with mounted children
		// is refused as busy; this test is about the mount check.
		ShareConfig: "    snapshots: {previous_versions: false}",
	})
	for i := 0; i < 10; i++ {
		writeLocal(t, filepath.Join(mountpoint, fmt.Sprintf("music/%02d.mp3", i)), uint64(i), 8<<10)
	}
	require.Eventually(t, func() bool { st := a.Share(t); return st.FilesTracked == 10 && st.State == "in-sync" }, time.Minute, 200*time.Millisecond)

	zfsCmd(t, "unmount", dataset)
	// A stale marker in the bare mountpoint must not fool the check.
	require.NoError(t, os.WriteFile(filepath.Join(mountpoint, layout.ShareMarker), []byte("stale"), 0o444))
	m.MC(t, []byte("new from the web"), "pipe", "t/"+a.Bucket+"/"+a.Prefix+"web/new.mp3")

	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.State == "error" && st.LastError != nil && strings.Contains(st.LastError.Message, "not mounted")
	}, 30*time.Second, 200*time.Millisecond, "the unmounted dataset was not reported")
	time.Sleep(12 * time.Second) // a full scan and many listings
	n := 0
	require.NoError(t, a.Store.List(context.Background(), "music/", func(objstore.Object) error { n++; return nil }))
	require.Equal(t, 10, n, "an unmounted dataset must never delete from the bucket")
	_, err := os.Stat(filepath.Join(mountpoint, "web"))
	require.True(t, os.IsNotExist(err), "nothing may be downloaded into the bare mountpoint")

	require.NoError(t, os.Remove(filepath.Join(mountpoint, layout.ShareMarker)))
	zfsCmd(t, "mount", dataset)
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.State == "in-sync" && st.FilesTracked == 11
	}, time.Minute, 200*time.Millisecond, "the share did not converge after the dataset came back")
}

func zfsCmd(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("zfs", args...).CombinedOutput()
	require.NoError(t, err, "zfs %v: %s", args, out)
}
