package audit

import (
	"bytes"
	"testing"

	"interlude/crypto"
)

// FuzzSplitEnvelope: the lenient splitter never panics, agrees with the strict parser on
// every input the strict parser accepts, and re-encodes what it splits.
func FuzzSplitEnvelope(f *testing.F) {
	id, _ := crypto.NewIdentity()
	env, _, _ := crypto.SealEntry(id, crypto.RecordID{1}, 1, []byte("seed"))
	f.Add(env)
	f.Add(env[:200])
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := splitEnvelope(b)
		strict, serr := crypto.ParseEnvelope(b)
		if serr == nil && err != nil {
			t.Fatalf("strict parser accepts, splitEnvelope refuses: %v", err)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(e.Marshal(), b) {
			t.Fatal("split then Marshal differs from the input")
		}
		if serr == nil && !bytes.Equal(strict.Marshal(), e.Marshal()) {
			t.Fatal("splitEnvelope and crypto.ParseEnvelope disagree")
		}
		_ = isPaddedLength(len(b) - crypto.EnvelopeOverhead)
	})
}

// FuzzDecodedViews: log decoding never panics and every view decodes from inside the line.
func FuzzDecodedViews(f *testing.F) {
	f.Add([]byte(`time=x msg="a\x00\xffb" dump=[1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33] h=` +
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"))
	f.Add([]byte("token=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u/ path=/a/b/c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range decodedViews(b) {
			if v.at < 0 || v.at > len(b) {
				t.Fatalf("view %s at %d outside the %d-byte input", v.how, v.at, len(b))
			}
		}
		for _, r := range tokenRuns(b) {
			if r.end-r.at < TokenRunLen {
				t.Fatalf("short token run %v", r)
			}
		}
	})
}

// FuzzParseAllowlist: the allow-list parser never panics, and the embedded list parses.
func FuzzParseAllowlist(f *testing.F) {
	f.Add(allowlistText)
	f.Add("table t strict\n    column a BLOB notnull pk=1 class=hash\nindex i table=t columns=a where=\"a > 0\"")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAllowlist(s)
		if err == nil && a == nil {
			t.Fatal("nil allow-list without an error")
		}
	})
}

// FuzzPrintable: the printable-run scanner reports runs that are printable and long enough.
func FuzzPrintable(f *testing.F) {
	f.Add([]byte("\x00I told my therapist about the panic attack\x01"), 24)
	f.Fuzz(func(t *testing.T, b []byte, minLen int) {
		if minLen < 1 || minLen > 100 {
			return
		}
		scanPrintable(bytes.NewReader(b), minLen, func(r printableRun) {
			if r.n < int64(minLen) || int(r.off)+int(r.n) > len(b) {
				t.Fatalf("run %d+%d of %d bytes", r.off, r.n, len(b))
			}
			for _, c := range b[r.off : r.off+r.n] {
				if !isPrintable(c) {
					t.Fatalf("unprintable byte 0x%02x in a run", c)
				}
			}
		})
	})
}
