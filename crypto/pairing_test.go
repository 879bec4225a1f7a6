package crypto_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"interlude/crypto"
)

// TestPairVectors walks testdata/pairing_vectors.json through the exported API
// only, as another implementation would.
func TestPairVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/pairing_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	results := map[string]int{}
	for _, v := range file.Vectors {
		ops[v.Op]++
		results[v.Result]++
		t.Run(v.Name, func(t *testing.T) { checkPairVector(t, v) })
	}
	for _, op := range []string{"pair_code_text", "parse_pair_code", "pair_matches", "pair_mac", "verify_pair_mac"} {
		if ops[op] == 0 {
			t.Errorf("no vector for op %s", op)
		}
	}
	for _, r := range []string{"ok", "ErrMalformed", "ErrBadSignature"} {
		if results[r] == 0 {
			t.Errorf("no vector expects %s", r)
		}
	}
}

func checkPairVector(t *testing.T, v vector) {
	in := func(name string) []byte {
		t.Helper()
		b, err := hex.DecodeString(v.Inputs[name])
		if err != nil {
			t.Fatalf("input %s: %v", name, err)
		}
		return b
	}
	fp := func(name string) crypto.Fingerprint {
		t.Helper()
		b := in(name)
		if len(b) != 32 {
			t.Fatalf("input %s: %d bytes", name, len(b))
		}
		return crypto.Fingerprint(b)
	}
	code := func() crypto.PairCode {
		t.Helper()
		c, err := crypto.ParsePairCode(v.Inputs["code"])
		if err != nil {
			t.Fatalf("input code: %v", err)
		}
		return c
	}
	expect := func(err error) bool {
		t.Helper()
		if v.Result == "ok" {
			if err != nil {
				t.Fatalf("want ok, got %v", err)
			}
			return true
		}
		want, ok := errorsByName[v.Result]
		if !ok {
			t.Fatalf("unknown result %q", v.Result)
		}
		if !errors.Is(err, want) {
			t.Fatalf("want %s, got %v", v.Result, err)
		}
		return false
	}
	switch v.Op {
	case "pair_code_text":
		c, err := crypto.PairCodeFromBytes(in("prefix"), in("secret"))
		if expect(err) && c.Text() != v.Outputs["text"] {
			t.Fatalf("text %s, want %s", c.Text(), v.Outputs["text"])
		}
	case "parse_pair_code":
		c, err := crypto.ParsePairCode(v.Inputs["text"])
		if !expect(err) {
			return
		}
		if got := hex.EncodeToString(c.FingerprintPrefix()); got != v.Outputs["prefix"] {
			t.Fatalf("prefix %s, want %s", got, v.Outputs["prefix"])
		}
		if c.Text() != v.Outputs["text"] {
			t.Fatalf("text %s, want %s", c.Text(), v.Outputs["text"])
		}
		// The secret is not exported: check it through the code's equality with
		// one built from the expected bytes.
		s, _ := hex.DecodeString(v.Outputs["secret"])
		p, _ := hex.DecodeString(v.Outputs["prefix"])
		want, err := crypto.PairCodeFromBytes(p, s)
		if err != nil || !c.Equal(want) {
			t.Fatalf("parsed code differs from prefix %s, secret %s", v.Outputs["prefix"], v.Outputs["secret"])
		}
	case "pair_matches":
		if got := fmt.Sprint(code().Matches(fp("fingerprint"))); got != v.Outputs["matches"] {
			t.Fatalf("matches %s, want %s", got, v.Outputs["matches"])
		}
	case "pair_mac":
		var rec crypto.RecordID
		copy(rec[:], in("record"))
		mac := code().MAC(fp("client"), fp("clinician"), rec)
		if got := hex.EncodeToString(mac[:]); got != v.Outputs["mac"] {
			t.Fatalf("mac %s, want %s", got, v.Outputs["mac"])
		}
	case "verify_pair_mac":
		var rec crypto.RecordID
		copy(rec[:], in("record"))
		expect(code().VerifyMAC(fp("client"), fp("clinician"), rec, in("mac")))
	default:
		t.Fatalf("unknown op %q", v.Op)
	}
}

func TestPairCodeRoundTrip(t *testing.T) {
	for range 200 {
		id, err := crypto.NewIdentity()
		if err != nil {
			t.Fatal(err)
		}
		c := crypto.NewPairCode(id.Fingerprint())
		text := c.Text()
		if len(text) != 35 || strings.Count(text, "-") != 5 {
			t.Fatalf("code %q is not six groups of five", text)
		}
		got, err := crypto.ParsePairCode(text)
		if err != nil || !got.Equal(c) {
			t.Fatalf("parse %q: %v", text, err)
		}
		if !got.Matches(id.Fingerprint()) {
			t.Fatal("a code does not match its own fingerprint")
		}
		if !bytes.Equal(got.FingerprintPrefix(), func() []byte { f := id.Fingerprint(); return f[:crypto.PairPrefixSize] }()) {
			t.Fatal("prefix")
		}
		if c.IsZero() || !(crypto.PairCode{}).IsZero() {
			t.Fatal("IsZero")
		}
	}
	a, b := crypto.NewPairCode(crypto.Fingerprint{}), crypto.NewPairCode(crypto.Fingerprint{})
	if a.Equal(b) {
		t.Fatal("two new codes share a secret")
	}
}

// TestPairCodeTypos: every single-character substitution and every swap of
// two different neighbours is refused, naming the check character (Luhn mod
// 32 catches all of these except a swap of 0 and Z, which does not occur
// when neither is adjacent to the other).
func TestPairCodeTypos(t *testing.T) {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	for range 20 {
		c := crypto.NewPairCode(crypto.Fingerprint{})
		compact := strings.ReplaceAll(c.Text(), "-", "")
		for i := range compact {
			for _, r := range alphabet {
				if byte(r) == compact[i] {
					continue
				}
				bad := compact[:i] + string(r) + compact[i+1:]
				_, err := crypto.ParsePairCode(bad)
				if !errors.Is(err, crypto.ErrMalformed) {
					t.Fatalf("typo %q of %q accepted: %v", bad, compact, err)
				}
				// A typo that happens to make the padding bit non-zero is refused by
				// the padding rule; every other one by the check character.
				if !strings.Contains(err.Error(), "check character") && !strings.Contains(err.Error(), "padding") {
					t.Fatalf("typo refused without naming the check: %v", err)
				}
			}
			if i+1 < len(compact) && compact[i] != compact[i+1] {
				pair := compact[i : i+2]
				if pair == "0Z" || pair == "Z0" {
					continue
				}
				bad := compact[:i] + string(compact[i+1]) + string(compact[i]) + compact[i+2:]
				if _, err := crypto.ParsePairCode(bad); !errors.Is(err, crypto.ErrMalformed) {
					t.Fatalf("swap %q of %q accepted", bad, compact)
				}
			}
		}
	}
}

func TestPairMACTamper(t *testing.T) {
	a, b := testIdentityPair(t)
	c := crypto.NewPairCode(b.Fingerprint())
	rec := crypto.RecordID{1, 2, 3}
	mac := c.MAC(a.Fingerprint(), b.Fingerprint(), rec)
	if err := c.VerifyMAC(a.Fingerprint(), b.Fingerprint(), rec, mac[:]); err != nil {
		t.Fatal(err)
	}
	for i := range len(mac) * 8 {
		m := mac
		m[i/8] ^= 0x80 >> (i % 8)
		if err := c.VerifyMAC(a.Fingerprint(), b.Fingerprint(), rec, m[:]); !errors.Is(err, crypto.ErrBadSignature) {
			t.Fatalf("bit %d flipped: %v", i, err)
		}
	}
	for n := range len(mac) {
		if err := c.VerifyMAC(a.Fingerprint(), b.Fingerprint(), rec, mac[:n]); !errors.Is(err, crypto.ErrBadSignature) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if err := c.VerifyMAC(a.Fingerprint(), b.Fingerprint(), rec, append(mac[:], 0)); !errors.Is(err, crypto.ErrBadSignature) {
		t.Fatal("appended byte accepted")
	}
	if err := c.VerifyMAC(b.Fingerprint(), a.Fingerprint(), rec, mac[:]); !errors.Is(err, crypto.ErrBadSignature) {
		t.Fatal("swapped fingerprints accepted")
	}
	if err := c.VerifyMAC(a.Fingerprint(), b.Fingerprint(), crypto.RecordID{1, 2, 4}, mac[:]); !errors.Is(err, crypto.ErrBadSignature) {
		t.Fatal("other record accepted")
	}
	other := crypto.NewPairCode(b.Fingerprint())
	if err := other.VerifyMAC(a.Fingerprint(), b.Fingerprint(), rec, mac[:]); !errors.Is(err, crypto.ErrBadSignature) {
		t.Fatal("other code's secret accepted")
	}
	// The MAC depends on the secret only, not on the prefix the code carries.
	same, _ := crypto.ParsePairCode(c.Text())
	if same.MAC(a.Fingerprint(), b.Fingerprint(), rec) != mac {
		t.Fatal("MAC of the parsed code differs")
	}
}

func testIdentityPair(t *testing.T) (*crypto.Identity, *crypto.Identity) {
	t.Helper()
	a, err := crypto.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	b, err := crypto.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestPairCodeRedacted(t *testing.T) {
	c := crypto.NewPairCode(crypto.Fingerprint{})
	text := strings.ReplaceAll(c.Text(), "-", "")
	var buf bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		fmt.Fprintf(&buf, verb+"\n", c)
		fmt.Fprintf(&buf, verb+"\n", struct{ C crypto.PairCode }{c})
	}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("code", "code", c)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("code", "code", c)
	out := buf.String()
	if !strings.Contains(out, "crypto.PairCode(REDACTED)") {
		t.Fatalf("no redaction marker:\n%s", out)
	}
	secret := hex.EncodeToString([]byte(text))
	if strings.Contains(strings.ToUpper(out), text[15:]) || strings.Contains(out, secret) {
		t.Fatalf("code leaked:\n%s", out)
	}
}

func TestPairCodeFromBytesLengths(t *testing.T) {
	if _, err := crypto.PairCodeFromBytes(make([]byte, 9), make([]byte, 8)); !errors.Is(err, crypto.ErrMalformed) {
		t.Fatal(err)
	}
	if _, err := crypto.PairCodeFromBytes(make([]byte, 10), make([]byte, 9)); !errors.Is(err, crypto.ErrMalformed) {
		t.Fatal(err)
	}
}
