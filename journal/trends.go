package journal

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// MinAssociationDays is how many days an item (a trigger or coping skill)
// must appear on before Trends compares days with and without it. Fewer
// would mostly show noise.
const MinAssociationDays = 3

// TrendReport is what Trends computes over a range of days. Everything in it
// is descriptive: averages and counts, not conclusions.
type TrendReport struct {
	From, To Day
	// Days holds one point per day with at least one check-in, in order.
	Days []DayScores
	// Triggers and Coping compare mean daily mood on days with each item
	// against check-in days without it, best first.
	Triggers []Association
	Coping   []Association
	// Measures holds each measure's scores in the range, in time order.
	Measures []MeasureSeries
	Streaks  Streaks
	Homework Homework
}

// DayScores are the mean scores of one day's check-ins. Anxiety and Energy
// are nil when no check-in that day rated them.
type DayScores struct {
	Day      Day
	Checkins int
	Mood     float64
	Anxiety  *float64
	Energy   *float64
}

// Association compares days with an item and days without it.
type Association struct {
	Name        string  // normalised: lower case, single spaces
	DaysWith    int     // check-in days the item was recorded on
	DaysWithout int     // other check-in days
	MoodWith    float64 // mean daily mood on days with it
	MoodWithout float64 // mean daily mood on days without it
	Difference  float64 // MoodWith − MoodWithout; positive means better days
	// For coping skills: how often it was rated as having helped.
	HelpedYes, HelpedSomewhat, HelpedNo int
}

// MeasureSeries is one measure's scores over time.
type MeasureSeries struct {
	Measure        string // ID
	Name           string
	MaxTotal       int
	PercentScale   bool
	HigherIsBetter bool
	Bands          []Band
	Points         []MeasurePoint
}

// MeasurePoint is one scored measure.
type MeasurePoint struct {
	Day    Day
	At     time.Time
	Result Result
}

// Streaks count runs of consecutive days with at least one check-in.
type Streaks struct {
	// Current is the run ending on the last day of the range, or on the day
	// before it if there is no check-in yet that day.
	Current int
	Longest int
	// CheckinDays is the number of distinct days with a check-in.
	CheckinDays int
}

// Homework counts assignments made in the range by their state.
type Homework struct {
	Assigned   int
	Submitted  int // assignments with at least one submitted response
	InProgress int // with a response in progress but none submitted
	NotStarted int
	// Responses counts submitted responses (a repeating assignment can have many).
	Responses int
}

// Rate is the share of assignments with a submitted response, 0–1; 0 when
// nothing was assigned.
func (h Homework) Rate() float64 {
	if h.Assigned == 0 {
		return 0
	}
	return float64(h.Submitted) / float64(h.Assigned)
}

// checkinObs is a check-in with its time, from a checkin entry or a
// submitted response holding one.
type checkinObs struct {
	at  time.Time
	day Day
	c   *Checkin
}

type measureObs struct {
	at  time.Time
	day Day
	r   Result
}

// observations collects scorable check-ins (those with a mood) and measures
// (those that score) from entries, sorted by time. Entries that fail other
// validation still count: a newer client may have used values this one
// does not know.
func observations(entries []*Entry) ([]checkinObs, []measureObs) {
	var cs []checkinObs
	var ms []measureObs
	for _, e := range entries {
		if e == nil || e.Created.IsZero() {
			continue
		}
		body := e.Body
		if r, ok := body.(*Response); ok && r != nil {
			if r.Status != StatusSubmitted {
				continue
			}
			body = r.Answer
		}
		switch b := body.(type) {
		case *Checkin:
			if b != nil && b.Mood != nil {
				cs = append(cs, checkinObs{e.Created, e.Day(), b})
			}
		case *Measure:
			if b == nil {
				continue
			}
			if r, err := b.Score(); err == nil {
				ms = append(ms, measureObs{e.Created, e.Day(), r})
			}
		}
	}
	slices.SortStableFunc(cs, func(a, b checkinObs) int { return a.at.Compare(b.at) })
	slices.SortStableFunc(ms, func(a, b measureObs) int { return a.at.Compare(b.at) })
	return cs, ms
}

func inRange(d, from, to Day) bool { return d >= from && d <= to }

// Trends computes daily scores, associations, measure series, streaks and
// homework over the calendar days from the day of from to the day of to,
// inclusive. An entry's day is its local day when written (see Entry.Day).
func Trends(entries []*Entry, from, to time.Time) TrendReport {
	r := TrendReport{From: DayOf(from), To: DayOf(to)}
	checkins, measures := observations(entries)

	type dayAcc struct {
		n                     int
		mood, anxiety, energy float64
		nAnxiety, nEnergy     int
		triggers, coping      map[string]bool
	}
	days := map[Day]*dayAcc{}
	helped := map[string]*Association{}
	for _, o := range checkins {
		if !inRange(o.day, r.From, r.To) {
			continue
		}
		a := days[o.day]
		if a == nil {
			a = &dayAcc{triggers: map[string]bool{}, coping: map[string]bool{}}
			days[o.day] = a
		}
		a.n++
		a.mood += float64(*o.c.Mood)
		if o.c.Anxiety != nil {
			a.anxiety += float64(*o.c.Anxiety)
			a.nAnxiety++
		}
		if o.c.Energy != nil {
			a.energy += float64(*o.c.Energy)
			a.nEnergy++
		}
		for _, t := range o.c.Triggers {
			if n := normaliseLabel(t); n != "" {
				a.triggers[n] = true
			}
		}
		for _, u := range o.c.Coping {
			n := normaliseLabel(u.Skill)
			if n == "" {
				continue
			}
			a.coping[n] = true
			h := helped[n]
			if h == nil {
				h = &Association{}
				helped[n] = h
			}
			switch u.Helped {
			case HelpedYes:
				h.HelpedYes++
			case HelpedSomewhat:
				h.HelpedSomewhat++
			case HelpedNo:
				h.HelpedNo++
			}
		}
	}

	dayList := slices.Sorted(maps.Keys(days))
	dailyMood := map[Day]float64{}
	for _, d := range dayList {
		a := days[d]
		ds := DayScores{Day: d, Checkins: a.n, Mood: a.mood / float64(a.n)}
		if a.nAnxiety > 0 {
			ds.Anxiety = new(a.anxiety / float64(a.nAnxiety))
		}
		if a.nEnergy > 0 {
			ds.Energy = new(a.energy / float64(a.nEnergy))
		}
		dailyMood[d] = ds.Mood
		r.Days = append(r.Days, ds)
	}

	associate := func(has func(*dayAcc) map[string]bool) []Association {
		names := map[string]bool{}
		for _, a := range days {
			for n := range has(a) {
				names[n] = true
			}
		}
		var out []Association
		for _, n := range slices.Sorted(maps.Keys(names)) {
			as := Association{Name: n}
			var with, without float64
			for _, d := range dayList {
				if has(days[d])[n] {
					as.DaysWith++
					with += dailyMood[d]
				} else {
					as.DaysWithout++
					without += dailyMood[d]
				}
			}
			if as.DaysWith < MinAssociationDays || as.DaysWithout == 0 {
				continue
			}
			as.MoodWith = with / float64(as.DaysWith)
			as.MoodWithout = without / float64(as.DaysWithout)
			as.Difference = as.MoodWith - as.MoodWithout
			out = append(out, as)
		}
		slices.SortStableFunc(out, func(a, b Association) int { return cmp.Compare(b.Difference, a.Difference) })
		return out
	}
	r.Triggers = associate(func(a *dayAcc) map[string]bool { return a.triggers })
	r.Coping = associate(func(a *dayAcc) map[string]bool { return a.coping })
	for i := range r.Coping {
		h := helped[r.Coping[i].Name]
		r.Coping[i].HelpedYes, r.Coping[i].HelpedSomewhat, r.Coping[i].HelpedNo = h.HelpedYes, h.HelpedSomewhat, h.HelpedNo
	}

	r.Streaks = streaks(dayList, r.To)
	r.Measures = measureSeries(measures, func(d Day) bool { return inRange(d, r.From, r.To) })

	for _, st := range homeworkStatuses(entries) {
		if !inRange(st.Assigned, r.From, r.To) {
			continue
		}
		r.Homework.Assigned++
		r.Homework.Responses += st.Submissions
		switch st.State {
		case HomeworkSubmitted:
			r.Homework.Submitted++
		case HomeworkInProgress:
			r.Homework.InProgress++
		default:
			r.Homework.NotStarted++
		}
	}
	return r
}

// streaks computes runs over sorted distinct days; the current run ends on
// last, or the day before if last has no check-in yet.
func streaks(days []Day, last Day) Streaks {
	s := Streaks{CheckinDays: len(days)}
	run := 0
	for i, d := range days {
		if i > 0 && days[i-1].AddDays(1) == d {
			run++
		} else {
			run = 1
		}
		s.Longest = max(s.Longest, run)
	}
	has := make(map[Day]bool, len(days))
	for _, d := range days {
		has[d] = true
	}
	end := last
	if !has[end] {
		end = end.AddDays(-1)
	}
	for d := end; has[d]; d = d.AddDays(-1) {
		s.Current++
	}
	return s
}

func measureSeries(ms []measureObs, keep func(Day) bool) []MeasureSeries {
	var out []MeasureSeries
	for i := range measureSpecs {
		spec := &measureSpecs[i]
		s := MeasureSeries{
			Measure: spec.ID, Name: spec.Name, MaxTotal: spec.MaxTotal,
			PercentScale: spec.PercentScale, HigherIsBetter: spec.HigherIsBetter,
			Bands: slices.Clone(spec.Bands),
		}
		for _, m := range ms {
			if m.r.Measure == spec.ID && keep(m.day) {
				s.Points = append(s.Points, MeasurePoint{Day: m.day, At: m.at, Result: m.r})
			}
		}
		if len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// HomeworkState is where an assignment stands.
type HomeworkState string

const (
	HomeworkNotStarted HomeworkState = "not_started"
	HomeworkInProgress HomeworkState = "in_progress"
	HomeworkSubmitted  HomeworkState = "submitted"
)

// AssignmentStatus is one assignment and the responses to it.
type AssignmentStatus struct {
	ID       string // the assignment's record ID (Entry.ID)
	Title    string
	Type     AssignmentType
	Assigned Day
	Due      Day
	Repeat   Repeat
	State    HomeworkState
	// Submissions counts submitted responses; LastSubmitted is the day of
	// the latest.
	Submissions   int
	LastSubmitted Day
}

// homeworkStatuses matches responses to assignments through
// Links.Assignment and the assignment's Entry.ID, in assignment order.
func homeworkStatuses(entries []*Entry) []AssignmentStatus {
	type progress struct {
		submitted, inProgress int
		last                  Day
	}
	byAssignment := map[string]*progress{}
	for _, e := range entries {
		if e == nil {
			continue
		}
		r, ok := e.Body.(*Response)
		if !ok || r == nil || e.Links.Assignment == "" {
			continue
		}
		p := byAssignment[e.Links.Assignment]
		if p == nil {
			p = &progress{}
			byAssignment[e.Links.Assignment] = p
		}
		switch r.Status {
		case StatusSubmitted:
			p.submitted++
			if d := e.Day(); d > p.last {
				p.last = d
			}
		case StatusInProgress:
			p.inProgress++
		}
	}
	var out []AssignmentStatus
	for _, e := range entries {
		if e == nil {
			continue
		}
		a, ok := e.Body.(*Assignment)
		if !ok || a == nil {
			continue
		}
		st := AssignmentStatus{
			ID: e.ID, Title: a.Title, Type: a.Type, Assigned: e.Day(), Due: a.Due,
			Repeat: a.Repeat, State: HomeworkNotStarted,
		}
		if p := byAssignment[e.ID]; p != nil && e.ID != "" {
			st.Submissions, st.LastSubmitted = p.submitted, p.last
			switch {
			case p.submitted > 0:
				st.State = HomeworkSubmitted
			case p.inProgress > 0:
				st.State = HomeworkInProgress
			}
		}
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b AssignmentStatus) int { return cmp.Compare(a.Assigned, b.Assigned) })
	return out
}
