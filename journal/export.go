package journal

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// CSVHeader is the header row WriteCSV writes.
var CSVHeader = []string{"created", "day", "kind", "measure", "mood", "anxiety", "energy", "sleep_hours", "total", "percent", "band", "item9_flag"}

// WriteCSV writes one row per check-in and per scored measure (including
// those inside submitted homework responses), oldest first: numbers only, no
// free text. Empty cells mean not recorded.
func WriteCSV(w io.Writer, entries []*Entry) error {
	checkins, measures := observations(entries)
	type row struct {
		at    time.Time
		cells []string
	}
	var rows []row
	optInt := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	for _, o := range checkins {
		sleep := ""
		if o.c.SleepHours != nil {
			sleep = strconv.FormatFloat(*o.c.SleepHours, 'f', -1, 64)
		}
		rows = append(rows, row{o.at, []string{
			o.at.Format(time.RFC3339), string(o.day), KindCheckin, "",
			optInt(o.c.Mood), optInt(o.c.Anxiety), optInt(o.c.Energy), sleep, "", "", "", "",
		}})
	}
	for _, o := range measures {
		percent := ""
		if o.r.HasPercent {
			percent = strconv.Itoa(o.r.Percent)
		}
		flag := ""
		if lookupMeasure(o.r.Measure).SafetyItem > 0 {
			flag = strconv.FormatBool(o.r.SafetyFlag)
		}
		rows = append(rows, row{o.at, []string{
			o.at.Format(time.RFC3339), string(o.day), KindMeasure, o.r.Measure,
			"", "", "", "", strconv.Itoa(o.r.Total), percent, o.r.Band.Name, flag,
		}})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return a.at.Compare(b.at) })
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(r.cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// reportEntry is one entry as the HTML report shows it.
type reportEntry struct {
	When   string
	Kind   string
	Fields []reportField
	Note   string
}

type reportField struct{ Label, Value string }

type reportData struct {
	Title     string
	Generated string
	From, To  Day
	Chart     template.HTML
	Trends    TrendReport
	Checkins  []reportCheckin
	Measures  []MeasurePoint
	Entries   []reportEntry
	Crisis    string
}

type reportCheckin struct {
	When                         string
	Mood, Anxiety, Energy, Sleep string
}

// WriteHTMLReport writes a printable, self-contained HTML report of the
// entries: the chart, check-in and measure tables, and every entry in full.
// It loads nothing from elsewhere (no scripts, fonts or images). Pass
// ScoresOnly copies to make a report without any free text.
func WriteHTMLReport(w io.Writer, entries []*Entry, title string) error {
	var live []*Entry
	for _, e := range entries {
		if e != nil && !e.Created.IsZero() {
			live = append(live, e)
		}
	}
	slices.SortStableFunc(live, func(a, b *Entry) int { return a.Created.Compare(b.Created) })
	d := reportData{Title: title, Crisis: DefaultCrisisResources().Lookup(DefaultLocale).Message}
	if len(live) > 0 {
		first, last := live[0].Created, live[len(live)-1].Created
		d.Trends = Trends(live, first, last)
		d.From, d.To = d.Trends.From, d.Trends.To
		var svg bytes.Buffer
		writeSVG(&svg, d.Trends)
		// writeSVG escapes every piece of text it writes.
		d.Chart = template.HTML(svg.String())
	}
	checkins, _ := observations(live)
	opt := func(p *int) string {
		if p == nil {
			return "–"
		}
		return strconv.Itoa(*p)
	}
	for _, o := range checkins {
		c := reportCheckin{When: o.at.Format("2006-01-02 15:04"), Mood: opt(o.c.Mood), Anxiety: opt(o.c.Anxiety), Energy: opt(o.c.Energy), Sleep: "–"}
		if o.c.SleepHours != nil {
			c.Sleep = strconv.FormatFloat(*o.c.SleepHours, 'f', -1, 64)
		}
		d.Checkins = append(d.Checkins, c)
	}
	for _, s := range d.Trends.Measures {
		d.Measures = append(d.Measures, s.Points...)
	}
	slices.SortStableFunc(d.Measures, func(a, b MeasurePoint) int { return cmp.Compare(a.At.Unix(), b.At.Unix()) })
	for _, e := range live {
		re := reportEntry{When: e.Created.Format("2006-01-02 15:04 -07:00"), Kind: kindTitle(e.Kind)}
		if _, ok := e.Body.(*RawBody); ok {
			re.Note = "Written by a newer version of Interlude; its content is kept but not shown here."
		} else if !isNilBody(e.Body) {
			re.Fields = describe(reflect.ValueOf(e.Body).Elem(), "")
		}
		d.Entries = append(d.Entries, re)
	}
	return reportTemplate.Execute(w, d)
}

func kindTitle(kind string) string {
	if kind == KindCheckin {
		return "Check-in"
	}
	s := strings.ReplaceAll(kind, "_", " ")
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// describe lists the non-empty fields of a body struct as label and value.
func describe(v reflect.Value, prefix string) []reportField {
	var out []reportField
	for _, f := range infoFor(v.Type()).fields {
		fv := v.Field(f.index)
		if isEmptyValue(fv) {
			continue
		}
		label := prefix + humanise(f.name)
		if b, ok := fv.Interface().(Body); ok && f.kindKey != "" {
			if isNilBody(b) {
				continue
			}
			out = append(out, reportField{label, kindTitle(b.Kind())})
			if _, raw := b.(*RawBody); !raw {
				out = append(out, describe(reflect.ValueOf(b).Elem(), label+" · ")...)
			}
			continue
		}
		out = append(out, reportField{label, formatValue(fv)})
	}
	if m, ok := v.Addr().Interface().(*Measure); ok {
		if r, err := m.Score(); err == nil {
			out = append(out, reportField{prefix + "score", r.String()})
			if r.SafetyFlag {
				out = append(out, reportField{prefix + "item 9", "answered above “Not at all”"})
			}
		}
	}
	return out
}

// humanise turns "sleepHours" into "sleep hours".
func humanise(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func formatValue(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case Weekdays:
		return x.String()
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return formatValue(v.Elem())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(v.Index(i))
		}
		return strings.Join(parts, ", ")
	case reflect.Struct:
		// The first field names the item ("walk"); the rest qualify it
		// ("walk (helped: yes)").
		var head string
		var rest []string
		for i, f := range infoFor(v.Type()).fields {
			fv := v.Field(f.index)
			if i == 0 {
				head = formatValue(fv)
				continue
			}
			if !isEmptyValue(fv) {
				rest = append(rest, humanise(f.name)+": "+formatValue(fv))
			}
		}
		if len(rest) == 0 {
			return head
		}
		return head + " (" + strings.Join(rest, ", ") + ")"
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #111; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #999; padding-bottom: 0.2rem; margin-top: 2rem; }
.meta { color: #444; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.entry { border: 1px solid #ccc; border-radius: 4px; padding: 0.5rem 0.8rem; margin: 0.8rem 0; }
.entry h3 { font-size: 1rem; margin: 0 0 0.3rem; }
.entry dl { margin: 0; display: grid; grid-template-columns: 11rem 1fr; gap: 0.15rem 0.8rem; }
.entry dt { color: #444; }
.entry dd { margin: 0; white-space: pre-wrap; }
.flag { font-weight: bold; }
.chart svg { max-width: 100%; height: auto; }
.notice { border-left: 4px solid #555; padding-left: 0.8rem; color: #333; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  .entry, tr, .chart { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .From}}<p class="meta">Entries from {{.From}} to {{.To}}.</p>{{else}}<p class="meta">No entries.</p>{{end}}
<p class="notice">This report was made on the device from the entries chosen for it. Scores describe how things were; they are not a diagnosis. {{.Crisis}}</p>
{{if .Chart}}<h2>Mood, anxiety and measures</h2>
<div class="chart">{{.Chart}}</div>{{end}}
{{with .Checkins}}<h2>Check-ins</h2>
<table><thead><tr><th>When</th><th>Mood (0–10)</th><th>Anxiety (0–10)</th><th>Energy (0–10)</th><th>Sleep (hours)</th></tr></thead>
<tbody>{{range .}}<tr><td>{{.When}}</td><td>{{.Mood}}</td><td>{{.Anxiety}}</td><td>{{.Energy}}</td><td>{{.Sleep}}</td></tr>
{{end}}</tbody></table>
<p>Streaks: current {{$.Trends.Streaks.Current}}, longest {{$.Trends.Streaks.Longest}} days in a row.</p>{{end}}
{{with .Measures}}<h2>Measures</h2>
<table><thead><tr><th>Day</th><th>Measure</th><th>Score</th><th>Band</th><th>Item 9</th></tr></thead>
<tbody>{{range .}}<tr><td>{{.Day}}</td><td>{{.Result.Name}}</td><td>{{if .Result.HasPercent}}{{.Result.Percent}} % (raw {{.Result.Total}}/{{.Result.MaxTotal}}){{else}}{{.Result.Total}}/{{.Result.MaxTotal}}{{end}}</td><td>{{.Result.Band.Name}}</td><td>{{if .Result.SafetyFlag}}<span class="flag">above zero</span>{{else if eq .Result.Measure "phq9"}}0{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{with .Entries}}<h2>Entries</h2>
{{range .}}<section class="entry"><h3>{{.Kind}} <span class="meta">· {{.When}}</span></h3>
{{if .Note}}<p class="meta">{{.Note}}</p>{{end}}{{with .Fields}}<dl>{{range .}}<dt>{{.Label}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}
</section>
{{end}}{{end}}
</body>
</html>
`))
