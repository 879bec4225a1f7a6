package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Version is the document format version this package reads and writes, the
// "v" member of every entry. It changes only if the top-level layout changes
// incompatibly. Fields added by a newer client keep version 1 and survive
// edits by older clients (see UnknownFields); a body whose meaning changes
// incompatibly gets a new kind name instead.
const Version = 1

// ErrNewerVersion is returned by Unmarshal for a document whose "v" is
// greater than Version: a newer Interlude wrote it and this one cannot safely
// edit it. Keep the envelope as it is and ask the user to update.
var ErrNewerVersion = errors.New("entry written by a newer version of Interlude")

// Entry is one journal entry, homework item, measure or message: the
// plaintext inside an encrypted envelope. See the package documentation for
// its JSON form.
type Entry struct {
	// ID is the record ID of the envelope that holds the entry. It is not
	// part of the document: the caller fills it in after opening the envelope
	// so that links between entries (a response to its assignment) can be
	// followed. Marshal ignores it.
	ID string
	// Kind names the body's kind, such as "checkin". Marshal fills it from
	// Body when empty.
	Kind string
	// Created is when the entry was first written, in the user's local time
	// and offset. Required.
	Created time.Time
	// Updated is when it was last changed; zero if never.
	Updated time.Time
	// Links point at other records by record ID.
	Links Links
	// Body is the kind-specific content: one of the types listed in Kinds,
	// or *RawBody for a kind this version does not know.
	Body Body
	// Unknown holds top-level members written by a newer client.
	Unknown UnknownFields
}

// Links connect an entry to other records. Each is a record ID (a ULID).
type Links struct {
	// Prompt is the clinician's prompt or assignment record a prompted entry answers.
	Prompt string `json:"prompt,omitempty"`
	// Assignment is the assignment a response belongs to.
	Assignment string `json:"assignment,omitempty"`
	// ReplyTo is the message a message replies to.
	ReplyTo string        `json:"replyTo,omitempty"`
	Unknown UnknownFields `json:"-"`
}

// Body is the kind-specific part of an entry. The implementations are the
// body types of this package (*Checkin, *Measure, ...) and *RawBody.
type Body interface {
	// Kind returns the kind name written in the document, such as "checkin".
	Kind() string
	// check validates the body; the unexported method also keeps the set
	// of bodies closed, so that every body round-trips through the codec.
	check(c *checker)
}

// RawBody is the body of an entry whose kind this version does not know. Its
// JSON is kept exactly as read and written back unchanged.
type RawBody struct {
	KindName string
	JSON     json.RawMessage
}

// Kind returns the kind name as read from the document.
func (b *RawBody) Kind() string { return b.KindName }

func (b *RawBody) check(c *checker) {}

// New returns an entry holding body, created and updated at now.
func New(body Body, now time.Time) *Entry {
	return &Entry{Kind: body.Kind(), Created: now, Updated: now, Body: body}
}

// Touch records an edit at now: it sets Updated, and Created if it is unset.
func (e *Entry) Touch(now time.Time) {
	if e.Created.IsZero() {
		e.Created = now
	}
	e.Updated = now
}

// Day returns the user's local calendar day on which the entry was created.
func (e *Entry) Day() Day { return DayOf(e.Created) }

// top-level member names, in the order Marshal writes them.
var topLevel = map[string]bool{"v": true, "kind": true, "created": true, "updated": true, "links": true, "body": true}

// Marshal encodes e as its JSON document. It does not validate (call
// Validate for that), so that an entry holding values only a newer client
// understands can still be saved; it fails only when e cannot be encoded.
func Marshal(e *Entry) ([]byte, error) {
	if e == nil {
		return nil, errors.New("marshal entry: entry is nil")
	}
	if isNilBody(e.Body) {
		return nil, errors.New("marshal entry: Body is nil; set it to a body such as &journal.Checkin{...}")
	}
	kind := e.Kind
	if kind == "" {
		kind = e.Body.Kind()
	}
	if kind != e.Body.Kind() {
		return nil, fmt.Errorf("marshal entry: Kind is %q but Body is a %q body; make them agree", kind, e.Body.Kind())
	}
	var buf bytes.Buffer
	buf.WriteString(`{"v":1,"kind":`)
	writeString(&buf, kind)
	if !e.Created.IsZero() {
		buf.WriteString(`,"created":`)
		writeString(&buf, e.Created.Format(time.RFC3339Nano))
	}
	if !e.Updated.IsZero() {
		buf.WriteString(`,"updated":`)
		writeString(&buf, e.Updated.Format(time.RFC3339Nano))
	}
	if !isEmptyValue(reflect.ValueOf(e.Links)) {
		buf.WriteString(`,"links":`)
		if err := encodeObject(&buf, reflect.ValueOf(e.Links)); err != nil {
			return nil, fmt.Errorf("marshal entry: links: %w", err)
		}
	}
	if raw, ok := e.Body.(*RawBody); !ok || len(raw.JSON) > 0 {
		buf.WriteString(`,"body":`)
		if err := encodeBody(&buf, e.Body); err != nil {
			return nil, fmt.Errorf("marshal entry: body: %w", err)
		}
	}
	member := func(name string) {
		buf.WriteByte(',')
		writeString(&buf, name)
		buf.WriteByte(':')
	}
	if err := writeUnknown(&buf, e.Unknown, topLevel, member); err != nil {
		return nil, fmt.Errorf("marshal entry: %w", err)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Unmarshal decodes an entry document. It checks the structure (JSON types,
// version, timestamps) but not the values; call Validate for those. Members
// it does not know, at the top level or in the body, are kept in Unknown; a
// body of an unknown kind is kept as a *RawBody.
func Unmarshal(b []byte) (*Entry, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, fmt.Errorf("unmarshal entry: not a JSON object (%s)", preview(b))
	}
	rawV, ok := m["v"]
	if !ok {
		return nil, errors.New(`unmarshal entry: "v" is missing; every entry document starts with {"v":1`)
	}
	var v int
	if err := json.Unmarshal(rawV, &v); err != nil || v < 1 {
		return nil, fmt.Errorf("unmarshal entry: v: want the format version 1, got %s", preview(rawV))
	}
	if v > Version {
		return nil, fmt.Errorf("unmarshal entry: format version %d: %w (this one reads version %d); update Interlude to open it", v, ErrNewerVersion, Version)
	}
	e := &Entry{}
	if err := json.Unmarshal(m["kind"], &e.Kind); err != nil || e.Kind == "" {
		return nil, fmt.Errorf("unmarshal entry: kind: want the entry kind as text, like \"checkin\", got %s", preview(m["kind"]))
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"created", &e.Created}, {"updated", &e.Updated}} {
		raw, ok := m[t.name]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("unmarshal entry: %s: want an RFC 3339 time with offset as text, got %s", t.name, preview(raw))
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("unmarshal entry: %s: %q is not an RFC 3339 time with offset, like 2026-03-01T09:30:00-05:00", t.name, s)
		}
		*t.dst = ts
	}
	if err := decodeObject(m["links"], reflect.ValueOf(&e.Links).Elem(), "links"); err != nil {
		return nil, fmt.Errorf("unmarshal entry: %w", err)
	}
	body, err := decodeBody(e.Kind, m["body"], "body")
	if err != nil {
		return nil, fmt.Errorf("unmarshal entry: %w", err)
	}
	e.Body = body
	for name := range topLevel {
		delete(m, name)
	}
	if len(m) > 0 {
		e.Unknown = UnknownFields(m)
	}
	return e, nil
}

// Validate checks every field against its allowed values and returns one
// *FieldError per problem, joined (see FieldErrors). An entry of a kind this
// version does not know fails with an error wrapping ErrUnknownKind.
func (e *Entry) Validate() error {
	c := &checker{}
	if e.Kind == "" {
		c.fail("kind", "is required; one of %s", kindList())
	}
	if e.Created.IsZero() {
		c.fail("created", "is required; the local time the entry was written, with its offset")
	}
	c.recordID("links.prompt", e.Links.Prompt, false)
	c.recordID("links.assignment", e.Links.Assignment, false)
	c.recordID("links.replyTo", e.Links.ReplyTo, false)
	switch body := e.Body.(type) {
	case nil:
		c.fail("body", "is required")
	case *RawBody:
		c.errs = append(c.errs, fmt.Errorf("kind %q: %w to this version; it is kept unchanged, update Interlude to view or edit it", body.KindName, ErrUnknownKind))
	default:
		if e.Kind != "" && e.Kind != body.Kind() {
			c.fail("kind", "is %q but the body is a %q body", e.Kind, body.Kind())
		}
		if isNilBody(body) {
			c.fail("body", "is required")
			break
		}
		if _, ok := body.(*Response); ok && e.Links.Assignment == "" {
			c.fail("links.assignment", "is required for a response; the record ID of the assignment it answers")
		}
		s := c.sub("body", false)
		body.check(s)
		c.merge(s)
	}
	return c.err()
}

// isNilBody reports whether b is nil or a nil pointer.
func isNilBody(b Body) bool {
	if b == nil {
		return true
	}
	v := reflect.ValueOf(b)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
