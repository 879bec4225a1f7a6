package journal

import (
	"strings"
	"testing"
)

func TestCrisisLookup(t *testing.T) {
	c := DefaultCrisisResources()
	tests := []struct {
		locale     string
		matched    string
		wantPhone  string // a number that must appear
		wantInText string
	}{
		{"en-US", "en-US", "988", "911"},
		{"en_us", "en-US", "988", "not a crisis"},
		{"es-US", "en-US", "988", ""}, // same region
		{"en-GB", "en-GB", "116 123", "999"},
		{"en-CA", "en-CA", "988", "9-8-8"},
		{"fr-CA", "fr-CA", "988", "n'est pas un service"},
		{"en-IE", "en-IE", "116 123", "112"},
		{"en-AU", "en-AU", "13 11 14", "000"},
		{"en-NZ", "en-NZ", "1737", "111"},
		{"en", "default", "", "local emergency number"}, // never by language alone
		{"de-DE", "default", "", "local emergency number"},
		{"", "default", "", "not a crisis or emergency service"},
		{"garbage!!", "default", "", "crisis line"},
	}
	for _, tt := range tests {
		r := c.Lookup(tt.locale)
		if r.Locale != tt.matched {
			t.Errorf("Lookup(%q) matched %q, want %q", tt.locale, r.Locale, tt.matched)
		}
		text := r.Text()
		if tt.wantPhone != "" && !strings.Contains(text, tt.wantPhone) {
			t.Errorf("Lookup(%q) lacks %s:\n%s", tt.locale, tt.wantPhone, text)
		}
		if !strings.Contains(text, tt.wantInText) {
			t.Errorf("Lookup(%q) lacks %q:\n%s", tt.locale, tt.wantInText, text)
		}
	}
	var nilResources *CrisisResources
	if r := nilResources.Lookup("en-US"); r.Locale != "en-US" {
		t.Errorf("nil resources fall back to defaults, got %q", r.Locale)
	}
}

func TestLoadCrisisResources(t *testing.T) {
	file := `{"locales": {
		"en_us": {"message": "Clinic line first.", "emergency": "911",
		          "lines": [{"name": "Clinic on-call", "phone": "555-0100", "hours": "9–5"}]},
		"de-DE": {"message": "Interlude ist kein Krisendienst.", "emergency": "112",
		          "lines": [{"name": "TelefonSeelsorge", "phone": "0800 111 0 111"}]}}}`
	c, err := LoadCrisisResources(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Lookup("en-US"); r.Message != "Clinic line first." || r.Lines[0].Phone != "555-0100" {
		t.Errorf("override not applied: %+v", r)
	}
	if r := c.Lookup("de-AT"); r.Locale != "default" {
		t.Errorf("de-AT matched %s", r.Locale)
	}
	if r := c.Lookup("de-DE"); r.Emergency != "112" {
		t.Errorf("added locale: %+v", r)
	}
	if r := c.Lookup("en-GB"); !strings.Contains(r.Text(), "116 123") {
		t.Error("defaults not kept for locales the file does not name")
	}
	if got := strings.Join(c.Locales(), ","); !strings.Contains(got, "de-DE") || !strings.Contains(got, "default") {
		t.Errorf("Locales = %s", got)
	}
}

func TestLoadCrisisResourcesErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{`{"locales": {}}`, "no locales"},
		{`{}`, "no locales"},
		{`not json`, "load crisis resources"},
		{`{"locales": {"en-US": {"message": "m", "phnoe": "1"}}}`, `unknown field "phnoe"`},
		{`{"locales": {"en-US": {"message": " "}}}`, "message is empty"},
		{`{"locales": {"en-US": {"message": "m", "lines": [{"name": "x"}]}}}`, "lines[0]: give a phone, sms or url"},
		{`{"locales": {"en-US": {"message": "m", "lines": [{"phone": "1"}]}}}`, "lines[0]: name is empty"},
		{`{"locales": {"english": {"message": "m"}}}`, `"english": not a locale`},
	}
	for _, tt := range tests {
		_, err := LoadCrisisResources(strings.NewReader(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadCrisisResources(%s) = %v, want %q", tt.file, err, tt.want)
		}
	}
}

func TestDefaultCrisisResourcesAreComplete(t *testing.T) {
	c := DefaultCrisisResources()
	for _, loc := range c.Locales() {
		r := c.Lookup(loc)
		if r.Locale != loc || r.Message == "" || r.Emergency == "" {
			t.Errorf("%s: incomplete %+v", loc, r)
		}
		if loc != DefaultLocale && len(r.Lines) == 0 {
			t.Errorf("%s: no crisis line", loc)
		}
	}
	// Changing a copy does not change the defaults.
	c.Lookup("en-US").Lines[0].Phone = "x"
	if c.Lookup("en-US").Lines[0].Phone != "988" || DefaultCrisisResources().Lookup("en-US").Lines[0].Phone != "988" {
		t.Error("defaults were modified through a copy")
	}
}
