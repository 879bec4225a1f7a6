package journal

// The body codec. encoding/json drops fields it does not know and matches
// names without regard to case; both would lose or duplicate data written by
// a newer client. So every JSON object in an entry decodes through
// decodeObject, which matches names exactly and keeps whatever is left over in
// the struct's UnknownFields, and encodes through encodeObject, which writes
// the known fields in declaration order and then the unknown ones, sorted by
// name, with their values copied byte for byte.
//
// Struct tags: `json:"name,omitempty"` as usual; a field of type Body also
// carries `kind:"otherName"`, the name of the sibling member that holds the
// nested body's kind (see Response).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// UnknownFields holds the members of a JSON object that this version of the
// package does not know, as written by a newer client. They are kept verbatim
// and written back unchanged on Marshal, so an older client can edit an entry
// without losing what a newer one added.
type UnknownFields map[string]json.RawMessage

var (
	unknownFieldsType = reflect.TypeFor[UnknownFields]()
	bodyType          = reflect.TypeFor[Body]()
)

type fieldInfo struct {
	name      string
	index     int
	omitEmpty bool
	kindKey   string // for Body fields: the member that holds the kind
}

type structInfo struct {
	fields  []fieldInfo
	unknown int // index of the UnknownFields field, or -1
}

var structInfos sync.Map // reflect.Type → *structInfo

func infoFor(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{unknown: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Type == unknownFieldsType {
			si.unknown = i
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		si.fields = append(si.fields, fieldInfo{
			name:      name,
			index:     i,
			omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty"),
			kindKey:   f.Tag.Get("kind"),
		})
	}
	structInfos.Store(t, si)
	return si
}

// isObjectType reports whether t is one of our document structs, recognised
// by its UnknownFields member.
func isObjectType(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && infoFor(t).unknown >= 0
}

// decodeError is a decoding problem at a path in the document.
type decodeError struct {
	path string
	msg  string
}

func (e *decodeError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// decodeObject decodes a JSON object into the struct v (addressable).
// Absent data and null leave v unchanged.
func decodeObject(data []byte, v reflect.Value, path string) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return &decodeError{path, "want a JSON object, got " + preview(data)}
	}
	si := infoFor(v.Type())
	for _, f := range si.fields {
		if f.kindKey != "" {
			continue
		}
		raw, ok := m[f.name]
		if !ok {
			continue
		}
		delete(m, f.name)
		if err := decodeValue(raw, v.Field(f.index), join(path, f.name)); err != nil {
			return err
		}
	}
	for _, f := range si.fields {
		if f.kindKey == "" {
			continue
		}
		rawKind, hasKind := m[f.kindKey]
		raw, hasBody := m[f.name]
		if !hasKind && !hasBody {
			continue
		}
		delete(m, f.kindKey)
		delete(m, f.name)
		var kind string
		if err := json.Unmarshal(rawKind, &kind); err != nil || kind == "" {
			return &decodeError{join(path, f.kindKey), "want the kind of " + f.name + " as text, got " + preview(rawKind)}
		}
		b, err := decodeBody(kind, raw, join(path, f.name))
		if err != nil {
			return err
		}
		v.Field(f.index).Set(reflect.ValueOf(b))
	}
	if si.unknown >= 0 && len(m) > 0 {
		v.Field(si.unknown).Set(reflect.ValueOf(UnknownFields(m)))
	}
	return nil
}

func decodeValue(raw []byte, v reflect.Value, path string) error {
	t := v.Type()
	isNull := string(bytes.TrimSpace(raw)) == "null"
	switch {
	case isObjectType(t):
		return decodeObject(raw, v, path)
	case t.Kind() == reflect.Pointer && isObjectType(t.Elem()):
		if isNull {
			v.SetZero()
			return nil
		}
		p := reflect.New(t.Elem())
		if err := decodeObject(raw, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case t.Kind() == reflect.Slice && isObjectType(t.Elem()):
		if isNull {
			v.SetZero()
			return nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return &decodeError{path, "want a list, got " + preview(raw)}
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, item := range items {
			if err := decodeObject(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		if errors.As(err, &typeErr) || errors.As(err, &syntaxErr) {
			return &decodeError{path, "want " + describeType(t) + ", got " + preview(raw)}
		}
		return &decodeError{path, err.Error()}
	}
	return nil
}

// decodeBody decodes the body of an entry of the given kind. A kind this
// version does not know becomes a *RawBody holding the bytes unchanged.
func decodeBody(kind string, raw []byte, path string) (Body, error) {
	b := newBody(kind)
	if b == nil {
		var keep json.RawMessage
		if raw != nil {
			keep = slices.Clone(raw)
		}
		return &RawBody{KindName: kind, JSON: keep}, nil
	}
	if err := decodeObject(raw, reflect.ValueOf(b).Elem(), path); err != nil {
		return nil, err
	}
	return b, nil
}

func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		switch describeType(t.Elem()) {
		case "a whole number":
			return "a list of whole numbers"
		case "a number":
			return "a list of numbers"
		case "text":
			return "a list of text values"
		}
		return "a list"
	default:
		return "an object"
	}
}

// preview shows the start of a JSON value in an error message.
func preview(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	const max = 40
	if len(raw) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(raw[cut]) {
			cut--
		}
		return string(raw[:cut]) + "…"
	}
	return string(raw)
}

// encodeObject writes the struct v as a JSON object: known fields in
// declaration order, then unknown fields sorted by name.
func encodeObject(buf *bytes.Buffer, v reflect.Value) error {
	si := infoFor(v.Type())
	buf.WriteByte('{')
	first := true
	member := func(name string) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeString(buf, name)
		buf.WriteByte(':')
	}
	known := make(map[string]bool, len(si.fields)+1)
	for _, f := range si.fields {
		fv := v.Field(f.index)
		known[f.name] = true
		if f.kindKey != "" {
			known[f.kindKey] = true
			if fv.IsNil() {
				continue
			}
			b := fv.Interface().(Body)
			member(f.kindKey)
			writeString(buf, b.Kind())
			member(f.name)
			if err := encodeBody(buf, b); err != nil {
				return err
			}
			continue
		}
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		member(f.name)
		if err := encodeValue(buf, fv); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if si.unknown >= 0 {
		if err := writeUnknown(buf, v.Field(si.unknown).Interface().(UnknownFields), known, member); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// writeUnknown writes unknown members sorted by name, skipping any whose
// name is also a known field (the known value wins).
func writeUnknown(buf *bytes.Buffer, u UnknownFields, known map[string]bool, member func(string)) error {
	for _, name := range slices.Sorted(maps.Keys(u)) {
		if known[name] {
			continue
		}
		raw := u[name]
		if !json.Valid(raw) {
			return fmt.Errorf("unknown field %q does not hold valid JSON", name)
		}
		member(name)
		buf.Write(raw)
	}
	return nil
}

func encodeValue(buf *bytes.Buffer, v reflect.Value) error {
	t := v.Type()
	switch {
	case isObjectType(t):
		return encodeObject(buf, v)
	case t.Kind() == reflect.Pointer && isObjectType(t.Elem()):
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		return encodeObject(buf, v.Elem())
	case t.Kind() == reflect.Slice && isObjectType(t.Elem()):
		buf.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeObject(buf, v.Index(i)); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	}
	return writeJSON(buf, v.Interface())
}

// writeJSON writes x as compact JSON without escaping <, > and & (the
// documents are never embedded in HTML).
func writeJSON(buf *bytes.Buffer, x any) error {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return err
	}
	buf.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
	return nil
}

func writeString(buf *bytes.Buffer, s string) { _ = writeJSON(buf, s) }

func encodeBody(buf *bytes.Buffer, b Body) error {
	if raw, ok := b.(*RawBody); ok {
		if len(raw.JSON) == 0 {
			buf.WriteString("null")
			return nil
		}
		if !json.Valid(raw.JSON) {
			return fmt.Errorf("body of kind %q does not hold valid JSON", raw.KindName)
		}
		buf.Write(raw.JSON)
		return nil
	}
	v := reflect.ValueOf(b)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("body of kind %q is nil", b.Kind())
	}
	return encodeObject(buf, v.Elem())
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	case reflect.Struct:
		if !isObjectType(v.Type()) {
			return v.IsZero()
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && !isEmptyValue(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return false
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
