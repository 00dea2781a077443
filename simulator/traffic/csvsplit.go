package traffic

import (
	"bytes"
	"errors"
	"fmt"
)

// CSV follows encoding/csv's rules (RFC 4180, comma-separated, no lazy
// quotes): a field that starts with a quote runs to the matching quote, ""
// inside it is one quote, CRLF counts as LF, and a quote anywhere else is an
// error. The common row has no quote at all; it is split with
// bytes.IndexByte and costs no allocation. FuzzCSVSplit checks both paths
// against encoding/csv.

var (
	errBareQuote = errors.New(`bare " in non-quoted field`)
	errQuote     = errors.New(`extraneous or missing " in quoted field`)
	// errTooManyFields stops a record at maxColumns fields, so a row of
	// millions of commas costs no more than a row of ten thousand.
	errTooManyFields = fmt.Errorf("more than %d fields", maxColumns)
)

// csvSplitter splits one record at a time; its slices are reused between
// records, so the fields are valid until the next call.
type csvSplitter struct {
	fields  [][]byte
	ends    []int
	scratch []byte
}

// split reads the record at the start of data. It returns the bytes consumed
// (through the record's newline), the newlines inside the record (quoted
// fields may hold some), and on error the 0-based field where it happened;
// after an error the consumed length still ends at a newline, so reading
// resumes at the next row.
func (c *csvSplitter) split(data []byte) (n, newlines int, err error, errField int) {
	c.fields = c.fields[:0]
	e := bytes.IndexByte(data, '\n')
	line, n := data, len(data)
	if e >= 0 {
		line, n = data[:e], e+1
	}
	if bytes.IndexByte(line, '"') < 0 {
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				c.fields = append(c.fields, line)
				return n, 0, nil, 0
			}
			if len(c.fields) == maxColumns-1 { // a comma after field maxColumns
				return n, 0, errTooManyFields, maxColumns
			}
			c.fields = append(c.fields, line[:i])
			line = line[i+1:]
		}
	}
	return c.slow(data)
}

// slow handles a record with quotes, unescaping quoted fields into scratch.
func (c *csvSplitter) slow(data []byte) (n, newlines int, err error, errField int) {
	c.scratch, c.ends = c.scratch[:0], c.ends[:0]
	skipLine := func(i int, err error) (int, int, error, int) {
		e := bytes.IndexByte(data[i:], '\n')
		if e < 0 {
			return len(data), newlines, err, len(c.ends)
		}
		return i + e + 1, newlines, err, len(c.ends)
	}
	i := 0
	for {
		if len(c.ends) == maxColumns {
			return skipLine(i, errTooManyFields)
		}
		if i < len(data) && data[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(data[i:], '"')
				if j < 0 {
					// The quote never closes: the rest of the input is lost.
					newlines += bytes.Count(data[i:], []byte{'\n'})
					return len(data), newlines, errQuote, len(c.ends)
				}
				seg := data[i : i+j]
				if bytes.IndexByte(seg, '\n') < 0 {
					// The common quoted field: one line, nothing to fold.
					c.scratch = append(c.scratch, seg...)
					i += j + 1
					if i < len(data) && data[i] == '"' {
						c.scratch = append(c.scratch, '"')
						i++
						continue
					}
					break
				}
				newlines += bytes.Count(seg, []byte{'\n'})
				for {
					k := bytes.Index(seg, []byte("\r\n"))
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
			c.ends = append(c.ends, len(c.scratch))
			switch {
			case i >= len(data):
				return c.finish(len(data), newlines)
			case data[i] == ',':
				i++
				continue
			case data[i] == '\n':
				return c.finish(i+1, newlines)
			case data[i] == '\r' && (i+1 == len(data) || data[i+1] == '\n'):
				return c.finish(min(i+2, len(data)), newlines)
			default:
				return skipLine(i, errQuote)
			}
		}
		// Unquoted field: up to the next comma or newline.
		start := i
		for i < len(data) && data[i] != ',' && data[i] != '\n' {
			if data[i] == '"' {
				return skipLine(i, errBareQuote)
			}
			i++
		}
		f := data[start:i]
		if i >= len(data) || data[i] == '\n' {
			if len(f) > 0 && f[len(f)-1] == '\r' {
				f = f[:len(f)-1]
			}
		}
		c.scratch = append(c.scratch, f...)
		c.ends = append(c.ends, len(c.scratch))
		if i >= len(data) {
			return c.finish(len(data), newlines)
		}
		if data[i] == '\n' {
			return c.finish(i+1, newlines)
		}
		i++ // comma
	}
}

func (c *csvSplitter) finish(n, newlines int) (int, int, error, int) {
	prev := 0
	for _, e := range c.ends {
		c.fields = append(c.fields, c.scratch[prev:e])
		prev = e
	}
	return n, newlines, nil, 0
}

// csvBounds tracks quoting across the reads of a stream, so the reader can
// cut it into chunks only at newlines that end a record.
type csvBounds struct {
	state byte // 0 outside quotes, 1 inside, 2 just after a quote inside quotes
	prev  byte // last byte seen, to tell a field's opening quote from a bare one
}

// scan consumes data and returns the offsets just past the first and the
// last record ends in it, or -1 if none.
func (b *csvBounds) scan(data []byte) (first, last int) {
	first, last = -1, -1
	// ends notes the record ends in data[i:j], outside quotes.
	ends := func(i, j int) {
		if first < 0 {
			if k := bytes.IndexByte(data[i:j], '\n'); k >= 0 {
				first = i + k + 1
			}
		}
		if k := bytes.LastIndexByte(data[i:j], '\n'); k >= 0 {
			last = i + k + 1
		}
	}
	i := 0
	if b.prev == 0 {
		b.prev = '\n'
	}
	for i < len(data) {
		switch b.state {
		case 0:
			q := bytes.IndexByte(data[i:], '"')
			if q < 0 {
				ends(i, len(data))
				b.prev = data[len(data)-1]
				return first, last
			}
			q += i
			ends(i, q)
			p := b.prev
			if q > 0 {
				p = data[q-1]
			}
			if p == ',' || p == '\n' {
				b.state = 1
			}
			b.prev = '"'
			i = q + 1
		case 1:
			q := bytes.IndexByte(data[i:], '"')
			if q < 0 {
				b.prev = data[len(data)-1]
				return first, last
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
	return first, last
}
