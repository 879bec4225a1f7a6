package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"interlude/crypto"
)

// TestAllowlistMatchesMigrations keeps the embedded allow-list and the column classes
// written in storage/sqlite's migrations in agreement: same tables, same columns, same
// classes (and units).
func TestAllowlistMatchesMigrations(t *testing.T) {
	files, _ := filepath.Glob("../storage/sqlite/migrations/*.sql")
	if len(files) == 0 {
		t.Fatal("no migrations found")
	}
	var src strings.Builder
	for _, f := range append(files, "../storage/sqlite/migrate.go") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
		src.WriteString("\n")
	}
	tableRE := regexp.MustCompile(`(?m)^\s*(?:const \w+ = ` + "`" + `)?(?:CREATE TABLE (?:IF NOT EXISTS )?(\w+) \(|ALTER TABLE (\w+) ADD COLUMN$)`)
	colRE := regexp.MustCompile(`^\s+(\w+)\s+(?:BLOB|INTEGER|TEXT)\b.*--\s*([a-z-]+)(?:\s*\((\w+)\))?`)
	type col struct{ class, unit string }
	got := map[string]map[string]col{}
	cur := ""
	for _, line := range strings.Split(src.String(), "\n") {
		if m := tableRE.FindStringSubmatch(line); m != nil {
			if cur = m[1]; cur != "" {
				got[cur] = map[string]col{}
			} else {
				cur = m[2] // a column added to a table created earlier, on the next line
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), ")") {
			cur = ""
			continue
		}
		if m := colRE.FindStringSubmatch(line); m != nil && cur != "" {
			c := col{class: m[2]}
			if c.class == ClassCoarseTime {
				c.unit = m[3]
			}
			got[cur][m[1]] = c
			if strings.Contains(line, ";") { // the end of an ALTER TABLE
				cur = ""
			}
		}
	}
	al := DefaultAllowlist()
	for table, cols := range got {
		spec := al.Table(table)
		if spec == nil {
			t.Errorf("migrations create table %s; the allow-list lacks it", table)
			continue
		}
		for name, c := range cols {
			cs := spec.Column(name)
			switch {
			case cs == nil:
				t.Errorf("migrations create %s.%s; the allow-list lacks it", table, name)
			case cs.Class != c.class || cs.Unit != c.unit:
				t.Errorf("%s.%s: migrations say %s %s, the allow-list %s %s", table, name, c.class, c.unit, cs.Class, cs.Unit)
			}
		}
		for _, cs := range spec.Columns {
			if _, ok := cols[cs.Name]; !ok {
				t.Errorf("the allow-list has %s.%s; the migrations do not (or give it no class comment)", table, cs.Name)
			}
		}
	}
	for _, spec := range al.Tables {
		if _, ok := got[spec.Name]; !ok && spec.Name != "sqlite_sequence" {
			t.Errorf("the allow-list has table %s; the migrations do not create it", spec.Name)
		}
	}
	if len(got) < 7 {
		t.Errorf("parsed only %d tables from the migrations", len(got))
	}
}

func TestParseAllowlistErrors(t *testing.T) {
	for _, s := range []string{
		"column x BLOB notnull class=random-id",
		"table t\ncolumn x BLOB maybe class=random-id",
		"table t\ncolumn x BLOB notnull class=secret",
		"table t\ncolumn x INTEGER notnull class=coarse-time",
		"table t\ncolumn x INTEGER notnull class=seq unit=day",
		"table t\ncolumn x BLOB notnull class=opaque-blob format=jpeg",
		"table t\ncolumn x BLOB notnull class=hash\nindex i table=t columns=y",
		"table t\ntable t",
		`index i table=t where="open`,
	} {
		if _, err := ParseAllowlist(s); err == nil {
			t.Errorf("ParseAllowlist(%q) succeeded", s)
		}
	}
}

// TestPaddedLengthAgreesWithCrypto checks the sizes rule against crypto's strict parser
// and PaddedLength over every envelope length up to 70,000 bytes of plaintext.
func TestPaddedLengthAgreesWithCrypto(t *testing.T) {
	valid := map[int]bool{}
	for n := 0; n <= 70000; n++ {
		valid[crypto.PaddedLength(n)] = true
	}
	if len(valid) > 100 {
		t.Errorf("%d padded lengths for 0–70,000 bytes; the spec says about 97 up to 64 KiB", len(valid))
	}
	for l := 0; l <= crypto.PaddedLength(70000); l++ {
		if isPaddedLength(l) != valid[l] {
			t.Fatalf("isPaddedLength(%d) = %v, PaddedLength says %v", l, isPaddedLength(l), valid[l])
		}
	}
	env := make([]byte, crypto.EnvelopeOverhead+1024)
	env[0] = 1
	for _, l := range []int{1024, 1025, 1088, 1100} {
		b := make([]byte, crypto.EnvelopeOverhead+l)
		b[0] = 1
		_, err := crypto.ParseEnvelope(b)
		if (err == nil) != isPaddedLength(l) {
			t.Errorf("padded length %d: crypto.ParseEnvelope err %v, isPaddedLength %v", l, err, isPaddedLength(l))
		}
	}
	if b, a := nearestPadded(1030); b != 1024 || a != 1088 {
		t.Errorf("nearestPadded(1030) = %d, %d", b, a)
	}
}

func TestSplitEnvelopeMatchesCrypto(t *testing.T) {
	id, _ := crypto.NewIdentity()
	var rec crypto.RecordID
	rand.Read(rec[:])
	env, _, err := crypto.SealEntry(id, rec, 7, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := crypto.ParseEnvelope(env)
	got, err := splitEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Marshal(), want.Marshal()) || got.Revision != 7 || got.Record != rec {
		t.Fatal("splitEnvelope disagrees with crypto.ParseEnvelope")
	}
	if err := got.VerifySignature(id.Signing.Public()); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, {2}, env[:100], append([]byte{0}, env[1:]...)} {
		if _, err := splitEnvelope(bad); !errors.Is(err, errFormat) {
			t.Errorf("splitEnvelope(%d bytes) err %v", len(bad), err)
		}
	}
}

func TestChiSquare(t *testing.T) {
	if p := chiSquareP(ChiSquareThreshold, ChiSquareDOF); p < 0.9e-6 || p > 1.2e-6 {
		t.Errorf("P(χ² > 377) = %g, want ≈ 1.06e-6", p)
	}
	for n, want := range map[int]float64{1: 377, 1000: 377, 10000: 391, 100000: 403, 1000000: 415} {
		if got := perBlobThreshold(n); math.Abs(got-want) > 1 {
			t.Errorf("perBlobThreshold(%d) = %v, want ≈ %v", n, got, want)
		}
	}
	if x := chiSquareQuantile(1.06e-6, 255); math.Abs(x-377) > 1 {
		t.Errorf("quantile at 1.06e-6 = %v, want ≈ 377", x)
	}
	if p := chiSquareP(255, 255); math.Abs(p-0.49) > 0.02 {
		t.Errorf("P(χ² > 255) = %g, want ≈ 0.49", p)
	}
	// 20,000 random 1 KiB blobs from a fixed ChaCha8 stream: the figures SECURITY.md reports.
	rng := mrand.NewChaCha8([32]byte{1})
	b := make([]byte, 1024)
	var xs []float64
	for range 20000 {
		rng.Read(b)
		xs = append(xs, chiSquare(b))
	}
	s := summarize(xs)
	if s.Median < 245 || s.Median > 262 || s.Max > ChiSquareThreshold {
		t.Errorf("random 1 KiB: %+v", s)
	}
	t.Logf("20,000 random 1 KiB blobs: %+v", s)
	if x := chiSquare([]byte(strings.Repeat(`{"text":"I felt anxious today"}`, 40))[:1024]); x < 5000 {
		t.Errorf("JSON scored %v", x)
	}
	if x := chiSquare([]byte(base64.StdEncoding.EncodeToString(b))[:1024]); x < 2000 {
		t.Errorf("base64 scored %v", x)
	}
}

func TestMatcherAcrossChunks(t *testing.T) {
	m := newMatcher()
	m.add([]byte("needle-one"), tag{Owner: 1, Encoding: "a"})
	m.add([]byte("needle-one"), tag{Owner: 2, Encoding: "b"}) // same bytes, two tags
	m.add([]byte("another-needle-that-is-long"), tag{Owner: 3, Encoding: "c"})
	data := make([]byte, 3<<20)
	rand.Read(data)
	places := []int{0, 1<<20 - 5, 2<<20 - 20, 2<<20 + 30, len(data) - 10} // across read boundaries
	copy(data[places[0]:], "needle-one")
	copy(data[places[1]:], "needle-one")
	copy(data[places[2]:], "another-needle-that-is-long")
	copy(data[places[3]:], "needle-one")
	copy(data[places[4]:], "needle-one")
	// HalfReader makes every read short, so patterns straddle the scanner's reads too.
	var got []int64
	var tags int
	err := m.scanReader(iotest.HalfReader(bytes.NewReader(data)), func(off int64, n *needle) {
		got = append(got, off)
		tags += len(n.tags)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(places) || tags != 2*len(places)-1 {
		t.Fatalf("found at %v (%d tags), planted at %v", got, tags, places)
	}
	for i, p := range places {
		if got[i] != int64(p) {
			t.Fatalf("found at %v, planted at %v", got, places)
		}
	}
}

// TestBase64Middle checks that the searched middle of each base64 alignment is found in
// the encoding of the canary with any bytes around it.
func TestBase64Middle(t *testing.T) {
	for _, c := range []string{"abcdefgh", "zq4bqkfmxw2l7hrpy3n5sd6vta", "ünïcödé-canary"} {
		for k := range 3 {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				search, _ := base64Middle(enc, []byte(c), k)
				if len(search) < minNeedle {
					t.Fatalf("%q/%d: middle only %d characters", c, k, len(search))
				}
				for trial := range 50 {
					pre := make([]byte, k+3*trial%7)
					post := make([]byte, trial%4)
					rand.Read(pre)
					rand.Read(post)
					// k bytes before the canary modulo 3 is what alignment k means.
					pre = pre[:len(pre)-(len(pre)-k)%3]
					s := enc.EncodeToString(append(append(pre, c...), post...))
					if !strings.Contains(s, string(search)) {
						t.Fatalf("%q alignment %d: %q not in %q", c, k, search, s)
					}
				}
			}
		}
	}
}

func TestCanaryEncodings(t *testing.T) {
	forms := canaryEncodings(`Tom & "Jerry" <3 ünï`)
	names := map[string]bool{}
	for _, f := range forms {
		names[f.name] = true
		if len(f.search) < minNeedle {
			t.Errorf("%s: %d bytes", f.name, len(f.search))
		}
	}
	for _, want := range []string{"utf-8", "lowercase", "uppercase", "utf-16le", "utf-16be", "base64/0", "base64/1", "base64/2",
		"hex", "HEX", "url-query", "url-path", "json", "json-html", "utf-8[0:12]"} {
		if !names[want] {
			t.Errorf("no %s form", want)
		}
	}
	// A plain alphanumeric canary has fewer distinct forms (URL and JSON escapes equal it).
	if n := len(canaryEncodings("abcdefghijkl")); n > 14 {
		t.Errorf("%d forms for a plain canary", n)
	}
}

func TestTokenRunsAndPeriodic(t *testing.T) {
	tok := make([]byte, 32)
	rand.Read(tok)
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"token=" + base64.RawStdEncoding.EncodeToString(tok), 1},
		{"token=" + base64.RawURLEncoding.EncodeToString(tok), 1},
		{"path=/tmp/TestEndToEnd2072798845/001/data/interlude.db", 0},
		{"msg=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0}, // no digit
		{"account=hnz1bezk5fy81nddr9y8rdmjzw device=4fsnj1f5q2eempmdwv22hxz44c", 0},
		{"tok=3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1}, // base64 and base64url views: one finding
		{"a=" + hex.EncodeToString(tok) + " b=" + base64.RawURLEncoding.EncodeToString(tok), 2},
	} {
		if got := len(tokenRuns([]byte(tc.s))); got != tc.want {
			t.Errorf("tokenRuns(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
	if !periodic([]byte("\t~\tx\tr\tl\tf\t`\tZ\tT\tN\tH\tB\t<")) || periodic([]byte("I told my therapist about it")) {
		t.Error("periodic misjudges")
	}
	if minPrintable(100<<10) != 24 || minPrintable(1<<30) < 29 {
		t.Errorf("minPrintable: %d at 100 KiB, %d at 1 GiB", minPrintable(100<<10), minPrintable(1<<30))
	}
}

func TestBinomialTail(t *testing.T) {
	if p := binomialTail(10, 0, 0.1); p != 1 {
		t.Errorf("P(X≥0) = %v", p)
	}
	if p := binomialTail(1, 1, 0.25); math.Abs(p-0.25) > 1e-12 {
		t.Errorf("P(X≥1), n=1 = %v", p)
	}
	if p := binomialTail(2, 2, 0.0014); p > 1e-5 || p < 1e-6 {
		t.Errorf("two of two plausible: p = %v (cannot fail the 1e-6 test, by design)", p)
	}
	if p := binomialTail(5, 4, 0.0014); p > 1e-6 {
		t.Errorf("four of five plausible: p = %v", p)
	}
}

func TestTextAllow(t *testing.T) {
	a := newTextAllow([]schemaObject{
		{Type: "index", Name: "sqlite_autoindex_changes_1", Table: "changes"},
		{Type: "table", Name: "records", Table: "records", SQL: "CREATE TABLE records (\n    envelope_hash BLOB    NOT NULL,                          -- hash: of the pushed envelope and owner key\n)"},
	})
	for _, run := range []string{
		"indexsqlite_autoindex_changes_1changes",
		"    envelope_hash BLOB    NOT NULL,                          -- hash: of the pushed",
		"tablerecordsrecordsACREATE TABLE records (",
	} {
		if !a.allowed(run, 24) {
			t.Errorf("schema text %q refused", run)
		}
	}
	if a.allowed("tablerecordsrecords I felt so anxious at the station", 24) {
		t.Error("text after schema names was allowed")
	}
}
