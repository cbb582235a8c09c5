package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/ingest"
	"genesissync/tests/harness"
)

// oldBucket fills s3://old/station/ on m as other tools left it: small
// spots by mc (single-part), a long track by mc (multipart, minio-go's
// part size), one by rclone (multipart, 5 MiB chunks), a key the share
// cannot hold, and an object of the appliance's own. It returns the
// share paths the import should bring in, with their bytes.
func oldBucket(t *testing.T, m *harness.MinIO) map[string][]byte {
	t.Helper()
	m.MC(t, nil, "mb", "t/old")
	dir := t.TempDir()
	files := map[string][]byte{}
	for i := range 4 {
		files[fmt.Sprintf("Spots/Spot %02d (30s) + jingle.mp3", i)] = contentBytes(uint64(900+i), 30_000+int64(i))
	}
	files["Music/100% Hits/Track 1.flac"] = contentBytes(950, 20<<20+12345)
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	m.MC(t, nil, "mirror", dir+"/", "t/old/station/")

	rc := t.TempDir()
	long := contentBytes(960, 12<<20+777)
	require.NoError(t, os.WriteFile(filepath.Join(rc, "Simon + Garfunkel - The Boxer.mp3"), long, 0o644))
	m.Rclone(t, "copy", "--s3-upload-cutoff", "8Mi", "--s3-chunk-size", "5Mi", rc+"/", "t:old/station/Music/")
	files["Music/Simon + Garfunkel - The Boxer.mp3"] = long

	m.MC(t, []byte("device name"), "pipe", "t/old/station/Bad/CON.mp3")
	m.MC(t, []byte("probe"), "pipe", "t/old/station/.genesissync/probe/x")
	return files
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// importCLI runs genesissync import and returns its stdout and whether
// it succeeded; stderr (progress) goes to the test's.
func importCLI(t *testing.T, a *harness.Appliance, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), append([]string{"import", "--share", "studio", "--config", a.ConfigPath}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	t.Logf("genesissync import %s:\n%s%s", strings.Join(args, " "), out.String(), errOut.String())
	return out.String() + errOut.String(), err
}

// importResult is the result line of `import --json`.
func importResult(t *testing.T, out string) ingest.Result {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, `{"result":`) {
			var r struct{ Result ingest.Result }
			require.NoError(t, json.Unmarshal([]byte(line), &r), line)
			return r.Result
		}
	}
	t.Fatalf("no result line in:\n%s", out)
	return ingest.Result{}
}

// TestImportFromBucketElsewhere brings a bucket that mc and rclone wrote
// on another server into a running share: every object is verified by
// its ETag (single-part and both tools' multipart ones), the hostile key
// is refused and reported, an object whose bytes contradict its sha256
// metadata fails and is not published, no secret is printed, and the
// daemon uploads each file once. A rerun finds everything there.
func TestImportFromBucketElsewhere(t *testing.T) {
	old := harness.StartMinIO(t)
	files := oldBucket(t, old)
	// Bytes that contradict the sha256 metadata they were stored with.
	lie := filepath.Join(t.TempDir(), "Lie.mp3")
	require.NoError(t, os.WriteFile(lie, contentBytes(970, 40_000), 0o644))
	old.MC(t, nil, "cp", "--attr", "sha256="+sha256Hex([]byte("other bytes")), lie, "t/old/station/Music/Lie.mp3")

	cred := filepath.Join(t.TempDir(), "old.credentials")
	require.NoError(t, os.WriteFile(cred, []byte(fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", old.AccessKey, old.SecretKey)), 0o600))

	m := harness.StartMinIO(t)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second})
	from := []string{"--from-bucket", "s3://old/station", "--from-endpoint", old.Endpoint, "--from-credentials-file", cred}

	out, err := importCLI(t, a, append(from, "--dry-run", "--json")...)
	require.NoError(t, err)
	plan := importResult(t, out)
	// A dry run reads no new object: the lie is found out when it is.
	require.Equal(t, len(files)+1, plan.Copied, "%+v", plan)
	entries, _ := os.ReadDir(a.SharePath)
	for _, e := range entries {
		require.True(t, strings.HasPrefix(e.Name(), ".genesissync"), "a dry run wrote %s", e.Name())
	}

	out, err = importCLI(t, a, append(from, "--json")...)
	require.Error(t, err, "one object failed verification")
	res := importResult(t, out)
	require.Equal(t, len(files), res.Copied, "%+v", res)
	require.Zero(t, res.NotVerified, "%+v", res.Unverified)
	require.Equal(t, 1, res.Failed, "%+v", res.Failures)
	require.Equal(t, "s3://old/station/Music/Lie.mp3", res.Failures[0].Source)
	require.Contains(t, res.Failures[0].Reason, "sha256")
	require.Equal(t, 1, res.Refused, "%+v", res.Refusals)
	require.Equal(t, "s3://old/station/Bad/CON.mp3", res.Refusals[0].Source)
	require.Contains(t, res.Refusals[0].Reason, "windows-reserved-name")
	require.Equal(t, map[string]int{"etag-md5": 4, "etag-multipart": 2}, res.VerifiedBy)
	require.Zero(t, res.TargetCopied+res.TargetPresent+res.TargetSkipped, "another endpoint: no server-side copies")
	for _, secret := range []string{old.SecretKey, m.SecretKey} {
		require.NotContains(t, out, secret, "a secret printed")
	}
	for rel, data := range files {
		got, err := os.ReadFile(filepath.Join(a.SharePath, filepath.FromSlash(rel)))
		require.NoError(t, err, rel)
		require.True(t, bytes.Equal(data, got), rel)
	}
	for _, rel := range []string{"Music/Lie.mp3", "Bad", ".genesissync"} {
		_, err := os.Lstat(filepath.Join(a.SharePath, filepath.FromSlash(rel)))
		require.ErrorIs(t, err, os.ErrNotExist, rel)
	}
	temps, _ := filepath.Glob(filepath.Join(a.SharePath, "Music", ".genesissync-tmp-*"))
	require.Empty(t, temps)

	// Text output, resumed: nothing to do but the lie, again refused.
	out, err = importCLI(t, a, from...)
	require.Error(t, err)
	require.Contains(t, out, fmt.Sprintf("copied 0 files (0 B), %d identical skipped, 0 collisions, 1 refused, 1 failed, 0 not verified", len(files)))
	require.Contains(t, out, "refused: s3://old/station/Bad/CON.mp3: ")
	require.Contains(t, out, "failed: s3://old/station/Music/Lie.mp3: ")

	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.FilesTracked == len(files) && st.State == "in-sync"
	}, 2*time.Minute, 200*time.Millisecond)
	require.EqualValues(t, len(files), a.Share(t).Uploads, "each file uploaded once")
}

// TestImportFromBucketSameEndpoint imports another bucket of the share
// target's own MinIO before the daemon's first start: the objects land on
// the share and, server-side, in the target prefix with sha256 metadata
// equal to the share files'; a rerun copies nothing; the daemon then
// adopts every file by that metadata without uploading a byte.
func TestImportFromBucketSameEndpoint(t *testing.T) {
	m := harness.StartMinIO(t)
	files := oldBucket(t, m)
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{RemoteInterval: time.Second,
		BeforeStart: func(a *harness.Appliance) {
			out, err := importCLI(t, a, "--from-bucket", "s3://old/station/", "--json")
			require.NoError(t, err)
			res := importResult(t, out)
			require.Equal(t, len(files), res.Copied, "%+v", res)
			require.Equal(t, 1, res.Refused)
			require.Zero(t, res.NotVerified)
			require.Equal(t, len(files), res.TargetCopied, "%+v", res.TargetNotes)
			var total int64
			for _, data := range files {
				total += int64(len(data))
			}
			require.Equal(t, total, res.TargetCopiedBytes)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for rel, data := range files {
				local, err := os.ReadFile(filepath.Join(a.SharePath, filepath.FromSlash(rel)))
				require.NoError(t, err)
				require.True(t, bytes.Equal(data, local), rel)
				h, err := a.Store.Head(ctx, rel)
				require.NoError(t, err, "no server-side copy of %s", rel)
				require.Equal(t, sha256Hex(local), h.SHA256, rel)
				require.EqualValues(t, len(data), h.Size)
				fi, err := os.Stat(filepath.Join(a.SharePath, filepath.FromSlash(rel)))
				require.NoError(t, err)
				require.True(t, h.Mtime.Equal(fi.ModTime()), "%s: mtime %s, share %s", rel, h.Mtime, fi.ModTime())
			}
			_, err = a.Store.Head(ctx, "Bad/CON.mp3")
			require.Error(t, err, "the refused key is not copied")

			out, err = importCLI(t, a, "--from-bucket", "s3://old/station/")
			require.NoError(t, err)
			require.Contains(t, out, fmt.Sprintf("copied 0 files (0 B), %d identical skipped", len(files)))
			require.Contains(t, out, fmt.Sprintf("share's target: copied 0 objects server-side (0 B), %d already there, 0 not copied", len(files)))

			_, err = importCLI(t, a, "--from-bucket", "s3://station/studio/Music")
			require.Error(t, err, "the share's own target prefix is no source")
		}})
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.FilesTracked == len(files) && st.PendingUploads == 0 && st.State == "in-sync"
	}, 2*time.Minute, 200*time.Millisecond, "the share never settled in sync")
	time.Sleep(2 * time.Second) // a listing more: nothing may follow
	st := a.Share(t)
	require.EqualValues(t, len(files), st.Adopted.ByMetadata, "%+v", st.Adopted)
	require.Zero(t, st.Uploads)
	require.Zero(t, st.UploadedBytes)
	require.Zero(t, st.Downloads)
	require.Empty(t, st.Conflicts)
	metrics := get(t, a.StatusURL+"/metrics")
	require.Contains(t, metrics, `genesissync_transfer_uploaded_bytes_total{share="studio"} 0`)
	require.Contains(t, metrics, fmt.Sprintf(`genesissync_reconcile_adopted_total{proof="metadata",share="studio"} %d`, len(files)))
}
