package journal

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Build makes an entry of the named kind (or measure, such as "phq9") from
// flag-style string values keyed by flag name without dashes, and validates
// it. Lists are comma-separated ("sad,tired"; write \, for a comma inside an
// item); list items with a value use a colon ("walk:yes", "anxious:70").
// Empty values count as not given. For a "response", the flags of the answer
// kind (given by answer-kind) go in the same map.
//
// Created and Updated are left zero: set them with Touch(now) before
// Marshal. Errors are *FieldError values naming the flag (see FieldErrors).
//
//	e, err := journal.Build("checkin", map[string]string{"mood": "4", "emotions": "sad,tired", "coping": "walk:yes"})
func Build(kind string, values map[string]string) (*Entry, error) {
	spec, ok := Spec(kind)
	if !ok {
		return nil, fmt.Errorf("build: unknown kind %q; use one of %s", kind, specNames())
	}
	own, rest := splitValues(spec, values)
	var answerSpec *KindSpec
	if spec.Kind == KindResponse {
		if ak := strings.TrimSpace(values["answer-kind"]); ak != "" {
			as, ok := Spec(ak)
			if !ok {
				return nil, &FieldError{Field: "body.answerKind", Flag: "answer-kind", Problem: fmt.Sprintf("%q is not a kind; use one of %s", ak, strings.Join(answerKinds, ", "))}
			}
			answerSpec = &as
		}
	}
	if len(rest) > 0 && answerSpec == nil && spec.Kind == KindResponse {
		return nil, &FieldError{Field: "body.answerKind", Flag: "answer-kind", Problem: fmt.Sprintf("is required to read %s; name the kind of your answer, one of %s", flagList(sortedKeys(rest)), strings.Join(answerKinds, ", "))}
	}
	if len(rest) > 0 && answerSpec == nil {
		return nil, fmt.Errorf("build %s: unknown flag %s; %s takes %s", kind, flagList(sortedKeys(rest)), spec.Name, flagList(specFlags(spec)))
	}
	p := &parser{spec: spec, values: own}
	e := &Entry{Kind: spec.Kind}
	e.Body = buildBody(p, e)
	if spec.Kind == KindResponse && answerSpec != nil {
		ap := &parser{spec: *answerSpec, values: rest}
		if unknown := unknownFlags(*answerSpec, rest); len(unknown) > 0 {
			return nil, fmt.Errorf("build %s: unknown flag %s; a %s answer takes %s", kind, flagList(unknown), answerSpec.Name, flagList(specFlags(*answerSpec)))
		}
		answer := buildBody(ap, &Entry{})
		p.errs = append(p.errs, ap.errs...)
		e.Body.(*Response).Answer = answer
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	c := &checker{}
	for _, f := range []struct{ name, id string }{{"links.prompt", e.Links.Prompt}, {"links.assignment", e.Links.Assignment}, {"links.replyTo", e.Links.ReplyTo}} {
		c.recordID(f.name, f.id, false)
	}
	if spec.Kind == KindResponse && e.Links.Assignment == "" {
		c.fail("links.assignment", "is required; the record ID of the assignment this responds to")
	}
	s := c.sub("body", false)
	e.Body.check(s)
	c.merge(s)
	if len(c.errs) > 0 {
		for _, fe := range FieldErrors(c.err()) {
			nameFlag(fe, spec, answerSpec)
		}
		return nil, c.err()
	}
	return e, nil
}

// splitValues separates the values that are flags of spec from the rest.
func splitValues(spec KindSpec, values map[string]string) (own, rest map[string]string) {
	own, rest = map[string]string{}, map[string]string{}
	for k, v := range values {
		if _, ok := spec.Field(k); ok {
			own[k] = v
		} else {
			rest[k] = v
		}
	}
	return own, rest
}

func unknownFlags(spec KindSpec, values map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(values) {
		if _, ok := spec.Field(k); !ok {
			out = append(out, k)
		}
	}
	return out
}

func specFlags(spec KindSpec) []string {
	flags := make([]string, len(spec.Fields))
	for i, f := range spec.Fields {
		flags[i] = f.Flag
	}
	return flags
}

func flagList(flags []string) string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = "--" + f
	}
	return strings.Join(out, ", ")
}

// nameFlag sets fe.Flag from the document path, so a command line can say
// which flag to fix.
func nameFlag(fe *FieldError, spec KindSpec, answerSpec *KindSpec) {
	path := fe.Field
	lookup := spec
	if rest, ok := strings.CutPrefix(path, "body.answer."); ok && answerSpec != nil {
		path, lookup = rest, *answerSpec
	} else {
		path = strings.TrimPrefix(path, "body.")
	}
	for _, f := range lookup.Fields {
		if path == f.Name {
			fe.Flag = f.Flag
			return
		}
		if strings.HasPrefix(path, f.Name+"[") || strings.HasPrefix(path, f.Name+".") {
			fe.Flag = f.Flag
			fe.Problem = path + " " + fe.Problem
			return
		}
	}
}

// parser reads typed values from flag strings and collects errors.
type parser struct {
	spec   KindSpec
	values map[string]string
	errs   []error
}

func (p *parser) fail(flag, format string, args ...any) {
	fs, _ := p.spec.Field(flag)
	p.errs = append(p.errs, &FieldError{Field: fs.Name, Flag: flag, Problem: fmt.Sprintf(format, args...)})
}

func (p *parser) rangeHint(flag string) string {
	fs, _ := p.spec.Field(flag)
	if fs.Min == 0 && fs.Max == 0 {
		return ""
	}
	return "; " + rangeText(fs.Min, fs.Max)
}

func (p *parser) str(flag string) string { return strings.TrimSpace(p.values[flag]) }

func (p *parser) intp(flag string) *int {
	s := p.str(flag)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.fail(flag, "%q is not a whole number%s", s, p.rangeHint(flag))
		return nil
	}
	return &n
}

func (p *parser) floatp(flag string) *float64 {
	s := p.str(flag)
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(flag, "%q is not a number%s", s, p.rangeHint(flag))
		return nil
	}
	return &f
}

func (p *parser) boolean(flag string) bool {
	s := strings.ToLower(p.str(flag))
	switch s {
	case "", "no", "n", "false", "0", "off":
		return false
	case "yes", "y", "true", "1", "on":
		return true
	}
	p.fail(flag, "%q is not yes or no", s)
	return false
}

func (p *parser) day(flag string) Day { return Day(p.str(flag)) }

func (p *parser) list(flag string) []string { return splitList(p.values[flag]) }

func (p *parser) ints(flag string) []int {
	items := p.list(flag)
	if items == nil {
		return nil
	}
	out := make([]int, 0, len(items))
	for i, s := range items {
		n, err := strconv.Atoi(s)
		if err != nil {
			p.fail(flag, "item %d, %q, is not a whole number; give numbers separated by commas, like 1,2,0", i+1, s)
			return nil
		}
		out = append(out, n)
	}
	return out
}

// ratings parses "name:N" items.
func (p *parser) ratings(flag string) []Rating {
	var out []Rating
	for _, item := range p.list(flag) {
		name, num, ok := cutLast(item, ":")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil {
			p.fail(flag, "%q needs a name and an intensity, like anxious:70%s", item, p.rangeHint(flag))
			continue
		}
		out = append(out, Rating{Name: strings.TrimSpace(name), Intensity: n})
	}
	return out
}

// splitList splits on commas not preceded by a backslash, unescapes "\,"
// and "\\", trims items and drops empty ones.
func splitList(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if item := strings.TrimSpace(cur.String()); item != "" {
			out = append(out, item)
		}
		cur.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && (s[i+1] == ',' || s[i+1] == '\\'):
			cur.WriteByte(s[i+1])
			i++
		case s[i] == ',':
			flush()
		default:
			cur.WriteByte(s[i])
		}
	}
	flush()
	return out
}

// cutLast splits s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// buildBody fills the body for p.spec from p's values; link flags go to e.
func buildBody(p *parser, e *Entry) Body {
	switch p.spec.Kind {
	case KindJournal:
		return &Journal{Title: p.str("title"), Text: p.str("text"), Tags: p.list("tags")}
	case KindPrompted:
		b := &Prompted{PromptID: p.str("prompt-id"), Prompt: p.str("prompt"), Answer: p.str("answer")}
		if b.PromptID != "" {
			pr, ok := LookupPrompt(b.PromptID)
			if !ok {
				p.fail("prompt-id", "%q is not a built-in prompt; use one of %s", b.PromptID, strings.Join(promptIDs(), ", "))
			} else if b.Prompt == "" {
				b.Prompt = pr.Text
			}
		}
		e.Links.Prompt = p.str("prompt-record")
		return b
	case KindCheckin:
		b := &Checkin{
			Mood: p.intp("mood"), Energy: p.intp("energy"), Anxiety: p.intp("anxiety"),
			Emotions: p.list("emotions"), Triggers: p.list("triggers"),
			BodySymptoms: p.list("body-symptoms"), MindSymptoms: p.list("mind-symptoms"),
			SleepHours: p.floatp("sleep"), Note: p.str("note"),
		}
		for _, item := range p.list("coping") {
			u := CopingUse{Skill: item}
			if skill, helped, ok := cutLast(item, ":"); ok {
				u = CopingUse{Skill: strings.TrimSpace(skill), Helped: Helped(strings.ToLower(strings.TrimSpace(helped)))}
			}
			b.Coping = append(b.Coping, u)
		}
		return b
	case KindThoughtRecord:
		return &ThoughtRecord{
			Situation: p.str("situation"), AutomaticThoughts: p.str("thoughts"),
			EmotionsBefore: p.ratings("before"), EvidenceFor: p.str("evidence-for"),
			EvidenceAgainst: p.str("evidence-against"), BalancedThought: p.str("balanced"),
			EmotionsAfter: p.ratings("after"),
		}
	case KindExperiment:
		return &Experiment{
			Prediction: p.str("prediction"), BeliefBefore: p.intp("belief-before"),
			Action: p.str("action"), Outcome: p.str("outcome"),
			BeliefAfter: p.intp("belief-after"), Learning: p.str("learning"),
		}
	case KindExposure:
		return &Exposure{
			Practice: p.str("practice"), Minutes: p.intp("minutes"),
			DistressBefore: p.intp("suds-before"), DistressPeak: p.intp("suds-peak"),
			DistressAfter: p.intp("suds-after"), Note: p.str("note"),
		}
	case KindDiaryCard:
		b := &DiaryCard{Date: p.day("date"), Emotions: p.ratings("emotions"), Skills: p.list("skills"), Note: p.str("note")}
		for _, item := range p.list("urges") {
			u, ok := parseUrge(item)
			if !ok {
				p.fail("urges", "%q needs an urge and an intensity 0–5, and optionally acted or resisted, like self-harm:2:resisted", item)
				continue
			}
			b.Urges = append(b.Urges, u)
		}
		return b
	case KindValues:
		return &ValuesAction{Domain: p.str("domain"), Value: p.str("value"), Action: p.str("action"), Done: p.boolean("done")}
	case KindSessionPrep:
		b := &SessionPrep{SessionDate: p.day("date"), Questions: p.list("questions"), SinceLast: p.str("since-last")}
		for _, t := range p.list("topics") {
			b.Topics = append(b.Topics, Topic{Text: t})
		}
		return b
	case KindGoal:
		b := &Goal{Title: p.str("title"), Why: p.str("why"), Target: p.day("target")}
		for _, item := range p.list("tasks") {
			b.Tasks = append(b.Tasks, parseTask(item))
		}
		return b
	case KindMeasure:
		id := p.str("measure")
		if p.spec.Name != KindMeasure {
			id = p.spec.Name
		}
		if m := lookupMeasure(id); m != nil {
			id = m.ID
		}
		return &Measure{MeasureID: id, Answers: p.ints("answers"), Difficulty: p.intp("difficulty")}
	case KindAssignment:
		b := &Assignment{
			Title: p.str("title"), Instructions: p.str("instructions"), Type: AssignmentType(p.str("type")),
			Prompt: p.str("prompt"), Worksheet: p.str("worksheet"), MeasureID: p.str("measure"),
			Expects: p.str("expects"), Due: p.day("due"), Repeat: Repeat(p.str("repeat")),
		}
		if m := lookupMeasure(b.MeasureID); m != nil {
			b.MeasureID = m.ID
		}
		if b.Expects == "" {
			b.Expects = b.expectedKind()
		}
		return b
	case KindResponse:
		e.Links.Assignment = p.str("assignment")
		status := ResponseStatus(p.str("status"))
		if status == "" {
			status = StatusSubmitted
		}
		if p.str("answer-kind") == "" {
			p.fail("answer-kind", "is required; the kind of your answer, one of %s", strings.Join(answerKinds, ", "))
		}
		return &Response{Status: status}
	case KindMessage:
		e.Links.ReplyTo = p.str("reply-to")
		return &Message{Text: p.str("text")}
	case KindAvailability:
		b := &Availability{ReplyOnly: p.boolean("reply-only"), ResponseTime: p.str("response-time"), TimeZone: p.str("time-zone"), Note: p.str("note")}
		for _, item := range p.list("hours") {
			h, err := parseHours(item)
			if err != nil {
				p.fail("hours", "%q: %v", item, err)
				continue
			}
			b.Hours = append(b.Hours, h)
		}
		return b
	}
	panic("journal: no builder for kind " + p.spec.Kind)
}

// parseUrge parses "name:N" or "name:N:acted|resisted".
func parseUrge(item string) (Urge, bool) {
	var acted *bool
	rest := item
	if before, last, ok := cutLast(item, ":"); ok {
		switch strings.ToLower(strings.TrimSpace(last)) {
		case "acted", "yes":
			acted, rest = new(true), before
		case "resisted", "no":
			acted, rest = new(false), before
		}
	}
	name, num, ok := cutLast(rest, ":")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil || strings.TrimSpace(name) == "" {
		return Urge{}, false
	}
	return Urge{Name: strings.TrimSpace(name), Intensity: n, Acted: acted}, true
}

// parseTask parses "text[:YYYY-Www][:done]".
func parseTask(item string) GoalTask {
	t := GoalTask{Text: item}
	if before, last, ok := cutLast(t.Text, ":"); ok && strings.EqualFold(strings.TrimSpace(last), "done") {
		t.Done, t.Text = true, before
	}
	if before, last, ok := cutLast(t.Text, ":"); ok && looksLikeWeek(strings.TrimSpace(last)) {
		t.Week, t.Text = strings.TrimSpace(last), before
	}
	t.Text = strings.TrimSpace(t.Text)
	return t
}

// parseHours parses "mon-fri@09:00-17:00".
func parseHours(item string) (OfficeHours, error) {
	days, window, ok := strings.Cut(item, "@")
	start, end, ok2 := strings.Cut(window, "-")
	if !ok || !ok2 {
		return OfficeHours{}, errors.New("write days@HH:MM-HH:MM, like mon-fri@09:00-17:00")
	}
	wd, err := ParseWeekdays(days)
	if err != nil {
		return OfficeHours{}, err
	}
	return OfficeHours{Days: wd, Start: strings.TrimSpace(start), End: strings.TrimSpace(end)}, nil
}

// looksLikeWeek reports whether s has the shape YYYY-Www; Validate checks
// that the week exists.
func looksLikeWeek(s string) bool {
	if len(s) != 8 || s[4] != '-' || s[5] != 'W' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 6, 7} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
