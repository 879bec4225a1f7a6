package journal

import "slices"

// Prompt is a built-in writing prompt. A prompted entry copies its Text and
// records its ID, so the entry reads the same if the library changes.
type Prompt struct {
	ID       string
	Approach string // "CBT", "ACT", "DBT" or "reflection"
	Title    string
	Text     string
}

var promptLibrary = []Prompt{
	{"cbt-catch-thought", "CBT", "Catch the thought",
		"Think of a moment today when your mood shifted. Where were you, and what went through your mind just before it changed? Write the thought down as it came, word for word."},
	{"cbt-weigh-evidence", "CBT", "Weigh the evidence",
		"Pick one thought that has been weighing on you. What facts support it? What facts don't fit it? What would you say to a friend who had this thought?"},
	{"cbt-thinking-traps", "CBT", "Thinking traps",
		"Did you notice a thinking trap today — all-or-nothing thinking, mind reading, fortune telling, catastrophising or a harsh \"should\"? Describe it, and write a more balanced way of seeing the same situation."},
	{"cbt-pleasure-mastery", "CBT", "Pleasure and achievement",
		"What did you do today that gave you even a small sense of enjoyment or achievement? What made it possible, and how could you fit a little more of it into this week?"},
	{"cbt-worry-action", "CBT", "Worry or problem?",
		"What are you worried about right now? Which parts of it can you do something about, and what is one small step you could take? Which parts are outside your control?"},
	{"act-values-moment", "ACT", "A values moment",
		"Recall a moment this week when you acted like the person you want to be. What did you do, and what value did it show — kindness, courage, honesty, curiosity, something else?"},
	{"act-defusion", "ACT", "Noticing a thought",
		"Write down a thought that keeps hooking you. Now write it again, starting with \"I'm noticing I'm having the thought that…\". What changes when you hold it that way?"},
	{"act-willingness", "ACT", "Making room",
		"What feeling, memory or sensation have you been trying hard to avoid? What has avoiding it cost you, and what might you do if you were willing to let it come along with you?"},
	{"act-small-step", "ACT", "One small step",
		"Choose an area of life that matters to you. What is one small, concrete thing you could do tomorrow that moves you towards it, even if some discomfort comes too?"},
	{"dbt-wise-mind", "DBT", "Wise mind",
		"Describe a moment today when emotions ran high. What did emotion mind want to do? What did reasonable mind say? What does wise mind know about it now?"},
	{"reflect-self-compassion", "reflection", "A kinder voice",
		"Imagine a close friend was going through exactly what you are going through. What would you say to them? Now write those words to yourself."},
	{"reflect-three-good-things", "reflection", "Three good things",
		"Write down three things that went well today, however small, and for each one, what part you played in it."},
	{"reflect-after-session", "reflection", "After the session",
		"What from your last session has stayed with you? Has anything changed since then, and is there something you want to say or ask next time?"},
}

// Prompts returns the built-in prompt library.
func Prompts() []Prompt { return slices.Clone(promptLibrary) }

// LookupPrompt finds a built-in prompt by ID.
func LookupPrompt(id string) (Prompt, bool) {
	for _, p := range promptLibrary {
		if p.ID == id {
			return p, true
		}
	}
	return Prompt{}, false
}
