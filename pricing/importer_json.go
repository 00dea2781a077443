package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// jsonValue is one value inside a price file with where it starts, so a
// nested field's problem can be given its line and column even in a file
// written on one line (genai-prices' data.json is).
type jsonValue struct {
	key string // the member's name inside an object; "" inside an array
	raw json.RawMessage
	off int64 // offset of the value's first byte in the whole file
}

// shapeError is a value of the wrong JSON type, found at off.
type shapeError struct {
	off  int64
	what string
}

func (e *shapeError) Error() string { return e.what }

// members lists an object's members in file order. base is the offset of
// raw in the whole file; the file has passed json.Valid, so only a value of
// another type fails.
func members(raw json.RawMessage, base int64, what string) ([]jsonValue, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil, &shapeError{off: base, what: fmt.Sprintf("%s must be a JSON object, not %s", what, jsonKind(raw))}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, &shapeError{off: base, what: err.Error()}
	}
	var out []jsonValue
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &shapeError{off: base + dec.InputOffset(), what: err.Error()}
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, &shapeError{off: base + dec.InputOffset(), what: err.Error()}
		}
		out = append(out, jsonValue{key: key, raw: v, off: base + dec.InputOffset() - int64(len(v))})
	}
	return out, nil
}

// items lists an array's elements, as members does an object's.
func items(raw json.RawMessage, base int64, what string) ([]jsonValue, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '[' {
		return nil, &shapeError{off: base, what: fmt.Sprintf("%s must be a JSON array, not %s", what, jsonKind(raw))}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, &shapeError{off: base, what: err.Error()}
	}
	var out []jsonValue
	for dec.More() {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, &shapeError{off: base + dec.InputOffset(), what: err.Error()}
		}
		out = append(out, jsonValue{raw: v, off: base + dec.InputOffset() - int64(len(v))})
	}
	return out, nil
}

// jsonKind names a value's JSON type for messages.
func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// fieldError refuses the file at a value: its line and column, the entry
// it belongs to, and what is wrong with which field.
func (im *importer) fieldError(off int64, key, format string, args ...any) error {
	line, col := lineCol(im.data, off)
	return &ImportError{Name: im.name, Line: line, Column: col, Key: key, Err: fmt.Errorf(format, args...)}
}

// shapeFail turns a members or items failure into the file's error.
func (im *importer) shapeFail(err error, key string) error {
	if se, ok := err.(*shapeError); ok {
		return im.fieldError(se.off, key, "%s", se.what)
	}
	return &ImportError{Name: im.name, Key: key, Err: err}
}

// str reads a JSON string value.
func (im *importer) str(v jsonValue, key, field string) (string, error) {
	var s string
	if err := json.Unmarshal(v.raw, &s); err != nil {
		return "", im.fieldError(v.off, key, "%s must be a string, not %s", field, jsonKind(v.raw))
	}
	return s, nil
}

// number reads a JSON number value.
func (im *importer) number(v jsonValue, key, field string) (float64, error) {
	var f float64
	if t := bytes.TrimSpace(v.raw); len(t) == 0 || !(t[0] == '-' || t[0] >= '0' && t[0] <= '9') {
		return 0, im.fieldError(v.off, key, "%s must be a number, not %s", field, jsonKind(v.raw))
	}
	if err := json.Unmarshal(v.raw, &f); err != nil {
		return 0, im.fieldError(v.off, key, "%s: %s is not a number gatewise can read", field, v.raw)
	}
	return f, nil
}

// countEntry counts one entry of the file, refusing a file of more than
// maxImportEntries.
func (im *importer) countEntry(off int64) error {
	if im.report.Entries == maxImportEntries {
		line, col := lineCol(im.data, off)
		return &ImportError{Name: im.name, Line: line, Column: col, Err: &errTooManyEntries{offset: off}}
	}
	im.report.Entries++
	return nil
}
