package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// TestImportKilledAndResumed brings an old playout PC's folder into a
// live share with `genesissync import`, kills it with SIGKILL in the
// middle, and runs it again: nothing partial is ever visible under a
// file's name, nothing is duplicated, a hostile name is refused and
// reported, and the daemon uploads each file exactly once.
func TestImportKilledAndResumed(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{})
	src := t.TempDir()
	const n, size = 24, 8 << 20
	files := map[string][]byte{}
	for i := range n {
		rel := "Old PC/Music/Track " + itoa(int64(i)) + " + live.mp3"
		files[rel] = contentBytes(uint64(700+i), size)
		writeLocal(t, filepath.Join(src, filepath.FromSlash(rel)), uint64(700+i), size)
	}
	writeLocal(t, filepath.Join(src, "Old PC", "Music", "bad:name.mp3"), 1, 10)

	run := func() *exec.Cmd {
		cmd := exec.Command(harness.Binary(t), "import", filepath.Join(src, "Old PC"), "--share", "studio", "--into", "Old PC",
			"--concurrency", "1", "--config", a.ConfigPath)
		cmd.Stderr = os.Stderr
		return cmd
	}
	cmd := run()
	var out bytes.Buffer
	cmd.Stdout = &out
	require.NoError(t, cmd.Start())
	// Kill it once a few files are in, while one is being copied.
	require.Eventually(t, func() bool {
		entries, _ := os.ReadDir(filepath.Join(a.SharePath, "Old PC", "Music"))
		done, temp := 0, 0
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".genesissync-tmp-") {
				temp++
			} else {
				done++
			}
		}
		return done >= 4 && temp > 0
	}, time.Minute, time.Millisecond, "the import never got going")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	// Whatever has a name is whole.
	entries, err := os.ReadDir(filepath.Join(a.SharePath, "Old PC", "Music"))
	require.NoError(t, err)
	temps := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".genesissync-tmp-import-") {
			temps++
			continue
		}
		got, err := os.ReadFile(filepath.Join(a.SharePath, "Old PC", "Music", e.Name()))
		require.NoError(t, err)
		require.True(t, bytes.Equal(files["Old PC/Music/"+e.Name()], got), "partial or wrong file published: %s", e.Name())
	}
	require.Positive(t, temps, "the kill left its temp file")
	c := a.SMB(t)
	listed, err := c.ReadDir("Old PC/Music")
	require.NoError(t, err)
	for _, e := range listed {
		require.False(t, strings.HasPrefix(e.Name(), ".genesissync"), "temp file visible over SMB: %s", e.Name())
	}

	// Resumed: everything in, the leftover gone, the bad name reported.
	out.Reset()
	cmd = run()
	cmd.Stdout = &out
	require.NoError(t, cmd.Run(), out.String())
	require.Contains(t, out.String(), "identical skipped", out.String())
	require.Contains(t, out.String(), "refused: "+filepath.Join(src, "Old PC", "Music", "bad:name.mp3"), out.String())
	for rel, data := range files {
		got, err := os.ReadFile(filepath.Join(a.SharePath, filepath.FromSlash(rel)))
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got), rel)
	}
	left, _ := filepath.Glob(filepath.Join(a.SharePath, "Old PC", "Music", ".genesissync-tmp-*"))
	require.Empty(t, left, "the interrupted import's temp file was removed")

	// The daemon uploaded each exactly once.
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.FilesTracked == n && st.State == "in-sync"
	}, 2*time.Minute, 200*time.Millisecond)
	require.EqualValues(t, n, a.Share(t).Uploads, "each file uploaded once")
	objects := 0
	require.NoError(t, a.Store.List(context.Background(), "Old PC/", func(o objstore.Object) error {
		objects++
		return nil
	}))
	require.Equal(t, n, objects)
}
