package journal

import (
	"fmt"
	"strings"
	"time"
)

// Kind names, as written in the "kind" member of an entry.
const (
	KindJournal       = "journal"
	KindPrompted      = "prompted"
	KindCheckin       = "checkin"
	KindThoughtRecord = "thought_record"
	KindExperiment    = "experiment"
	KindExposure      = "exposure"
	KindDiaryCard     = "diary_card"
	KindValues        = "values"
	KindSessionPrep   = "session_prep"
	KindGoal          = "goal"
	KindMeasure       = "measure"
	KindAssignment    = "assignment"
	KindResponse      = "response"
	KindMessage       = "message"
	KindAvailability  = "availability"
)

// newBody returns a new, empty body of the kind, or nil if the kind is unknown.
func newBody(kind string) Body {
	switch kind {
	case KindJournal:
		return &Journal{}
	case KindPrompted:
		return &Prompted{}
	case KindCheckin:
		return &Checkin{}
	case KindThoughtRecord:
		return &ThoughtRecord{}
	case KindExperiment:
		return &Experiment{}
	case KindExposure:
		return &Exposure{}
	case KindDiaryCard:
		return &DiaryCard{}
	case KindValues:
		return &ValuesAction{}
	case KindSessionPrep:
		return &SessionPrep{}
	case KindGoal:
		return &Goal{}
	case KindMeasure:
		return &Measure{}
	case KindAssignment:
		return &Assignment{}
	case KindResponse:
		return &Response{}
	case KindMessage:
		return &Message{}
	case KindAvailability:
		return &Availability{}
	}
	return nil
}

func kindList() string {
	names := make([]string, 0, len(kindSpecs))
	for _, k := range kindSpecs {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

// Ranges shared by validation, the kind registry and Build.
const (
	scaleMax      = 10  // mood, energy, anxiety
	percentMax    = 100 // belief ratings, emotion intensity, SUDS
	diaryMax      = 5   // DBT diary card ratings
	maxSleepHours = 24
	maxMinutes    = 24 * 60
)

// Journal is free writing: kind "journal".
type Journal struct {
	Title   string        `json:"title,omitempty"`
	Text    string        `json:"text"`
	Tags    []string      `json:"tags,omitempty"`
	Unknown UnknownFields `json:"-"`
}

func (*Journal) Kind() string { return KindJournal }

func (b *Journal) check(c *checker) {
	c.label("title", b.Title, false)
	c.text("text", b.Text, true)
	c.labels("tags", b.Tags, false)
}

// Prompted answers a prompt: kind "prompted". The prompt text is copied in so
// the entry reads on its own; PromptID names a built-in prompt (see Prompts)
// and the entry's Links.Prompt points at a clinician's prompt record.
type Prompted struct {
	PromptID string        `json:"promptId,omitempty"`
	Prompt   string        `json:"prompt"`
	Answer   string        `json:"answer"`
	Unknown  UnknownFields `json:"-"`
}

func (*Prompted) Kind() string { return KindPrompted }

func (b *Prompted) check(c *checker) {
	c.label("promptId", b.PromptID, false)
	c.text("prompt", b.Prompt, true)
	c.text("answer", b.Answer, true)
}

// Checkin is a mood check-in: kind "checkin". Mood is required; every other
// field is optional. Scores are 0–10. Emotions may come from Emotions() or be
// the person's own words.
type Checkin struct {
	Mood         *int          `json:"mood,omitempty"`
	Energy       *int          `json:"energy,omitempty"`
	Anxiety      *int          `json:"anxiety,omitempty"`
	Emotions     []string      `json:"emotions,omitempty"`
	Triggers     []string      `json:"triggers,omitempty"`
	BodySymptoms []string      `json:"bodySymptoms,omitempty"`
	MindSymptoms []string      `json:"mindSymptoms,omitempty"`
	Coping       []CopingUse   `json:"coping,omitempty"`
	SleepHours   *float64      `json:"sleepHours,omitempty"`
	Note         string        `json:"note,omitempty"`
	Unknown      UnknownFields `json:"-"`
}

// CopingUse is one coping skill used, and whether it helped.
type CopingUse struct {
	Skill   string        `json:"skill"`
	Helped  Helped        `json:"helped,omitempty"`
	Unknown UnknownFields `json:"-"`
}

// Helped says whether a coping skill helped; empty means not recorded.
type Helped string

const (
	HelpedYes      Helped = "yes"
	HelpedSomewhat Helped = "somewhat"
	HelpedNo       Helped = "no"
)

var helpedValues = []string{string(HelpedYes), string(HelpedSomewhat), string(HelpedNo)}

func (*Checkin) Kind() string { return KindCheckin }

func (b *Checkin) check(c *checker) {
	c.intRange("mood", b.Mood, 0, scaleMax, true)
	c.intRange("energy", b.Energy, 0, scaleMax, false)
	c.intRange("anxiety", b.Anxiety, 0, scaleMax, false)
	c.labels("emotions", b.Emotions, false)
	c.labels("triggers", b.Triggers, false)
	c.labels("bodySymptoms", b.BodySymptoms, false)
	c.labels("mindSymptoms", b.MindSymptoms, false)
	if len(b.Coping) > maxListItems {
		c.fail("coping", "has %d items; allowed up to %d", len(b.Coping), maxListItems)
	}
	for i, u := range b.Coping {
		c.label(fmt.Sprintf("coping[%d].skill", i), u.Skill, true)
		c.oneOf(fmt.Sprintf("coping[%d].helped", i), string(u.Helped), helpedValues, false)
	}
	c.floatRange("sleepHours", b.SleepHours, 0, maxSleepHours, false)
	c.text("note", b.Note, false)
}

// Rating is a named intensity, such as an emotion and how strong it was.
// The scale depends on where it is used: 0–100 in a thought record, 0–5 on a
// diary card.
type Rating struct {
	Name      string        `json:"name"`
	Intensity int           `json:"intensity"`
	Unknown   UnknownFields `json:"-"`
}

func (c *checker) ratings(field string, list []Rating, max int, required bool) {
	if len(list) == 0 {
		if required {
			c.missing(field, fmt.Sprintf("give at least one, as name and intensity %s", rangeText(0, max)))
		}
		return
	}
	if len(list) > maxListItems {
		c.fail(field, "has %d items; allowed up to %d", len(list), maxListItems)
		return
	}
	for i, r := range list {
		c.label(fmt.Sprintf("%s[%d].name", field, i), r.Name, true)
		c.intValue(fmt.Sprintf("%s[%d].intensity", field, i), r.Intensity, 0, max)
	}
}

// ThoughtRecord is a CBT thought record: kind "thought_record". Emotion
// intensities are 0–100. Situation, automatic thoughts and the emotions
// before are required; the rest is often filled in later.
type ThoughtRecord struct {
	Situation         string        `json:"situation"`
	AutomaticThoughts string        `json:"automaticThoughts"`
	EmotionsBefore    []Rating      `json:"emotionsBefore,omitempty"`
	EvidenceFor       string        `json:"evidenceFor,omitempty"`
	EvidenceAgainst   string        `json:"evidenceAgainst,omitempty"`
	BalancedThought   string        `json:"balancedThought,omitempty"`
	EmotionsAfter     []Rating      `json:"emotionsAfter,omitempty"`
	Unknown           UnknownFields `json:"-"`
}

func (*ThoughtRecord) Kind() string { return KindThoughtRecord }

func (b *ThoughtRecord) check(c *checker) {
	c.text("situation", b.Situation, true)
	c.text("automaticThoughts", b.AutomaticThoughts, true)
	c.ratings("emotionsBefore", b.EmotionsBefore, percentMax, true)
	c.text("evidenceFor", b.EvidenceFor, false)
	c.text("evidenceAgainst", b.EvidenceAgainst, false)
	c.text("balancedThought", b.BalancedThought, false)
	c.ratings("emotionsAfter", b.EmotionsAfter, percentMax, false)
}

// Experiment is a behavioural experiment: kind "experiment". Beliefs are
// 0–100 %. The prediction and belief before are written first; the rest
// after the experiment.
type Experiment struct {
	Prediction   string        `json:"prediction"`
	BeliefBefore *int          `json:"beliefBefore,omitempty"`
	Action       string        `json:"action,omitempty"`
	Outcome      string        `json:"outcome,omitempty"`
	BeliefAfter  *int          `json:"beliefAfter,omitempty"`
	Learning     string        `json:"learning,omitempty"`
	Unknown      UnknownFields `json:"-"`
}

func (*Experiment) Kind() string { return KindExperiment }

func (b *Experiment) check(c *checker) {
	c.text("prediction", b.Prediction, true)
	c.intRange("beliefBefore", b.BeliefBefore, 0, percentMax, true)
	c.text("action", b.Action, false)
	c.text("outcome", b.Outcome, false)
	c.intRange("beliefAfter", b.BeliefAfter, 0, percentMax, false)
	c.text("learning", b.Learning, false)
}

// Exposure logs one exposure practice: kind "exposure". Distress is in SUDS,
// 0–100.
type Exposure struct {
	Practice       string        `json:"practice"`
	Minutes        *int          `json:"minutes,omitempty"`
	DistressBefore *int          `json:"distressBefore,omitempty"`
	DistressPeak   *int          `json:"distressPeak,omitempty"`
	DistressAfter  *int          `json:"distressAfter,omitempty"`
	Note           string        `json:"note,omitempty"`
	Unknown        UnknownFields `json:"-"`
}

func (*Exposure) Kind() string { return KindExposure }

func (b *Exposure) check(c *checker) {
	c.text("practice", b.Practice, true)
	c.intRange("minutes", b.Minutes, 1, maxMinutes, true)
	c.intRange("distressBefore", b.DistressBefore, 0, percentMax, false)
	c.intRange("distressPeak", b.DistressPeak, 0, percentMax, false)
	c.intRange("distressAfter", b.DistressAfter, 0, percentMax, false)
	c.text("note", b.Note, false)
}

// DiaryCard is one day of a DBT diary card: kind "diary_card". Urges and
// emotions are rated 0–5.
type DiaryCard struct {
	Date     Day           `json:"date"`
	Urges    []Urge        `json:"urges,omitempty"`
	Emotions []Rating      `json:"emotions,omitempty"`
	Skills   []string      `json:"skills,omitempty"`
	Note     string        `json:"note,omitempty"`
	Unknown  UnknownFields `json:"-"`
}

// Urge is an urge rated 0–5, and whether the person acted on it (nil: not recorded).
type Urge struct {
	Name      string        `json:"name"`
	Intensity int           `json:"intensity"`
	Acted     *bool         `json:"acted,omitempty"`
	Unknown   UnknownFields `json:"-"`
}

func (*DiaryCard) Kind() string { return KindDiaryCard }

func (b *DiaryCard) check(c *checker) {
	c.day("date", b.Date, true)
	if len(b.Urges) > maxListItems {
		c.fail("urges", "has %d items; allowed up to %d", len(b.Urges), maxListItems)
	}
	for i, u := range b.Urges {
		c.label(fmt.Sprintf("urges[%d].name", i), u.Name, true)
		c.intValue(fmt.Sprintf("urges[%d].intensity", i), u.Intensity, 0, diaryMax)
	}
	c.ratings("emotions", b.Emotions, diaryMax, false)
	c.labels("skills", b.Skills, false)
	c.text("note", b.Note, false)
}

// ValuesAction is an ACT values entry: kind "values". A life domain, the
// value the person holds in it, a committed action towards it, and whether
// it was done.
type ValuesAction struct {
	Domain  string        `json:"domain"`
	Value   string        `json:"value"`
	Action  string        `json:"action"`
	Done    bool          `json:"done"`
	Unknown UnknownFields `json:"-"`
}

func (*ValuesAction) Kind() string { return KindValues }

func (b *ValuesAction) check(c *checker) {
	c.label("domain", b.Domain, true)
	c.text("value", b.Value, true)
	c.text("action", b.Action, true)
}

// SessionPrep gathers what to bring to the next session: kind
// "session_prep". After the session the client ticks the topics that came up.
type SessionPrep struct {
	SessionDate Day           `json:"sessionDate,omitempty"`
	Topics      []Topic       `json:"topics,omitempty"`
	Questions   []string      `json:"questions,omitempty"`
	SinceLast   string        `json:"sinceLast,omitempty"`
	Unknown     UnknownFields `json:"-"`
}

// Topic is something to talk about, and whether it was brought up.
type Topic struct {
	Text      string        `json:"text"`
	BroughtUp bool          `json:"broughtUp,omitempty"`
	Unknown   UnknownFields `json:"-"`
}

func (*SessionPrep) Kind() string { return KindSessionPrep }

func (b *SessionPrep) check(c *checker) {
	c.day("sessionDate", b.SessionDate, false)
	if len(b.Topics) > maxListItems {
		c.fail("topics", "has %d items; allowed up to %d", len(b.Topics), maxListItems)
	}
	for i, t := range b.Topics {
		c.text(fmt.Sprintf("topics[%d].text", i), t.Text, true)
	}
	if len(b.Questions) > maxListItems {
		c.fail("questions", "has %d items; allowed up to %d", len(b.Questions), maxListItems)
	}
	for i, q := range b.Questions {
		c.text(fmt.Sprintf("questions[%d]", i), q, true)
	}
	c.text("sinceLast", b.SinceLast, false)
	if len(b.Topics) == 0 && len(b.Questions) == 0 && strings.TrimSpace(b.SinceLast) == "" {
		c.missing("topics", "give at least one topic, question, or what happened since last time")
	}
}

// Goal is a goal broken into weekly tasks: kind "goal".
type Goal struct {
	Title   string        `json:"title"`
	Why     string        `json:"why,omitempty"`
	Target  Day           `json:"target,omitempty"`
	Tasks   []GoalTask    `json:"tasks,omitempty"`
	Unknown UnknownFields `json:"-"`
}

// GoalTask is one step towards a goal, planned for an ISO week ("2026-W09").
type GoalTask struct {
	Text    string        `json:"text"`
	Week    string        `json:"week,omitempty"`
	Done    bool          `json:"done,omitempty"`
	Unknown UnknownFields `json:"-"`
}

func (*Goal) Kind() string { return KindGoal }

func (b *Goal) check(c *checker) {
	c.label("title", b.Title, true)
	c.text("why", b.Why, false)
	c.day("target", b.Target, false)
	if len(b.Tasks) > maxListItems {
		c.fail("tasks", "has %d items; allowed up to %d", len(b.Tasks), maxListItems)
	}
	for i, t := range b.Tasks {
		c.text(fmt.Sprintf("tasks[%d].text", i), t.Text, true)
		if t.Week != "" && !isoWeek(t.Week) {
			c.fail(fmt.Sprintf("tasks[%d].week", i), "is %q; write an ISO week as YYYY-Www, like 2026-W09", t.Week)
		}
	}
}

// Progress counts the tasks planned for week (an ISO week like "2026-W09";
// "" for all tasks) and how many of them are done.
func (b *Goal) Progress(week string) (done, total int) {
	for _, t := range b.Tasks {
		if week != "" && t.Week != week {
			continue
		}
		total++
		if t.Done {
			done++
		}
	}
	return done, total
}

// Measure is a completed validated measure: kind "measure". Answers are the
// item scores in item order (see MeasureSpec). Difficulty is the optional,
// unscored functional question of the PHQ-9 (0–3).
type Measure struct {
	MeasureID  string        `json:"measure"`
	Answers    []int         `json:"answers"`
	Difficulty *int          `json:"difficulty,omitempty"`
	Unknown    UnknownFields `json:"-"`
}

func (*Measure) Kind() string { return KindMeasure }

// Score scores the answers; see the package-level Score.
func (b *Measure) Score() (Result, error) { return Score(b.MeasureID, b.Answers) }

func (b *Measure) check(c *checker) {
	spec, ok := LookupMeasure(b.MeasureID)
	if !ok {
		if b.MeasureID == "" {
			c.missing("measure", "one of "+measureList())
		} else {
			c.fail("measure", "is %q; allowed %s", b.MeasureID, measureList())
		}
		return
	}
	n := len(spec.Items)
	switch {
	case len(b.Answers) > n, len(b.Answers) < n && !c.draft:
		c.fail("answers", "has %d answers; %s needs exactly %d, one per item, each %s", len(b.Answers), spec.Name, n, rangeText(spec.minAnswer(), spec.maxAnswer()))
	}
	for i, a := range b.Answers {
		if i < n {
			c.intValue(fmt.Sprintf("answers[%d]", i), a, spec.minAnswer(), spec.maxAnswer())
		}
	}
	if b.Difficulty != nil {
		if spec.Difficulty == nil {
			c.fail("difficulty", "is set, but %s has no difficulty question; leave it out", spec.Name)
		} else {
			c.intRange("difficulty", b.Difficulty, 0, len(spec.Difficulty.Options)-1, false)
		}
	}
}

// AssignmentType says what kind of homework an assignment is.
type AssignmentType string

const (
	AssignPrompt    AssignmentType = "prompt"    // answer a written prompt
	AssignWorksheet AssignmentType = "worksheet" // fill in a worksheet of a named kind
	AssignPractice  AssignmentType = "practice"  // practise something and log it
	AssignMeasure   AssignmentType = "measure"   // complete a validated measure
)

var assignmentTypes = []string{string(AssignPrompt), string(AssignWorksheet), string(AssignPractice), string(AssignMeasure)}

// Repeat says how often an assignment recurs.
type Repeat string

const (
	RepeatNone   Repeat = "none"
	RepeatDaily  Repeat = "daily"
	RepeatWeekly Repeat = "weekly"
)

var repeatValues = []string{string(RepeatNone), string(RepeatDaily), string(RepeatWeekly)}

// Kinds that can be filled in as a worksheet, or logged as practice.
var (
	worksheetKinds = []string{KindThoughtRecord, KindExperiment, KindExposure, KindDiaryCard, KindValues, KindGoal, KindSessionPrep, KindCheckin, KindJournal}
	practiceKinds  = []string{KindExposure, KindExperiment, KindValues, KindDiaryCard, KindCheckin, KindJournal, KindGoal}
	answerKinds    = []string{KindPrompted, KindMeasure, KindThoughtRecord, KindExperiment, KindExposure, KindDiaryCard, KindValues, KindGoal, KindSessionPrep, KindCheckin, KindJournal}
)

// Assignment is homework authored by a clinician: kind "assignment". Expects
// is the kind of the body the client's Response will hold.
type Assignment struct {
	Title        string         `json:"title"`
	Instructions string         `json:"instructions,omitempty"`
	Type         AssignmentType `json:"type"`
	Prompt       string         `json:"prompt,omitempty"`
	Worksheet    string         `json:"worksheet,omitempty"`
	MeasureID    string         `json:"measure,omitempty"`
	Expects      string         `json:"expects"`
	Due          Day            `json:"due,omitempty"`
	Repeat       Repeat         `json:"repeat,omitempty"`
	Unknown      UnknownFields  `json:"-"`
}

func (*Assignment) Kind() string { return KindAssignment }

// expectedKind returns the kind of response the assignment type implies, or
// "" for practice, where the clinician chooses.
func (b *Assignment) expectedKind() string {
	switch b.Type {
	case AssignPrompt:
		return KindPrompted
	case AssignWorksheet:
		return b.Worksheet
	case AssignMeasure:
		return KindMeasure
	}
	return ""
}

func (b *Assignment) check(c *checker) {
	c.label("title", b.Title, true)
	c.text("instructions", b.Instructions, false)
	c.oneOf("type", string(b.Type), assignmentTypes, true)
	onlyFor := func(field, value string, t AssignmentType) {
		if value != "" && b.Type != t {
			c.fail(field, "is set, but only a %s assignment has one; leave it out or set type to %s", t, t)
		}
	}
	onlyFor("prompt", b.Prompt, AssignPrompt)
	onlyFor("worksheet", b.Worksheet, AssignWorksheet)
	onlyFor("measure", b.MeasureID, AssignMeasure)
	switch b.Type {
	case AssignPrompt:
		c.text("prompt", b.Prompt, true)
	case AssignWorksheet:
		c.oneOf("worksheet", b.Worksheet, worksheetKinds, true)
	case AssignMeasure:
		if _, ok := LookupMeasure(b.MeasureID); !ok {
			if b.MeasureID == "" {
				c.missing("measure", "one of "+measureList())
			} else {
				c.fail("measure", "is %q; allowed %s", b.MeasureID, measureList())
			}
		}
	case AssignPractice:
		c.oneOf("expects", b.Expects, practiceKinds, true)
	}
	if want := b.expectedKind(); want != "" && b.Expects != want {
		if b.Expects == "" {
			c.missing("expects", fmt.Sprintf("a %s assignment expects a %q response", b.Type, want))
		} else {
			c.fail("expects", "is %q, but a %s assignment expects a %q response", b.Expects, b.Type, want)
		}
	}
	c.day("due", b.Due, false)
	c.oneOf("repeat", string(b.Repeat), repeatValues, false)
}

// CheckResponse reports whether r answers the assignment: its answer must be
// of the expected kind and, for a measure, the same measure.
func (b *Assignment) CheckResponse(r *Response) error {
	if r.Answer == nil {
		return &FieldError{Field: "body.answer", Problem: fmt.Sprintf("is missing; the assignment expects a %q answer", b.Expects)}
	}
	if k := r.Answer.Kind(); k != b.Expects {
		return &FieldError{Field: "body.answerKind", Problem: fmt.Sprintf("is %q; the assignment %q expects %q", k, b.Title, b.Expects)}
	}
	if b.Type == AssignMeasure {
		m, _ := r.Answer.(*Measure)
		if m == nil || normaliseMeasureID(m.MeasureID) != normaliseMeasureID(b.MeasureID) {
			return &FieldError{Field: "body.answer.measure", Problem: fmt.Sprintf("must be %s, as the assignment asks", b.MeasureID)}
		}
	}
	return nil
}

// ResponseStatus says whether a homework response is finished.
type ResponseStatus string

const (
	StatusInProgress ResponseStatus = "in_progress"
	StatusSubmitted  ResponseStatus = "submitted"
)

var responseStatuses = []string{string(StatusInProgress), string(StatusSubmitted)}

// Response is a client's answer to an assignment: kind "response". The
// entry's Links.Assignment names the assignment; Answer is the filled body,
// of the kind the assignment expects. While in progress the answer may be
// incomplete (required fields may be missing); once submitted it must be
// complete. In JSON the answer's kind is the sibling member "answerKind".
type Response struct {
	Status  ResponseStatus `json:"status"`
	Answer  Body           `json:"answer" kind:"answerKind"`
	Unknown UnknownFields  `json:"-"`
}

func (*Response) Kind() string { return KindResponse }

func (b *Response) check(c *checker) {
	c.oneOf("status", string(b.Status), responseStatuses, true)
	draft := b.Status == StatusInProgress
	switch a := b.Answer.(type) {
	case nil:
		if !draft {
			c.fail("answer", "is required once submitted; fill in the answer first")
		}
	case *RawBody:
		c.errs = append(c.errs, fmt.Errorf("%sanswer: kind %q: %w to this version; it is kept unchanged", c.prefix, a.KindName, ErrUnknownKind))
	default:
		if isNilBody(a) {
			c.fail("answer", "is nil")
			return
		}
		c.oneOf("answerKind", a.Kind(), answerKinds, true)
		s := c.sub("answer", draft)
		a.check(s)
		c.merge(s)
	}
}

// Message is one message in a client–clinician thread: kind "message". A
// reply names the message it answers in the entry's Links.ReplyTo.
type Message struct {
	Text    string        `json:"text"`
	Unknown UnknownFields `json:"-"`
}

func (*Message) Kind() string { return KindMessage }

func (b *Message) check(c *checker) { c.text("text", b.Text, true) }

// Availability is a clinician's stated hours for messages: kind
// "availability". ReplyOnly means clients may reply to the clinician's
// messages but not start new threads. Nothing here is enforced by a server;
// clients show it so that expectations are clear.
type Availability struct {
	TimeZone     string        `json:"timeZone,omitempty"`
	Hours        []OfficeHours `json:"hours,omitempty"`
	ReplyOnly    bool          `json:"replyOnly,omitempty"`
	ResponseTime string        `json:"responseTime,omitempty"`
	Note         string        `json:"note,omitempty"`
	Unknown      UnknownFields `json:"-"`
}

// OfficeHours is a window, Start to End ("HH:MM", End after Start), on the given days.
type OfficeHours struct {
	Days    Weekdays      `json:"days"`
	Start   string        `json:"start"`
	End     string        `json:"end"`
	Unknown UnknownFields `json:"-"`
}

func (*Availability) Kind() string { return KindAvailability }

func (b *Availability) check(c *checker) {
	c.label("timeZone", b.TimeZone, false)
	for i, h := range b.Hours {
		p := fmt.Sprintf("hours[%d].", i)
		if len(h.Days) == 0 {
			c.missing(p+"days", "give the days, like mon-fri")
		}
		for j, d := range h.Days {
			if d < time.Sunday || d > time.Saturday {
				c.fail(fmt.Sprintf("%sdays[%d]", p, j), "is %d; allowed 0 (Sunday) to 6 (Saturday)", d)
			}
		}
		c.clockText(p+"start", h.Start, true)
		c.clockText(p+"end", h.End, true)
		s, err1 := parseClock(h.Start)
		e, err2 := parseClock(h.End)
		if err1 == nil && err2 == nil && e <= s {
			c.fail(p+"end", "is %s, not after the start %s; split hours that cross midnight into two windows", h.End, h.Start)
		}
	}
	if !b.ReplyOnly && len(b.Hours) == 0 && b.ResponseTime == "" && strings.TrimSpace(b.Note) == "" {
		c.missing("hours", "give hours, a response time, a note, or reply-only")
	}
	c.label("responseTime", b.ResponseTime, false)
	c.text("note", b.Note, false)
}

// Within reports whether t falls inside the stated hours, using t's own
// location (pass a time in the clinician's time zone).
func (b *Availability) Within(t time.Time) bool {
	now := clockOf(t)
	for _, h := range b.Hours {
		s, err1 := parseClock(h.Start)
		e, err2 := parseClock(h.End)
		if err1 == nil && err2 == nil && h.Days.Has(t.Weekday()) && now >= s && now < e {
			return true
		}
	}
	return false
}
