package journal

import (
	"errors"
	"fmt"
	"time"
)

// Reminder kinds.
const (
	ReminderCheckin  = "checkin"
	ReminderHomework = "homework"
)

// Reminder is a local reminder at a time of day on some days of the week.
// Reminders fire on the device only; their text never goes into a push
// payload.
type Reminder struct {
	Kind string   `json:"kind"` // "checkin" or "homework"
	Time string   `json:"time"` // "HH:MM", local time
	Days Weekdays `json:"days,omitempty"`
	// Days empty means every day.
}

// Validate checks the kind and time.
func (r Reminder) Validate() error {
	c := &checker{}
	c.oneOf("kind", r.Kind, []string{ReminderCheckin, ReminderHomework}, true)
	c.clockText("time", r.Time, true)
	return c.err()
}

// QuietHours is a daily window, Start to End ("HH:MM", local time), in which
// no reminder fires. A window whose end is before its start spans midnight
// ("22:00" to "07:00"). The zero value, or Start equal to End, means none.
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Validate checks both times.
func (q QuietHours) Validate() error {
	if q == (QuietHours{}) {
		return nil
	}
	c := &checker{}
	c.clockText("start", q.Start, true)
	c.clockText("end", q.End, true)
	if err := c.err(); err != nil {
		return fmt.Errorf("quiet hours: %w", err)
	}
	return nil
}

// Contains reports whether t's local time of day is inside the quiet hours.
func (q QuietHours) Contains(t time.Time) bool { return q.contains(clockOf(t)) }

func (q QuietHours) contains(c clock) bool {
	start, err1 := parseClock(q.Start)
	end, err2 := parseClock(q.End)
	if err := errors.Join(err1, err2); err != nil || start == end {
		return false
	}
	if start < end {
		return c >= start && c < end
	}
	return c >= start || c < end // spans midnight
}

// lookback bounds how far back DueReminders looks: more than a week covers
// every weekly reminder, however long the device was off.
const lookback = 8 * 24 * time.Hour

// DueReminders returns the reminders with an occurrence after last and at or
// before now, each at most once, in the order given. Times are read in now's
// location. Occurrences inside quiet hours are dropped, not delayed, and
// nothing is due while now itself is inside quiet hours; the caller then sets
// last to now. Invalid reminders and invalid quiet hours (see Validate) are
// ignored.
func DueReminders(rs []Reminder, q QuietHours, last, now time.Time) []Reminder {
	if !now.After(last) || q.Contains(now) {
		return nil
	}
	loc := now.Location()
	from := last.In(loc)
	if now.Sub(from) > lookback {
		from = now.Add(-lookback)
	}
	firstDay := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	var due []Reminder
	for _, r := range rs {
		if r.Validate() != nil {
			continue
		}
		c, _ := parseClock(r.Time)
		if q.contains(c) {
			continue
		}
		for day := firstDay; !day.After(now); day = day.AddDate(0, 0, 1) {
			at := time.Date(day.Year(), day.Month(), day.Day(), int(c)/60, int(c)%60, 0, 0, loc)
			if at.After(last) && !at.After(now) && (len(r.Days) == 0 || r.Days.Has(at.Weekday())) {
				due = append(due, r)
				break
			}
		}
	}
	return due
}
