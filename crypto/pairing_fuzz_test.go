package crypto

import (
	"strings"
	"testing"
)

// FuzzParsePairCode: no panic; every error wraps ErrMalformed; a code that
// parses prints as a canonical text that parses back to the same code, and
// whose compact form equals the input's once spacing, dashes, case and the
// confusable letters are normalised.
func FuzzParsePairCode(f *testing.F) {
	fx := newPairFixture(f)
	f.Add(fx.codeText)
	f.Add(strings.ToLower(fx.codeText))
	f.Add(strings.ReplaceAll(fx.codeText, "-", " "))
	f.Add(typo(fx.codeText, 3))
	f.Add(paddingBitCode(fx))
	f.Add("")
	f.Add("UUUUU-UUUUU-UUUUU-UUUUU-UUUUU-UUUUU")
	f.Add("00000-00000-00000-00000-00000-00000")
	f.Add(strings.Repeat("Z", 30))
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParsePairCode(text)
		if err != nil {
			checkSentinel(t, err)
			if !strings.Contains(err.Error(), "pairing code") {
				t.Fatalf("error does not say what was parsed: %v", err)
			}
			return
		}
		again, err := ParsePairCode(c.Text())
		if err != nil || !again.Equal(c) {
			t.Fatalf("%q parses, but its text %q does not parse back: %v", text, c.Text(), err)
		}
		syms, err := crockfordSymbols(text)
		if err != nil {
			t.Fatalf("parsed text has bad symbols: %v", err)
		}
		if crockfordText(syms) != strings.ReplaceAll(c.Text(), "-", "") {
			t.Fatalf("%q parses to %q: two spellings of one code", text, c.Text())
		}
	})
}

// TestPairLabel: the pairing label is distinct from every other label and
// carries the product and version prefix, like those in labels.go.
func TestPairLabel(t *testing.T) {
	if !strings.HasPrefix(labelPairMAC, "interlude/v1/") {
		t.Fatalf("label %q lacks the interlude/v1/ prefix", labelPairMAC)
	}
	for _, l := range allLabels {
		if l == labelPairMAC {
			t.Fatalf("label %q is used twice", l)
		}
	}
}
