package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

	// A new version in the bucket replaces the file on the share. The
	// appliance never replaces a file an SMB client holds open, so the
	// wait looks at the size (the versions differ in size, and the
	// replacement is a rename: no size in between is ever visible) and
	// reads the file once it changed. Polling with whole reads would
	// itself hold the file open most of the time on a loaded machine
	// and, rightly, starve the replacement.
	data2 := contentBytes(22, 1<<20)
	m.MC(t, data2, "pipe", "t/"+a.Bucket+"/"+a.Prefix+key)
	replaced := assert.Eventually(t, func() bool {
		fi, err := c.Stat(key)
		return err == nil && fi.Size() != int64(len(data))
	}, 30*time.Second, 100*time.Millisecond, "the new version never replaced the file")
	if !replaced {
		snap, err := a.Status()
		require.NoError(t, err)
		t.Fatalf("files SMB clients hold open (as the status page last saw them): %+v", snap.Clients.OpenFiles)
	}
	got, err = c.ReadFile(key)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data2, got), "bytes read over SMB differ from the new version")
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

// TestDeletesPropagateRecoverably: a delete on either side reaches the
// other, and the data stays recoverable: the bucket (unversioned) keeps a
// copy under the trash prefix, the share keeps the file in its hidden
// trash folder, invisible over SMB.
func TestDeletesPropagateRecoverably(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	c := a.SMB(t)
	writeSMB(t, c, "old/studio take.mp3", 5, 8<<10)
	writeSMB(t, c, "web/playlist.m3u", 6, 1<<10)
	waitObject(t, a.Store, "old/studio take.mp3", time.Minute)
	waitObject(t, a.Store, "web/playlist.m3u", time.Minute)
	require.Eventually(t, func() bool { st := a.Share(t); return st.FilesTracked == 2 && st.State == "in-sync" }, 30*time.Second, 100*time.Millisecond)
	day := time.Now().UTC().Format("2006-01-02")

	// Deleted on the share: gone from the bucket, kept in its trash.
	require.NoError(t, c.Remove("old/studio take.mp3"))
	require.Eventually(t, func() bool {
		_, err := a.Store.Head(context.Background(), "old/studio take.mp3")
		return err != nil
	}, 30*time.Second, 100*time.Millisecond, "the delete never reached the bucket")
	_, err := a.Store.Head(context.Background(), ".genesissync-trash/"+day+"/old/studio take.mp3")
	require.NoError(t, err, "the bucket's copy must be recoverable from the trash prefix")

	// Deleted in the bucket: gone from the share, kept in its trash.
	m.MC(t, nil, "rm", "t/"+a.Bucket+"/"+a.Prefix+"web/playlist.m3u")
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(a.SharePath, "web/playlist.m3u"))
		return os.IsNotExist(err)
	}, 30*time.Second, 100*time.Millisecond, "the delete never reached the share")
	kept, err := os.ReadFile(filepath.Join(a.SharePath, ".genesissync-trash", time.Now().Format("2006-01-02"), "web/playlist.m3u"))
	require.NoError(t, err, "the share's copy must be recoverable from the trash folder")
	require.Equal(t, contentBytes(6, 1<<10), kept)
	entries, err := c.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".genesissync"), "%s is visible over SMB", e.Name())
	}
	require.Eventually(t, func() bool { st := a.Share(t); return st.Deletes == 2 && st.FilesTracked == 0 }, 15*time.Second, 100*time.Millisecond)
}

// TestMassDeleteGuard deletes 200 of 210 files at once: the guard holds
// them, nothing leaves the bucket until a person approves the batch with
// the CLI, then all 200 go (recoverably).
func TestMassDeleteGuard(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	old := time.Now().Add(-time.Hour)
	for i := 0; i < 210; i++ {
		p := filepath.Join(a.SharePath, fmt.Sprintf("archive/%03d.mp3", i))
		writeLocal(t, p, uint64(i), 1<<10)
		require.NoError(t, os.Chtimes(p, old, old))
	}
	require.Eventually(t, func() bool { st := a.Share(t); return st.FilesTracked == 210 && st.State == "in-sync" }, 2*time.Minute, 200*time.Millisecond)

	for i := 0; i < 200; i++ {
		require.NoError(t, os.Remove(filepath.Join(a.SharePath, fmt.Sprintf("archive/%03d.mp3", i))))
	}
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.DeleteGuardTripped && st.HeldDeleteCount == 200
	}, 60*time.Second, 200*time.Millisecond, "the guard did not trip")
	time.Sleep(3 * time.Second)
	st := a.Share(t)
	require.EqualValues(t, 0, st.Deletes, "nothing may be deleted before approval")
	require.Equal(t, "error", st.State, "a tripped guard shows")
	n := 0
	require.NoError(t, a.Store.List(context.Background(), "archive/", func(objstore.Object) error { n++; return nil }))
	require.Equal(t, 210, n, "all objects must still be in the bucket")

	out := a.CLI(t, "deletes", "show", "studio")
	require.Contains(t, out, "the delete guard holds batch")
	require.Contains(t, out, `"archive/000.mp3"`)
	out = a.CLI(t, "deletes", "approve", "studio", "--yes")
	require.Contains(t, out, "approved")

	require.Eventually(t, func() bool { return a.Share(t).Deletes == 200 }, 2*time.Minute, 200*time.Millisecond)
	n = 0
	require.NoError(t, a.Store.List(context.Background(), "archive/", func(objstore.Object) error { n++; return nil }))
	require.Equal(t, 10, n)
	st = a.Share(t)
	require.False(t, st.DeleteGuardTripped)
	require.Equal(t, 10, st.FilesTracked)
}

// TestUnmountedShareDeletesNothing moves the share's directory away and
// leaves an empty mountpoint, as an unmounted dataset would: not one
// object may be deleted, and the share says why.
func TestUnmountedShareDeletesNothing(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second, ScanInterval: 10 * time.Second})
	for i := 0; i < 20; i++ {
		writeLocal(t, filepath.Join(a.SharePath, fmt.Sprintf("music/%02d.mp3", i)), uint64(i), 4<<10)
	}
	require.Eventually(t, func() bool { st := a.Share(t); return st.FilesTracked == 20 && st.State == "in-sync" }, time.Minute, 200*time.Millisecond)

	away := a.SharePath + ".away"
	require.NoError(t, os.Rename(a.SharePath, away))
	require.NoError(t, os.Mkdir(a.SharePath, 0o755))
	a.Share(t)
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.State == "error" && st.LastError != nil && strings.Contains(st.LastError.Message, "marker")
	}, 30*time.Second, 200*time.Millisecond, "the unhealthy root was not reported")
	time.Sleep(12 * time.Second) // a full scan and several listings
	n := 0
	require.NoError(t, a.Store.List(context.Background(), "music/", func(objstore.Object) error { n++; return nil }))
	require.Equal(t, 20, n, "an unmounted share must never delete from the bucket")
	require.EqualValues(t, 0, a.Share(t).Deletes)
	_, err := os.Stat(filepath.Join(a.SharePath, "music"))
	require.True(t, os.IsNotExist(err), "nothing may be downloaded into an empty mountpoint")

	// Mounted again: back in sync, nothing lost.
	require.NoError(t, os.Remove(a.SharePath))
	require.NoError(t, os.Rename(away, a.SharePath))
	require.Eventually(t, func() bool { st := a.Share(t); return st.State == "in-sync" && st.FilesTracked == 20 }, 60*time.Second, 200*time.Millisecond)
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

// namesIn lists dir's entries, less the appliance's own (marker, trash).
func namesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".genesissync") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestRenameIsServerSideCopy renames a large file over SMB: the bucket
// gets the new name by a server-side copy, not a second upload, and the
// old name goes the way of any delete (recoverably).
func TestRenameIsServerSideCopy(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	c := a.SMB(t)
	writeSMB(t, c, "shows/take 1.wav", 31, 20<<20)
	waitObject(t, a.Store, "shows/take 1.wav", time.Minute)
	require.Eventually(t, func() bool { st := a.Share(t); return st.Uploads == 1 && st.State == "in-sync" }, 30*time.Second, 100*time.Millisecond)

	require.NoError(t, c.MkdirAll("final", 0o755))
	require.NoError(t, c.Rename("shows/take 1.wav", "final/Morning Show.wav"))
	waitObject(t, a.Store, "final/Morning Show.wav", time.Minute)
	require.Eventually(t, func() bool {
		_, err := a.Store.Head(context.Background(), "shows/take 1.wav")
		return err != nil
	}, 30*time.Second, 100*time.Millisecond, "the old name stayed in the bucket")
	requireObject(t, a.Store, "final/Morning Show.wav", 31, 20<<20)
	st := a.Share(t)
	require.EqualValues(t, 1, st.Renames)
	require.EqualValues(t, 1, st.Uploads, "a renamed file must not be uploaded again")
	require.EqualValues(t, 1, st.Deletes)
}

// TestOpenFileIsNotReplaced: while a playout PC has a file open, a new
// version from the bucket waits; once the file is closed it arrives.
func TestOpenFileIsNotReplaced(t *testing.T) {
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	c := a.SMB(t)
	writeSMB(t, c, "on air.mp3", 51, 256<<10)
	waitObject(t, a.Store, "on air.mp3", time.Minute)
	require.Eventually(t, func() bool { return a.Share(t).State == "in-sync" }, 30*time.Second, 100*time.Millisecond)

	player, err := c.Open("on air.mp3") // the player holds it open, reading
	require.NoError(t, err)
	buf := make([]byte, 4096)
	_, err = player.Read(buf)
	require.NoError(t, err)

	next := contentBytes(52, 300<<10)
	m.MC(t, next, "pipe", "t/"+a.Bucket+"/"+a.Prefix+"on air.mp3")
	time.Sleep(6 * time.Second) // several listings and dispatch rounds
	onDisk, err := os.ReadFile(filepath.Join(a.SharePath, "on air.mp3"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(contentBytes(51, 256<<10), onDisk), "a file open over SMB was replaced")
	require.NotZero(t, a.Share(t).PendingUploads, "the new version is pending, not forgotten")

	require.NoError(t, player.Close())
	require.Eventually(t, func() bool {
		got, err := os.ReadFile(filepath.Join(a.SharePath, "on air.mp3"))
		return err == nil && bytes.Equal(got, next)
	}, 30*time.Second, 100*time.Millisecond, "the new version never arrived after the close")
}
