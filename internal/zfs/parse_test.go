package zfs

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares v, as indented JSON, with the file at path, or rewrites
// the file under -update.
func golden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test -update")
	require.Equal(t, string(want), string(got), "output differs from %s: run go test -update if intended", path)
}

// flavours are the testdata directories: real zfs-fuse 0.7 output captured
// by testdata/zfs-fuse/capture.sh, and hand-written OpenZFS 2.x samples
// (see testdata/openzfs/README.md).
var flavours = []string{"zfs-fuse", "openzfs"}

// firstField is the first tab- or space-separated field of the output.
func firstField(out []byte) string {
	f := strings.FieldsFunc(string(out), func(r rune) bool { return r == '\t' || r == '\n' })
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// statusPool is the name on the "pool:" line of zpool status output.
func statusPool(out []byte) string {
	for _, l := range lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "pool: "); ok {
			return v
		}
	}
	return ""
}

// poolListView and poolStatusView are the parts of PoolInfo that zpool
// list and zpool status each fill in.
type poolListView struct {
	Name            string `json:"name"`
	Health          string `json:"health"`
	Size            uint64 `json:"size"`
	Allocated       uint64 `json:"allocated"`
	Free            uint64 `json:"free"`
	SizesExact      bool   `json:"sizes_exact"`
	CapacityPercent int    `json:"capacity_percent"`
}

type poolStatusView struct {
	Name   string `json:"name"`
	Health string `json:"health"`
	Status string `json:"status,omitempty"`
	Action string `json:"action,omitempty"`
	Scan   Scan   `json:"scan"`
	Vdevs  []Vdev `json:"vdevs"`
	Errors string `json:"errors"`
}

// parseFile runs the parser that the file's name calls for.
func parseFile(t *testing.T, path string) any {
	out, err := os.ReadFile(path)
	require.NoError(t, err)
	base := filepath.Base(path)
	switch {
	case strings.HasPrefix(base, "get-dataset"):
		info, err := parseDataset(out, firstField(out))
		require.NoError(t, err)
		return info
	case strings.HasPrefix(base, "get-snapshots"):
		snaps, err := parseSnapshots(out, firstField(out))
		require.NoError(t, err)
		return snaps
	case strings.HasPrefix(base, "get-clones"):
		cs, err := parseClones(out, firstField(out))
		require.NoError(t, err)
		return cs
	case strings.HasPrefix(base, "get-userrefs"):
		n, err := userrefsFrom(out, firstField(out))
		require.NoError(t, err)
		return n
	case strings.HasPrefix(base, "list-filesystems"):
		fss, err := parseFilesystems(out)
		require.NoError(t, err)
		return fss
	case strings.HasPrefix(base, "list-"):
		info, err := parsePoolList(out, firstField(out))
		require.NoError(t, err)
		return poolListView{info.Name, info.Health, info.Size, info.Allocated, info.Free, info.SizesExact, info.CapacityPercent}
	case strings.HasPrefix(base, "status-x-"):
		ok, msg := parseHealthy(out)
		return struct {
			Healthy bool   `json:"healthy"`
			Message string `json:"message"`
		}{ok, msg}
	case strings.HasPrefix(base, "status-"):
		info := PoolInfo{Name: statusPool(out)}
		require.NoError(t, parsePoolStatus(out, time.UTC, &info))
		return poolStatusView{info.Name, info.Health, info.Status, info.Action, info.Scan, info.Vdevs, info.Errors}
	}
	t.Fatalf("no parser for %s", base)
	return nil
}

// TestParsersGolden parses every captured or sample output file and
// compares the result with the .golden file beside it.
func TestParsersGolden(t *testing.T) {
	for _, flavour := range flavours {
		files, err := filepath.Glob(filepath.Join("testdata", flavour, "*.out"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			t.Run(flavour+"/"+filepath.Base(f), func(t *testing.T) {
				golden(t, strings.TrimSuffix(f, ".out")+".golden", parseFile(t, f))
			})
		}
	}
}

func parsed[T any](t *testing.T, flavour, name string) T {
	t.Helper()
	v, ok := parseFile(t, filepath.Join("testdata", flavour, name)).(T)
	require.True(t, ok, "%s parses to %T", name, v)
	return v
}

// TestParsersFacts checks, beyond the golden files, what the daemon
// relies on in each capture.
func TestParsersFacts(t *testing.T) {
	t.Run("zfs-fuse dataset", func(t *testing.T) {
		d := parsed[DatasetInfo](t, "zfs-fuse", "get-dataset.out")
		require.Equal(t, "gs-golden/media", d.Name)
		require.Equal(t, "filesystem", d.Type)
		require.True(t, d.Mounted)
		require.Positive(t, d.Used)
		require.Positive(t, d.Available)
		require.Equal(t, 2026, d.Created.Year())
		require.False(t, parsed[DatasetInfo](t, "zfs-fuse", "get-dataset-unmounted.out").Mounted)
	})
	t.Run("zfs-fuse snapshots: own only, in creation order, holds counted", func(t *testing.T) {
		snaps := parsed[[]SnapshotInfo](t, "zfs-fuse", "get-snapshots.out")
		// zfs-fuse itself lists them in hash order (see
		// stderr/other-rollback-newer.txt): the order is createtxg's.
		require.Equal(t, []string{"gs-2026-11-22-0100", "gs-2026-11-22-0200", "gs-pre-restore-2026-11-22-020130", "manual-before-upgrade"}, names(snaps))
		require.Equal(t, uint64(1), snaps[0].Holds)
		require.Equal(t, []Kind{Scheduled, Scheduled, PreOperation, Foreign}, []Kind{snaps[0].Kind(), snaps[1].Kind(), snaps[2].Kind(), snaps[3].Kind()})
		for _, s := range snaps {
			require.Equal(t, "gs-golden/media", s.Dataset)
		}
		require.Equal(t, uint64(1), parsed[uint64](t, "zfs-fuse", "get-userrefs-held.out"))
	})
	t.Run("openzfs snapshots", func(t *testing.T) {
		snaps := parsed[[]SnapshotInfo](t, "openzfs", "get-snapshots.out")
		require.Equal(t, []string{"gs-2026-11-22-0100", "gs-pre-delete-2026-11-22-013002", "gs-2026-11-22-0200"}, names(snaps))
		require.True(t, snaps[1].Held())
		require.Equal(t, time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), snaps[0].Created)
	})
	t.Run("clones: own snapshots' direct children only", func(t *testing.T) {
		cs := parsed[[]CloneInfo](t, "zfs-fuse", "get-clones.out")
		require.Len(t, cs, 2, "archive is no clone; other-clone is not a child")
		require.Equal(t, "gs-golden/media/gs-shadow-2026-11-22-0100", cs[0].Name)
		require.Equal(t, "gs-2026-11-22-0100", cs[0].Snapshot)
		require.True(t, cs[0].Mounted)
		require.False(t, cs[1].Mounted)
		oz := parsed[[]CloneInfo](t, "openzfs", "get-clones.out")
		require.Len(t, oz, 1)
		require.Equal(t, "tank/media@gs-2026-11-22-0100", oz[0].Origin)
	})
	t.Run("zfs-fuse pool sizes are rounded, capacity exact", func(t *testing.T) {
		p := parsed[poolListView](t, "zfs-fuse", "list-scrubbed.out")
		require.False(t, p.SizesExact)
		require.Equal(t, uint64(123<<20), p.Size)
		require.Equal(t, "ONLINE", p.Health)
		require.Positive(t, p.CapacityPercent)
		require.Equal(t, "DEGRADED", parsed[poolListView](t, "zfs-fuse", "list-degraded.out").Health)
	})
	t.Run("openzfs pool sizes are exact", func(t *testing.T) {
		p := parsed[poolListView](t, "openzfs", "list-online.out")
		require.True(t, p.SizesExact)
		require.Equal(t, uint64(3985729650688), p.Size)
		require.Equal(t, 30, p.CapacityPercent)
		f := parsed[poolListView](t, "openzfs", "list-faulted.out")
		require.Equal(t, "FAULTED", f.Health)
		require.Zero(t, f.Size)
	})
	t.Run("zfs-fuse scrub states", func(t *testing.T) {
		none := parsed[poolStatusView](t, "zfs-fuse", "status-online-none.out")
		require.Equal(t, ScanNone, none.Scan.State)
		_, ok := PoolInfo{Scan: none.Scan}.LastScrub()
		require.False(t, ok)

		done := parsed[poolStatusView](t, "zfs-fuse", "status-scrubbed.out")
		end, ok := PoolInfo{Scan: done.Scan}.LastScrub()
		require.True(t, ok)
		require.Equal(t, 2026, end.Year())
		require.Equal(t, "No known data errors", done.Errors)
		require.Len(t, done.Vdevs, 4)
		require.Equal(t, Vdev{Name: "mirror-0", Depth: 1, State: "ONLINE"}, done.Vdevs[1])

		res := parsed[poolStatusView](t, "zfs-fuse", "status-resilvered.out")
		require.Equal(t, "resilver", res.Scan.Function)
		require.Contains(t, res.Vdevs[3].Note, "resilvered")
	})
	t.Run("zfs-fuse problems", func(t *testing.T) {
		deg := parsed[poolStatusView](t, "zfs-fuse", "status-degraded.out")
		require.Equal(t, "DEGRADED", deg.Health)
		require.Contains(t, deg.Status, "taken offline by the administrator")
		require.Equal(t, "OFFLINE", deg.Vdevs[3].State)

		// ONLINE, yet a mirror side is unusable: only status and -x tell.
		lab := parsed[poolStatusView](t, "zfs-fuse", "status-label-missing.out")
		require.Equal(t, "ONLINE", lab.Health)
		require.Contains(t, lab.Status, "label is missing or invalid")
		require.Equal(t, Vdev{Name: lab.Vdevs[3].Name, Depth: 2, State: "UNAVAIL", Note: "corrupted data"}, lab.Vdevs[3])
	})
	t.Run("health verdicts", func(t *testing.T) {
		type verdict = struct {
			Healthy bool   `json:"healthy"`
			Message string `json:"message"`
		}
		for flavour, files := range map[string]map[string]bool{
			"zfs-fuse": {"status-x-nopools.out": true, "status-x-pool-healthy.out": true, "status-x-degraded.out": false, "status-x-label-missing.out": false},
			"openzfs":  {"status-x-healthy.out": true, "status-x-pool-healthy.out": true, "status-x-faulted-device.out": false},
		} {
			for f, want := range files {
				v := parsed[verdict](t, flavour, f)
				require.Equal(t, want, v.Healthy, "%s/%s: %s", flavour, f, v.Message)
				require.NotEmpty(t, v.Message)
			}
		}
	})
	t.Run("openzfs scans", func(t *testing.T) {
		sc := parsed[poolStatusView](t, "openzfs", "status-scrubbed.out")
		end, ok := PoolInfo{Scan: sc.Scan}.LastScrub()
		require.True(t, ok)
		require.Equal(t, time.Date(2026, 11, 8, 0, 36, 42, 0, time.UTC), end)

		never := parsed[poolStatusView](t, "openzfs", "status-never-scanned.out")
		require.Equal(t, ScanNone, never.Scan.State)

		run := parsed[poolStatusView](t, "openzfs", "status-scrub-in-progress.out")
		require.Equal(t, ScanInProgress, run.Scan.State)
		require.InDelta(t, 48.10, run.Scan.PercentDone, 0.001)
		require.Equal(t, time.Date(2026, 11, 22, 0, 24, 1, 0, time.UTC), run.Scan.Start)

		res := parsed[poolStatusView](t, "openzfs", "status-resilvering.out")
		require.Equal(t, "resilver", res.Scan.Function)
		require.Equal(t, ScanInProgress, res.Scan.State)
		require.Equal(t, Vdev{Name: "sda-new", Depth: 3, State: "ONLINE", Note: "(resilvering)"}, res.Vdevs[4])

		f := parsed[poolStatusView](t, "openzfs", "status-faulted-device.out")
		require.Equal(t, Vdev{Name: "sda", Depth: 2, State: "FAULTED", Read: 12, Write: 1229, Cksum: 0, Note: "too many errors"}, f.Vdevs[2])
		require.Equal(t, Vdev{Name: "spares", Depth: 0}, f.Vdevs[8])
		require.Equal(t, Vdev{Name: "sdc", Depth: 1, State: "AVAIL"}, f.Vdevs[9])
	})
	t.Run("filesystems", func(t *testing.T) {
		fss := parsed[[]Filesystem](t, "openzfs", "list-filesystems.out")
		for _, tt := range []struct{ path, want string }{
			{"/tank/media/jingles/a.wav", "tank/media"},
			{"/tank/media", "tank/media"},
			{"/tank/mediax", "tank"},
			{"/tank/media/archive/2025", "tank/media/archive"},
			{"/srv/other", "rpool/ROOT/debian"}, // "/" covers everything
		} {
			fs, ok := coveringFilesystem(fss, tt.path)
			require.True(t, ok)
			require.Equal(t, tt.want, fs.Name, tt.path)
		}
		fuse := parsed[[]Filesystem](t, "zfs-fuse", "list-filesystems.out")
		_, ok := coveringFilesystem(fuse, "/srv/other")
		require.False(t, ok)
	})
}

// userrefsFrom reads the userrefs of one snapshot from `zfs get` output.
func userrefsFrom(out []byte, full string) (uint64, error) {
	r := fakeRunner{steps: []fakeStep{{out: string(out)}}}
	return userrefs(t0ctx, &r, full)
}

// TestParseScanLines covers the scan lines no capture shows: zfs-fuse's
// scrub finishes too fast on a test pool to be caught running.
func TestParseScanLines(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  Scan
	}{
		{"zfs-fuse running", []string{"scrub in progress for 0h1m, 12.34% done, 0h7m to go"},
			Scan{Function: "scrub", State: ScanInProgress, PercentDone: 12.34}},
		{"zfs-fuse stopped", []string{"scrub stopped after 0h1m with 0 errors on Sun Nov 22 01:44:11 2026"},
			Scan{Function: "scrub", State: ScanCanceled, End: time.Date(2026, 11, 22, 1, 44, 11, 0, time.UTC)}},
		{"zfs-fuse resilver with errors", []string{"resilver completed after 1h2m with 3 errors on Sun Nov  1 10:00:00 2026"},
			Scan{Function: "resilver", State: ScanFinished, Errors: 3, End: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)}},
		{"openzfs canceled", []string{"scrub canceled on Sun Nov 22 01:44:11 2026"},
			Scan{Function: "scrub", State: ScanCanceled, End: time.Date(2026, 11, 22, 1, 44, 11, 0, time.UTC)}},
		{"openzfs paused", []string{"scrub paused since Sun Nov 22 01:44:11 2026", "scrub started on Sun Nov 22 01:00:00 2026", "1G / 2G scanned, 1G / 2G issued", "0B repaired, 50.00% done"},
			Scan{Function: "scrub", State: ScanPaused, Start: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), PercentDone: 50}},
		{"openzfs thorough", []string{"thorough scrub repaired 0B in 1 days 02:03:04 with 0 errors on Sun Nov 22 01:44:11 2026"},
			Scan{Function: "scrub", State: ScanFinished, End: time.Date(2026, 11, 22, 1, 44, 11, 0, time.UTC)}},
		{"openzfs resilvered", []string{"resilvered 1.20G in 00:01:02 with 0 errors on Sun Nov 22 01:44:11 2026"},
			Scan{Function: "resilver", State: ScanFinished, End: time.Date(2026, 11, 22, 1, 44, 11, 0, time.UTC)}},
		{"unknown", []string{"rebuilt 1G in 00:00:01"}, Scan{State: ScanUnknown}},
		{"absent", nil, Scan{State: ScanNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseScan(tt.lines, time.UTC)
			tt.want.Line = strings.Join(tt.lines, "; ")
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in    string
		want  uint64
		exact bool
		bad   bool
	}{
		{"3985729650688", 3985729650688, true, false},
		{"0", 0, true, false},
		{"250M", 250 << 20, false, false},
		{"21.2M", 22229811, false, false},
		{"544K", 544 << 10, false, false},
		{"1.50T", 1649267441664, false, false},
		{"0B", 0, true, false},
		{"512B", 512, true, false},
		{"-", 0, false, false},
		{"", 0, false, true},
		{"M", 0, false, true},
		{"12Q", 0, false, true},
		{"-5M", 0, false, true},
		{"NaN", 0, false, true},
		{"1e3K", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, exact, err := parseSize(tt.in)
			if tt.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, n)
			require.Equal(t, tt.exact, exact)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func() error
	}{
		{"get line without value", func() error { _, err := parseProps([]byte("tank\tused\n")); return err }},
		{"dataset not in output", func() error { _, err := parseDataset([]byte("tank/x\tused\t1\n"), "tank/media"); return err }},
		{"human size without -p", func() error {
			_, err := parseDataset([]byte("tank/media\ttype\tfilesystem\ntank/media\tmountpoint\t/m\ntank/media\tmounted\tyes\ntank/media\tused\t1.5G\n"), "tank/media")
			return err
		}},
		{"mounted neither yes nor no", func() error { _, err := parseFilesystems([]byte("tank\t/tank\tmaybe\n")); return err }},
		{"snapshot of wrong type", func() error { _, err := parseSnapshots([]byte("tank@s\ttype\tfilesystem\n"), "tank"); return err }},
		{"pool list short line", func() error { _, err := parsePoolList([]byte("tank\t1\t2\n"), "tank"); return err }},
		{"pool list bad capacity", func() error { _, err := parsePoolList([]byte("tank\t1\t2\t3\tfull\tONLINE\n"), "tank"); return err }},
		{"status of another pool", func() error {
			return parsePoolStatus([]byte("  pool: other\n state: ONLINE\nconfig:\n\n\tNAME STATE\n\tother ONLINE\n"), time.UTC, &PoolInfo{Name: "tank"})
		}},
		{"status without config", func() error {
			return parsePoolStatus([]byte("  pool: tank\n state: ONLINE\n"), time.UTC, &PoolInfo{Name: "tank"})
		}},
		{"status of nothing", func() error {
			return parsePoolStatus([]byte("no pools available\n"), time.UTC, &PoolInfo{Name: "tank"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.run())
		})
	}
}

// TestClassifyCaptured maps every captured or sample standard error to the
// error class its file name starts with.
func TestClassifyCaptured(t *testing.T) {
	classes := map[string]error{
		"busy":      ErrBusy,
		"exists":    ErrExists,
		"hasclones": ErrHasClones,
		"held":      ErrHeld,
		"notfound":  ErrNotFound,
		"nozfs":     ErrNoZFS,
		"other":     nil,
	}
	for _, flavour := range flavours {
		files, err := filepath.Glob(filepath.Join("testdata", flavour, "stderr", "*.txt"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			t.Run(flavour+"/"+filepath.Base(f), func(t *testing.T) {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				class, _, _ := strings.Cut(filepath.Base(f), "-")
				want, ok := classes[class]
				require.True(t, ok, "unknown class %q in file name", class)
				te := newToolError("zfs", []string{"x"}, errors.New("exit status 1"), string(b))
				for _, c := range classes {
					if c != nil {
						require.Equal(t, c == want, errors.Is(te, c), "errors.Is(%q, %v)", te.Stderr, c)
					}
				}
			})
		}
	}
}
