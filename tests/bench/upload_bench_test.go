package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	rand.NewChaCha8(s).Read(b)
	return b
}

// BenchmarkCloseToBucket writes files over SMB one at a time and measures
// from the client's close to the object being visible in the bucket,
// with the default 2 s settle window.
func BenchmarkCloseToBucket(b *testing.B) {
	for _, size := range []int{16 << 10, 100 << 20} {
		// No '=' in the name: it ends up in temp paths, which Samba refuses.
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			m := harness.StartMinIO(b)
			a := harness.StartAppliance(b, m, harness.ApplianceOptions{Settle: 2 * time.Second})
			c := a.SMB(b)
			data := randomBytes(1, size)
			var lat []time.Duration
			const files = 5
			b.ResetTimer()
			for i := 0; i < b.N*files; i++ {
				name := fmt.Sprintf("latency/%d.wav", i)
				require.NoError(b, c.MkdirAll("latency", 0o755))
				require.NoError(b, c.WriteFile(name, data, 0o644))
				closed := time.Now()
				for {
					if _, err := a.Store.Head(context.Background(), name); err == nil {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				lat = append(lat, time.Since(closed))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
			b.Logf("close->object, settle 2s, %d files of %d bytes: %v", len(lat), size, lat)
		})
	}
}

// BenchmarkUpload1GiB measures the appliance uploading 10 files of
// 100 MiB that are already on the share when it starts (mtimes old, so
// no settle wait), against the raw PUT ceiling of the same MinIO.
func BenchmarkUpload1GiB(b *testing.B) {
	const files, size = 10, 100 << 20
	m := harness.StartMinIO(b)

	b.Run("raw-sdk-put", func(b *testing.B) {
		a := harness.StartAppliance(b, m, harness.ApplianceOptions{})
		a.Stop()
		data := randomBytes(2, size)
		sum := sha256.Sum256(data)
		start := time.Now()
		for n := 0; n < b.N; n++ {
			for i := 0; i < files; i++ {
				_, err := a.Store.Put(context.Background(), objstore.PutInput{
					Key: fmt.Sprintf("raw/%d-%d", n, i), Body: bytes.NewReader(data), Size: size, SHA256: hex.EncodeToString(sum[:]),
				})
				require.NoError(b, err)
			}
		}
		reportRate(b, time.Since(start), int64(b.N)*files*size)
	})

	b.Run("genesissync", func(b *testing.B) {
		var total time.Duration
		for n := 0; n < b.N; n++ {
			b.StopTimer()
			a := harness.StartAppliance(b, m, harness.ApplianceOptions{})
			a.Stop()
			old := time.Now().Add(-time.Hour)
			for i := 0; i < files; i++ {
				p := filepath.Join(a.SharePath, fmt.Sprintf("big/%d.wav", i))
				require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(b, os.WriteFile(p, randomBytes(uint64(10+i), size), 0o644))
				require.NoError(b, os.Chtimes(p, old, old))
			}
			b.StartTimer()
			start := time.Now()
			a.Start(b)
			for {
				if st := a.Share(b); st.Uploads == files && st.PendingUploads == 0 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			total += time.Since(start)
			b.StopTimer()
			a.Stop()
		}
		reportRate(b, total, int64(b.N)*files*size)
	})
}

func reportRate(b *testing.B, d time.Duration, bytes int64) {
	mibs := float64(bytes) / (1 << 20) / d.Seconds()
	b.ReportMetric(mibs, "MiB/s")
	b.Logf("%d MiB in %v: %.1f MiB/s", bytes>>20, d.Round(time.Millisecond), mibs)
}
