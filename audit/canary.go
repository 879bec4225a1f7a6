package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MinCanaryLen is the shortest canary accepted, in bytes. Shorter ones would match random
// ciphertext by chance (an 8-byte pattern appears by chance about once in 2⁶⁴ positions;
// a 4-byte one once in 4 GiB).
const MinCanaryLen = 8

// SubstringLen is the length of the canary pieces also searched for, so that an entry
// stored truncated or split still shows (SECURITY.md §3.3: "any 12-char substring").
const SubstringLen = 12

// encoded is one encoding of a canary: the bytes searched for, and the bytes the positive
// control plants (the full encoded form, which contains the searched bytes).
type encoded struct {
	name   string
	search []byte
	plant  []byte
}

// canaryEncodings returns the forms in which a canary is searched for: as UTF-8, lower and
// upper case, UTF-16LE/BE, standard and URL-safe base64 at each of the 3 byte alignments,
// hex in both cases, URL query and path escaping, JSON string escaping (with and without
// HTML escapes), and every SubstringLen-byte piece of the UTF-8 form. Forms whose bytes equal
// an earlier form's are dropped.
func canaryEncodings(c string) []encoded {
	raw := []byte(c)
	var out []encoded
	seen := map[string]bool{}
	add := func(name string, search, plant []byte) {
		if len(search) < minNeedle || seen[string(search)] {
			return
		}
		seen[string(search)] = true
		if plant == nil {
			plant = search
		}
		out = append(out, encoded{name: name, search: search, plant: plant})
	}
	add("utf-8", raw, nil)
	add("lowercase", []byte(strings.ToLower(c)), nil)
	add("uppercase", []byte(strings.ToUpper(c)), nil)
	add("utf-16le", utf16Bytes(c, false), nil)
	add("utf-16be", utf16Bytes(c, true), nil)
	for _, e := range []struct {
		name string
		enc  *base64.Encoding
	}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}} {
		for k := range 3 {
			search, plant := base64Middle(e.enc, raw, k)
			add(fmt.Sprintf("%s/%d", e.name, k), search, plant)
		}
	}
	add("hex", []byte(hex.EncodeToString(raw)), nil)
	add("HEX", []byte(strings.ToUpper(hex.EncodeToString(raw))), nil)
	add("url-query", []byte(url.QueryEscape(c)), nil)
	add("url-path", []byte(url.PathEscape(c)), nil)
	add("json", jsonEscape(c, false), nil)
	add("json-html", jsonEscape(c, true), nil)
	if len(raw) > SubstringLen {
		for i := 0; i+SubstringLen <= len(raw); i++ {
			add(fmt.Sprintf("utf-8[%d:%d]", i, i+SubstringLen), raw[i:i+SubstringLen], raw)
		}
	}
	return out
}

func utf16Bytes(s string, bigEndian bool) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u))
	for _, x := range u {
		if bigEndian {
			b = append(b, byte(x>>8), byte(x))
		} else {
			b = append(b, byte(x), byte(x>>8))
		}
	}
	return b
}

// base64Middle returns the characters of the base64 encoding of (k unknown bytes || raw ||
// unknown bytes) that depend only on raw — the stable middle, the same whatever surrounds the
// canary — and, for the positive control, one full encoding with random bytes around it.
// Character i covers bits [6i, 6i+6); raw covers bits [8k, 8k+8·len(raw)).
func base64Middle(enc *base64.Encoding, raw []byte, k int) (search, plant []byte) {
	full := enc.EncodeToString(append(make([]byte, k), raw...))
	start := (8*k + 5) / 6
	end := (8 * (k + len(raw))) / 6
	search = []byte(full[start:end])
	surround := make([]byte, k+2)
	rand.Read(surround)
	framed := append(append(slices.Clone(surround[:k]), raw...), surround[k:]...)
	plant = []byte(enc.EncodeToString(framed))
	return search, plant
}

func jsonEscape(s string, html bool) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(html)
	_ = e.Encode(s)
	out := bytes.TrimSpace(b.Bytes())
	return out[1 : len(out)-1] // without the quotes
}

// canarySet is the canaries and the matcher built from all their encodings.
type canarySet struct {
	canaries []string
	forms    [][]encoded // per canary
	m        *matcher
	total    int // (canary, encoding) pairs
}

// newCanarySet validates the canaries (at least MinCanaryLen bytes of valid UTF-8, no
// duplicates) and builds the matcher.
func newCanarySet(canaries []string) (*canarySet, error) {
	cs := &canarySet{m: newMatcher()}
	seen := map[string]bool{}
	for _, c := range canaries {
		if len(c) < MinCanaryLen {
			return nil, fmt.Errorf("canary %q is %d bytes: use at least %d (random ones of 24 or more work best)", c, len(c), MinCanaryLen)
		}
		if !utf8.ValidString(c) {
			return nil, fmt.Errorf("canary %q is not valid UTF-8", c)
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		i := len(cs.canaries)
		cs.canaries = append(cs.canaries, c)
		forms := canaryEncodings(c)
		cs.forms = append(cs.forms, forms)
		for _, f := range forms {
			cs.m.add(f.search, tag{Owner: i, Encoding: f.name})
			cs.total++
		}
	}
	cs.m.build()
	return cs, nil
}

// canaryHit is one occurrence of a canary.
type canaryHit struct {
	off      int64
	length   int
	canary   int
	encoding string
}

// scanFile returns the canary occurrences in a file's bytes, dropping a substring hit inside a
// full hit of the same canary, so that one planted canary is reported once per encoding.
func (cs *canarySet) scanFile(path string) ([]canaryHit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var hits []canaryHit
	err = cs.m.scanReader(f, func(off int64, n *needle) {
		for _, t := range n.tags {
			hits = append(hits, canaryHit{off: off, length: len(n.b), canary: t.Owner, encoding: t.Encoding})
		}
	})
	return dropCovered(hits), err
}

func isSubstringEncoding(e string) bool { return strings.HasPrefix(e, "utf-8[") }

func dropCovered(hits []canaryHit) []canaryHit {
	var full []canaryHit
	for _, h := range hits {
		if !isSubstringEncoding(h.encoding) {
			full = append(full, h)
		}
	}
	out := full
	for _, h := range hits {
		if !isSubstringEncoding(h.encoding) {
			continue
		}
		covered := false
		for _, f := range full {
			if f.canary == h.canary && h.off >= f.off && h.off+int64(h.length) <= f.off+int64(f.length) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, h)
		}
	}
	// Several pieces of one stretch: keep the first piece of each overlapping run.
	slices.SortFunc(out, func(a, b canaryHit) int {
		if a.off != b.off {
			return int(a.off - b.off)
		}
		return strings.Compare(a.encoding, b.encoding)
	})
	var kept []canaryHit
	for _, h := range out {
		if isSubstringEncoding(h.encoding) && len(kept) > 0 {
			p := kept[len(kept)-1]
			if isSubstringEncoding(p.encoding) && p.canary == h.canary && h.off < p.off+int64(p.length)+int64(SubstringLen) {
				continue
			}
		}
		kept = append(kept, h)
	}
	return kept
}

// control writes the positive-control file: every canary in every encoding, each between
// random bytes, then scans it with the same matcher and returns the (canary, encoding) pairs
// it did not find. A scanner that cannot find planted canaries proves nothing by finding none.
func (cs *canarySet) control(dir string) (path string, missed []string, err error) {
	var b bytes.Buffer
	noise := func() {
		r := make([]byte, 32)
		rand.Read(r)
		b.Write(r)
	}
	for _, forms := range cs.forms {
		for _, f := range forms {
			noise()
			b.Write(f.plant)
		}
	}
	noise()
	path = filepath.Join(dir, "canary-control.bin")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return "", nil, err
	}
	// The same matcher as the real scan, without dropCovered: substring pieces sit inside
	// the planted UTF-8 form, and each must be shown to be found on its own.
	found := map[tag]bool{}
	f, err := os.Open(path)
	if err != nil {
		return path, nil, err
	}
	defer f.Close()
	err = cs.m.scanReader(f, func(off int64, n *needle) {
		for _, t := range n.tags {
			found[t] = true
		}
	})
	for i, forms := range cs.forms {
		for _, fm := range forms {
			if !found[tag{Owner: i, Encoding: fm.name}] {
				missed = append(missed, fmt.Sprintf("canary #%d %s", i+1, fm.name))
			}
		}
	}
	return path, missed, err
}

// preview returns at most n bytes of b as a Go-quoted string, for findings.
func preview(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}
