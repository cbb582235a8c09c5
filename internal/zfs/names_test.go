package zfs

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestScheduleName(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"UTC", time.Date(2026, 11, 22, 3, 15, 59, 999, time.UTC), "gs-2026-11-22-0315"},
		{"east of UTC is converted", time.Date(2026, 11, 22, 3, 15, 0, 0, time.FixedZone("AEDT", 11*3600)), "gs-2026-11-21-1615"},
		{"west of UTC crosses the year", time.Date(2026, 12, 31, 23, 0, 0, 0, time.FixedZone("EST", -5*3600)), "gs-2027-01-01-0400"},
		// The hour a DST change repeats (Europe, last Sunday of October)
		// gives two distinct names: names are UTC.
		{"first 02:30 (CEST)", time.Date(2026, 10, 25, 2, 30, 0, 0, time.FixedZone("CEST", 2*3600)), "gs-2026-10-25-0030"},
		{"second 02:30 (CET)", time.Date(2026, 10, 25, 2, 30, 0, 0, time.FixedZone("CET", 3600)), "gs-2026-10-25-0130"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ScheduleName(tt.at)
			require.Equal(t, tt.want, got)
			back, ok := ParseScheduleName(got)
			require.True(t, ok)
			require.Equal(t, tt.at.UTC().Truncate(time.Minute), back)
			require.Equal(t, time.UTC, back.Location())
			require.Equal(t, Scheduled, KindOf(got))
		})
	}
}

func TestScheduleNamesSortByTime(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := ScheduleName(at)
	for range 2000 {
		at = at.Add(97 * time.Minute)
		next := ScheduleName(at)
		require.Less(t, prev, next)
		prev = next
	}
}

// TestShadowFormatMatchesScheduleName translates the strftime format Samba
// gets into a Go layout: it must be the layout ScheduleName uses.
func TestShadowFormatMatchesScheduleName(t *testing.T) {
	layout := strings.NewReplacer("%Y", "2006", "%m", "01", "%d", "02", "%H", "15", "%M", "04").Replace(ShadowFormat)
	require.NotContains(t, layout, "%", "ShadowFormat uses a conversion this test does not know")
	require.Equal(t, scheduleLayout, layout)
	at := time.Date(2026, 11, 22, 3, 15, 0, 0, time.UTC)
	require.Equal(t, at.Format(layout), ScheduleName(at))
}

func TestParseScheduleNameRefuses(t *testing.T) {
	for _, name := range []string{
		"",
		"gs-2026-11-22-031",
		"gs-2026-11-22-03150",
		"gs-2026-11-22-2460",
		"gs-2026-13-01-0000",
		"gs-2026-02-30-0000",
		"gs-2026-1-22-0315x",
		"GS-2026-11-22-0315",
		"xgs-2026-11-22-0315",
		"gs-pre-restore-2026-11-22-031502",
		"gs-2026-11-22-0315 ",
		"zfs-auto-snap_hourly-2026-11-22-0317",
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := ParseScheduleName(name)
			require.False(t, ok)
		})
	}
}

func TestPreOpName(t *testing.T) {
	at := time.Date(2026, 11, 22, 4, 15, 2, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		op   PreOp
		want string
	}{
		{PreRestore, "gs-pre-restore-2026-11-22-031502"},
		{PreDelete, "gs-pre-delete-2026-11-22-031502"},
		{"upgrade", "gs-pre-upgrade-2026-11-22-031502"},
	}
	for _, tt := range tests {
		t.Run(string(tt.op), func(t *testing.T) {
			got, err := PreOpName(tt.op, at)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			op, back, ok := ParsePreOpName(got)
			require.True(t, ok)
			require.Equal(t, tt.op, op)
			require.Equal(t, at.UTC(), back)
			require.Equal(t, PreOperation, KindOf(got))
			_, isSchedule := ParseScheduleName(got)
			require.False(t, isSchedule, "a pre-operation name must never match the schedule's format")
		})
	}
	for _, op := range []PreOp{"", "Restore", "pre-restore", "re store", "restore1", PreOp(strings.Repeat("a", 33))} {
		t.Run("refused "+string(op), func(t *testing.T) {
			_, err := PreOpName(op, at)
			require.ErrorIs(t, err, ErrInvalidName)
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := map[string]Kind{
		"gs-2026-11-22-0315":               Scheduled,
		"gs-pre-restore-2026-11-22-031502": PreOperation,
		"gs-pre-delete-2026-11-22-031502":  PreOperation,
		"gs-pre-restore-2026-11-22-0315":   Foreign, // minute only: not ours
		"gs-pre--2026-11-22-031502":        Foreign,
		"manual-before-upgrade":            Foreign,
		"zfs-auto-snap_daily-2026-11-22":   Foreign,
		"bad name":                         Foreign,
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, want, KindOf(name), "%s is %s", name, KindOf(name))
		})
	}
}

func TestNameChecks(t *testing.T) {
	long := strings.Repeat("a", 250)
	tests := []struct {
		name    string
		dataset string
		snap    string
		ok      bool
	}{
		{"plain", "tank/media", "gs-2026-11-22-0315", true},
		{"nested with allowed punctuation", "tank/studio_a/media.v2:x", "x-y_z.1:2", true},
		{"pool only", "tank", "s", true},
		{"empty dataset", "", "s", false},
		{"empty snapshot", "tank/media", "", false},
		{"option-like dataset", "-r", "s", false},
		{"option-like snapshot", "tank/media", "-r", false},
		{"pool starting with a digit", "1tank/media", "s", false},
		{"snapshot in dataset", "tank/media@x", "s", false},
		{"range in snapshot", "tank/media", "a%b", false},
		{"bookmark", "tank/media#b", "s", false},
		{"second @", "tank/media", "a@b", false},
		{"slash in snapshot", "tank/media", "a/b", false},
		{"trailing slash", "tank/media/", "s", false},
		{"double slash", "tank//media", "s", false},
		{"dot dot", "tank/..", "s", false},
		{"space", "tank/my media", "s", false},
		{"newline", "tank/media", "s\n-r", false},
		{"too long", "tank/" + long, "s", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full, err := snapshotName(tt.dataset, tt.snap)
			if !tt.ok {
				require.ErrorIs(t, err, ErrInvalidName)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.dataset+"@"+tt.snap, full)
		})
	}
	require.NoError(t, checkTag("genesissync"))
	require.ErrorIs(t, checkTag("-x"), ErrInvalidName)
	require.ErrorIs(t, checkTag(""), ErrInvalidName)
	require.ErrorIs(t, checkPool("mirror/x"), ErrInvalidName)
}
