package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// seedFile is one file of the restore tests' share, its content a seed.
type seedFile struct {
	rel  string
	seed uint64
	size int64
}

var restoreSeed = []seedFile{
	{"a.wav", 101, 1 << 20},
	{"jingles/b.wav", 102, 300 << 10},
	{"jingles/c.mp3", 103, 200 << 10},
	{"news/d.wav", 104, 64 << 10},
	{"shows/2025/e.wav", 105, 17 << 20}, // multipart
	{"shows/2025/f.wav", 106, 1},
}

// runCLI runs genesissync with the appliance's config and returns its
// combined output and exit code.
func runCLI(t *testing.T, a *harness.Appliance, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), append(args, "--config", a.ConfigPath)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("genesissync %v: %v", args, err)
	return "", 0
}

// treeSums maps every regular file under dir to its SHA-256.
func treeSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if filepath.Base(rel)[0] == '.' {
			return nil // the appliance's marker
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		s := sha256.Sum256(b)
		sums[filepath.ToSlash(rel)] = hex.EncodeToString(s[:])
		return nil
	}))
	return sums
}

func sumsOf(files []seedFile) map[string]string {
	m := map[string]string{}
	for _, f := range files {
		m[f.rel] = sha256Of(f.seed, f.size)
	}
	return m
}

// waitSynced waits until the object has the content's hash.
func waitSynced(t *testing.T, s objstore.Store, rel string, seed uint64, size int64) {
	t.Helper()
	want := sha256Of(seed, size)
	require.Eventually(t, func() bool {
		o, err := s.Head(context.Background(), rel)
		return err == nil && o.SHA256 == want
	}, time.Minute, 50*time.Millisecond, "%s never reached the bucket", rel)
}

// TestRestoreAndVerify seeds a share over SMB through the running
// appliance on a versioned bucket, then restores it (full, selective,
// point in time, cold boot) and verifies it, also after damage.
func TestRestoreAndVerify(t *testing.T) {
	ctx := context.Background()
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{})
	require.NoError(t, a.Store.EnableVersioning(ctx))
	c := a.SMB(t)
	for _, f := range restoreSeed {
		writeSMB(t, c, f.rel, f.seed, f.size)
	}
	for _, f := range restoreSeed {
		waitSynced(t, a.Store, f.rel, f.seed, f.size)
	}
	want := sumsOf(restoreSeed)
	require.Equal(t, want, treeSums(t, a.SharePath))

	t.Run("full into an empty directory verifies clean", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "restored")
		out, code := runCLI(t, a, "restore", "studio", "--to", dir)
		require.Zero(t, code, out)
		require.Contains(t, out, "restored 6 files")
		require.Equal(t, want, treeSums(t, dir))
		// mtimes come back from the object metadata.
		for _, f := range restoreSeed {
			src, err := os.Stat(filepath.Join(a.SharePath, f.rel))
			require.NoError(t, err)
			dst, err := os.Stat(filepath.Join(dir, f.rel))
			require.NoError(t, err)
			require.True(t, src.ModTime().Equal(dst.ModTime()), "%s: mtime %s, share has %s", f.rel, dst.ModTime(), src.ModTime())
		}
		out, code = runCLI(t, a, "verify", "studio", "--dir", dir, "--deep")
		require.Zero(t, code, out)
		require.Contains(t, out, "clean")

		// A rerun skips what is there and verified.
		out, code = runCLI(t, a, "restore", "studio", "--to", dir, "--json")
		require.Zero(t, code, out)
		require.Contains(t, out, `"present": 6`)
	})

	t.Run("selective", func(t *testing.T) {
		dir := t.TempDir()
		out, code := runCLI(t, a, "restore", "studio", "--to", dir, "--prefix", "jingles/")
		require.Zero(t, code, out)
		require.Equal(t, sumsOf(restoreSeed[1:3]), treeSums(t, dir))
		dir = t.TempDir()
		out, code = runCLI(t, a, "restore", "studio", "--to", dir, "--glob", "*.mp3")
		require.Zero(t, code, out)
		require.Equal(t, sumsOf(restoreSeed[2:3]), treeSums(t, dir))
		out, code = runCLI(t, a, "restore", "studio", "--to", dir, "--prefix", "a", "--glob", "*")
		require.Equal(t, 2, code, out)
	})

	t.Run("verify through the daemon", func(t *testing.T) {
		out, code := runCLI(t, a, "verify", "studio")
		t.Logf("verify through the daemon:\n%s", out)
		require.Zero(t, code, out)
		require.Contains(t, out, "clean")
		v := a.Share(t).Verify
		require.False(t, v.LastRun.IsZero())
		require.Equal(t, len(restoreSeed), v.Checked)
		require.Zero(t, v.Mismatches)
	})

	t.Run("point in time", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond)
		before := time.Now()
		time.Sleep(1100 * time.Millisecond)
		// Overwrite a.wav and delete news/d.wav over SMB; wait until the
		// bucket's current versions say so.
		writeSMB(t, c, "a.wav", 201, 900<<10)
		waitSynced(t, a.Store, "a.wav", 201, 900<<10)
		require.NoError(t, c.Remove("news/d.wav"))
		require.Eventually(t, func() bool {
			_, err := a.Store.Head(ctx, "news/d.wav")
			return errors.Is(err, objstore.ErrNotFound)
		}, time.Minute, 50*time.Millisecond, "the delete never reached the bucket")

		dir := t.TempDir()
		out, code := runCLI(t, a, "restore", "studio", "--to", dir, "--at", before.Format(time.RFC3339Nano))
		require.Zero(t, code, out)
		require.Equal(t, want, treeSums(t, dir), "the older a.wav and the deleted news/d.wav are back")

		now := t.TempDir()
		out, code = runCLI(t, a, "restore", "studio", "--to", now)
		require.Zero(t, code, out)
		cur := sumsOf(restoreSeed)
		cur["a.wav"] = sha256Of(201, 900<<10)
		delete(cur, "news/d.wav")
		require.Equal(t, cur, treeSums(t, now))

		// Into the live share, through the running daemon: the deleted
		// file comes back and the pipeline uploads it again.
		out, code = runCLI(t, a, "restore", "studio", "--glob", "d.wav", "--at", before.Format(time.RFC3339Nano))
		t.Logf("live point-in-time restore through the daemon:\n%s", out)
		require.Zero(t, code, out)
		require.Contains(t, out, "restored 1 files")
		require.Equal(t, sha256Of(104, 64<<10), treeSums(t, a.SharePath)["news/d.wav"])
		waitSynced(t, a.Store, "news/d.wav", 104, 64<<10)
	})

	t.Run("cold boot", func(t *testing.T) {
		cur := treeSums(t, a.SharePath)
		a.Stop()
		// A new box: an empty share and no index.
		require.NoError(t, os.RemoveAll(filepath.Join(a.Dir, "state", "index.db")))
		entries, err := os.ReadDir(a.SharePath)
		require.NoError(t, err)
		for _, e := range entries {
			require.NoError(t, os.RemoveAll(filepath.Join(a.SharePath, e.Name())))
		}
		out, code := runCLI(t, a, "restore", "studio")
		require.Zero(t, code, out)
		require.Contains(t, out, "index rebuilt: 6 entries")
		require.Equal(t, cur, treeSums(t, a.SharePath))
		out, code = runCLI(t, a, "verify", "studio", "--deep")
		require.Zero(t, code, out)

		a.Start(t)
		out, code = runCLI(t, a, "verify", "studio")
		require.Zero(t, code, out)
		require.Contains(t, out, "0 pending sync", "the daemon adopted the restored share as in sync")
	})

	t.Run("verify finds damage", func(t *testing.T) {
		// Bit rot on the share: other bytes, same size and mtime. The
		// pipeline cannot see it; the daemon's deep verify does, and says
		// so in the event log.
		p := filepath.Join(a.SharePath, "jingles/b.wav")
		fi, err := os.Stat(p)
		require.NoError(t, err)
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("rot"), 1000)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
		out, code := runCLI(t, a, "verify", "studio", "--deep", "--json")
		require.Equal(t, 3, code, out)
		require.Contains(t, out, `"kind": "local-corrupt"`)
		snap, err := a.Status()
		require.NoError(t, err)
		found := false
		for _, e := range snap.Events {
			found = found || (e.Kind == "verify.mismatch" && e.Level == "error")
		}
		require.True(t, found, "a verify.mismatch event: %+v", snap.Events)
		require.Equal(t, 1, snap.Shares[0].Verify.Mismatches)
		a.Stop()

		// A damaged object: other bytes under the original sha256 metadata.
		orig, err := a.Store.Head(ctx, "jingles/c.mp3")
		require.NoError(t, err)
		bad := filepath.Join(t.TempDir(), "bad")
		writeLocal(t, bad, 999, orig.Size)
		m.MC(t, nil, "cp", "--attr", "sha256="+orig.SHA256, bad, "t/"+a.Bucket+"/"+a.Prefix+"jingles/c.mp3")
		damaged, err := a.Store.Head(ctx, "jingles/c.mp3")
		require.NoError(t, err)
		require.Equal(t, orig.SHA256, damaged.SHA256, "the damaged object keeps the original's hash metadata")

		// A missing object.
		require.NoError(t, a.Store.Delete(ctx, "shows/2025/e.wav"))

		out, code = runCLI(t, a, "verify", "studio")
		require.Equal(t, 3, code, out)
		require.Contains(t, out, `missing-remote "shows/2025/e.wav"`)

		out, code = runCLI(t, a, "verify", "studio", "--deep")
		t.Logf("verify --deep after damage (exit %d):\n%s", code, out)
		require.Equal(t, 3, code, out)
		for _, k := range []string{`local-corrupt "jingles/b.wav"`, `object-corrupt "jingles/c.mp3"`, `missing-remote "shows/2025/e.wav"`} {
			require.Contains(t, out, k)
		}
		require.Contains(t, out, "3 MISMATCHES")
	})
}
