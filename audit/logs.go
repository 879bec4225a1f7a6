package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
)

// Envelope bytes in logs are found by 32-byte windows taken every windowStride bytes of every
// stored blob (envelopes, owner keys, keybags, grants, labels), so that any leaked stretch of
// windowStride+31 = 55 bytes or more contains a whole window. The stride is a multiple of 3,
// so windows start on base64 group boundaries of a blob encoded from its start.
const (
	windowSize   = 32
	windowStride = 24
	// MaxWindows bounds the index (about 40 bytes each). Past it, only the first window of
	// each further blob is indexed, and the report says coverage is partial.
	MaxWindows = 8 << 20
	// TokenRunLen is the shortest base64/hex-like run flagged as token-like: 32 bytes (a
	// session token, key or hash) are 43 characters of unpadded base64 and 64 of hex.
	TokenRunLen = 43
)

type winRef struct {
	blob int32
	off  int32
	fp   uint64 // first 8 bytes of SHA-256 of the window
}

// windowIndex indexes 32-byte windows of stored blobs by their first 8 bytes.
type windowIndex struct {
	labels  []string
	first2  []bool
	byKey   map[uint64][]winRef
	count   int
	partial bool
}

func newWindowIndex() *windowIndex {
	return &windowIndex{first2: make([]bool, 1<<16), byKey: map[uint64][]winRef{}}
}

// add indexes the windows of one blob. It is a no-op on a nil index (no --logs).
func (w *windowIndex) add(label string, b []byte) {
	if w == nil || len(b) < windowSize {
		return
	}
	id := int32(len(w.labels))
	w.labels = append(w.labels, label)
	for off := 0; off+windowSize <= len(b); off += windowStride {
		if w.count >= MaxWindows && off > 0 {
			w.partial = true
			break
		}
		win := b[off : off+windowSize]
		h := sha256.Sum256(win)
		w.first2[binary.LittleEndian.Uint16(win)] = true
		k := binary.LittleEndian.Uint64(win)
		w.byKey[k] = append(w.byKey[k], winRef{blob: id, off: int32(off), fp: binary.LittleEndian.Uint64(h[:])})
		w.count++
	}
}

// find calls fn for every indexed window found in b.
func (w *windowIndex) find(b []byte, fn func(pos int, label string, off int)) {
	for i := 0; i+windowSize <= len(b); i++ {
		if !w.first2[binary.LittleEndian.Uint16(b[i:])] {
			continue
		}
		refs := w.byKey[binary.LittleEndian.Uint64(b[i:])]
		if len(refs) == 0 {
			continue
		}
		h := sha256.Sum256(b[i : i+windowSize])
		fp := binary.LittleEndian.Uint64(h[:])
		for _, r := range refs {
			if r.fp == fp {
				fn(i, w.labels[r.blob], int(r.off))
			}
		}
	}
}

// decodedView is a byte stream derived from a log file, and where in the file it starts.
type decodedView struct {
	how  string // raw, hex, base64, base64url, quoted, decimal
	at   int    // offset in the file of the text it was decoded from
	data []byte
}

var (
	quotedRE  = regexp.MustCompile(`"(?:[^"\\\n]|\\.)*"`)
	decimalRE = regexp.MustCompile(`\[(?:\d{1,3} ){31,}\d{1,3}\]`)
)

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isB64(c byte) bool    { return isAlnum(c) || c == '+' || c == '/' }
func isB64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

// runs returns the maximal runs of bytes satisfying in, at least minLen long.
func runs(b []byte, in func(byte) bool, minLen int) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && in(b[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= minLen {
			out = append(out, [2]int{start, i})
		}
		start = -1
	}
	return out
}

// decodedViews returns the log's raw bytes and every decoding of its hex runs (both nibble
// phases), base64 and base64url runs (all four character phases), Go-quoted strings with
// escapes, and decimal byte lists such as fmt prints a []byte.
func decodedViews(b []byte) []decodedView {
	views := []decodedView{{how: "raw", data: b}}
	for _, r := range runs(b, isHex, 2*windowSize) {
		for ph := 0; ph < 2; ph++ {
			s := b[r[0]+ph : r[1]]
			s = s[:len(s)/2*2]
			if d, err := hex.DecodeString(string(s)); err == nil {
				views = append(views, decodedView{how: "hex", at: r[0] + ph, data: d})
			}
		}
	}
	for _, alpha := range []struct {
		name string
		in   func(byte) bool
		enc  *base64.Encoding
	}{{"base64", isB64, base64.RawStdEncoding}, {"base64url", isB64URL, base64.RawURLEncoding}} {
		for _, r := range runs(b, alpha.in, TokenRunLen) {
			for ph := 0; ph < 4; ph++ {
				s := b[r[0]+ph : r[1]]
				s = s[:len(s)/4*4]
				if d, err := alpha.enc.DecodeString(string(s)); err == nil {
					views = append(views, decodedView{how: alpha.name, at: r[0] + ph, data: d})
				}
			}
		}
	}
	for _, loc := range quotedRE.FindAllIndex(b, -1) {
		q := b[loc[0]:loc[1]]
		if !bytes.Contains(q, []byte(`\`)) {
			continue
		}
		if s, err := strconv.Unquote(string(q)); err == nil {
			views = append(views, decodedView{how: "quoted", at: loc[0], data: []byte(s)})
		}
	}
	for _, loc := range decimalRE.FindAllIndex(b, -1) {
		var d []byte
		ok := true
		for _, f := range bytes.Fields(b[loc[0]+1 : loc[1]-1]) {
			n, err := strconv.Atoi(string(f))
			if err != nil || n > 255 {
				ok = false
				break
			}
			d = append(d, byte(n))
		}
		if ok {
			views = append(views, decodedView{how: "decimal", at: loc[0], data: d})
		}
	}
	return views
}

// tokenRun is a base64- or hex-like run long enough to hold 32 bytes.
type tokenRun struct {
	at, end int
}

// tokenRuns returns runs of base64 or base64url characters of TokenRunLen or more that
// contain both a digit and a letter — what a token, key or hash looks like when printed in
// hex, base64 or base32. A run that starts with "/" and holds two more "/" is taken for a
// file path and skipped (a 32-byte base64 value does that with probability about 0.2%).
func tokenRuns(b []byte) []tokenRun {
	var cands []tokenRun
	for _, in := range []func(byte) bool{isB64, isB64URL} {
		for _, r := range runs(b, in, TokenRunLen) {
			s := b[r[0]:r[1]]
			if s[0] == '/' && bytes.Count(s, []byte("/")) >= 3 {
				continue
			}
			hasDigit := bytes.ContainsAny(s, "0123456789")
			hasLetter := bytes.ContainsFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
			if hasDigit && hasLetter {
				cands = append(cands, tokenRun{r[0], r[1]})
			}
		}
	}
	// One value is one finding: of overlapping runs (base64 and base64url views of the same
	// characters), keep the longest.
	slices.SortFunc(cands, func(x, y tokenRun) int { return (y.end - y.at) - (x.end - x.at) })
	var out []tokenRun
	for _, c := range cands {
		if !slices.ContainsFunc(out, func(o tokenRun) bool { return c.at < o.end && o.at < c.end }) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y tokenRun) int { return x.at - y.at })
	return out
}

// checkLogFile runs the three log tests on one file.
func checkLogFile(f *snapFile, cs *canarySet, win *windowIndex, c *Check, counts map[string]int) error {
	b, err := os.ReadFile(f.copy)
	if err != nil {
		return err
	}
	counts["files"]++
	counts["bytes"] += len(b)
	if cs != nil {
		hits, err := cs.scanFile(f.copy)
		if err != nil {
			return err
		}
		for _, h := range hits {
			counts["canary_hits"]++
			c.fail(Finding{File: "logs/" + f.Path, Offset: ptr(h.off), Where: h.encoding,
				Message: fmt.Sprintf("canary #%d %s found (%s)", h.canary+1, preview([]byte(cs.canaries[h.canary]), 16), h.encoding)})
		}
	}
	if win != nil {
		views := decodedViews(b)
		counts["decoded_views"] += len(views) - 1
		reported := map[string]bool{}
		for _, v := range views {
			win.find(v.data, func(pos int, label string, off int) {
				key := fmt.Sprintf("%s/%d/%s", v.how, v.at, label)
				if reported[key] {
					return
				}
				reported[key] = true
				counts["envelope_byte_hits"]++
				at := int64(v.at)
				if v.how == "raw" {
					at = int64(pos)
				}
				c.fail(Finding{File: "logs/" + f.Path, Offset: ptr(at), Where: v.how,
					Message: fmt.Sprintf("holds bytes %d–%d of %s (as %s)", off, off+windowSize, label, v.how)})
			})
		}
	}
	for _, r := range tokenRuns(b) {
		counts["token_like_runs"]++
		c.fail(Finding{File: "logs/" + f.Path, Offset: ptr(int64(r.at)), Where: "token-like",
			Message: fmt.Sprintf("a %d-character base64/hex-like run %s: logs must not hold tokens, keys, hashes or ciphertext",
				r.end-r.at, preview(b[r.at:r.end], 12))})
	}
	return nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
