package readiness

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSlot(t *testing.T) {
	loc, err := time.LoadLocation("America/Mexico_City")
	require.NoError(t, err)
	hour := func(y int, m time.Month, d, h int) Slot {
		s := time.Date(y, m, d, h, 0, 0, 0, loc)
		return Slot{Start: s, End: s.Add(time.Hour)}
	}
	day := Slot{Start: time.Date(2024, 6, 15, 0, 0, 0, 0, loc), End: time.Date(2024, 6, 16, 0, 0, 0, 0, loc)}
	sched, err := NewSchedule(loc, `^(?P<month>\d\d)(?P<day>\d\d)(?P<year>\d\d)_(?P<hour>\d\d)(?P<minute>\d\d)`)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		want Slot
	}{
		{"Playlists/2024-06-15-14.m3u", hour(2024, 6, 15, 14)},
		{"2024061514.m3u", hour(2024, 6, 15, 14)},
		{"Hour 24061514.M3U", hour(2024, 6, 15, 14)},
		{"2024-06-15.m3u", day},
		{"Show 2024-06-15 Morning.pls", day},
		{"061524_1430.m3u", Slot{Start: time.Date(2024, 6, 15, 14, 30, 0, 0, loc), End: time.Date(2024, 6, 15, 15, 30, 0, 0, loc)}},
		{"2024-06-15-24.m3u", day}, // hour 24 is no hour; the date still is one
		{"2024-13-15-10.m3u", Slot{}},
		{"2024-02-30.m3u", Slot{}},
		{"20240615.m3u", Slot{}},     // YYMMDDHH with month 24: not an air time
		{"123456789012.m3u", Slot{}}, // too many digits for any shape
		{"Oldies.m3u", Slot{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sched.Slot(tc.name)
			require.True(t, tc.want.Start.Equal(got.Start), "start %s, want %s", got.Start, tc.want.Start)
			require.True(t, tc.want.End.Equal(got.End), "end %s, want %s", got.End, tc.want.End)
			require.Equal(t, tc.want.Scheduled(), got.Scheduled())
		})
	}
}

func TestSlotDayAcrossDST(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	sched, err := NewSchedule(loc, "")
	require.NoError(t, err)
	s := sched.Slot("2024-03-31.m3u")
	require.Equal(t, 23*time.Hour, s.End.Sub(s.Start), "the day clocks go forward has 23 hours")
}

func TestNewScheduleErrors(t *testing.T) {
	_, err := NewSchedule(nil, "")
	require.ErrorContains(t, err, "no time zone")
	_, err = NewSchedule(time.UTC, `(?P<year>\d+)`)
	require.ErrorContains(t, err, "(?P<month>...)")
}
