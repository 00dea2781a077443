package traffic

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// chunkSize is how much input one worker takes at a time: big enough that
// handing chunks over costs nothing, small enough that the few chunks in
// flight stay a few megabytes.
const chunkSize = 1 << 20

// chunk is a run of whole rows. Line-oriented sources (CSV, JSONL) hand over
// raw bytes from start; the JSON document source hands over one span per
// array element.
type chunk struct {
	seq   int
	buf   []byte
	start int   // first byte of the rows in buf
	line  int64 // line number of buf[start]
	spans []span
}

type span struct {
	off, end int
	line     int64
}

// source fills chunks from the input, in the reader goroutine. next returns
// false at the end of the input.
type source interface {
	next(c *chunk) (bool, error)
	// problems are rows the source had to drop itself (too long), and their
	// count by reason.
	dropped() ([]Problem, int64)
}

// fatalError is an input problem that stops reading: the file cannot be
// used past it.
type fatalError struct {
	line int64
	// col is the 1-based CSV field, 0 when the problem has none; field is
	// its header name when known.
	col   int
	field string
	msg   string
}

func (e *fatalError) Error() string {
	if e.line <= 0 {
		return e.msg
	}
	if e.col > 0 {
		p := Problem{Line: e.line, Column: e.col, Field: e.field, Message: e.msg}
		return p.String()
	}
	return fmt.Sprintf("line %d: %s", e.line, e.msg)
}

// openQuoteError is the refusal of a quote, at offset at of the record
// starting at rec[0] on line, that is still open where rec ends.
func openQuoteError(rec []byte, at int, line int64, header []string, msg string) *fatalError {
	e := &fatalError{line: line + int64(bytes.Count(rec[:at], []byte{'\n'})), col: fieldOf(rec, at) + 1, msg: msg}
	if e.col <= len(header) {
		e.field = header[e.col-1]
	}
	return e
}

// lineSource cuts CSV or JSONL into chunks at row boundaries. For CSV a
// newline inside a quoted field is not a boundary, which csvBounds tracks
// across reads.
type lineSource struct {
	r       io.Reader
	csv     bool
	bounds  csvBounds
	pending []byte
	line    int64 // line number of pending[0]
	eof     bool
	maxLine int
	long    []Problem
	nlong   int64
	started bool // a chunk with a row in it was handed over: a CSV header was read
	// header names the CSV columns in messages, once the header is read.
	header []string
}

func newLineSource(r io.Reader, csv bool, maxLine int) *lineSource {
	return &lineSource{r: r, csv: csv, line: 1, maxLine: maxLine}
}

func (s *lineSource) dropped() ([]Problem, int64) { return s.long, s.nlong }

// boundaries scans fresh bytes and returns the ends of the first and the
// last row in them, or -1.
func (s *lineSource) boundaries(fresh []byte) (first, last int) {
	if s.csv {
		return s.bounds.scan(fresh)
	}
	first, last = bytes.IndexByte(fresh, '\n'), bytes.LastIndexByte(fresh, '\n')
	if first < 0 {
		return -1, -1
	}
	return first + 1, last + 1
}

func (s *lineSource) next(c *chunk) (bool, error) {
	c.buf = append(c.buf[:0], s.pending...)
	c.start, c.line, c.spans = 0, s.line, c.spans[:0]
	s.pending = s.pending[:0]
	last := -1
	for {
		if s.eof {
			if len(c.buf) == 0 {
				return false, nil
			}
			s.line += int64(bytes.Count(c.buf, []byte{'\n'}))
			s.started = s.started || len(bytes.Trim(c.buf, "\r\n")) > 0
			return true, nil
		}
		if len(c.buf) == cap(c.buf) {
			if last >= 0 {
				break
			}
			if len(c.buf) > s.maxLine {
				var err error
				if last, err = s.dropLong(c); err != nil {
					return false, err
				}
				continue
			}
			c.buf = append(c.buf, make([]byte, max(chunkSize, len(c.buf)))...)[:len(c.buf)]
		}
		n, err := s.r.Read(c.buf[len(c.buf):cap(c.buf)])
		if n > 0 {
			fresh := c.buf[len(c.buf) : len(c.buf)+n]
			if _, b := s.boundaries(fresh); b >= 0 {
				last = len(c.buf) + b
			}
			c.buf = c.buf[:len(c.buf)+n]
		}
		if errors.Is(err, io.EOF) {
			s.eof = true
			continue
		}
		if err != nil {
			return false, err
		}
		if last >= 0 && len(c.buf) >= chunkSize {
			break
		}
	}
	s.pending = append(s.pending, c.buf[last:]...)
	c.buf = c.buf[:last]
	s.line += int64(bytes.Count(c.buf, []byte{'\n'}))
	s.started = s.started || len(bytes.Trim(c.buf, "\r\n")) > 0
	return true, nil
}

// dropLong handles a row longer than maxLine: it is counted and skipped up to
// its newline, and c starts again with the rows after it; the result is the
// end of the last whole row in c.buf, or -1. A CSV quote that never closes
// makes every later newline part of one field, so that is fatal rather than a
// skipped row.
func (s *lineSource) dropLong(c *chunk) (int, error) {
	if s.csv && s.bounds.state != 0 {
		msg := fmt.Sprintf("a quoted field opens here and runs on past the %s a row may hold: is a closing quote missing?", byteSize(int64(s.maxLine)))
		// c.buf holds every byte since the last record end, so the quote
		// that opened is in it.
		if at := s.bounds.open - (s.bounds.pos - int64(len(c.buf))); at >= 0 && at < int64(len(c.buf)) {
			return -1, openQuoteError(c.buf, int(at), c.line, s.header, msg)
		}
		return -1, &fatalError{line: c.line, msg: msg}
	}
	if s.csv && !s.started {
		// Skipping the header would make the first row the header.
		cols := ""
		if n := bytes.Count(c.buf, []byte{','}); n > 0 {
			cols = fmt.Sprintf(" (%d columns so far)", n+1)
		}
		return -1, &fatalError{line: c.line, msg: fmt.Sprintf("the header row is longer than %d bytes%s: not a request log", s.maxLine, cols)}
	}
	rowLine := c.line
	s.nlong++
	if len(s.long) < examplesPerReason {
		s.long = append(s.long, Problem{Reason: ReasonTooLong, Line: c.line,
			Message: fmt.Sprintf("row longer than %d bytes; skipped", s.maxLine)})
	}
	line := c.line + int64(bytes.Count(c.buf, []byte{'\n'}))
	buf := c.buf[:cap(c.buf)]
	for {
		n, err := s.r.Read(buf)
		if n > 0 {
			if first, last := s.boundaries(buf[:n]); first >= 0 {
				line += int64(bytes.Count(buf[:first], []byte{'\n'}))
				c.buf = append(c.buf[:0], buf[first:n]...)
				c.line, s.line = line, line
				if last == first {
					return -1, nil
				}
				return last - first, nil
			}
			line += int64(bytes.Count(buf[:n], []byte{'\n'}))
		}
		if errors.Is(err, io.EOF) {
			if s.csv && s.bounds.state == 1 {
				return -1, &fatalError{line: rowLine, msg: fmt.Sprintf("a row longer than %s holds a quoted field that never closes", byteSize(int64(s.maxLine)))}
			}
			s.eof = true
			c.buf = c.buf[:0]
			c.line, s.line = line, line
			return -1, nil
		}
		if err != nil {
			return -1, err
		}
	}
}

// docSource reads a JSON document: a top-level array of rows (streamed one
// element at a time, never loaded whole), or one or more top-level objects,
// each a row or a page that wraps rows (unwrapped by the worker).
type docSource struct {
	r       io.Reader
	win     []byte // unread input is win[pos:]
	pos     int
	eof     bool
	line    int64
	state   byte // 0 between top-level values, 1 in an array expecting an element, 2 after an element
	maxLine int
	scan    jscan
}

func newDocSource(r io.Reader, maxLine int) *docSource {
	return &docSource{r: r, line: 1, maxLine: maxLine, win: make([]byte, 0, chunkSize)}
}

func (s *docSource) dropped() ([]Problem, int64) { return nil, 0 }

// fill reads more input, keeping win[pos:]; it reports false at the end.
func (s *docSource) fill() (bool, error) {
	if s.eof {
		return false, nil
	}
	if s.pos > 0 {
		n := copy(s.win, s.win[s.pos:])
		s.win, s.pos = s.win[:n], 0
	}
	if len(s.win) == cap(s.win) {
		s.win = append(s.win, make([]byte, len(s.win))...)[:len(s.win)]
	}
	n, err := s.r.Read(s.win[len(s.win):cap(s.win)])
	s.win = s.win[:len(s.win)+n]
	if errors.Is(err, io.EOF) {
		s.eof = true
		return n > 0, nil
	}
	return true, err
}

// peek skips whitespace, counting lines, and returns the next byte.
func (s *docSource) peek() (byte, bool, error) {
	for {
		for s.pos < len(s.win) {
			switch b := s.win[s.pos]; b {
			case '\n':
				s.line++
				s.pos++
			case ' ', '\t', '\r':
				s.pos++
			default:
				return b, true, nil
			}
		}
		more, err := s.fill()
		if err != nil || !more {
			return 0, false, err
		}
	}
}

// value copies the JSON value at pos into c as one row.
func (s *docSource) value(c *chunk) error {
	for {
		end, err := valueEnd(&s.scan, s.win[s.pos:])
		if err == nil {
			v := s.win[s.pos : s.pos+end]
			off := len(c.buf)
			c.buf = append(c.buf, v...)
			c.spans = append(c.spans, span{off: off, end: len(c.buf), line: s.line})
			s.line += int64(bytes.Count(v, []byte{'\n'}))
			s.pos += end
			return nil
		}
		var je *jsonError
		incomplete := errors.As(err, &je) && s.pos+je.off >= len(s.win)
		if !incomplete || s.eof {
			line := s.line
			if je != nil {
				line += int64(bytes.Count(s.win[s.pos:min(s.pos+je.off, len(s.win))], []byte{'\n'}))
			}
			if s.eof && incomplete {
				return &fatalError{line: line, msg: "the JSON document ends in the middle of a value (truncated file?)"}
			}
			return &fatalError{line: line, msg: "the JSON document is malformed: " + je.msg}
		}
		if len(s.win)-s.pos > s.maxLine {
			return &fatalError{line: s.line, msg: fmt.Sprintf("a JSON value longer than %d bytes", s.maxLine)}
		}
		if _, err := s.fill(); err != nil {
			return err
		}
	}
}

func (s *docSource) next(c *chunk) (bool, error) {
	c.buf, c.spans, c.start, c.line = c.buf[:0], c.spans[:0], 0, s.line
	for len(c.buf) < chunkSize {
		b, ok, err := s.peek()
		if err != nil {
			return false, err
		}
		if !ok {
			if s.state != 0 {
				return false, &fatalError{line: s.line, msg: "the JSON array is not closed (truncated file?)"}
			}
			break
		}
		switch s.state {
		case 0:
			switch b {
			case '[':
				s.pos++
				s.state = 1
				if b, ok, err := s.peek(); err == nil && ok && b == ']' {
					s.pos++
					s.state = 0
				}
			case '{':
				if err := s.value(c); err != nil {
					return false, err
				}
			default:
				return false, &fatalError{line: s.line, msg: fmt.Sprintf("expected '[' or '{' at the top level, found %q", b)}
			}
		case 1:
			if b != '{' {
				return false, &fatalError{line: s.line, msg: fmt.Sprintf("the array's elements must be objects (rows), found %q", b)}
			}
			if err := s.value(c); err != nil {
				return false, err
			}
			s.state = 2
		case 2:
			switch b {
			case ',':
				s.pos++
				s.state = 1
			case ']':
				s.pos++
				s.state = 0
			default:
				return false, &fatalError{line: s.line, msg: fmt.Sprintf("expected ',' or ']' after an array element, found %q", b)}
			}
		}
	}
	return len(c.spans) > 0, nil
}
