package journal

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBuildEveryKind(t *testing.T) {
	tests := []struct {
		kind   string
		values map[string]string
		want   Body
		links  Links
	}{
		{"journal", map[string]string{"title": "Sunday", "text": "Market, then home.", "tags": `family, a\,b`},
			&Journal{Title: "Sunday", Text: "Market, then home.", Tags: []string{"family", "a,b"}}, Links{}},
		{"prompted", map[string]string{"prompt-id": "reflect-three-good-things", "answer": "Coffee, a walk, bed early", "prompt-record": testID},
			&Prompted{PromptID: "reflect-three-good-things", Prompt: mustPrompt("reflect-three-good-things"), Answer: "Coffee, a walk, bed early"}, Links{Prompt: testID}},
		{"checkin", map[string]string{"mood": "4", "anxiety": "6", "emotions": "sad,tired", "triggers": "work", "coping": "walk"},
			&Checkin{Mood: new(4), Anxiety: new(6), Emotions: []string{"sad", "tired"}, Triggers: []string{"work"}, Coping: []CopingUse{{Skill: "walk"}}}, Links{}},
		{"checkin", map[string]string{"mood": " 7 ", "energy": "", "coping": "walk:yes, music:Somewhat", "sleep": "7.5", "body-symptoms": "headache", "mind-symptoms": "worry", "note": "ok, fine"},
			&Checkin{Mood: new(7), Coping: []CopingUse{{Skill: "walk", Helped: HelpedYes}, {Skill: "music", Helped: HelpedSomewhat}}, SleepHours: new(7.5), BodySymptoms: []string{"headache"}, MindSymptoms: []string{"worry"}, Note: "ok, fine"}, Links{}},
		{"thought_record", map[string]string{"situation": "Meeting", "thoughts": "I'm useless, always", "before": "anxious:80, sad:60", "after": "anxious:30", "balanced": "One meeting"},
			&ThoughtRecord{Situation: "Meeting", AutomaticThoughts: "I'm useless, always", EmotionsBefore: []Rating{{Name: "anxious", Intensity: 80}, {Name: "sad", Intensity: 60}}, EmotionsAfter: []Rating{{Name: "anxious", Intensity: 30}}, BalancedThought: "One meeting"}, Links{}},
		{"experiment", map[string]string{"prediction": "They'll laugh", "belief-before": "80", "belief-after": "20", "learning": "They didn't"},
			&Experiment{Prediction: "They'll laugh", BeliefBefore: new(80), BeliefAfter: new(20), Learning: "They didn't"}, Links{}},
		{"exposure", map[string]string{"practice": "bus", "minutes": "20", "suds-before": "70", "suds-after": "30"},
			&Exposure{Practice: "bus", Minutes: new(20), DistressBefore: new(70), DistressAfter: new(30)}, Links{}},
		{"diary_card", map[string]string{"date": "2026-03-06", "urges": "self-harm:2:resisted,drink:1:acted,shop:0", "emotions": "sad:3", "skills": "TIPP,STOP"},
			&DiaryCard{Date: "2026-03-06", Urges: []Urge{{Name: "self-harm", Intensity: 2, Acted: new(false)}, {Name: "drink", Intensity: 1, Acted: new(true)}, {Name: "shop", Intensity: 0}}, Emotions: []Rating{{Name: "sad", Intensity: 3}}, Skills: []string{"TIPP", "STOP"}}, Links{}},
		{"values", map[string]string{"domain": "friendship", "value": "Being there", "action": "Call Jo", "done": "yes"},
			&ValuesAction{Domain: "friendship", Value: "Being there", Action: "Call Jo", Done: true}, Links{}},
		{"session_prep", map[string]string{"date": "2026-03-10", "topics": "sleep,my sister", "questions": `Can we\, maybe\, slow down?`},
			&SessionPrep{SessionDate: "2026-03-10", Topics: []Topic{{Text: "sleep"}, {Text: "my sister"}}, Questions: []string{"Can we, maybe, slow down?"}}, Links{}},
		{"goal", map[string]string{"title": "Walk more", "tasks": "walk 3 times:2026-W10:done,walk 4 times:2026-W11,stretch:done,note: stuff"},
			&Goal{Title: "Walk more", Tasks: []GoalTask{{Text: "walk 3 times", Week: "2026-W10", Done: true}, {Text: "walk 4 times", Week: "2026-W11"}, {Text: "stretch", Done: true}, {Text: "note: stuff"}}}, Links{}},
		{"measure", map[string]string{"measure": "GAD-7", "answers": "1,1,1,1,1,1,1"},
			&Measure{MeasureID: GAD7, Answers: []int{1, 1, 1, 1, 1, 1, 1}}, Links{}},
		{"phq9", map[string]string{"answers": "1,2,1,2,1,2,1,1,0", "difficulty": "1"},
			&Measure{MeasureID: PHQ9, Answers: []int{1, 2, 1, 2, 1, 2, 1, 1, 0}, Difficulty: new(1)}, Links{}},
		{"who5", map[string]string{"answers": "3, 3, 3, 2, 2"},
			&Measure{MeasureID: WHO5, Answers: []int{3, 3, 3, 2, 2}}, Links{}},
		{"assignment", map[string]string{"title": "Thought record", "type": "worksheet", "worksheet": "thought_record", "due": "2026-03-08", "repeat": "weekly"},
			&Assignment{Title: "Thought record", Type: AssignWorksheet, Worksheet: KindThoughtRecord, Expects: KindThoughtRecord, Due: "2026-03-08", Repeat: RepeatWeekly}, Links{}},
		{"assignment", map[string]string{"title": "Weekly PHQ-9", "type": "measure", "measure": "PHQ-9", "repeat": "weekly"},
			&Assignment{Title: "Weekly PHQ-9", Type: AssignMeasure, MeasureID: PHQ9, Expects: KindMeasure, Repeat: RepeatWeekly}, Links{}},
		{"response", map[string]string{"assignment": testID, "answer-kind": "checkin", "mood": "5", "note": "done"},
			&Response{Status: StatusSubmitted, Answer: &Checkin{Mood: new(5), Note: "done"}}, Links{Assignment: testID}},
		{"response", map[string]string{"assignment": testID, "answer-kind": "phq9", "answers": "0,0,0,0,0,0,0,0,0", "status": "in_progress"},
			&Response{Status: StatusInProgress, Answer: &Measure{MeasureID: PHQ9, Answers: make([]int, 9)}}, Links{Assignment: testID}},
		{"message", map[string]string{"text": "See you Tuesday, thanks", "reply-to": testID},
			&Message{Text: "See you Tuesday, thanks"}, Links{ReplyTo: testID}},
		{"availability", map[string]string{"hours": "mon-fri@09:00-17:00,sat@10:00-12:00", "reply-only": "yes", "response-time": "within 2 working days"},
			&Availability{Hours: []OfficeHours{{Days: Weekdays{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}, {Days: Weekdays{6}, Start: "10:00", End: "12:00"}}, ReplyOnly: true, ResponseTime: "within 2 working days"}, Links{}},
	}
	built := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			e, err := Build(tt.kind, tt.values)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			built[e.Kind] = true
			if !reflect.DeepEqual(e.Body, tt.want) {
				t.Errorf("body = %#v\nwant %#v", e.Body, tt.want)
			}
			if !reflect.DeepEqual(e.Links, tt.links) {
				t.Errorf("links = %#v, want %#v", e.Links, tt.links)
			}
			if !e.Created.IsZero() {
				t.Error("Build set Created; the caller stamps it")
			}
			e.Touch(time.Date(2026, 3, 2, 9, 0, 0, 0, est))
			if err := e.Validate(); err != nil {
				t.Errorf("built entry does not validate: %v", err)
			}
			if _, err := Marshal(e); err != nil {
				t.Errorf("Marshal: %v", err)
			}
		})
	}
	for _, k := range Kinds() {
		if !built[k.Kind] {
			t.Errorf("no Build case for kind %q", k.Name)
		}
	}
}

func mustPrompt(id string) string {
	p, ok := LookupPrompt(id)
	if !ok {
		panic(id)
	}
	return p.Text
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		kind   string
		values map[string]string
		want   string // substring of the error
	}{
		{"unknown kind", "mood", map[string]string{}, `unknown kind "mood"; use one of journal, prompted, checkin`},
		{"unknown flag", "checkin", map[string]string{"mood": "4", "moood": "5"}, "unknown flag --moood; checkin takes --mood, --energy"},
		{"not a number", "checkin", map[string]string{"mood": "four"}, `--mood: "four" is not a whole number; allowed 0–10`},
		{"out of range", "checkin", map[string]string{"mood": "11"}, "--mood: is 11; allowed 0–10"},
		{"missing mood", "checkin", map[string]string{"anxiety": "3"}, "--mood: is required"},
		{"bad helped", "checkin", map[string]string{"mood": "4", "coping": "walk:maybe"}, `--coping: coping[0].helped is "maybe"; allowed yes, somewhat, no`},
		{"bad sleep", "checkin", map[string]string{"mood": "4", "sleep": "NaN"}, `--sleep: "NaN" is not a number; allowed 0–24`},
		{"rating without number", "thought_record", map[string]string{"situation": "s", "thoughts": "t", "before": "anxious"}, `--before: "anxious" needs a name and an intensity, like anxious:70; allowed 0–100`},
		{"rating out of range", "thought_record", map[string]string{"situation": "s", "thoughts": "t", "before": "anxious:120"}, "--before: emotionsBefore[0].intensity is 120; allowed 0–100"},
		{"missing situation", "thought_record", map[string]string{"thoughts": "t", "before": "sad:10"}, "--situation: is required"},
		{"missing belief", "experiment", map[string]string{"prediction": "p"}, "--belief-before: is required"},
		{"zero minutes", "exposure", map[string]string{"practice": "p", "minutes": "0"}, "--minutes: is 0; allowed 1–1440"},
		{"urge too strong", "diary_card", map[string]string{"date": "2026-03-06", "urges": "self-harm:9"}, "--urges: urges[0].intensity is 9; allowed 0–5"},
		{"urge malformed", "diary_card", map[string]string{"date": "2026-03-06", "urges": "self-harm"}, `--urges: "self-harm" needs an urge and an intensity`},
		{"bad date", "diary_card", map[string]string{"date": "06/03/2026"}, `--date: is "06/03/2026"; write a date as YYYY-MM-DD`},
		{"bad bool", "values", map[string]string{"domain": "d", "value": "v", "action": "a", "done": "maybe"}, `--done: "maybe" is not yes or no`},
		{"empty prep", "session_prep", map[string]string{"date": "2026-03-10"}, "--topics: is required; give at least one topic"},
		{"bad week", "goal", map[string]string{"title": "g", "tasks": "walk:2026-W99"}, `--tasks: tasks[0].week is "2026-W99"`},
		{"answer count", "phq9", map[string]string{"answers": "1,2"}, "--answers: has 2 answers; PHQ-9 needs exactly 9"},
		{"answer not a number", "phq9", map[string]string{"answers": "1,x"}, `--answers: item 2, "x", is not a whole number`},
		{"answer out of range", "gad7", map[string]string{"answers": "0,0,0,0,0,0,4"}, "--answers: answers[6] is 4; allowed 0–3"},
		{"difficulty range", "phq9", map[string]string{"answers": "0,0,0,0,0,0,0,0,0", "difficulty": "5"}, "--difficulty: is 5; allowed 0–3"},
		{"measure unknown", "measure", map[string]string{"measure": "bdi", "answers": "1"}, `--measure: is "bdi"; allowed phq9, gad7, who5`},
		{"prompt unknown", "prompted", map[string]string{"prompt-id": "nope", "answer": "a"}, `--prompt-id: "nope" is not a built-in prompt`},
		{"prompt missing", "prompted", map[string]string{"answer": "a"}, "--prompt: is required"},
		{"assignment type", "assignment", map[string]string{"title": "t", "type": "homework"}, `--type: is "homework"; allowed prompt, worksheet, practice, measure`},
		{"assignment practice", "assignment", map[string]string{"title": "t", "type": "practice"}, "--expects: is required"},
		{"response no kind", "response", map[string]string{"assignment": testID}, "--answer-kind: is required"},
		{"response answer flags without kind", "response", map[string]string{"assignment": testID, "mood": "3"}, "--answer-kind: is required to read --mood"},
		{"response bad kind", "response", map[string]string{"assignment": testID, "answer-kind": "nope"}, `--answer-kind: "nope" is not a kind`},
		{"response no assignment", "response", map[string]string{"answer-kind": "checkin", "mood": "3"}, "--assignment: is required"},
		{"response bad answer", "response", map[string]string{"assignment": testID, "answer-kind": "checkin", "mood": "11"}, "--mood: is 11; allowed 0–10"},
		{"response unknown flag", "response", map[string]string{"assignment": testID, "answer-kind": "checkin", "mood": "3", "foo": "1"}, "unknown flag --foo; a checkin answer takes --mood"},
		{"response answer kind not allowed", "response", map[string]string{"assignment": testID, "answer-kind": "message", "text": "x"}, `--answer-kind: is "message"; allowed prompted`},
		{"bad record id", "message", map[string]string{"text": "x", "reply-to": "xyz"}, `--reply-to: is "xyz"; want a record ID`},
		{"bad hours", "availability", map[string]string{"hours": "mon-fri 9-5"}, `--hours: "mon-fri 9-5": write days@HH:MM-HH:MM`},
		{"bad clock", "availability", map[string]string{"hours": "mon@9:00-17:00"}, `--hours: hours[0].start is "9:00"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Build(tt.kind, tt.values)
			if err == nil {
				t.Fatalf("Build succeeded with %#v, want an error", e.Body)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}

func TestBuildErrorsNameTheFlag(t *testing.T) {
	_, err := Build("checkin", map[string]string{"mood": "12", "sleep": "30"})
	fes := FieldErrors(err)
	if len(fes) != 2 || fes[0].Flag != "mood" || fes[1].Flag != "sleep" || fes[1].Field != "body.sleepHours" {
		t.Errorf("FieldErrors = %+v", fes)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("not ErrInvalid")
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a,b", []string{"a", "b"}},
		{" a , b ", []string{"a", "b"}},
		{`a\,b,c`, []string{"a,b", "c"}},
		{`a\\,b`, []string{`a\`, "b"}},
		{`a\b`, []string{`a\b`}},
	}
	for _, tt := range tests {
		if got := splitList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKindsRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.Name] {
			t.Errorf("kind %q listed twice", k.Name)
		}
		seen[k.Name] = true
		if newBody(k.Kind) == nil || newBody(k.Kind).Kind() != k.Name {
			t.Errorf("kind %q has no matching body type", k.Name)
		}
		if k.Description == "" || len(k.Fields) == 0 {
			t.Errorf("kind %q lacks a description or fields", k.Name)
		}
		flags := map[string]bool{}
		for _, f := range k.Fields {
			if f.Flag == "" || f.Name == "" || f.Help == "" || f.Type == 0 || flags[f.Flag] {
				t.Errorf("kind %q field %+v is incomplete or duplicated", k.Name, f)
			}
			flags[f.Flag] = true
		}
	}
	// Every body field is reachable from a flag (except response's answer,
	// which is built from the answer kind's own flags).
	for _, k := range Kinds() {
		names := map[string]bool{}
		for _, f := range k.Fields {
			names[f.Name] = true
		}
		for _, fi := range infoFor(reflect.TypeOf(newBody(k.Kind)).Elem()).fields {
			if !names[fi.name] && fi.kindKey == "" {
				t.Errorf("kind %q: body field %q has no FieldSpec", k.Name, fi.name)
			}
		}
	}
	spec, ok := Spec("phq9")
	if !ok || spec.Kind != KindMeasure || spec.Fields[0].Items != 9 || spec.Fields[0].Max != 3 {
		t.Errorf("Spec(phq9) = %+v, %v", spec, ok)
	}
	if _, ok := Spec("nope"); ok {
		t.Error("Spec(nope) found something")
	}
	ks := Kinds()
	ks[0].Fields[0].Flag = "changed"
	if Kinds()[0].Fields[0].Flag == "changed" {
		t.Error("Kinds exposes the registry's own slices")
	}
}

func TestPromptLibrary(t *testing.T) {
	ids := map[string]bool{}
	for _, p := range Prompts() {
		if ids[p.ID] || p.Text == "" || p.Title == "" || p.Approach == "" {
			t.Errorf("prompt %+v is duplicated or incomplete", p)
		}
		ids[p.ID] = true
	}
	if len(ids) < 12 {
		t.Errorf("%d prompts, want at least a dozen", len(ids))
	}
}
