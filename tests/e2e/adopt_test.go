package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"genesissync/internal/model"
	"genesissync/internal/objstore"
	"genesissync/internal/reconcile"
	"genesissync/tests/harness"
)

// adoptFiles scales TestAdoptMirroredBucket up for the measurements of
// docs/migrate.md: that many files, 1 % of them multipart tracks.
var adoptFiles = flag.Int("adopt-files", 0, "TestAdoptMirroredBucket with this many files, 1 % of them 20 MiB tracks (0: the default 22)")

// station is a share as an old playout setup left it: spots and two
// long tracks (multipart for mc and, with a lowered cutoff, rclone); with
// -adopt-files, that many files of which 1 % are long tracks.
func station(t *testing.T, root string) map[string]int64 {
	t.Helper()
	files := map[string]int64{}
	if n := *adoptFiles; n > 0 {
		for i := range n {
			if i%100 == 99 {
				files[fmt.Sprintf("Music/%03d/Track %d + live.mp3", i/100, i)] = 20<<20 + int64(i)
			} else {
				files[fmt.Sprintf("Spots/%03d/Spot %d (30s).mp3", i/100, i)] = 30_000 + int64(i)
			}
		}
	} else {
		for i := range 20 {
			files[fmt.Sprintf("Spots/Spot %02d (30s).mp3", i)] = 30_000 + int64(i)
		}
		files["Music/Simon + Garfunkel - The Boxer.mp3"] = 40 << 20
		files["Music/100% Hits/Track 1.flac"] = 40<<20 + 12345
	}
	seed := uint64(500)
	for rel, size := range files {
		seed++
		writeAged(t, filepath.Join(root, filepath.FromSlash(rel)), seed, size)
	}
	return files
}

// writeAged is writeLocal of a file last changed an hour ago, as the
// files of a running station are: past any settle window.
func writeAged(t *testing.T, p string, seed uint64, size int64) {
	t.Helper()
	writeLocal(t, p, seed, size)
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(p, old, old))
}

// TestAdoptMirroredBucket takes over a share and a bucket prefix that
// the old cron (the pinned mc mirror) or rclone kept, with a fresh index:
// every file is proven the same from the ETag (mc's, rclone's and the AWS
// SDK transfer manager's multipart ones too), nothing is uploaded, downloaded or deleted, no
// conflict copy appears, and afterwards every object carries our sha256.
// A file edited on the share after the last mirror to the same size (an
// edit mc never noticed) is the one conflict.
func TestAdoptMirroredBucket(t *testing.T) {
	for _, tool := range []string{"mc", "rclone", "sdk"} {
		t.Run(tool, func(t *testing.T) {
			m := harness.StartMinIO(t)
			share := filepath.Join(t.TempDir(), "share")
			files := station(t, share)
			const bucket, prefix = "station", "studio/"
			m.MC(t, nil, "mb", "t/"+bucket)
			switch tool {
			case "mc":
				m.MC(t, nil, "mirror", "--overwrite", "--remove", share+"/", "t/"+bucket+"/"+prefix)
			case "rclone":
				// rclone sends files over 200 MiB in 5 MiB chunks; with
				// the cutoff lowered the tracks go up the same way.
				m.Rclone(t, "sync", "--s3-upload-cutoff", "8Mi", share+"/", "t:"+bucket+"/"+prefix)
			case "sdk":
				sdkMirror(t, m, share, bucket, prefix)
			}
			// Edited after the last mirror, same size: mc mirror (size
			// and mtime at best) never noticed.
			edited := "Spots/Spot 07 (30s).mp3"
			if *adoptFiles > 0 {
				edited = "Spots/000/Spot 7 (30s).mp3"
			}
			if tool == "mc" {
				writeAged(t, filepath.Join(share, filepath.FromSlash(edited)), 9999, files[edited])
			}

			// The dry run first: what the first pass will do.
			var plan reconcile.Survey
			a := harness.StartAppliance(t, m, harness.ApplianceOptions{SharePath: share, RemoteInterval: time.Second,
				BeforeStart: func(a *harness.Appliance) {
					out := a.CLI(t, "adopt", "studio", "--dry-run", "--json")
					require.NoError(t, json.Unmarshal([]byte(out), &plan), out)
					t.Log(a.CLI(t, "adopt", "studio", "--dry-run"))
				}})
			want := len(files)
			if tool == "mc" {
				want++ // the conflict copy
			}
			started := time.Now()
			require.Eventually(t, func() bool {
				st := a.Share(t)
				return st.FilesTracked == want && st.PendingUploads == 0 && st.State == "in-sync"
			}, 90*time.Second+time.Duration(len(files))*100*time.Millisecond, 200*time.Millisecond, "the share never settled in sync")
			took := time.Since(started)
			time.Sleep(2 * time.Second) // a listing more: nothing may follow
			st := a.Share(t)
			var local int64
			for _, size := range files {
				local += size
			}
			t.Logf("%s: %d files (%d MiB) adopted in %s after the daemon was ready: %d by ETag, %d by reading, %d by metadata; %d bytes read from the bucket, %d from the share; uploaded %d files, %d bytes; downloaded %d files, %d bytes; %d conflicts; %d backfilled",
				tool, len(files), local>>20, took.Round(100*time.Millisecond), st.Adopted.ByETag, st.Adopted.ByReading, st.Adopted.ByMetadata,
				st.Adopted.BytesRead, st.Adopted.HashedBytes, st.Uploads, st.UploadedBytes, st.Downloads, st.DownloadedBytes, len(st.Conflicts), st.Backfilled)
			require.Zero(t, st.Deletes, "nothing deleted")
			// Each local file was read once for all of its proofs, and
			// nothing is left to prove.
			require.Equal(t, local, st.Adopted.HashedBytes)
			require.Zero(t, st.Adopted.Pending)
			require.Zero(t, st.Adopted.SecondsLeft)
			require.Zero(t, st.Adopted.ByReading, "no object read to prove equality: every ETag was reproduced")
			require.Zero(t, plan.Waiting.Files, "every file settled: the dry run decided them all")
			// The pass did what the dry run said.
			require.Equal(t, int(st.Adopted.ByETag), plan.IdenticalByETag.Files)
			require.Equal(t, int(st.Adopted.ByReading), plan.IdenticalByReading.Files)
			require.Equal(t, int(st.Adopted.ByMetadata), plan.IdenticalByMetadata.Files)
			require.Equal(t, len(st.Conflicts), plan.Different.Files)
			require.Zero(t, plan.OnlyLocal.Files+plan.OnlyRemote.Files+plan.Deletes.Files+plan.Changed.Files)
			if tool == "mc" {
				require.Equal(t, []string{edited}, plan.Conflicts)
				// Its ETag was not reproduced, so the object was read to
				// prove the difference; nothing else was read.
				require.Equal(t, files[edited], st.Adopted.BytesRead)
				require.Equal(t, files[edited], plan.BytesRead)
				require.EqualValues(t, len(files)-1, st.Adopted.ByETag)
				require.Len(t, st.Conflicts, 1, "exactly one conflict: the edit mc never saw")
				require.Equal(t, edited, st.Conflicts[0].Path)
				// Both versions kept: the bucket's beside the file (one
				// download, and uploaded as the copy), the share's at the
				// path; nothing else moved.
				require.EqualValues(t, 2, st.Uploads)
				require.EqualValues(t, 2*files[edited], st.UploadedBytes)
				require.EqualValues(t, 1, st.Downloads)
				require.EqualValues(t, files[edited], st.DownloadedBytes)
				_, err := os.Stat(filepath.Join(share, filepath.FromSlash(st.Conflicts[0].Copy)))
				require.NoError(t, err)
			} else {
				require.EqualValues(t, len(files), st.Adopted.ByETag)
				require.Zero(t, st.Adopted.BytesRead)
				require.Empty(t, st.Conflicts)
				require.Zero(t, st.Uploads)
				require.Zero(t, st.UploadedBytes)
				require.Zero(t, st.Downloads, "nothing downloaded")
				metrics := get(t, a.StatusURL+"/metrics")
				require.Contains(t, metrics, `genesissync_transfer_uploaded_bytes_total{share="studio"} 0`)
				require.Contains(t, metrics, fmt.Sprintf(`genesissync_reconcile_adopted_total{proof="etag",share="studio"} %d`, len(files)))
			}
			conflictCopies := 0
			require.NoError(t, filepath.WalkDir(share, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), "(conflict ") {
					conflictCopies++
				}
				return err
			}))
			require.Equal(t, want-len(files), conflictCopies, "no false conflict copy on the share")

			// Every object now carries our sha256: verify and restore can
			// check it. Backfill was a copy onto itself, no bytes sent.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			n := 0
			require.NoError(t, a.Store.List(ctx, "", func(o objstore.Object) error {
				if strings.HasPrefix(o.Key, ".genesissync") {
					return nil
				}
				n++
				h, err := a.Store.Head(ctx, o.Key)
				require.NoError(t, err)
				require.NotEmpty(t, h.SHA256, "object %q has no sha256 after adoption", o.Key)
				return nil
			}))
			require.Equal(t, want, n)
			require.EqualValues(t, len(files)-(want-len(files)), st.Backfilled)
			out := a.CLI(t, "verify", "studio", "--sample", "100")
			require.Contains(t, out, "sampled): clean", out)
			require.NotContains(t, out, "no-hash", "every object checkable by its sha256")
		})
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// TestAdoptWrongPrefixHoldsConflicts: a first pass over a prefix that is
// not this share's copy (another studio's, an old backup) would make a
// conflict copy of every file. The mass-delete guard holds them instead,
// alerts with the plan, and an approval releases exactly that batch.
func TestAdoptWrongPrefixHoldsConflicts(t *testing.T) {
	m := harness.StartMinIO(t)
	share := filepath.Join(t.TempDir(), "share")
	const n = 60 // past delete_guard.max_files (50)
	m.MC(t, nil, "mb", "t/station")
	for i := range n {
		rel := fmt.Sprintf("Spots/Spot %02d.mp3", i)
		writeAged(t, filepath.Join(share, filepath.FromSlash(rel)), uint64(i), 4096)
		m.MC(t, contentBytes(uint64(1000+i), 4096), "pipe", "t/station/studio/"+rel)
	}
	a := harness.StartAppliance(t, m, harness.ApplianceOptions{SharePath: share, RemoteInterval: time.Second,
		Config: "alerts: {interval: 1s, for: 1s}"})
	require.Eventually(t, func() bool {
		st := a.Share(t)
		return st.DeleteGuardTripped && st.HeldConflictCount == n
	}, time.Minute, 200*time.Millisecond, "the guard never held the first pass's conflicts")
	st := a.Share(t)
	require.Empty(t, st.Conflicts, "no conflict copy made while held")
	require.Zero(t, st.Uploads)
	require.Equal(t, "error", st.State)
	snap, err := a.Status()
	require.NoError(t, err)
	var msg string
	require.Eventually(t, func() bool {
		snap, err = a.Status()
		require.NoError(t, err)
		for _, al := range snap.Alerts {
			if al.Rule == "delete_guard" {
				msg = al.Message
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "no delete_guard alert")
	require.Contains(t, msg, fmt.Sprintf("%d first-pass conflicts", n))
	entries, err := os.ReadDir(filepath.Join(share, "Spots"))
	require.NoError(t, err)
	require.Len(t, entries, n, "the share is untouched")

	out := a.CLI(t, "deletes", "show", "studio")
	require.Contains(t, out, "conflict")
	a.CLI(t, "deletes", "approve", "studio", "--yes")
	var last model.Share
	if !assert.Eventually(t, func() bool {
		last = a.Share(t)
		return len(last.Conflicts) == n && last.State == "in-sync" && last.FilesTracked == 2*n
	}, 2*time.Minute, 200*time.Millisecond, "the approved conflicts were not carried out") {
		t.Fatalf("last status: state %s, %d conflicts, %d tracked, %d pending, %d held, tripped %v, last error %+v",
			last.State, len(last.Conflicts), last.FilesTracked, last.PendingUploads, last.HeldDeleteCount, last.DeleteGuardTripped, last.LastError)
	}
}

// sdkMirror uploads every file under root to bucket/prefix with the AWS
// SDK for Go's transfer manager at its defaults (8 MiB parts from 16 MiB
// up), as a station's own scripts or other Go tools would: no metadata of
// ours.
func sdkMirror(t *testing.T, m *harness.MinIO, root, bucket, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, "")))
	require.NoError(t, err)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(m.Endpoint)
		o.UsePathStyle = true
	})
	tm := transfermanager.New(client)
	multipart := 0
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		out, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(prefix + filepath.ToSlash(rel)), Body: f,
		})
		if err == nil && strings.Contains(aws.ToString(out.ETag), "-") {
			multipart++
		}
		return err
	}))
	require.Positive(t, multipart, "the tracks went up in parts")
}
