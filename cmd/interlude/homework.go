package main

// Homework: a clinician assigns (an "assignment" entry shared with one client); the
// client fills a "response" in, offline and unshared, and submits it, which shares that
// one response with the assigning clinician. The clinician sees, per assignment: not
// started, in progress, submitted.
//
// "In progress" reaches the clinician only if the client says so: `interlude homework
// start ASSIGNMENT` shares a status-only copy of the response (no answer). Without it
// the clinician sees "not started" until the submit. Nothing is shared automatically.

import (
	"errors"
	"fmt"
	"io"

	"interlude/client"
	"interlude/journal"
	"interlude/syncproto"
)

// Homework statuses as shown.
const (
	hwNotStarted = "not started"
	hwInProgress = "in progress"
	hwSubmitted  = "submitted"
)

// docOf parses an entry's journal document (nil if it is not one).
func docOf(e *client.Entry) *journal.Entry {
	j, err := journal.Unmarshal(e.Plaintext)
	if err != nil {
		return nil
	}
	j.ID = e.ID.String()
	return j
}

type hwItemJSON struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Type         string `json:"type"`
	Expects      string `json:"expects"`
	Instructions string `json:"instructions,omitempty"`
	Prompt       string `json:"prompt,omitempty"`
	Due          string `json:"due,omitempty"`
	Repeat       string `json:"repeat,omitempty"`
	From         string `json:"from,omitempty"` // client view: the clinician
	Client       string `json:"client,omitempty"`
	Status       string `json:"status"`
	Response     string `json:"response,omitempty"` // the latest response's ID
	Submitted    int    `json:"submitted"`          // how many responses were submitted
}

func assignmentOut(id syncproto.RecordID, a *journal.Assignment) hwItemJSON {
	return hwItemJSON{ID: id.String(), Title: a.Title, Type: string(a.Type), Expects: a.Expects, Instructions: a.Instructions,
		Prompt: a.Prompt, Due: string(a.Due), Repeat: string(a.Repeat), Status: hwNotStarted}
}

// withStatus fills in the status of an assignment from the responses that name it.
func (j *hwItemJSON) withStatus(responses []*journal.Entry) {
	for _, r := range responses {
		if r.Links.Assignment != j.ID {
			continue
		}
		body, ok := r.Body.(*journal.Response)
		if !ok {
			continue
		}
		switch body.Status {
		case journal.StatusSubmitted:
			j.Submitted++
			j.Status, j.Response = hwSubmitted, r.ID
		case journal.StatusInProgress:
			if j.Status == hwNotStarted {
				j.Status, j.Response = hwInProgress, r.ID
			}
		}
	}
}

func kindIs(kind string) client.ListFilter {
	return client.ListFilter{Match: func(e *client.Entry) bool {
		d := docOf(e)
		return d != nil && d.Kind == kind
	}}
}

func docs(es []*client.Entry) []*journal.Entry {
	var out []*journal.Entry
	for _, e := range es {
		if d := docOf(e); d != nil {
			out = append(out, d)
		}
	}
	return out
}

func cmdAssign(c *cli, args []string) error {
	fs := c.flags("assign")
	to := fs.String("to", "", "the client (see `interlude clients`)")
	title := fs.String("title", "", "a short title")
	instructions := fs.String("instructions", "", "what to do")
	typ := fs.String("type", "", "prompt, worksheet, practice or measure")
	kind := fs.String("kind", "", "worksheet: its kind (thought_record, …); measure: which (phq9, gad7, who5); practice: the kind to log")
	prompt := fs.String("prompt", "", "prompt: the question to answer (default: the instructions)")
	due := fs.String("due", "", "due day, YYYY-MM-DD")
	repeat := fs.String("repeat", "", "none, daily or weekly")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usageErr("say which client: --to NAME")
	}
	values := map[string]string{"title": *title, "instructions": *instructions, "type": *typ, "due": *due, "repeat": *repeat}
	switch journal.AssignmentType(*typ) {
	case journal.AssignWorksheet:
		values["worksheet"] = *kind
	case journal.AssignMeasure:
		values["measure"] = *kind
	case journal.AssignPractice:
		values["expects"] = *kind
	case journal.AssignPrompt:
		values["prompt"] = *prompt
		if *prompt == "" {
			values["prompt"] = *instructions
		}
		if values["prompt"] == "" {
			values["prompt"] = *title
		}
	}
	e, pt, err := c.buildEntry(journal.KindAssignment, values)
	if err != nil {
		return err
	}
	cl, ct, err := c.openContact(*to)
	if err != nil {
		return err
	}
	defer cl.Close()
	if ct.Role != client.RoleClient {
		return fmt.Errorf("%s is your clinician: homework goes to your clients (see `interlude clients`)", displayName(*ct))
	}
	id, err := cl.AddShared(c.ctx, pt, []syncproto.AccountID{ct.Account}, client.ShareOptions{})
	if err != nil {
		return shareErr(err, ct)
	}
	a := assignmentOut(id, e.Body.(*journal.Assignment))
	a.Client = displayName(*ct)
	return c.out(a, func(w io.Writer) {
		fmt.Fprintf(w, "Assigned %q to %s (%s). `interlude sync` sends it.\n", a.Title, a.Client, id)
	})
}

func cmdHomework(c *cli, args []string) error {
	sub := ""
	if len(args) > 0 && args[0] == "start" {
		sub, args = "start", args[1:]
	}
	fs := c.flags("homework")
	of := fs.String("client", "", "clinicians: the homework you gave this client, with its status")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if sub == "start" && len(pos) != 1 {
		return usageErr("interlude homework start ASSIGNMENT")
	}
	if sub == "" && len(pos) > 0 {
		return usageErr("unexpected argument %q", pos[0])
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	if sub == "start" {
		return c.homeworkStart(cl, pos[0])
	}
	if *of != "" {
		return c.homeworkOf(cl, *of)
	}
	// The client's view: every assignment from every clinician, with this device's status.
	cts, err := cl.Contacts(c.ctx)
	if err != nil {
		return err
	}
	own, err := cl.List(c.ctx, kindIs(journal.KindResponse))
	if err != nil {
		return err
	}
	responses := docs(own)
	out := []hwItemJSON{}
	for _, ct := range cts {
		if ct.Role != client.RoleClinician {
			continue
		}
		es, err := cl.ListFrom(c.ctx, ct.Account, kindIs(journal.KindAssignment))
		if err != nil {
			return err
		}
		for _, e := range es {
			d := docOf(e)
			a := assignmentOut(e.ID, d.Body.(*journal.Assignment))
			a.From = displayName(ct)
			a.withStatus(responses)
			out = append(out, a)
		}
	}
	return c.out(out, func(w io.Writer) { printHomework(w, out, "from") })
}

func printHomework(w io.Writer, out []hwItemJSON, who string) {
	if len(out) == 0 {
		fmt.Fprintln(w, "No homework.")
		return
	}
	for _, a := range out {
		name := a.From
		if who == "client" {
			name = a.Client
		}
		fmt.Fprintf(w, "%s  %-30s %-12s %s", a.ID, trim(a.Title, 30), a.Status, a.Type)
		if a.Due != "" {
			fmt.Fprintf(w, ", due %s", a.Due)
		}
		if a.Repeat != "" && a.Repeat != string(journal.RepeatNone) {
			fmt.Fprintf(w, ", %s", a.Repeat)
		}
		if name != "" {
			fmt.Fprintf(w, " (%s %s)", who, name)
		}
		if a.Submitted > 1 {
			fmt.Fprintf(w, ", submitted %d times", a.Submitted)
		}
		fmt.Fprintln(w)
		if a.Instructions != "" {
			fmt.Fprintf(w, "    %s\n", trim(a.Instructions, 100))
		}
	}
}

// homeworkOf is the clinician's view of one client: the assignments given to them and,
// from what the client shared, their status.
func (c *cli) homeworkOf(cl *client.Client, name string) error {
	ct, err := contactArg(c, cl, name)
	if err != nil {
		return err
	}
	mine, err := cl.List(c.ctx, kindIs(journal.KindAssignment))
	if err != nil {
		return err
	}
	theirs, err := cl.ListFrom(c.ctx, ct.Account, kindIs(journal.KindResponse))
	if err != nil {
		return err
	}
	responses := docs(theirs)
	out := []hwItemJSON{}
	for _, e := range mine {
		shared := false
		for _, a := range e.SharedWith {
			shared = shared || a == ct.Account
		}
		if !shared {
			continue
		}
		a := assignmentOut(e.ID, docOf(e).Body.(*journal.Assignment))
		a.Client = displayName(*ct)
		a.withStatus(responses)
		out = append(out, a)
	}
	return c.out(out, func(w io.Writer) { printHomework(w, out, "client") })
}

// assignmentFor loads an assignment a clinician shared with this account.
func (c *cli) assignmentFor(cl *client.Client, arg string) (*client.Entry, *journal.Assignment, error) {
	id, err := syncproto.ParseRecordID(arg)
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	e, err := cl.Get(c.ctx, id)
	if err != nil {
		return nil, nil, err
	}
	d := docOf(e)
	a, ok := (*journal.Assignment)(nil), false
	if d != nil {
		a, ok = d.Body.(*journal.Assignment)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%s is not an assignment (see `interlude homework`)", id)
	}
	return e, a, nil
}

// openResponse finds this account's latest response to an assignment still in progress.
func (c *cli) openResponse(cl *client.Client, assignment syncproto.RecordID) (*client.Entry, error) {
	own, err := cl.List(c.ctx, kindIs(journal.KindResponse))
	if err != nil {
		return nil, err
	}
	var found *client.Entry
	for _, e := range own {
		d := docOf(e)
		if r, ok := d.Body.(*journal.Response); ok && d.Links.Assignment == assignment.String() && r.Status == journal.StatusInProgress {
			found = e
		}
	}
	return found, nil
}

// newResponse writes an empty response in progress to an assignment (not shared).
func (c *cli) newResponse(cl *client.Client, aid syncproto.RecordID, a *journal.Assignment, given map[string]string) (syncproto.RecordID, error) {
	values := map[string]string{}
	for k, v := range given {
		values[k] = v
	}
	values["assignment"], values["status"], values["answer-kind"] = aid.String(), string(journal.StatusInProgress), a.Expects
	switch a.Expects {
	case journal.KindPrompted:
		if values["prompt"] == "" {
			values["prompt"] = a.Prompt
		}
	case journal.KindMeasure:
		values["measure"] = a.MeasureID
	}
	_, pt, err := c.buildEntry(journal.KindResponse, values)
	if err != nil {
		return syncproto.RecordID{}, err
	}
	return cl.Add(c.ctx, pt)
}

// homeworkStart tells the clinician that the client started an assignment: it shares a
// status-only copy of the response (no answer), making one if there is none yet.
func (c *cli) homeworkStart(cl *client.Client, arg string) error {
	ae, a, err := c.assignmentFor(cl, arg)
	if err != nil {
		return err
	}
	resp, err := c.openResponse(cl, ae.ID)
	if err != nil {
		return err
	}
	var rid syncproto.RecordID
	if resp != nil {
		rid = resp.ID
	} else if rid, err = c.newResponse(cl, ae.ID, a, nil); err != nil {
		return err
	}
	if _, err := cl.ShareStatus(c.ctx, rid, ae.Owner, client.ShareOptions{}); err != nil {
		return err
	}
	return c.out(map[string]any{"assignment": ae.ID.String(), "response": rid.String(), "status": hwInProgress}, func(w io.Writer) {
		fmt.Fprintf(w, "Started %q (response %s). Your clinician will see it in progress — only that, not your answers.\n", a.Title, rid)
		fmt.Fprintf(w, "Fill it in with `interlude respond %s [fields]`, then `interlude submit %s`.\n", ae.ID, rid)
	})
}

func cmdRespond(c *cli, args []string) error {
	fs := c.flags("respond")
	fields := allFieldFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("interlude respond ASSIGNMENT [field flags] (IDs from `interlude homework`)")
	}
	given := fields.given()
	for _, f := range []string{"assignment", "status", "answer-kind"} {
		if _, ok := given[f]; ok {
			return usageErr("--%s is set by respond itself; give the fields of your answer", f)
		}
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	ae, a, err := c.assignmentFor(cl, pos[0])
	if err != nil {
		return err
	}
	specs, err := specsFor(journal.KindResponse, a.Expects)
	if err != nil {
		return err
	}
	if err := checkGiven(specs, given); err != nil {
		return err
	}
	if err := c.fillText(specs[1:], given, false); err != nil {
		return err
	}
	resp, err := c.openResponse(cl, ae.ID)
	if err != nil {
		return err
	}
	var rid syncproto.RecordID
	if resp == nil {
		if rid, err = c.newResponse(cl, ae.ID, a, given); err != nil {
			return err
		}
	} else {
		rid = resp.ID
		if len(given) > 0 {
			pt, err := applyFields(resp.Plaintext, given, c.now())
			if err != nil {
				return err
			}
			if err := cl.Edit(c.ctx, rid, pt); err != nil {
				return err
			}
		}
	}
	// A PHQ-9 answered as homework gets the same safety net as one added directly: crisis
	// resources at once, on this device, sending nothing.
	if saved, err := cl.Get(c.ctx, rid); err == nil {
		if d := docOf(saved); d != nil {
			c.safetyCheck(d)
		}
	}
	return c.out(map[string]any{"assignment": ae.ID.String(), "response": rid.String(), "status": hwInProgress}, func(w io.Writer) {
		fmt.Fprintf(w, "Saved your response to %q on this device (%s); it is not shared.\n", a.Title, rid)
		fmt.Fprintf(w, "When it is done: `interlude submit %s`.\n", rid)
	})
}

func cmdSubmit(c *cli, args []string) error {
	cl, e, err := c.openEntry(c.flags("submit"), args)
	if err != nil {
		return err
	}
	defer cl.Close()
	id, d := e.ID, docOf(e)
	if d != nil && d.Kind == journal.KindAssignment {
		// The assignment's ID: submit its response in progress.
		r, err := c.openResponse(cl, id)
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("no response in progress to %s: fill one in with `interlude respond %s [fields]`", id, id)
		}
		e, d = r, docOf(r)
	}
	if d == nil || d.Kind != journal.KindResponse {
		return fmt.Errorf("%s is not a homework response (see `interlude homework`)", id)
	}
	me, err := cl.Account(c.ctx)
	if err != nil {
		return err
	}
	if e.Owner != me {
		return fmt.Errorf("%s is someone else's response", e.ID)
	}
	aid, err := syncproto.ParseRecordID(d.Links.Assignment)
	if err != nil {
		return fmt.Errorf("response %s names no assignment", e.ID)
	}
	ae, a, err := c.assignmentFor(cl, aid.String())
	if err != nil {
		return err
	}
	if r := d.Body.(*journal.Response); r.Status != journal.StatusSubmitted {
		pt, err := applyFields(e.Plaintext, map[string]string{"status": string(journal.StatusSubmitted)}, c.now())
		if err != nil {
			var ee *exitErr
			if errors.As(err, &ee) {
				return usageErr("the response is not complete yet:\n  %s\nfill it in with `interlude respond %s [fields]`", ee.msg, ae.ID)
			}
			return err
		}
		if err := cl.Edit(c.ctx, e.ID, pt); err != nil {
			return err
		}
	}
	ct, err := contactArg(c, cl, ae.Owner.String())
	if err != nil {
		return err
	}
	if err := cl.Share(c.ctx, e.ID, ae.Owner, client.ShareOptions{}); err != nil {
		return shareErr(err, ct)
	}
	return c.out(map[string]any{"response": e.ID.String(), "assignment": ae.ID.String(), "status": hwSubmitted, "shared_with": displayName(*ct)}, func(w io.Writer) {
		fmt.Fprintf(w, "Submitted your response to %q: it is shared with %s (this response only). `interlude sync` sends it.\n", a.Title, displayName(*ct))
	})
}
