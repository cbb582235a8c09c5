package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"genesissync/internal/alert"
	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/samba"
	"genesissync/internal/zfs/zfstest"
	"genesissync/tests/audio"
	"genesissync/tests/harness"
)

// The ransomware tripwire, attacked over SMB by a client that encrypts a
// station's audio (real MPEG, RIFF/WAVE and FLAC structure), and replayed
// against honest studio work that must not trip it.

// attackEvery is how fast the attacks below go: one file every 0.2 s.
const attackEvery = 200 * time.Millisecond

// tripwireAppliance is an appliance whose alerts go to a webhook stand-in,
// with the engine's "for" at a minute and evaluations every 10 s, so that
// a prompt tripwire alert proves the trip skips both.
func tripwireAppliance(t *testing.T, shareConfig string) (*harness.Appliance, *alertInbox) {
	t.Helper()
	const hookToken = "e2e-webhook-token"
	in := &alertInbox{t: t}
	hook := httptest.NewServer(in.webhookStandIn(hookToken))
	t.Cleanup(hook.Close)
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		RemoteInterval: 2 * time.Second,
		ShareConfig:    shareConfig,
		Config: fmt.Sprintf(`alerts:
  name: e2e-box
  interval: 10s
  for: 1m
  webhooks:
    - {url: %q, token: %q}
`, hook.URL+"/genesis", hookToken),
	})
	return a, in
}

// stationLibrary is a station's audio by path: MP3s with ID3 tags, WAV
// and FLAC, in six folders.
func stationLibrary() map[string][]byte {
	lib := map[string][]byte{}
	for i := range 60 {
		dir := fmt.Sprintf("Music/Artist %d", i%6)
		switch i % 6 {
		case 4:
			lib[fmt.Sprintf("%s/Take %02d.wav", dir, i)] = audio.WAV(4000, uint64(i))
		case 5:
			lib[fmt.Sprintf("%s/Master %02d.flac", dir, i)] = audio.FLAC(16<<10, uint64(i))
		default:
			lib[fmt.Sprintf("%s/Track %02d.mp3", dir, i)] = audio.MP3(fmt.Sprintf("Track %d", i), 40, uint64(i))
		}
	}
	return lib
}

func sortedPaths(files map[string][]byte) []string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// copyIn writes files over SMB, as a studio PC copies tracks in.
func copyIn(t *testing.T, c *samba.Client, files map[string][]byte) {
	t.Helper()
	for _, p := range sortedPaths(files) {
		require.NoError(t, c.MkdirAll(path.Dir(p), 0o755))
		require.NoError(t, c.WriteFile(p, files[p], 0o644), p)
	}
}

// waitAllSynced waits until every file is in the bucket with exactly its
// bytes' SHA-256 and the share has nothing pending.
func waitAllSynced(t *testing.T, a *harness.Appliance, files map[string][]byte) {
	t.Helper()
	require.Eventually(t, func() bool {
		for p, b := range files {
			o, err := a.Store.Head(context.Background(), p)
			if err != nil || o.SHA256 != sha(b) {
				return false
			}
		}
		st := a.Share(t)
		return st.PendingUploads == 0 && st.InFlight == 0
	}, 3*time.Minute, 250*time.Millisecond, "the files did not reach the bucket")
}

// bucketKeys lists the bucket's keys with their sha256 metadata (a HEAD
// each: listings carry no metadata), the appliance's own names left out.
func bucketKeys(t *testing.T, s objstore.Store) map[string]string {
	t.Helper()
	keys := map[string]string{}
	require.NoError(t, s.List(context.Background(), "", func(o objstore.Object) error {
		if !strings.HasPrefix(o.Key, ".genesissync") {
			keys[o.Key] = ""
		}
		return nil
	}))
	for k := range keys {
		o, err := s.Head(context.Background(), k)
		require.NoError(t, err, k)
		keys[k] = o.SHA256
	}
	return keys
}

// tripReport waits for the share's trip and its alert, checks the alert
// names the SMB client, and logs how fast both came.
func tripReport(t *testing.T, a *harness.Appliance, in *alertInbox, attackStart time.Time) model.Share {
	t.Helper()
	var st model.Share
	require.Eventually(t, func() bool { st = a.Share(t); return st.Tripwire != nil && st.Tripwire.Tripped }, time.Minute, 100*time.Millisecond, "the tripwire did not trip")
	var fired alert.WebhookPayload
	require.Eventually(t, func() bool { var ok bool; fired, ok = in.hook("firing", "tripwire:studio", 0); return ok }, 30*time.Second, 50*time.Millisecond,
		"the webhook never heard of the trip")
	require.Equal(t, alert.Critical, fired.Severity)
	require.Contains(t, fired.Message, "RANSOMWARE TRIPWIRE TRIPPED")
	require.Contains(t, fired.Message, "studio on 127.0.0.1", "the alert names the SMB client: user and address")
	resp, err := http.Get(a.StatusURL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), `genesissync_tripwire_tripped{share="studio"} 1`)
	t.Logf("tripped %.1f s after the attack began: %s", st.Tripwire.TrippedAt.Sub(attackStart).Seconds(), st.Tripwire.Reason)
	t.Logf("alert sent %.2f s after the trip: %s", fired.SentAt.Sub(st.Tripwire.TrippedAt).Seconds(), fired.Message)
	return st
}

// TestTripwireInPlaceEncryption: a client encrypts the library in place,
// one file every 0.2 s. No encrypted byte reaches the bucket (every
// rewrite that stopped being audio is held on its own, and the burst
// trips the share), nothing is deleted, and the alert names the client.
func TestTripwireInPlaceEncryption(t *testing.T) {
	a, in := tripwireAppliance(t, "    tripwire: {max_rewrites: 10, window: 10m}\n")
	c := a.SMB(t)
	lib := stationLibrary()
	copyIn(t, c, lib)
	waitAllSynced(t, a, lib)
	require.False(t, a.Share(t).Tripwire.Tripped, "copying the library in trips nothing")

	start := time.Now()
	for _, p := range sortedPaths(lib) {
		f, err := c.OpenFile(p, os.O_RDWR, 0)
		require.NoError(t, err, p)
		_, err = io.ReadAll(f)
		require.NoError(t, err)
		_, err = f.Seek(0, io.SeekStart)
		require.NoError(t, err)
		_, err = f.Write(audio.Encrypt(lib[p], 7))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		time.Sleep(attackEvery)
	}
	tripReport(t, a, in, start)
	require.Eventually(t, func() bool { st := a.Share(t); return st.Tripwire.HeldCount == len(lib) && st.PendingUploads == 0 },
		time.Minute, 200*time.Millisecond, "every encrypted file is held")

	keys := bucketKeys(t, a.Store)
	damaged := 0
	for p, b := range lib {
		got, ok := keys[p]
		require.True(t, ok, "%s: deleted from the bucket", p)
		if got != sha(b) {
			damaged++
		}
	}
	require.Len(t, keys, len(lib), "nothing added, nothing deleted")
	t.Logf("in-place attack on %d files: %d damaged files reached the bucket", len(lib), damaged)
	require.Zero(t, damaged)

	restoreBeforeTrip(t, a, c, lib, in)
}

// restoreBeforeTrip restores the share from before the trip with the CLI
// and checks the share holds the library again, read over SMB, with the
// tripwire re-armed, the attack's files gone and the alert resolved.
func restoreBeforeTrip(t *testing.T, a *harness.Appliance, c *samba.Client, lib map[string][]byte, in *alertInbox) {
	t.Helper()
	start := time.Now()
	out := a.CLI(t, "tripwire", "restore", "studio", "--yes")
	require.Contains(t, out, "the tripwire re-arms when it is done")
	require.Contains(t, out, "armed;", "re-armed once the restore finished:\n%s", out)
	for _, p := range sortedPaths(lib) {
		got, err := c.ReadFile(p)
		require.NoError(t, err, p)
		require.Equal(t, sha(lib[p]), sha(got), "%s: restored over the encrypted bytes", p)
	}
	var st model.Share
	if !assert.Eventually(t, func() bool {
		st = a.Share(t)
		return !st.Tripwire.Tripped && st.Tripwire.HeldCount == 0 && st.HeldDeleteCount == 0 && st.PendingUploads == 0 && st.State == "in-sync"
	}, time.Minute, 200*time.Millisecond, "the share is in sync and armed again") {
		t.Fatalf("state %s, tripwire %+v, held deletes %d %+v (tripped %v), pending %d, failing %+v", st.State, *st.Tripwire, st.HeldDeleteCount, st.HeldDeletes, st.DeleteGuardTripped, st.PendingUploads, st.Failing)
	}
	entries, err := os.ReadDir(a.SharePath + "/Music/Artist 0")
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasSuffix(e.Name(), ".locked"), "%s: the attack's files are in the trash", e.Name())
	}
	keys := bucketKeys(t, a.Store)
	require.Len(t, keys, len(lib), "the bucket holds the library and nothing else")
	for p, b := range lib {
		require.Equal(t, sha(b), keys[p], p)
	}
	require.Eventually(t, func() bool { _, ok := in.hook("resolved", "tripwire:studio", 0); return ok }, 30*time.Second, 100*time.Millisecond)
	t.Logf("restored from before the trip and re-armed in %.1f s", time.Since(start).Seconds())
}

// TestTripwireRenameToLocked: a client writes each file encrypted under
// name + ".locked" and deletes the original. No .locked object reaches the
// bucket, no original is deleted from it (the deletes wait), and the
// alert names the client.
func TestTripwireRenameToLocked(t *testing.T) {
	a, in := tripwireAppliance(t, "    tripwire: {max_rewrites: 10, window: 10m}\n")
	c := a.SMB(t)
	lib := stationLibrary()
	copyIn(t, c, lib)
	waitAllSynced(t, a, lib)

	start := time.Now()
	for _, p := range sortedPaths(lib) {
		require.NoError(t, c.WriteFile(p+".locked", audio.Encrypt(lib[p], 8), 0o644))
		require.NoError(t, c.Remove(p))
		time.Sleep(attackEvery)
	}
	st := tripReport(t, a, in, start)
	require.Contains(t, st.Tripwire.Reason, ".locked")
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.HeldDeleteCount == len(lib) && st.Tripwire.HeldCount == len(lib)
	},
		time.Minute, 200*time.Millisecond, "every delete waits, every .locked file is held")
	time.Sleep(5 * time.Second) // well past the settle window and the guard's quiet period

	keys := bucketKeys(t, a.Store)
	locked := 0
	for k := range keys {
		if strings.HasSuffix(k, ".locked") {
			locked++
		}
	}
	for p, b := range lib {
		require.Equal(t, sha(b), keys[p], "%s: the original is still in the bucket, intact", p)
	}
	t.Logf("rename attack on %d files: %d .locked objects reached the bucket, %d originals deleted from it", len(lib), locked, len(lib)-(len(keys)-locked))
	require.Zero(t, locked)
	require.Len(t, keys, len(lib))

	restoreBeforeTrip(t, a, c, lib, in)
}

// TestTripwireRansomNotes: a client drops a ransom note in every folder.
// Notes in three folders trip the share; the notes after that wait; a
// person's release (the CLI) sends what was held and re-arms the share.
func TestTripwireRansomNotes(t *testing.T) {
	a, in := tripwireAppliance(t, "    tripwire: {enabled: true}\n")
	c := a.SMB(t)
	lib := stationLibrary()
	copyIn(t, c, lib)
	waitAllSynced(t, a, lib)

	note := []byte("All your files have been encrypted!\r\nTo get them back, write to decrypt@example.invalid\r\n")
	start := time.Now()
	for i := range 6 {
		require.NoError(t, c.WriteFile(fmt.Sprintf("Music/Artist %d/HOW_TO_DECRYPT_FILES.txt", i), note, 0o644))
		time.Sleep(attackEvery)
	}
	st := tripReport(t, a, in, start)
	require.Contains(t, st.Tripwire.Reason, "ransom-note names in 3 folders")
	require.Eventually(t, func() bool { st := a.Share(t); return st.PendingUploads == 0 && st.InFlight == 0 }, time.Minute, 200*time.Millisecond)
	notes := 0
	for k := range bucketKeys(t, a.Store) {
		if strings.HasSuffix(k, "HOW_TO_DECRYPT_FILES.txt") {
			notes++
		}
	}
	held := a.Share(t).Tripwire.HeldCount
	t.Logf("ransom-note attack on 6 folders: %d notes reached the bucket before the trip, %d held", notes, held)
	require.Equal(t, 6, notes+held)
	for p, b := range lib {
		o, err := a.Store.Head(context.Background(), p)
		require.NoError(t, err)
		require.Equal(t, sha(b), o.SHA256, "%s: the library is untouched", p)
	}

	out := a.CLI(t, "tripwire", "show", "studio")
	require.Contains(t, out, "TRIPPED")
	require.Contains(t, out, "SMB client studio on 127.0.0.1")
	out = a.CLI(t, "tripwire", "release", "studio", "--yes")
	require.Contains(t, out, fmt.Sprintf("%d held change(s) leave for the bucket", held))
	require.Eventually(t, func() bool {
		st := a.Share(t)
		n := 0
		for k := range bucketKeys(t, a.Store) {
			if strings.HasSuffix(k, "HOW_TO_DECRYPT_FILES.txt") {
				n++
			}
		}
		return !st.Tripwire.Tripped && st.Tripwire.HeldCount == 0 && n == 6
	}, time.Minute, 200*time.Millisecond, "the release sends what was held and re-arms the share")
	require.Eventually(t, func() bool { _, ok := in.hook("resolved", "tripwire:studio", 0); return ok }, 30*time.Second, 100*time.Millisecond,
		"the alert is resolved once released")
}

// TestTripwireNoFalseAlarms replays honest studio work at the default
// thresholds: 500 new tracks copied in, 200 MP3s re-tagged, 100 WAVs
// re-encoded to FLAC under new names (an extension the share never held),
// and a day of saves, edits, recordings and deletes. Nothing trips and
// nothing is held.
func TestTripwireNoFalseAlarms(t *testing.T) {
	a, in := tripwireAppliance(t, "    tripwire: {enabled: true}\n") // the defaults
	c := a.SMB(t)
	maxCounted := 0
	quiet := func(step string) {
		t.Helper()
		st := a.Share(t)
		require.NotNil(t, st.Tripwire)
		require.False(t, st.Tripwire.Tripped, "%s tripped the tripwire: %s", step, st.Tripwire.Reason)
		require.Zero(t, st.Tripwire.HeldCount, "%s: held %+v", step, st.Tripwire.Held)
		maxCounted = max(maxCounted, st.Tripwire.Counted)
		t.Logf("%s: no trip, nothing held (%d changes counted toward the burst)", step, st.Tripwire.Counted)
	}

	tracks := map[string][]byte{}
	for i := range 500 {
		tracks[fmt.Sprintf("Incoming/Batch %d/Track %03d.mp3", i/50, i)] = audio.MP3(fmt.Sprintf("New Track %d", i), 12, uint64(1000+i))
	}
	copyIn(t, c, tracks)
	waitAllSynced(t, a, tracks)
	quiet("500 new tracks copied in")

	retagged := map[string][]byte{}
	for i, p := range sortedPaths(tracks)[:200] {
		retagged[p] = append(audio.ID3(fmt.Sprintf("New Track %d (Radio Edit) feat. Someone", i)), audio.MP3("", 12, uint64(1000+i))...)
	}
	copyIn(t, c, retagged)
	waitAllSynced(t, a, retagged)
	quiet("200 MP3s re-tagged")

	wavs, flacs := map[string][]byte{}, map[string][]byte{}
	for i := range 100 {
		wavs[fmt.Sprintf("Production/Take %03d.wav", i)] = audio.WAV(2000, uint64(2000+i))
		flacs[fmt.Sprintf("Production/Lossless/Take %03d.flac", i)] = audio.FLAC(8<<10, uint64(2000+i))
	}
	copyIn(t, c, wavs)
	waitAllSynced(t, a, wavs)
	copyIn(t, c, flacs)
	waitAllSynced(t, a, flacs)
	quiet("100 WAVs re-encoded to FLAC under new names")

	// A studio day, compressed: playlists saved again and again, the
	// traffic log and a show's notes edited, jingles replaced, shows
	// recorded, old spots deleted.
	day := map[string][]byte{}
	for hour := range 12 {
		for _, pl := range []string{"Playlists/Morning.m3u", "Playlists/Afternoon.m3u8", "Playlists/Rotation.pls"} {
			day[pl] = fmt.Appendf(nil, "#EXTM3U\r\n#EXTINF:215,Artist - Song %d\r\nZ:\\Music\\Song %d.mp3\r\n", hour, hour)
		}
		day["Logs/Traffic log.txt"] = fmt.Appendf(day["Logs/Traffic log.txt"], "%02d:00 spot block aired\r\n", 6+hour)
		day["Shows/Notes.rtf"] = fmt.Appendf(nil, `{\rtf1\ansi Show notes, hour %d\par}`, hour)
		day[fmt.Sprintf("Jingles/ID %d.mp3", hour%4)] = audio.MP3(fmt.Sprintf("Station ID v%d", hour), 8, uint64(3000+hour))
		day[fmt.Sprintf("Recordings/Show %02d00.wav", 6+hour)] = audio.WAV(3000, uint64(4000+hour))
		copyIn(t, c, day)
		time.Sleep(300 * time.Millisecond)
	}
	for _, p := range sortedPaths(tracks)[480:490] {
		require.NoError(t, c.Remove(p))
	}
	waitAllSynced(t, a, day)
	quiet("a studio day replayed")

	t.Logf("honest work: at most %d changes counted toward the burst at a time (default max_rewrites %d)", maxCounted, 50)
	_, fired := in.hook("firing", "tripwire:studio", 0)
	require.False(t, fired, "no tripwire alert for honest work")
	if _, err := a.Store.Head(context.Background(), "Jingles/ID 0.mp3"); errors.Is(err, objstore.ErrNotFound) {
		t.Fatal("the day's jingles did not reach the bucket")
	}
}

// TestTripwireHeldSnapshot: on a ZFS dataset (zfs-fuse) a trip takes a
// snapshot and holds it, so that neither pruning nor `zfs destroy` can
// remove it; "these changes are legitimate" releases the hold.
func TestTripwireHeldSnapshot(t *testing.T) {
	pool := zfstest.NewPool(t)
	dataset, mountpoint := pool.Dataset(t, "studio")
	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{
		SharePath: mountpoint, Dataset: dataset, RemoteInterval: time.Second, ScanInterval: time.Hour,
		ShareConfig: "    snapshots: {interval: 24h, previous_versions: false}\n    tripwire: {enabled: true}",
	})
	for i := range 3 {
		writeLocal(t, filepath.Join(mountpoint, fmt.Sprintf("Music/Artist %d/Track.mp3", i)), uint64(i), 8<<10)
	}
	require.Eventually(t, func() bool { st := a.Share(t); return st.FilesTracked == 3 && st.State == "in-sync" }, time.Minute, 200*time.Millisecond)

	for i := range 3 {
		p := filepath.Join(mountpoint, fmt.Sprintf("Music/Artist %d/!!!RESTORE_FILES!!!.txt", i))
		require.NoError(t, os.WriteFile(p, []byte("Your files are encrypted."), 0o644))
		time.Sleep(attackEvery)
	}
	var snap string
	require.Eventually(t, func() bool {
		tw := a.Share(t).Tripwire
		if tw.Evidence != nil {
			snap = tw.Evidence.Snapshot
		}
		return tw.Tripped && snap != ""
	}, time.Minute, 200*time.Millisecond, "no snapshot at the trip")
	require.True(t, strings.HasPrefix(snap, "gs-pre-tripwire-"), snap)
	held := func() bool {
		for _, s := range a.Share(t).Snapshots.Recent {
			if s.Name == snap {
				return s.Held
			}
		}
		t.Fatalf("snapshot %s is not listed", snap)
		return false
	}
	require.True(t, held(), "the trip's snapshot is held")
	out, err := exec.Command("zfs", "destroy", dataset+"@"+snap).CombinedOutput()
	require.Error(t, err, "a held snapshot cannot be destroyed: %s", out)

	out2 := a.CLI(t, "tripwire", "release", "studio", "--yes")
	require.Contains(t, out2, "Snapshot "+snap+" is no longer held")
	require.Eventually(t, func() bool { return !held() }, 30*time.Second, 200*time.Millisecond, "the hold is released")
	require.False(t, a.Share(t).Tripwire.Tripped)
}
