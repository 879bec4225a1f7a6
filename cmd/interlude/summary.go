package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"interlude/client"
	"interlude/journal"
	"interlude/syncproto"
)

// defaultSummaryDays is how far back summary looks when --since is not given.
const defaultSummaryDays = 14

func cmdSummary(c *cli, args []string) error {
	fs := c.flags("summary")
	since := fs.String("since", "", fmt.Sprintf("first day, YYYY-MM-DD: usually the day of the last session (default: %d days ago)", defaultSummaryDays))
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("give one client, by name or account ID: interlude summary CLIENT [--since YYYY-MM-DD] (see `interlude contacts`)")
	}
	now := c.now()
	from, err := dayFlag("since", *since, journal.DayOf(now).AddDays(-defaultSummaryDays))
	if err != nil {
		return err
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	ct, err := cl.Contact(c.ctx, pos[0])
	if err != nil {
		return err
	}
	if ct.Role == client.RoleClinician {
		return fmt.Errorf("%s is your clinician, not your client: `interlude summary` is for a clinician, about what a client shares with them; `interlude trends` shows your own", contactName(ct))
	}
	if ct.State != client.ContactPaired {
		c.note("The pairing with %s is %s: nothing they share can arrive until it is complete.", contactName(ct), ct.State)
	}
	entries, unreadable, err := summaryEntries(c, cl, ct.Account)
	if err != nil {
		return err
	}
	c.noteUnreadable(unreadable)
	s := journal.Summary(entries, from.Time(now.Location()))
	return c.out(summaryToJSON(ct.Name, ct.Account.String(), s), func(w io.Writer) {
		fmt.Fprintf(w, "%s: ", contactName(ct))
		journal.RenderSummary(w, s)
		if len(entries) == 0 {
			fmt.Fprintf(w, "\n%s has shared nothing with you yet (or this device has not synced since: run `interlude sync`).\n", contactName(ct))
		}
	})
}

func contactName(ct *client.Contact) string {
	if ct.Name != "" {
		return ct.Name
	}
	return ct.Account.String()
}

// summaryEntries are what a summary of one client counts: the entries they shared with
// this account, and this account's assignments shared with them (which their responses
// answer). A scores-only or status-only copy is left out when the entry it was made
// from is shared in full too.
func summaryEntries(c *cli, cl *client.Client, who syncproto.AccountID) ([]*journal.Entry, int, error) {
	shared, err := cl.ListFrom(c.ctx, who, client.ListFilter{})
	if err != nil {
		return nil, 0, err
	}
	full := map[syncproto.RecordID]bool{}
	for _, e := range shared {
		if e.Derived == "" {
			full[e.ID] = true
		}
	}
	shared = slices.DeleteFunc(shared, func(e *client.Entry) bool { return e.Derived != "" && full[e.Source] })
	mine, err := cl.List(c.ctx, client.ListFilter{Match: func(e *client.Entry) bool { return slices.Contains(e.SharedWith, who) }})
	if err != nil {
		return nil, 0, err
	}
	entries, unreadable := journalEntries(shared)
	assigned, _ := journalEntries(mine)
	for _, e := range assigned {
		if _, ok := e.Body.(*journal.Assignment); ok {
			entries = append(entries, e)
		}
	}
	return entries, unreadable, nil
}

// The JSON form of `interlude summary --json`.
type summaryJSON struct {
	Client      string              `json:"client"`
	Account     string              `json:"account"`
	Since       string              `json:"since"`
	Until       string              `json:"until"` // the day of the latest entry counted
	Checkins    checkinSummaryJSON  `json:"checkins"`
	Measures    []measureChangeJSON `json:"measures"`
	SafetyFlags []safetyFlagJSON    `json:"safety_flags"` // PHQ-9 item 9 above zero
	Homework    []assignmentJSON    `json:"homework"`
	Topics      []string            `json:"topics"`
	Questions   []string            `json:"questions"`
}

type checkinSummaryJSON struct {
	Count   int             `json:"count"`
	Days    int             `json:"days"`
	Mood    seriesStatsJSON `json:"mood"`
	Anxiety seriesStatsJSON `json:"anxiety"`
	Energy  seriesStatsJSON `json:"energy"`
}

// seriesStatsJSON: the halves are the earliest and latest HalvesN ratings (the middle one
// left out when N is odd); change is second_half − first_half.
type seriesStatsJSON struct {
	N          int     `json:"n"`
	Mean       float64 `json:"mean"`
	Min        float64 `json:"min"`
	Max        float64 `json:"max"`
	HalvesN    int     `json:"halves_n"`
	FirstHalf  float64 `json:"first_half"`
	SecondHalf float64 `json:"second_half"`
	Change     float64 `json:"change"`
}

type measureChangeJSON struct {
	Measure  string      `json:"measure"`
	Name     string      `json:"name"`
	Points   []pointJSON `json:"points"`
	Baseline *pointJSON  `json:"baseline"` // null when there is only one score in all
	Latest   pointJSON   `json:"latest"`
	// Change is latest − baseline (percentage points for the WHO-5).
	Change int `json:"change"`
	// Significant: PHQ-9 ≥ 5 points (reliable change), WHO-5 ≥ 10 percentage points.
	Significant bool   `json:"significant"`
	Rule        string `json:"rule,omitempty"`
}

type safetyFlagJSON struct {
	Day         string `json:"day"`
	At          string `json:"at"`
	Answer      int    `json:"answer"`
	AnswerLabel string `json:"answer_label"`
}

type assignmentJSON struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	Type          string `json:"type"`
	Assigned      string `json:"assigned"`
	Due           string `json:"due,omitempty"`
	Repeat        string `json:"repeat,omitempty"`
	State         string `json:"state"` // not_started, in_progress, submitted
	Submissions   int    `json:"submissions"`
	LastSubmitted string `json:"last_submitted,omitempty"`
}

func statsJSON(s journal.SeriesStats) seriesStatsJSON {
	return seriesStatsJSON{s.N, s.Mean, s.Min, s.Max, s.HalvesN, s.FirstHalf, s.SecondHalf, s.Change}
}

func summaryToJSON(name, account string, s journal.ClinicianSummary) summaryJSON {
	j := summaryJSON{Client: name, Account: account, Since: string(s.Since), Until: string(s.Until),
		Checkins: checkinSummaryJSON{s.Checkins.Count, s.Checkins.Days,
			statsJSON(s.Checkins.Mood), statsJSON(s.Checkins.Anxiety), statsJSON(s.Checkins.Energy)},
		Measures: []measureChangeJSON{}, SafetyFlags: []safetyFlagJSON{}, Homework: []assignmentJSON{},
		Topics: append([]string{}, s.Topics...), Questions: append([]string{}, s.Questions...),
	}
	for _, m := range s.Measures {
		mj := measureChangeJSON{Measure: m.Measure, Name: m.Name, Points: []pointJSON{}, Latest: pointToJSON(m.Latest),
			Change: m.Change, Significant: m.Significant}
		if m.Significant {
			mj.Rule = m.Rule
		}
		for _, p := range m.Points {
			mj.Points = append(mj.Points, pointToJSON(p))
		}
		if m.Baseline != nil {
			mj.Baseline = new(pointToJSON(*m.Baseline))
		}
		j.Measures = append(j.Measures, mj)
	}
	for _, f := range s.SafetyFlags {
		j.SafetyFlags = append(j.SafetyFlags, safetyFlagJSON{string(f.Day), f.At.Format(time.RFC3339), f.Answer, f.AnswerLabel})
	}
	for _, h := range s.Homework {
		j.Homework = append(j.Homework, assignmentJSON{ID: h.ID, Title: h.Title, Type: string(h.Type), Assigned: string(h.Assigned),
			Due: string(h.Due), Repeat: string(h.Repeat), State: string(h.State), Submissions: h.Submissions,
			LastSubmitted: string(h.LastSubmitted)})
	}
	return j
}
