package journal

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// svgStats walks an SVG with encoding/xml and counts circles per series.
type svgStats struct {
	root    string
	title   string
	series  map[string]int // data-series → circles
	texts   []string
	bands   int
	circles int
}

func parseSVG(t *testing.T, b []byte) svgStats {
	t.Helper()
	s := svgStats{series: map[string]int{}}
	dec := xml.NewDecoder(bytes.NewReader(b))
	var stack []string
	current := ""
	inTitle, inText := false, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not valid XML: %v\n%s", err, b)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if s.root == "" {
				s.root = el.Name.Space + " " + el.Name.Local
			}
			stack = append(stack, el.Name.Local)
			for _, a := range el.Attr {
				if a.Name.Local == "data-series" {
					current = a.Value
				}
				if a.Name.Local == "class" && a.Value == "band" {
					s.bands++
				}
			}
			if el.Name.Local == "circle" {
				s.circles++
				if current != "" {
					s.series[current]++
				}
			}
			inTitle = el.Name.Local == "title" && len(stack) == 2
			inText = el.Name.Local == "text"
		case xml.EndElement:
			if el.Name.Local == "g" {
				current = ""
			}
			stack = stack[:len(stack)-1]
			inTitle, inText = false, false
		case xml.CharData:
			if inTitle {
				s.title += string(el)
			}
			if inText {
				s.texts = append(s.texts, string(el))
			}
		}
	}
	return s
}

func TestRenderSVG(t *testing.T) {
	r := Trends(seeded(), at(1, 0, 0), at(10, 23, 0))
	var b bytes.Buffer
	if err := RenderSVG(&b, r); err != nil {
		t.Fatal(err)
	}
	s := parseSVG(t, b.Bytes())
	if s.root != "http://www.w3.org/2000/svg svg" {
		t.Errorf("root element %q", s.root)
	}
	if s.title != "Mood and anxiety, 2026-03-01 to 2026-03-10" {
		t.Errorf("title %q", s.title)
	}
	want := map[string]int{"mood": 9, "anxiety": 8, "measure-phq9": 2, "measure-gad7": 1, "measure-who5": 2}
	if len(s.series) != len(want) {
		t.Errorf("series %v, want %v", s.series, want)
	}
	for name, n := range want {
		if s.series[name] != n {
			t.Errorf("series %s has %d points, want %d", name, s.series[name], n)
		}
	}
	if s.bands != 5+4+3 {
		t.Errorf("%d band rectangles, want 12", s.bands)
	}
	joined := strings.Join(s.texts, "\n")
	for _, label := range []string{"score (0–10)", "day", "2026-03-01", "2026-03-10", "PHQ-9 (0–27)", "WHO-5 (0–100 %)", "moderately severe", "likely depression"} {
		if !strings.Contains(joined, label) {
			t.Errorf("no text %q in the SVG", label)
		}
	}
}

func TestRenderSVGEscapesUserText(t *testing.T) {
	evil := `</text><script>alert("x")</script> & <![CDATA[ ]]> ` + "\x00\x1b"
	r := TrendReport{
		From: "2026-03-01", To: "2026-03-03",
		Days:     []DayScores{{Day: "2026-03-01", Checkins: 1, Mood: 5}},
		Triggers: []Association{{Name: evil, DaysWith: 3, DaysWithout: 1, MoodWith: 4, MoodWithout: 6, Difference: -2}},
	}
	var b bytes.Buffer
	if err := RenderSVG(&b, r); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("<script")) {
		t.Fatalf("unescaped user text in SVG:\n%s", b.String())
	}
	s := parseSVG(t, b.Bytes())
	if !strings.Contains(strings.Join(s.texts, "\n"), `trigger “</text><script>alert("x")</script> & <![CDATA[ ]]>`) {
		t.Errorf("user text did not survive escaping: %q", s.texts)
	}
	if s.series["mood"] != 1 || s.series["anxiety"] != 0 {
		t.Errorf("series %v", s.series)
	}
}

func TestRenderSVGEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := RenderSVG(&b, Trends(nil, at(1, 0, 0), at(1, 0, 0))); err != nil {
		t.Fatal(err)
	}
	s := parseSVG(t, b.Bytes())
	if s.circles != 0 || !strings.Contains(strings.Join(s.texts, " "), "No check-ins in this period") {
		t.Errorf("empty chart: %+v", s)
	}
}

func TestRenderTerminalChart(t *testing.T) {
	entries := append(seeded(), checkin(at(4, 12, 0), 5, nil, nil))
	var b bytes.Buffer
	if err := RenderTerminalChart(&b, Trends(entries, at(1, 0, 0), at(10, 23, 0))); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Mood and anxiety, 2026-03-01 to 2026-03-10",
		"mood     ▄▆▃▅▅▆▅▂▅▇", // 03-04 now has mood 5
		"anxiety  ▅▃▆··▃▄▇▅▅", // none on 03-04 or 03-05
		"2026-03-01  4 ####            6 ######",
		// With 03-04's mood 5 the days sum to 53 over 10: sleep 20/3 vs 33/7, work 14/4 vs 39/6.
		"sleep                     6.7 (3)          4.7 (7)          +2.0",
		"work                      3.5 (4)          6.5 (6)          -3.0",
		"helped: yes 2, somewhat 1, no 0",
		"8 (mild)               ######  ! item 9 above zero",
		"Streaks: current 10 days, longest 10",
		"Homework: 4 assigned, 2 submitted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("escape codes in plain-text output")
	}
}

func TestRenderTerminalChartLongRange(t *testing.T) {
	var entries []*Entry
	start := at(1, 9, 0)
	for i := 0; i < 200; i += 2 {
		entries = append(entries, checkin(start.AddDate(0, 0, i), i%11, new(5), []string{"x\x1b[2J"}))
	}
	var b bytes.Buffer
	if err := RenderTerminalChart(&b, Trends(entries, start, start.AddDate(0, 0, 200))); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "mood ") && utf8.RuneCountInString(line) > 9+maxChartColumns {
			t.Errorf("sparkline wider than %d columns: %q", maxChartColumns, line)
		}
	}
	if !strings.Contains(b.String(), "each column is 4 days (averaged)") || strings.Contains(b.String(), "\x1b") {
		t.Errorf("long range chart:\n%s", b.String())
	}
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, seeded()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// 11 check-ins with a mood, 6 scored measures (one inside a response).
	if len(rows) != 1+11+6 {
		t.Fatalf("%d rows, want 18", len(rows))
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	wantRows := map[string]string{
		"2026-03-06T23:30:00-05:00": "2026-03-06,checkin,,7,3,,,,,,",
		"2026-03-08T10:00:00-05:00": "2026-03-08,measure,phq9,,,,,8,,mild,true",
		"2026-03-09T10:00:00-05:00": "2026-03-09,measure,who5,,,,,13,52,above cut-off,",
		"2026-03-05T21:00:00-05:00": "2026-03-05,measure,gad7,,,,,7,,mild,",
	}
	for _, r := range rows[1:] {
		if want, ok := wantRows[r[0]]; ok {
			if got := strings.Join(r[1:], ","); got != want {
				t.Errorf("row %s = %s, want %s", r[0], got, want)
			}
			delete(wantRows, r[0])
		}
	}
	if len(wantRows) != 0 {
		t.Errorf("rows missing: %v", wantRows)
	}
	if bytes.Contains(b.Bytes(), []byte("private note")) || strings.Contains(strings.Join(rows[1], ","), "work") {
		t.Error("free text in the CSV")
	}
	// Rows are in time order.
	for i := 2; i < len(rows); i++ {
		if rows[i][0] < rows[i-1][0] {
			t.Errorf("row %d out of order: %s after %s", i, rows[i][0], rows[i-1][0])
		}
	}
}

func TestWriteHTMLReport(t *testing.T) {
	entries := append(seeded(), New(&Journal{Title: `<img src="x" onerror="alert(1)">`, Text: "a <b>bold</b> & \"quoted\" claim"}, at(10, 12, 0)))
	var b bytes.Buffer
	if err := WriteHTMLReport(&b, entries, `Sam's report <script>`); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script", "<img", "<b>bold", `src="`, "href=", "<link", "@import", "url("} {
		if strings.Contains(out, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	for _, want := range []string{
		"<title>Sam&#39;s report &lt;script&gt;</title>",
		"@media print",
		"a &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34; claim",
		`<svg xmlns="http://www.w3.org/2000/svg"`,
		"PHQ-9 8/27 (mild)",
		"not a crisis or emergency service",
		"Entries from 2026-02-15 to 2026-03-10.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The embedded chart is still well-formed XML.
	start, end := strings.Index(out, "<svg"), strings.Index(out, "</svg>")
	if start < 0 || end < start {
		t.Fatal("no chart")
	}
	parseSVG(t, []byte(out[start:end+len("</svg>")]))
}

func TestWriteHTMLReportEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTMLReport(&b, nil, "Nothing"); err != nil || !strings.Contains(b.String(), "No entries.") {
		t.Errorf("empty report: %v\n%s", err, b.String())
	}
}
