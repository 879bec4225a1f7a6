package journal

import (
	"fmt"
	"slices"
	"strings"
)

// Option is one answer on a measure's scale, in display order.
type Option struct {
	Value int
	Label string
}

// Question is an extra, unscored question with its own answers.
type Question struct {
	Text    string
	Options []Option
}

// Band is a named range of raw totals, Min to Max inclusive.
type Band struct {
	Name     string
	Min, Max int
}

// MeasureSpec describes a validated measure: its exact wording, answer scale,
// scoring and bands. Only measures whose licences allow free use in software
// are bundled (see docs/journal.md).
type MeasureSpec struct {
	ID           string // "phq9"; the value of Measure.MeasureID
	Name         string // "PHQ-9"
	Title        string // "Patient Health Questionnaire-9"
	Construct    string // what it measures
	Instructions string // the stem shown above the items
	Items        []string
	Options      []Option // the answer scale, in display order
	MaxTotal     int
	Bands        []Band // raw-total bands, lowest first, covering 0..MaxTotal
	// HigherIsBetter is true when a higher score means better (WHO-5).
	HigherIsBetter bool
	// PercentScale is true when totals are reported ×4 as 0–100 (WHO-5).
	PercentScale bool
	// Difficulty is the optional, unscored functional question, or nil.
	Difficulty *Question
	// SafetyItem is the 1-based item that sets Result.SafetyFlag when
	// answered above zero (PHQ-9 item 9), or 0.
	SafetyItem int
	Source     string
	Licence    string
}

func (m *MeasureSpec) minAnswer() int { return slices.MinFunc(m.Options, cmpOption).Value }
func (m *MeasureSpec) maxAnswer() int { return slices.MaxFunc(m.Options, cmpOption).Value }

func cmpOption(a, b Option) int { return a.Value - b.Value }

// OptionLabel returns the label of answer value v, or "" if v is off the scale.
func (m *MeasureSpec) OptionLabel(v int) string {
	for _, o := range m.Options {
		if o.Value == v {
			return o.Label
		}
	}
	return ""
}

// Measure IDs.
const (
	PHQ9 = "phq9"
	GAD7 = "gad7"
	WHO5 = "who5"
)

var frequencyOptions = []Option{
	{0, "Not at all"},
	{1, "Several days"},
	{2, "More than half the days"},
	{3, "Nearly every day"},
}

var difficultyQuestion = Question{
	Text: "If you checked off any problems, how difficult have these problems made it for you to do your work, take care of things at home, or get along with other people?",
	Options: []Option{
		{0, "Not difficult at all"},
		{1, "Somewhat difficult"},
		{2, "Very difficult"},
		{3, "Extremely difficult"},
	},
}

const phqLicence = "Public domain. Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. No permission is required to reproduce, translate, display or distribute."

var measureSpecs = []MeasureSpec{
	{
		ID:           PHQ9,
		Name:         "PHQ-9",
		Title:        "Patient Health Questionnaire-9",
		Construct:    "depression symptoms over the last two weeks",
		Instructions: "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
		Items: []string{
			"Little interest or pleasure in doing things",
			"Feeling down, depressed, or hopeless",
			"Trouble falling or staying asleep, or sleeping too much",
			"Feeling tired or having little energy",
			"Poor appetite or overeating",
			"Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
			"Trouble concentrating on things, such as reading the newspaper or watching television",
			"Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual",
			"Thoughts that you would be better off dead or of hurting yourself in some way",
		},
		Options:  frequencyOptions,
		MaxTotal: 27,
		Bands: []Band{
			{"minimal", 0, 4},
			{"mild", 5, 9},
			{"moderate", 10, 14},
			{"moderately severe", 15, 19},
			{"severe", 20, 27},
		},
		Difficulty: &difficultyQuestion,
		SafetyItem: 9,
		Source:     "Kroenke K, Spitzer RL, Williams JB. The PHQ-9: validity of a brief depression severity measure. J Gen Intern Med. 2001;16(9):606-613.",
		Licence:    phqLicence,
	},
	{
		ID:           GAD7,
		Name:         "GAD-7",
		Title:        "Generalized Anxiety Disorder-7",
		Construct:    "anxiety symptoms over the last two weeks",
		Instructions: "Over the last 2 weeks, how often have you been bothered by the following problems?",
		Items: []string{
			"Feeling nervous, anxious or on edge",
			"Not being able to stop or control worrying",
			"Worrying too much about different things",
			"Trouble relaxing",
			"Being so restless that it is hard to sit still",
			"Becoming easily annoyed or irritable",
			"Feeling afraid as if something awful might happen",
		},
		Options:  frequencyOptions,
		MaxTotal: 21,
		Bands: []Band{
			{"minimal", 0, 4},
			{"mild", 5, 9},
			{"moderate", 10, 14},
			{"severe", 15, 21},
		},
		Source:  "Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized anxiety disorder: the GAD-7. Arch Intern Med. 2006;166(10):1092-1097.",
		Licence: phqLicence,
	},
	{
		ID:           WHO5,
		Name:         "WHO-5",
		Title:        "WHO-5 Well-Being Index",
		Construct:    "well-being over the last two weeks",
		Instructions: "Please indicate for each of the five statements which is closest to how you have been feeling over the last two weeks. Over the last two weeks…",
		Items: []string{
			"I have felt cheerful and in good spirits",
			"I have felt calm and relaxed",
			"I have felt active and vigorous",
			"I woke up feeling fresh and rested",
			"My daily life has been filled with things that interest me",
		},
		Options: []Option{
			{5, "All of the time"},
			{4, "Most of the time"},
			{3, "More than half of the time"},
			{2, "Less than half of the time"},
			{1, "Some of the time"},
			{0, "At no time"},
		},
		MaxTotal: 25,
		// Raw 0–7 is 0–28 %, raw 8–12 is 32–48 %, raw 13–25 is 52–100 %.
		Bands: []Band{
			{"likely depression", 0, 7},
			{"poor well-being", 8, 12},
			{"above cut-off", 13, 25},
		},
		HigherIsBetter: true,
		PercentScale:   true,
		Source:         "Psychiatric Research Unit, WHO Collaborating Centre in Mental Health, Frederiksborg General Hospital (1998). Topp CW et al. The WHO-5 Well-Being Index: a systematic review of the literature. Psychother Psychosom. 2015;84(3):167-176.",
		Licence:        "Free to use; no permission is needed. Cite the source.",
	},
}

// Measures returns the bundled measures: PHQ-9, GAD-7 and WHO-5.
func Measures() []MeasureSpec {
	out := make([]MeasureSpec, len(measureSpecs))
	for i, m := range measureSpecs {
		out[i] = m.clone()
	}
	return out
}

func (m MeasureSpec) clone() MeasureSpec {
	m.Items = slices.Clone(m.Items)
	m.Options = slices.Clone(m.Options)
	m.Bands = slices.Clone(m.Bands)
	if m.Difficulty != nil {
		d := *m.Difficulty
		d.Options = slices.Clone(d.Options)
		m.Difficulty = &d
	}
	return m
}

// LookupMeasure finds a measure by ID. It ignores case, hyphens and
// underscores, so "PHQ-9" finds "phq9".
func LookupMeasure(id string) (MeasureSpec, bool) {
	if m := lookupMeasure(id); m != nil {
		return m.clone(), true
	}
	return MeasureSpec{}, false
}

func lookupMeasure(id string) *MeasureSpec {
	id = normaliseMeasureID(id)
	for i := range measureSpecs {
		if measureSpecs[i].ID == id {
			return &measureSpecs[i]
		}
	}
	return nil
}

func normaliseMeasureID(id string) string {
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(id)))
}

func measureList() string {
	ids := make([]string, len(measureSpecs))
	for i, m := range measureSpecs {
		ids[i] = m.ID
	}
	return strings.Join(ids, ", ")
}

// Result is a scored measure.
type Result struct {
	Measure  string // ID, such as "phq9"
	Name     string // display name, such as "PHQ-9"
	Total    int    // raw sum of the answers
	MaxTotal int
	// Percent is Total×4 (0–100) when HasPercent; only the WHO-5 has it.
	Percent    int
	HasPercent bool
	Band       Band
	// SafetyFlag is true when the measure's safety item (PHQ-9 item 9,
	// thoughts of being better off dead or of self-harm) was answered above
	// "Not at all", whatever the total. The client must show crisis
	// resources at once (see CrisisResources); this package sends nothing.
	SafetyFlag bool
	// SafetyAnswer is the safety item's answer (0–3) when SafetyFlag is set.
	SafetyAnswer int
}

// Score returns the score of the answers, which must be one per item, in item
// order, each on the measure's scale. It makes no clinical decision: bands are
// the published score ranges, not a diagnosis.
func Score(measure string, answers []int) (Result, error) {
	m := lookupMeasure(measure)
	if m == nil {
		return Result{}, &FieldError{Field: "measure", Problem: fmt.Sprintf("%q is not a known measure; use one of %s", measure, measureList())}
	}
	lo, hi := m.minAnswer(), m.maxAnswer()
	if len(answers) != len(m.Items) {
		return Result{}, &FieldError{Field: "answers", Problem: fmt.Sprintf("has %d answers; %s needs exactly %d, one per item, each %s", len(answers), m.Name, len(m.Items), rangeText(lo, hi))}
	}
	r := Result{Measure: m.ID, Name: m.Name, MaxTotal: m.MaxTotal}
	for i, a := range answers {
		if a < lo || a > hi {
			return Result{}, &FieldError{Field: fmt.Sprintf("answers[%d]", i), Problem: fmt.Sprintf("is %d; %s answers are %s (item %d: %s)", a, m.Name, rangeText(lo, hi), i+1, m.Items[i])}
		}
		r.Total += a
	}
	for _, b := range m.Bands {
		if r.Total >= b.Min && r.Total <= b.Max {
			r.Band = b
		}
	}
	if m.PercentScale {
		r.Percent, r.HasPercent = r.Total*4, true
	}
	if m.SafetyItem > 0 && answers[m.SafetyItem-1] > 0 {
		r.SafetyFlag, r.SafetyAnswer = true, answers[m.SafetyItem-1]
	}
	return r, nil
}

// SafetyFlagged reports whether answers, which may be incomplete (a form
// still being filled in), already raise the measure's safety flag: the
// safety item has been answered above zero. Clients call it after each
// answer so crisis resources appear the moment PHQ-9 item 9 is answered,
// not when the form is finished.
func SafetyFlagged(measure string, answers []int) bool {
	m := lookupMeasure(measure)
	return m != nil && m.SafetyItem > 0 && len(answers) >= m.SafetyItem && answers[m.SafetyItem-1] > 0
}

// Value is the score as it is usually reported: the percentage for the
// WHO-5, the raw total otherwise.
func (r Result) Value() int {
	if r.HasPercent {
		return r.Percent
	}
	return r.Total
}

func (r Result) String() string {
	if r.HasPercent {
		return fmt.Sprintf("%s %d%% (raw %d/%d, %s)", r.Name, r.Percent, r.Total, r.MaxTotal, r.Band.Name)
	}
	return fmt.Sprintf("%s %d/%d (%s)", r.Name, r.Total, r.MaxTotal, r.Band.Name)
}

// PHQ9ReliableChange reports whether a change in PHQ-9 total from prev to cur
// is reliable: 5 points or more, in either direction.
func PHQ9ReliableChange(prev, cur int) bool { return abs(cur-prev) >= 5 }

// WHO5SignificantChange reports whether a change in WHO-5 percentage score
// (0–100) is significant: 10 percentage points or more, in either direction.
func WHO5SignificantChange(prevPercent, curPercent int) bool {
	return abs(curPercent-prevPercent) >= 10
}

// changeRule returns whether a change between two results of one measure
// meets its published threshold, and the rule in words; ok is false for
// measures without one.
func changeRule(prev, cur Result) (significant bool, rule string, ok bool) {
	switch cur.Measure {
	case PHQ9:
		return PHQ9ReliableChange(prev.Total, cur.Total), "PHQ-9 change of 5 points or more is reliable change", true
	case WHO5:
		return WHO5SignificantChange(prev.Percent, cur.Percent), "WHO-5 change of 10 percentage points or more is significant", true
	}
	return false, "", false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
