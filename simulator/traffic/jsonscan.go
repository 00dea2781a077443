package traffic

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
)

// gatewise reads JSON rows with its own scanner instead of encoding/json: a
// row of a Helicone or LiteLLM export is mostly prompt and completion text
// that gatewise must skip, not decode, and a scanner that jumps over strings
// with bytes.IndexByte and only looks at the few keys a format maps is several
// times faster than decoding into a map, with no allocation per row. It checks
// the structure fully (brackets, commas, colons, literals, number grammar);
// it does not check escape sequences or control characters inside strings it
// skips. encoding/json decodes any string value that is actually used and
// contains a backslash.

// jkind is the kind of a JSON value.
type jkind uint8

const (
	jAbsent jkind = iota // the key was not in the row
	jNull
	jString
	jNumber
	jTrue
	jFalse
	jObject
	jArray
)

// jvalue is a scalar or the raw text of a container. For strings raw is the
// content between the quotes, still escaped when escaped is true.
type jvalue struct {
	raw     []byte
	kind    jkind
	escaped bool
	// plain says raw is a whole number of one to seven digits, the first
	// not 0, with eight bytes to load from its start (walkShape found it).
	plain bool
}

// count is parseCount of the value, which a plain number spares.
func (v *jvalue) count() (int64, bool) {
	if v.plain {
		return parse8(binary.LittleEndian.Uint64(v.raw[:8]), len(v.raw)), true
	}
	return parseCount(v.raw)
}

// maxJSONDepth bounds nesting so that a hostile row cannot exhaust memory.
const maxJSONDepth = 512

// jsonError is a syntax error at a byte offset within the scanned row.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

// jscan walks one JSON object. visit is called for every member, with the
// member's dotted path; for object members it decides whether to walk in.
type jscan struct {
	data  []byte
	pos   int
	path  []byte
	visit func(path []byte, v jvalue) (descend bool)
	stack []byte
	// memo, when set, holds the members of the walk before: while a row's
	// keys are those of the row before, in order, each key is matched where
	// it lies instead of scanned and put on the path (see keyMemos).
	memo *keyMemos
	// leaves records, while memo is set, the members whose values the walk
	// does not go into, so that the row's shape can be learnt (rowShape).
	leaves []leafSpan
}

// leafSpan is where a member's value lies in the row, and the member's
// place in the memo.
type leafSpan struct {
	start, end, member int
}

// leaf records the value that started at start and ended at s.pos.
func (s *jscan) leaf(start int) {
	if s.memo != nil {
		s.leaves = append(s.leaves, leafSpan{start: start, end: s.pos, member: s.memo.n - 1})
	}
}

func (s *jscan) fail(msg string) error { return &jsonError{off: s.pos, msg: msg} }

func (s *jscan) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// str scans a string starting at the opening quote and returns its content.
func (s *jscan) str() ([]byte, bool, error) {
	start := s.pos + 1
	i := start
	// Most strings hold no backslash: the first quote or backslash, found
	// eight bytes at a time, is then the closing quote.
	for ; i+8 <= len(s.data); i += 8 {
		x := binary.LittleEndian.Uint64(s.data[i:])
		m := zeroBytes(x^'"'*bytes01) | zeroBytes(x^'\\'*bytes01)
		if m == 0 {
			continue
		}
		q := i + bits.TrailingZeros64(m)>>3
		if s.data[q] == '"' {
			s.pos = q + 1
			return s.data[start:q], false, nil
		}
		i = start
		break
	}
	for {
		j := bytes.IndexByte(s.data[i:], '"')
		if j < 0 {
			s.pos = len(s.data)
			return nil, false, s.fail("unterminated string")
		}
		q := i + j
		bs := 0
		for k := q - 1; k >= start && s.data[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			s.pos = q + 1
			content := s.data[start:q]
			return content, bytes.IndexByte(content, '\\') >= 0, nil
		}
		i = q + 1
	}
}

// num scans a number and checks it against JSON's grammar.
func (s *jscan) num() ([]byte, error) {
	d, start := s.data, s.pos
	i := start
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i]-'1' < 9:
		for i++; i < len(d) && d[i]-'0' < 10; i++ {
		}
	default:
		s.pos = i
		return nil, s.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		j := i
		for ; i < len(d) && d[i]-'0' < 10; i++ {
		}
		if i == j {
			s.pos = i
			return nil, s.fail("invalid number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for ; i < len(d) && d[i]-'0' < 10; i++ {
		}
		if i == j {
			s.pos = i
			return nil, s.fail("invalid number")
		}
	}
	s.pos = i
	return d[start:i], nil
}

func (s *jscan) lit(word string, k jkind) (jvalue, error) {
	rest := s.data[s.pos:]
	if !bytes.HasPrefix(rest, []byte(word)) {
		if len(rest) < len(word) && bytes.HasPrefix([]byte(word), rest) {
			s.pos = len(s.data)
			return jvalue{}, s.fail("unexpected end of input")
		}
		return jvalue{}, s.fail("invalid literal")
	}
	v := jvalue{raw: s.data[s.pos : s.pos+len(word)], kind: k}
	s.pos += len(word)
	return v, nil
}

// scalar scans a string, number or literal at s.pos.
func (s *jscan) scalar() (jvalue, error) {
	if s.pos >= len(s.data) {
		return jvalue{}, s.fail("unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		raw, esc, err := s.str()
		return jvalue{raw: raw, kind: jString, escaped: esc}, err
	case c == 't':
		return s.lit("true", jTrue)
	case c == 'f':
		return s.lit("false", jFalse)
	case c == 'n':
		return s.lit("null", jNull)
	case c == '-' || (c >= '0' && c <= '9'):
		raw, err := s.num()
		return jvalue{raw: raw, kind: jNumber}, err
	}
	return jvalue{}, s.fail(fmt.Sprintf("unexpected character %q", s.data[s.pos]))
}

// skip scans any value without recursion, checking its structure.
func (s *jscan) skip() error {
	s.stack = s.stack[:0]
	for {
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of input")
		}
		// A value is expected here.
		switch s.data[s.pos] {
		case '{':
			s.pos++
			s.ws()
			if s.pos < len(s.data) && s.data[s.pos] == '}' {
				s.pos++
				break
			}
			if len(s.stack) >= maxJSONDepth {
				return s.fail("nested too deep")
			}
			s.stack = append(s.stack, '}')
			if err := s.key(); err != nil {
				return err
			}
			continue
		case '[':
			s.pos++
			s.ws()
			if s.pos < len(s.data) && s.data[s.pos] == ']' {
				s.pos++
				break
			}
			if len(s.stack) >= maxJSONDepth {
				return s.fail("nested too deep")
			}
			s.stack = append(s.stack, ']')
			continue
		default:
			if _, err := s.scalar(); err != nil {
				return err
			}
		}
		// A value ended: close containers or move to the next member.
		for {
			if len(s.stack) == 0 {
				return nil
			}
			s.ws()
			if s.pos >= len(s.data) {
				return s.fail("unexpected end of input")
			}
			top := s.stack[len(s.stack)-1]
			c := s.data[s.pos]
			if c == top {
				s.pos++
				s.stack = s.stack[:len(s.stack)-1]
				continue
			}
			if c != ',' {
				return s.fail(fmt.Sprintf("expected ',' or %q", top))
			}
			s.pos++
			if top == '}' {
				if err := s.key(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// key scans `"name" :` inside an object being skipped.
func (s *jscan) key() error {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return s.fail("expected a key")
	}
	if _, _, err := s.str(); err != nil {
		return err
	}
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		return s.fail("expected ':'")
	}
	s.pos++
	return nil
}

// object walks the object at s.pos, whose path prefix is s.path[:plen].
func (s *jscan) object(plen, depth int) error {
	if depth > maxJSONDepth {
		return s.fail("nested too deep")
	}
	s.pos++ // '{'
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail("expected a key")
		}
		path, memo, err := s.member(plen)
		if err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("expected ':'")
		}
		s.pos++
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of input")
		}
		switch start := s.pos; s.data[s.pos] {
		case '{':
			if s.visit(path, jvalue{kind: jObject}) {
				if memo {
					s.path = append(s.path[:0], path...) // the prefix of its members
				}
				if err := s.object(len(s.path), depth+1); err != nil {
					return err
				}
			} else {
				if err := s.skip(); err != nil {
					return err
				}
				s.leaf(start)
			}
		case '[':
			if err := s.skip(); err != nil {
				return err
			}
			s.visit(path, jvalue{raw: s.data[start:s.pos], kind: jArray})
			s.leaf(start)
		default:
			v, err := s.scalar()
			if err != nil {
				return err
			}
			s.visit(path, v)
			s.leaf(start)
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of input")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

// member reads the key at s.pos, in an object whose path is s.path[:plen],
// and returns the member's path. A key the memo predicts is matched where
// it lies and its path is the memo's (memo is true); any other is scanned,
// unescaped and put on s.path, and ends the prediction for the rest of the
// walk.
func (s *jscan) member(plen int) (path []byte, memo bool, err error) {
	if m := s.memo; m != nil {
		if m.streak && m.n < len(m.e) {
			e := &m.e[m.n]
			end := s.pos + 1 + len(e.key)
			if int(e.plen) == plen && e.key != nil && end < len(s.data) && s.data[end] == '"' && string(s.data[s.pos+1:end]) == string(e.key) {
				s.pos = end + 1
				m.hit = true
				return e.path, true, nil
			}
		}
		m.streak = false
	}
	k, esc, err := s.str()
	if err != nil {
		return nil, false, err
	}
	if esc {
		var ks string
		if json.Unmarshal(s.data[s.pos-len(k)-2:s.pos], &ks) != nil {
			return nil, false, s.fail("invalid escape in key")
		}
		k = []byte(ks)
	}
	if m := s.memo; m != nil {
		m.plen, m.escaped = plen, esc
	}
	s.path = s.path[:plen]
	if plen > 0 {
		s.path = append(s.path, '.')
	}
	s.path = append(s.path, k...)
	return s.path, false, nil
}

// walkJSON walks the single object in data (surrounding whitespace allowed).
func walkJSON(s *jscan, data []byte, visit func(path []byte, v jvalue) bool) error {
	s.data, s.pos, s.path, s.visit, s.leaves = data, 0, s.path[:0], visit, s.leaves[:0]
	s.ws()
	if s.pos >= len(data) || data[s.pos] != '{' {
		return s.fail("a row must be a JSON object")
	}
	if err := s.object(0, 0); err != nil {
		return err
	}
	s.ws()
	if s.pos != len(data) {
		return s.fail("unexpected data after the object")
	}
	return nil
}

// jsonString turns a value into its text: strings unescaped, numbers and
// literals as written, null as nothing.
func jsonString(v jvalue) (string, bool) {
	switch v.kind {
	case jAbsent, jNull, jObject:
		return "", false
	case jString:
		if !v.escaped {
			return string(v.raw), true
		}
		var out string
		q := make([]byte, 0, len(v.raw)+2)
		q = append(append(append(q, '"'), v.raw...), '"')
		if json.Unmarshal(q, &out) != nil {
			return "", false
		}
		return out, true
	case jArray:
		return firstString(v.raw)
	}
	return string(v.raw), true
}

// firstString returns the first element of a JSON array of strings (a
// request's tags), since a route is one value.
func firstString(raw []byte) (string, bool) {
	var xs []any
	if json.Unmarshal(raw, &xs) != nil || len(xs) == 0 {
		return "", false
	}
	switch x := xs[0].(type) {
	case string:
		return x, true
	case float64, bool:
		return fmt.Sprint(x), true
	}
	return "", false
}

// valueEnd finds where the JSON value starting at data[0] ends, for the
// reader that splits a JSON array into rows. It is the same scanner in
// skipping mode.
func valueEnd(s *jscan, data []byte) (int, error) {
	s.data, s.pos = data, 0
	err := s.skip()
	return s.pos, err
}

// rowShape is a row's text with its values taken out: the glue between
// them (braces, keys, colons, commas, whitespace, byte for byte) and what
// the plan makes of each value's member. A row whose glue is the same, with
// values in the same places, walks the same: the scanner reads the same
// bytes in the same states and visits the same paths, so its values can go
// straight to their slots (walkShape) while the keys, which are most of a
// row of counts, are compared a run at a time and never scanned.
type rowShape struct {
	ok    bool
	glue  []byte
	steps []shapeStep
}

// shapeStep is one value: the glue before it ends at glueEnd; slot and
// descend are its member's.
type shapeStep struct {
	glueEnd int
	slot    int32
	descend bool
	// short says the glue has 8 to 16 bytes, first and last its first and
	// last eight (the common glue: a comma and a key), compared as words.
	short       bool
	first, last uint64
}

// maxShapeGlue bounds the glue a shape keeps.
const maxShapeGlue = 4096

// learn makes the shape of data, which the scanner has just walked with the
// memo m, from the values it recorded.
func (sh *rowShape) learn(data []byte, leaves []leafSpan, m *keyMemos) {
	sh.ok = false
	if m.n > len(m.e) { // members past maxKeyMemos were not remembered
		return
	}
	n := len(data)
	for _, l := range leaves {
		n -= l.end - l.start
	}
	if n > maxShapeGlue {
		return
	}
	sh.glue, sh.steps = sh.glue[:0], sh.steps[:0]
	prev := 0
	for _, l := range leaves {
		gl := data[prev:l.start]
		sh.glue = append(sh.glue, gl...)
		e := &m.e[l.member]
		st := shapeStep{glueEnd: len(sh.glue), slot: e.slot, descend: e.descend, short: len(gl) >= 8 && len(gl) <= 16}
		if st.short {
			st.first, st.last = binary.LittleEndian.Uint64(gl), binary.LittleEndian.Uint64(gl[len(gl)-8:])
		}
		sh.steps = append(sh.steps, st)
		prev = l.end
	}
	sh.glue = append(sh.glue, data[prev:]...)
	sh.ok = true
}

// walkShape reads data as a row of the shape sh, putting its values in
// vals, and reports whether data has that shape; when it has not, vals may
// hold some of its values and the row must be walked again.
func (s *jscan) walkShape(sh *rowShape, data []byte, vals []jvalue) bool {
	s.data = data
	pos, g := 0, 0
	for i := range sh.steps {
		st := &sh.steps[i]
		n := st.glueEnd - g
		if len(data)-pos <= n { // the glue, and a value after it
			return false
		}
		if st.short {
			if binary.LittleEndian.Uint64(data[pos:]) != st.first || binary.LittleEndian.Uint64(data[pos+n-8:]) != st.last {
				return false
			}
		} else if !sameGlue(data[pos:pos+n], sh.glue[g:st.glueEnd]) {
			return false
		}
		pos += n
		g = st.glueEnd
		var v jvalue
		switch c := data[pos]; {
		case c == '"':
			// Most strings have no backslash: the first quote or backslash
			// is then the closing quote.
			q := -1
			if i := pos + 1; i+8 <= len(data) {
				x := binary.LittleEndian.Uint64(data[i:])
				if m := zeroBytes(x^'"'*bytes01) | zeroBytes(x^'\\'*bytes01); m != 0 {
					q = i + bits.TrailingZeros64(m)>>3
				} else {
					q = quoteOrEscape(data, i+8)
				}
			} else {
				q = quoteOrEscape(data, i)
			}
			if q >= 0 && data[q] == '"' {
				v = jvalue{raw: data[pos+1 : q], kind: jString}
				pos = q + 1
				goto set
			}
		case c-'1' < 9 && pos+8 <= len(data):
			// A whole number of up to seven digits, read as a word: JSON's
			// grammar holds when a delimiter, not a fraction or exponent,
			// ends it.
			if n := digits8(binary.LittleEndian.Uint64(data[pos:])); n < 8 {
				if d := data[pos+n]; d != '.' && d != 'e' && d != 'E' {
					v = jvalue{raw: data[pos : pos+n], kind: jNumber, plain: true}
					pos += n
					goto set
				}
			}
		}
		s.pos = pos
		switch data[pos] {
		case '{':
			// A member the walk goes into would visit paths of its own.
			if st.descend || s.skip() != nil {
				return false
			}
			v.kind = jObject
		case '[':
			if s.skip() != nil {
				return false
			}
			v = jvalue{raw: data[pos:s.pos], kind: jArray}
		default:
			var err error
			if v, err = s.scalar(); err != nil {
				return false
			}
		}
		pos = s.pos
	set:
		if st.slot >= 0 {
			vals[st.slot] = v
		}
	}
	return len(data)-pos == len(sh.glue)-g && sameGlue(data[pos:], sh.glue[g:])
}

// quoteOrEscape is the index of the first quote or backslash in data from
// i, found eight bytes at a time, or -1.
func quoteOrEscape(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		x := binary.LittleEndian.Uint64(data[i:])
		if m := zeroBytes(x^'"'*bytes01) | zeroBytes(x^'\\'*bytes01); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(data); i++ {
		if data[i] == '"' || data[i] == '\\' {
			return i
		}
	}
	return -1
}

// sameGlue compares glue of the same length: up to 32 bytes a word at a
// time, the last word overlapping.
func sameGlue(d, g []byte) bool {
	n := len(g)
	if n < 8 || n > 32 {
		return string(d) == string(g)
	}
	for i := 0; i < n-8; i += 8 {
		if binary.LittleEndian.Uint64(d[i:]) != binary.LittleEndian.Uint64(g[i:]) {
			return false
		}
	}
	return binary.LittleEndian.Uint64(d[n-8:]) == binary.LittleEndian.Uint64(g[n-8:])
}
