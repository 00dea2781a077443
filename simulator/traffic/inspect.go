package traffic

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode"
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
		return headerError(data, first.line, &sp, err)
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
	cols := make([]Column, len(columns))
	for i, c := range columns {
		cols[i] = Column{Name: c}
	}
	return SuggestColumns(cols)
}

// nameWords splits a column name into lower-case words at separators and
// at camelCase humps: "ContextTokens" is context+tokens, "request_created_at"
// is request+created+at, "costUSD" is cost+usd.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		isUpper, isLower, isDigit := unicode.IsUpper(r), unicode.IsLower(r), unicode.IsDigit(r)
		if !isUpper && !isLower && !isDigit {
			flush()
			continue
		}
		if isUpper && len(cur) > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// suggestRule places one field: a column qualifies when its words hold one
// of each set in all (any word of a set will do).
type suggestRule struct {
	f    Field
	all  [][]string
	only bool // the name must have no other words ("prompt", not "prompt_text")
}

var (
	tokenWords = []string{"tokens", "token", "tok", "toks", "length", "len", "units", "count"}
	inWords    = []string{"prompt", "input", "context", "request", "req", "in"}
	outWords   = []string{"completion", "output", "generated", "response", "res", "out", "gen"}
)

// suggestRules are tried in order, each against the columns still free, so
// the specific (cached input tokens) come before the general (input tokens).
var suggestRules = []suggestRule{
	{f: FieldCached, all: [][]string{{"cached", "cache"}, tokenWords}},
	{f: FieldCacheWrite, all: [][]string{{"write", "creation", "written"}, {"cache"}}},
	{f: FieldInput, all: [][]string{inWords, tokenWords}},
	{f: FieldInput, all: [][]string{{"prompt", "input"}}, only: true},
	{f: FieldOutput, all: [][]string{outWords, tokenWords}},
	{f: FieldOutput, all: [][]string{{"completion", "output"}}, only: true},
	{f: FieldEnd, all: [][]string{{"end", "ended", "finished", "completed", "endtime"}, {"time", "at", "timestamp", "ts"}}},
	{f: FieldEnd, all: [][]string{{"endtime"}}},
	{f: FieldTime, all: [][]string{{"timestamp", "datetime"}}},
	{f: FieldTime, all: [][]string{{"time", "date", "ts", "created", "when", "starttime"}}, only: true},
	{f: FieldTime, all: [][]string{{"created", "start", "started", "sent", "received", "request"}, {"at", "time", "timestamp", "on"}}},
	{f: FieldTime, all: [][]string{{"at"}}},   // sent_at, received_at
	{f: FieldTime, all: [][]string{{"when"}}}, // "When (ms)"
	{f: FieldModel, all: [][]string{{"model"}}, only: true},
	{f: FieldModel, all: [][]string{{"model", "engine", "deployment", "llm"}}},
	{f: FieldSuccess, all: [][]string{{"success", "succeeded", "ok"}}},
	{f: FieldStatus, all: [][]string{{"status"}}, only: true},
	{f: FieldStatus, all: [][]string{{"status", "http"}, {"code", "status"}}},
	{f: FieldStatus, all: [][]string{{"http"}}, only: true},
	{f: FieldError, all: [][]string{{"error", "err", "exception"}}},
	{f: FieldLatency, all: [][]string{{"latency", "duration", "elapsed", "delay", "took"}}},
	{f: FieldLatency, all: [][]string{{"response"}, {"time"}}},
	{f: FieldCost, all: [][]string{{"cost", "spend", "price", "charge"}}},
	{f: FieldRequests, all: [][]string{{"requests", "num"}}, only: true},
	{f: FieldRequests, all: [][]string{{"requests"}, {"num", "count", "n"}}},
	{f: FieldUser, all: [][]string{{"user", "customer", "username", "userid", "account", "session"}}},
	{f: FieldRoute, all: [][]string{{"route", "feature", "tags", "tag"}}},
	{f: FieldOrigin, all: [][]string{{"region", "country", "origin", "geo"}}},
}

// SuggestColumns guesses the mapping from column names and, where the log
// gives one, the first row's values: a count field never takes a column
// whose value is text (a "prompt" column holding the prompt itself), and a
// status column of words becomes the success field. Each column is used
// once; a field no column fits is left out.
func SuggestColumns(columns []Column) Mapping {
	isCount := map[Field]bool{FieldInput: true, FieldCached: true, FieldCacheWrite: true, FieldOutput: true,
		FieldRequests: true, FieldLatency: true, FieldCost: true, FieldStatus: true}
	words := make([][]string, len(columns))
	for i, c := range columns {
		words[i] = nameWords(c.Name)
	}
	m := Mapping{}
	used := make([]bool, len(columns))
	fits := func(r suggestRule, ws []string) bool {
		if len(ws) == 0 {
			return false
		}
		if r.only && len(ws) != len(r.all) {
			return false
		}
		for _, set := range r.all {
			if !slices.ContainsFunc(ws, func(w string) bool { return slices.Contains(set, w) }) {
				return false
			}
		}
		return true
	}
	for _, rule := range suggestRules {
		if _, done := m[rule.f]; done {
			continue
		}
		for i, col := range columns {
			if used[i] || strings.Contains(col.Name, ",") || !fits(rule, words[i]) {
				continue
			}
			f := rule.f
			sample := strings.TrimSpace(col.Sample)
			textual := sample != "" && sample != "null" && !isNumber(sample)
			if f == FieldStatus && textual {
				if _, ok := parseBool([]byte(sample)); !ok {
					continue
				}
				if _, done := m[FieldSuccess]; done {
					continue
				}
				f = FieldSuccess
			} else if isCount[f] && textual {
				continue
			}
			src := Source{Column: col.Name}
			switch {
			case f == FieldLatency && slices.ContainsFunc(words[i], func(w string) bool { return w == "s" || w == "sec" || w == "secs" || w == "seconds" }):
				src.Unit = UnitSeconds
			case f == FieldCost && slices.Contains(words[i], "cents"):
				src.Unit = UnitCents
			}
			m[f] = src
			used[i] = true
			break
		}
	}
	return m
}

// isNumber reports a value a count or number field could read.
func isNumber(s string) bool {
	_, ok := parseFloat([]byte(s))
	return ok
}
