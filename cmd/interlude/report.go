package main

// `interlude export --html FILE --csv FILE`: the readable, printable report and the CSV of
// check-ins and scores, so a person can take their history to any clinician.

import (
	"flag"
	"fmt"

	"interlude/client"
	"interlude/journal"
)

// reportFlags are export's --html and --csv.
type reportFlags struct {
	html, csv *string
}

func addReportFlags(fs *flag.FlagSet) reportFlags {
	return reportFlags{
		html: fs.String("html", "", "also write a readable, printable report (HTML, self-contained) to this new file (0600)"),
		csv:  fs.String("csv", "", "also write check-ins and measure scores as CSV (numbers only) to this new file (0600)"),
	}
}

func (r reportFlags) given() bool { return *r.html != "" || *r.csv != "" }

// write writes the requested report files from the account's own entries. Both files are
// created before anything is written, so an existing file stops the export with nothing
// written; a failure removes what this export created.
func (r reportFlags) write(c *cli, cl *client.Client) error {
	if *r.html != "" && *r.html == *r.csv {
		return usageErr("--html and --csv name the same file")
	}
	entries, unreadable, err := ownEntries(c.ctx, cl)
	if err != nil {
		return err
	}
	c.noteUnreadable(unreadable)
	type output struct {
		path, what string
		write      func(*privateFile) error
		f          *privateFile
	}
	var outs []*output
	if *r.html != "" {
		outs = append(outs, &output{path: *r.html, what: "a printable report (open it in a web browser)", write: func(f *privateFile) error {
			title := "Interlude journal, exported " + string(journal.DayOf(c.now()))
			return journal.WriteHTMLReport(f, entries, title)
		}})
	}
	if *r.csv != "" {
		outs = append(outs, &output{path: *r.csv, what: "check-ins and measure scores as CSV", write: func(f *privateFile) error {
			return journal.WriteCSV(f, entries)
		}})
	}
	for _, o := range outs {
		if o.f, err = createPrivate(o.path); err != nil {
			break
		}
		defer o.f.Discard()
	}
	if err != nil {
		return err
	}
	for _, o := range outs {
		if err := o.write(o.f); err != nil {
			return fmt.Errorf("write %s: %w", o.path, err)
		}
	}
	for _, o := range outs {
		if err := o.f.Keep(); err != nil {
			return fmt.Errorf("write %s: %w", o.path, err)
		}
	}
	for _, o := range outs {
		c.note("Wrote %s to %s.", o.what, o.path)
	}
	c.note("These files are NOT encrypted: keep them private, and delete them when you no longer need them.")
	return nil
}
