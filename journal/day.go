package journal

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is a calendar day in the user's local time, written YYYY-MM-DD. Days
// compare correctly as strings for years 0001–9999.
type Day string

const dayLayout = "2006-01-02"

// DayOf returns the calendar day of t in t's own location: for an entry's
// Created time that is the user's local day when they wrote it.
func DayOf(t time.Time) Day { return Day(t.Format(dayLayout)) }

// ParseDay parses a YYYY-MM-DD day.
func ParseDay(s string) (Day, error) {
	if _, err := time.Parse(dayLayout, s); err != nil {
		return "", fmt.Errorf("%q is not a date; write it as YYYY-MM-DD, like 2026-03-01", s)
	}
	return Day(s), nil
}

// Valid reports whether d is a real YYYY-MM-DD date.
func (d Day) Valid() bool {
	_, err := time.Parse(dayLayout, string(d))
	return err == nil
}

// Time returns midnight at the start of d in loc. An invalid day gives the
// zero time.
func (d Day) Time(loc *time.Location) time.Time {
	t, err := time.ParseInLocation(dayLayout, string(d), loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// AddDays returns the day n days after d (before it when n is negative).
func (d Day) AddDays(n int) Day {
	t := d.Time(time.UTC)
	if t.IsZero() {
		return d
	}
	return DayOf(t.AddDate(0, 0, n))
}

// Weekday returns d's day of the week.
func (d Day) Weekday() time.Weekday { return d.Time(time.UTC).Weekday() }

// daysBetween returns the number of days from a to b (b − a).
func daysBetween(a, b Day) int {
	ta, tb := a.Time(time.UTC), b.Time(time.UTC)
	return int(tb.Sub(ta).Hours() / 24)
}

// Weekdays is a set of days of the week. In JSON it is a list of three-letter
// lowercase names: ["mon","wed","fri"].
type Weekdays []time.Weekday

var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWeekday accepts a day name in English, full or abbreviated to three
// letters, in any case ("Mon", "monday").
func ParseWeekday(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range weekdayNames {
		if s == n || (len(s) > 3 && strings.HasPrefix(strings.ToLower(time.Weekday(i).String()), s)) {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not a day of the week; use mon, tue, wed, thu, fri, sat or sun", s)
}

// ParseWeekdays parses a list of days such as "mon,wed,fri", "mon-fri" or
// "sat+sun". A range wraps past Sunday ("fri-mon" is fri, sat, sun, mon).
func ParseWeekdays(s string) (Weekdays, error) {
	var out Weekdays
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '+' || r == ' ' }) {
		from, to, isRange := strings.Cut(part, "-")
		a, err := ParseWeekday(from)
		if err != nil {
			return nil, err
		}
		if !isRange {
			out = out.add(a)
			continue
		}
		b, err := ParseWeekday(to)
		if err != nil {
			return nil, err
		}
		for d := a; ; d = (d + 1) % 7 {
			out = out.add(d)
			if d == b {
				break
			}
		}
	}
	return out, nil
}

func (w Weekdays) add(d time.Weekday) Weekdays {
	if w.Has(d) {
		return w
	}
	return append(w, d)
}

// Has reports whether d is in w.
func (w Weekdays) Has(d time.Weekday) bool {
	for _, x := range w {
		if x == d {
			return true
		}
	}
	return false
}

// String returns the days as "mon,wed,fri".
func (w Weekdays) String() string {
	names := make([]string, len(w))
	for i, d := range w {
		names[i] = weekdayName(d)
	}
	return strings.Join(names, ",")
}

func weekdayName(d time.Weekday) string {
	if d < 0 || d > 6 {
		return strconv.Itoa(int(d))
	}
	return weekdayNames[d]
}

// MarshalJSON writes the days as names.
func (w Weekdays) MarshalJSON() ([]byte, error) {
	names := make([]string, len(w))
	for i, d := range w {
		if d < 0 || d > 6 {
			return nil, fmt.Errorf("weekday %d is out of range; allowed 0 (Sunday) to 6 (Saturday)", d)
		}
		names[i] = weekdayNames[d]
	}
	return json.Marshal(names)
}

// UnmarshalJSON reads a list of day names.
func (w *Weekdays) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("want a list of day names like [\"mon\",\"tue\"]: %w", err)
	}
	if names == nil {
		*w = nil
		return nil
	}
	out := make(Weekdays, 0, len(names))
	for _, n := range names {
		d, err := ParseWeekday(n)
		if err != nil {
			return err
		}
		out = append(out, d)
	}
	*w = out
	return nil
}

// clock is a wall-clock time of day in minutes since midnight.
type clock int

// parseClock parses "HH:MM" in 24-hour time, 00:00 to 23:59.
func parseClock(s string) (clock, error) {
	h, m, ok := strings.Cut(s, ":")
	if ok && len(h) == 2 && len(m) == 2 {
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if err1 == nil && err2 == nil && hh >= 0 && hh < 24 && mm >= 0 && mm < 60 {
			return clock(hh*60 + mm), nil
		}
	}
	return 0, fmt.Errorf("%q is not a time of day; write it as HH:MM in 24-hour time, 00:00 to 23:59", s)
}

func clockOf(t time.Time) clock { return clock(t.Hour()*60 + t.Minute()) }

// isoWeek reports whether s is an ISO 8601 week like "2026-W09".
func isoWeek(s string) bool {
	y, w, ok := strings.Cut(s, "-W")
	if !ok || len(y) != 4 || len(w) != 2 {
		return false
	}
	yy, err1 := strconv.Atoi(y)
	ww, err2 := strconv.Atoi(w)
	if err1 != nil || err2 != nil || yy < 1 || ww < 1 {
		return false
	}
	// 28 December is always in the year's last ISO week.
	_, last := time.Date(yy, time.December, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return ww <= last
}

// WeekOf returns the ISO 8601 week of t, like "2026-W09", as used by goal tasks.
func WeekOf(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}
