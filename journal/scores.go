package journal

import "slices"

// ScoresOnly returns a copy of a check-in or measure that keeps only the
// numbers: for a check-in, mood, energy, anxiety and sleep hours; for a
// measure, its ID, answers and difficulty. Every piece of free text goes:
// notes, emotions, triggers, symptoms, coping skills, unknown fields from
// newer clients (which might hold text) and the prompt and reply links.
// The created and updated times stay, and so does the link to an assignment,
// so a scores-only response still counts as homework done. A response whose
// answer is a check-in or measure is stripped the same way.
//
// The second result is false for kinds without scores. This is the
// "scores only" sharing level: a client shares the copy, never the original.
func (e *Entry) ScoresOnly() (*Entry, bool) {
	body, ok := scoresOnlyBody(e.Body)
	if !ok {
		return nil, false
	}
	return &Entry{
		Kind:    body.Kind(),
		Created: e.Created,
		Updated: e.Updated,
		Links:   Links{Assignment: e.Links.Assignment},
		Body:    body,
	}, true
}

func scoresOnlyBody(b Body) (Body, bool) {
	switch b := b.(type) {
	case *Checkin:
		if b == nil {
			return nil, false
		}
		return &Checkin{
			Mood:       clonePtr(b.Mood),
			Energy:     clonePtr(b.Energy),
			Anxiety:    clonePtr(b.Anxiety),
			SleepHours: clonePtr(b.SleepHours),
		}, true
	case *Measure:
		if b == nil {
			return nil, false
		}
		return &Measure{MeasureID: b.MeasureID, Answers: slices.Clone(b.Answers), Difficulty: clonePtr(b.Difficulty)}, true
	case *Response:
		if b == nil {
			return nil, false
		}
		answer, ok := scoresOnlyBody(b.Answer)
		if !ok {
			return nil, false
		}
		return &Response{Status: b.Status, Answer: answer}, true
	}
	return nil, false
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
