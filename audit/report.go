package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Check names, as they appear in reports. They are part of the JSON format: never rename
// one, only add.
const (
	CheckControls   = "controls"
	CheckSchema     = "schema"
	CheckColumns    = "columns"
	CheckEnvelopes  = "envelopes"
	CheckSizes      = "sizes"
	CheckUniqueness = "uniqueness"
	CheckSignatures = "signatures"
	CheckTime       = "time"
	CheckCanaries   = "canaries"
	CheckPlaintext  = "plaintext"
	CheckLogs       = "logs"
)

// Statuses of a check.
const (
	StatusPass = "pass"
	StatusFail = "fail"
	StatusSkip = "skip" // nothing to check (no canaries given, no --logs)
)

// ReportFormat is the version of the JSON report. Fields are only ever added.
const ReportFormat = 1

// MaxFindings is the most findings a check lists; Check.FindingCount has the full count.
const MaxFindings = 200

// Report is the result of one audit run.
type Report struct {
	Format    int       `json:"format"`
	Tool      string    `json:"tool"`
	DataDir   string    `json:"data_dir"`
	LogsDir   string    `json:"logs_dir,omitempty"`
	Started   time.Time `json:"started"`
	Duration  float64   `json:"duration_seconds"`
	Snapshot  string    `json:"snapshot"` // how the files were read
	Files     []File    `json:"files"`
	Databases []string  `json:"databases"`
	Canaries  int       `json:"canaries"`
	Checks    []*Check  `json:"checks"`
	Pass      bool      `json:"pass"`
	Failed    []string  `json:"failed"` // "check" or "check[database]" of every failed check
}

// File is one file of the data or logs directory, as read.
type File struct {
	Path   string `json:"path"` // relative to its directory; "x.gz!" for the decompressed content
	Dir    string `json:"dir"`  // "data" or "logs"
	Size   int64  `json:"size"`
	Kind   string `json:"kind"` // database, wal, shm, journal, gzip, compressed, log, other
	SHA256 string `json:"sha256"`
}

// Check is the outcome of one check, on one database or on the whole directory.
type Check struct {
	Name         string    `json:"name"`
	Database     string    `json:"database,omitempty"` // for per-database checks
	Title        string    `json:"title"`
	Status       string    `json:"status"`
	Summary      string    `json:"summary"`
	Figures      *Figures  `json:"figures"`
	Findings     []Finding `json:"findings"`
	FindingCount int       `json:"finding_count"`
}

// Finding is one thing a check found wrong.
type Finding struct {
	File    string `json:"file,omitempty"`
	Offset  *int64 `json:"offset,omitempty"`
	Where   string `json:"where,omitempty"` // table.column[row key], or an encoding
	Message string `json:"message"`
}

// Label returns "name" or "name[database]".
func (c *Check) Label() string {
	if c.Database == "" {
		return c.Name
	}
	return c.Name + "[" + c.Database + "]"
}

func newCheck(name, database, title string) *Check {
	return &Check{Name: name, Database: database, Title: title, Status: StatusPass, Figures: &Figures{}, Findings: []Finding{}}
}

// fail records a finding and marks the check failed.
func (c *Check) fail(f Finding) {
	c.Status = StatusFail
	c.FindingCount++
	if len(c.Findings) < MaxFindings {
		c.Findings = append(c.Findings, f)
	}
}

func (c *Check) failf(where, format string, args ...any) {
	c.fail(Finding{Where: where, Message: fmt.Sprintf(format, args...)})
}

func (c *Check) skip(why string) {
	c.Status = StatusSkip
	c.Summary = why
}

// Figures are a check's numbers, kept in the order they were added (a JSON object).
type Figures struct {
	keys []string
	vals map[string]any
}

// Set adds or replaces a figure.
func (f *Figures) Set(key string, v any) {
	if f.vals == nil {
		f.vals = map[string]any{}
	}
	if _, ok := f.vals[key]; !ok {
		f.keys = append(f.keys, key)
	}
	f.vals[key] = v
}

// Get returns a figure, or nil.
func (f *Figures) Get(key string) any { return f.vals[key] }

// Keys returns the figure names in order.
func (f *Figures) Keys() []string { return f.keys }

// MarshalJSON writes the figures as one object, in insertion order.
func (f *Figures) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range f.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(f.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads figures back (order is that of the input).
func (f *Figures) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		f.Set(t.(string), v)
	}
	_, err := dec.Token()
	return err
}

// Check returns the first check with this name (and database, if not empty), or nil.
func (r *Report) Check(name, database string) *Check {
	for _, c := range r.Checks {
		if c.Name == name && (database == "" || c.Database == database) {
			return c
		}
	}
	return nil
}

// FailedChecks returns the names of the failed checks, each once, in report order.
func (r *Report) FailedChecks() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range r.Checks {
		if c.Status == StatusFail && !seen[c.Name] {
			seen[c.Name] = true
			out = append(out, c.Name)
		}
	}
	return out
}

func (r *Report) finish() {
	r.Pass = true
	r.Failed = []string{}
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			r.Pass = false
			r.Failed = append(r.Failed, c.Label())
		}
	}
}

// WriteJSON writes the report as indented JSON (docs/audit.md describes the format).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for people: one block per check, figures, then findings.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "interlude-audit: %s\n", r.DataDir)
	fmt.Fprintf(&b, "  %s\n", r.Snapshot)
	var total int64
	for _, f := range r.Files {
		total += f.Size
	}
	fmt.Fprintf(&b, "  %d files, %s; databases: %s; canaries: %d\n", len(r.Files), humanBytes(total),
		orNone(strings.Join(r.Databases, ", ")), r.Canaries)
	for _, f := range r.Files {
		fmt.Fprintf(&b, "    %-5s %-10s %10s  %s  sha256:%s…\n", f.Dir, f.Kind, humanBytes(f.Size), f.Path, f.SHA256[:16])
	}
	b.WriteString("\n")
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %s — %s\n", strings.ToUpper(c.Status), c.Label(), c.Title)
		if c.Summary != "" {
			fmt.Fprintf(&b, "      %s\n", c.Summary)
		}
		for _, k := range c.Figures.keys {
			fmt.Fprintf(&b, "      %s: %s\n", k, figureText(c.Figures.vals[k]))
		}
		for _, f := range c.Findings {
			b.WriteString("      ✗ ")
			if f.File != "" {
				b.WriteString(f.File)
				if f.Offset != nil {
					fmt.Fprintf(&b, " @%d", *f.Offset)
				}
				b.WriteString(": ")
			}
			if f.Where != "" {
				b.WriteString(f.Where + ": ")
			}
			b.WriteString(f.Message + "\n")
		}
		if c.FindingCount > len(c.Findings) {
			fmt.Fprintf(&b, "      … and %d more\n", c.FindingCount-len(c.Findings))
		}
	}
	b.WriteString("\n")
	if r.Pass {
		fmt.Fprintf(&b, "RESULT: PASS (%d checks, %.1fs)\n", len(r.Checks), r.Duration)
	} else {
		fmt.Fprintf(&b, "RESULT: FAIL: %s\n", strings.Join(r.Failed, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func figureText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return floatText(x)
	case []string:
		return strings.Join(x, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func floatText(x float64) string {
	switch {
	case x == math.Trunc(x) && math.Abs(x) < 1e15:
		return fmt.Sprintf("%.0f", x)
	case x != 0 && math.Abs(x) < 0.01:
		return fmt.Sprintf("%.2g", x)
	}
	return fmt.Sprintf("%.1f", x)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func ptr[T any](v T) *T { return &v }
