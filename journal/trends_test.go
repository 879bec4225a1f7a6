package journal

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Record IDs of the seeded assignments.
const (
	idA = "01JNA0000000000000000000AA" // worksheet, 03-01, submitted
	idB = "01JNB0000000000000000000BB" // GAD-7, 03-02, submitted
	idC = "01JNC0000000000000000000CC" // practice, 03-03, in progress
	idD = "01JND0000000000000000000DD" // prompt, 03-04, not started
	idE = "01JNE0000000000000000000EE" // 02-15, due 02-22, never done
	idF = "01JNF0000000000000000000FF" // 02-20, no due date, never done
)

// at is a local time (UTC−5) in March 2026; atDate is one in another month.
func at(day, hour, min int) time.Time { return time.Date(2026, 3, day, hour, min, 0, 0, est) }
func atDate(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, est)
}

func checkin(when time.Time, mood int, anxiety *int, triggers []string, coping ...CopingUse) *Entry {
	return New(&Checkin{Mood: new(mood), Anxiety: anxiety, Triggers: triggers, Coping: coping, Note: "private note"}, when)
}

func measure(when time.Time, id string, answers ...int) *Entry {
	return New(&Measure{MeasureID: id, Answers: answers}, when)
}

func assignment(id string, when time.Time, a *Assignment) *Entry {
	e := New(a, when)
	e.ID = id
	return e
}

func response(when time.Time, assignmentID string, status ResponseStatus, answer Body) *Entry {
	e := New(&Response{Status: status, Answer: answer}, when)
	e.Links.Assignment = assignmentID
	return e
}

// seeded is a small data set whose expected trends were worked out by hand:
//
//	day    moods    daily  anxiety  triggers      coping
//	02-27  1        (outside the range)
//	03-01  4        4      6        work          walk:yes
//	03-02  6, 8     7      4, 2     -             walk:somewhat
//	03-03  3        3      7        Work          music:no
//	03-04  (a check-in without mood: not counted)
//	03-05  5        5      -        work, sleep   walk:yes
//	03-06  7        7      3        -             walk          (23:30 local, 04:30 UTC on 03-07)
//	03-07  6        6      4        sleep
//	03-08  2        2      8        work          music:somewhat
//	03-09  5        5      5        traffic
//	03-10  9        9      5        sleep
//
// Daily moods sum to 48 over 9 days.
//   - work on 01, 03, 05, 08: (4+3+5+2)/4 = 3.5; without (7+7+6+5+9)/5 = 6.8; −3.3
//   - sleep on 05, 07, 10: (5+6+9)/3 = 6.667; without 28/6 = 4.667; +2.0
//   - walk on 01, 02, 05, 06: (4+7+5+7)/4 = 5.75; without 25/5 = 5.0; +0.75
//   - music (2 days) and traffic (1 day) are too rare to report.
//
// Streaks: 01–03 then 05–10, so longest 6 and current 6 on 03-10.
func seeded() []*Entry {
	yes, some, no := HelpedYes, HelpedSomewhat, HelpedNo
	return []*Entry{
		checkin(atDate(time.February, 27, 9), 1, new(9), []string{"work"}),
		checkin(at(1, 9, 0), 4, new(6), []string{"work"}, CopingUse{Skill: "walk", Helped: yes}),
		checkin(at(2, 9, 0), 6, new(4), nil, CopingUse{Skill: "Walk", Helped: some}),
		checkin(at(2, 21, 0), 8, new(2), nil),
		checkin(at(3, 9, 0), 3, new(7), []string{"Work"}, CopingUse{Skill: "music", Helped: no}),
		New(&Checkin{Anxiety: new(5), Note: "no mood"}, at(4, 9, 0)),
		checkin(at(5, 9, 0), 5, nil, []string{"work", "sleep"}, CopingUse{Skill: "walk", Helped: yes}),
		checkin(at(6, 23, 30), 7, new(3), nil, CopingUse{Skill: "walk"}),
		checkin(at(7, 9, 0), 6, new(4), []string{" sleep "}),
		checkin(at(8, 9, 0), 2, new(8), []string{"work"}, CopingUse{Skill: "music", Helped: some}),
		checkin(at(9, 9, 0), 5, new(5), []string{"traffic"}),
		checkin(at(10, 9, 0), 9, new(5), []string{"sleep"}),

		// PHQ-9: 16 (before), 14 on 03-01, 8 with item 9 = 1 on 03-08.
		measure(atDate(time.February, 20, 9), PHQ9, 2, 2, 2, 2, 2, 2, 2, 2, 0),
		measure(at(1, 10, 0), PHQ9, 2, 2, 2, 2, 2, 2, 1, 1, 0),
		measure(at(8, 10, 0), PHQ9, 1, 1, 1, 1, 1, 1, 1, 0, 1),
		// WHO-5: raw 10 (40 %) on 03-02, raw 13 (52 %) on 03-09.
		measure(at(2, 10, 0), WHO5, 2, 2, 2, 2, 2),
		measure(at(9, 10, 0), WHO5, 3, 3, 3, 2, 2),
		// An unscorable measure is ignored.
		measure(at(9, 11, 0), PHQ9, 1, 1),

		assignment(idA, at(1, 15, 0), &Assignment{Title: "Thought record", Type: AssignWorksheet, Worksheet: KindThoughtRecord, Expects: KindThoughtRecord, Due: "2026-03-08"}),
		assignment(idB, at(2, 15, 0), &Assignment{Title: "GAD-7", Type: AssignMeasure, MeasureID: GAD7, Expects: KindMeasure}),
		assignment(idC, at(3, 15, 0), &Assignment{Title: "Bus practice", Type: AssignPractice, Expects: KindExposure, Repeat: RepeatDaily}),
		assignment(idD, at(4, 15, 0), &Assignment{Title: "Three good things", Type: AssignPrompt, Prompt: "p", Expects: KindPrompted}),
		assignment(idE, atDate(time.February, 15, 15), &Assignment{Title: "Old", Type: AssignPrompt, Prompt: "p", Expects: KindPrompted, Due: "2026-02-22"}),
		assignment(idF, atDate(time.February, 20, 15), &Assignment{Title: "Values card", Type: AssignWorksheet, Worksheet: KindValues, Expects: KindValues}),
		response(at(4, 20, 0), idA, StatusSubmitted, &ThoughtRecord{Situation: "s", AutomaticThoughts: "a", EmotionsBefore: []Rating{{Name: "sad", Intensity: 50}}}),
		response(at(5, 20, 0), idA, StatusInProgress, &ThoughtRecord{Situation: "s2"}),
		// The GAD-7 inside a submitted response counts as a measure: 7, mild.
		response(at(5, 21, 0), idB, StatusSubmitted, &Measure{MeasureID: GAD7, Answers: []int{1, 1, 2, 1, 0, 1, 1}}),
		response(at(6, 20, 0), idC, StatusInProgress, &Exposure{Practice: "bus"}),

		New(&SessionPrep{Topics: []Topic{{Text: "old topic"}}}, atDate(time.February, 25, 9)),
		New(&SessionPrep{SessionDate: "2026-03-10", Topics: []Topic{{Text: "sleep", BroughtUp: true}, {Text: "my sister's visit"}}, Questions: []string{"Can we try a different worksheet?"}}, at(8, 20, 0)),
		New(&SessionPrep{Topics: []Topic{{Text: "My  sister's visit"}, {Text: "work stress"}}, Questions: []string{"can we try a different worksheet?"}}, at(9, 20, 0)),
		New(&Journal{Text: "not counted anywhere"}, at(5, 12, 0)),
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestTrendsDaily(t *testing.T) {
	r := Trends(seeded(), at(1, 0, 0), at(10, 23, 0))
	if r.From != "2026-03-01" || r.To != "2026-03-10" {
		t.Errorf("range %s–%s", r.From, r.To)
	}
	type day struct {
		day      Day
		n        int
		mood     float64
		anxiety  float64 // −1: none
		hasEnerg bool
	}
	want := []day{
		{"2026-03-01", 1, 4, 6, false},
		{"2026-03-02", 2, 7, 3, false},
		{"2026-03-03", 1, 3, 7, false},
		{"2026-03-05", 1, 5, -1, false},
		{"2026-03-06", 1, 7, 3, false},
		{"2026-03-07", 1, 6, 4, false},
		{"2026-03-08", 1, 2, 8, false},
		{"2026-03-09", 1, 5, 5, false},
		{"2026-03-10", 1, 9, 5, false},
	}
	if len(r.Days) != len(want) {
		t.Fatalf("got %d days, want %d: %+v", len(r.Days), len(want), r.Days)
	}
	for i, w := range want {
		g := r.Days[i]
		if g.Day != w.day || g.Checkins != w.n || !near(g.Mood, w.mood) {
			t.Errorf("day %d = %s n=%d mood=%g, want %s n=%d mood=%g", i, g.Day, g.Checkins, g.Mood, w.day, w.n, w.mood)
		}
		if (w.anxiety < 0) != (g.Anxiety == nil) || (g.Anxiety != nil && !near(*g.Anxiety, w.anxiety)) {
			t.Errorf("%s anxiety = %v, want %g", w.day, g.Anxiety, w.anxiety)
		}
		if g.Energy != nil {
			t.Errorf("%s energy = %v, want none", w.day, *g.Energy)
		}
	}
}

func TestTrendsAssociations(t *testing.T) {
	r := Trends(seeded(), at(1, 0, 0), at(10, 23, 0))
	wantTriggers := []Association{
		{Name: "sleep", DaysWith: 3, DaysWithout: 6, MoodWith: 20.0 / 3, MoodWithout: 28.0 / 6, Difference: 20.0/3 - 28.0/6},
		{Name: "work", DaysWith: 4, DaysWithout: 5, MoodWith: 3.5, MoodWithout: 6.8, Difference: -3.3},
	}
	wantCoping := []Association{
		{Name: "walk", DaysWith: 4, DaysWithout: 5, MoodWith: 5.75, MoodWithout: 5.0, Difference: 0.75, HelpedYes: 2, HelpedSomewhat: 1},
	}
	check := func(what string, got, want []Association) {
		if len(got) != len(want) {
			t.Fatalf("%s = %+v, want %+v", what, got, want)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Name != w.Name || g.DaysWith != w.DaysWith || g.DaysWithout != w.DaysWithout ||
				!near(g.MoodWith, w.MoodWith) || !near(g.MoodWithout, w.MoodWithout) || !near(g.Difference, w.Difference) ||
				g.HelpedYes != w.HelpedYes || g.HelpedSomewhat != w.HelpedSomewhat || g.HelpedNo != w.HelpedNo {
				t.Errorf("%s[%d] = %+v\nwant %+v", what, i, g, w)
			}
		}
	}
	check("triggers", r.Triggers, wantTriggers)
	check("coping", r.Coping, wantCoping)
}

func TestTrendsStreaks(t *testing.T) {
	tests := []struct {
		to               time.Time
		current, longest int
	}{
		{at(10, 23, 0), 6, 6},
		{at(11, 8, 0), 6, 6}, // no check-in yet on 03-11: the run to yesterday still counts
		{at(12, 8, 0), 0, 6},
		{at(3, 23, 0), 3, 3},
		{at(4, 12, 0), 3, 3},
		{at(5, 12, 0), 1, 3},
	}
	for _, tt := range tests {
		r := Trends(seeded(), at(1, 0, 0), tt.to)
		if r.Streaks.Current != tt.current || r.Streaks.Longest != tt.longest {
			t.Errorf("to %s: streaks %+v, want current %d longest %d", DayOf(tt.to), r.Streaks, tt.current, tt.longest)
		}
	}
	if r := Trends(seeded(), at(1, 0, 0), at(10, 0, 0)); r.Streaks.CheckinDays != 9 {
		t.Errorf("CheckinDays = %d, want 9", r.Streaks.CheckinDays)
	}
}

func TestTrendsMeasuresAndHomework(t *testing.T) {
	r := Trends(seeded(), at(1, 0, 0), at(10, 23, 0))
	type point struct {
		day   Day
		value int
		band  string
		flag  bool
	}
	want := map[string][]point{
		PHQ9: {{"2026-03-01", 14, "moderate", false}, {"2026-03-08", 8, "mild", true}},
		GAD7: {{"2026-03-05", 7, "mild", false}},
		WHO5: {{"2026-03-02", 40, "poor well-being", false}, {"2026-03-09", 52, "above cut-off", false}},
	}
	var order []string
	for _, s := range r.Measures {
		order = append(order, s.Measure)
		var got []point
		for _, p := range s.Points {
			got = append(got, point{p.Day, p.Result.Value(), p.Result.Band.Name, p.Result.SafetyFlag})
		}
		if !reflect.DeepEqual(got, want[s.Measure]) {
			t.Errorf("%s points = %+v, want %+v", s.Measure, got, want[s.Measure])
		}
	}
	if !reflect.DeepEqual(order, []string{PHQ9, GAD7, WHO5}) {
		t.Errorf("measure order %v", order)
	}
	wantHW := Homework{Assigned: 4, Submitted: 2, InProgress: 1, NotStarted: 1, Responses: 2}
	if r.Homework != wantHW || r.Homework.Rate() != 0.5 {
		t.Errorf("homework = %+v (rate %g), want %+v (rate 0.5)", r.Homework, r.Homework.Rate(), wantHW)
	}
}

func TestTrendsEmpty(t *testing.T) {
	r := Trends(nil, at(1, 0, 0), at(10, 0, 0))
	if len(r.Days) != 0 || r.Streaks != (Streaks{}) || len(r.Triggers) != 0 || r.Homework.Rate() != 0 {
		t.Errorf("empty report = %+v", r)
	}
	var b strings.Builder
	if err := RenderTerminalChart(&b, r); err != nil || !strings.Contains(b.String(), "No check-ins in this period.") {
		t.Errorf("chart of nothing: %v\n%s", err, b.String())
	}
}

func TestSummary(t *testing.T) {
	s := Summary(seeded(), at(1, 0, 0))
	if s.Since != "2026-03-01" || s.Until != "2026-03-10" {
		t.Errorf("range %s–%s", s.Since, s.Until)
	}
	if s.Checkins.Count != 10 || s.Checkins.Days != 9 {
		t.Errorf("check-ins %d on %d days, want 10 on 9", s.Checkins.Count, s.Checkins.Days)
	}
	// Moods in order 4 6 8 3 5 | 7 6 2 5 9: mean 5.5, halves 5.2 and 5.8.
	wantMood := SeriesStats{N: 10, Mean: 5.5, Min: 2, Max: 9, HalvesN: 5, FirstHalf: 5.2, SecondHalf: 5.8, Change: 0.6}
	// Anxiety 6 4 2 7 (3) 4 8 5 5: mean 44/9, halves 4.75 and 5.5, the middle 3 left out.
	wantAnx := SeriesStats{N: 9, Mean: 44.0 / 9, Min: 2, Max: 8, HalvesN: 4, FirstHalf: 4.75, SecondHalf: 5.5, Change: 0.75}
	for _, c := range []struct {
		name      string
		got, want SeriesStats
	}{{"mood", s.Checkins.Mood, wantMood}, {"anxiety", s.Checkins.Anxiety, wantAnx}, {"energy", s.Checkins.Energy, SeriesStats{}}} {
		g, w := c.got, c.want
		if g.N != w.N || g.HalvesN != w.HalvesN || !near(g.Mean, w.Mean) || g.Min != w.Min || g.Max != w.Max ||
			!near(g.FirstHalf, w.FirstHalf) || !near(g.SecondHalf, w.SecondHalf) || !near(g.Change, w.Change) {
			t.Errorf("%s = %+v\nwant %+v", c.name, g, w)
		}
	}

	type change struct {
		baseline    Day
		latest      Day
		change      int
		significant bool
	}
	want := map[string]change{
		PHQ9: {"2026-02-20", "2026-03-08", -8, true}, // 16 → 8, baseline from before the date
		GAD7: {"", "2026-03-05", 0, false},           // one score only
		WHO5: {"2026-03-02", "2026-03-09", 12, true}, // 40 % → 52 %
	}
	for _, m := range s.Measures {
		w := want[m.Measure]
		var base Day
		if m.Baseline != nil {
			base = m.Baseline.Day
		}
		if base != w.baseline || m.Latest.Day != w.latest || m.Change != w.change || m.Significant != w.significant {
			t.Errorf("%s change = base %s latest %s %+d significant %v, want %+v", m.Measure, base, m.Latest.Day, m.Change, m.Significant, w)
		}
	}
	if len(s.Measures) != 3 {
		t.Errorf("%d measures, want 3", len(s.Measures))
	}

	if len(s.SafetyFlags) != 1 || s.SafetyFlags[0].Day != "2026-03-08" || s.SafetyFlags[0].Answer != 1 || s.SafetyFlags[0].AnswerLabel != "Several days" {
		t.Errorf("safety flags = %+v", s.SafetyFlags)
	}

	var hw []string
	for _, h := range s.Homework {
		hw = append(hw, h.ID+":"+string(h.State))
	}
	wantHW := []string{idF + ":not_started", idA + ":submitted", idB + ":submitted", idC + ":in_progress", idD + ":not_started"}
	if !reflect.DeepEqual(hw, wantHW) {
		t.Errorf("homework = %v\nwant %v", hw, wantHW)
	}
	if s.Homework[1].Submissions != 1 || s.Homework[1].LastSubmitted != "2026-03-04" {
		t.Errorf("assignment A = %+v", s.Homework[1])
	}

	if !reflect.DeepEqual(s.Topics, []string{"my sister's visit", "work stress"}) {
		t.Errorf("topics = %q", s.Topics)
	}
	if !reflect.DeepEqual(s.Questions, []string{"Can we try a different worksheet?"}) {
		t.Errorf("questions = %q", s.Questions)
	}
}

func TestSummaryReliableChangeWithinWindow(t *testing.T) {
	// Since 03-02 the PHQ-9 baseline is 03-01's 14: 14 → 8 is −6, reliable.
	s := Summary(seeded(), at(2, 0, 0))
	for _, m := range s.Measures {
		if m.Measure == PHQ9 && (m.Baseline.Day != "2026-03-01" || m.Change != -6 || !m.Significant) {
			t.Errorf("PHQ-9 change = %+d from %s, significant %v", m.Change, m.Baseline.Day, m.Significant)
		}
	}
	// A 4-point change is not reliable.
	entries := []*Entry{
		measure(at(1, 9, 0), PHQ9, 1, 1, 1, 1, 1, 1, 1, 1, 0),
		measure(at(8, 9, 0), PHQ9, 2, 2, 1, 1, 1, 1, 1, 1, 2),
	}
	s = Summary(entries, at(1, 0, 0))
	if m := s.Measures[0]; m.Change != 4 || m.Significant {
		t.Errorf("PHQ-9 8 → 12: change %+d significant %v", m.Change, m.Significant)
	}
}

func TestRenderSummary(t *testing.T) {
	entries := append(seeded(), New(&SessionPrep{Topics: []Topic{{Text: "line one\nFAKE HEADER\x1b[31m"}}}, at(9, 21, 0)))
	var b strings.Builder
	if err := RenderSummary(&b, Summary(entries, at(1, 0, 0))); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Summary since 2026-03-01",
		"SAFETY",
		`PHQ-9 item 9 (thoughts of being better off dead or of self-harm) answered "Several days" on 2026-03-08`,
		"Check-ins: 10 on 9 days",
		"mood     mean 5.5  min 2  max 9  (n=10)  first half 5.2 → second half 5.8 (+0.6)",
		"change -8 from 16 (moderately severe) on 2026-02-20: PHQ-9 change of 5 points or more is reliable change",
		"change +12 from 40% (poor well-being) on 2026-03-02: WHO-5 change of 10 percentage points or more is significant",
		"submitted    Thought record (worksheet, assigned 2026-03-01, due 2026-03-08), 1 submitted, latest 2026-03-04",
		"in progress  Bus practice (practice, assigned 2026-03-03, daily)",
		"  - my sister's visit",
		"  - line one FAKE HEADER [31m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\nFAKE") {
		t.Errorf("user text escaped its line:\n%s", out)
	}
}

func TestNilAndEmptyEntriesAreSkipped(t *testing.T) {
	entries := []*Entry{nil, {}, {Kind: KindCheckin, Body: (*Checkin)(nil)}, New(&Checkin{}, at(1, 9, 0)),
		{Kind: KindResponse, Created: at(1, 9, 0), Body: (*Response)(nil)}, {Kind: KindSessionPrep, Created: at(1, 9, 0), Body: (*SessionPrep)(nil)}}
	r := Trends(entries, at(1, 0, 0), at(2, 0, 0))
	s := Summary(entries, at(1, 0, 0))
	if len(r.Days) != 0 || s.Checkins.Count != 0 {
		t.Errorf("counted something: %+v %+v", r.Days, s.Checkins)
	}
	var b strings.Builder
	if err := WriteHTMLReport(&b, entries, "x"); err != nil {
		t.Error(err)
	}
	if err := WriteCSV(&b, entries); err != nil {
		t.Error(err)
	}
}
