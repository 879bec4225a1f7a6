package main

// Check-in and homework reminders. They live in reminders.json in the profile directory
// (0600) and hold times only: kinds, times of day, days of the week, quiet hours and when
// reminders were last checked; never entry content. They fire on this device, in
// `interlude sync --watch` and `interlude reminders due`; nothing is sent anywhere.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"interlude/journal"
)

const remindersFile = "reminders.json"

// reminderSettings is the content of reminders.json.
type reminderSettings struct {
	Reminders []journal.Reminder `json:"reminders"`
	Quiet     journal.QuietHours `json:"quiet"`
	// Checked is when due reminders were last looked for; occurrences up to it are done.
	Checked time.Time `json:"checked,omitzero"`
}

func (c *cli) remindersPath() (string, error) {
	home, err := c.homeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, remindersFile), nil
}

// loadReminders reads reminders.json; a missing file is no reminders.
func (c *cli) loadReminders() (*reminderSettings, error) {
	path, err := c.remindersPath()
	if err != nil {
		return nil, err
	}
	s := &reminderSettings{}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v): fix it, or delete it and set your reminders again", path, err)
	}
	return s, nil
}

// saveReminders writes reminders.json atomically (a temporary file renamed over it), 0600.
func (c *cli) saveReminders(s *reminderSettings) error {
	path, err := c.remindersPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".reminders-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

const remindersUsage = `usage:
  interlude reminders [list]
  interlude reminders add --kind checkin|homework --at HH:MM [--days mon,tue,...]
  interlude reminders remove N
  interlude reminders quiet --from HH:MM --to HH:MM   (or --off)
  interlude reminders due
Reminders are kept on this device only, in reminders.json in the profile directory
(times only, no entry content). ` + "`interlude sync --watch`" + ` shows them when due.`

func cmdReminders(c *cli, args []string) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(c.stdout, remindersUsage)
		return nil
	}
	sub, rest := "list", args
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		sub, rest = args[0], args[1:]
	}
	switch sub {
	case "list":
		return remindersList(c, rest)
	case "add":
		return remindersAdd(c, rest)
	case "remove", "rm":
		return remindersRemove(c, rest)
	case "quiet":
		return remindersQuiet(c, rest)
	case "due":
		return remindersDue(c, rest)
	}
	return usageErr("unknown reminders command %q\n%s", sub, remindersUsage)
}

// parseReminderFlags parses a reminders command that takes flags only.
func parseReminderFlags(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("unexpected argument %q\n%s", pos[0], remindersUsage)
	}
	return nil
}

type remindersJSON struct {
	Reminders []reminderJSON `json:"reminders"`
	Quiet     *quietJSON     `json:"quiet"`
}

type reminderJSON struct {
	N    int    `json:"n"` // for `reminders remove N`
	Kind string `json:"kind"`
	Time string `json:"time"`
	Days string `json:"days"` // "mon,wed"; "" means every day
}

type quietJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func quietOn(q journal.QuietHours) bool { return q.Start != "" && q.Start != q.End }

func remindersList(c *cli, args []string) error {
	fs := c.flags("reminders list")
	if err := parseReminderFlags(fs, args); err != nil {
		return err
	}
	s, err := c.loadReminders()
	if err != nil {
		return err
	}
	j := remindersJSON{Reminders: []reminderJSON{}}
	for i, r := range s.Reminders {
		j.Reminders = append(j.Reminders, reminderJSON{i + 1, r.Kind, r.Time, r.Days.String()})
	}
	if quietOn(s.Quiet) {
		j.Quiet = &quietJSON{s.Quiet.Start, s.Quiet.End}
	}
	return c.out(j, func(w io.Writer) {
		if len(j.Reminders) == 0 {
			fmt.Fprintln(w, "No reminders. Add one with `interlude reminders add --kind checkin --at 20:00`.")
		}
		for _, r := range j.Reminders {
			fmt.Fprintf(w, "%d. %-8s at %s %s%s\n", r.N, r.Kind, r.Time, daysText(r.Days), quietMark(s.Quiet, r.Time))
		}
		if j.Quiet != nil {
			fmt.Fprintf(w, "Quiet hours: %s to %s (no reminders then).\n", j.Quiet.From, j.Quiet.To)
		}
	})
}

func daysText(days string) string {
	if days == "" {
		return "every day"
	}
	return "on " + days
}

func remindersAdd(c *cli, args []string) error {
	fs := c.flags("reminders add")
	kind := fs.String("kind", "", "what to be reminded of: checkin or homework")
	at := fs.String("at", "", "time of day, HH:MM (24-hour, local time)")
	days := fs.String("days", "", "days of the week, like mon,wed,fri or mon-fri (default: every day)")
	if err := parseReminderFlags(fs, args); err != nil {
		return err
	}
	r := journal.Reminder{Kind: *kind, Time: *at}
	if *days != "" {
		d, err := journal.ParseWeekdays(*days)
		if err != nil {
			return usageErr("--days: %v", err)
		}
		r.Days = d
	}
	if err := r.Validate(); err != nil {
		return buildErr(reminderFlagErr(err))
	}
	s, err := c.loadReminders()
	if err != nil {
		return err
	}
	for i, x := range s.Reminders {
		if x.Kind == r.Kind && x.Time == r.Time && x.Days.String() == r.Days.String() {
			return usageErr("reminder %d is already a %s reminder at %s %s", i+1, r.Kind, r.Time, daysText(r.Days.String()))
		}
	}
	s.Reminders = append(s.Reminders, r)
	// A new reminder first fires at its next time, not for a time already past today.
	s.Checked = c.now()
	if err := c.saveReminders(s); err != nil {
		return err
	}
	n := len(s.Reminders)
	return c.out(reminderJSON{n, r.Kind, r.Time, r.Days.String()}, func(w io.Writer) {
		fmt.Fprintf(w, "Reminder %d: %s at %s %s, on this device. `interlude sync --watch` shows it when due.\n",
			n, r.Kind, r.Time, daysText(r.Days.String()))
		if m := quietMark(s.Quiet, r.Time); m != "" {
			fmt.Fprintf(w, "Note: %s is inside your quiet hours (%s to %s), so this reminder will not show.\n", r.Time, s.Quiet.Start, s.Quiet.End)
		}
	})
}

// clockTime is today at HH:MM (only its time of day matters).
func clockTime(hhmm string) time.Time {
	t, _ := time.Parse("15:04", hhmm)
	return t
}

// reminderFlagErr names the flags in a Reminder's field errors.
func reminderFlagErr(err error) error {
	for _, fe := range journal.FieldErrors(err) {
		switch fe.Field {
		case "kind":
			fe.Flag = "kind"
		case "time":
			fe.Flag = "at"
		case "start":
			fe.Flag = "from"
		case "end":
			fe.Flag = "to"
		}
	}
	return err
}

func remindersRemove(c *cli, args []string) error {
	fs := c.flags("reminders remove")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	s, err := c.loadReminders()
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("give the number of the reminder to remove (see `interlude reminders list`)")
	}
	n, err := strconv.Atoi(pos[0])
	if err != nil || n < 1 || n > len(s.Reminders) {
		return usageErr("%q is not a reminder number; you have %s (see `interlude reminders list`)",
			pos[0], plural(len(s.Reminders), "reminder", "reminders"))
	}
	r := s.Reminders[n-1]
	s.Reminders = append(s.Reminders[:n-1], s.Reminders[n:]...)
	if err := c.saveReminders(s); err != nil {
		return err
	}
	return c.out(map[string]any{"removed": reminderJSON{n, r.Kind, r.Time, r.Days.String()}}, func(w io.Writer) {
		fmt.Fprintf(w, "Removed reminder %d (%s at %s %s).\n", n, r.Kind, r.Time, daysText(r.Days.String()))
	})
}

func remindersQuiet(c *cli, args []string) error {
	fs := c.flags("reminders quiet")
	from := fs.String("from", "", "start of quiet hours, HH:MM (local time)")
	to := fs.String("to", "", "end of quiet hours, HH:MM; before --from means the next morning")
	off := fs.Bool("off", false, "no quiet hours")
	if err := parseReminderFlags(fs, args); err != nil {
		return err
	}
	var q journal.QuietHours
	switch {
	case *off && (*from != "" || *to != ""):
		return usageErr("give either --off or --from and --to")
	case !*off:
		if *from == "" || *to == "" {
			return usageErr("give --from HH:MM and --to HH:MM, e.g. --from 22:00 --to 07:00 (or --off)")
		}
		if *from == *to {
			return usageErr("--from and --to are the same time; to turn quiet hours off, use --off")
		}
		q = journal.QuietHours{Start: *from, End: *to}
		if err := q.Validate(); err != nil {
			return buildErr(reminderFlagErr(err))
		}
	}
	s, err := c.loadReminders()
	if err != nil {
		return err
	}
	s.Quiet = q
	if err := c.saveReminders(s); err != nil {
		return err
	}
	var j *quietJSON
	if quietOn(q) {
		j = &quietJSON{q.Start, q.End}
	}
	return c.out(map[string]any{"quiet": j}, func(w io.Writer) {
		if j == nil {
			fmt.Fprintln(w, "Quiet hours off.")
			return
		}
		fmt.Fprintf(w, "Quiet hours: %s to %s. Reminders that fall then are skipped, not delayed.\n", q.Start, q.End)
		for i, r := range s.Reminders {
			if m := quietMark(q, r.Time); m != "" {
				fmt.Fprintf(w, "Reminder %d (%s at %s)%s.\n", i+1, r.Kind, r.Time, m)
			}
		}
	})
}

// quietMark notes a reminder time inside the quiet hours.
func quietMark(q journal.QuietHours, hhmm string) string {
	if quietOn(q) && q.Contains(clockTime(hhmm)) {
		return " (inside quiet hours: will not show)"
	}
	return ""
}

type dueJSON struct {
	Kind string `json:"kind"`
	Time string `json:"time"`
	Days string `json:"days"`
}

// checkReminders returns the reminders due since the last check and records the check.
func (c *cli) checkReminders() ([]journal.Reminder, error) {
	s, err := c.loadReminders()
	if err != nil || len(s.Reminders) == 0 {
		return nil, err
	}
	now := c.now()
	last := s.Checked
	if last.IsZero() {
		last = now
	}
	due := journal.DueReminders(s.Reminders, s.Quiet, last, now)
	// Re-read just before writing, so that a change made meanwhile by another command
	// (reminders add, remove, quiet) is kept.
	if s, err = c.loadReminders(); err != nil {
		return nil, err
	}
	s.Checked = now
	return due, c.saveReminders(s)
}

func remindersDue(c *cli, args []string) error {
	fs := c.flags("reminders due")
	if err := parseReminderFlags(fs, args); err != nil {
		return err
	}
	due, err := c.checkReminders()
	if err != nil {
		return err
	}
	js := []dueJSON{}
	for _, r := range due {
		js = append(js, dueJSON{r.Kind, r.Time, r.Days.String()})
	}
	return c.out(js, func(w io.Writer) {
		if len(due) == 0 {
			fmt.Fprintln(w, "Nothing due.")
		}
		for _, r := range due {
			fmt.Fprintln(w, reminderText(r))
		}
	})
}

func reminderText(r journal.Reminder) string {
	switch r.Kind {
	case journal.ReminderCheckin:
		return fmt.Sprintf("Reminder (%s): time for a check-in. `interlude add checkin` takes under a minute.", r.Time)
	case journal.ReminderHomework:
		return fmt.Sprintf("Reminder (%s): time for your homework.", r.Time)
	}
	return fmt.Sprintf("Reminder (%s): %s.", r.Time, r.Kind)
}

// remindWhileWatching shows reminders as they come due while `sync --watch` runs: at once,
// then just after every minute turns. It returns a function that stops it and waits.
func (c *cli) remindWhileWatching() (stop func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lastErr := ""
		for {
			due, err := c.checkReminders()
			if err != nil && err.Error() != lastErr { // say it once, not every minute
				c.note("interlude: reminders: %v", err)
			}
			lastErr = ""
			if err != nil {
				lastErr = err.Error()
			}
			for _, r := range due {
				if c.json {
					json.NewEncoder(c.stdout).Encode(map[string]dueJSON{"reminder": {r.Kind, r.Time, r.Days.String()}})
				} else {
					fmt.Fprintln(c.stdout, reminderText(r))
				}
			}
			now := c.now()
			wait := now.Truncate(time.Minute).Add(time.Minute + 100*time.Millisecond).Sub(now)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}()
	return func() { cancel(); <-done }
}
