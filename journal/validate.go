package journal

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every validation error: errors.Is(err, ErrInvalid)
// tells a bad value from a broken document.
var ErrInvalid = errors.New("invalid entry")

// ErrUnknownKind is wrapped when an entry's kind is not known to this version
// of the package (it was written by a newer client). Such entries are kept,
// byte for byte, but cannot be validated, shown as forms or summarised.
var ErrUnknownKind = errors.New("unknown entry kind")

// FieldError says which field is wrong and what is allowed. Validate returns
// one FieldError per problem, joined with errors.Join.
type FieldError struct {
	// Field is the path in the document, such as "body.mood" or
	// "body.coping[1].helped".
	Field string
	// Flag is the command-line flag the value came from, set by Build.
	Flag string
	// Problem says what is wrong and what is allowed: "is 11; allowed 0–10".
	Problem string
}

func (e *FieldError) Error() string {
	if e.Flag != "" {
		return "--" + e.Flag + ": " + e.Problem
	}
	return e.Field + ": " + e.Problem
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// FieldErrors returns every FieldError in err (as joined by Validate).
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *FieldError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// Limits on short and long text. Short labels (an emotion, a trigger, a tag)
// are one line; long text is anything a person might write in one sitting.
const (
	maxLabelRunes = 80
	maxTextRunes  = 100_000
	maxListItems  = 100
)

// checker collects field errors. In draft mode (a homework response still in
// progress) required fields may be missing, but values present must be valid.
type checker struct {
	prefix string
	draft  bool
	errs   []error
}

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Field: c.prefix + field, Problem: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error { return errors.Join(c.errs...) }

// sub returns a checker for a nested object whose errors land in c.
func (c *checker) sub(field string, draft bool) *checker {
	return &checker{prefix: c.prefix + field + ".", draft: draft}
}

func (c *checker) merge(s *checker) { c.errs = append(c.errs, s.errs...) }

func (c *checker) missing(field, want string) {
	if !c.draft {
		c.fail(field, "is required; %s", want)
	}
}

func rangeText(min, max int) string { return fmt.Sprintf("allowed %d–%d", min, max) }

func (c *checker) intRange(field string, v *int, min, max int, required bool) {
	if v == nil {
		if required {
			c.missing(field, "give a whole number, "+rangeText(min, max))
		}
		return
	}
	if *v < min || *v > max {
		c.fail(field, "is %d; %s", *v, rangeText(min, max))
	}
}

func (c *checker) intValue(field string, v, min, max int) {
	if v < min || v > max {
		c.fail(field, "is %d; %s", v, rangeText(min, max))
	}
}

func (c *checker) floatRange(field string, v *float64, min, max float64, required bool) {
	if v == nil {
		if required {
			c.missing(field, fmt.Sprintf("give a number, allowed %g–%g", min, max))
		}
		return
	}
	if math.IsNaN(*v) || *v < min || *v > max {
		c.fail(field, "is %g; allowed %g–%g", *v, min, max)
	}
}

// text checks free text: any length up to maxTextRunes, several lines allowed.
func (c *checker) text(field, s string, required bool) {
	if strings.TrimSpace(s) == "" {
		if required {
			c.missing(field, "write some text")
		}
		return
	}
	if !utf8.ValidString(s) {
		c.fail(field, "is not valid UTF-8 text")
		return
	}
	if n := utf8.RuneCountInString(s); n > maxTextRunes {
		c.fail(field, "is %d characters long; allowed up to %d", n, maxTextRunes)
	}
}

// label checks a short one-line name such as an emotion, trigger or tag.
func (c *checker) label(field, s string, required bool) {
	if strings.TrimSpace(s) == "" {
		if required {
			c.missing(field, fmt.Sprintf("write 1–%d characters on one line", maxLabelRunes))
		} else if s != "" {
			c.fail(field, "is blank; write 1–%d characters or leave it out", maxLabelRunes)
		}
		return
	}
	if !utf8.ValidString(s) {
		c.fail(field, "is not valid UTF-8 text")
		return
	}
	if strings.ContainsAny(s, "\r\n") {
		c.fail(field, "has a line break; keep it to one line")
	}
	if n := utf8.RuneCountInString(s); n > maxLabelRunes {
		c.fail(field, "is %d characters long; allowed 1–%d", n, maxLabelRunes)
	}
}

// labels checks a list of short labels.
func (c *checker) labels(field string, list []string, required bool) {
	if len(list) == 0 {
		if required {
			c.missing(field, "give at least one")
		}
		return
	}
	if len(list) > maxListItems {
		c.fail(field, "has %d items; allowed up to %d", len(list), maxListItems)
		return
	}
	for i, s := range list {
		c.label(fmt.Sprintf("%s[%d]", field, i), s, true)
	}
}

func (c *checker) oneOf(field, s string, allowed []string, required bool) {
	if s == "" {
		if required {
			c.missing(field, "one of "+strings.Join(allowed, ", "))
		}
		return
	}
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	c.fail(field, "is %q; allowed %s", s, strings.Join(allowed, ", "))
}

func (c *checker) day(field string, d Day, required bool) {
	if d == "" {
		if required {
			c.missing(field, "a date written YYYY-MM-DD")
		}
		return
	}
	if !d.Valid() {
		c.fail(field, "is %q; write a date as YYYY-MM-DD, like 2026-03-01", string(d))
	}
}

func (c *checker) clockText(field, s string, required bool) {
	if s == "" {
		if required {
			c.missing(field, "a time of day written HH:MM")
		}
		return
	}
	if _, err := parseClock(s); err != nil {
		c.fail(field, "is %q; write a time of day as HH:MM in 24-hour time, 00:00 to 23:59", s)
	}
}

func (c *checker) recordID(field, id string, required bool) {
	if id == "" {
		if required {
			c.missing(field, "the record ID (a 26-character ULID) of the linked entry")
		}
		return
	}
	if !isRecordID(id) {
		c.fail(field, "is %q; want a record ID, a 26-character ULID like 01HV5Z4S8XG3K7Q2M9N4P6R8TW", id)
	}
}

// isRecordID reports whether s is a ULID in Crockford base32 (either case).
func isRecordID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		switch {
		case ch >= '0' && ch <= '9':
		case ch >= 'A' && ch <= 'Z' && ch != 'I' && ch != 'L' && ch != 'O' && ch != 'U':
		default:
			return false
		}
	}
	return true
}
