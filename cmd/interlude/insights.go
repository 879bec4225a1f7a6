package main

// What trends, summary, the export reports and reminders share (issue 6): the clock,
// reading entries as journal documents, date flags, and private output files.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"interlude/client"
	"interlude/journal"
)

// envNow is for tests only: an RFC 3339 instant ("2026-03-02T21:14:00-05:00") the clock
// starts at. It then runs on, in that instant's offset, so `sync --watch` still sees
// reminders come due. Entries written meanwhile are dated by it.
const envNow = "INTERLUDE_NOW"

var (
	clockStarts sync.Map // INTERLUDE_NOW value → when this process first read it
	badNowOnce  sync.Once
)

// now returns the time, from INTERLUDE_NOW when it is set (tests only).
func (c *cli) now() time.Time {
	v := c.getenv(envNow)
	if v == "" {
		return time.Now()
	}
	base, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		badNowOnce.Do(func() {
			c.note("interlude: ignoring %s=%q (want RFC 3339, like 2026-03-02T21:14:00-05:00); using the real clock", envNow, v)
		})
		return time.Now()
	}
	start, _ := clockStarts.LoadOrStore(v, time.Now())
	return base.Add(time.Since(start.(time.Time)))
}

// dayFlag parses an optional YYYY-MM-DD flag value; def is used when it is empty.
func dayFlag(name, v string, def journal.Day) (journal.Day, error) {
	if v == "" {
		return def, nil
	}
	d, err := journal.ParseDay(v)
	if err != nil {
		return "", usageErr("--%s: %v", name, err)
	}
	return d, nil
}

// journalEntries reads decrypted entries as journal documents, with Entry.ID set to the
// record ID so that responses find their assignments. Entries that are not journal
// documents this version can read (a newer format, say) are counted, not returned.
func journalEntries(es []*client.Entry) (out []*journal.Entry, unreadable int) {
	for _, ce := range es {
		e, err := journal.Unmarshal(ce.Plaintext)
		if err != nil {
			unreadable++
			continue
		}
		e.ID = ce.ID.String()
		out = append(out, e)
	}
	return out, unreadable
}

// ownEntries returns the account's own entries on this device as journal documents (not
// what others shared with it, nor the copies made for sharing).
func ownEntries(ctx context.Context, cl *client.Client) ([]*journal.Entry, int, error) {
	es, err := cl.List(ctx, client.ListFilter{})
	if err != nil {
		return nil, 0, err
	}
	js, unreadable := journalEntries(es)
	return js, unreadable, nil
}

// noteUnreadable says that some entries were left out of a computation.
func (c *cli) noteUnreadable(n int) {
	if n > 0 {
		c.note("%s written by a newer version of Interlude (or not a journal entry) left out; update Interlude to include them.",
			plural(n, "entry", "entries"))
	}
}

// privateFile is a new output file holding decrypted data: created 0600, never over an
// existing file, and removed again unless Keep is called.
type privateFile struct {
	*os.File
	kept bool
}

func createPrivate(path string) (*privateFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%s already exists; choose another name (nothing was written)", path)
		}
		return nil, err
	}
	return &privateFile{File: f}, nil
}

// Keep closes the file and keeps it.
func (f *privateFile) Keep() error {
	if err := f.Close(); err != nil {
		return err
	}
	f.kept = true
	return nil
}

// Discard removes the file unless it was kept.
func (f *privateFile) Discard() {
	if f == nil || f.kept {
		return
	}
	f.Close()
	os.Remove(f.Name())
}
