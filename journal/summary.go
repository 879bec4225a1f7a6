package journal

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// ClinicianSummary is what a clinician's device computes from the entries a
// client shared, for the days since a date (typically the last session). It
// describes; it does not assess.
type ClinicianSummary struct {
	Since Day
	// Until is the day of the latest entry counted (Since if there is none).
	Until    Day
	Checkins CheckinSummary
	// Measures lists each measure scored since the date, in a fixed order.
	Measures []MeasureChange
	// SafetyFlags lists every PHQ-9 since the date with item 9 above zero.
	SafetyFlags []SafetyFlag
	// Homework lists assignments made since the date and older ones still
	// open (not submitted, and not due before the date).
	Homework []AssignmentStatus
	// Topics the client wants to bring (not yet ticked as brought up) and
	// their questions, from session preparation written since the date.
	Topics    []string
	Questions []string
}

// CheckinSummary describes the check-ins since the date.
type CheckinSummary struct {
	Count                 int
	Days                  int // distinct days with a check-in
	Mood, Anxiety, Energy SeriesStats
}

// SeriesStats describe one score across check-ins in time order.
type SeriesStats struct {
	N         int
	Mean      float64
	Min, Max  float64
	HalvesN   int     // check-ins in each half: N/2, the middle one left out when N is odd
	FirstHalf float64 // mean of the earliest HalvesN
	// SecondHalf is the mean of the latest HalvesN.
	SecondHalf float64
	// Change is SecondHalf − FirstHalf; zero when N < 2.
	Change float64
}

// MeasureChange is one measure's scores since the date and the change.
type MeasureChange struct {
	Measure        string
	Name           string
	HigherIsBetter bool
	Points         []MeasurePoint // scores since the date, in time order
	// Baseline is the score the latest is compared with: the last one
	// before the date if any, otherwise the first one since. Nil when there
	// is only one score in all.
	Baseline *MeasurePoint
	Latest   MeasurePoint
	// Change is Latest − Baseline as usually reported (percentage points
	// for the WHO-5, raw points otherwise).
	Change int
	// Significant is true when the change meets the measure's published
	// threshold (PHQ-9 ≥ 5 points: reliable change; WHO-5 ≥ 10 percentage
	// points); Rule says which. GAD-7 has no rule here.
	Significant bool
	Rule        string
}

// SafetyFlag is a PHQ-9 with item 9 answered above "Not at all".
type SafetyFlag struct {
	Day         Day
	At          time.Time
	Answer      int
	AnswerLabel string
}

// Summary computes a ClinicianSummary over entries whose local day is on or
// after the day of since. Entries before it serve only as measure baselines.
func Summary(entries []*Entry, since time.Time) ClinicianSummary {
	s := ClinicianSummary{Since: DayOf(since)}
	s.Until = s.Since
	for _, e := range entries {
		if e != nil && !e.Created.IsZero() && e.Day() > s.Until {
			s.Until = e.Day()
		}
	}
	checkins, measures := observations(entries)

	var mood, anxiety, energy []float64
	days := map[Day]bool{}
	for _, o := range checkins {
		if o.day < s.Since {
			continue
		}
		s.Checkins.Count++
		days[o.day] = true
		mood = append(mood, float64(*o.c.Mood))
		if o.c.Anxiety != nil {
			anxiety = append(anxiety, float64(*o.c.Anxiety))
		}
		if o.c.Energy != nil {
			energy = append(energy, float64(*o.c.Energy))
		}
	}
	s.Checkins.Days = len(days)
	s.Checkins.Mood, s.Checkins.Anxiety, s.Checkins.Energy = seriesStats(mood), seriesStats(anxiety), seriesStats(energy)

	for _, series := range measureSeries(measures, func(d Day) bool { return d >= s.Since }) {
		mc := MeasureChange{
			Measure: series.Measure, Name: series.Name, HigherIsBetter: series.HigherIsBetter,
			Points: series.Points, Latest: series.Points[len(series.Points)-1],
		}
		for _, m := range measures {
			if m.r.Measure == series.Measure && m.day < s.Since {
				mc.Baseline = &MeasurePoint{Day: m.day, At: m.at, Result: m.r}
			}
		}
		if mc.Baseline == nil && len(series.Points) > 1 {
			mc.Baseline = &series.Points[0]
		}
		if mc.Baseline != nil {
			mc.Change = mc.Latest.Result.Value() - mc.Baseline.Result.Value()
			mc.Significant, mc.Rule, _ = changeRule(mc.Baseline.Result, mc.Latest.Result)
		}
		for _, p := range series.Points {
			if p.Result.SafetyFlag {
				s.SafetyFlags = append(s.SafetyFlags, SafetyFlag{
					Day: p.Day, At: p.At, Answer: p.Result.SafetyAnswer,
					AnswerLabel: lookupMeasure(p.Result.Measure).OptionLabel(p.Result.SafetyAnswer),
				})
			}
		}
		s.Measures = append(s.Measures, mc)
	}

	for _, st := range homeworkStatuses(entries) {
		open := st.State != HomeworkSubmitted && (st.Due == "" || st.Due >= s.Since)
		if st.Assigned >= s.Since || open {
			s.Homework = append(s.Homework, st)
		}
	}

	seenTopic, seenQuestion := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		if e == nil {
			continue
		}
		p, ok := e.Body.(*SessionPrep)
		if !ok || p == nil || e.Created.IsZero() || e.Day() < s.Since {
			continue
		}
		for _, t := range p.Topics {
			if k := normaliseLabel(t.Text); k != "" && !t.BroughtUp && !seenTopic[k] {
				seenTopic[k] = true
				s.Topics = append(s.Topics, strings.TrimSpace(t.Text))
			}
		}
		for _, q := range p.Questions {
			if k := normaliseLabel(q); k != "" && !seenQuestion[k] {
				seenQuestion[k] = true
				s.Questions = append(s.Questions, strings.TrimSpace(q))
			}
		}
	}
	return s
}

func seriesStats(v []float64) SeriesStats {
	s := SeriesStats{N: len(v)}
	if len(v) == 0 {
		return s
	}
	s.Min, s.Max = v[0], v[0]
	for _, x := range v {
		s.Mean += x
		s.Min, s.Max = min(s.Min, x), max(s.Max, x)
	}
	s.Mean /= float64(len(v))
	h := len(v) / 2
	if h == 0 {
		return s
	}
	s.HalvesN = h
	s.FirstHalf, s.SecondHalf = mean(v[:h]), mean(v[len(v)-h:])
	s.Change = s.SecondHalf - s.FirstHalf
	return s
}

func mean(v []float64) float64 {
	var sum float64
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// RenderSummary writes the summary as plain text.
func RenderSummary(w io.Writer, s ClinicianSummary) error {
	ew := &errWriter{w: w}
	ew.printf("Summary since %s (latest entry %s)\n", s.Since, s.Until)
	ew.printf("Computed on this device from what the client shared. It describes scores; it is not a clinical assessment.\n")

	if len(s.SafetyFlags) > 0 {
		ew.printf("\nSAFETY\n")
		for _, f := range s.SafetyFlags {
			ew.printf("  ! PHQ-9 item 9 (thoughts of being better off dead or of self-harm) answered %q on %s.\n", f.AnswerLabel, f.Day)
		}
		ew.printf("    Any answer above \"Not at all\" calls for same-day follow-up under your own risk protocol.\n")
	}

	ew.printf("\nCheck-ins: %d on %d days\n", s.Checkins.Count, s.Checkins.Days)
	for _, row := range []struct {
		name string
		st   SeriesStats
	}{{"mood", s.Checkins.Mood}, {"anxiety", s.Checkins.Anxiety}, {"energy", s.Checkins.Energy}} {
		if row.st.N == 0 {
			continue
		}
		ew.printf("  %-8s mean %.1f  min %g  max %g  (n=%d)", row.name, row.st.Mean, row.st.Min, row.st.Max, row.st.N)
		if row.st.HalvesN > 0 {
			ew.printf("  first half %.1f → second half %.1f (%+.1f)", row.st.FirstHalf, row.st.SecondHalf, row.st.Change)
		}
		ew.printf("\n")
	}

	if len(s.Measures) > 0 {
		ew.printf("\nMeasures\n")
	}
	for _, m := range s.Measures {
		ew.printf("  %-6s", m.Name)
		for i, p := range m.Points {
			if i > 0 {
				ew.printf(",")
			}
			ew.printf(" %s %s", p.Day, scoreText(p.Result))
		}
		ew.printf("\n")
		if m.Baseline != nil {
			ew.printf("         change %+d from %s on %s", m.Change, scoreText(m.Baseline.Result), m.Baseline.Day)
			if m.Significant {
				ew.printf(": %s", m.Rule)
			}
			ew.printf("\n")
		}
	}

	if len(s.Homework) > 0 {
		ew.printf("\nHomework\n")
	}
	for _, h := range s.Homework {
		ew.printf("  %-12s %s (%s, assigned %s", strings.ReplaceAll(string(h.State), "_", " "), oneLine(h.Title), h.Type, h.Assigned)
		if h.Due != "" {
			ew.printf(", due %s", h.Due)
		}
		if h.Repeat != "" && h.Repeat != RepeatNone {
			ew.printf(", %s", h.Repeat)
		}
		ew.printf(")")
		if h.Submissions > 0 {
			ew.printf(", %d submitted, latest %s", h.Submissions, h.LastSubmitted)
		}
		ew.printf("\n")
	}

	if len(s.Topics) > 0 {
		ew.printf("\nTopics the client wants to bring\n")
		for _, t := range s.Topics {
			ew.printf("  - %s\n", oneLine(t))
		}
	}
	if len(s.Questions) > 0 {
		ew.printf("\nQuestions\n")
		for _, q := range s.Questions {
			ew.printf("  - %s\n", oneLine(q))
		}
	}
	return ew.err
}

func scoreText(r Result) string {
	if r.HasPercent {
		return fmt.Sprintf("%d%% (%s)", r.Percent, r.Band.Name)
	}
	return fmt.Sprintf("%d (%s)", r.Total, r.Band.Name)
}

// oneLine folds user text onto one line for plain-text output and removes
// control and bidirectional-override characters, so text cannot fake extra
// report lines or send escape sequences to a terminal.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
