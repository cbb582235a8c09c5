package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/tests/harness"
)

var importBench = flag.Int("import-bench", 0, "TestImportThroughput with a tree of this many MiB (0: skip)")

// TestImportThroughput measures `genesissync import` of a media tree (99 %
// spots of 300 KB, 1 % tracks of 20 MiB, by count) against what it
// replaces: `cp -a` of the same tree, then `sync`, then `sha256sum` of
// every file. Import does both in one read, and fsyncs each file before
// it gets its name. A measurement for the closing notes and
// docs/migrate.md, not an assertion: run it with -import-bench=MiB. The
// daemon is not running (BeforeStart), so nothing competes with it.
func TestImportThroughput(t *testing.T) {
	if *importBench == 0 {
		t.Skip("a measurement: -import-bench=MiB")
	}
	m := harness.StartMinIO(t)
	src := filepath.Join(t.TempDir(), "Old PC")
	var total int64
	for i := 0; total < int64(*importBench)<<20; i++ {
		rel, size := fmt.Sprintf("Spots/%03d/Spot %d.mp3", i/100, i), int64(300_000+i)
		if i%100 == 99 {
			rel, size = fmt.Sprintf("Music/%03d/Track %d.mp3", i/100, i), 20<<20+int64(i)
		}
		writeLocal(t, filepath.Join(src, filepath.FromSlash(rel)), uint64(i), size)
		total += size
	}
	files := 0
	require.NoError(t, filepath.WalkDir(src, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return err
	}))
	sh := func(name string, args ...string) time.Duration {
		start := time.Now()
		out, err := exec.Command(name, args...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return time.Since(start)
	}
	rate := func(d time.Duration) string {
		return fmt.Sprintf("%6.1f s  %6.1f MiB/s", d.Seconds(), float64(total)/(1<<20)/d.Seconds())
	}
	harness.StartAppliance(t, m, harness.ApplianceOptions{BeforeStart: func(a *harness.Appliance) {
		sh("sync")
		cp := sh("cp", "-a", src, filepath.Join(t.TempDir(), "copy")) + sh("sync")
		sum := sh("bash", "-c", `find "$1" -type f -print0 | xargs -0 sha256sum >/dev/null`, "-", src)
		imp := sh(harness.Binary(t), "import", src, "--share", "studio", "--config", a.ConfigPath)
		t.Logf("%d files, %d MiB, page cache warm:\n  cp -a + sync        %s\n  sha256sum           %s\n  both                %s\n  genesissync import  %s (one read: hashed, fsynced, renamed)",
			files, total>>20, rate(cp), rate(sum), rate(cp+sum), rate(imp))
	}})
}
