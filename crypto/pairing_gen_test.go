package crypto

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// Pairing vectors live in their own file, testdata/pairing_vectors.json, in
// the layout of testdata/vectors.json. They need no randomness: every input
// is given. `go test ./crypto -run TestPairVectorsUpToDate -update` rewrites
// the file; TestPairVectors (pairing_test.go) walks it through the exported
// API only.

const pairVectorsPath = "testdata/pairing_vectors.json"

// pairFixture is the fixed material the vectors are built from.
type pairFixture struct {
	prefix, secret      []byte
	client, clinician   Fingerprint
	record, otherRecord RecordID
	code, otherCode     PairCode
	codeText, otherText string
}

func fixedBytes(label string, n int) []byte {
	var out []byte
	for i := byte(0); len(out) < n; i++ {
		h := sha256.Sum256(append([]byte(label), i))
		out = append(out, h[:]...)
	}
	return out[:n]
}

func newPairFixture(t testing.TB) *pairFixture {
	f := &pairFixture{
		client:    Fingerprint(fixedBytes("pair vectors: client fingerprint", 32)),
		clinician: Fingerprint(fixedBytes("pair vectors: clinician fingerprint", 32)),
		secret:    fixedBytes("pair vectors: secret", pairSecretSize),
	}
	f.prefix = append([]byte(nil), f.clinician[:PairPrefixSize]...)
	copy(f.record[:], fixedBytes("pair vectors: record", 16))
	copy(f.otherRecord[:], fixedBytes("pair vectors: other record", 16))
	var err error
	if f.code, err = PairCodeFromBytes(f.prefix, f.secret); err != nil {
		t.Fatal(err)
	}
	if f.otherCode, err = PairCodeFromBytes(f.prefix, fixedBytes("pair vectors: other secret", pairSecretSize)); err != nil {
		t.Fatal(err)
	}
	f.codeText, f.otherText = f.code.Text(), f.otherCode.Text()
	return f
}

// typo replaces the character at position i (counting only code characters)
// with the next character of the alphabet.
func typo(text string, i int) string {
	b := []byte(strings.ReplaceAll(text, "-", ""))
	j := strings.IndexByte(crockfordAlphabet, b[i])
	b[i] = crockfordAlphabet[(j+1)%32]
	return groupText(string(b), 5, 5, 5, 5, 5, 5)
}

// swap exchanges the characters at positions i and i+1.
func swap(text string, i int) string {
	b := []byte(strings.ReplaceAll(text, "-", ""))
	b[i], b[i+1] = b[i+1], b[i]
	return groupText(string(b), 5, 5, 5, 5, 5, 5)
}

// paddingBitCode is a code whose last data character has its padding bit set
// and whose check character is right for it: only the padding rule refuses it.
func paddingBitCode(f *pairFixture) string {
	syms := crockfordEncode(f.code.bytes())
	syms[len(syms)-1] |= 1
	syms = append(syms, luhn32(syms))
	return groupText(crockfordText(syms), 5, 5, 5, 5, 5, 5)
}

func generatePairVectors(t testing.TB) genFile {
	f := newPairFixture(t)
	h := hex.EncodeToString
	var vs []genVector
	add := func(v genVector) { vs = append(vs, v) }

	// Text: the canonical form of fixed bytes, and of all-zero and all-one bytes.
	for _, c := range []struct {
		name           string
		prefix, secret []byte
	}{
		{"pair_code_text", f.prefix, f.secret},
		{"pair_code_text_zero", make([]byte, PairPrefixSize), make([]byte, pairSecretSize)},
		{"pair_code_text_ones", bytes.Repeat([]byte{0xff}, PairPrefixSize), bytes.Repeat([]byte{0xff}, pairSecretSize)},
	} {
		code, err := PairCodeFromBytes(c.prefix, c.secret)
		if err != nil {
			t.Fatal(err)
		}
		add(genVector{Name: c.name, Op: "pair_code_text", Inputs: map[string]string{"prefix": h(c.prefix), "secret": h(c.secret)},
			Outputs: map[string]string{"text": code.Text()}, Result: "ok"})
	}

	// Parsing: tolerant spellings succeed, every kind of typo fails.
	compact := strings.ReplaceAll(f.codeText, "-", "")
	tolerant := strings.NewReplacer("0", "O", "1", "I").Replace(strings.ToLower(f.codeText))
	oks := []struct{ name, text string }{
		{"parse_pair_code", f.codeText},
		{"parse_pair_code_compact", compact},
		{"parse_pair_code_lowercase_confusables", tolerant},
		{"parse_pair_code_spaces_unicode_dashes", strings.ReplaceAll(f.codeText, "-", " \u2013 ")},
		{"parse_pair_code_l_for_1", strings.ReplaceAll(f.codeText, "1", "l")},
	}
	for _, c := range oks {
		add(genVector{Name: c.name, Op: "parse_pair_code", Inputs: map[string]string{"text": c.text},
			Outputs: map[string]string{"prefix": h(f.prefix), "secret": h(f.secret), "text": f.codeText}, Result: "ok"})
	}
	bad := []struct{ name, text string }{
		{"parse_pair_code_typo_first", typo(f.codeText, 0)},
		{"parse_pair_code_typo_middle", typo(f.codeText, 14)},
		{"parse_pair_code_typo_check", typo(f.codeText, pairCodeSymbols)},
		{"parse_pair_code_swapped_neighbours", swap(f.codeText, 7)},
		{"parse_pair_code_missing_character", compact[:29]},
		{"parse_pair_code_extra_character", compact + "0"},
		{"parse_pair_code_letter_u", "U" + compact[1:]},
		{"parse_pair_code_punctuation", compact[:10] + "." + compact[10:]},
		{"parse_pair_code_padding_bit", paddingBitCode(f)},
		{"parse_pair_code_empty", ""},
		{"parse_pair_code_secret_key_shape", "IS1-6DR3PW-ARM1V1-3KMK6-WVPP3-JDN0W"},
	}
	for _, c := range bad {
		if _, err := ParsePairCode(c.text); !errors.Is(err, ErrMalformed) {
			t.Fatalf("vector %s: %q parses (%v)", c.name, c.text, err)
		}
		add(genVector{Name: c.name, Op: "parse_pair_code", Inputs: map[string]string{"text": c.text}, Result: "ErrMalformed"})
	}

	// Matching a fingerprint against the code's prefix.
	other := f.clinician
	other[PairPrefixSize-1] ^= 0x01
	beyond := f.clinician
	beyond[PairPrefixSize] ^= 0xff
	for _, c := range []struct {
		name string
		fp   Fingerprint
		want string
	}{
		{"pair_matches", f.clinician, "true"},
		{"pair_matches_after_prefix", beyond, "true"},
		{"pair_matches_last_prefix_bit", other, "false"},
		{"pair_matches_client", f.client, "false"},
	} {
		add(genVector{Name: c.name, Op: "pair_matches", Inputs: map[string]string{"code": f.codeText, "fingerprint": h(c.fp[:])},
			Outputs: map[string]string{"matches": c.want}, Result: "ok"})
	}

	// The MAC, and its verification against every kind of change.
	mac := f.code.MAC(f.client, f.clinician, f.record)
	in := func(code string, client, clinician Fingerprint, record RecordID, m []byte) map[string]string {
		return map[string]string{"code": code, "client": h(client[:]), "clinician": h(clinician[:]), "record": h(record[:]), "mac": h(m)}
	}
	macIn := in(f.codeText, f.client, f.clinician, f.record, nil)
	delete(macIn, "mac")
	add(genVector{Name: "pair_mac", Op: "pair_mac", Inputs: macIn, Outputs: map[string]string{"mac": h(mac[:])}, Result: "ok"})
	flipped := bytes.Clone(mac[:])
	flipped[PairMACSize-1] ^= 0x80
	clientFlip := f.client
	clientFlip[0] ^= 0x01
	for _, c := range []struct {
		name   string
		inputs map[string]string
		result string
	}{
		{"verify_pair_mac", in(f.codeText, f.client, f.clinician, f.record, mac[:]), "ok"},
		{"verify_pair_mac_flipped_bit", in(f.codeText, f.client, f.clinician, f.record, flipped), "ErrBadSignature"},
		{"verify_pair_mac_truncated", in(f.codeText, f.client, f.clinician, f.record, mac[:PairMACSize-1]), "ErrBadSignature"},
		{"verify_pair_mac_other_secret", in(f.otherText, f.client, f.clinician, f.record, mac[:]), "ErrBadSignature"},
		{"verify_pair_mac_fingerprints_swapped", in(f.codeText, f.clinician, f.client, f.record, mac[:]), "ErrBadSignature"},
		{"verify_pair_mac_other_client", in(f.codeText, clientFlip, f.clinician, f.record, mac[:]), "ErrBadSignature"},
		{"verify_pair_mac_other_record", in(f.codeText, f.client, f.clinician, f.otherRecord, mac[:]), "ErrBadSignature"},
	} {
		add(genVector{Name: c.name, Op: "verify_pair_mac", Inputs: c.inputs, Result: c.result})
	}
	return genFile{
		Description: []string{
			"Interlude pairing-code and link-request MAC vectors, format v1 (docs/crypto.md, section 16).",
			"Byte strings are hex; codes are text as a person would type them.",
			"pair_code_text: prefix (10 bytes) and secret (8 bytes) -> canonical text.",
			"parse_pair_code: text -> prefix, secret and canonical text, or the error named in result.",
			"pair_matches: does the fingerprint start with the code's 10-byte prefix.",
			"pair_mac: HMAC-SHA256(HKDF-SHA256(secret, no salt, \"interlude/v1/pair-mac\", 32), client || clinician || record).",
			"verify_pair_mac: constant-time check of a MAC; any difference is ErrBadSignature.",
		},
		Vectors: vs,
	}
}

func TestPairVectorsUpToDate(t *testing.T) {
	got, err := json.MarshalIndent(generatePairVectors(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(pairVectorsPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(pairVectorsPath)
	if err != nil {
		t.Fatalf("%v (run go test ./crypto -run TestPairVectorsUpToDate -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the generator (run go test ./crypto -run TestPairVectorsUpToDate -update and review the diff)", pairVectorsPath)
	}
}
