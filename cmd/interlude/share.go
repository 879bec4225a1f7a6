package main

// Sharing entry by entry: share, unshare, list --shared (docs/sharing.md). Nothing is
// shared unless one of these commands (or submit, message, assign) says so.

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"interlude/client"
	"interlude/journal"
	"interlude/syncproto"
)

// contactNames maps every contact's account to the name shown for it.
func contactNames(c *cli, cl *client.Client) (map[syncproto.AccountID]string, error) {
	cts, err := cl.Contacts(c.ctx)
	if err != nil {
		return nil, err
	}
	m := map[syncproto.AccountID]string{}
	for _, ct := range cts {
		m[ct.Account] = displayName(ct)
	}
	return m, nil
}

func nameOf(names map[syncproto.AccountID]string, a syncproto.AccountID) string {
	if n, ok := names[a]; ok {
		return n
	}
	return a.String()
}

// sharing fills in the view's sharing fields.
func (v *entryView) sharing(e *client.Entry, names map[syncproto.AccountID]string) {
	if isFrom(e, names) {
		v.From = nameOf(names, e.Owner)
		if !e.Expires.IsZero() {
			v.Expires = e.Expires.UTC().Format(time.RFC3339)
		}
	}
	v.Level = e.Derived
	if e.Derived != "" {
		v.Source = e.Source.String()
	}
	for _, a := range e.SharedWith {
		v.SharedWith = append(v.SharedWith, nameOf(names, a))
	}
}

// isFrom reports whether e was shared with this account by a contact.
func isFrom(e *client.Entry, names map[syncproto.AccountID]string) bool {
	_, ok := names[e.Owner]
	return ok
}

// expiryFlag reads --expires: a day (the share ends when that day ends, local time) or
// an RFC 3339 instant.
func expiryFlag(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := journal.ParseDay(v)
	if err != nil {
		return time.Time{}, usageErr("--expires %q: give a day (YYYY-MM-DD: the share ends when that day ends) or an RFC 3339 time", v)
	}
	t := d.Time(now.Location()).AddDate(0, 0, 1)
	if !t.After(now) {
		return time.Time{}, usageErr("--expires %s is in the past", v)
	}
	return t, nil
}

type shareJSON struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Day     string `json:"day"`
	With    string `json:"with"`
	Account string `json:"account"`
	Level   string `json:"level"`
	Source  string `json:"source,omitempty"`
	Expires string `json:"expires,omitempty"`
	Pending bool   `json:"pending"`
}

func (c *cli) listShared(cl *client.Client) error {
	shares, err := cl.Shares(c.ctx)
	if err != nil {
		return err
	}
	names, err := contactNames(c, cl)
	if err != nil {
		return err
	}
	out := []shareJSON{}
	for _, s := range shares {
		j := shareJSON{ID: s.Record.String(), With: nameOf(names, s.Recipient), Account: s.Recipient.String(), Level: s.Level, Pending: s.Pending}
		if !s.Expires.IsZero() {
			j.Expires = s.Expires.UTC().Format(time.RFC3339)
		}
		if !s.Source.IsZero() {
			j.Source = s.Source.String()
		}
		if e, err := cl.Get(c.ctx, s.Record); err == nil {
			v := view(e.ID, e.Revision, e.Synced, e.Conflict, e.Plaintext)
			j.Kind, j.Day = v.Kind, v.Day
		}
		out = append(out, j)
	}
	sort.SliceStable(out, func(i, k int) bool { return out[i].With < out[k].With })
	return c.out(out, func(w io.Writer) {
		if len(out) == 0 {
			fmt.Fprintln(w, "You share nothing. Share an entry with `interlude share ID --with NAME`.")
			return
		}
		for _, j := range out {
			fmt.Fprintf(w, "%s  %s  %-14s with %s", j.ID, j.Day, j.Kind, j.With)
			if j.Level != "full" {
				fmt.Fprintf(w, " (%s only, of %s)", j.Level, j.Source)
			}
			if j.Expires != "" {
				fmt.Fprintf(w, " until %s", j.Expires)
			}
			if j.Pending {
				fmt.Fprint(w, " [not synced yet]")
			}
			fmt.Fprintln(w)
		}
	})
}

func cmdShare(c *cli, args []string) error {
	fs := c.flags("share")
	with := fs.String("with", "", "the contact to share with (see `interlude contacts`)")
	expires := fs.String("expires", "", "end the share when this day ends (YYYY-MM-DD), or at an RFC 3339 time")
	scores := fs.Bool("scores-only", false, "check-ins and measures: share only the numbers, never the notes")
	filter := entryFilter{
		kind:  fs.String("kind", "", "share every entry of this kind (with --since/--until)"),
		since: fs.String("since", "", "with --kind: entries of this day (YYYY-MM-DD) or later"),
		until: fs.String("until", "", "with --kind: entries of this day (YYYY-MM-DD) or earlier"),
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *with == "" {
		return usageErr("say who to share with: --with NAME (see `interlude contacts`)")
	}
	batch := *filter.kind != "" || *filter.since != "" || *filter.until != ""
	switch {
	case batch && len(pos) > 0:
		return usageErr("give entry IDs or --kind/--since, not both")
	case !batch && len(pos) == 0:
		return usageErr("name the entries to share (IDs from `interlude list`), or choose them with --kind K [--since DAY] [--until DAY]")
	case batch && *filter.kind == "":
		return usageErr("sharing many entries at once needs --kind (e.g. --kind checkin --since 2026-03-01)")
	}
	if err := filter.checkDays(); err != nil {
		return err
	}
	ids, err := parseIDs(pos)
	if err != nil {
		return err
	}
	exp, err := expiryFlag(*expires, c.now())
	if err != nil {
		return err
	}
	cl, ct, err := c.openContact(*with)
	if err != nil {
		return err
	}
	defer cl.Close()
	if batch {
		entries, err := cl.List(c.ctx, client.ListFilter{})
		if err != nil {
			return err
		}
		for _, e := range entries {
			if filter.match(view(e.ID, e.Revision, e.Synced, e.Conflict, e.Plaintext)) {
				ids = append(ids, e.ID)
			}
		}
	}
	type result struct {
		ID     string `json:"id"`
		Shared string `json:"shared"` // the record shared: the entry, or its scores-only copy
		Level  string `json:"level"`
	}
	out := []result{}
	opts := client.ShareOptions{Expires: exp}
	for _, id := range ids {
		r := result{ID: id.String(), Shared: id.String(), Level: "full"}
		if *scores {
			d, err := cl.ShareScoresOnly(c.ctx, id, ct.Account, opts)
			if err != nil {
				return shareErr(err, ct)
			}
			r.Shared, r.Level = d.String(), client.LevelScores
		} else if err := cl.Share(c.ctx, id, ct.Account, opts); err != nil {
			return shareErr(err, ct)
		}
		out = append(out, r)
	}
	return c.out(out, func(w io.Writer) {
		what := "Shared"
		if *scores {
			what = "Shared the scores (no notes) of"
		}
		fmt.Fprintf(w, "%s %s with %s", what, plural(len(out), "entry", "entries"), displayName(*ct))
		if !exp.IsZero() {
			fmt.Fprintf(w, " until %s", exp.Local().Format("2006-01-02 15:04"))
		}
		fmt.Fprintln(w, ". `interlude sync` sends it; `interlude unshare ID --with NAME` takes it back.")
	})
}

// shareErr explains a refused share.
func shareErr(err error, ct *client.Contact) error {
	switch {
	case errors.Is(err, client.ErrKeyChanged):
		return &exitErr{code: exitError, msg: fmt.Sprintf("WARNING: %s's keys have changed since you paired in person, so nothing new is shared with them.\n"+
			"Pair again in person to check who holds those keys (`interlude pair invite` / `interlude pair accept CODE`).", displayName(*ct))}
	case errors.Is(err, client.ErrNotPaired):
		return &exitErr{code: exitError, msg: fmt.Sprintf("not paired with %s yet (%s): complete the pairing first", displayName(*ct), contactState(*ct))}
	}
	return err
}

func cmdUnshare(c *cli, args []string) error {
	fs := c.flags("unshare")
	with := fs.String("with", "", "the contact to stop sharing with")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *with == "" || len(pos) == 0 {
		return usageErr("interlude unshare ID... --with NAME")
	}
	ids, err := parseIDs(pos)
	if err != nil {
		return err
	}
	cl, ct, err := c.openContact(*with)
	if err != nil {
		return err
	}
	defer cl.Close()
	var was []string
	for _, id := range ids {
		had, err := cl.Unshare(c.ctx, id, ct.Account)
		if err != nil {
			return err
		}
		if had {
			was = append(was, id.String())
		}
	}
	return c.out(map[string]any{"unshared": pos, "were_shared": was}, func(w io.Writer) {
		if len(was) == 0 {
			fmt.Fprintf(w, "%s was not shared with %s (a revoke is sent anyway).\n", strings.Join(pos, ", "), displayName(*ct))
			return
		}
		fmt.Fprintf(w, "Stopped sharing %s with %s. Their device deletes its copy when it next syncs (after `interlude sync` here).\n",
			plural(len(was), "entry", "entries"), displayName(*ct))
	})
}
