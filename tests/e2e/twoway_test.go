package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

func contentBytes(seed uint64, size int64) []byte {
	b, _ := io.ReadAll(newContent(seed, size))
	return b
}

// TestBucketToShare plays a web app (AzuraCast) writing into the bucket
// with the MinIO client: the object appears over SMB byte-identical, in
// the listing of a client that was already connected.
func TestBucketToShare(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	c := a.SMB(t)
	// The client is connected and has listed the folder before the object
	// exists, as a playout PC with the drive mapped would have.
	require.NoError(t, c.MkdirAll("azuracast", 0o755))
	_, err := c.ReadDir("azuracast")
	require.NoError(t, err)

	data := contentBytes(21, 3<<20)
	key := "azuracast/Übertragung 2026-11-22.mp3"
	m.MC(t, data, "pipe", "t/"+a.Bucket+"/"+a.Prefix+key)
	landed := time.Now()

	var seen time.Duration
	require.Eventually(t, func() bool {
		entries, err := c.ReadDir("azuracast")
		require.NoError(t, err)
		for _, e := range entries {
			if e.Name() == "Übertragung 2026-11-22.mp3" && e.Size() == int64(len(data)) {
				seen = time.Since(landed)
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the object never appeared in the SMB listing")
	t.Logf("object in bucket -> listed over SMB: %v (remote listing every 1s)", seen.Round(time.Millisecond))
	got, err := c.ReadFile(key)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "bytes read over SMB differ from the object")

	// No temp file is ever visible over SMB, and none is left on disk.
	entries, err := c.ReadDir("azuracast")
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".genesissync"), e.Name())
	}
	leftovers, _ := filepath.Glob(filepath.Join(a.SharePath, "azuracast", ".genesissync*"))
	require.Empty(t, leftovers)

	// The download is recorded: nothing goes back up, nothing comes down twice.
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.Downloads == 1 && st.State == "in-sync"
	}, 15*time.Second, 100*time.Millisecond)
	time.Sleep(3 * time.Second)
	st := a.Share(t)
	require.EqualValues(t, 1, st.Downloads)
	require.EqualValues(t, 0, st.Uploads, "a downloaded file must not be uploaded back")

	// A new version in the bucket replaces the file on the share.
	data2 := contentBytes(22, 1<<20)
	m.MC(t, data2, "pipe", "t/"+a.Bucket+"/"+a.Prefix+key)
	require.Eventually(t, func() bool {
		got, err := c.ReadFile(key)
		return err == nil && bytes.Equal(got, data2)
	}, 30*time.Second, 100*time.Millisecond)
}

// TestHostileKeysStayOutside puts keys no share may hold. Each is refused
// and reported; the filesystem outside the share is untouched; the good
// key beside them still arrives.
func TestHostileKeysStayOutside(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	outside := filepath.Dir(a.SharePath)
	before := treeOf(t, outside)

	hostile := []string{
		"CON.mp3", "jingles/aux", "lpt1.wav", "a:b.mp3", "what?.mp3", "pipe|name.mp3",
		"trailing dot.", "trailing space ", `back\slash.mp3`, "ctl\x01char.mp3",
		".genesissync-tmp-evil", "dir/.GENESISSYNC-marker",
		"Good.MP3", // differs from good.mp3 only by case: listed first, so good.mp3 is refused
		// MinIO itself refuses "..", absolute keys and segments over 255
		// bytes; internal/keymap's tests and fuzzing cover those.
	}
	for _, k := range hostile {
		m.MC(t, []byte("evil"), "pipe", "t/"+a.Bucket+"/"+a.Prefix+k)
	}
	m.MC(t, []byte("good"), "pipe", "t/"+a.Bucket+"/"+a.Prefix+"good.mp3")

	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(a.SharePath, "Good.MP3"))
		return err == nil && a.Share(t).RefusedCount == len(hostile)
	}, 30*time.Second, 100*time.Millisecond)
	st := a.Share(t)
	require.Equal(t, len(hostile), st.RefusedCount, "refused: %+v", st.Refused) // the hostile ones less Good.MP3, plus good.mp3
	for _, r := range st.Refused {
		require.NotEmpty(t, r.Reason)
	}
	require.Equal(t, before, treeOf(t, outside), "nothing outside the share may change")
	require.ElementsMatch(t, []string{"Good.MP3"}, namesIn(t, a.SharePath))
	reasons := map[string]string{}
	for _, r := range st.Refused {
		reasons[r.Key] = r.Reason
	}
	require.Equal(t, "case-collision", reasons["good.mp3"])
	require.Equal(t, "windows-reserved-name", reasons["CON.mp3"])
	require.NotEqual(t, "error", st.State, "refused keys are reported, the share keeps going")
}

// TestConflictKeepsBoth changes a file on both sides while the daemon is
// down: both versions survive, on the share and in the bucket.
func TestConflictKeepsBoth(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	c := a.SMB(t)
	writeSMB(t, c, "Jingle.mp3", 1, 64<<10)
	waitObject(t, a.Store, "Jingle.mp3", time.Minute)
	require.Eventually(t, func() bool { return a.Share(t).State == "in-sync" }, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, c.Close())
	a.Stop()

	writeLocal(t, filepath.Join(a.SharePath, "Jingle.mp3"), 2, 70<<10) // the studio's edit
	remoteEdit := contentBytes(3, 80<<10)
	m.MC(t, remoteEdit, "pipe", "t/"+a.Bucket+"/"+a.Prefix+"Jingle.mp3") // the web app's edit

	a.Start(t)
	var copyName string
	require.Eventually(t, func() bool {
		st := a.Share(t)
		if len(st.Conflicts) == 1 && st.State == "in-sync" {
			copyName = st.Conflicts[0].Copy
			return true
		}
		return false
	}, 60*time.Second, 100*time.Millisecond)
	require.Regexp(t, `^Jingle \(conflict \d{4}-\d\d-\d\d \d{4} from bucket\)\.mp3$`, copyName)

	// On the share: the studio's edit at the name, the web app's beside it.
	local, err := os.ReadFile(filepath.Join(a.SharePath, "Jingle.mp3"))
	require.NoError(t, err)
	require.Equal(t, contentBytes(2, 70<<10), local)
	saved, err := os.ReadFile(filepath.Join(a.SharePath, copyName))
	require.NoError(t, err)
	require.Equal(t, remoteEdit, saved)
	// In the bucket: the same two.
	requireObject(t, a.Store, "Jingle.mp3", 2, 70<<10)
	r, _, err := a.Store.Get(context.Background(), copyName)
	require.NoError(t, err)
	got, _ := io.ReadAll(r)
	r.Close()
	require.Equal(t, remoteEdit, got)
}

// TestDeletesAreHeld: deletes are decided but held until they can be
// proven safe (root health, delete guard): a delete on the share removes
// nothing from the bucket yet, and says so.
func TestDeletesAreHeld(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	c := a.SMB(t)
	writeSMB(t, c, "old.mp3", 5, 8<<10)
	waitObject(t, a.Store, "old.mp3", time.Minute)
	require.Eventually(t, func() bool { return a.Share(t).FilesTracked == 1 }, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, c.Remove("old.mp3"))
	require.Eventually(t, func() bool { return len(a.Share(t).HeldDeletes) == 1 }, 30*time.Second, 100*time.Millisecond)
	st := a.Share(t)
	require.Equal(t, "old.mp3", st.HeldDeletes[0].Path)
	require.Equal(t, "delete-remote", st.HeldDeletes[0].Action)
	_, err := a.Store.Head(context.Background(), "old.mp3")
	require.NoError(t, err, "the object must still be in the bucket")
	_, err = a.Store.Head(context.Background(), "nonexistent")
	require.ErrorIs(t, err, objstore.ErrNotFound)
}

// treeOf lists every path under dir with its size, skipping the share
// (which may change) and the appliance's own state.
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "share" || rel == "state" || rel == "daemon.log" {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		out = append(out, rel)
		return nil
	}))
	sort.Strings(out)
	return out
}

func namesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
