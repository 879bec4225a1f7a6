package main

// Tests of issue 6's commands: trends, export --html/--csv, reminders, and the crisis
// resources a PHQ-9 item 9 above zero shows. The seeded data set is written through the
// real binary with an injected clock (INTERLUDE_NOW); the expected numbers are worked out
// by hand in the comments.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"interlude/journal"
)

// at runs the client with the clock starting at now and fails the test unless it exits 0.
func (d *device) at(now string, args ...string) result {
	d.t.Helper()
	r := d.runEnv([]string{envNow + "=" + now}, args...)
	if r.code != 0 {
		d.t.Fatalf("INTERLUDE_NOW=%s interlude %s: exit %d\nstdout: %s\nstderr: %s", now, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// seedWeek writes, through the CLI, a week of check-ins and measures (times in -05:00):
//
//	day    check-ins (mood/anxiety, triggers, coping)              daily mood  anxiety
//	03-02  21:00 4/6 work, walk:yes                                 4           6
//	03-03  08:00 6/3 walk:yes; 23:30 2/8 work (still 03-03 locally) 4           5.5
//	03-04  20:00 3/7 work                                           3           7
//	03-05  (none)
//	03-06  19:00 8/2 walk:somewhat, music                           8           2
//	03-07  19:00 7/3 walk:no                                        7           3
//	03-08  12:00 5/- work                                           5           -
//
// and PHQ-9 13 (moderate) on 03-02, GAD-7 7 (mild) on 03-05; then PHQ-9 8 (mild, item 9 = 1)
// on 03-08 (added by the callers, which look at its crisis resources). It returns the
// entries' IDs in the order above.
func seedWeek(t *testing.T, d *device) []string {
	t.Helper()
	var ids []string
	for _, s := range []struct {
		at   string
		args []string
	}{
		{"2026-03-02T21:00:00-05:00", []string{"checkin", "--mood", "4", "--anxiety", "6", "--triggers", "work", "--coping", "walk:yes"}},
		{"2026-03-03T08:00:00-05:00", []string{"checkin", "--mood", "6", "--anxiety", "3", "--coping", "walk:yes"}},
		{"2026-03-03T23:30:00-05:00", []string{"checkin", "--mood", "2", "--anxiety", "8", "--triggers", "work", "--note", `<b>bold</b> & "quotes"`}},
		{"2026-03-04T20:00:00-05:00", []string{"checkin", "--mood", "3", "--anxiety", "7", "--triggers", "work"}},
		{"2026-03-06T19:00:00-05:00", []string{"checkin", "--mood", "8", "--anxiety", "2", "--coping", "walk:somewhat,music"}},
		{"2026-03-07T19:00:00-05:00", []string{"checkin", "--mood", "7", "--anxiety", "3", "--coping", "walk:no"}},
		{"2026-03-08T12:00:00-05:00", []string{"checkin", "--mood", "5", "--triggers", "work"}},
		{"2026-03-02T10:00:00-05:00", []string{"phq9", "--answers", "2,2,2,2,2,1,1,1,0"}},
		{"2026-03-05T10:00:00-05:00", []string{"gad7", "--answers", "1,1,1,1,1,1,1"}},
	} {
		ids = append(ids, d.addAt(s.at, s.args...))
	}
	return ids
}

// addAt adds an entry dated now and returns its ID. It fails the test if crisis
// resources are shown.
func (d *device) addAt(now string, args ...string) string {
	d.t.Helper()
	r := d.at(now, append(append([]string{"add"}, args...), "--json")...)
	if strings.Contains(r.stderr, "not a crisis") {
		d.t.Fatalf("crisis resources shown for %v", args)
	}
	var added struct{ ID string }
	if err := json.Unmarshal([]byte(r.stdout), &added); err != nil || added.ID == "" {
		d.t.Fatalf("add %v: %v\n%s", args, err, r.stdout)
	}
	return added.ID
}

// feedSize moves whenever any feed grows: owners' feeds are records.owner_seq, recipients'
// the changes rows.
const feedSize = `SELECT (SELECT count(*) FROM changes) + (SELECT coalesce(sum(owner_seq), 0) FROM records)`

func TestItem9ShowsCrisisResourcesAtOnceAndSendsNothing(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	a := newDevice(t, passA)
	a.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit.txt"))
	a.ok("add", "checkin", "--mood", "5")
	a.ok("sync")
	sdb := srv.db(false)
	records := count(t, sdb, `SELECT count(*) FROM records`)
	changes := count(t, sdb, feedSize)

	// Stdout and stderr on one pipe, to see the order: resources first, then "Added".
	cmd := a.command([]string{"LANG=en_CA.UTF-8", "LC_ALL="}, "add", "phq9", "--answers", "1,1,1,1,1,1,1,0,2")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("add phq9: %v\n%s", err, out.String())
	}
	got := out.String()
	crisis := strings.Index(got, "9-8-8 Suicide Crisis Helpline")
	added := strings.Index(got, "Added measure")
	if crisis < 0 || added < 0 || crisis > added || !strings.Contains(got, "not a crisis or emergency service") || !strings.Contains(got, "call 988") {
		t.Fatalf("item 9 above zero: want the en-CA crisis resources before anything else:\n%s", got)
	}
	if st := a.status(); st.Pending != 1 {
		t.Fatalf("the PHQ-9 should wait on this device: %+v", st)
	}
	if r, c := count(t, sdb, `SELECT count(*) FROM records`), count(t, sdb, feedSize); r != records || c != changes {
		t.Fatalf("adding a PHQ-9 sent something: server records %d→%d, changes %d→%d", records, r, changes, c)
	}

	// Item 9 at zero shows nothing; --json says safety_flag.
	if r := a.ok("add", "phq9", "--answers", "3,3,3,3,3,3,3,3,0"); strings.Contains(r.stderr, "crisis") {
		t.Fatalf("item 9 at zero showed crisis resources:\n%s", r.stderr)
	}

	// A clinic's crisis.json replaces a locale's resources; a PHQ-9 answered as homework
	// (even one still in progress) shows them too.
	os.WriteFile(filepath.Join(a.home, crisisFile), []byte(`{"locales": {"en-CA": {"message": "Interlude is not a crisis service. Call the clinic line or 911.",
		"emergency": "911", "lines": [{"name": "Riverside clinic on-call", "phone": "555-0100"}]}}}`), 0o600)
	var resp struct {
		ID     string `json:"id"`
		Safety bool   `json:"safety_flag"`
	}
	r := a.runEnv([]string{"LANG=en_CA.UTF-8", "LC_ALL="}, "add", "response", "--assignment", "01JN7ZQ4K0M4T1X6W9PZ2C8R3D",
		"--answer-kind", "measure", "--measure", "phq9", "--answers", "0,0,0,0,0,0,0,0,1", "--status", "in_progress", "--json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &resp) != nil || !resp.Safety {
		t.Fatalf("homework PHQ-9 with item 9: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "Riverside clinic on-call") || !strings.Contains(r.stderr, "call 555-0100") || strings.Contains(r.stderr, "9-8-8") {
		t.Fatalf("crisis.json not used:\n%s", r.stderr)
	}

	// A damaged crisis.json never hides the resources; editing item 9 up shows them.
	os.WriteFile(filepath.Join(a.home, crisisFile), []byte(`{"locales": {"en-CA": {"mesage": "typo"}}}`), 0o600)
	var phqs []listItem
	a.okJSON(&phqs, "list", "--kind", "phq9")
	var id string
	for _, it := range phqs {
		var b bytes.Buffer
		json.Compact(&b, it.Entry)
		if strings.Contains(b.String(), `"answers":[3,3,3,3,3,3,3,3,0]`) {
			id = it.ID
		}
	}
	r = a.runEnv([]string{"LANG=en_CA.UTF-8", "LC_ALL="}, "edit", id, "--answers", "3,3,3,3,3,3,3,3,3")
	if r.code != 0 || !strings.Contains(r.stderr, "9-8-8 Suicide Crisis Helpline") || !strings.Contains(r.stderr, "built-in crisis resources") {
		t.Fatalf("edit to item 9 = 3 with a damaged crisis.json: exit %d\n%s", r.code, r.stderr)
	}
	if r, c := count(t, sdb, `SELECT count(*) FROM records`), count(t, sdb, feedSize); r != records || c != changes {
		t.Fatalf("something was sent: server records %d→%d, changes %d→%d", records, r, changes, c)
	}
}

func TestTrendsOnASeededWeek(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	a := newDevice(t, passA)
	a.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit.txt"))
	seedWeek(t, a)
	flagged := a.at("2026-03-08T10:00:00-05:00", "add", "phq9", "--answers", "1,1,1,1,1,1,1,0,1")
	if !strings.Contains(flagged.stderr, "not a crisis or emergency service") {
		t.Fatalf("item 9 = 1: no crisis resources:\n%s", flagged.stderr)
	}
	const now = "2026-03-08T18:00:00-05:00"

	// The whole week.
	var tr trendsJSON
	if err := json.Unmarshal([]byte(a.at(now, "trends", "--since", "2026-03-02", "--until", "2026-03-08", "--json").stdout), &tr); err != nil {
		t.Fatal(err)
	}
	type day struct {
		day         string
		n           int
		mood, anx   float64
		anxRecorded bool
	}
	wantDays := []day{{"2026-03-02", 1, 4, 6, true}, {"2026-03-03", 2, 4, 5.5, true}, {"2026-03-04", 1, 3, 7, true},
		{"2026-03-06", 1, 8, 2, true}, {"2026-03-07", 1, 7, 3, true}, {"2026-03-08", 1, 5, 0, false}}
	if tr.From != "2026-03-02" || tr.To != "2026-03-08" || len(tr.Days) != len(wantDays) {
		t.Fatalf("trends range %s–%s, %d days: %+v", tr.From, tr.To, len(tr.Days), tr.Days)
	}
	for i, w := range wantDays {
		g := tr.Days[i]
		if g.Day != w.day || g.Checkins != w.n || g.Mood != w.mood || (g.Anxiety != nil) != w.anxRecorded || (g.Anxiety != nil && *g.Anxiety != w.anx) || g.Energy != nil {
			t.Errorf("day %d: got %+v (anxiety %v), want %+v", i, g, g.Anxiety, w)
		}
	}
	// work: on 03-02, 03-03, 03-04, 03-08 → (4+4+3+5)/4 = 4; without: 03-06, 03-07 → 7.5.
	// walk: on 03-02, 03-03, 03-06, 03-07 → (4+4+8+7)/4 = 5.75; without: 03-04, 03-08 → 4;
	// helped yes 2 (03-02, 03-03), somewhat 1, no 1. music is on 1 day only: left out.
	if len(tr.Triggers) != 1 || tr.Triggers[0] != (associationJSON{Name: "work", DaysWith: 4, DaysWithout: 2, MoodWith: 4, MoodWithout: 7.5, Difference: -3.5}) {
		t.Errorf("triggers: %+v", tr.Triggers)
	}
	if len(tr.Coping) != 1 {
		t.Fatalf("coping: %+v", tr.Coping)
	}
	if c := tr.Coping[0]; c.Name != "walk" || c.DaysWith != 4 || c.DaysWithout != 2 || c.MoodWith != 5.75 || c.MoodWithout != 4 || c.Difference != 1.75 ||
		*c.HelpedYes != 2 || *c.HelpedSome != 1 || *c.HelpedNo != 1 {
		t.Errorf("coping walk: %+v", c)
	}
	// 03-02..03-04 and 03-06..03-08: two runs of 3, the current one ending on 03-08.
	if tr.Streaks != (streaksJSON{Current: 3, Longest: 3, CheckinDays: 6}) {
		t.Errorf("streaks: %+v", tr.Streaks)
	}
	// PHQ-9: 2+2+2+2+2+1+1+1+0 = 13 moderate; 1×7+0+1 = 8 mild with item 9. GAD-7: 7 mild.
	if len(tr.Measures) != 2 || tr.Measures[0].Measure != "phq9" || tr.Measures[1].Measure != "gad7" {
		t.Fatalf("measures: %+v", tr.Measures)
	}
	phq := tr.Measures[0]
	if len(phq.Points) != 2 || len(phq.Bands) != 5 ||
		phq.Points[0] != (pointJSON{Day: "2026-03-02", At: "2026-03-02T10:00:00-05:00", Measure: "phq9", Total: 13, Band: "moderate"}) ||
		phq.Points[1] != (pointJSON{Day: "2026-03-08", At: "2026-03-08T10:00:00-05:00", Measure: "phq9", Total: 8, Band: "mild", Item9: true}) {
		t.Errorf("PHQ-9 series: %+v", phq)
	}
	if gad := tr.Measures[1]; len(gad.Points) != 1 || gad.Points[0].Total != 7 || gad.Points[0].Band != "mild" || gad.Points[0].Item9 {
		t.Errorf("GAD-7 series: %+v", gad)
	}
	if tr.Homework != (homeworkJSON{}) {
		t.Errorf("homework: %+v", tr.Homework)
	}

	// 03-03 to 03-07: work is on 2 days only (left out); walk on 03-03, 03-06, 03-07 →
	// (4+8+7)/3 against 3 on 03-04; streak 03-06..03-07.
	var sub trendsJSON
	json.Unmarshal([]byte(a.at(now, "trends", "--since", "2026-03-03", "--until", "2026-03-07", "--json").stdout), &sub)
	if len(sub.Days) != 4 || len(sub.Triggers) != 0 || len(sub.Coping) != 1 || sub.Coping[0].DaysWith != 3 ||
		sub.Coping[0].MoodWith != 19.0/3 || sub.Coping[0].MoodWithout != 3 || sub.Streaks != (streaksJSON{2, 2, 4}) ||
		len(sub.Measures) != 1 || sub.Measures[0].Measure != "gad7" {
		t.Errorf("03-03..03-07: %+v", sub)
	}

	// The terminal chart, over the default range: the 30 days up to today.
	r := a.at(now, "trends")
	for _, want := range []string{
		"Mood and anxiety, 2026-02-07 to 2026-03-08",
		"mood     ▄▄▃·▇▆▅",
		"2026-03-03  4 ####            5.5 ######        -       2",
		"work                      4.0 (4)          7.5 (2)          -3.5",
		"walk                      5.8 (4)          4.0 (2)          +1.8   helped: yes 2, somewhat 1, no 1",
		"2026-03-02  13 (moderate)",
		"2026-03-08  8 (mild)               ######  ! item 9 above zero",
		"Streaks: current 3 days, longest 3, 6 days with a check-in",
		"Homework: 0 assigned",
		"not a crisis or emergency service", // the resources the flag points to
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("terminal chart lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "music") {
		t.Errorf("music (1 day) compared:\n%s", r.stdout)
	}

	// Bad ranges are usage errors.
	for _, args := range [][]string{{"--since", "2026-03-09", "--until", "2026-03-08"}, {"--since", "March"}} {
		if r := a.runEnv([]string{envNow + "=" + now}, append([]string{"trends"}, args...)...); r.code != exitUsage {
			t.Errorf("trends %v: exit %d %s", args, r.code, r.stderr)
		}
	}

	// The SVG chart, parsed.
	svgPath := filepath.Join(t.TempDir(), "chart.svg")
	r = a.at(now, "trends", "--since", "2026-03-02", "--until", "2026-03-08", "--svg", svgPath)
	if !strings.Contains(r.stderr, svgPath) || r.stdout != "" {
		t.Errorf("trends --svg should say where it wrote and print nothing else:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	checkPrivate(t, svgPath)
	svg := parseSVG(t, svgPath)
	if svg.XMLName.Space != "http://www.w3.org/2000/svg" || svg.XMLName.Local != "svg" {
		t.Fatalf("root element %v", svg.XMLName)
	}
	if title := svg.child("title"); title == nil || title.Text != "Mood and anxiety, 2026-03-02 to 2026-03-08" {
		t.Errorf("title: %+v", title)
	}
	wantSeries := map[string][]string{
		"mood":          {"2026-03-02 mood 4", "2026-03-03 mood 4", "2026-03-04 mood 3", "2026-03-06 mood 8", "2026-03-07 mood 7", "2026-03-08 mood 5"},
		"anxiety":       {"2026-03-02 anxiety 6", "2026-03-03 anxiety 5.5", "2026-03-04 anxiety 7", "2026-03-06 anxiety 2", "2026-03-07 anxiety 3"},
		"measure-phq9":  {"2026-03-02 PHQ-9 13 (moderate)", "2026-03-08 PHQ-9 8 (mild); item 9 above zero"},
		"measure-gad7":  {"2026-03-05 GAD-7 7 (mild)"},
		"measure-who5":  nil,
		"energy":        nil,
		"not-a-series!": nil,
	}
	got := map[string][]string{}
	svg.walk(func(n *xnode) {
		if n.XMLName.Local != "g" || n.attr("data-series") == "" {
			return
		}
		for _, c := range n.Nodes {
			if c.XMLName.Local == "circle" {
				got[n.attr("data-series")] = append(got[n.attr("data-series")], c.child("title").Text)
			}
		}
	})
	for name, want := range wantSeries {
		if !slices.Equal(got[name], want) {
			t.Errorf("SVG series %s: %q, want %q", name, got[name], want)
		}
	}
	if r := a.run("trends", "--svg", svgPath); r.code != exitError || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("trends --svg over an existing file: exit %d %s", r.code, r.stderr)
	}
}

func TestExportReportAndCSV(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	a := newDevice(t, passA)
	a.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit.txt"))
	seedWeek(t, a)
	a.at("2026-03-08T10:00:00-05:00", "add", "phq9", "--answers", "1,1,1,1,1,1,1,0,1")
	a.at("2026-03-08T11:00:00-05:00", "add", "journal", "--title", "Sunday", "--text", "Walked by the river <script>alert(1)</script> https://example.com/x.png")

	dir := t.TempDir()
	htmlPath, csvPath := filepath.Join(dir, "report.html"), filepath.Join(dir, "scores.csv")
	r := a.at("2026-03-08T18:00:00-05:00", "export", "--html", htmlPath, "--csv", csvPath)
	if r.stdout != "" || !strings.Contains(r.stderr, htmlPath) || !strings.Contains(r.stderr, csvPath) || !strings.Contains(r.stderr, "NOT encrypted") {
		t.Fatalf("export --html --csv:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	checkPrivate(t, htmlPath)
	checkPrivate(t, csvPath)

	// CSV: one row per check-in and measure, oldest first, numbers only.
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		journal.CSVHeader,
		{"2026-03-02T10:00", "2026-03-02", "measure", "phq9", "", "", "", "", "13", "", "moderate", "false"},
		{"2026-03-02T21:00", "2026-03-02", "checkin", "", "4", "6", "", "", "", "", "", ""},
		{"2026-03-03T08:00", "2026-03-03", "checkin", "", "6", "3", "", "", "", "", "", ""},
		{"2026-03-03T23:30", "2026-03-03", "checkin", "", "2", "8", "", "", "", "", "", ""},
		{"2026-03-04T20:00", "2026-03-04", "checkin", "", "3", "7", "", "", "", "", "", ""},
		{"2026-03-05T10:00", "2026-03-05", "measure", "gad7", "", "", "", "", "7", "", "mild", ""},
		{"2026-03-06T19:00", "2026-03-06", "checkin", "", "8", "2", "", "", "", "", "", ""},
		{"2026-03-07T19:00", "2026-03-07", "checkin", "", "7", "3", "", "", "", "", "", ""},
		{"2026-03-08T10:00", "2026-03-08", "measure", "phq9", "", "", "", "", "8", "", "mild", "true"},
		{"2026-03-08T12:00", "2026-03-08", "checkin", "", "5", "", "", "", "", "", "", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("CSV has %d rows, want %d:\n%q", len(rows), len(want), rows)
	}
	for i := range want {
		g := slices.Clone(rows[i])
		if i > 0 {
			if !strings.HasSuffix(g[0], "-05:00") {
				t.Errorf("row %d created %q: want the local offset", i, g[0])
			}
			g[0] = g[0][:len("2026-03-02T10:00")] // the clock runs on for a moment after INTERLUDE_NOW
		}
		if !slices.Equal(g, want[i]) {
			t.Errorf("CSV row %d: %q, want %q", i, rows[i], want[i])
		}
	}

	// HTML: every entry, escaped, and nothing loaded from elsewhere.
	b, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if n := strings.Count(page, `<section class="entry">`); n != 11 {
		t.Errorf("report shows %d entries, want 11 (7 check-ins, 3 measures, 1 journal)", n)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Interlude journal, exported 2026-03-08", "@media print", "Check-in", "2026-03-03 23:30 -05:00",
		"&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34;", "Walked by the river &lt;script&gt;", "<svg", "not a crisis or emergency service"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	external := regexp.MustCompile(`(?i)<script|<link|<img|<iframe|<object|<embed|\ssrc\s*=|\shref\s*=|url\(|@import|<meta[^>]+http-equiv`)
	if m := external.FindString(page); m != "" {
		t.Errorf("report loads or links something (%q)", m)
	}

	// Existing files stop the export before anything is written.
	other := filepath.Join(dir, "other.csv")
	if r := a.run("export", "--csv", other, "--html", htmlPath); r.code != exitError || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("export over an existing file: exit %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("%s was left behind: %v", other, err)
	}
	// --out still writes the JSON export alongside.
	jsonPath := filepath.Join(dir, "all.json")
	a.ok("export", "--out", jsonPath, "--csv", filepath.Join(dir, "again.csv"))
	if b, err := os.ReadFile(jsonPath); err != nil || !strings.Contains(string(b), `"interlude-export/1"`) {
		t.Errorf("export --out with --csv: %v %s", err, b)
	}
}

func TestWatchShowsRemindersWhenDue(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	a := newDevice(t, passA)
	a.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit.txt"))
	a.at("2026-03-02T08:59:00-05:00", "reminders", "add", "--kind", "checkin", "--at", "09:00")
	a.at("2026-03-02T08:59:00-05:00", "reminders", "add", "--kind", "homework", "--at", "09:00", "--days", "tue")

	// The watch starts at 08:59:58: nothing is due until the minute turns, two seconds later.
	cmd := a.command([]string{envNow + "=2026-03-02T08:59:58-05:00"}, "sync", "--watch", "--json")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, "the watcher's first round", 30*time.Second, func() bool { return strings.Contains(out.String(), `"pulled"`) })
	if strings.Contains(out.String(), "reminder") {
		t.Fatalf("a reminder before 09:00:\n%s", out.String())
	}
	waitFor(t, "the 09:00 check-in reminder", 30*time.Second, func() bool { return strings.Contains(out.String(), `"reminder"`) })
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGINT: %v\n%s", err, out.String())
	}
	var due []dueJSON
	dec := json.NewDecoder(strings.NewReader(out.String()))
	for {
		var m map[string]json.RawMessage
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("watch output: %v\n%s", err, out.String())
		}
		if raw, ok := m["reminder"]; ok {
			var d dueJSON
			json.Unmarshal(raw, &d)
			due = append(due, d)
		}
	}
	// Monday: the check-in only (the homework one is for Tuesdays), once.
	if len(due) != 1 || due[0] != (dueJSON{Kind: "checkin", Time: "09:00"}) {
		t.Fatalf("reminders shown: %+v\n%s", due, out.String())
	}
	// The watcher recorded the check: nothing more is due at 09:01.
	if r := a.at("2026-03-02T09:01:00-05:00", "reminders", "due"); !strings.Contains(r.stdout, "Nothing due") {
		t.Fatalf("after the watch: %s", r.stdout)
	}
}

// TestRemindersThroughCLI runs the reminders commands in-process with an injected clock.
// No account is needed: reminders.json holds times only.
func TestRemindersThroughCLI(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	call := func(now string, args ...string) (string, string, int) {
		t.Helper()
		env := map[string]string{envHome: home, envNow: now}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
		return stdout.String(), stderr.String(), code
	}
	ok := func(now string, args ...string) string {
		t.Helper()
		out, errOut, code := call(now, args...)
		if code != 0 {
			t.Fatalf("%s interlude %s: exit %d\n%s%s", now, strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	due := func(now string) []dueJSON {
		t.Helper()
		var d []dueJSON
		if err := json.Unmarshal([]byte(ok(now, "reminders", "due", "--json")), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	checkin9 := dueJSON{"checkin", "09:00", ""}
	homework := dueJSON{"homework", "18:30", "mon,wed,fri"}

	// 2026-03-02 is a Monday.
	ok("2026-03-02T08:00:00-05:00", "reminders", "add", "--kind", "checkin", "--at", "09:00")
	ok("2026-03-02T08:00:00-05:00", "reminders", "add", "--kind", "homework", "--at", "18:30", "--days", "mon,wed,fri")
	if d := due("2026-03-02T08:30:00-05:00"); len(d) != 0 {
		t.Fatalf("08:30: %+v", d)
	}
	if d := due("2026-03-02T09:05:00-05:00"); !slices.Equal(d, []dueJSON{checkin9}) {
		t.Fatalf("09:05: %+v", d)
	}
	if d := due("2026-03-02T09:06:00-05:00"); len(d) != 0 {
		t.Fatalf("09:06, shown already: %+v", d)
	}

	// Quiet hours 22:00–07:00: a reminder at 06:30 never shows; the Monday 18:30 one does.
	out := ok("2026-03-02T09:10:00-05:00", "reminders", "quiet", "--from", "22:00", "--to", "07:00")
	if !strings.Contains(out, "22:00 to 07:00") {
		t.Fatalf("quiet: %s", out)
	}
	if out := ok("2026-03-02T09:10:00-05:00", "reminders", "add", "--kind", "checkin", "--at", "06:30"); !strings.Contains(out, "inside your quiet hours") {
		t.Fatalf("adding a reminder inside quiet hours should say so: %s", out)
	}
	if d := due("2026-03-03T07:30:00-05:00"); !slices.Equal(d, []dueJSON{homework}) {
		t.Fatalf("Tuesday 07:30: %+v", d)
	}
	// Nothing while quiet, and what fell before is dropped, not delayed: Tuesday's 09:00
	// check-in, unseen by 23:00, does not come back on Wednesday morning.
	if d := due("2026-03-03T23:00:00-05:00"); len(d) != 0 {
		t.Fatalf("Tuesday 23:00 (quiet): %+v", d)
	}
	if d := due("2026-03-04T07:10:00-05:00"); len(d) != 0 {
		t.Fatalf("Wednesday 07:10: %+v", d)
	}
	if d := due("2026-03-04T18:31:00-05:00"); !slices.Equal(d, []dueJSON{checkin9, homework}) {
		t.Fatalf("Wednesday 18:31: %+v", d)
	}
	if d := due("2026-03-05T18:31:00-05:00"); !slices.Equal(d, []dueJSON{checkin9}) {
		t.Fatalf("Thursday 18:31 (no homework reminder on Thursdays): %+v", d)
	}

	var list remindersJSON
	json.Unmarshal([]byte(ok("2026-03-05T19:00:00-05:00", "reminders", "list", "--json")), &list)
	if len(list.Reminders) != 3 || list.Reminders[2] != (reminderJSON{3, "checkin", "06:30", ""}) || list.Quiet == nil || *list.Quiet != (quietJSON{"22:00", "07:00"}) {
		t.Fatalf("list: %+v", list)
	}
	if out := ok("2026-03-05T19:00:00-05:00", "reminders"); !strings.Contains(out, "3. checkin  at 06:30 every day (inside quiet hours") {
		t.Fatalf("reminders:\n%s", out)
	}
	ok("2026-03-05T19:00:00-05:00", "reminders", "remove", "3")
	ok("2026-03-05T19:00:00-05:00", "reminders", "quiet", "--off")
	json.Unmarshal([]byte(ok("2026-03-05T19:00:00-05:00", "reminders", "list", "--json")), &list)
	if len(list.Reminders) != 2 || list.Quiet != nil {
		t.Fatalf("after remove and quiet --off: %+v", list)
	}

	// reminders.json: private, and times only.
	path := filepath.Join(home, remindersFile)
	checkPrivate(t, path)
	var raw map[string]json.RawMessage
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(raw)); !slices.Equal(keys, []string{"checked", "quiet", "reminders"}) {
		t.Fatalf("reminders.json members: %v", keys)
	}

	// Mistakes are usage errors that name the flag.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"reminders", "add", "--kind", "mood", "--at", "09:00"}, "--kind"},
		{[]string{"reminders", "add", "--kind", "checkin", "--at", "25:00"}, "--at"},
		{[]string{"reminders", "add", "--kind", "checkin", "--at", "9"}, "--at"},
		{[]string{"reminders", "add", "--kind", "checkin", "--at", "09:00", "--days", "funday"}, "--days"},
		{[]string{"reminders", "add", "--kind", "checkin", "--at", "09:00"}, "already"},
		{[]string{"reminders", "remove", "7"}, "you have 2 reminders"},
		{[]string{"reminders", "quiet", "--from", "22:00"}, "--to"},
		{[]string{"reminders", "quiet", "--from", "22:00", "--to", "24:00"}, "--to"},
		{[]string{"reminders", "snooze"}, "unknown reminders command"},
	} {
		_, errOut, code := call("2026-03-05T19:00:00-05:00", c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", c.args, code, exitUsage, c.want, errOut)
		}
	}
}

// checkPrivate fails unless path is a file only its owner can read.
func checkPrivate(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
}

// xnode is any XML element, for walking a parsed SVG.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []xnode    `xml:",any"`
}

func parseSVG(t *testing.T, path string) *xnode {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root xnode
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("SVG does not parse: %v", err)
	}
	return &root
}

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *xnode) child(name string) *xnode {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == name {
			return &n.Nodes[i]
		}
	}
	return nil
}

func (n *xnode) walk(f func(*xnode)) {
	f(n)
	for i := range n.Nodes {
		n.Nodes[i].walk(f)
	}
}
