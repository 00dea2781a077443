package traffic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// CSV follows encoding/csv's rules (RFC 4180, comma-separated, no lazy
// quotes): a field that starts with a quote runs to the matching quote, ""
// inside it is one quote, CRLF counts as LF, and a quote anywhere else is an
// error. The common row has no quote at all; it is split with
// bytes.IndexByte and costs no allocation. FuzzCSVSplit checks both paths
// against encoding/csv.
//
// A row ends at a line feed outside quotes, and one rule says where quotes
// are (csvBounds): a quote opens a quoted field only as a field's first
// character, and text after its closing quote is unquoted. The chunk
// boundaries, the splitter and the end of a bad row all follow it, so a row
// is the same row however the file is cut, and a quote that opens and never
// closes is found wherever it is: the file is refused there, as reading on
// would make the rest of the file one field.

var (
	errBareQuote = errors.New(`bare " in non-quoted field`)
	errQuote     = errors.New(`extraneous or missing " in quoted field`)
	// errOpenQuote is a quoted field still open at the end of the data:
	// the row has no end.
	errOpenQuote = errors.New("a quoted field opens here and never closes")
	// errTooManyFields stops a record at maxColumns fields, so a row of
	// millions of commas costs no more than a row of ten thousand.
	errTooManyFields = fmt.Errorf("more than %d fields", maxColumns)
)

// csvSplitter splits one record at a time; its slices are reused between
// records, so the fields are valid until the next call.
type csvSplitter struct {
	fields  [][]byte
	spans   []fieldSpan
	scratch []byte
	// quoteAt is the offset of the quote that never closes, after
	// errOpenQuote.
	quoteAt int
}

// split reads the record at the start of data. It returns the bytes consumed
// (through the record's newline), the line feeds in them (quoted fields may
// hold some besides the record's own), and on error the 0-based field where
// it happened;
// after an error the consumed length still ends where the record does, so
// reading resumes at the next row. errOpenQuote says the record has no end
// in data: a quote (at quoteAt) is open when data ends.
func (c *csvSplitter) split(data []byte) (n, newlines int, err error, errField int) {
	c.fields = c.fields[:0]
	e := bytes.IndexByte(data, '\n')
	line, n := data, len(data)
	if e >= 0 {
		line, n, newlines = data[:e], e+1, 1
	}
	if bytes.IndexByte(line, '"') < 0 {
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				c.fields = append(c.fields, line)
				return n, newlines, nil, 0
			}
			if len(c.fields) == maxColumns-1 { // a comma after field maxColumns
				return n, newlines, errTooManyFields, maxColumns
			}
			c.fields = append(c.fields, line[:i])
			line = line[i+1:]
		}
	}
	n, err, errField = c.slow(data)
	return n, bytes.Count(data[:n], []byte{'\n'}), err, errField
}

// slow handles a record with quotes. Fields are kept as spans of data, or
// of scratch for a quoted field that holds doubled quotes or CRLFs to fold;
// the fields are made from the spans at the end, when scratch is whole.
func (c *csvSplitter) slow(data []byte) (n int, err error, errField int) {
	c.scratch, c.spans = c.scratch[:0], c.spans[:0]
	// skipLine ends a bad record where csvBounds ends it, at its first line
	// feed outside quotes from i (outside quotes).
	skipLine := func(i int, err error, field int) (int, error, int) {
		end, open := recordEnd(data, i)
		if open >= 0 {
			c.quoteAt = open
			return end, errOpenQuote, len(c.spans)
		}
		return end, err, field
	}
	i := 0
	for {
		if len(c.spans) == maxColumns {
			return skipLine(i, errTooManyFields, len(c.spans))
		}
		if i < len(data) && data[i] == '"' {
			open := i
			i++
			j := bytes.IndexByte(data[i:], '"')
			if j < 0 {
				c.quoteAt = open
				return len(data), errOpenQuote, len(c.spans)
			}
			if q := i + j; (q+1 >= len(data) || data[q+1] != '"') && bytes.IndexByte(data[i:q], '\r') < 0 {
				// The common quoted field: nothing doubled, nothing to fold.
				c.spans = append(c.spans, fieldSpan{int32(i), int32(q), false})
				i = q + 1
			} else {
				from := len(c.scratch)
				for {
					j := bytes.IndexByte(data[i:], '"')
					if j < 0 {
						c.quoteAt = open
						return len(data), errOpenQuote, len(c.spans)
					}
					seg := data[i : i+j]
					for {
						k := -1
						if bytes.IndexByte(seg, '\r') >= 0 {
							k = bytes.Index(seg, []byte("\r\n"))
						}
						if k < 0 {
							c.scratch = append(c.scratch, seg...)
							break
						}
						c.scratch = append(c.scratch, seg[:k]...)
						c.scratch = append(c.scratch, '\n')
						seg = seg[k+2:]
					}
					i += j + 1
					if i < len(data) && data[i] == '"' {
						c.scratch = append(c.scratch, '"')
						i++
						continue
					}
					break
				}
				c.spans = append(c.spans, fieldSpan{int32(from), int32(len(c.scratch)), true})
			}
			switch {
			case i >= len(data):
				return c.finish(data, len(data))
			case data[i] == ',':
				i++
				continue
			case data[i] == '\n':
				return c.finish(data, i+1)
			case data[i] == '\r' && (i+1 == len(data) || data[i+1] == '\n'):
				return c.finish(data, min(i+2, len(data)))
			default:
				// Text after the closing quote of the field just ended.
				return skipLine(i, errQuote, len(c.spans)-1)
			}
		}
		// Unquoted field: up to the next comma or newline.
		start := i
		i = unquotedEnd(data, i)
		if i < len(data) && data[i] == '"' {
			return skipLine(i, errBareQuote, len(c.spans))
		}
		f := i
		if (i >= len(data) || data[i] == '\n') && f > start && data[f-1] == '\r' {
			f--
		}
		c.spans = append(c.spans, fieldSpan{int32(start), int32(f), false})
		if i >= len(data) {
			return c.finish(data, len(data))
		}
		if data[i] == '\n' {
			return c.finish(data, i+1)
		}
		i++ // comma
	}
}

// fieldSpan is a field of the record slow reads: data[start:end], or
// scratch[start:end].
type fieldSpan struct {
	start, end int32
	scratch    bool
}

// unquotedEnd is the offset of the first comma, line feed or quote at or
// after i, or len(data), found eight bytes at a time.
func unquotedEnd(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		x := binary.LittleEndian.Uint64(data[i:])
		if m := zeroBytes(x^','*bytes01) | zeroBytes(x^'\n'*bytes01) | zeroBytes(x^'"'*bytes01); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(data); i++ {
		if c := data[i]; c == ',' || c == '\n' || c == '"' {
			return i
		}
	}
	return i
}

func (c *csvSplitter) finish(data []byte, n int) (int, error, int) {
	for _, sp := range c.spans {
		if sp.scratch {
			c.fields = append(c.fields, c.scratch[sp.start:sp.end])
		} else {
			c.fields = append(c.fields, data[sp.start:sp.end])
		}
	}
	return n, nil, 0
}

// csvBounds tracks quoting across the reads of a stream, so the reader can
// cut it into chunks only at newlines that end a record.
type csvBounds struct {
	state byte // 0 outside quotes, 1 inside, 2 just after a quote inside quotes
	prev  byte // last byte seen, to tell a field's opening quote from a bare one
	// pos counts the bytes scanned; open is the offset (in the same count)
	// of the quote that opened the latest quoted field.
	pos, open int64
}

// scan consumes data and returns the offsets just past the first and the
// last record ends in it, or -1 if none.
func (b *csvBounds) scan(data []byte) (first, last int) {
	first, last = -1, -1
	// The last run outside quotes with a line feed in it holds the last
	// record end: looked for backwards once, at the end.
	lastI, lastJ := -1, -1
	b.walk(data, func(i, j int) bool {
		if k := bytes.IndexByte(data[i:j], '\n'); k >= 0 {
			if first < 0 {
				first = i + k + 1
			}
			lastI, lastJ = i, j
		}
		return true
	})
	if lastI >= 0 {
		last = lastI + bytes.LastIndexByte(data[lastI:lastJ], '\n') + 1
	}
	return first, last
}

// firstEnd consumes data up to the first record end in it and returns the
// offset just past it, or consumes all of data and returns -1.
func (b *csvBounds) firstEnd(data []byte) int {
	end := -1
	n := b.walk(data, func(i, j int) bool {
		if k := bytes.IndexByte(data[i:j], '\n'); k >= 0 {
			end = i + k + 1
			return false
		}
		return true
	})
	if end >= 0 {
		// Back to the state just past the line feed: outside quotes.
		b.pos -= int64(n - end)
		b.state, b.prev = 0, '\n'
	}
	return end
}

// walk runs the quote state machine over data, calling out(i, j) for each
// run data[i:j] outside quotes until out returns false; it returns how far
// it got (len(data) unless stopped).
func (b *csvBounds) walk(data []byte, out func(i, j int) bool) int {
	i := 0
	if b.prev == 0 {
		b.prev = '\n'
	}
	defer func() { b.pos += int64(i) }()
	for i < len(data) {
		switch b.state {
		case 0:
			q := bytes.IndexByte(data[i:], '"')
			if q < 0 {
				if !out(i, len(data)) {
					i = len(data)
					return i
				}
				b.prev = data[len(data)-1]
				i = len(data)
				return i
			}
			q += i
			if !out(i, q) {
				i = q
				return i
			}
			p := b.prev
			if q > 0 {
				p = data[q-1]
			}
			if p == ',' || p == '\n' {
				b.state = 1
				b.open = b.pos + int64(q)
			}
			b.prev = '"'
			i = q + 1
		case 1:
			q := bytes.IndexByte(data[i:], '"')
			if q < 0 {
				b.prev = data[len(data)-1]
				i = len(data)
				return i
			}
			b.state, b.prev = 2, '"'
			i += q + 1
		case 2:
			if data[i] == '"' {
				b.state, b.prev = 1, '"'
				i++
				continue
			}
			b.state = 0 // the quote closed the field; data[i] is read as unquoted
		}
	}
	return i
}

// recordEnd finds the end of the record that data[i:] continues, i being
// outside quotes: the offset just past its first line feed outside quotes,
// or len(data). open is the offset of the quote still open at the end of
// data, or -1.
func recordEnd(data []byte, i int) (end, open int) {
	b := csvBounds{prev: '\n'}
	if i > 0 {
		b.prev = data[i-1]
	}
	if e := b.firstEnd(data[i:]); e >= 0 {
		return i + e, -1
	}
	if b.state == 1 {
		return len(data), i + int(b.open)
	}
	return len(data), -1
}

// fieldOf is the 0-based field of the record starting at data[0] (after
// any blank lines) that holds offset at.
func fieldOf(data []byte, at int) int {
	field := 0
	b := csvBounds{prev: '\n'}
	b.walk(data[:at], func(i, j int) bool {
		for _, c := range data[i:j] {
			switch c {
			case ',':
				field++
			case '\n':
				field = 0
			}
		}
		return true
	})
	return field
}

// A chunk with no quote at all, as numeric traces are, has every row split
// by splitPlain: eight bytes at a time, commas and line feeds found with
// word arithmetic rather than one search per field. Its fields are the ones
// split's quote-free path makes (FuzzSplitPlain).

const (
	bytes01 = 0x0101010101010101
	lo7     = 0x7f7f7f7f7f7f7f7f
)

// zeroBytes sets the high bit of each byte of x that is zero, and of no
// other: the sum of two bytes below 0x80 never carries into the next byte.
func zeroBytes(x uint64) uint64 {
	return ^((x&lo7 + lo7) | x | lo7)
}

// splitPlain splits the record at the start of data, which holds no quote,
// as split does.
func (c *csvSplitter) splitPlain(data []byte) (n, newlines int, err error, errField int) {
	c.fields = c.fields[:0]
	start, i := 0, 0
	for ; i+8 <= len(data); i += 8 {
		x := binary.LittleEndian.Uint64(data[i:])
		nl := zeroBytes(x ^ '\n'*bytes01)
		commas := zeroBytes(x ^ ','*bytes01)
		if nl != 0 {
			commas &= nl&-nl - 1 // the commas before the line feed
		}
		for ; commas != 0; commas &= commas - 1 {
			j := i + bits.TrailingZeros64(commas)>>3
			if len(c.fields) == maxColumns-1 {
				return c.tooManyPlain(data, j)
			}
			c.fields = append(c.fields, data[start:j])
			start = j + 1
		}
		if nl != 0 {
			return c.lastPlain(data, start, i+bits.TrailingZeros64(nl)>>3), 1, nil, 0
		}
	}
	for ; i < len(data); i++ {
		switch data[i] {
		case '\n':
			return c.lastPlain(data, start, i), 1, nil, 0
		case ',':
			if len(c.fields) == maxColumns-1 {
				return c.tooManyPlain(data, i)
			}
			c.fields = append(c.fields, data[start:i])
			start = i + 1
		}
	}
	return c.lastPlain(data, start, len(data)), 0, nil, 0
}

// lastPlain adds the last field, data[start:end] without the CR of a CRLF
// (or of a last line without a line feed), and returns the bytes consumed.
func (c *csvSplitter) lastPlain(data []byte, start, end int) int {
	f := data[start:end]
	if len(f) > 0 && f[len(f)-1] == '\r' {
		f = f[:len(f)-1]
	}
	c.fields = append(c.fields, f)
	if end < len(data) {
		return end + 1
	}
	return end
}

// tooManyPlain ends a record of more than maxColumns fields at its line
// feed, as split does.
func (c *csvSplitter) tooManyPlain(data []byte, at int) (int, int, error, int) {
	if e := bytes.IndexByte(data[at:], '\n'); e >= 0 {
		return at + e + 1, 1, errTooManyFields, maxColumns
	}
	return len(data), 0, errTooManyFields, maxColumns
}
