package traffic

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// OpenTelemetry traces in OTLP JSON (opentelemetry-proto's JSON encoding:
// resourceSpans → scopeSpans → spans, attributes as {key, value:{stringValue
// | intValue | doubleValue | boolValue}}, times in Unix nanoseconds written as
// strings) come as one export request, several, an array of them, or the
// JSON Lines a collector's file exporter writes, one request a line. The
// spans that are GenAI model calls (OpenTelemetry's GenAI semantic
// conventions) are the requests; otlpSource turns each into a flat row the
// otel-genai preset maps like any JSON row:
//
//	{"gen_ai.request.model":"gpt-4o","gen_ai.usage.input_tokens":"52",…,
//	 "resource.service.name":"support-bot","otel.scope.name":"openai",
//	 "traceId":"…","spanId":"…","name":"chat gpt-4o",
//	 "startTimeUnixNano":"1736762400000000000","endTimeUnixNano":"…",
//	 "otel.status_code":"ERROR","otel.status_description":"…"}
//
// Attributes keep their keys, so --map can name any of them (route=
// gen_ai.agent.name, or resource.service.name); the status is written as
// OTLP's non-OTLP exporters name it. Each row carries the line its span
// starts on, so a bad value is reported where it is.

// otlpMaxRequest bounds one export request, a line or a document: a batch
// of a few thousand spans, larger than the rows of other logs.
const otlpMaxRequest = 64 << 20

// maxOTLPValue bounds an attribute value copied into a row: model names,
// counts and ids, not the prompts and completions some instrumentations
// record (gen_ai.input.messages), which are never read.
const maxOTLPValue = 1024

// maxResourceAttrs bounds the resource attributes copied into each row.
const maxResourceAttrs = 64

// genAIOther are the GenAI operations that are not model calls: agents,
// tools, workflows and retrievals wrap or sit beside the calls, and an
// agent's span repeats the tokens of the calls inside it.
var genAIOther = []string{"invoke_agent", "create_agent", "invoke_workflow", "execute_tool", "retrieval"}

// otlpSource reads OTLP JSON and hands over chunks of rows, one a model
// call span.
type otlpSource struct {
	lines *lineSource // JSON Lines: a request a line
	doc   *docSource  // a JSON document
	raw   chunk
	// started says a chunk with rows was handed over.
	started bool

	// spans counts every span read; calls the model calls among them,
	// agents the GenAI spans that are not (genAIOther).
	spans, calls, agents int64
	bad                  map[string]int64
	examples             []Problem

	scan, el jscan
	lc       lineCounter
	// res and scope are the members every span of a resource and scope
	// shares; attrs the span's own attributes, written before the span is
	// known to be a call.
	res, scope, attrs []byte
}

// looksOTLP says the input opens with an OTLP export request: an object
// (or an array of them) whose first key is resourceSpans.
func looksOTLP(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) > 0 && t[0] == '[' {
		t = bytes.TrimLeft(t[1:], " \t\r\n")
	}
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	t = bytes.TrimLeft(t[1:], " \t\r\n")
	return bytes.HasPrefix(t, []byte(`"resourceSpans"`)) || bytes.HasPrefix(t, []byte(`"resource_spans"`))
}

// newOTLPSource returns a source for OTLP input, or nil for any other: a
// format forced to something else, a CSV, JSON that is not OTLP. With the
// format left to detection it becomes otel-genai.
func newOTLPSource(in io.Reader, head []byte, c container, o *ReadOptions) *otlpSource {
	lines, limit, ok := otlpInput(head, c, o)
	if !ok {
		return nil
	}
	if o.Format == "" || o.Format == "auto" {
		o.Format = "otel-genai"
	}
	s := &otlpSource{bad: map[string]int64{}}
	if lines {
		s.lines = newLineSource(in, false, limit)
	} else {
		s.doc = newDocSource(in, limit)
	}
	return s
}

// otlpInput says whether input that starts with head is read as OTLP with
// o, whether as JSON Lines (when the first line is a whole request, as
// detection tells them; a document forced to jsonl is still read as one),
// and the bound on one request. The check by request id walks what the
// reader reads.
func otlpInput(head []byte, c container, o *ReadOptions) (lines bool, limit int, ok bool) {
	switch o.Format {
	case "", "auto", "json", "jsonl", "otel-genai":
	default:
		return false, 0, false
	}
	if c == containerCSV || !looksOTLP(head) {
		return false, 0, false
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	if i := bytes.IndexByte(t, '\n'); i >= 0 {
		t = t[:i]
	}
	var sc jscan
	n, err := valueEnd(&sc, t)
	return err == nil && len(bytes.TrimSpace(t[n:])) == 0, max(o.MaxLineBytes, otlpMaxRequest), true
}

func (s *otlpSource) dropped() ([]Problem, int64) {
	if s.lines != nil {
		return s.lines.dropped()
	}
	return nil, 0
}

// next converts the requests of the input's next chunks until it has rows.
// A file with no model call at all is refused when that is known, at the
// first chunk.
func (s *otlpSource) next(c *chunk) (bool, error) {
	c.buf, c.spans, c.start, c.line = c.buf[:0], c.spans[:0], 0, 1
	for len(c.spans) == 0 {
		var more bool
		var err error
		if s.lines != nil {
			more, err = s.lines.next(&s.raw)
		} else {
			more, err = s.doc.next(&s.raw)
		}
		if err != nil {
			return false, err
		}
		if !more {
			break
		}
		if s.lines != nil {
			data, line := s.raw.buf[s.raw.start:], s.raw.line
			for len(data) > 0 {
				rec := data
				if e := bytes.IndexByte(data, '\n'); e >= 0 {
					rec, data = data[:e], data[e+1:]
				} else {
					data = nil
				}
				if len(bytes.TrimSpace(rec)) > 0 {
					s.request(rec, line, c)
				}
				line++
			}
		} else {
			for _, sp := range s.raw.spans {
				s.request(s.raw.buf[sp.off:sp.end], sp.line, c)
			}
		}
	}
	if len(c.spans) == 0 && !s.started {
		return false, s.noCalls()
	}
	s.started = true
	return len(c.spans) > 0, nil
}

// noCalls says why a file gave no rows.
func (s *otlpSource) noCalls() error {
	msg := "the OTLP file holds no spans"
	if s.spans > 0 {
		msg = fmt.Sprintf("none of the file's %s is a GenAI model call (a span with gen_ai.request.model, gen_ai.usage.* or a gen_ai.operation.name such as chat or embeddings)",
			Plural(s.spans, "span"))
		if s.agents > 0 {
			msg += fmt.Sprintf("; %s of agents, tools or workflows, which wrap the calls", Plural(s.agents, "span is", "spans are"))
		}
	}
	var n int64
	for _, k := range s.bad {
		n += k
	}
	if n > 0 {
		msg += fmt.Sprintf("; %s could not be read, first: %s", Plural(n, "export request"), s.examples[0])
	}
	return &fatalError{msg: msg}
}

// report adds to the summary the spans left out and the requests that were
// bad.
func (s *otlpSource) report(sum *Summary) {
	if other := s.spans - s.calls; other > 0 {
		var parts []string
		if s.agents > 0 {
			parts = append(parts, fmt.Sprintf("%s of agents, tools, workflows or retrievals (gen_ai.operation.name %s), which wrap or stand beside the calls",
				Plural(s.agents, "is", "are"), strings.Join(genAIOther, ", ")))
		}
		if rest := other - s.agents; rest > 0 {
			parts = append(parts, fmt.Sprintf("%s no GenAI attributes (HTTP, database and other work)", Plural(rest, "has", "have")))
		}
		sum.Notes = append(sum.Notes, fmt.Sprintf("%s of %s are not GenAI model calls and were left out: %s",
			Plural(other, "span"), FormatCount(s.spans), strings.Join(parts, "; ")))
	}
	addProblems(sum, s.bad, s.examples)
}

// problem counts a bad export request (or part of one) as a bad row.
func (s *otlpSource) problem(reason string, line int64, msg string) {
	s.bad[reason]++
	if s.bad[reason] <= examplesPerReason {
		s.examples = append(s.examples, Problem{Reason: reason, Line: line, Message: msg})
	}
}

// lineCounter tells the line of an offset in a request, counting newlines
// from the last offset asked, as spans come in file order.
type lineCounter struct {
	data []byte
	pos  int
	line int64
}

func (l *lineCounter) at(off int) int64 {
	if off < l.pos {
		l.line -= int64(bytes.Count(l.data[off:l.pos], []byte{'\n'}))
	} else {
		l.line += int64(bytes.Count(l.data[l.pos:off], []byte{'\n'}))
	}
	l.pos = off
	return l.line
}

// offsetIn is the offset of sub, a slice of rec, in rec.
func offsetIn(rec, sub []byte) int { return cap(rec) - cap(sub) }

// request converts one export request starting on line.
func (s *otlpSource) request(rec []byte, line int64, c *chunk) {
	if i := textFault(rec); i < len(rec) {
		ln := line + int64(bytes.Count(rec[:i], []byte{'\n'}))
		col := utf8.RuneCount(rec[bytes.LastIndexByte(rec[:i], '\n')+1:i]) + 1
		if rec[i] == 0 {
			s.problem(ReasonBinary, ln, fmt.Sprintf("a NUL byte at character %d: binary data, not text", col))
		} else {
			s.problem(ReasonUTF8, ln, fmt.Sprintf("not valid UTF-8 text: byte 0x%02x at character %d", rec[i], col))
		}
		return
	}
	var rs jvalue
	err := walkJSON(&s.scan, rec, func(path []byte, v jvalue) bool {
		if p := string(path); p == "resourceSpans" || p == "resource_spans" {
			rs = v
		}
		return false
	})
	if err != nil {
		msg := err.Error()
		if je, ok := err.(*jsonError); ok {
			off := min(je.off, len(rec))
			line += int64(bytes.Count(rec[:off], []byte{'\n'}))
			msg = fmt.Sprintf("invalid JSON at character %d: %s", off-bytes.LastIndexByte(rec[:off], '\n'), je.msg)
		}
		s.problem(ReasonSyntax, line, msg)
		return
	}
	switch rs.kind {
	case jArray:
	case jAbsent:
		s.problem(ReasonSyntax, line, "not an OTLP export request: it has no resourceSpans")
		return
	case jNull:
		return
	default:
		s.problem(ReasonSyntax, line, "resourceSpans is not an array")
		return
	}
	s.lc = lineCounter{data: rec, line: line}
	s.each(rs.raw, func(el []byte) { s.resource(el, rec, c) })
}

// each calls fn with each object of a JSON array the walk has checked.
func (s *otlpSource) each(arr []byte, fn func(el []byte)) {
	for i := 1; i < len(arr); {
		switch arr[i] {
		case ' ', '\t', '\n', '\r', ',':
			i++
			continue
		case ']':
			return
		}
		n, err := valueEnd(&s.el, arr[i:])
		if err != nil {
			return
		}
		if arr[i] == '{' {
			fn(arr[i : i+n])
		}
		i += n
	}
}

// resource converts the spans of one resourceSpans element.
func (s *otlpSource) resource(el, rec []byte, c *chunk) {
	var attrs, scopes jvalue
	_ = walkJSON(&s.scan, el, func(path []byte, v jvalue) bool {
		switch string(path) {
		case "resource":
			return v.kind == jObject && v.raw == nil
		case "resource.attributes":
			attrs = v
		case "scopeSpans", "scope_spans", "instrumentationLibrarySpans", "instrumentation_library_spans":
			scopes = v
		}
		return false
	})
	s.res = s.res[:0]
	if attrs.kind == jArray {
		n := 0
		s.each(attrs.raw, func(a []byte) {
			if n < maxResourceAttrs {
				var ok bool
				s.res, ok = s.attribute(s.res, a, "resource.", nil)
				if ok {
					n++
				}
			}
		})
	}
	if scopes.kind == jArray {
		s.each(scopes.raw, func(sc []byte) { s.scopeSpans(sc, rec, c) })
	}
}

// scopeSpans converts the spans of one scopeSpans element.
func (s *otlpSource) scopeSpans(el, rec []byte, c *chunk) {
	var name, spans jvalue
	_ = walkJSON(&s.scan, el, func(path []byte, v jvalue) bool {
		switch string(path) {
		case "scope", "instrumentationLibrary", "instrumentation_library":
			return v.kind == jObject && v.raw == nil
		case "scope.name", "instrumentationLibrary.name", "instrumentation_library.name":
			name = v
		case "spans":
			spans = v
		}
		return false
	})
	s.scope = s.scope[:0]
	if name.kind == jString && len(name.raw) <= maxOTLPValue {
		s.scope = appendMember(s.scope, nil, "otel.scope.name", name)
	}
	if spans.kind == jArray {
		s.each(spans.raw, func(sp []byte) { s.span(sp, rec, c) })
	}
}

// spanFacts is what a span's attributes say of it.
type spanFacts struct {
	genAI, model, usage bool
	op                  string
}

// readSpan walks one span: its own members, its status, and its
// attributes, written to s.attrs as a row's members, with what they say.
func (s *otlpSource) readSpan(el []byte) (fields [5]jvalue, code, msg jvalue, facts spanFacts) {
	var attrs jvalue
	_ = walkJSON(&s.scan, el, func(path []byte, v jvalue) bool {
		switch string(path) {
		case "traceId", "trace_id":
			fields[0] = v
		case "spanId", "span_id":
			fields[1] = v
		case "name":
			fields[2] = v
		case "startTimeUnixNano", "start_time_unix_nano":
			fields[3] = v
		case "endTimeUnixNano", "end_time_unix_nano":
			fields[4] = v
		case "attributes":
			attrs = v
		case "status":
			return v.kind == jObject && v.raw == nil
		case "status.code":
			code = v
		case "status.message":
			msg = v
		}
		return false
	})
	s.attrs = s.attrs[:0]
	if attrs.kind == jArray {
		s.each(attrs.raw, func(a []byte) { s.attrs, _ = s.attribute(s.attrs, a, "", &facts) })
	}
	return fields, code, msg, facts
}

// call says whether a span is a model call, and whether it is the span of
// an agent, a tool or another GenAI operation that is not (genAIOther).
func (f *spanFacts) call() (call, other bool) {
	if slices.Contains(genAIOther, f.op) {
		return false, true
	}
	switch f.op {
	case "chat", "text_completion", "generate_content", "embeddings":
		return true, false
	}
	return f.model || f.usage, false
}

// span converts one span, when it is a model call, into a row.
func (s *otlpSource) span(el, rec []byte, c *chunk) {
	s.spans++
	fields, code, msg, facts := s.readSpan(el)
	isCall, other := facts.call()
	if other {
		s.agents++
	}
	if !isCall {
		return
	}
	s.calls++
	// The span's own members come last, so an attribute of the same name
	// does not hide them.
	b := s.attrs
	b = append(b, s.res...)
	b = append(b, s.scope...)
	names := [...]string{"traceId", "spanId", "name", "startTimeUnixNano", "endTimeUnixNano"}
	for i, n := range names {
		if v := fields[i]; (v.kind == jString && len(v.raw) <= maxOTLPValue) || v.kind == jNumber {
			b = appendMember(b, nil, n, v)
		}
	}
	switch status := statusWord(code); status {
	case "OK", "ERROR":
		b = appendMember(b, nil, "otel.status_code", jvalue{raw: []byte(status), kind: jString})
		if status == "ERROR" && msg.kind == jString && len(msg.raw) > 0 && len(msg.raw) <= maxOTLPValue {
			b = appendMember(b, nil, "otel.status_description", msg)
		}
	}
	s.attrs = b
	off := len(c.buf)
	c.buf = append(c.buf, '{')
	if len(b) > 0 {
		c.buf = append(c.buf, b[1:]...) // past the first member's comma
	}
	c.buf = append(c.buf, '}')
	c.spans = append(c.spans, span{off: off, end: len(c.buf), line: s.lc.at(offsetIn(rec, el))})
	// A line feed after each row lets detection read the first row of
	// JSON Lines where it reads any other's.
	c.buf = append(c.buf, '\n')
}

// statusWord reads a span's status code: 1 or STATUS_CODE_OK is OK, 2 or
// STATUS_CODE_ERROR is ERROR, anything else (0, unset) nothing.
func statusWord(v jvalue) string {
	switch strings.ToUpper(string(v.raw)) {
	case "1", "STATUS_CODE_OK", "OK":
		return "OK"
	case "2", "STATUS_CODE_ERROR", "ERROR":
		return "ERROR"
	}
	return ""
}

// attribute appends one {key, value} attribute as a member ",\"prefix+key\":value"
// of a row when its value is a scalar of a few bytes; facts, when given, note
// what a span's GenAI attributes say.
func (s *otlpSource) attribute(b, a []byte, prefix string, facts *spanFacts) ([]byte, bool) {
	var key, val jvalue
	_ = walkJSON(&s.el, a, func(path []byte, v jvalue) bool {
		switch p := string(path); p {
		case "key":
			key = v
		case "value":
			return v.kind == jObject && v.raw == nil
		case "value.stringValue", "value.string_value", "value.intValue", "value.int_value",
			"value.doubleValue", "value.double_value", "value.boolValue", "value.bool_value":
			val = v
		}
		return false
	})
	if key.kind != jString || len(key.raw) == 0 || len(key.raw) > 256 {
		return b, false
	}
	switch val.kind {
	case jString, jNumber, jTrue, jFalse:
	default:
		return b, false
	}
	if len(val.raw) > maxOTLPValue {
		return b, false
	}
	if facts != nil {
		k := string(key.raw)
		if key.escaped {
			k, _ = jsonString(key)
		}
		if strings.HasPrefix(k, "gen_ai.") {
			facts.genAI = true
			switch {
			case k == "gen_ai.request.model" || k == "gen_ai.response.model":
				facts.model = true
			case strings.HasPrefix(k, "gen_ai.usage."):
				facts.usage = true
			case k == "gen_ai.operation.name":
				facts.op, _ = jsonString(val)
			}
		}
	}
	return appendMember(b, []byte(prefix), string(key.raw), val), true
}

// appendMember appends ,"prefix+key":value with the key and a string value
// written as they were (escapes kept), numbers and literals as they are.
func appendMember(b, prefix []byte, key string, v jvalue) []byte {
	b = append(b, ',', '"')
	b = append(b, prefix...)
	b = append(b, key...)
	b = append(b, '"', ':')
	if v.kind == jString {
		b = append(b, '"')
		b = append(b, v.raw...)
		return append(b, '"')
	}
	return append(b, v.raw...)
}
