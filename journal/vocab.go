package journal

import (
	"slices"
	"strings"
)

// Named sets offered as choices. They are suggestions: a person's own words
// are always accepted, and a newer client's additions remain valid here.

var emotionNames = []string{
	// pleasant
	"happy", "calm", "content", "grateful", "hopeful", "proud", "loved", "excited", "relieved", "confident",
	// unpleasant
	"sad", "lonely", "tired", "anxious", "worried", "afraid", "angry", "irritable", "frustrated",
	"ashamed", "guilty", "jealous", "hurt", "disappointed", "overwhelmed", "numb", "empty", "hopeless",
	"bored", "confused",
}

var bodySymptomNames = []string{
	"headache", "muscle tension", "tight chest", "racing heart", "shortness of breath", "stomach ache",
	"nausea", "fatigue", "restlessness", "sweating", "shaking", "dizziness", "poor appetite", "overeating",
	"pain",
}

var mindSymptomNames = []string{
	"racing thoughts", "rumination", "worry", "poor concentration", "forgetfulness", "low motivation",
	"intrusive thoughts", "self-criticism", "feeling detached", "flashbacks", "hopelessness", "indecision",
}

var copingSkillNames = []string{
	"walk", "exercise", "breathing", "grounding", "music", "talk to someone", "journaling", "meditation",
	"mindfulness", "cold water", "stretching", "reading", "time outside", "rest", "creative activity",
	"problem solving", "self-compassion", "distraction",
}

var dbtSkillNames = []string{
	"wise mind", "observe", "describe", "participate", "nonjudgmental stance", "one-mindfully", "effectively",
	"check the facts", "opposite action", "problem solving", "ABC PLEASE", "accumulate positives",
	"build mastery", "cope ahead", "STOP", "TIPP", "pros and cons", "distract (ACCEPTS)", "self-soothe",
	"IMPROVE the moment", "radical acceptance", "turning the mind", "willingness", "half-smile",
	"DEAR MAN", "GIVE", "FAST",
}

var valueDomainNames = []string{
	"family", "partner", "parenting", "friendship", "work", "education", "health", "leisure",
	"community", "spirituality", "personal growth", "environment",
}

// Emotions is the named set of emotions offered in check-ins.
func Emotions() []string { return slices.Clone(emotionNames) }

// IsNamedEmotion reports whether s (in any case) is in Emotions.
func IsNamedEmotion(s string) bool {
	return slices.Contains(emotionNames, strings.ToLower(strings.TrimSpace(s)))
}

// BodySymptoms and MindSymptoms are the symptoms offered in check-ins.
func BodySymptoms() []string { return slices.Clone(bodySymptomNames) }

// MindSymptoms: see BodySymptoms.
func MindSymptoms() []string { return slices.Clone(mindSymptomNames) }

// CopingSkills are the coping skills offered in check-ins.
func CopingSkills() []string { return slices.Clone(copingSkillNames) }

// DBTSkills are the skills offered on a diary card.
func DBTSkills() []string { return slices.Clone(dbtSkillNames) }

// ValueDomains are the life domains offered for a values entry.
func ValueDomains() []string { return slices.Clone(valueDomainNames) }

// normaliseLabel folds a label for comparison: trimmed, lower case, inner
// spaces collapsed.
func normaliseLabel(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
