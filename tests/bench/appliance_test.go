package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/tests/harness"
)

// gs is the appliance under test: one daemon with its smbd and one share,
// whose target is station/studio/ on the bench MinIO. The dataset being
// measured sits in the share's data/ folder; mc and rclone read the same
// folder. The daemon runs only while GenesisSync is measured (or a
// playout client needs smbd), so it takes no CPU from the peers.
type gs struct {
	b *testing.B
	*harness.Appliance
	p *peers
}

// remoteInterval is the bench's bucket listing period (the shortest the
// config allows) wherever the listing is not what is measured against a
// peer: so that a pass can be asked for right after one, and that the
// memory figures include a listing's garbage every second. Uploads run
// with the product's default (listEvery).
const remoteInterval = time.Second

func startGS(b *testing.B, m *harness.MinIO, p *peers) *gs {
	share := filepath.Join(b.TempDir(), "share")
	a := harness.StartAppliance(b, m, harness.ApplianceOptions{
		SharePath:      share,
		Settle:         config.DefaultSettle,
		ScanInterval:   time.Hour,
		RemoteInterval: remoteInterval,
		// The playout client's track is no media to sync.
		ShareConfig: `    exclude: ["*.track"]`,
	})
	a.Stop()
	return &gs{b: b, Appliance: a, p: p}
}

// DataDir is the dataset's folder in the share.
func (g *gs) DataDir() string { return filepath.Join(g.SharePath, "data") }

// reset forgets everything synced: an empty bucket prefix and no index,
// as on a fresh install over existing media. The daemon must be stopped.
func (g *gs) reset() {
	g.p.clear(g.Bucket + "/" + g.Prefix)
	err := os.Remove(filepath.Join(g.Dir, "state", "index.db"))
	if !os.IsNotExist(err) {
		require.NoError(g.b, err)
	}
}

// idle waits until nothing is pending and a bucket listing has finished.
func (g *gs) idle() {
	waitFor(g.b, 10*time.Minute, "an idle share", func() bool {
		st := g.Share(g.b)
		return st.PendingUploads == 0 && st.InFlight == 0 && !st.Scanning && !st.LastRemoteList.IsZero()
	})
}

// listEvery sets the share's remote_interval for the daemon's next start.
// The daemon must be stopped.
func (g *gs) listEvery(d time.Duration) {
	cfg, err := os.ReadFile(g.ConfigPath)
	require.NoError(g.b, err)
	re := regexp.MustCompile(`(?m)^(\s*remote_interval:) \S+$`)
	require.Len(g.b, re.FindAll(cfg, -1), 1, "remote_interval in %s", g.ConfigPath)
	cfg = re.ReplaceAll(cfg, []byte("${1} "+d.String()))
	require.NoError(g.b, os.WriteFile(g.ConfigPath, cfg, 0o600))
}

// upload times a fresh daemon uploading the files of the share: from the
// start of the process until the status API counts them all uploaded.
// The caller resets the share first (reset).
// The daemon lists the bucket at its start and then every
// config.DefaultRemoteInterval, as installed: a listing every second
// would be work a peer's upload does not do (each one lists everything
// uploaded so far). It returns with the daemon running.
func (g *gs) upload(files int) time.Duration {
	g.listEvery(config.DefaultRemoteInterval)
	start := time.Now()
	g.Start(g.b)
	g.waitUploaded(files)
	return time.Since(start)
}

func (g *gs) waitUploaded(files int) {
	waitFor(g.b, 30*time.Minute, "uploads", func() bool {
		st := g.Share(g.b)
		return st.Uploads >= int64(files) && st.PendingUploads == 0 && st.InFlight == 0
	})
}

// passes is how many no-change passes noChange times in each round on
// the running daemon (after its cold-start pass).
const passes = 3

// noChangeTimes are one round's no-change measurements.
type noChangeTimes struct {
	// cold is the cold-start pass: from the start of the daemon process
	// (smbd's start included) until its first full scan and its first
	// bucket listing, which both begin at once, have finished and
	// nothing was found to do.
	cold time.Duration
	// pass, scan and list are the running daemon's passes, one sample
	// each per pass: from `genesissync share sync studio` (admin socket,
	// the CLI process included) until the scan and the bucket listing
	// that it started have both finished with nothing to do (pass), and
	// until each of them has (scan, list). The finish times are the
	// daemon's own (last_full_scan_done, last_remote_list_done).
	pass, scan, list []time.Duration
}

// noChange measures reconcile passes over an unchanged share with an
// existing index (see noChangeTimes). It returns with the daemon stopped.
func (g *gs) noChange() noChangeTimes {
	var t noChangeTimes
	g.listEvery(remoteInterval)
	start := time.Now()
	g.Start(g.b)
	waitFor(g.b, 10*time.Minute, "a full pass", func() bool {
		st := g.Share(g.b)
		return !st.LastFullScan.IsZero() && !st.Scanning && !st.LastRemoteListDone.IsZero() &&
			st.PendingUploads == 0 && st.InFlight == 0
	})
	st := g.Share(g.b)
	t.cold = st.LastFullScanDone.Sub(start)
	if d := st.LastRemoteListDone.Sub(start); d > t.cold {
		t.cold = d
	}

	for i := 0; i < passes; i++ {
		// The bench lists the bucket every second: ask right after a
		// periodic listing finished, so that the pass does not queue
		// behind one, as on a daemon that is idle between listings.
		prev := g.Share(g.b).LastRemoteListDone
		waitFor(g.b, time.Minute, "a periodic listing", func() bool {
			return g.Share(g.b).LastRemoteListDone.After(prev)
		})
		start := time.Now()
		g.CLI(g.b, "share", "sync", "studio")
		waitFor(g.b, 10*time.Minute, "a requested pass", func() bool {
			st = g.Share(g.b)
			return !st.Scanning && st.LastFullScan.After(start) && st.LastFullScanDone.After(st.LastFullScan) &&
				st.LastRemoteList.After(start) && st.LastRemoteListDone.After(st.LastRemoteList) &&
				st.PendingUploads == 0 && st.InFlight == 0
		})
		scan, list := st.LastFullScanDone.Sub(start), st.LastRemoteListDone.Sub(start)
		t.scan = append(t.scan, scan)
		t.list = append(t.list, list)
		t.pass = append(t.pass, max(scan, list))
	}
	st = g.Share(g.b)
	require.Zero(g.b, st.Uploads, "a no-change pass uploaded")
	require.Zero(g.b, st.Downloads, "a no-change pass downloaded")
	g.Stop()
	return t
}

// restore times `genesissync restore studio --to DIR` (in process, every
// file hashed against its object's SHA-256 and fsynced before rename).
func (g *gs) restore(dir string) time.Duration {
	start := time.Now()
	g.CLI(g.b, "restore", "studio", "--to", dir)
	return time.Since(start)
}

// rss returns the daemon's VmRSS in bytes, from /proc.
func (g *gs) rss() int64 {
	pid := g.pid()
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	require.NoError(g.b, err)
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(g.b, err)
			return kb << 10
		}
	}
	g.b.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// pid finds the daemon process: "genesissync run --config CONFIG".
func (g *gs) pid() int {
	dirs, err := os.ReadDir("/proc")
	require.NoError(g.b, err)
	want := []byte("run\x00--config\x00" + g.ConfigPath + "\x00")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && bytes.HasSuffix(cmdline, want) {
			return pid
		}
	}
	g.b.Fatalf("daemon with config %s not found in /proc", g.ConfigPath)
	return 0
}
