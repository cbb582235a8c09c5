package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/zfs"
	"genesissync/tests/harness"
)

// adminAPI is a logged-in admin session on the status JSON API.
type adminAPI struct {
	base string
	c    *http.Client
	csrf string
}

// withAdmin gives the running appliance a status page admin: it stops
// the daemon, adds the admin (a bcrypt hash made by `genesissync
// hash-password`) and plain-HTTP cookies to the config's status section,
// starts it again and logs in through POST /api/login.
func withAdmin(t *testing.T, a *harness.Appliance) *adminAPI {
	t.Helper()
	const user, password = "admin", "admin-test-password"
	cmd := exec.Command(harness.Binary(t), "hash-password")
	cmd.Stdin = strings.NewReader(password)
	hash, err := cmd.Output()
	require.NoError(t, err)
	cfg, err := os.ReadFile(a.ConfigPath)
	require.NoError(t, err)
	listen := strings.TrimPrefix(a.StatusURL, "http://")
	old := fmt.Sprintf("status: {listen: %q}", listen)
	require.Contains(t, string(cfg), old)
	cfg = bytes.Replace(cfg, []byte(old), fmt.Appendf(nil, "status: {listen: %q, secure_cookie: false, admins: {%s: {password_hash: %q}}}",
		listen, user, strings.TrimSpace(string(hash))), 1)
	a.Stop()
	require.NoError(t, os.WriteFile(a.ConfigPath, cfg, 0o600))
	a.Start(t)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	api := &adminAPI{base: a.StatusURL, c: &http.Client{Jar: jar, Timeout: time.Minute}}
	code, body := api.post(t, "/api/login", fmt.Sprintf(`{"user": %q, "password": %q}`, user, password))
	require.Equal(t, http.StatusOK, code, body)
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &sess))
	require.NotEmpty(t, sess.CSRF)
	api.csrf = sess.CSRF
	return api
}

// post sends a JSON body with the session's CSRF header.
func (api *adminAPI) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, api.base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if api.csrf != "" {
		req.Header.Set("X-CSRF-Token", api.csrf)
	}
	resp, err := api.c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// eventKinds is the kinds of the status API's events.
func eventKinds(t *testing.T, a *harness.Appliance) []string {
	t.Helper()
	st, err := a.Status()
	require.NoError(t, err)
	var kinds []string
	for _, e := range st.Events {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

// TestRestoreFromSnapshotAdminAPI is the status page's "restore from a
// snapshot" action through the JSON API on a real zfs-fuse dataset: a file
// overwritten after the schedule's snapshot comes back with the old bytes,
// a gs-pre-restore snapshot is taken first (and holds the overwritten
// version), and the pipeline uploads the restored file.
func TestRestoreFromSnapshotAdminAPI(t *testing.T) {
	song := "music/song.mp3"
	a, dataset := startZFSAppliance(t, func(mountpoint string) {
		writeLocal(t, filepath.Join(mountpoint, song), 1, 40<<10)
	})
	mountpoint := a.SharePath
	api := withAdmin(t, a)
	waitSynced(t, a.Store, song, 1, 40<<10)

	// The schedule's snapshot of the day, taken at the first start, holds
	// the first version.
	var snap string
	require.Eventually(t, func() bool {
		for _, s := range a.Share(t).Snapshots.Recent {
			if s.Kind == "scheduled" {
				snap = s.Name
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "no scheduled snapshot")

	writeLocal(t, filepath.Join(mountpoint, song), 2, 50<<10)
	waitSynced(t, a.Store, song, 2, 50<<10)

	code, body := api.post(t, "/api/admin/shares/studio/restore", `{"path": "../etc/passwd", "snapshot": "`+snap+`"}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	code, body = api.post(t, "/api/admin/shares/studio/restore", `{"path": "music/song.mp3", "snapshot": "gs-2001-01-01-0000"}`)
	require.Equal(t, http.StatusConflict, code, "no such snapshot: %s", body)
	require.NotContains(t, a.CLI(t, "snapshot", "list", "studio"), "gs-pre-restore-",
		"a restore that could not run left a pre-restore snapshot")

	start := time.Now()
	code, body = api.post(t, "/api/admin/shares/studio/restore", `{"path": "music/song.mp3", "snapshot": "`+snap+`"}`)
	t.Logf("restore from snapshot %s: %d %s", snap, code, body)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "from snapshot "+snap)
	require.Equal(t, sha256Of(1, 40<<10), treeSums(t, mountpoint)[song], "the old bytes are back")
	require.Contains(t, eventKinds(t, a), "snapshot.restored")
	list := a.CLI(t, "snapshot", "list", "studio")
	pres := preOpSnapshots(t, list, zfs.PreRestore, start, time.Now())
	require.Len(t, pres, 1, list)
	pre := pres[0]

	// A second restore right away (pre-restore snapshots are named to the
	// second) works too and takes its own snapshot.
	code, body = api.post(t, "/api/admin/shares/studio/restore", `{"path": "music", "snapshot": "`+snap+`"}`)
	require.Equal(t, http.StatusOK, code, body)
	list = a.CLI(t, "snapshot", "list", "studio")
	require.Len(t, preOpSnapshots(t, list, zfs.PreRestore, start, time.Now()), 2, list)

	// The pipeline uploads the restored file as the current version.
	waitSynced(t, a.Store, song, 1, 40<<10)
	require.Eventually(t, func() bool { return a.Share(t).State == "in-sync" }, 30*time.Second, 200*time.Millisecond)

	// A file a playout PC holds open is never replaced under it: the
	// restore skips it and says so; once closed, a restore replaces it.
	writeLocal(t, filepath.Join(mountpoint, song), 3, 30<<10)
	waitSynced(t, a.Store, song, 3, 30<<10)
	c := a.SMB(t)
	f, err := c.Open(song)
	require.NoError(t, err)
	code, body = api.post(t, "/api/admin/shares/studio/restore", `{"path": "music", "snapshot": "`+snap+`"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, sha256Of(3, 30<<10), treeSums(t, mountpoint)[song], "an open file was replaced")
	st, err := a.Status()
	require.NoError(t, err)
	said := false
	for _, e := range st.Events {
		said = said || strings.Contains(e.Message, "open over SMB not replaced: music/song.mp3")
	}
	require.True(t, said, "the event log names the file that was not replaced: %+v", st.Events)
	require.NoError(t, f.Close())
	code, body = api.post(t, "/api/admin/shares/studio/restore", `{"path": "music", "snapshot": "`+snap+`"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, sha256Of(1, 40<<10), treeSums(t, mountpoint)[song], "the closed file is restored")
	waitSynced(t, a.Store, song, 1, 40<<10)

	// The pre-restore snapshot holds what the restore replaced.
	a.Stop()
	got := readSnapshot(t, dataset, mountpoint, pre, song)
	require.Equal(t, contentOf(t, 2, 50<<10), got[song])
}

// TestSnapshotBeforeApprovedDeletes trips the mass-delete guard on a
// share on a real zfs-fuse dataset by deleting a folder from the bucket
// with mc, so that the deletes the guard holds are local ones (a snapshot
// is what can bring those back; deletes from the bucket have the trash and
// bucket versions). Approving them takes a gs-pre-delete snapshot first,
// named from between the approval and the deletes, that still holds the
// deleted files: once approved with `genesissync deletes approve --yes`
// (the admin socket), once on the status page's JSON API.
func TestSnapshotBeforeApprovedDeletes(t *testing.T) {
	a, dataset := startZFSAppliance(t, nil)
	api := withAdmin(t, a)
	mountpoint := a.SharePath
	const size = 8 << 10
	seeds := map[string]uint64{}
	for i := range 15 {
		rel := fmt.Sprintf("%s/%02d.mp3", []string{"old", "older", "keep"}[i%3], i)
		writeLocal(t, filepath.Join(mountpoint, rel), uint64(i), size)
		seeds[rel] = uint64(i)
	}
	require.Eventually(t, func() bool { st := a.Share(t); return st.State == "in-sync" && st.FilesTracked == 15 },
		time.Minute, 200*time.Millisecond)

	// round empties folder in the bucket (five local deletes, a third or
	// half of the share), approves the tripped batch with approve and
	// returns the pre-delete snapshot and the files it must hold.
	round := func(folder string, approve func(batch string)) (string, []string) {
		t.Helper()
		var gone []string
		for rel := range seeds {
			if strings.HasPrefix(rel, folder+"/") {
				gone = append(gone, rel)
			}
		}
		a.MinIO.MC(t, nil, "rm", "--recursive", "--force", "t/"+a.Bucket+"/"+a.Prefix+folder+"/")
		require.Eventually(t, func() bool { st := a.Share(t); return st.DeleteGuardTripped && st.HeldDeleteCount == 5 },
			time.Minute, 200*time.Millisecond, "the delete guard did not trip")
		st := a.Share(t)
		for _, h := range st.HeldDeletes {
			require.Equal(t, "delete-local", h.Action, h.Path)
		}
		for _, rel := range gone {
			require.FileExists(t, filepath.Join(mountpoint, rel), "a held delete was carried out")
		}
		before := preOpSnapshots(t, a.CLI(t, "snapshot", "list", "studio"), zfs.PreDelete, time.Time{}, time.Now())

		approved := time.Now()
		approve(st.DeleteBatch)
		require.Eventually(t, func() bool {
			for _, rel := range gone {
				if _, err := os.Stat(filepath.Join(mountpoint, rel)); !os.IsNotExist(err) {
					return false
				}
			}
			return true
		}, time.Minute, 100*time.Millisecond, "the approved deletes were not carried out")
		deleted := time.Now()

		list := a.CLI(t, "snapshot", "list", "studio")
		t.Logf("snapshots after approving the deletes in %s/:\n%s", folder, list)
		after := preOpSnapshots(t, list, zfs.PreDelete, time.Time{}, deleted)
		require.Len(t, after, len(before)+1, "one pre-delete snapshot more:\n%s", list)
		pre := after[len(after)-1]
		preOpSnapshots(t, pre, zfs.PreDelete, approved, deleted)
		return pre, gone
	}

	pre1, gone1 := round("old", func(string) {
		require.Contains(t, a.CLI(t, "deletes", "approve", "studio", "--yes"), "approved")
	})
	pre2, gone2 := round("older", func(batch string) {
		code, body := api.post(t, "/api/admin/shares/studio/approve", `{"batch": "`+batch+`"}`)
		require.Equal(t, http.StatusOK, code, body)
	})
	require.Contains(t, eventKinds(t, a), "snapshot.created")

	a.Stop()
	for pre, gone := range map[string][]string{pre1: gone1, pre2: gone2} {
		got := readSnapshot(t, dataset, mountpoint, pre, gone...)
		for _, rel := range gone {
			require.Equal(t, contentOf(t, seeds[rel], size), got[rel], "%s in %s", rel, pre)
		}
	}
}
