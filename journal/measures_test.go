package journal

import (
	"errors"
	"strings"
	"testing"
)

// Each case's answers were summed by hand; the band follows from the
// published cut-offs.
func TestScoreBands(t *testing.T) {
	tests := []struct {
		measure string
		answers []int
		total   int
		band    string
		percent int // WHO-5 only
	}{
		// PHQ-9: 0–4 minimal, 5–9 mild, 10–14 moderate, 15–19 moderately severe, 20–27 severe.
		{PHQ9, []int{0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, "minimal", 0},
		{PHQ9, []int{1, 1, 1, 1, 0, 0, 0, 0, 0}, 4, "minimal", 0},
		{PHQ9, []int{1, 1, 1, 1, 1, 0, 0, 0, 0}, 5, "mild", 0},
		{PHQ9, []int{2, 2, 1, 1, 1, 1, 1, 0, 0}, 9, "mild", 0},
		{PHQ9, []int{2, 2, 2, 1, 1, 1, 1, 0, 0}, 10, "moderate", 0},
		{PHQ9, []int{2, 2, 2, 2, 2, 2, 1, 1, 0}, 14, "moderate", 0},
		{PHQ9, []int{3, 3, 2, 2, 2, 1, 1, 1, 0}, 15, "moderately severe", 0},
		{PHQ9, []int{3, 3, 3, 3, 2, 2, 2, 1, 0}, 19, "moderately severe", 0},
		{PHQ9, []int{3, 3, 3, 3, 3, 2, 2, 1, 0}, 20, "severe", 0},
		{PHQ9, []int{3, 3, 3, 3, 3, 3, 3, 3, 3}, 27, "severe", 0},
		// GAD-7: 0–4 minimal, 5–9 mild, 10–14 moderate, 15–21 severe.
		{GAD7, []int{0, 0, 0, 0, 0, 0, 0}, 0, "minimal", 0},
		{GAD7, []int{1, 1, 1, 1, 0, 0, 0}, 4, "minimal", 0},
		{GAD7, []int{1, 1, 1, 1, 1, 0, 0}, 5, "mild", 0},
		{GAD7, []int{2, 2, 2, 1, 1, 1, 0}, 9, "mild", 0},
		{GAD7, []int{2, 2, 2, 1, 1, 1, 1}, 10, "moderate", 0},
		{GAD7, []int{2, 2, 2, 2, 2, 2, 2}, 14, "moderate", 0},
		{GAD7, []int{3, 3, 2, 2, 2, 2, 1}, 15, "severe", 0},
		{GAD7, []int{3, 3, 3, 3, 3, 3, 3}, 21, "severe", 0},
		// WHO-5: raw 0–25, ×4; ≤ 28 % likely depression, < 52 % (raw < 13) poor.
		{WHO5, []int{0, 0, 0, 0, 0}, 0, "likely depression", 0},
		{WHO5, []int{2, 2, 1, 1, 1}, 7, "likely depression", 28},
		{WHO5, []int{2, 2, 2, 1, 1}, 8, "poor well-being", 32},
		{WHO5, []int{3, 3, 2, 2, 2}, 12, "poor well-being", 48},
		{WHO5, []int{3, 3, 3, 2, 2}, 13, "above cut-off", 52},
		{WHO5, []int{5, 5, 5, 5, 5}, 25, "above cut-off", 100},
	}
	for _, tt := range tests {
		r, err := Score(tt.measure, tt.answers)
		if err != nil {
			t.Errorf("Score(%s, %v): %v", tt.measure, tt.answers, err)
			continue
		}
		if r.Total != tt.total || r.Band.Name != tt.band {
			t.Errorf("Score(%s, %v) = %d %q, want %d %q", tt.measure, tt.answers, r.Total, r.Band.Name, tt.total, tt.band)
		}
		if wantPercent := tt.measure == WHO5; r.HasPercent != wantPercent || r.Percent != tt.percent {
			t.Errorf("Score(%s, %v) percent = %d (has %v), want %d", tt.measure, tt.answers, r.Percent, r.HasPercent, tt.percent)
		}
		if wantFlag := tt.measure == PHQ9 && tt.answers[8] > 0; r.SafetyFlag != wantFlag {
			t.Errorf("Score(%s, %v) SafetyFlag = %v, want %v", tt.measure, tt.answers, r.SafetyFlag, wantFlag)
		}
	}
}

func TestScoreErrors(t *testing.T) {
	tests := []struct {
		measure string
		answers []int
		field   string
		problem string
	}{
		{PHQ9, []int{1, 1, 1, 1, 1, 1, 1, 1}, "answers", "has 8 answers; PHQ-9 needs exactly 9"},
		{PHQ9, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, "answers", "has 10 answers"},
		{PHQ9, nil, "answers", "has 0 answers"},
		{GAD7, []int{0, 0, 0, 0, 0, 0}, "answers", "GAD-7 needs exactly 7"},
		{WHO5, []int{0, 0, 0, 0, 0, 0}, "answers", "WHO-5 needs exactly 5, one per item, each allowed 0–5"},
		{PHQ9, []int{0, 0, 0, 4, 0, 0, 0, 0, 0}, "answers[3]", "is 4; PHQ-9 answers are allowed 0–3 (item 4: Feeling tired"},
		{PHQ9, []int{-1, 0, 0, 0, 0, 0, 0, 0, 0}, "answers[0]", "is -1"},
		{GAD7, []int{0, 0, 0, 0, 0, 0, 9}, "answers[6]", "is 9; GAD-7 answers are allowed 0–3"},
		{WHO5, []int{5, 5, 5, 5, 6}, "answers[4]", "is 6; WHO-5 answers are allowed 0–5"},
		{"bdi", []int{1}, "measure", `"bdi" is not a known measure; use one of phq9, gad7, who5`},
	}
	for _, tt := range tests {
		_, err := Score(tt.measure, tt.answers)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(fe.Problem, tt.problem) {
			t.Errorf("Score(%s, %v) error = %v, want %s: …%s…", tt.measure, tt.answers, err, tt.field, tt.problem)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Score error %v is not ErrInvalid", err)
		}
	}
}

func TestPHQ9Item9SafetyFlag(t *testing.T) {
	tests := []struct {
		answers []int
		flag    bool
		answer  int
		total   int
	}{
		{[]int{0, 0, 0, 0, 0, 0, 0, 0, 0}, false, 0, 0},
		{[]int{0, 0, 0, 0, 0, 0, 0, 0, 1}, true, 1, 1}, // minimal total, still flagged
		{[]int{0, 0, 0, 0, 0, 0, 0, 0, 2}, true, 2, 2},
		{[]int{3, 3, 3, 3, 3, 3, 3, 3, 3}, true, 3, 27},
		{[]int{3, 3, 3, 3, 3, 3, 3, 3, 0}, false, 0, 24}, // severe, but item 9 is 0
		{[]int{0, 0, 0, 0, 0, 0, 0, 3, 0}, false, 0, 3},  // item 8 is not item 9
	}
	for _, tt := range tests {
		r, err := Score(PHQ9, tt.answers)
		if err != nil {
			t.Fatal(err)
		}
		if r.SafetyFlag != tt.flag || r.SafetyAnswer != tt.answer || r.Total != tt.total {
			t.Errorf("Score(%v) = flag %v answer %d total %d, want %v %d %d", tt.answers, r.SafetyFlag, r.SafetyAnswer, r.Total, tt.flag, tt.answer, tt.total)
		}
	}
	// While a form is still being filled in.
	for _, tt := range []struct {
		measure string
		answers []int
		want    bool
	}{
		{PHQ9, []int{0, 0, 0, 0, 0, 0, 0, 0, 2}, true},
		{PHQ9, []int{3, 3, 3, 3, 3, 3, 3, 3}, false}, // item 9 not answered yet
		{PHQ9, []int{0, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		{"PHQ-9", []int{0, 0, 0, 0, 0, 0, 0, 0, 1, 9}, true}, // even if the rest is invalid
		{GAD7, []int{3, 3, 3, 3, 3, 3, 3}, false},
		{"nope", []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, false},
	} {
		if got := SafetyFlagged(tt.measure, tt.answers); got != tt.want {
			t.Errorf("SafetyFlagged(%s, %v) = %v, want %v", tt.measure, tt.answers, got, tt.want)
		}
	}
	// Only the PHQ-9 has a safety item.
	if r, _ := Score(GAD7, []int{3, 3, 3, 3, 3, 3, 3}); r.SafetyFlag {
		t.Error("GAD-7 set SafetyFlag")
	}
}

func TestReliableChange(t *testing.T) {
	phq := []struct {
		prev, cur int
		want      bool
	}{{10, 5, true}, {10, 6, false}, {5, 10, true}, {14, 10, false}, {0, 27, true}, {12, 12, false}}
	for _, tt := range phq {
		if got := PHQ9ReliableChange(tt.prev, tt.cur); got != tt.want {
			t.Errorf("PHQ9ReliableChange(%d, %d) = %v, want %v", tt.prev, tt.cur, got, tt.want)
		}
	}
	who := []struct {
		prev, cur int
		want      bool
	}{{48, 60, true}, {48, 56, false}, {40, 50, true}, {40, 49, false}, {52, 40, true}, {60, 52, false}}
	for _, tt := range who {
		if got := WHO5SignificantChange(tt.prev, tt.cur); got != tt.want {
			t.Errorf("WHO5SignificantChange(%d, %d) = %v, want %v", tt.prev, tt.cur, got, tt.want)
		}
	}
}

// The bundled wording is the published wording; a change here must be
// deliberate.
func TestMeasureWording(t *testing.T) {
	phq, _ := LookupMeasure("PHQ-9")
	gad, _ := LookupMeasure("gad_7")
	who, ok := LookupMeasure(" WHO5 ")
	if !ok {
		t.Fatal("LookupMeasure did not normalise the ID")
	}
	checks := []struct{ got, want string }{
		{phq.Instructions, "Over the last 2 weeks, how often have you been bothered by any of the following problems?"},
		{phq.Items[0], "Little interest or pleasure in doing things"},
		{phq.Items[8], "Thoughts that you would be better off dead or of hurting yourself in some way"},
		{gad.Items[0], "Feeling nervous, anxious or on edge"},
		{gad.Items[6], "Feeling afraid as if something awful might happen"},
		{who.Items[3], "I woke up feeling fresh and rested"},
		{phq.OptionLabel(0), "Not at all"},
		{phq.OptionLabel(1), "Several days"},
		{phq.OptionLabel(2), "More than half the days"},
		{phq.OptionLabel(3), "Nearly every day"},
		{who.OptionLabel(5), "All of the time"},
		{who.OptionLabel(0), "At no time"},
		{phq.Difficulty.Options[3].Label, "Extremely difficult"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if len(phq.Items) != 9 || len(gad.Items) != 7 || len(who.Items) != 5 || len(who.Options) != 6 {
		t.Errorf("item counts %d %d %d, WHO-5 options %d", len(phq.Items), len(gad.Items), len(who.Items), len(who.Options))
	}
	if gad.Difficulty != nil || who.Difficulty != nil {
		t.Error("only the PHQ-9 has the difficulty question here")
	}
}

// Bands must cover every possible total exactly once.
func TestBandsCoverRange(t *testing.T) {
	for _, m := range Measures() {
		next := 0
		for _, b := range m.Bands {
			if b.Min != next || b.Max < b.Min {
				t.Errorf("%s band %q starts at %d, want %d", m.ID, b.Name, b.Min, next)
			}
			next = b.Max + 1
		}
		if next != m.MaxTotal+1 || m.MaxTotal != len(m.Items)*m.maxAnswer() {
			t.Errorf("%s bands end at %d, max total %d", m.ID, next-1, m.MaxTotal)
		}
	}
}

func TestMeasuresReturnsCopies(t *testing.T) {
	ms := Measures()
	ms[0].Items[0] = "changed"
	if again, _ := LookupMeasure(PHQ9); again.Items[0] == "changed" {
		t.Error("Measures exposes the package's own slices")
	}
}

func TestResultString(t *testing.T) {
	r, _ := Score(WHO5, []int{3, 3, 3, 2, 2})
	if s := r.String(); s != "WHO-5 52% (raw 13/25, above cut-off)" {
		t.Errorf("String = %q", s)
	}
	r, _ = Score(PHQ9, []int{2, 2, 2, 2, 2, 2, 1, 1, 0})
	if s := r.String(); s != "PHQ-9 14/27 (moderate)" {
		t.Errorf("String = %q", s)
	}
}
