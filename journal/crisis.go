package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// CrisisLine is a service a person can contact now.
type CrisisLine struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	SMS   string `json:"sms,omitempty"` // number to text
	URL   string `json:"url,omitempty"`
	Hours string `json:"hours,omitempty"`
	Note  string `json:"note,omitempty"`
}

// CrisisResource is what to show one locale when someone may be in danger:
// a plain statement that Interlude is not a crisis service, the local
// emergency number, and crisis lines.
type CrisisResource struct {
	// Locale is the key that matched in Lookup ("en-US", "default").
	Locale    string       `json:"-"`
	Message   string       `json:"message"`
	Emergency string       `json:"emergency,omitempty"`
	Lines     []CrisisLine `json:"lines,omitempty"`
}

// Text renders the resource as plain text for a terminal or a notification
// shown on the device (never a push payload).
func (r CrisisResource) Text() string {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString("\n")
	if r.Emergency != "" {
		fmt.Fprintf(&b, "\nEmergency: %s\n", r.Emergency)
	}
	for _, l := range r.Lines {
		fmt.Fprintf(&b, "\n%s\n", l.Name)
		if l.Phone != "" {
			fmt.Fprintf(&b, "  call %s\n", l.Phone)
		}
		if l.SMS != "" {
			fmt.Fprintf(&b, "  text %s\n", l.SMS)
		}
		if l.URL != "" {
			fmt.Fprintf(&b, "  %s\n", l.URL)
		}
		if l.Hours != "" {
			fmt.Fprintf(&b, "  %s\n", l.Hours)
		}
		if l.Note != "" {
			fmt.Fprintf(&b, "  %s\n", l.Note)
		}
	}
	return b.String()
}

// CrisisResources holds crisis resources per locale. The zero value is not
// useful; start from DefaultCrisisResources or LoadCrisisResources.
type CrisisResources struct {
	locales map[string]CrisisResource
}

// DefaultLocale is the key of the resource used when no other matches.
const DefaultLocale = "default"

const notACrisisService = "Interlude is not a crisis or emergency service, and nobody watches what you write here as you write it."

// The numbers below were correct when written. A clinic or distributor should
// check them for its region and override them with LoadCrisisResources.
var defaultCrisis = map[string]CrisisResource{
	DefaultLocale: {
		Message:   notACrisisService + " If you are thinking about ending your life or hurting yourself, or you are in danger, please get help now: call your local emergency number (for example 112 in most of Europe, 911 in North America, 999 in the UK, 000 in Australia), go to the nearest emergency department, or call a crisis line where you live. You do not have to go through this alone.",
		Emergency: "your local emergency number",
	},
	"en-US": {
		Message:   notACrisisService + " If you are thinking about ending your life or hurting yourself, please reach out now. Call or text 988 to talk to someone any time. If you are in immediate danger, call 911 or go to the nearest emergency room.",
		Emergency: "911",
		Lines: []CrisisLine{
			{Name: "988 Suicide & Crisis Lifeline", Phone: "988", SMS: "988", URL: "https://988lifeline.org", Hours: "24 hours, every day"},
			{Name: "Crisis Text Line", SMS: "741741", Hours: "24 hours, every day", Note: "Text HOME to 741741"},
		},
	},
	"en-GB": {
		Message:   notACrisisService + " If you are thinking about ending your life or hurting yourself, please reach out now. Samaritans answer any time, day or night, for free. If your life is in danger, call 999 or go to A&E.",
		Emergency: "999",
		Lines: []CrisisLine{
			{Name: "Samaritans", Phone: "116 123", URL: "https://www.samaritans.org", Hours: "24 hours, every day, free"},
			{Name: "Shout", SMS: "85258", Hours: "24 hours, every day", Note: "Text SHOUT to 85258"},
		},
	},
	"en-IE": {
		Message:   notACrisisService + " If you are thinking about ending your life or hurting yourself, please reach out now. Samaritans answer any time, for free. If your life is in danger, call 112 or 999.",
		Emergency: "112 or 999",
		Lines: []CrisisLine{
			{Name: "Samaritans", Phone: "116 123", URL: "https://www.samaritans.org/ireland/", Hours: "24 hours, every day, free"},
		},
	},
	"en-CA": {
		Message:   notACrisisService + " If you are thinking about ending your life or hurting yourself, please reach out now. Call or text 9-8-8 any time. If you are in immediate danger, call 911 or go to the nearest emergency department.",
		Emergency: "911",
		Lines: []CrisisLine{
			{Name: "9-8-8 Suicide Crisis Helpline", Phone: "988", SMS: "988", URL: "https://988.ca", Hours: "24 hours, every day"},
		},
	},
	"fr-CA": {
		Message:   "Interlude n'est pas un service d'urgence ni de crise, et personne ne lit ce que vous écrivez ici au moment où vous l'écrivez. Si vous pensez à mettre fin à vos jours ou à vous faire du mal, demandez de l'aide maintenant : appelez ou textez le 9-8-8, à toute heure. Si vous êtes en danger immédiat, appelez le 911 ou rendez-vous à l'urgence la plus proche.",
		Emergency: "911",
		Lines: []CrisisLine{
			{Name: "9-8-8 : Ligne d'aide en cas de crise de suicide", Phone: "988", SMS: "988", URL: "https://988.ca/fr", Hours: "24 heures sur 24, 7 jours sur 7"},
		},
	},
	"en-AU": {
		Message:   notACrisisService + " If you are thinking about ending your life or hurting yourself, please reach out now. Lifeline answers any time. If your life is in danger, call 000.",
		Emergency: "000",
		Lines: []CrisisLine{
			{Name: "Lifeline", Phone: "13 11 14", URL: "https://www.lifeline.org.au", Hours: "24 hours, every day"},
		},
	},
	"en-NZ": {
		Message:   notACrisisService + " If you are thinking about ending your life or hurting yourself, please reach out now. Call or text 1737 any time to talk with a trained counsellor. If your life is in danger, call 111.",
		Emergency: "111",
		Lines: []CrisisLine{
			{Name: "Need to talk? 1737", Phone: "1737", SMS: "1737", Hours: "24 hours, every day, free"},
		},
	},
}

// DefaultCrisisResources returns the built-in resources: a default for any
// locale, plus en-US, en-GB, en-IE, en-CA, fr-CA, en-AU and en-NZ.
func DefaultCrisisResources() *CrisisResources {
	c := &CrisisResources{locales: make(map[string]CrisisResource, len(defaultCrisis))}
	for k, v := range defaultCrisis {
		v.Lines = slices.Clone(v.Lines)
		c.locales[k] = v
	}
	return c
}

// crisisFile is the JSON form read by LoadCrisisResources.
type crisisFile struct {
	Locales map[string]CrisisResource `json:"locales"`
}

// LoadCrisisResources reads crisis resources from JSON and lays them over the
// defaults: a locale in the file replaces the built-in one of the same name,
// and the others stay. The format is
//
//	{"locales": {"en-US": {"message": "...", "emergency": "911",
//	  "lines": [{"name": "...", "phone": "...", "sms": "...", "url": "...", "hours": "...", "note": "..."}]}}}
//
// where a key is a locale such as "en-US" or "default". Unknown members are
// rejected, to catch typos in a file that matters.
func LoadCrisisResources(r io.Reader) (*CrisisResources, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f crisisFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("load crisis resources: %w; see docs/journal.md for the format", err)
	}
	if len(f.Locales) == 0 {
		return nil, errors.New(`load crisis resources: no locales; the file must hold {"locales": {"en-US": {...}}}`)
	}
	c := DefaultCrisisResources()
	var errs []error
	for _, key := range sortedKeys(f.Locales) {
		res := f.Locales[key]
		norm, ok := normaliseLocale(key)
		if !ok {
			errs = append(errs, fmt.Errorf("locale %q: not a locale; use a language and region like en-US, or %q", key, DefaultLocale))
			continue
		}
		if strings.TrimSpace(res.Message) == "" {
			errs = append(errs, fmt.Errorf("locale %q: message is empty; say plainly that the app is not a crisis service and where to get help now", key))
		}
		for i, l := range res.Lines {
			if strings.TrimSpace(l.Name) == "" {
				errs = append(errs, fmt.Errorf("locale %q: lines[%d]: name is empty", key, i))
			}
			if l.Phone == "" && l.SMS == "" && l.URL == "" {
				errs = append(errs, fmt.Errorf("locale %q: lines[%d]: give a phone, sms or url", key, i))
			}
		}
		c.locales[norm] = res
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load crisis resources: %w", errors.Join(errs...))
	}
	return c, nil
}

// normaliseLocale turns "en_us" or "EN-us" into "en-US". It accepts a
// language of 2–3 letters with an optional 2-letter region, or "default".
func normaliseLocale(s string) (string, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", "-"))
	if strings.EqualFold(s, DefaultLocale) {
		return DefaultLocale, true
	}
	lang, region, hasRegion := strings.Cut(s, "-")
	if !isLetters(lang, 2, 3) || (hasRegion && !isLetters(region, 2, 2)) {
		return "", false
	}
	if !hasRegion {
		return strings.ToLower(lang), true
	}
	return strings.ToLower(lang) + "-" + strings.ToUpper(region), true
}

func isLetters(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// Lookup returns the resource for a locale such as "en-US" or "fr_CA". It
// tries the exact locale, then another locale of the same region (so "es-US"
// gets the US numbers), then the default. It never falls back by language
// alone, which would give one country's numbers to another.
func (c *CrisisResources) Lookup(locale string) CrisisResource {
	if c == nil || c.locales == nil {
		c = DefaultCrisisResources()
	}
	if norm, ok := normaliseLocale(locale); ok {
		if r, ok := c.locales[norm]; ok {
			r.Locale, r.Lines = norm, slices.Clone(r.Lines)
			return r
		}
		if _, region, ok := strings.Cut(norm, "-"); ok {
			for _, key := range sortedKeys(c.locales) {
				if strings.HasSuffix(key, "-"+region) {
					r := c.locales[key]
					r.Locale, r.Lines = key, slices.Clone(r.Lines)
					return r
				}
			}
		}
	}
	r, ok := c.locales[DefaultLocale]
	if !ok {
		r = defaultCrisis[DefaultLocale]
	}
	r.Locale, r.Lines = DefaultLocale, slices.Clone(r.Lines)
	return r
}

// Locales lists the locales that have their own resource, sorted.
func (c *CrisisResources) Locales() []string { return sortedKeys(c.locales) }
