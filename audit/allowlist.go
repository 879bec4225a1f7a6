package audit

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Column classes: what the server may know. Each allow-listed column declares one.
const (
	ClassRandomID   = "random-id"
	ClassPublicKey  = "public-key"
	ClassWrappedKey = "wrapped-key"
	ClassOpaqueBlob = "opaque-blob"
	ClassHash       = "hash"
	ClassSeq        = "seq"
	ClassFlag       = "flag"
	ClassCoarseTime = "coarse-time"
	ClassClientTime = "client-time"
	ClassTableName  = "table-name"
)

// Value formats: which published byte format a column's values must parse as, or how a
// value is checked beyond its class.
const (
	FormatAccountID        = "account-id"
	FormatDeviceID         = "device-id"
	FormatRecordID         = "record-id"
	FormatFingerprint      = "fingerprint"
	FormatEd25519Public    = "ed25519-public"
	FormatTokenHash        = "token-hash"
	FormatEnvelopeHash     = "envelope-hash"
	FormatKDFParams        = "kdf-params"
	FormatKeybagPassphrase = "keybag-passphrase"
	FormatKeybagRecovery   = "keybag-recovery"
	FormatPublicBundle     = "public-bundle"
	FormatDeviceLabel      = "device-label"
	FormatOwnerKey         = "owner-key"
	FormatEnvelope         = "envelope"
	FormatGrant            = "grant"
)

var classes = []string{ClassRandomID, ClassPublicKey, ClassWrappedKey, ClassOpaqueBlob, ClassHash,
	ClassSeq, ClassFlag, ClassCoarseTime, ClassClientTime, ClassTableName}

var formats = []string{FormatAccountID, FormatDeviceID, FormatRecordID, FormatFingerprint,
	FormatEd25519Public, FormatTokenHash, FormatEnvelopeHash, FormatKDFParams, FormatKeybagPassphrase,
	FormatKeybagRecovery, FormatPublicBundle, FormatDeviceLabel, FormatOwnerKey, FormatEnvelope, FormatGrant}

// units of coarse-time columns, in seconds.
var units = map[string]int64{"minute": 60, "hour": 3600, "day": 86400}

//go:embed allowlist.txt
var allowlistText string

// Allowlist is the parsed allow-list: the tables, columns and indexes the server's
// database may hold, and the class of every column.
type Allowlist struct {
	Tables  []*TableSpec
	Indexes []*IndexSpec
}

// TableSpec is one allowed table.
type TableSpec struct {
	Name         string
	Strict       bool
	WithoutRowid bool
	Columns      []*ColumnSpec
}

// ColumnSpec is one allowed column and its class.
type ColumnSpec struct {
	Table   string
	Name    string
	Type    string // declared type; "" for none
	NotNull bool
	PK      int     // position in the primary key, 0 if not part of it
	Default *string // declared default, nil for none
	Class   string
	Format  string // "" when the class says it all
	Unit    string // coarse-time only: minute, hour or day
}

// UnitSeconds returns the coarse-time unit in seconds (0 for other classes).
func (c *ColumnSpec) UnitSeconds() int64 { return units[c.Unit] }

// IndexSpec is one allowed index.
type IndexSpec struct {
	Name    string
	Table   string
	Unique  bool
	Columns []string
	Where   string // partial index condition, whitespace-normalised; "" for none
}

// DefaultAllowlist returns the allow-list embedded in the binary.
func DefaultAllowlist() *Allowlist { return mustParseAllowlist(allowlistText) }

func mustParseAllowlist(s string) *Allowlist {
	a, err := ParseAllowlist(s)
	if err != nil {
		panic(err)
	}
	return a
}

// Table returns the spec of a table, or nil.
func (a *Allowlist) Table(name string) *TableSpec {
	for _, t := range a.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Index returns the spec of an index, or nil.
func (a *Allowlist) Index(name string) *IndexSpec {
	for _, x := range a.Indexes {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Column returns the spec of a column, or nil.
func (t *TableSpec) Column(name string) *ColumnSpec {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// ColumnsOf returns every allowed column of the given format, across tables.
func (a *Allowlist) ColumnsOf(format string) []*ColumnSpec {
	var out []*ColumnSpec
	for _, t := range a.Tables {
		for _, c := range t.Columns {
			if c.Format == format {
				out = append(out, c)
			}
		}
	}
	return out
}

// ParseAllowlist parses the allow-list format documented at the top of allowlist.txt.
func ParseAllowlist(s string) (*Allowlist, error) {
	a := &Allowlist{}
	var cur *TableSpec
	for i, line := range strings.Split(s, "\n") {
		if j := strings.Index(line, "#"); j >= 0 && !strings.Contains(line[:j], `"`) {
			line = line[:j]
		}
		fields, err := splitFields(line)
		if err != nil {
			return nil, fmt.Errorf("allow-list line %d: %w", i+1, err)
		}
		if len(fields) == 0 {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("allow-list line %d: %s", i+1, fmt.Sprintf(format, args...))
		}
		switch fields[0] {
		case "table":
			if len(fields) < 2 {
				return nil, fail("table without a name")
			}
			cur = &TableSpec{Name: fields[1]}
			for _, f := range fields[2:] {
				switch f {
				case "strict":
					cur.Strict = true
				case "without-rowid":
					cur.WithoutRowid = true
				default:
					return nil, fail("unknown table option %q", f)
				}
			}
			if a.Table(cur.Name) != nil {
				return nil, fail("table %s listed twice", cur.Name)
			}
			a.Tables = append(a.Tables, cur)
		case "column":
			if cur == nil {
				return nil, fail("column before any table")
			}
			if len(fields) < 4 {
				return nil, fail("column needs NAME TYPE notnull|null class=...")
			}
			c := &ColumnSpec{Table: cur.Name, Name: fields[1], Type: fields[2]}
			if c.Type == "-" {
				c.Type = ""
			}
			switch fields[3] {
			case "notnull":
				c.NotNull = true
			case "null":
			default:
				return nil, fail("column %s: want notnull or null, not %q", c.Name, fields[3])
			}
			for _, f := range fields[4:] {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "pk":
					n, err := strconv.Atoi(v)
					if err != nil || n < 1 {
						return nil, fail("column %s: bad pk=%q", c.Name, v)
					}
					c.PK = n
				case "default":
					c.Default = &v
				case "class":
					c.Class = v
				case "format":
					c.Format = v
				case "unit":
					c.Unit = v
				default:
					return nil, fail("column %s: unknown attribute %q", c.Name, f)
				}
			}
			if !slices.Contains(classes, c.Class) {
				return nil, fail("column %s: unknown class %q", c.Name, c.Class)
			}
			if c.Format != "" && !slices.Contains(formats, c.Format) {
				return nil, fail("column %s: unknown format %q", c.Name, c.Format)
			}
			if (c.Class == ClassCoarseTime) != (c.Unit != "") {
				return nil, fail("column %s: a unit goes with class coarse-time, and only with it", c.Name)
			}
			if c.Unit != "" && units[c.Unit] == 0 {
				return nil, fail("column %s: unknown unit %q", c.Name, c.Unit)
			}
			if cur.Column(c.Name) != nil {
				return nil, fail("column %s.%s listed twice", cur.Name, c.Name)
			}
			cur.Columns = append(cur.Columns, c)
		case "index":
			if len(fields) < 2 {
				return nil, fail("index without a name")
			}
			x := &IndexSpec{Name: fields[1]}
			for _, f := range fields[2:] {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "table":
					x.Table = v
				case "unique":
					x.Unique = true
				case "columns":
					x.Columns = strings.Split(v, ",")
				case "where":
					x.Where = normalizeSQL(v)
				default:
					return nil, fail("index %s: unknown attribute %q", x.Name, f)
				}
			}
			if x.Table == "" || len(x.Columns) == 0 {
				return nil, fail("index %s needs table= and columns=", x.Name)
			}
			if a.Index(x.Name) != nil {
				return nil, fail("index %s listed twice", x.Name)
			}
			a.Indexes = append(a.Indexes, x)
		default:
			return nil, fail("unknown directive %q", fields[0])
		}
	}
	for _, x := range a.Indexes {
		t := a.Table(x.Table)
		if t == nil {
			return nil, fmt.Errorf("allow-list: index %s is on unknown table %s", x.Name, x.Table)
		}
		for _, c := range x.Columns {
			if t.Column(c) == nil {
				return nil, fmt.Errorf("allow-list: index %s names unknown column %s.%s", x.Name, x.Table, c)
			}
		}
	}
	return a, nil
}

// splitFields splits on spaces, keeping key="quoted value" together (quotes removed).
func splitFields(line string) ([]string, error) {
	var out []string
	var b strings.Builder
	inQuote, have := false, false
	for _, r := range line {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case !inQuote && (r == ' ' || r == '\t' || r == '\r'):
			if have {
				out = append(out, b.String())
				b.Reset()
				have = false
			}
		default:
			b.WriteRune(r)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if have {
		out = append(out, b.String())
	}
	return out, nil
}

// normalizeSQL collapses runs of white space to one space and trims the ends, so that SQL
// written over several lines compares equal to the same SQL on one line.
func normalizeSQL(s string) string { return strings.Join(strings.Fields(s), " ") }
