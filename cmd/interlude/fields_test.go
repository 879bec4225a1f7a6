package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"interlude/journal"
)

func TestApplyFieldsKeepsWhatItDoesNotTouch(t *testing.T) {
	now := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	old := `{"v":1,"kind":"checkin","created":"2026-03-02T21:14:05-05:00","fromTheFuture":{"a":[1,2]},` +
		`"body":{"mood":4,"anxiety":6,"emotions":["sad","tired"],"coping":[{"skill":"walk","helped":"yes","minutes":20}],` +
		`"note":"long day","newField":"kept"}}`
	tests := []struct {
		name  string
		given map[string]string
		check func(t *testing.T, body map[string]any, top map[string]any)
	}{
		{"one field", map[string]string{"anxiety": "3"}, func(t *testing.T, body, top map[string]any) {
			if body["anxiety"] != float64(3) || body["mood"] != float64(4) || body["note"] != "long day" {
				t.Errorf("body: %v", body)
			}
		}},
		{"clear a field", map[string]string{"note": ""}, func(t *testing.T, body, top map[string]any) {
			if _, ok := body["note"]; ok {
				t.Errorf("note not cleared: %v", body)
			}
		}},
		{"a required field", map[string]string{"mood": "7", "emotions": "calm"}, func(t *testing.T, body, top map[string]any) {
			if body["mood"] != float64(7) || len(body["emotions"].([]any)) != 1 {
				t.Errorf("body: %v", body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := applyFields([]byte(old), tt.given, now)
			if err != nil {
				t.Fatal(err)
			}
			var top map[string]any
			if err := json.Unmarshal(out, &top); err != nil {
				t.Fatal(err)
			}
			body := top["body"].(map[string]any)
			// Members a newer client wrote survive, at every level.
			if body["newField"] != "kept" || top["fromTheFuture"] == nil || !strings.Contains(string(out), `"minutes":20`) {
				t.Errorf("unknown members lost: %s", out)
			}
			if top["created"] != "2026-03-02T21:14:05-05:00" || top["updated"] == nil {
				t.Errorf("times: created %v updated %v", top["created"], top["updated"])
			}
			tt.check(t, body, top)
			if _, err := journal.Unmarshal(out); err != nil {
				t.Errorf("result does not decode: %v", err)
			}
		})
	}
}

func TestApplyFieldsRefuses(t *testing.T) {
	old := `{"v":1,"kind":"checkin","created":"2026-03-02T21:14:05-05:00","body":{"mood":4}}`
	for name, given := range map[string]map[string]string{
		"out of range":   {"mood": "11"},
		"another kind's": {"text": "hello"},
		"not a field":    {"nonsense": "1"},
	} {
		if _, err := applyFields([]byte(old), given, time.Now()); err == nil {
			t.Errorf("%s: accepted %v", name, given)
		}
	}
}

func TestRender(t *testing.T) {
	for raw, want := range map[string]string{
		`"text"`:                            "text",
		`4`:                                 "4",
		`6.5`:                               "6.5",
		`true`:                              "yes",
		`["sad","tired"]`:                   "sad, tired",
		`[{"skill":"walk","helped":"yes"}]`: "walk:yes",
		`[1,2,3]`:                           "1, 2, 3",
	} {
		if got := render(json.RawMessage(raw)); got != want {
			t.Errorf("render(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	c := &cli{stderr: new(strings.Builder)}
	fs := c.flags("x")
	keep := fs.String("keep", "", "")
	pos, err := parse(fs, []string{"ID1", "--keep", "local", "--json", "--", "-dash"})
	if err != nil {
		t.Fatal(err)
	}
	if *keep != "local" || !c.json || len(pos) != 2 || pos[0] != "ID1" || pos[1] != "-dash" {
		t.Fatalf("keep %q json %v pos %v", *keep, c.json, pos)
	}
}
