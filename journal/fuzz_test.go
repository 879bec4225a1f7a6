package journal

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzUnmarshal checks that no input panics, that whatever Unmarshal
// accepts Marshal can write, and that Marshal∘Unmarshal is stable: a second
// round trip gives the same bytes as the first.
func FuzzUnmarshal(f *testing.F) {
	for _, doc := range fixtures(f) {
		f.Add(doc)
	}
	if doc, err := os.ReadFile(filepath.Join("testdata", "newer_client_checkin.json")); err == nil {
		f.Add(doc)
	}
	for _, s := range []string{
		`{"v":1,"kind":"checkin","body":null,"links":null}`,
		`{"v":1,"kind":"response","body":{"status":"submitted","answerKind":"response","answer":{"answerKind":"checkin","answer":{"mood":1}}}}`,
		`{"v":1,"kind":"x","created":"2026-01-01T00:00:00.000+00:00","body":"\u00e9<>&"}`,
		`{"v":1,"kind":"checkin","created":"0001-01-01T00:00:00Z","body":{"mood":4,"MOOD":5,"mood":6}}`,
		`{"v":1,"kind":"availability","body":{"hours":[{"days":["mon","Monday"],"start":"09:00","end":"17:00","\u0078":1}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Unmarshal(b)
		if err != nil {
			return
		}
		_ = e.Validate()
		_, _ = e.ScoresOnly()
		_ = Trends([]*Entry{e}, e.Created.Add(-time.Hour), e.Created.Add(time.Hour))
		_ = Summary([]*Entry{e}, e.Created)
		m1, err := Marshal(e)
		if err != nil {
			t.Fatalf("Marshal of an accepted document failed: %v\ninput %q", err, b)
		}
		e2, err := Unmarshal(m1)
		if err != nil {
			t.Fatalf("Unmarshal of own output failed: %v\noutput %q\ninput %q", err, m1, b)
		}
		m2, err := Marshal(e2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m1, m2) {
			t.Fatalf("Marshal∘Unmarshal not stable:\n%q\n%q\ninput %q", m1, m2, b)
		}
	})
}
