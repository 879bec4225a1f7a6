package journal

import (
	"fmt"
	"slices"
	"strings"
)

// FieldType is the type of a field as a command line or form sees it.
type FieldType int

const (
	Text    FieldType = iota + 1 // free text, any length; commas are kept
	Label                        // a short one-line name
	Int                          // a whole number in Min..Max
	Float                        // a number in Min..Max
	Bool                         // yes/no, true/false
	Choice                       // one of Choices
	Date                         // YYYY-MM-DD
	List                         // comma-separated items (see Format); write \, for a comma inside an item
	IntList                      // comma-separated whole numbers, each in Min..Max
	Ref                          // a record ID (ULID) of another entry
)

var fieldTypeNames = map[FieldType]string{
	Text: "text", Label: "label", Int: "int", Float: "float", Bool: "bool",
	Choice: "choice", Date: "date", List: "list", IntList: "int-list", Ref: "record-id",
}

func (t FieldType) String() string {
	if s, ok := fieldTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("FieldType(%d)", int(t))
}

// FieldSpec describes one field of a kind well enough for a command line or
// form to ask for it and check it without knowing the kind.
type FieldSpec struct {
	// Name is the member in the document: a body member ("mood") or a link
	// ("links.assignment").
	Name string
	// Flag is the command-line flag, without dashes ("mood").
	Flag string
	Type FieldType
	// Min and Max bound an Int, a Float, each item of an IntList and the
	// number in a List item such as "anxious:70". Both zero: no bound.
	Min, Max int
	Required bool
	// Choices are the allowed values of a Choice, or of the part after the
	// colon in a List item ("walk:yes").
	Choices []string
	// Suggestions are named values offered for a List or Label; other words
	// are accepted too.
	Suggestions []string
	// Items is the exact number of items an IntList must have (0: any).
	Items int
	// Format is the syntax of one List item, such as "skill[:yes|somewhat|no]".
	Format string
	Help   string
}

// KindSpec describes a kind of entry, or a measure that can be added
// directly ("phq9"), which builds a "measure" entry.
type KindSpec struct {
	// Name is what a person types: "checkin", "thought_record", "phq9".
	Name string
	// Kind is the document kind Build produces: the same as Name, or
	// "measure" for a measure's own spec.
	Kind        string
	Description string
	// Author is who writes it: "client", "clinician" or "either".
	Author string
	// Scores is true when ScoresOnly has a scores-only form of the kind.
	Scores bool
	Fields []FieldSpec
}

// Field returns the field with the given flag.
func (k KindSpec) Field(flag string) (FieldSpec, bool) {
	for _, f := range k.Fields {
		if f.Flag == flag {
			return f, true
		}
	}
	return FieldSpec{}, false
}

func (k KindSpec) clone() KindSpec {
	k.Fields = slices.Clone(k.Fields)
	for i := range k.Fields {
		k.Fields[i].Choices = slices.Clone(k.Fields[i].Choices)
		k.Fields[i].Suggestions = slices.Clone(k.Fields[i].Suggestions)
	}
	return k
}

func promptIDs() []string {
	ids := make([]string, len(promptLibrary))
	for i, p := range promptLibrary {
		ids[i] = p.ID
	}
	return ids
}

func measureIDs() []string {
	ids := make([]string, len(measureSpecs))
	for i, m := range measureSpecs {
		ids[i] = m.ID
	}
	return ids
}

const listHelp = " Separate items with commas."

var kindSpecs = []KindSpec{
	{
		Name: KindJournal, Kind: KindJournal, Author: "client",
		Description: "Free writing, with an optional title and tags.",
		Fields: []FieldSpec{
			{Name: "title", Flag: "title", Type: Label, Help: "A title for the entry."},
			{Name: "text", Flag: "text", Type: Text, Required: true, Help: "What you want to write."},
			{Name: "tags", Flag: "tags", Type: List, Format: "tag", Help: "Tags to find the entry again." + listHelp},
		},
	},
	{
		Name: KindPrompted, Kind: KindPrompted, Author: "client",
		Description: "An answer to a writing prompt, built in or from your clinician.",
		Fields: []FieldSpec{
			{Name: "promptId", Flag: "prompt-id", Type: Choice, Choices: promptIDs(), Help: "A built-in prompt; its text is copied in."},
			{Name: "prompt", Flag: "prompt", Type: Text, Help: "The prompt text (required unless --prompt-id is given)."},
			{Name: "answer", Flag: "answer", Type: Text, Required: true, Help: "Your answer."},
			{Name: "links.prompt", Flag: "prompt-record", Type: Ref, Help: "Record ID of your clinician's prompt, if it came from them."},
		},
	},
	{
		Name: KindCheckin, Kind: KindCheckin, Author: "client", Scores: true,
		Description: "A mood check-in: mood, energy and anxiety 0–10, emotions, triggers, symptoms, coping and sleep.",
		Fields: []FieldSpec{
			{Name: "mood", Flag: "mood", Type: Int, Min: 0, Max: scaleMax, Required: true, Help: "Mood from 0 (worst) to 10 (best)."},
			{Name: "energy", Flag: "energy", Type: Int, Min: 0, Max: scaleMax, Help: "Energy from 0 (none) to 10 (lots)."},
			{Name: "anxiety", Flag: "anxiety", Type: Int, Min: 0, Max: scaleMax, Help: "Anxiety from 0 (none) to 10 (extreme)."},
			{Name: "emotions", Flag: "emotions", Type: List, Format: "emotion", Suggestions: emotionNames, Help: "Emotions you felt; your own words are fine." + listHelp},
			{Name: "triggers", Flag: "triggers", Type: List, Format: "trigger", Help: "What set feelings off, like work or sleep." + listHelp},
			{Name: "bodySymptoms", Flag: "body-symptoms", Type: List, Format: "symptom", Suggestions: bodySymptomNames, Help: "What you noticed in your body." + listHelp},
			{Name: "mindSymptoms", Flag: "mind-symptoms", Type: List, Format: "symptom", Suggestions: mindSymptomNames, Help: "What you noticed in your mind." + listHelp},
			{Name: "coping", Flag: "coping", Type: List, Format: "skill[:yes|somewhat|no]", Choices: helpedValues, Suggestions: copingSkillNames, Help: "Coping skills you used and whether each helped, like walk:yes,music:somewhat." + listHelp},
			{Name: "sleepHours", Flag: "sleep", Type: Float, Min: 0, Max: maxSleepHours, Help: "Hours slept last night."},
			{Name: "note", Flag: "note", Type: Text, Help: "Anything else."},
		},
	},
	{
		Name: KindThoughtRecord, Kind: KindThoughtRecord, Author: "client",
		Description: "A CBT thought record: situation, automatic thoughts, emotions before and after, evidence and a balanced thought.",
		Fields: []FieldSpec{
			{Name: "situation", Flag: "situation", Type: Text, Required: true, Help: "Where you were, who with, what happened."},
			{Name: "automaticThoughts", Flag: "thoughts", Type: Text, Required: true, Help: "The thoughts that went through your mind."},
			{Name: "emotionsBefore", Flag: "before", Type: List, Format: "emotion:0-100", Min: 0, Max: percentMax, Required: true, Suggestions: emotionNames, Help: "Emotions and how strong, 0–100, like anxious:80,sad:60." + listHelp},
			{Name: "evidenceFor", Flag: "evidence-for", Type: Text, Help: "Facts that support the thought."},
			{Name: "evidenceAgainst", Flag: "evidence-against", Type: Text, Help: "Facts that do not fit the thought."},
			{Name: "balancedThought", Flag: "balanced", Type: Text, Help: "A more balanced way to see it."},
			{Name: "emotionsAfter", Flag: "after", Type: List, Format: "emotion:0-100", Min: 0, Max: percentMax, Suggestions: emotionNames, Help: "The same emotions rated again, 0–100." + listHelp},
		},
	},
	{
		Name: KindExperiment, Kind: KindExperiment, Author: "client",
		Description: "A behavioural experiment: a prediction and how strongly you believe it, what you did, what happened, and what you learned.",
		Fields: []FieldSpec{
			{Name: "prediction", Flag: "prediction", Type: Text, Required: true, Help: "What you expect will happen."},
			{Name: "beliefBefore", Flag: "belief-before", Type: Int, Min: 0, Max: percentMax, Required: true, Help: "How strongly you believe the prediction, 0–100 %."},
			{Name: "action", Flag: "action", Type: Text, Help: "What you did to test it."},
			{Name: "outcome", Flag: "outcome", Type: Text, Help: "What actually happened."},
			{Name: "beliefAfter", Flag: "belief-after", Type: Int, Min: 0, Max: percentMax, Help: "How strongly you believe the prediction now, 0–100 %."},
			{Name: "learning", Flag: "learning", Type: Text, Help: "What you learned."},
		},
	},
	{
		Name: KindExposure, Kind: KindExposure, Author: "client",
		Description: "An exposure practice log: what you practised, for how long, and distress (SUDS 0–100) before, at peak and after.",
		Fields: []FieldSpec{
			{Name: "practice", Flag: "practice", Type: Text, Required: true, Help: "What you practised."},
			{Name: "minutes", Flag: "minutes", Type: Int, Min: 1, Max: maxMinutes, Required: true, Help: "How many minutes."},
			{Name: "distressBefore", Flag: "suds-before", Type: Int, Min: 0, Max: percentMax, Help: "Distress before, 0–100 SUDS."},
			{Name: "distressPeak", Flag: "suds-peak", Type: Int, Min: 0, Max: percentMax, Help: "Highest distress during, 0–100 SUDS."},
			{Name: "distressAfter", Flag: "suds-after", Type: Int, Min: 0, Max: percentMax, Help: "Distress after, 0–100 SUDS."},
			{Name: "note", Flag: "note", Type: Text, Help: "Anything else."},
		},
	},
	{
		Name: KindDiaryCard, Kind: KindDiaryCard, Author: "client",
		Description: "A DBT diary card for one day: urges and emotions rated 0–5, and skills used.",
		Fields: []FieldSpec{
			{Name: "date", Flag: "date", Type: Date, Required: true, Help: "The day the card is for, YYYY-MM-DD."},
			{Name: "urges", Flag: "urges", Type: List, Format: "urge:0-5[:acted|resisted]", Min: 0, Max: diaryMax, Choices: []string{"acted", "resisted"}, Help: "Urges and how strong, 0–5, and whether you acted on them, like self-harm:2:resisted." + listHelp},
			{Name: "emotions", Flag: "emotions", Type: List, Format: "emotion:0-5", Min: 0, Max: diaryMax, Suggestions: emotionNames, Help: "Emotions and how strong, 0–5, like sad:3." + listHelp},
			{Name: "skills", Flag: "skills", Type: List, Format: "skill", Suggestions: dbtSkillNames, Help: "DBT skills you used." + listHelp},
			{Name: "note", Flag: "note", Type: Text, Help: "Anything else."},
		},
	},
	{
		Name: KindValues, Kind: KindValues, Author: "client",
		Description: "An ACT values entry: a life domain, what you value in it, and a committed action.",
		Fields: []FieldSpec{
			{Name: "domain", Flag: "domain", Type: Label, Required: true, Suggestions: valueDomainNames, Help: "The area of life, like family or work."},
			{Name: "value", Flag: "value", Type: Text, Required: true, Help: "What matters to you there."},
			{Name: "action", Flag: "action", Type: Text, Required: true, Help: "A concrete step you commit to."},
			{Name: "done", Flag: "done", Type: Bool, Help: "Whether you have done it."},
		},
	},
	{
		Name: KindSessionPrep, Kind: KindSessionPrep, Author: "client",
		Description: "Preparation for your next session: topics to bring, questions, and what happened since last time.",
		Fields: []FieldSpec{
			{Name: "sessionDate", Flag: "date", Type: Date, Help: "The date of the session, YYYY-MM-DD."},
			{Name: "topics", Flag: "topics", Type: List, Format: "topic", Help: "Topics you want to bring up." + listHelp},
			{Name: "questions", Flag: "questions", Type: List, Format: "question", Help: "Questions for your clinician." + listHelp},
			{Name: "sinceLast", Flag: "since-last", Type: Text, Help: "What has happened since the last session."},
		},
	},
	{
		Name: KindGoal, Kind: KindGoal, Author: "either",
		Description: "A goal with weekly tasks you can tick off.",
		Fields: []FieldSpec{
			{Name: "title", Flag: "title", Type: Label, Required: true, Help: "The goal in a few words."},
			{Name: "why", Flag: "why", Type: Text, Help: "Why it matters to you."},
			{Name: "target", Flag: "target", Type: Date, Help: "When you hope to reach it, YYYY-MM-DD."},
			{Name: "tasks", Flag: "tasks", Type: List, Format: "task[:YYYY-Www][:done]", Help: "Tasks, each with an optional ISO week and done mark, like walk 3 times:2026-W10:done." + listHelp},
		},
	},
	{
		Name: KindMeasure, Kind: KindMeasure, Author: "client", Scores: true,
		Description: "A validated measure (PHQ-9, GAD-7 or WHO-5), answered item by item.",
		Fields: []FieldSpec{
			{Name: "measure", Flag: "measure", Type: Choice, Required: true, Choices: measureIDs(), Help: "Which measure."},
			{Name: "answers", Flag: "answers", Type: IntList, Required: true, Help: "One answer per item, in order, like 1,2,1,0,1,2,1,1,0."},
			{Name: "difficulty", Flag: "difficulty", Type: Int, Min: 0, Max: 3, Help: "PHQ-9 only: how difficult the problems made things, 0 (not at all) to 3 (extremely)."},
		},
	},
	{
		Name: KindAssignment, Kind: KindAssignment, Author: "clinician",
		Description: "Homework from a clinician: a prompt, a worksheet, a practice or a measure, with a due date and repeat.",
		Fields: []FieldSpec{
			{Name: "title", Flag: "title", Type: Label, Required: true, Help: "A short title."},
			{Name: "instructions", Flag: "instructions", Type: Text, Help: "What to do, in the client's own words where possible."},
			{Name: "type", Flag: "type", Type: Choice, Required: true, Choices: assignmentTypes, Help: "prompt, worksheet, practice or measure."},
			{Name: "prompt", Flag: "prompt", Type: Text, Help: "For a prompt: the prompt text."},
			{Name: "worksheet", Flag: "worksheet", Type: Choice, Choices: worksheetKinds, Help: "For a worksheet: its kind."},
			{Name: "measure", Flag: "measure", Type: Choice, Choices: measureIDs(), Help: "For a measure: which one."},
			{Name: "expects", Flag: "expects", Type: Choice, Choices: answerKinds, Help: "The kind of response expected; set from the type unless it is a practice."},
			{Name: "due", Flag: "due", Type: Date, Help: "Due date, YYYY-MM-DD."},
			{Name: "repeat", Flag: "repeat", Type: Choice, Choices: repeatValues, Help: "none, daily or weekly."},
		},
	},
	{
		Name: KindResponse, Kind: KindResponse, Author: "client",
		Description: "Your response to an assignment: the filled-in answer of the kind it expects. Also takes the flags of that kind.",
		Fields: []FieldSpec{
			{Name: "links.assignment", Flag: "assignment", Type: Ref, Required: true, Help: "Record ID of the assignment."},
			{Name: "status", Flag: "status", Type: Choice, Choices: responseStatuses, Help: "in_progress or submitted (the default)."},
			{Name: "answerKind", Flag: "answer-kind", Type: Choice, Required: true, Choices: answerKinds, Help: "The kind of the answer; give its flags too."},
		},
	},
	{
		Name: KindMessage, Kind: KindMessage, Author: "either",
		Description: "A message in your thread with your clinician.",
		Fields: []FieldSpec{
			{Name: "text", Flag: "text", Type: Text, Required: true, Help: "The message."},
			{Name: "links.replyTo", Flag: "reply-to", Type: Ref, Help: "Record ID of the message this replies to."},
		},
	},
	{
		Name: KindAvailability, Kind: KindAvailability, Author: "clinician",
		Description: "A clinician's stated hours for messages, expected response time, and whether clients may only reply.",
		Fields: []FieldSpec{
			{Name: "hours", Flag: "hours", Type: List, Format: "days@HH:MM-HH:MM", Help: "Windows when you read messages, like mon-fri@09:00-17:00." + listHelp},
			{Name: "replyOnly", Flag: "reply-only", Type: Bool, Help: "Clients may reply to your messages but not start new threads."},
			{Name: "responseTime", Flag: "response-time", Type: Label, Help: "When clients can expect a reply, like within 2 working days."},
			{Name: "timeZone", Flag: "time-zone", Type: Label, Help: "Your time zone, like America/Toronto."},
			{Name: "note", Flag: "note", Type: Text, Help: "Anything else clients should know, such as what to do in a crisis."},
		},
	},
}

// Kinds lists every entry kind with its fields, in a stable order.
func Kinds() []KindSpec {
	out := make([]KindSpec, len(kindSpecs))
	for i, k := range kindSpecs {
		out[i] = k.clone()
	}
	return out
}

// Spec returns the spec for a kind name, or for a measure ID such as "phq9"
// (a "measure" entry with that measure fixed, so a command line can offer
// `add phq9 --answers ...`).
func Spec(name string) (KindSpec, bool) {
	for _, k := range kindSpecs {
		if k.Name == name {
			return k.clone(), true
		}
	}
	if m := lookupMeasure(name); m != nil && name != KindMeasure {
		return measureKindSpec(m), true
	}
	return KindSpec{}, false
}

func measureKindSpec(m *MeasureSpec) KindSpec {
	k := KindSpec{
		Name: m.ID, Kind: KindMeasure, Author: "client", Scores: true,
		Description: fmt.Sprintf("%s (%s): %s.", m.Name, m.Title, m.Construct),
		Fields: []FieldSpec{{
			Name: "answers", Flag: "answers", Type: IntList, Required: true,
			Min: m.minAnswer(), Max: m.maxAnswer(), Items: len(m.Items),
			Help: fmt.Sprintf("%d answers, in item order, each %d–%d.", len(m.Items), m.minAnswer(), m.maxAnswer()),
		}},
	}
	if m.Difficulty != nil {
		k.Fields = append(k.Fields, FieldSpec{
			Name: "difficulty", Flag: "difficulty", Type: Int, Min: 0, Max: len(m.Difficulty.Options) - 1,
			Help: "Optional, not scored: how difficult the problems made things, 0 (not at all) to 3 (extremely).",
		})
	}
	return k
}

func specNames() string {
	names := make([]string, 0, len(kindSpecs)+len(measureSpecs))
	for _, k := range kindSpecs {
		names = append(names, k.Name)
	}
	names = append(names, measureIDs()...)
	return strings.Join(names, ", ")
}
