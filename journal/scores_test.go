package journal

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestScoresOnlyStripsFreeText(t *testing.T) {
	// A check-in with text everywhere, including fields from a newer client.
	doc, err := os.ReadFile(filepath.Join("testdata", "entries", "checkin.json"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Unmarshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	e.Links = Links{Prompt: testID, ReplyTo: testID, Unknown: UnknownFields{"thread": []byte(`"secret thread"`)}}
	e.Unknown = UnknownFields{"title": []byte(`"secret title"`)}
	e.Body.(*Checkin).Unknown = UnknownFields{"where": []byte(`"secret place"`)}

	got, ok := e.ScoresOnly()
	if !ok {
		t.Fatal("ScoresOnly of a check-in returned false")
	}
	out, err := Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"long day at work", "sad", "tired", "bittersweet", "work", "headache", "racing", "walk", "music", "call a friend", "secret", testID, "note", "emotions", "triggers", "coping"} {
		if bytes.Contains(out, []byte(text)) {
			t.Errorf("scores-only copy contains %q: %s", text, out)
		}
	}
	want := `{"v":1,"kind":"checkin","created":"2026-03-02T21:14:05-05:00","updated":"2026-03-02T21:20:41-05:00","body":{"mood":4,"energy":3,"anxiety":6,"sleepHours":6.5}}`
	if string(out) != want {
		t.Errorf("scores only = %s\nwant          %s", out, want)
	}
	// The copy shares nothing with the original.
	*got.Body.(*Checkin).Mood = 9
	if *e.Body.(*Checkin).Mood != 4 {
		t.Error("ScoresOnly aliases the original's values")
	}
}

// Whatever fields a check-in or measure gains, the scores-only copy must hold
// no text: every string left is an identifier from a fixed set.
func TestScoresOnlyLeavesNoStrings(t *testing.T) {
	for _, body := range sampleBodies() {
		e := New(body, time.Date(2026, 3, 2, 9, 0, 0, 0, est))
		e.Links.Assignment = testID
		got, ok := e.ScoresOnly()
		switch body.(type) {
		case *Checkin, *Measure, *Response: // the sample response holds a check-in
			if !ok {
				t.Errorf("%s: ScoresOnly = false", body.Kind())
				continue
			}
		default:
			if ok {
				t.Errorf("%s: ScoresOnly = true for a kind without scores", body.Kind())
			}
			continue
		}
		allowed := map[string]bool{"MeasureID": true, "Status": true}
		var walk func(v reflect.Value, path string)
		walk = func(v reflect.Value, path string) {
			switch v.Kind() {
			case reflect.Pointer, reflect.Interface:
				if !v.IsNil() {
					walk(v.Elem(), path)
				}
			case reflect.Struct:
				for i := 0; i < v.NumField(); i++ {
					f := v.Type().Field(i)
					if f.IsExported() && !allowed[f.Name] {
						walk(v.Field(i), path+"."+f.Name)
					}
				}
			case reflect.String:
				if v.Len() > 0 {
					t.Errorf("%s: scores-only copy keeps text at %s: %q", body.Kind(), path, v.String())
				}
			case reflect.Slice, reflect.Map:
				if v.Type().Elem().Kind() != reflect.Int && v.Len() > 0 {
					t.Errorf("%s: scores-only copy keeps a list or map at %s", body.Kind(), path)
				}
			}
		}
		walk(reflect.ValueOf(got.Body), "body")
		if got.Links.Assignment != testID || got.Links.Prompt != "" {
			t.Errorf("%s: links %+v; want only the assignment", body.Kind(), got.Links)
		}
	}
}

func TestScoresOnlyKinds(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, est)
	tests := []struct {
		body Body
		ok   bool
	}{
		{&Measure{MeasureID: PHQ9, Answers: make([]int, 9), Unknown: UnknownFields{"comment": []byte(`"text"`)}}, true},
		{&Response{Status: StatusSubmitted, Answer: &Measure{MeasureID: GAD7, Answers: make([]int, 7)}}, true},
		{&Response{Status: StatusSubmitted, Answer: &ThoughtRecord{Situation: "s"}}, false},
		{&Journal{Text: "x"}, false},
		{&DiaryCard{Date: "2026-03-01"}, false},
		{&RawBody{KindName: "future", JSON: []byte(`{"score":3}`)}, false},
	}
	for _, tt := range tests {
		got, ok := New(tt.body, now).ScoresOnly()
		if ok != tt.ok {
			t.Errorf("%s: ScoresOnly ok = %v, want %v", tt.body.Kind(), ok, tt.ok)
		}
		if ok {
			out, _ := Marshal(got)
			if bytes.Contains(out, []byte("text")) || bytes.Contains(out, []byte("comment")) {
				t.Errorf("%s: %s", tt.body.Kind(), out)
			}
		}
	}
}
