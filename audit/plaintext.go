package audit

import (
	"bufio"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// The plaintext check looks for text where only ciphertext, IDs and numbers should be: runs
// of printable ASCII (0x20–0x7e; a tab or newline ends a run) at least minPrintable long,
// anywhere in any file, other than the schema's own SQL and names (sqlite_schema). A run
// whose every other byte is mostly one value is SQLite structure (an array of 2-byte cell
// offsets), not text, and is skipped.
//
// In uniformly random bytes a given position starts such a run with probability
// (1 − 95/256) × (95/256)^L ≈ 0.63 × 0.371^L, so over N bytes the expected number of chance
// runs is about N × 0.63 × 0.371^L. The tool picks the smallest L ≥ 24 that keeps this below
// printableAlarm for the bytes it scans: 24 up to 2.7 MB, 26 up to 19 MB, 28 up to 135 MB,
// 30 up to 960 MB. The report gives the length used.
const (
	minPrintableFloor = 24
	printableAlarm    = 1e-4
	maxRunKept        = 4096
	printableP        = 95.0 / 256     // P(a random byte is printable)
	printableStart    = 1 - printableP // P(the byte before a run is not)
)

func isPrintable(c byte) bool { return c >= 0x20 && c <= 0x7e }

// minPrintable returns the run length threshold for n bytes scanned.
func minPrintable(n int64) int {
	if n < 1 {
		n = 1
	}
	l := (math.Log(printableStart*float64(n)) - math.Log(printableAlarm)) / math.Log(1/printableP)
	return max(minPrintableFloor, int(math.Ceil(l)))
}

// textAllow holds the strings a run may consist of: the schema's SQL, line by line, and the
// type, name and table name of each schema object (which SQLite stores side by side).
type textAllow struct {
	strs []string // longest first
}

func newTextAllow(objs []schemaObject) *textAllow {
	t := &textAllow{}
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.TrimRight(s, "\r")
		if len(s) >= 4 && !seen[s] {
			seen[s] = true
			t.strs = append(t.strs, s)
		}
	}
	for _, o := range objs {
		add(o.Type + o.Name + o.Table)
		add(o.Name)
		add(o.Table)
		for _, line := range strings.Split(o.SQL, "\n") {
			add(line)
			add(strings.TrimSpace(line))
		}
	}
	slices.SortFunc(t.strs, func(a, b string) int { return len(b) - len(a) })
	return t
}

// allowed reports whether a printable run is schema text: a piece of one allowed string, or
// allowed strings with at most minLen−1 other characters between them.
func (t *textAllow) allowed(run string, minLen int) bool {
	if t.within(run) {
		return true
	}
	for _, s := range t.strs {
		if len(s) >= minNeedle {
			run = strings.ReplaceAll(run, s, "\x00")
		}
	}
	for _, piece := range strings.Split(run, "\x00") {
		if len(piece) >= minLen && !t.within(piece) {
			return false
		}
	}
	return true
}

func (t *textAllow) within(s string) bool {
	for _, a := range t.strs {
		if len(a) >= len(s) && strings.Contains(a, s) {
			return true
		}
	}
	return false
}

// printableRun is a run found by scanPrintable.
type printableRun struct {
	off  int64
	n    int64
	text []byte // the first maxRunKept bytes
}

// scanPrintable reports every printable run of at least minLen bytes in r.
func scanPrintable(r io.Reader, minLen int, fn func(printableRun)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var off int64
	var cur printableRun
	in := false
	flush := func() {
		if in && cur.n >= int64(minLen) {
			fn(cur)
		}
		in = false
	}
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			flush()
			return nil
		}
		if err != nil {
			return err
		}
		if isPrintable(c) {
			if !in {
				in = true
				cur = printableRun{off: off, text: cur.text[:0]}
			}
			cur.n++
			if len(cur.text) < maxRunKept {
				cur.text = append(cur.text, c)
			}
		} else {
			flush()
		}
		off++
	}
}

// scanPrintableFile is scanPrintable over a file, dropping allowed runs.
func scanPrintableFile(path string, minLen int, allow *textAllow, fn func(printableRun)) (allowedRuns int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	err = scanPrintable(f, minLen, func(r printableRun) {
		if periodic(r.text) {
			return
		}
		if r.n <= maxRunKept && allow.allowed(string(r.text), minLen) {
			allowedRuns++
			return
		}
		fn(r)
	})
	return allowedRuns, err
}

// periodic reports whether at least 3/4 of the even or of the odd positions of b hold one
// byte value: the shape of SQLite's arrays of 2-byte offsets, never of text.
func periodic(b []byte) bool {
	for ph := 0; ph < 2; ph++ {
		var counts [256]int
		n, top := 0, 0
		for i := ph; i < len(b); i += 2 {
			counts[b[i]]++
			top = max(top, counts[b[i]])
			n++
		}
		if n >= 8 && 4*top >= 3*n {
			return true
		}
	}
	return false
}
