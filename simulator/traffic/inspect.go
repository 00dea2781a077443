package traffic

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Shape is what the start of a log looks like, for a person mapping its
// columns by hand: the container, the columns (CSV header names, or dotted
// JSON paths of the first row's values) in file order, and the preset that
// detection recognised, if any.
type Shape struct {
	Container string   `json:"container"`
	Gzip      bool     `json:"gzip"`
	Format    string   `json:"format,omitempty"`
	Columns   []Column `json:"columns"`
}

// Column is one column of a log with the first row's value, shortened, so
// that "ts" can be told from "ts_end" without opening the file.
type Column struct {
	Name   string `json:"name"`
	Sample string `json:"sample"`
}

// maxSample bounds a column's sample value: enough to recognise a time or a
// model name, too little to carry a prompt.
const maxSample = 40

// maxShapeColumns bounds the columns listed for mapping.
const maxShapeColumns = 500

// Inspect reads the first rows of a log (gzip or not) and returns its shape.
// It fails, with the same messages as Read, on input that is not a log at
// all: binary, empty, not UTF-8, or broken in its first row.
func Inspect(r io.Reader, maxLineBytes int) (Shape, error) {
	var sh Shape
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	in, gz, err := openInput(r, 0)
	if err != nil {
		return sh, err
	}
	sh.Gzip = gz
	head, err := in.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return sh, readError(err, gz)
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		in.Discard(3)
		head = head[3:]
	}
	if err := checkText(head); err != nil {
		return sh, err
	}
	c, err := chooseContainer(head, "auto")
	if err != nil {
		return sh, err
	}
	sh.Container = containerNames[c]
	var src source
	if c == containerJSON {
		src = newDocSource(in, maxLineBytes)
	} else {
		src = newLineSource(in, c == containerCSV, maxLineBytes)
	}
	first := &chunk{}
	more, err := src.next(first)
	if err != nil {
		return sh, readError(err, gz)
	}
	if !more {
		return sh, errors.New("the file has no rows")
	}
	keys := map[string]bool{}
	if c == containerCSV {
		err = csvShape(first, &sh, keys)
	} else {
		err = jsonShape(first, c, &sh, keys)
	}
	if err != nil {
		return sh, err
	}
	if p, ok := detectPreset(keys, c != containerCSV); ok {
		sh.Format = p.name
	}
	return sh, nil
}

// csvShape reads the header and the first data row.
func csvShape(first *chunk, sh *Shape, keys map[string]bool) error {
	data := bytes.TrimLeft(first.buf[first.start:], "\r\n")
	var sp csvSplitter
	n, _, err, _ := sp.split(data)
	if err != nil {
		return &fatalError{line: first.line, msg: "the header row is not valid CSV: " + err.Error()}
	}
	for _, f := range sp.fields {
		name := strings.TrimSpace(string(f))
		keys[name] = true
		if len(sh.Columns) < maxShapeColumns {
			sh.Columns = append(sh.Columns, Column{Name: name})
		}
	}
	data = bytes.TrimLeft(data[n:], "\r\n")
	if len(data) == 0 {
		return nil
	}
	if _, _, err, _ := sp.split(data); err != nil {
		return nil // samples are a help, not a requirement
	}
	for i, f := range sp.fields {
		if i < len(sh.Columns) {
			sh.Columns[i].Sample = shorten(string(f))
		}
	}
	return nil
}

// jsonShape lists the first row's values by dotted path, in the order they
// are written, four levels deep as Read's detection looks.
func jsonShape(first *chunk, c container, sh *Shape, keys map[string]bool) error {
	rec, line := firstJSON(first, c)
	if rec == nil {
		return errors.New("the file has no JSON rows")
	}
	var s jscan
	err := walkJSON(&s, rec, func(path []byte, v jvalue) bool {
		keys[string(path)] = true
		if v.kind == jObject {
			return v.raw == nil && bytes.Count(path, []byte{'.'}) < 4
		}
		if len(sh.Columns) < maxShapeColumns {
			val, _ := jsonString(v)
			if v.kind == jArray {
				val = shorten(string(v.raw))
			}
			sh.Columns = append(sh.Columns, Column{Name: string(path), Sample: shorten(val)})
		}
		return false
	})
	if err != nil {
		return &fatalError{line: line, msg: "the first row is not valid JSON: " + err.Error()}
	}
	return nil
}

// shorten cuts s to maxSample characters on a rune boundary.
func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxSample {
		return s
	}
	cut := maxSample
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Fields lists every field a mapping can name, in mapping order.
func Fields() []Field {
	out := make([]Field, numFields)
	for i := range out {
		out[i] = Field(i)
	}
	return out
}

// Units lists the unit spellings that make sense for f, the default first;
// nil when the field has no unit.
func (f Field) Units() []string {
	switch f {
	case FieldTime, FieldEnd:
		return []string{"auto", "iso8601", "unix_s", "unix_ms", "unix_us", "unix_ns", "offset_s", "offset_ms"}
	case FieldLatency:
		return []string{"ms", "s"}
	case FieldCost:
		return []string{"usd", "cents"}
	}
	return nil
}

// Suggest guesses, from column names alone, which column holds each field,
// so a mapping form starts close to right. Each column is used once; fields
// it cannot place are left out.
func Suggest(columns []string) Mapping {
	has := func(s string, parts ...string) bool {
		for _, p := range parts {
			if strings.Contains(s, p) {
				return true
			}
		}
		return false
	}
	// Rules are tried in order, each against the columns still free, on the
	// name lower-cased with separators kept (so "sent_at" ends in "_at").
	rules := []struct {
		f    Field
		test func(n string) bool
	}{
		{FieldCached, func(n string) bool { return has(n, "cached", "cache_read") && has(n, "tok") }},
		{FieldCacheWrite, func(n string) bool { return has(n, "cache_write", "cache_creation") && has(n, "tok") }},
		{FieldInput, func(n string) bool { return has(n, "prompt", "input", "context", "request") && has(n, "tok") }},
		{FieldOutput, func(n string) bool { return has(n, "completion", "output", "generated", "response") && has(n, "tok") }},
		{FieldEnd, func(n string) bool { return has(n, "end_time", "endtime", "ended_at", "finished_at", "completed_at") }},
		{FieldTime, func(n string) bool {
			return has(n, "timestamp", "start_time", "starttime", "started_at", "created_at", "request_time") ||
				n == "time" || n == "date" || n == "created" || n == "ts"
		}},
		{FieldTime, func(n string) bool { return strings.HasSuffix(n, "_at") }}, // sent_at, received_at
		{FieldModel, func(n string) bool { return has(n, "model", "engine", "deployment", "llm") }},
		{FieldStatus, func(n string) bool { return n == "status" || has(n, "status_code", "statuscode", "http_status") }},
		{FieldLatency, func(n string) bool { return has(n, "latency", "duration", "elapsed") }},
		{FieldCost, func(n string) bool { return has(n, "cost", "spend") }},
	}
	m := Mapping{}
	used := map[string]bool{}
	for _, rule := range rules {
		if _, done := m[rule.f]; done {
			continue
		}
		for _, col := range columns {
			if used[col] || strings.Contains(col, ",") || !rule.test(strings.ToLower(strings.TrimSpace(col))) {
				continue
			}
			m[rule.f] = Source{Column: col}
			used[col] = true
			break
		}
	}
	return m
}
