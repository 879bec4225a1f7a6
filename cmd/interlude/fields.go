package main

// The glue between command-line flags and journal documents: flags generated from
// journal.Kinds() field specs, reading long text from stdin, prompting for missing
// required fields, partial edits that keep everything not named, and compact rendering.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"interlude/journal"
	"interlude/syncproto"
)

// fieldSet is the field flags registered on a flag set.
type fieldSet struct {
	fs     *flag.FlagSet
	values map[string]*string
}

// addFieldFlags registers a string flag for every field of the specs (skipping flags
// already defined).
func addFieldFlags(fs *flag.FlagSet, specs ...journal.KindSpec) *fieldSet {
	f := &fieldSet{fs: fs, values: map[string]*string{}}
	for _, spec := range specs {
		for _, fl := range spec.Fields {
			if fs.Lookup(fl.Flag) != nil {
				continue
			}
			f.values[fl.Flag] = fs.String(fl.Flag, "", fieldHelp(fl))
		}
	}
	return f
}

// allFieldFlags registers the flags of every kind (for commands that learn the kind only
// after reading the entry).
func allFieldFlags(fs *flag.FlagSet) *fieldSet {
	return addFieldFlags(fs, journal.Kinds()...)
}

func fieldHelp(f journal.FieldSpec) string {
	h := f.Help
	if h == "" {
		h = f.Name
	}
	var extra []string
	if f.Required {
		extra = append(extra, "required")
	}
	extra = append(extra, f.Type.String())
	if f.Min != 0 || f.Max != 0 {
		extra = append(extra, fmt.Sprintf("%d–%d", f.Min, f.Max))
	}
	if len(f.Choices) > 0 {
		extra = append(extra, "one of "+strings.Join(f.Choices, ", "))
	}
	if f.Format != "" {
		extra = append(extra, "items like "+f.Format+", comma-separated")
	}
	if f.Type == journal.Text {
		extra = append(extra, `"-" reads it from stdin`)
	}
	return h + " (" + strings.Join(extra, "; ") + ")"
}

// given returns the field flags set on the command line (an empty value included: in an
// edit it clears the field).
func (f *fieldSet) given() map[string]string {
	out := map[string]string{}
	f.fs.Visit(func(fl *flag.Flag) {
		if v, ok := f.values[fl.Name]; ok {
			out[fl.Name] = *v
		}
	})
	return out
}

// specsFor returns the kind's spec and, for a response, the answer kind's.
func specsFor(kind, answerKind string) ([]journal.KindSpec, error) {
	spec, ok := journal.Spec(kind)
	if !ok {
		return nil, fmt.Errorf("unknown kind %q; the kinds are: %s", kind, kindNames())
	}
	specs := []journal.KindSpec{spec}
	if answerKind != "" {
		as, ok := journal.Spec(answerKind)
		if !ok {
			return nil, fmt.Errorf("unknown answer kind %q", answerKind)
		}
		specs = append(specs, as)
	}
	return specs, nil
}

func kindNames() string {
	var names []string
	for _, k := range journal.Kinds() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

func findField(specs []journal.KindSpec, flagName string) (journal.FieldSpec, int, bool) {
	for i, s := range specs {
		if f, ok := s.Field(flagName); ok {
			return f, i, true
		}
	}
	return journal.FieldSpec{}, 0, false
}

// checkGiven refuses field flags that the entry's kind does not have.
func checkGiven(specs []journal.KindSpec, given map[string]string) error {
	for _, name := range sortedKeys(given) {
		if _, _, ok := findField(specs, name); !ok {
			var flags []string
			for _, s := range specs {
				for _, f := range s.Fields {
					flags = append(flags, "--"+f.Flag)
				}
			}
			return usageErr("--%s is not a field of a %s entry; it has %s", name, specs[0].Name, strings.Join(flags, ", "))
		}
	}
	return nil
}

// fillText reads "-" values of text fields from stdin, and, when stdin is not a terminal,
// a missing required text field too (`echo "..." | interlude add journal`).
func (c *cli) fillText(specs []journal.KindSpec, values map[string]string, allowMissing bool) error {
	_, isTerm := c.terminal()
	readStdin := func() (string, error) {
		b, err := io.ReadAll(c.stdin)
		if err != nil {
			return "", fmt.Errorf("read stdin: %w", err)
		}
		return strings.TrimRight(string(b), "\n"), nil
	}
	used := false
	for _, s := range specs {
		for _, f := range s.Fields {
			if f.Type != journal.Text {
				continue
			}
			v, ok := values[f.Flag]
			switch {
			case ok && v == "-":
				if used {
					return usageErr("only one field can be read from stdin")
				}
				t, err := readStdin()
				if err != nil {
					return err
				}
				values[f.Flag], used = t, true
			case !ok && f.Required && allowMissing && !isTerm && !used && c.stdin != nil:
				t, err := readStdin()
				if err != nil {
					return err
				}
				used = true
				if t != "" {
					values[f.Flag] = t
				}
			}
		}
	}
	return nil
}

// promptMissing asks, on a terminal, for required fields not given.
func (c *cli) promptMissing(specs []journal.KindSpec, values map[string]string) error {
	if _, ok := c.terminal(); !ok {
		return nil
	}
	lr := c.lines()
	for _, s := range specs {
		for _, f := range s.Fields {
			if !f.Required || strings.TrimSpace(values[f.Flag]) != "" || f.Flag == "answer-kind" {
				continue
			}
			hint := f.Help
			switch {
			case len(f.Choices) > 0 && f.Type == journal.Choice:
				hint += " [" + strings.Join(f.Choices, "|") + "]"
			case f.Min != 0 || f.Max != 0:
				hint += fmt.Sprintf(" [%d–%d]", f.Min, f.Max)
			}
			v, err := lr.ask(c.stderr, fmt.Sprintf("%s — %s\n> ", f.Flag, strings.TrimSpace(hint)))
			if err != nil {
				return err
			}
			values[f.Flag] = v
		}
	}
	return nil
}

// buildErr turns journal.Build's field errors into one message naming the flags.
func buildErr(err error) error {
	fes := journal.FieldErrors(err)
	if len(fes) == 0 {
		return usageErr("%v", err)
	}
	var lines []string
	for _, fe := range fes {
		name := fe.Field
		if fe.Flag != "" {
			name = "--" + fe.Flag
		}
		lines = append(lines, fmt.Sprintf("%s: %s", name, fe.Problem))
	}
	return usageErr("%s", strings.Join(lines, "\n  "))
}

// answerKindArg finds --answer-kind in raw arguments, so that a response's answer flags
// can be registered before parsing.
func answerKindArg(args []string) string {
	for i, a := range args {
		for _, p := range []string{"--answer-kind=", "-answer-kind="} {
			if v, ok := strings.CutPrefix(a, p); ok {
				return v
			}
		}
		if (a == "--answer-kind" || a == "-answer-kind") && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// recordIDArg finds the first argument that is a record ID.
func recordIDArg(args []string) (syncproto.RecordID, bool) {
	for _, a := range args {
		if len(a) == 26 {
			if id, err := syncproto.ParseRecordID(a); err == nil {
				return id, true
			}
		}
	}
	return syncproto.RecordID{}, false
}

// doc is a journal document split into its members, for edits that must keep every byte
// of what they do not touch.
type doc struct {
	top   map[string]json.RawMessage
	body  map[string]json.RawMessage
	links map[string]json.RawMessage
}

func splitDoc(b []byte) (*doc, error) {
	d := &doc{}
	if err := json.Unmarshal(b, &d.top); err != nil {
		return nil, fmt.Errorf("entry is not a JSON document: %w", err)
	}
	d.body, d.links = map[string]json.RawMessage{}, map[string]json.RawMessage{}
	if raw, ok := d.top["body"]; ok {
		if err := json.Unmarshal(raw, &d.body); err != nil {
			return nil, fmt.Errorf("entry body: %w", err)
		}
	}
	if raw, ok := d.top["links"]; ok {
		if err := json.Unmarshal(raw, &d.links); err != nil {
			return nil, fmt.Errorf("entry links: %w", err)
		}
	}
	return d, nil
}

func (d *doc) str(m map[string]json.RawMessage, name string) string {
	var s string
	json.Unmarshal(m[name], &s)
	return s
}

// kindOf returns the entry's kind and, for a response, its answer kind.
func (d *doc) kindOf() (string, string) {
	kind := d.str(d.top, "kind")
	if kind == journal.KindResponse {
		return kind, d.str(d.body, "answerKind")
	}
	return kind, ""
}

// member returns the map and member name a field lives in: body, links, or a response's
// answer.
func (d *doc) member(f journal.FieldSpec, specIndex int) (map[string]json.RawMessage, string, error) {
	if name, ok := strings.CutPrefix(f.Name, "links."); ok {
		return d.links, name, nil
	}
	if specIndex == 0 {
		return d.body, f.Name, nil
	}
	answer := map[string]json.RawMessage{}
	if raw, ok := d.body["answer"]; ok {
		if err := json.Unmarshal(raw, &answer); err != nil {
			return nil, "", err
		}
	}
	return answer, f.Name, nil
}

func (d *doc) setAnswer(answer map[string]json.RawMessage) error {
	b, err := json.Marshal(answer)
	if err != nil {
		return err
	}
	d.body["answer"] = b
	return nil
}

func (d *doc) join() ([]byte, error) {
	b, err := json.Marshal(d.body)
	if err != nil {
		return nil, err
	}
	d.top["body"] = b
	if len(d.links) > 0 {
		if d.top["links"], err = json.Marshal(d.links); err != nil {
			return nil, err
		}
	} else {
		delete(d.top, "links")
	}
	return json.Marshal(d.top)
}

// flagValue renders a document value in flag syntax, for the simple types; ok is false
// for structured values.
func flagValue(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return string(raw), true
	case bool:
		return strconv.FormatBool(x), true
	case []any:
		var items []string
		for _, it := range x {
			switch y := it.(type) {
			case string:
				items = append(items, strings.ReplaceAll(y, ",", `\,`))
			case float64:
				items = append(items, strconv.FormatFloat(y, 'f', -1, 64))
			default:
				return "", false
			}
		}
		return strings.Join(items, ","), true
	}
	return "", false
}

// placeholder is a valid-looking value for a required field, used only so that Build can
// encode the fields an edit names; its own encoding is thrown away.
func placeholder(f journal.FieldSpec, now time.Time) string {
	switch f.Type {
	case journal.Int, journal.Float:
		return strconv.Itoa(f.Min)
	case journal.Choice:
		if len(f.Choices) > 0 {
			return f.Choices[0]
		}
	case journal.Date:
		return now.Format("2006-01-02")
	case journal.Ref:
		return syncproto.NewRecordID(now).String()
	case journal.Bool:
		return "false"
	case journal.List:
		item := "x"
		if len(f.Suggestions) > 0 {
			item = f.Suggestions[0]
		}
		if strings.Contains(f.Format, ":0-") {
			item += ":" + strconv.Itoa(f.Min)
		}
		return item
	}
	return "x"
}

// applyFields changes the named fields of an entry document and keeps every other member
// (unknown ones from newer clients included) as it was. Given an empty value, a field is
// removed. The result is validated and marked updated at now.
//
// journal has no "apply these flags to an entry" call, so this asks journal.Build to
// encode the named fields (filling the other required ones from the entry itself, or
// with placeholders whose encoding is discarded) and splices those members in.
func applyFields(old []byte, given map[string]string, now time.Time) ([]byte, error) {
	d, err := splitDoc(old)
	if err != nil {
		return nil, err
	}
	kind, answerKind := d.kindOf()
	specs, err := specsFor(kind, answerKind)
	if err != nil {
		return nil, err
	}
	if err := checkGiven(specs, given); err != nil {
		return nil, err
	}
	if v, ok := given["answer-kind"]; ok && v != answerKind {
		return nil, usageErr("the answer kind of a response cannot change; write a new response instead")
	}
	if len(given) > 0 {
		values := map[string]string{}
		for k, v := range given {
			values[k] = v
		}
		if answerKind != "" {
			values["answer-kind"] = answerKind
		}
		for i, s := range specs {
			for _, f := range s.Fields {
				if _, ok := values[f.Flag]; ok || !f.Required {
					continue
				}
				m, name, err := d.member(f, i)
				if err != nil {
					return nil, err
				}
				if v, ok := flagValue(m[name]); ok {
					values[f.Flag] = v
				} else {
					values[f.Flag] = placeholder(f, now)
				}
			}
		}
		built, err := journal.Build(specs[0].Name, values)
		if err != nil {
			return nil, buildErr(err)
		}
		built.Touch(now)
		nb, err := journal.Marshal(built)
		if err != nil {
			return nil, err
		}
		nd, err := splitDoc(nb)
		if err != nil {
			return nil, err
		}
		for _, flagName := range sortedKeys(given) {
			if flagName == "answer-kind" {
				continue
			}
			f, i, _ := findField(specs, flagName)
			dst, name, err := d.member(f, i)
			if err != nil {
				return nil, err
			}
			src, _, err := nd.member(f, i)
			if err != nil {
				return nil, err
			}
			if raw, ok := src[name]; ok && given[flagName] != "" {
				dst[name] = raw
			} else {
				delete(dst, name)
			}
			if i > 0 && !strings.HasPrefix(f.Name, "links.") {
				if err := d.setAnswer(dst); err != nil {
					return nil, err
				}
			}
		}
	}
	joined, err := d.join()
	if err != nil {
		return nil, err
	}
	e, err := journal.Unmarshal(joined)
	if err != nil {
		return nil, err
	}
	e.Touch(now)
	if err := e.Validate(); err != nil {
		return nil, buildErr(err)
	}
	return journal.Marshal(e)
}

// render formats a document value for people: lists joined with ", ", the parts of an
// item (a skill and whether it helped) joined with ":", in the order they were written.
func render(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	s, err := renderNext(dec)
	if err != nil {
		return string(raw)
	}
	return s
}

func renderNext(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	switch v := t.(type) {
	case json.Delim:
		sep := ", "
		if v == '{' {
			sep = ":"
		}
		var parts []string
		for dec.More() {
			if v == '{' {
				if _, err := dec.Token(); err != nil { // the member name
					return "", err
				}
			}
			p, err := renderNext(dec)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return "", err
		}
		return strings.Join(parts, sep), nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "yes", nil
		}
		return "no", nil
	}
	return "", nil
}

// entryView is what list and show say about one entry.
type entryView struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Day      string          `json:"day"`
	Created  string          `json:"created,omitempty"`
	Updated  string          `json:"updated,omitempty"`
	Revision uint64          `json:"revision"`
	Synced   bool            `json:"synced"`
	Conflict bool            `json:"conflict"`
	Entry    json.RawMessage `json:"entry,omitempty"`
	Text     string          `json:"text,omitempty"` // when the plaintext is not a journal document

	// Sharing: who shared it with me (From, with the share's end), or with whom I share it.
	From       string   `json:"from,omitempty"`
	Level      string   `json:"level,omitempty"`  // "scores" or "status" for a partial copy
	Source     string   `json:"source,omitempty"` // the entry a partial copy was made from
	Expires    string   `json:"expires,omitempty"`
	SharedWith []string `json:"shared_with,omitempty"`

	doc     *doc
	created time.Time
}

func view(id syncproto.RecordID, revision uint64, synced, conflict bool, pt []byte) *entryView {
	v := &entryView{ID: id.String(), Revision: revision, Synced: synced, Conflict: conflict, Day: id.Day().Format("2006-01-02")}
	e, err := journal.Unmarshal(pt)
	if err != nil {
		v.Kind, v.Text = "?", string(pt)
		return v
	}
	v.Kind, v.Entry = e.Kind, json.RawMessage(pt)
	v.created = e.Created
	if !e.Created.IsZero() {
		v.Day = string(e.Day())
		v.Created = e.Created.Format(time.RFC3339)
	}
	if !e.Updated.IsZero() {
		v.Updated = e.Updated.Format(time.RFC3339)
	}
	v.doc, _ = splitDoc(pt)
	return v
}

// fields returns the entry's fields in spec order as (flag, rendered value), then members
// this version does not know.
func (v *entryView) fields() [][2]string {
	if v.doc == nil {
		return nil
	}
	kind, answerKind := v.doc.kindOf()
	specs, err := specsFor(kind, answerKind)
	if err != nil {
		var out [][2]string
		for _, k := range sortedKeys(v.doc.body) {
			out = append(out, [2]string{k, render(v.doc.body[k])})
		}
		return out
	}
	var out [][2]string
	seen := map[string]bool{"answer": true, "answerKind": answerKind != ""}
	for i, s := range specs {
		for _, f := range s.Fields {
			m, name, err := v.doc.member(f, i)
			if err != nil {
				continue
			}
			if i == 0 && !strings.HasPrefix(f.Name, "links.") {
				seen[name] = true
			}
			if raw, ok := m[name]; ok {
				if r := render(raw); r != "" {
					out = append(out, [2]string{f.Flag, r})
				}
			}
		}
	}
	for _, k := range sortedKeys(v.doc.body) {
		if !seen[k] {
			out = append(out, [2]string{k, render(v.doc.body[k])})
		}
	}
	return out
}

// preview is a one-line summary for lists.
func (v *entryView) preview() string {
	if v.doc == nil {
		return trim(v.Text, 60)
	}
	var head, rest []string
	for _, f := range v.fields() {
		if slices.Contains([]string{"title", "text", "answer", "situation", "prediction", "practice", "value"}, f[0]) {
			head = append(head, f[1])
			continue
		}
		rest = append(rest, f[0]+" "+f[1])
	}
	return trim(strings.Join(append(head, rest...), " · "), 60)
}

func (v *entryView) flags() string {
	var f []string
	if !v.Synced {
		f = append(f, "unsynced")
	}
	if v.From != "" {
		f = append(f, "from "+v.From)
	}
	switch v.Level {
	case "scores":
		f = append(f, "scores only")
	case "status":
		f = append(f, "status only")
	}
	if len(v.SharedWith) > 0 {
		f = append(f, "shared with "+strings.Join(v.SharedWith, ", "))
	}
	if v.Conflict {
		f = append(f, "CONFLICT")
	}
	if len(f) == 0 {
		return ""
	}
	return " [" + strings.Join(f, ", ") + "]"
}

var errNoID = errors.New("give the entry's ID (from `interlude list`)")
