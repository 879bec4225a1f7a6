package main

// Messages between a client and a clinician (a "message" entry owned by its author and
// shared with the other side), and the clinician's stated availability (an
// "availability" entry shared with each client): an asynchronous channel with
// boundaries, not a 24/7 line.
//
// Reply-only mode is kept by the client's app: a client may only reply to the
// clinician's last message. It is a courtesy boundary, not a security one: the server
// cannot read messages, so it cannot enforce it, and a modified client could ignore it.

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"interlude/client"
	"interlude/journal"
	"interlude/syncproto"
)

type messageJSON struct {
	ID      string `json:"id"`
	From    string `json:"from"` // "me" or the contact's name
	Mine    bool   `json:"mine"`
	Created string `json:"created"`
	Text    string `json:"text"`
	ReplyTo string `json:"reply_to,omitempty"`
	Synced  bool   `json:"synced"`

	at time.Time
}

type availabilityJSON struct {
	ID           string   `json:"id"`
	From         string   `json:"from,omitempty"`
	Hours        []string `json:"hours,omitempty"`
	ReplyOnly    bool     `json:"reply_only"`
	ResponseTime string   `json:"response_time,omitempty"`
	TimeZone     string   `json:"time_zone,omitempty"`
	Note         string   `json:"note,omitempty"`
	Within       bool     `json:"within_hours_now"`

	body *journal.Availability
}

// latestOf returns the entry with the latest created time.
func latestOf(es []*client.Entry) (*client.Entry, *journal.Entry) {
	var best *client.Entry
	var bestDoc *journal.Entry
	for _, e := range es {
		d := docOf(e)
		if d == nil {
			continue
		}
		if bestDoc == nil || d.Created.After(bestDoc.Created) || (d.Created.Equal(bestDoc.Created) && e.ID.String() > best.ID.String()) {
			best, bestDoc = e, d
		}
	}
	return best, bestDoc
}

func availabilityOut(e *client.Entry, d *journal.Entry, from string, now time.Time) *availabilityJSON {
	av := d.Body.(*journal.Availability)
	j := &availabilityJSON{ID: e.ID.String(), From: from, ReplyOnly: av.ReplyOnly, ResponseTime: av.ResponseTime, TimeZone: av.TimeZone,
		Note: av.Note, body: av}
	for _, h := range av.Hours {
		j.Hours = append(j.Hours, fmt.Sprintf("%s %s-%s", daysLabel(h.Days), h.Start, h.End))
	}
	t := now
	if av.TimeZone != "" {
		if loc, err := time.LoadLocation(av.TimeZone); err == nil {
			t = now.In(loc)
		}
	}
	j.Within = av.Within(t)
	return j
}

func (a *availabilityJSON) print(w io.Writer) {
	who := a.From
	if who == "" {
		who = "You"
	}
	if len(a.Hours) > 0 {
		fmt.Fprintf(w, "%s read messages %s", who, strings.Join(a.Hours, ", "))
		if a.TimeZone != "" {
			fmt.Fprintf(w, " (%s)", a.TimeZone)
		}
		if a.Within {
			fmt.Fprint(w, " — now is within those hours.")
		} else {
			fmt.Fprint(w, " — now is outside those hours.")
		}
		fmt.Fprintln(w)
	}
	if a.ResponseTime != "" {
		fmt.Fprintf(w, "Expect a reply %s.\n", a.ResponseTime)
	}
	if a.ReplyOnly {
		fmt.Fprintln(w, "Replies only: clients can answer the clinician's last message, not start new threads.")
	}
	if a.Note != "" {
		fmt.Fprintf(w, "Note: %s\n", a.Note)
	}
}

// theirAvailability returns a clinician contact's latest availability note, if any.
func (c *cli) theirAvailability(cl *client.Client, ct *client.Contact) (*availabilityJSON, error) {
	if ct.Role != client.RoleClinician {
		return nil, nil
	}
	es, err := cl.ListFrom(c.ctx, ct.Account, kindIs(journal.KindAvailability))
	if err != nil {
		return nil, err
	}
	e, d := latestOf(es)
	if e == nil {
		return nil, nil
	}
	return availabilityOut(e, d, displayName(*ct), c.now()), nil
}

// thread returns the messages between this account and a contact, oldest first.
func (c *cli) thread(cl *client.Client, ct *client.Contact) ([]messageJSON, error) {
	mine, err := cl.List(c.ctx, kindIs(journal.KindMessage))
	if err != nil {
		return nil, err
	}
	theirs, err := cl.ListFrom(c.ctx, ct.Account, kindIs(journal.KindMessage))
	if err != nil {
		return nil, err
	}
	var out []messageJSON
	add := func(e *client.Entry, from string, mine bool) {
		d := docOf(e)
		m, ok := d.Body.(*journal.Message)
		if !ok {
			return
		}
		out = append(out, messageJSON{ID: e.ID.String(), From: from, Mine: mine, Created: d.Created.Format(time.RFC3339), Text: m.Text,
			ReplyTo: d.Links.ReplyTo, Synced: e.Synced, at: d.Created})
	}
	for _, e := range mine {
		for _, a := range e.SharedWith {
			if a == ct.Account {
				add(e, "me", true)
			}
		}
	}
	for _, e := range theirs {
		add(e, displayName(*ct), false)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.Before(out[j].at)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func cmdMessage(c *cli, args []string) error {
	if len(args) == 0 || args[0] != "send" {
		return usageErr("interlude message send NAME TEXT (see also `interlude messages NAME`)")
	}
	fs := c.flags("message send")
	replyTo := fs.String("reply-to", "", "the ID of the message this answers")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageErr("interlude message send NAME TEXT (TEXT \"-\" reads it from stdin)")
	}
	text := strings.Join(pos[1:], " ")
	if text == "-" {
		b, err := io.ReadAll(c.stdin)
		if err != nil {
			return err
		}
		text = strings.TrimRight(string(b), "\n")
	}
	if *replyTo != "" {
		if _, err := syncproto.ParseRecordID(*replyTo); err != nil {
			return usageErr("--reply-to: %v", err)
		}
	}
	cl, ct, err := c.openContact(pos[0])
	if err != nil {
		return err
	}
	defer cl.Close()
	av, err := c.theirAvailability(cl, ct)
	if err != nil {
		return err
	}
	if av != nil && av.ReplyOnly {
		thread, err := c.thread(cl, ct)
		if err != nil {
			return err
		}
		last := ""
		for _, m := range thread {
			if !m.Mine {
				last = m.ID
			}
		}
		switch {
		case last == "":
			return &exitErr{code: exitError, msg: fmt.Sprintf("%s takes replies only: you can answer their messages, not start a new one, and there is no message of theirs to answer.\n"+
				"(A boundary your clinician set; this app keeps it.)", displayName(*ct))}
		case *replyTo != "" && *replyTo != last:
			return &exitErr{code: exitError, msg: fmt.Sprintf("%s takes replies only, to their last message (%s).", displayName(*ct), last)}
		}
		*replyTo = last
	}
	_, pt, err := c.buildEntry(journal.KindMessage, map[string]string{"text": text, "reply-to": *replyTo})
	if err != nil {
		return err
	}
	id, err := cl.AddShared(c.ctx, pt, []syncproto.AccountID{ct.Account}, client.ShareOptions{})
	if err != nil {
		return shareErr(err, ct)
	}
	j := map[string]any{"id": id.String(), "to": displayName(*ct), "reply_to": *replyTo}
	if av != nil {
		j["availability"] = av
	}
	return c.out(j, func(w io.Writer) {
		fmt.Fprintf(w, "Message to %s saved; `interlude sync` sends it.\n", displayName(*ct))
		if av != nil {
			av.print(w)
		}
	})
}

func cmdMessages(c *cli, args []string) error {
	fs := c.flags("messages")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("interlude messages NAME")
	}
	cl, ct, err := c.openContact(pos[0])
	if err != nil {
		return err
	}
	defer cl.Close()
	thread, err := c.thread(cl, ct)
	if err != nil {
		return err
	}
	av, err := c.theirAvailability(cl, ct)
	if err != nil {
		return err
	}
	if thread == nil {
		thread = []messageJSON{}
	}
	return c.out(map[string]any{"with": displayName(*ct), "availability": av, "messages": thread}, func(w io.Writer) {
		if av != nil {
			av.print(w)
			fmt.Fprintln(w)
		}
		if len(thread) == 0 {
			fmt.Fprintf(w, "No messages with %s yet.\n", displayName(*ct))
			return
		}
		for _, m := range thread {
			from := m.From
			if m.Mine {
				from = "you"
			}
			fmt.Fprintf(w, "%s  %s: %s", m.at.Local().Format("2006-01-02 15:04"), from, m.Text)
			if m.Mine && !m.Synced {
				fmt.Fprint(w, " [not sent yet]")
			}
			fmt.Fprintln(w)
		}
	})
}

// hoursFlag turns "Mon-Fri 09:00-17:00, Sat 10:00-12:00" into journal's
// "mon-fri@09:00-17:00,sat@10:00-12:00" (which is accepted as is, too).
func hoursFlag(v string) string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "@") {
			if days, window, ok := strings.Cut(item, " "); ok {
				item = days + "@" + strings.TrimSpace(window)
			}
		}
		out = append(out, strings.ToLower(item))
	}
	return strings.Join(out, ",")
}

func cmdAvailability(c *cli, args []string) error {
	sub := ""
	if len(args) > 0 && args[0] == "set" {
		sub, args = "set", args[1:]
	}
	fs := c.flags("availability")
	hours := fs.String("hours", "", `when you read messages, e.g. "Mon-Fri 09:00-17:00" (several: comma-separated)`)
	replyOnly := fs.Bool("reply-only", false, "clients may only reply to your last message, not start threads")
	note := fs.String("note", "", "anything else clients should know (what to do in a crisis, say)")
	responseTime := fs.String("response-time", "", `when to expect a reply, e.g. "within 2 working days"`)
	tz := fs.String("time-zone", "", "your time zone, e.g. America/Toronto")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	mine, err := cl.List(c.ctx, kindIs(journal.KindAvailability))
	if err != nil {
		return err
	}
	cur, curDoc := latestOf(mine)
	if sub == "" {
		var out []*availabilityJSON
		if cur != nil {
			out = append(out, availabilityOut(cur, curDoc, "", c.now()))
		}
		cts, err := cl.Contacts(c.ctx)
		if err != nil {
			return err
		}
		for i := range cts {
			av, err := c.theirAvailability(cl, &cts[i])
			if err != nil {
				return err
			}
			if av != nil {
				out = append(out, av)
			}
		}
		if out == nil {
			out = []*availabilityJSON{}
		}
		return c.out(out, func(w io.Writer) {
			if len(out) == 0 {
				fmt.Fprintln(w, "No availability set. Clinicians: `interlude availability set --hours \"Mon-Fri 09:00-17:00\"`.")
			}
			for _, a := range out {
				a.print(w)
			}
		})
	}
	values := map[string]string{"hours": hoursFlag(*hours), "note": *note, "response-time": *responseTime, "time-zone": *tz}
	if *replyOnly {
		values["reply-only"] = "true"
	}
	e, err := journal.Build(journal.KindAvailability, values)
	if err != nil {
		return buildErr(err)
	}
	now := c.now()
	e.Touch(now)
	if curDoc != nil {
		e.Created = curDoc.Created
	}
	pt, err := journal.Marshal(e)
	if err != nil {
		return err
	}
	cts, err := cl.Contacts(c.ctx)
	if err != nil {
		return err
	}
	var clients []syncproto.AccountID
	var skipped []string
	for _, ct := range cts {
		if ct.Role != client.RoleClient || ct.State != client.ContactPaired {
			continue
		}
		if ct.KeyChanged {
			skipped = append(skipped, displayName(ct))
			continue
		}
		clients = append(clients, ct.Account)
	}
	var id syncproto.RecordID
	if cur == nil {
		if id, err = cl.AddShared(c.ctx, pt, clients, client.ShareOptions{}); err != nil {
			return err
		}
	} else {
		id = cur.ID
		// The new revision goes to those who had it (Edit re-wraps for them); then to
		// any client paired since.
		if err := cl.Edit(c.ctx, id, pt); err != nil {
			return err
		}
		for _, a := range clients {
			if err := cl.Share(c.ctx, id, a, client.ShareOptions{}); err != nil {
				return err
			}
		}
	}
	av := availabilityOut(&client.Entry{ID: id}, e, "", now)
	return c.out(map[string]any{"availability": av, "shared_with": len(clients), "skipped_key_changed": skipped}, func(w io.Writer) {
		av.print(w)
		fmt.Fprintf(w, "Shared with %s; `interlude sync` sends it. New clients get it when they pair.\n", plural(len(clients), "client", "clients"))
		for _, s := range skipped {
			fmt.Fprintf(w, "Not shared with %s: their keys changed since you paired; pair again in person.\n", s)
		}
	})
}

// daysLabel writes days as people do: "Mon-Fri", "Mon, Wed, Fri", "Sat-Sun".
func daysLabel(w journal.Weekdays) string {
	names := []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	var parts []string
	for i := 0; i < len(order); {
		if !w.Has(order[i]) {
			i++
			continue
		}
		j := i
		for j+1 < len(order) && w.Has(order[j+1]) {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, names[order[i]]+"-"+names[order[j]])
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, names[order[k]])
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
