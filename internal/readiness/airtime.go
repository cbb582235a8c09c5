package readiness

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Slot is when a playlist airs, from its file name.
type Slot struct {
	// Start is the first second of the playlist's hour (or day); zero
	// when the name carries no air time: the playlist is unscheduled and
	// always checked.
	Start time.Time
	// End is when the next hour (or, for a date-only name, day) starts.
	End time.Time
}

// Scheduled reports whether the playlist has an air time.
func (s Slot) Scheduled() bool { return !s.Start.IsZero() }

// Schedule reads air times from playlist file names, in the appliance's
// time zone (the one the playout PCs keep). It is read-only after
// NewSchedule: any goroutine may use it.
type Schedule struct {
	loc     *time.Location
	pattern *regexp.Regexp // the user's name_pattern; nil when none
}

// PatternGroups are the named groups a name pattern may use; year, month
// and day are required.
var PatternGroups = []string{"year", "month", "day", "hour", "minute"}

// builtin are the file-name shapes StationPlaylist Creator and common
// schedulers write, most specific first: YYYY-MM-DD-HH, YYYYMMDDHH,
// YYMMDDHH, YYYY-MM-DD. A digit run must be exactly the shape's length.
var builtin = []*regexp.Regexp{
	regexp.MustCompile(`(?:^|\D)(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)-(?P<hour>\d\d)(?:\D|$)`),
	regexp.MustCompile(`(?:^|\D)(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)(?P<hour>\d\d)(?:\D|$)`),
	regexp.MustCompile(`(?:^|\D)(?P<year>\d\d)(?P<month>\d\d)(?P<day>\d\d)(?P<hour>\d\d)(?:\D|$)`),
	regexp.MustCompile(`(?:^|\D)(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)(?:\D|$)`),
}

// NewSchedule returns the schedule for time zone loc and the optional
// name pattern (see CompilePattern), which is tried before the built-in
// shapes.
func NewSchedule(loc *time.Location, namePattern string) (*Schedule, error) {
	if loc == nil {
		return nil, errors.New("readiness: no time zone")
	}
	re, err := CompilePattern(namePattern)
	if err != nil {
		return nil, err
	}
	return &Schedule{loc: loc, pattern: re}, nil
}

// CompilePattern compiles a name pattern: a regular expression over the
// playlist's base name with named groups year (2 or 4 digits), month and
// day, and optionally hour and minute. "" is no pattern (nil).
func CompilePattern(p string) (*regexp.Regexp, error) {
	if p == "" {
		return nil, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("not a regular expression: %w", err)
	}
	names := re.SubexpNames()
	for _, n := range PatternGroups[:3] {
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("needs a named group (?P<%s>...)", n)
		}
	}
	for _, n := range names {
		if n != "" && !slices.Contains(PatternGroups, n) {
			return nil, fmt.Errorf("unknown group %q (want %s)", n, strings.Join(PatternGroups, ", "))
		}
	}
	return re, nil
}

// Slot returns the air slot of the playlist at name (a path; only its
// base name counts). A shape that matches with an impossible date (month
// 13) does not count, and the next shape is tried.
func (s *Schedule) Slot(name string) Slot {
	base := path.Base(name)
	if s.pattern != nil {
		if sl, ok := s.match(s.pattern, base); ok {
			return sl
		}
	}
	for _, re := range builtin {
		if sl, ok := s.match(re, base); ok {
			return sl
		}
	}
	return Slot{}
}

func (s *Schedule) match(re *regexp.Regexp, base string) (Slot, bool) {
	m := re.FindStringSubmatch(base)
	if m == nil {
		return Slot{}, false
	}
	f := fields{hour: -1}
	for i, n := range re.SubexpNames() {
		if n != "" && m[i] != "" {
			if !f.set(n, m[i]) {
				return Slot{}, false
			}
		}
	}
	return f.slot(s.loc)
}

// fields are the parts of an air time a name gave; hour -1 is none (a
// day playlist).
type fields struct {
	year, month, day, hour, minute int
}

func (f *fields) set(name, digits string) bool {
	v, err := strconv.Atoi(digits)
	if err != nil {
		return false
	}
	switch name {
	case "year":
		if len(digits) == 2 {
			v += 2000
		}
		f.year = v
	case "month":
		f.month = v
	case "day":
		f.day = v
	case "hour":
		f.hour = v
	case "minute":
		f.minute = v
	}
	return true
}

// slot checks the fields (a real date, hour 0-23, minute 0-59) and gives
// the slot: an hour from the start, or the whole day without an hour.
func (f fields) slot(loc *time.Location) (Slot, bool) {
	if f.month < 1 || f.month > 12 || f.day < 1 || f.hour > 23 || f.minute < 0 || f.minute > 59 {
		return Slot{}, false
	}
	day := time.Date(f.year, time.Month(f.month), f.day, 0, 0, 0, 0, loc)
	if day.Day() != f.day {
		return Slot{}, false // 31 June
	}
	if f.hour < 0 {
		return Slot{Start: day, End: day.AddDate(0, 0, 1)}, true
	}
	start := time.Date(f.year, time.Month(f.month), f.day, f.hour, f.minute, 0, 0, loc)
	return Slot{Start: start, End: start.Add(time.Hour)}, true
}
