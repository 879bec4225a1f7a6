package main

// The clinician's summary, end to end: real server, real binaries for entries, sync and
// the summary itself. Pairing and sharing go through the client library (the issue-5
// commands that wrap them are not assumed here); everything a person types about their
// week goes through `interlude add`, dated with INTERLUDE_NOW.

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"interlude/client"
	"interlude/journal"
	"interlude/syncproto"
)

// library opens a device's profile in this process, unlocked. Close it before running
// the binary on the same profile again.
func (d *device) library() *client.Client {
	d.t.Helper()
	cl, err := client.Open(d.home, client.Options{})
	if err != nil {
		d.t.Fatal(err)
	}
	if err := cl.Unlock([]byte(d.pass)); err != nil {
		cl.Close()
		d.t.Fatal(err)
	}
	return cl
}

func (d *device) account() syncproto.AccountID {
	d.t.Helper()
	id, err := syncproto.ParseAccountID(d.status().Account)
	if err != nil {
		d.t.Fatal(err)
	}
	return id
}

// pair pairs a clinician's device with a client's: the clinician makes the code, the
// client accepts it, and each side syncs once to finish.
func pair(t *testing.T, doc *device, docName string, cli *device, cliName string) {
	t.Helper()
	ctx := context.Background()
	dl := doc.library()
	inv, err := dl.NewInvite(ctx, client.InviteOptions{Name: docName})
	dl.Close()
	if err != nil {
		t.Fatal(err)
	}
	cl := cli.library()
	_, _, err = cl.AcceptPairCode(ctx, inv.Code, client.AcceptOptions{Name: cliName})
	cl.Close()
	if err != nil {
		t.Fatal(err)
	}
	doc.ok("sync")
	cli.ok("sync")
}

// assign writes an assignment on the clinician's device, dated at, shared with the client.
func assign(t *testing.T, doc *device, to syncproto.AccountID, at string, values map[string]string) string {
	t.Helper()
	e, err := journal.Build("assignment", values)
	if err != nil {
		t.Fatal(err)
	}
	when, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	e.Touch(when)
	pt, err := journal.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	dl := doc.library()
	defer dl.Close()
	id, err := dl.AddShared(context.Background(), pt, []syncproto.AccountID{to}, client.ShareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestClinicianSummaryOfSharedEntries(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	sam := newDevice(t, passA)
	sam.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit.txt"))
	lee := newDevice(t, "clinician passphrase, long enough")
	lee.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit2.txt"))
	pair(t, lee, "Dr Lee", sam, "Sam")
	samID := sam.account()

	// Homework: a weekly PHQ-9 from 03-02 and a thought record from 03-05 (due 03-09),
	// both for Sam; and one shared with nobody, which is not Sam's.
	weekly := assign(t, lee, samID, "2026-03-02T09:00:00-05:00", map[string]string{
		"title": "Weekly PHQ-9", "type": "measure", "measure": "phq9", "repeat": "weekly"})
	assign(t, lee, samID, "2026-03-05T09:00:00-05:00", map[string]string{
		"title": "Thought record after a conflict", "type": "worksheet", "worksheet": "thought_record", "due": "2026-03-09"})
	lee.at("2026-03-05T09:30:00-05:00", "add", "assignment", "--title", "Draft for someone else", "--type", "prompt", "--prompt", "What went well?")
	lee.ok("sync")
	sam.ok("sync")

	// Sam's week (seedWeek) and more: a PHQ-9 of 15 before the period, the 03-08 PHQ-9 as
	// the weekly homework (item 9 = 1: crisis resources at once), and session preparation.
	ids := seedWeek(t, sam)
	before := sam.addAt("2026-02-20T10:00:00-05:00", "phq9", "--answers", "2,2,2,2,2,2,2,1,0")
	r := sam.at("2026-03-08T10:00:00-05:00", "add", "response", "--assignment", weekly, "--answer-kind", "measure",
		"--measure", "phq9", "--answers", "1,1,1,1,1,1,1,0,1", "--json")
	if !strings.Contains(r.stderr, "not a crisis or emergency service") {
		t.Fatalf("homework PHQ-9 with item 9 = 1: no crisis resources:\n%s", r.stderr)
	}
	var resp struct{ ID string }
	json.Unmarshal([]byte(r.stdout), &resp)
	prep := sam.addAt("2026-03-07T20:00:00-05:00", "session_prep", "--topics", "sleep,work stress", "--questions", "Should I keep the walk routine?")

	// Sam's own trends see the homework his clinician shared: 2 assigned, 1 submitted.
	var tr trendsJSON
	json.Unmarshal([]byte(sam.at("2026-03-08T18:00:00-05:00", "trends", "--since", "2026-03-01", "--json").stdout), &tr)
	if tr.Homework != (homeworkJSON{Assigned: 2, Submitted: 1, NotStarted: 1, Responses: 1, Rate: 0.5}) {
		t.Errorf("Sam's homework in trends: %+v", tr.Homework)
	}

	// Sam shares all but the 03-08 check-in (ids[6]); the 23:30 one (ids[2], with a note)
	// as scores only.
	ctx := context.Background()
	leeID := lee.account()
	sl := sam.library()
	for _, id := range append(append([]string{}, ids[:6]...), ids[7:]...) {
		rid, _ := syncproto.ParseRecordID(id)
		var err error
		if id == ids[2] {
			_, err = sl.ShareScoresOnly(ctx, rid, leeID, client.ShareOptions{})
		} else {
			err = sl.Share(ctx, rid, leeID, client.ShareOptions{})
		}
		if err != nil {
			sl.Close()
			t.Fatalf("share %s: %v", id, err)
		}
	}
	for _, id := range []string{before, resp.ID, prep} {
		rid, _ := syncproto.ParseRecordID(id)
		if err := sl.Share(ctx, rid, leeID, client.ShareOptions{}); err != nil {
			sl.Close()
			t.Fatalf("share %s: %v", id, err)
		}
	}
	sl.Close()
	sam.ok("sync")
	lee.ok("sync")

	var s summaryJSON
	lee.okJSON(&s, "summary", "Sam", "--since", "2026-03-02")
	if s.Client != "Sam" || s.Account != samID.String() || s.Since != "2026-03-02" || s.Until != "2026-03-08" {
		t.Fatalf("summary header: %+v", s)
	}
	// Shared check-ins since 03-02, in time order: mood 4 6 2 3 8 7, anxiety 6 3 8 7 2 3
	// (03-08's is not shared). Mood: mean 30/6 = 5, halves (4+6+2)/3 = 4 → (3+8+7)/3 = 6.
	// Anxiety: mean 29/6, halves 17/3 → 12/3.
	ck := s.Checkins
	if ck.Count != 6 || ck.Days != 5 {
		t.Errorf("check-ins: %d on %d days, want 6 on 5", ck.Count, ck.Days)
	}
	if m := ck.Mood; m.N != 6 || !near(m.Mean, 5) || m.Min != 2 || m.Max != 8 || m.HalvesN != 3 || !near(m.FirstHalf, 4) || !near(m.SecondHalf, 6) || !near(m.Change, 2) {
		t.Errorf("mood: %+v", m)
	}
	if a := ck.Anxiety; a.N != 6 || !near(a.Mean, 29.0/6) || a.Min != 2 || a.Max != 8 || !near(a.FirstHalf, 17.0/3) || !near(a.SecondHalf, 4) || !near(a.Change, 4-17.0/3) {
		t.Errorf("anxiety: %+v", a)
	}
	if ck.Energy.N != 0 {
		t.Errorf("energy: %+v", ck.Energy)
	}
	// PHQ-9: 13 on 03-02 and 8 on 03-08 (the homework), against 15 on 02-20 before the
	// period: −7, reliable change. GAD-7: one score in all, so no baseline.
	if len(s.Measures) != 2 {
		t.Fatalf("measures: %+v", s.Measures)
	}
	phq := s.Measures[0]
	if phq.Measure != "phq9" || len(phq.Points) != 2 || phq.Points[0].Total != 13 || phq.Latest.Total != 8 || !phq.Latest.Item9 ||
		phq.Baseline == nil || phq.Baseline.Day != "2026-02-20" || phq.Baseline.Total != 15 || phq.Change != -7 || !phq.Significant ||
		!strings.Contains(phq.Rule, "reliable change") {
		t.Errorf("PHQ-9: %+v (baseline %+v)", phq, phq.Baseline)
	}
	if gad := s.Measures[1]; gad.Measure != "gad7" || len(gad.Points) != 1 || gad.Latest.Total != 7 || gad.Baseline != nil || gad.Change != 0 || gad.Significant {
		t.Errorf("GAD-7: %+v", gad)
	}
	if len(s.SafetyFlags) != 1 || s.SafetyFlags[0].Day != "2026-03-08" || s.SafetyFlags[0].Answer != 1 || s.SafetyFlags[0].AnswerLabel != "Several days" {
		t.Errorf("safety flags: %+v", s.SafetyFlags)
	}
	if len(s.Homework) != 2 {
		t.Fatalf("homework (only Sam's): %+v", s.Homework)
	}
	if h := s.Homework[0]; h.ID != weekly || h.Title != "Weekly PHQ-9" || h.Assigned != "2026-03-02" || h.Repeat != "weekly" ||
		h.State != "submitted" || h.Submissions != 1 || h.LastSubmitted != "2026-03-08" {
		t.Errorf("weekly PHQ-9: %+v", h)
	}
	if h := s.Homework[1]; h.Title != "Thought record after a conflict" || h.State != "not_started" || h.Due != "2026-03-09" || h.Submissions != 0 {
		t.Errorf("thought record: %+v", h)
	}
	if strings.Join(s.Topics, "|") != "sleep|work stress" || strings.Join(s.Questions, "|") != "Should I keep the walk routine?" {
		t.Errorf("topics %q, questions %q", s.Topics, s.Questions)
	}

	// As text: safety first, then the rest.
	out := lee.at("2026-03-09T08:00:00-05:00", "summary", "sam", "--since", "2026-03-02").stdout
	for _, want := range []string{"Sam: Summary since 2026-03-02", "SAFETY", `answered "Several days" on 2026-03-08`,
		"Check-ins: 6 on 5 days", "mood     mean 5.0  min 2  max 8  (n=6)  first half 4.0 → second half 6.0 (+2.0)",
		"change -7 from 15 (moderately severe) on 2026-02-20: PHQ-9 change of 5 points or more is reliable change",
		"submitted    Weekly PHQ-9", "not started  Thought record after a conflict", "- work stress", "- Should I keep the walk routine?"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary text lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "SAFETY") > strings.Index(out, "Check-ins") || strings.Contains(out, "Draft for someone else") {
		t.Errorf("summary text:\n%s", out)
	}

	// By default, the 14 days before today: 03-09 → since 02-23, so the 02-20 PHQ-9 is
	// the baseline still.
	var def summaryJSON
	json.Unmarshal([]byte(lee.at("2026-03-09T08:00:00-05:00", "summary", "Sam", "--json").stdout), &def)
	if def.Since != "2026-02-23" || def.Checkins.Count != 6 || len(def.Measures) != 2 || def.Measures[0].Baseline == nil || def.Measures[0].Baseline.Total != 15 {
		t.Errorf("default --since: %+v", def)
	}

	// From 03-05: check-ins 8, 7; PHQ-9 8 against 13 on 03-02 (−5: still reliable change).
	var late summaryJSON
	lee.okJSON(&late, "summary", "Sam", "--since", "2026-03-05")
	if late.Checkins.Count != 2 || late.Measures[0].Baseline.Total != 13 || late.Measures[0].Change != -5 || !late.Measures[0].Significant {
		t.Errorf("since 03-05: %+v", late)
	}

	// Mistakes.
	if r := lee.run("summary", "Nobody"); r.code != exitError || !strings.Contains(r.stderr, "no such contact") {
		t.Errorf("summary of a stranger: exit %d %s", r.code, r.stderr)
	}
	if r := lee.run("summary"); r.code != exitUsage {
		t.Errorf("summary without a client: exit %d", r.code)
	}
	if r := sam.run("summary", "Dr Lee"); r.code != exitError || !strings.Contains(r.stderr, "your clinician") {
		t.Errorf("summary of one's clinician: exit %d %s", r.code, r.stderr)
	}
}
