package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fixtures returns the entry documents in testdata/entries, by file name.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "entries", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// jsonValue decodes b into generic JSON for comparison.
func jsonValue(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

func TestFixturesRoundTrip(t *testing.T) {
	kindsSeen := map[string]bool{}
	for name, doc := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			e, err := Unmarshal(doc)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			kindsSeen[e.Kind] = true
			err = e.Validate()
			if _, unknown := e.Body.(*RawBody); unknown {
				if !errors.Is(err, ErrUnknownKind) {
					t.Errorf("Validate of unknown kind = %v, want ErrUnknownKind", err)
				}
			} else if err != nil {
				t.Errorf("Validate: %v", err)
			}
			out, err := Marshal(e)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			// Same document apart from how times are spelled.
			want, got := jsonValue(t, doc), jsonValue(t, out)
			for _, k := range []string{"created", "updated"} {
				if _, ok := want[k]; !ok {
					continue
				}
				wt, _ := time.Parse(time.RFC3339, want[k].(string))
				gt, _ := time.Parse(time.RFC3339, got[k].(string))
				_, wOff := wt.Zone()
				_, gOff := gt.Zone()
				if !wt.Equal(gt) || wOff != gOff {
					t.Errorf("%s = %v, want %v (same instant and offset)", k, got[k], want[k])
				}
				delete(want, k)
				delete(got, k)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("round trip changed the document\n got %s\nwant %s", out, doc)
			}
			// Marshal∘Unmarshal is stable.
			e2, err := Unmarshal(out)
			if err != nil {
				t.Fatalf("Unmarshal of own output: %v", err)
			}
			out2, err := Marshal(e2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, out2) {
				t.Errorf("not stable:\n%s\n%s", out, out2)
			}
		})
	}
	for _, k := range Kinds() {
		if !kindsSeen[k.Name] {
			t.Errorf("no fixture in testdata/entries for kind %q", k.Name)
		}
	}
}

var (
	est    = time.FixedZone("EST", -5*3600)
	testID = "01JN7ZQ4K0M4T1X6W9PZ2C8R3D"
)

// sampleBodies has one fully populated body per kind, built in Go.
func sampleBodies() []Body {
	return []Body{
		&Journal{Title: "t", Text: "text\nmore", Tags: []string{"a", "b"}},
		&Prompted{PromptID: "act-defusion", Prompt: "p", Answer: "a"},
		&Checkin{Mood: new(4), Energy: new(3), Anxiety: new(6), Emotions: []string{"sad", "own word"},
			Triggers: []string{"work"}, BodySymptoms: []string{"headache"}, MindSymptoms: []string{"worry"},
			Coping: []CopingUse{{Skill: "walk", Helped: HelpedYes}, {Skill: "music"}}, SleepHours: new(7.25), Note: "n"},
		&ThoughtRecord{Situation: "s", AutomaticThoughts: "a", EmotionsBefore: []Rating{{Name: "anxious", Intensity: 80}},
			EvidenceFor: "f", EvidenceAgainst: "g", BalancedThought: "b", EmotionsAfter: []Rating{{Name: "anxious", Intensity: 30}}},
		&Experiment{Prediction: "p", BeliefBefore: new(90), Action: "a", Outcome: "o", BeliefAfter: new(0), Learning: "l"},
		&Exposure{Practice: "p", Minutes: new(30), DistressBefore: new(0), DistressPeak: new(100), DistressAfter: new(20), Note: "n"},
		&DiaryCard{Date: "2026-03-01", Urges: []Urge{{Name: "u", Intensity: 5, Acted: new(true)}, {Name: "v", Intensity: 0, Acted: new(false)}},
			Emotions: []Rating{{Name: "sad", Intensity: 0}}, Skills: []string{"STOP"}, Note: "n"},
		&ValuesAction{Domain: "work", Value: "v", Action: "a", Done: true},
		&SessionPrep{SessionDate: "2026-03-10", Topics: []Topic{{Text: "t", BroughtUp: true}, {Text: "u"}}, Questions: []string{"q?"}, SinceLast: "s"},
		&Goal{Title: "g", Why: "w", Target: "2026-12-31", Tasks: []GoalTask{{Text: "t", Week: "2026-W53", Done: true}, {Text: "u"}}},
		&Measure{MeasureID: PHQ9, Answers: []int{0, 1, 2, 3, 0, 1, 2, 3, 0}, Difficulty: new(2)},
		&Assignment{Title: "t", Instructions: "i", Type: AssignMeasure, MeasureID: WHO5, Expects: KindMeasure, Due: "2026-03-08", Repeat: RepeatDaily},
		&Response{Status: StatusSubmitted, Answer: &Checkin{Mood: new(5), Coping: []CopingUse{{Skill: "walk"}}}},
		&Message{Text: "hi"},
		&Availability{TimeZone: "Europe/London", Hours: []OfficeHours{{Days: Weekdays{time.Monday, time.Friday}, Start: "09:00", End: "12:30"}},
			ReplyOnly: true, ResponseTime: "2 days", Note: "n"},
	}
}

func TestTypedRoundTripEveryKind(t *testing.T) {
	created := time.Date(2026, 3, 2, 21, 14, 5, 0, est)
	seen := map[string]bool{}
	for _, body := range sampleBodies() {
		t.Run(body.Kind(), func(t *testing.T) {
			seen[body.Kind()] = true
			e := New(body, created)
			e.Updated = created.Add(90 * time.Minute)
			if _, ok := body.(*Response); ok {
				e.Links.Assignment = testID
			}
			if err := e.Validate(); err != nil {
				t.Fatalf("sample does not validate: %v", err)
			}
			b, err := Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if !got.Created.Equal(e.Created) || !got.Updated.Equal(e.Updated) {
				t.Errorf("times changed: %v %v", got.Created, got.Updated)
			}
			if got.Created.Format(time.RFC3339) != "2026-03-02T21:14:05-05:00" {
				t.Errorf("created lost its offset: %s", got.Created.Format(time.RFC3339))
			}
			got.Created, got.Updated, e.Created, e.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("round trip changed the entry\n got %#v\nwant %#v\njson %s", got.Body, e.Body, b)
			}
		})
	}
	for _, k := range Kinds() {
		if !seen[k.Name] {
			t.Errorf("sampleBodies has no %q", k.Name)
		}
	}
}

func TestUnknownFieldsSurviveEdit(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "newer_client_checkin.json"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Unmarshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	// An older client edits the entry.
	c := e.Body.(*Checkin)
	c.Mood = new(7)
	c.Note = "edited"
	c.Coping[0].Helped = HelpedSomewhat
	e.Touch(time.Date(2026, 3, 3, 8, 0, 0, 0, est))
	out, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	// Every unknown member is still there, its value byte for byte.
	for _, want := range []string{
		`"mood_context":{"place" : "home",  "with": ["cat", "radio"]}`,
		`"sealedUntil":null`,
		`"thread":"01JN7ZQ4K0M4T1X6W9PZ2C8R3E"`,
		`"breathingRate":14.50`,
		`"weather":{"sky":"grey", "note": "<rain> & wind"}`,
		`"minutes":20`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("lost %s\nin %s", want, out)
		}
	}
	for _, want := range []string{`"mood":7`, `"note":"edited"`, `"helped":"somewhat"`, `"updated":"2026-03-03T08:00:00-05:00"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("edit %s missing from %s", want, out)
		}
	}
	// And they survive a second edit cycle unchanged.
	e2, err := Unmarshal(out)
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := Marshal(e2)
	if !bytes.Equal(out, out2) {
		t.Errorf("second cycle changed the document:\n%s\n%s", out, out2)
	}
}

func TestUnknownKindKeptVerbatim(t *testing.T) {
	doc := []byte(`{"v":1,"kind":"sleep_diary","created":"2026-03-02T07:00:00-05:00","body":{"bed": "23:10",  "wake": "06:40"},"x":[1 , 2]}`)
	e, err := Unmarshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := e.Body.(*RawBody)
	if !ok || raw.Kind() != "sleep_diary" {
		t.Fatalf("body = %#v, want *RawBody of sleep_diary", e.Body)
	}
	if err := e.Validate(); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("Validate = %v, want ErrUnknownKind", err)
	}
	e.Touch(time.Date(2026, 3, 3, 0, 0, 0, 0, est))
	out, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"body":{"bed": "23:10",  "wake": "06:40"}`, `"x":[1 , 2]`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("lost %s in %s", want, out)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string // substring of the error
		is        error
	}{
		{"not JSON", `{"v":1,`, "not a JSON object", nil},
		{"array", `[1,2]`, "not a JSON object", nil},
		{"null", `null`, "not a JSON object", nil},
		{"no version", `{"kind":"checkin"}`, `"v" is missing`, nil},
		{"version as text", `{"v":"1","kind":"checkin"}`, "v: want the format version 1", nil},
		{"version zero", `{"v":0,"kind":"checkin"}`, "v: want the format version 1", nil},
		{"newer version", `{"v":2,"kind":"checkin"}`, "update Interlude", ErrNewerVersion},
		{"no kind", `{"v":1}`, "kind: want the entry kind", nil},
		{"kind not text", `{"v":1,"kind":3}`, "kind: want the entry kind", nil},
		{"bad created", `{"v":1,"kind":"checkin","created":"2026-03-02 21:14"}`, "created: \"2026-03-02 21:14\" is not an RFC 3339 time", nil},
		{"created not text", `{"v":1,"kind":"checkin","created":5}`, "created: want an RFC 3339 time", nil},
		{"mood as text", `{"v":1,"kind":"checkin","body":{"mood":"4"}}`, `body.mood: want a whole number, got "4"`, nil},
		{"mood fraction", `{"v":1,"kind":"checkin","body":{"mood":4.5}}`, `body.mood: want a whole number`, nil},
		{"nested wrong type", `{"v":1,"kind":"checkin","body":{"mood":4,"coping":[{"skill":1}]}}`, `body.coping[0].skill: want text`, nil},
		{"body not object", `{"v":1,"kind":"checkin","body":[1]}`, "body: want a JSON object", nil},
		{"links not object", `{"v":1,"kind":"checkin","links":"x"}`, "links: want a JSON object", nil},
		{"answer without kind", `{"v":1,"kind":"response","body":{"status":"submitted","answer":{}}}`, "body.answerKind: want the kind of answer", nil},
		{"bad weekday", `{"v":1,"kind":"availability","body":{"hours":[{"days":["funday"]}]}}`, "not a day of the week", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tt.doc))
			if err == nil {
				t.Fatal("Unmarshal succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		e    *Entry
		want string
	}{
		{"nil entry", nil, "entry is nil"},
		{"nil body", &Entry{Kind: KindCheckin}, "Body is nil"},
		{"typed nil body", &Entry{Kind: KindCheckin, Body: (*Checkin)(nil)}, "Body is nil"},
		{"kind mismatch", &Entry{Kind: KindJournal, Body: &Checkin{}}, `Kind is "journal" but Body is a "checkin" body`},
		{"bad unknown", &Entry{Body: &Message{Text: "x"}, Unknown: UnknownFields{"x": json.RawMessage("{")}}, `unknown field "x" does not hold valid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.e)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marshal error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMarshalFillsKindAndOmitsEmpty(t *testing.T) {
	e := &Entry{Created: time.Date(2026, 3, 2, 9, 0, 0, 0, est), Body: &Checkin{Mood: new(0)}}
	b, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"kind":"checkin","created":"2026-03-02T09:00:00-05:00","body":{"mood":0}}`
	if string(b) != want {
		t.Errorf("Marshal = %s\nwant      %s", b, want)
	}
	// A known name placed in Unknown by hand never duplicates a member.
	e.Unknown = UnknownFields{"kind": json.RawMessage(`"journal"`), "zeta": json.RawMessage(`1`)}
	b, _ = Marshal(e)
	if strings.Count(string(b), `"kind"`) != 1 || !strings.HasSuffix(string(b), `,"zeta":1}`) {
		t.Errorf("Marshal = %s", b)
	}
}

func TestValidate(t *testing.T) {
	created := time.Date(2026, 3, 2, 9, 0, 0, 0, est)
	entry := func(b Body) *Entry { return New(b, created) }
	withLinks := func(e *Entry, l Links) *Entry { e.Links = l; return e }
	tests := []struct {
		name    string
		e       *Entry
		field   string // "" means valid
		problem string
	}{
		{"valid checkin", entry(&Checkin{Mood: new(0)}), "", ""},
		{"mood too high", entry(&Checkin{Mood: new(11)}), "body.mood", "is 11; allowed 0–10"},
		{"mood negative", entry(&Checkin{Mood: new(-1)}), "body.mood", "is -1; allowed 0–10"},
		{"mood missing", entry(&Checkin{Anxiety: new(3)}), "body.mood", "is required; give a whole number, allowed 0–10"},
		{"anxiety too high", entry(&Checkin{Mood: new(3), Anxiety: new(12)}), "body.anxiety", "allowed 0–10"},
		{"energy too high", entry(&Checkin{Mood: new(3), Energy: new(99)}), "body.energy", "allowed 0–10"},
		{"sleep too long", entry(&Checkin{Mood: new(3), SleepHours: new(24.5)}), "body.sleepHours", "is 24.5; allowed 0–24"},
		{"coping helped", entry(&Checkin{Mood: new(3), Coping: []CopingUse{{Skill: "walk"}, {Skill: "tv", Helped: "maybe"}}}), "body.coping[1].helped", `is "maybe"; allowed yes, somewhat, no`},
		{"coping skill blank", entry(&Checkin{Mood: new(3), Coping: []CopingUse{{Skill: " "}}}), "body.coping[0].skill", "is required"},
		{"emotion two lines", entry(&Checkin{Mood: new(3), Emotions: []string{"sad\nand more"}}), "body.emotions[0]", "has a line break"},
		{"trigger too long", entry(&Checkin{Mood: new(3), Triggers: []string{strings.Repeat("x", 81)}}), "body.triggers[0]", "is 81 characters long; allowed 1–80"},
		{"thought intensity", entry(&ThoughtRecord{Situation: "s", AutomaticThoughts: "a", EmotionsBefore: []Rating{{Name: "sad", Intensity: 101}}}), "body.emotionsBefore[0].intensity", "is 101; allowed 0–100"},
		{"thought no emotions", entry(&ThoughtRecord{Situation: "s", AutomaticThoughts: "a"}), "body.emotionsBefore", "is required"},
		{"experiment belief", entry(&Experiment{Prediction: "p", BeliefBefore: new(-5)}), "body.beliefBefore", "is -5; allowed 0–100"},
		{"exposure minutes", entry(&Exposure{Practice: "p", Minutes: new(0)}), "body.minutes", "is 0; allowed 1–1440"},
		{"exposure suds", entry(&Exposure{Practice: "p", Minutes: new(5), DistressAfter: new(101)}), "body.distressAfter", "allowed 0–100"},
		{"diary urge", entry(&DiaryCard{Date: "2026-03-01", Urges: []Urge{{Name: "u", Intensity: 6}}}), "body.urges[0].intensity", "is 6; allowed 0–5"},
		{"diary date", entry(&DiaryCard{Date: "2026-02-30"}), "body.date", `is "2026-02-30"; write a date as YYYY-MM-DD`},
		{"values action", entry(&ValuesAction{Domain: "work", Value: "v"}), "body.action", "is required"},
		{"prep empty", entry(&SessionPrep{}), "body.topics", "give at least one topic"},
		{"goal week", entry(&Goal{Title: "g", Tasks: []GoalTask{{Text: "t", Week: "2026-W54"}}}), "body.tasks[0].week", `is "2026-W54"; write an ISO week`},
		{"measure unknown", entry(&Measure{MeasureID: "bdi", Answers: []int{1}}), "body.measure", `is "bdi"; allowed phq9, gad7, who5`},
		{"measure count", entry(&Measure{MeasureID: PHQ9, Answers: []int{1, 1, 1, 1, 1, 1, 1, 1}}), "body.answers", "has 8 answers; PHQ-9 needs exactly 9, one per item, each allowed 0–3"},
		{"measure answer", entry(&Measure{MeasureID: WHO5, Answers: []int{5, 5, 6, 5, 5}}), "body.answers[2]", "is 6; allowed 0–5"},
		{"difficulty on gad7", entry(&Measure{MeasureID: GAD7, Answers: make([]int, 7), Difficulty: new(1)}), "body.difficulty", "GAD-7 has no difficulty question"},
		{"difficulty range", entry(&Measure{MeasureID: PHQ9, Answers: make([]int, 9), Difficulty: new(4)}), "body.difficulty", "is 4; allowed 0–3"},
		{"assignment expects", entry(&Assignment{Title: "t", Type: AssignWorksheet, Worksheet: KindThoughtRecord, Expects: KindJournal}), "body.expects", `is "journal", but a worksheet assignment expects a "thought_record" response`},
		{"assignment practice", entry(&Assignment{Title: "t", Type: AssignPractice}), "body.expects", "is required; one of exposure"},
		{"assignment stray measure", entry(&Assignment{Title: "t", Type: AssignPrompt, Prompt: "p", MeasureID: PHQ9, Expects: KindPrompted}), "body.measure", "only a measure assignment has one"},
		{"assignment repeat", entry(&Assignment{Title: "t", Type: AssignPrompt, Prompt: "p", Expects: KindPrompted, Repeat: "monthly"}), "body.repeat", `is "monthly"; allowed none, daily, weekly`},
		{"response no link", entry(&Response{Status: StatusSubmitted, Answer: &Message{Text: "x"}}), "links.assignment", "is required for a response"},
		{"response answer kind", withLinks(entry(&Response{Status: StatusSubmitted, Answer: &Message{Text: "x"}}), Links{Assignment: testID}), "body.answerKind", `is "message"; allowed prompted`},
		{"response draft ok", withLinks(entry(&Response{Status: StatusInProgress, Answer: &Measure{MeasureID: PHQ9, Answers: []int{1, 2}}}), Links{Assignment: testID}), "", ""},
		{"response draft range", withLinks(entry(&Response{Status: StatusInProgress, Answer: &Measure{MeasureID: PHQ9, Answers: []int{1, 7}}}), Links{Assignment: testID}), "body.answer.answers[1]", "is 7; allowed 0–3"},
		{"response submitted incomplete", withLinks(entry(&Response{Status: StatusSubmitted, Answer: &Measure{MeasureID: PHQ9, Answers: []int{1, 2}}}), Links{Assignment: testID}), "body.answer.answers", "has 2 answers"},
		{"response draft missing mood", withLinks(entry(&Response{Status: StatusInProgress, Answer: &Checkin{}}), Links{Assignment: testID}), "", ""},
		{"response status", withLinks(entry(&Response{Status: "done", Answer: &Checkin{Mood: new(1)}}), Links{Assignment: testID}), "body.status", `is "done"; allowed in_progress, submitted`},
		{"message empty", entry(&Message{Text: "  "}), "body.text", "is required"},
		{"availability hours", entry(&Availability{Hours: []OfficeHours{{Days: Weekdays{time.Monday}, Start: "17:00", End: "09:00"}}}), "body.hours[0].end", "not after the start"},
		{"availability clock", entry(&Availability{Hours: []OfficeHours{{Days: Weekdays{time.Monday}, Start: "9:00", End: "17:00"}}}), "body.hours[0].start", "HH:MM"},
		{"bad link", withLinks(entry(&Message{Text: "x"}), Links{ReplyTo: "not-an-id"}), "links.replyTo", "want a record ID"},
		{"no created", &Entry{Kind: KindMessage, Body: &Message{Text: "x"}}, "created", "is required"},
		{"kind mismatch", &Entry{Kind: KindJournal, Created: created, Body: &Message{Text: "x"}}, "kind", `is "journal" but the body is a "message" body`},
		{"no body", &Entry{Kind: KindMessage, Created: created}, "body", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want an ErrInvalid", err)
			}
			for _, fe := range FieldErrors(err) {
				if fe.Field == tt.field && strings.Contains(fe.Problem, tt.problem) {
					return
				}
			}
			t.Errorf("Validate = %v\nwant %s: …%s…", err, tt.field, tt.problem)
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	e := New(&Checkin{Mood: new(11), Anxiety: new(-1), SleepHours: new(30.0)}, time.Now())
	if n := len(FieldErrors(e.Validate())); n != 3 {
		t.Errorf("got %d field errors, want 3: %v", n, e.Validate())
	}
}

func TestAssignmentCheckResponse(t *testing.T) {
	a := &Assignment{Title: "PHQ-9 weekly", Type: AssignMeasure, MeasureID: PHQ9, Expects: KindMeasure}
	tests := []struct {
		name string
		r    *Response
		ok   bool
	}{
		{"right measure", &Response{Answer: &Measure{MeasureID: "PHQ-9"}}, true},
		{"wrong measure", &Response{Answer: &Measure{MeasureID: GAD7}}, false},
		{"wrong kind", &Response{Answer: &Journal{Text: "x"}}, false},
		{"no answer", &Response{}, false},
	}
	for _, tt := range tests {
		if err := a.CheckResponse(tt.r); (err == nil) != tt.ok {
			t.Errorf("%s: CheckResponse = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestGoalProgressAndWeeks(t *testing.T) {
	g := &Goal{Tasks: []GoalTask{{Text: "a", Week: "2026-W10", Done: true}, {Text: "b", Week: "2026-W10"}, {Text: "c", Week: "2026-W11", Done: true}}}
	if d, n := g.Progress("2026-W10"); d != 1 || n != 2 {
		t.Errorf("Progress(W10) = %d/%d, want 1/2", d, n)
	}
	if d, n := g.Progress(""); d != 2 || n != 3 {
		t.Errorf("Progress(all) = %d/%d, want 2/3", d, n)
	}
	if w := WeekOf(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); w != "2026-W10" {
		t.Errorf("WeekOf = %s, want 2026-W10", w)
	}
	for week, ok := range map[string]bool{"2026-W53": true, "2025-W53": false, "2020-W53": true, "2026-W00": false, "2026W10": false} {
		if isoWeek(week) != ok {
			t.Errorf("isoWeek(%s) = %v, want %v", week, !ok, ok)
		}
	}
}

func TestAvailabilityWithin(t *testing.T) {
	a := &Availability{Hours: []OfficeHours{{Days: Weekdays{time.Monday, time.Tuesday}, Start: "09:00", End: "17:00"}}}
	mon := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, est) } // a Monday
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{{mon(9, 0), true}, {mon(16, 59), true}, {mon(17, 0), false}, {mon(8, 59), false}, {mon(10, 0).AddDate(0, 0, 2), false}} {
		if got := a.Within(tt.at); got != tt.want {
			t.Errorf("Within(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestParseWeekdays(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"mon-fri", "mon,tue,wed,thu,fri", false},
		{"sat+sun", "sat,sun", false},
		{"fri-mon", "fri,sat,sun,mon", false},
		{"Monday, wed", "mon,wed", false},
		{"mon,mon", "mon", false},
		{"funday", "", true},
	}
	for _, tt := range tests {
		got, err := ParseWeekdays(tt.in)
		if (err != nil) != tt.err || (err == nil && got.String() != tt.want) {
			t.Errorf("ParseWeekdays(%q) = %v, %v; want %s (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestDecodeErrorWording(t *testing.T) {
	for doc, want := range map[string]string{
		`{"v":1,"kind":"measure","body":{"answers":"1,2"}}`:  `body.answers: want a list of whole numbers, got "1,2"`,
		`{"v":1,"kind":"checkin","body":{"emotions":"sad"}}`: `body.emotions: want a list of text values, got "sad"`,
		`{"v":1,"kind":"values","body":{"done":"yes"}}`:      `body.done: want true or false, got "yes"`,
		`{"v":1,"kind":"checkin","body":{"sleepHours":"7"}}`: `body.sleepHours: want a number, got "7"`,
	} {
		if _, err := Unmarshal([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Unmarshal(%s) = %v, want %q", doc, err, want)
		}
	}
}
