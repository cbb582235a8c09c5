package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"genesissync/internal/objstore"
	"genesissync/internal/restore"
	"genesissync/tests/harness"
)

// BenchmarkRestore restores 1 GiB as 10 files of 100 MiB, and 5,000
// files of 16 KiB, from a real MinIO into an empty directory with the
// restore package (what `genesissync restore --to` runs), side by side
// with `mc mirror` of the same prefix from the same bucket in the same
// run. Each tool runs three times, alternating, and its best run counts:
// neither gains from the other warming MinIO's page cache, and on a
// shared box the minimum is the least noisy estimate.
//
// The restore fsyncs every file before renaming it into place and hashes
// every byte (SHA-256) against the object's metadata; mc does neither, its
// files may still be dirty in the page cache when it exits. So mc is also
// timed up to a syncfs of its target ("mc-mirror+sync"): the time until
// its copy is as durable as the restore's.
func BenchmarkRestore(b *testing.B) {
	const rounds = 3
	m := harness.StartMinIO(b)
	ctx := context.Background()
	store, err := objstore.NewS3(ctx, objstore.S3Options{
		Endpoint: m.Endpoint, Region: "us-east-1", Bucket: "bench", Prefix: "studio/", PathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
	}, zerolog.Nop())
	require.NoError(b, err)
	require.NoError(b, store.EnsureBucket(ctx))

	for _, tc := range []struct {
		name  string
		files int
		size  int
	}{
		{"10x100MiB", 10, 100 << 20},
		{"5000x16KiB", 5000, 16 << 10},
	} {
		b.Run(tc.name, func(b *testing.B) {
			prefix := tc.name + "/"
			seedBucket(b, store, prefix, tc.files, tc.size)
			total := float64(tc.files) * float64(tc.size)
			for n := 0; n < b.N; n++ {
				best := map[string]time.Duration{}
				for round := 0; round < rounds; round++ {
					for _, tool := range []string{"genesissync", "mc-mirror", "mc-mirror+sync"} {
						dir := filepath.Join(b.TempDir(), tool)
						start := time.Now()
						switch tool {
						case "genesissync":
							res, err := restore.Restore(ctx, restore.Options{Root: mkdir(b, dir), Bucket: store, Prefix: prefix, UID: -1, GID: -1})
							require.NoError(b, err)
							require.Equal(b, tc.files, res.Restored, "%+v", res.Problems)
						case "mc-mirror", "mc-mirror+sync":
							m.MC(b, nil, "mirror", "t/bench/studio/"+prefix, mkdir(b, dir))
							if tool == "mc-mirror+sync" {
								require.NoError(b, exec.Command("sync", "-f", dir).Run())
							}
						}
						d := time.Since(start)
						countFiles(b, dir, tc.files)
						require.NoError(b, os.RemoveAll(dir))
						if best[tool] == 0 || d < best[tool] {
							best[tool] = d
						}
						b.Logf("%s round %d: %s, %.1f MiB/s, %.0f files/s", tool, round+1, d.Round(time.Millisecond),
							total/(1<<20)/d.Seconds(), float64(tc.files)/d.Seconds())
					}
				}
				gs, mc, mcs := best["genesissync"], best["mc-mirror"], best["mc-mirror+sync"]
				b.ReportMetric(total/(1<<20)/gs.Seconds(), "gs-MiB/s")
				b.ReportMetric(float64(tc.files)/gs.Seconds(), "gs-files/s")
				b.ReportMetric(total/(1<<20)/mc.Seconds(), "mc-MiB/s")
				b.ReportMetric(float64(tc.files)/mc.Seconds(), "mc-files/s")
				b.ReportMetric(mc.Seconds()/gs.Seconds(), "gs/mc-speed")
				b.ReportMetric(mcs.Seconds()/gs.Seconds(), "gs/mc+sync-speed")
			}
		})
	}
}

func mkdir(b *testing.B, dir string) string {
	require.NoError(b, os.MkdirAll(dir, 0o755))
	return dir
}

// countFiles checks that dir holds exactly want regular files.
func countFiles(b *testing.B, dir string, want int) {
	n := 0
	require.NoError(b, filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	}))
	require.Equal(b, want, n, "files restored into %s", dir)
}

// seedBucket puts files objects of size bytes under prefix, as the
// appliance uploads them (sha256 and mtime metadata).
func seedBucket(b *testing.B, store *objstore.S3, prefix string, files, size int) {
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(8)
	for i := 0; i < files; i++ {
		g.Go(func() error {
			data := randomBytes(uint64(i+1), size)
			sum := sha256.Sum256(data)
			_, err := store.Put(ctx, objstore.PutInput{
				Key: fmt.Sprintf("%sdir%02d/file%05d.wav", prefix, i%50, i), Body: bytes.NewReader(data),
				Size: int64(size), SHA256: hex.EncodeToString(sum[:]), Mtime: time.Now().Add(-time.Hour),
			})
			return err
		})
	}
	require.NoError(b, g.Wait())
}
