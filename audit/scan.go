package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// minNeedle is the shortest pattern the matcher takes: it indexes patterns by their first
// 8 bytes, read as one integer at every position of the input.
const minNeedle = 8

// tag says what a pattern stands for: which canary (or blob) and in which encoding.
type tag struct {
	Owner    int    // canary index, or blob index
	Encoding string // "utf-16le", "base64/1", "window@48", …
}

type needle struct {
	b    []byte
	tags []tag
}

// matcher finds many byte patterns in one pass over its input: at each position a 64 KiB
// table of first byte pairs rejects almost every position, and a map keyed by the first 8
// bytes finds the candidate patterns, which are then compared in full. Patterns with the
// same bytes are kept once with all their tags. Memory: the patterns plus about 60 bytes each.
type matcher struct {
	needles []*needle
	index   map[string]int // pattern bytes → position in needles
	first2  []bool         // 65536 entries, built by build
	byKey   map[uint64][]int32
	maxLen  int
}

func newMatcher() *matcher { return &matcher{index: map[string]int{}} }

// add adds a pattern. Patterns shorter than minNeedle are refused (the caller checks).
func (m *matcher) add(b []byte, t tag) {
	if len(b) < minNeedle {
		panic("audit: pattern shorter than minNeedle")
	}
	if i, ok := m.index[string(b)]; ok {
		m.needles[i].tags = append(m.needles[i].tags, t)
		return
	}
	m.index[string(b)] = len(m.needles)
	m.needles = append(m.needles, &needle{b: b, tags: []tag{t}})
	m.first2 = nil
}

func (m *matcher) build() {
	m.first2 = make([]bool, 1<<16)
	m.byKey = make(map[uint64][]int32, len(m.needles))
	m.maxLen = 0
	for i, n := range m.needles {
		m.first2[binary.LittleEndian.Uint16(n.b)] = true
		k := binary.LittleEndian.Uint64(n.b)
		m.byKey[k] = append(m.byKey[k], int32(i))
		m.maxLen = max(m.maxLen, len(n.b))
	}
}

// scanBytes reports every occurrence of every pattern in b, at base+offset.
func (m *matcher) scanBytes(b []byte, base int64, fn func(off int64, n *needle)) {
	m.scan(b, base, len(b), fn)
}

// scan looks for patterns starting at positions [0, end) of b; a pattern may extend past
// end but not past len(b).
func (m *matcher) scan(b []byte, base int64, end int, fn func(off int64, n *needle)) {
	if m.first2 == nil {
		m.build()
	}
	if len(m.needles) == 0 {
		return
	}
	last := min(end, len(b)-minNeedle+1)
	for i := 0; i < last; i++ {
		if !m.first2[binary.LittleEndian.Uint16(b[i:])] {
			continue
		}
		for _, j := range m.byKey[binary.LittleEndian.Uint64(b[i:])] {
			n := m.needles[j]
			if i+len(n.b) <= len(b) && bytes.Equal(b[i:i+len(n.b)], n.b) {
				fn(base+int64(i), n)
			}
		}
	}
}

// scanReader reports every occurrence in r, reading it in 1 MiB chunks that overlap by the
// longest pattern, so that a pattern split across two reads is still found exactly once.
func (m *matcher) scanReader(r io.Reader, fn func(off int64, n *needle)) error {
	if m.first2 == nil {
		m.build()
	}
	if len(m.needles) == 0 {
		return nil
	}
	const chunk = 1 << 20
	buf := make([]byte, 0, chunk+m.maxLen)
	var base int64
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return err
		}
		end := len(buf)
		if !eof {
			end = len(buf) - m.maxLen + 1 // later positions may hold a pattern cut by the read
		}
		if end > 0 {
			m.scan(buf, base, end, fn)
		} else {
			end = 0
		}
		if eof {
			return nil
		}
		rest := copy(buf, buf[end:])
		buf = buf[:rest]
		base += int64(end)
	}
}
