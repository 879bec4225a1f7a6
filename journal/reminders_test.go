package journal

import (
	"reflect"
	"testing"
	"time"
)

func TestDueReminders(t *testing.T) {
	// 2026-03-02 is a Monday. Times are local (UTC−5).
	mon := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, est) }
	day := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, est) }
	evening := Reminder{Kind: ReminderCheckin, Time: "21:00"}
	late := Reminder{Kind: ReminderCheckin, Time: "23:30"}                                        // inside quiet hours
	early := Reminder{Kind: ReminderHomework, Time: "06:30"}                                      // inside quiet hours, after midnight
	mondayMorning := Reminder{Kind: ReminderHomework, Time: "07:00", Days: Weekdays{time.Monday}} // the minute quiet hours end
	weekend := Reminder{Kind: ReminderCheckin, Time: "10:00", Days: Weekdays{time.Saturday, time.Sunday}}
	broken := Reminder{Kind: ReminderCheckin, Time: "25:00"}
	all := []Reminder{evening, late, early, mondayMorning, weekend, broken}
	overnight := QuietHours{Start: "22:00", End: "07:00"}

	tests := []struct {
		name      string
		quiet     QuietHours
		last, now time.Time
		want      []Reminder
	}{
		{"evening due", overnight, mon(20, 0), mon(21, 5), []Reminder{evening}},
		{"exactly at the time", overnight, mon(20, 0), mon(21, 0), []Reminder{evening}},
		{"already delivered", overnight, mon(21, 0), mon(21, 30), nil},
		{"now inside quiet hours", overnight, mon(20, 0), mon(23, 45), nil},
		{"now after midnight, inside", overnight, mon(21, 5), day(3, 2, 0), nil},
		{"overnight: late and early suppressed", overnight, mon(21, 5), day(3, 7, 10), nil},
		{"monday 07:00 is outside quiet hours", overnight, day(1, 21, 30), mon(7, 10), []Reminder{mondayMorning}},
		{"weekend only", overnight, day(6, 9, 0), day(6, 11, 0), nil},
		{"weekend on saturday", overnight, day(7, 9, 0), day(7, 11, 0), []Reminder{weekend}},
		{"device off a long time: each once", overnight, time.Time{}, mon(21, 5), []Reminder{evening, mondayMorning, weekend}},
		{"no quiet hours", QuietHours{}, mon(21, 5), day(3, 7, 10), []Reminder{late, early}},
		{"daytime quiet hours", QuietHours{Start: "20:30", End: "21:30"}, mon(20, 0), mon(22, 0), nil},
		{"now before last", overnight, mon(22, 0), mon(21, 0), nil},
		{"invalid quiet hours ignored", QuietHours{Start: "7pm", End: "8pm"}, mon(20, 0), mon(21, 5), []Reminder{evening}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DueReminders(all, tt.quiet, tt.last, tt.now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DueReminders = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestQuietHoursContains(t *testing.T) {
	clockAt := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, est) }
	tests := []struct {
		q    QuietHours
		h, m int
		want bool
	}{
		{QuietHours{"22:00", "07:00"}, 22, 0, true},
		{QuietHours{"22:00", "07:00"}, 23, 59, true},
		{QuietHours{"22:00", "07:00"}, 0, 0, true},
		{QuietHours{"22:00", "07:00"}, 6, 59, true},
		{QuietHours{"22:00", "07:00"}, 7, 0, false},
		{QuietHours{"22:00", "07:00"}, 21, 59, false},
		{QuietHours{"12:00", "13:00"}, 12, 30, true},
		{QuietHours{"12:00", "13:00"}, 13, 0, false},
		{QuietHours{"12:00", "12:00"}, 12, 0, false},
		{QuietHours{}, 3, 0, false},
	}
	for _, tt := range tests {
		if got := tt.q.Contains(clockAt(tt.h, tt.m)); got != tt.want {
			t.Errorf("%+v.Contains(%02d:%02d) = %v, want %v", tt.q, tt.h, tt.m, got, tt.want)
		}
	}
}

func TestReminderValidate(t *testing.T) {
	if err := (Reminder{Kind: ReminderCheckin, Time: "08:30"}).Validate(); err != nil {
		t.Errorf("valid reminder: %v", err)
	}
	for _, r := range []Reminder{{Kind: "mood", Time: "08:30"}, {Kind: ReminderCheckin, Time: "8:30"}, {Kind: ReminderCheckin, Time: "24:00"}, {}} {
		if r.Validate() == nil {
			t.Errorf("%+v validated", r)
		}
	}
	if err := (QuietHours{Start: "22:00", End: "7:00"}).Validate(); err == nil {
		t.Error("quiet hours 7:00 validated")
	}
	if err := (QuietHours{}).Validate(); err != nil {
		t.Errorf("no quiet hours: %v", err)
	}
}
