package traffic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Request ids tell a request logged twice from two requests. Two exports of
// one deployment that cover the same hours (the same SpendLogs exported
// twice, day files that overlap) would count their common requests twice;
// where the logs carry an id per request, gatewise keeps a 64-bit
// fingerprint of each id with the log (never the id itself), so a file
// added later can be checked against every file before it, and its rows
// whose id an earlier file has are skipped before it is read.
//
// The reader does not read ids; ScanIDs walks the same rows the reader
// walks (the same CSV splitter, JSON scanner and sources), so a row it
// skips is a row the reader would have counted.

// MaxIDs bounds the fingerprints one combination of logs keeps, all files
// together: 8 bytes each, 32 MiB at the bound. Rows past it are still
// checked against the files before, but later files are not checked
// against them.
const MaxIDs = 1 << 22

// Choosing the id of a row. A preset names the columns its export keeps
// ids in; a log read through a plain mapping has its id in a column named
// for one. A bare "id" is taken only where a preset says it is the
// request's: in a hand-made CSV it is as often a row number that starts
// again in every file.
var (
	presetIDs = map[string][]string{
		"litellm-spendlogs":     {"request_id"},
		"litellm-payload":       {"id"},
		"helicone":              {"request_id", "response_id"},
		"openrouter-generation": {"id", "generation_id"},
		"portkey":               {"id"},
		"cloudflare":            {"id"},
		"openai-usage":          {"id", "response.body.id", "response.jsonBody.id", "custom_id"},
		"anthropic-usage":       {"id"},
		"litellm-errorlogs":     {"request_id"},
		"langfuse":              {"id"},
		"langsmith":             {"id"},
		"bedrock-invocation":    {"requestId"},
		"otel-genai":            {otlpSpanID},
	}
	genericIDs = []string{"request_id", "requestid", "request-id", "x-request-id", "generation_id", "response_id"}
)

// otlpSpanID names the id of an OpenTelemetry span: its traceId and spanId
// together identify it (opentelemetry-proto's trace.proto: a span_id is
// unique within its trace). A collector's file exporter that retries an
// export writes its spans again, and two exports can hold the same spans;
// a span whose pair an earlier file has is skipped like any repeated
// request id.
const otlpSpanID = "traceId+spanId"

// IDsNone, as the id column, turns the check by request id off.
const IDsNone = "none"

// noIDsOff is why a log has no ids when the user turned the check off.
const noIDsOff = "the check by request id was turned off"

// IDSet is the fingerprints of a log's request ids, sorted, each once.
type IDSet struct {
	fps []uint64
}

// Len is the number of fingerprints.
func (s *IDSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.fps)
}

func (s *IDSet) has(fp uint64) bool {
	if s == nil {
		return false
	}
	_, ok := slices.BinarySearch(s.fps, fp)
	return ok
}

// idSetMagic starts an encoded IDSet, with its version.
const idSetMagic = "gwids1"

// MarshalBinary encodes the set: its size, then the gaps between sorted
// fingerprints as varints (a little under 8 bytes each for a million ids).
func (s *IDSet) MarshalBinary() ([]byte, error) {
	out := binary.AppendUvarint([]byte(idSetMagic), uint64(s.Len()))
	var prev uint64
	for _, fp := range s.fps {
		out = binary.AppendUvarint(out, fp-prev)
		prev = fp
	}
	return out, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (s *IDSet) UnmarshalBinary(b []byte) error {
	if !bytes.HasPrefix(b, []byte(idSetMagic)) {
		return errors.New("request id fingerprints: not an encoded set")
	}
	b = b[len(idSetMagic):]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > MaxIDs || n > uint64(len(b)) {
		return errors.New("request id fingerprints: bad size")
	}
	b = b[k:]
	fps := make([]uint64, 0, n)
	var prev uint64
	for range n {
		d, k := binary.Uvarint(b)
		if k <= 0 || (len(fps) > 0 && d == 0) {
			return errors.New("request id fingerprints: truncated or out of order")
		}
		prev += d
		fps = append(fps, prev)
		b = b[k:]
	}
	if len(b) != 0 {
		return errors.New("request id fingerprints: trailing bytes")
	}
	s.fps = fps
	return nil
}

// IDScan is what ScanIDs found in a log.
type IDScan struct {
	// Column is the column (or JSON path) the ids were read from; empty when
	// the log has none, and NoIDs says why.
	Column string
	NoIDs  string
	// Rows counts the log's rows, blank lines left out; WithID those with
	// an id.
	Rows, WithID int64
	// Repeats counts rows whose id an earlier row of the same log has.
	// They stay: the log itself counts them so.
	Repeats int64
	// Duplicates counts, per earlier log, the rows whose id it has;
	// DuplicateRows is their sum, the rows Filter leaves out.
	Duplicates    []int64
	DuplicateRows int64
	// Partial says the ids outnumber the room MaxIDs left: IDs holds the
	// first ones.
	Partial bool
	// Gzip says the log was gzip-compressed (Filter writes it plain).
	Gzip bool
	// IDs are the log's own ids, those of no earlier log.
	IDs *IDSet
	// drop are the fingerprints of the duplicates, sorted.
	drop []uint64
	opts ReadOptions
	// read is how the reader takes the log in as it was given, which the
	// filtered copy must be read as too.
	read layout
}

// layout is how the reader takes a log in: its container, whether it is
// OTLP (and in lines), and its format as detected ("" for OTLP, which the
// reader resolves itself).
type layout struct {
	c               container
	otlp, otlpLines bool
	format          string
}

// ScanIDs reads a log's request ids, as the reader would read its rows
// with o, and checks them against the ids of the logs before it. column
// names the id column (a CSV column or a JSON path); "" picks the format's,
// IDsNone turns the check off. The ids kept are at most room. An error
// means the log could not be walked; the reader will say why when it reads
// it.
func ScanIDs(ctx context.Context, r io.Reader, o ReadOptions, column string, earlier []*IDSet, room int) (*IDScan, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	scan := &IDScan{Duplicates: make([]int64, len(earlier)), opts: o}
	if column == IDsNone {
		scan.NoIDs = noIDsOff
		return scan, nil
	}
	var own []uint64
	var drop []uint64
	err = walkRows(ctx, r, o, column, nil, func(col string, gz bool, l layout) { scan.Column, scan.Gzip, scan.read = col, gz, l }, func(fp uint64, ok bool) bool {
		scan.Rows++
		if !ok {
			return true
		}
		scan.WithID++
		for i, set := range earlier {
			if set.has(fp) {
				scan.Duplicates[i]++
				scan.DuplicateRows++
				drop = append(drop, fp)
				return true
			}
		}
		if len(own) < room {
			own = append(own, fp)
		} else {
			scan.Partial = true
		}
		return true
	})
	if err != nil {
		var no noIDs
		if errors.As(err, &no) {
			scan.NoIDs, scan.Column = string(no), ""
			return scan, nil
		}
		return nil, err
	}
	if scan.WithID == 0 {
		scan.NoIDs = fmt.Sprintf("its %s column holds no ids", scan.Column)
		scan.Column = ""
		return scan, nil
	}
	slices.Sort(own)
	uniq := slices.Compact(own)
	scan.Repeats = int64(len(own) - len(uniq))
	scan.IDs = &IDSet{fps: slices.Clip(uniq)}
	slices.Sort(drop)
	scan.drop = slices.Compact(drop)
	return scan, nil
}

// Filter writes the log, read again from r, without the rows ScanIDs found
// in earlier logs. Every other byte stays where it was, and a left-out row
// leaves its line feeds, so the reader's line numbers, the rows' order and
// the origins assigned by row position are those of the file.
func (s *IDScan) Filter(ctx context.Context, r io.Reader, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	drop := s.drop
	err := walkRows(ctx, r, s.opts, s.Column, bw, nil, func(fp uint64, ok bool) bool {
		if !ok {
			return true
		}
		_, found := slices.BinarySearch(drop, fp)
		return !found
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// IDColumnError says the id column asked for is not in the log.
type IDColumnError struct {
	Column  string
	Columns []string // a CSV's header; nil for JSON
}

func (e *IDColumnError) Error() string {
	if len(e.Columns) > 0 {
		return fmt.Sprintf("the log has no column %q to read request ids from (columns: %s)", e.Column, strings.Join(e.Columns, ", "))
	}
	return fmt.Sprintf("the log has no key %q to read request ids from", e.Column)
}

// noIDs says why a log has no id column.
type noIDs string

func (n noIDs) Error() string { return string(n) }

// fingerprint hashes an id: FNV-1a, then a finaliser that spreads its bits
// (the fingerprints are compared as sorted numbers).
func fingerprint(id []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range id {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

// idOf turns a value into the bytes that identify the request, or false
// when the row has none.
func idOf(v jvalue) ([]byte, bool) {
	switch v.kind {
	case jString:
		if v.escaped {
			s, ok := jsonString(v)
			return []byte(strings.TrimSpace(s)), ok && strings.TrimSpace(s) != ""
		}
		fallthrough
	case jNumber:
		b := bytes.TrimSpace(v.raw)
		return b, len(b) > 0 && !isNullWord(b)
	}
	return nil, false
}

// rowWriter copies a log as it is walked, keeping its line numbers: it
// writes line feeds for what it leaves out, and for what the source
// dropped itself (rows too long to read).
type rowWriter struct {
	w    *bufio.Writer
	line int64 // line number of the next byte written
	err  error
}

func (rw *rowWriter) write(b []byte) {
	if rw == nil || rw.err != nil {
		return
	}
	_, rw.err = rw.w.Write(b)
	rw.line += int64(bytes.Count(b, []byte{'\n'}))
}

// blank writes the line feeds of b.
func (rw *rowWriter) blank(b []byte) {
	if rw == nil {
		return
	}
	rw.padTo(rw.line + int64(bytes.Count(b, []byte{'\n'})))
}

// padTo writes line feeds until the next byte is on line.
func (rw *rowWriter) padTo(line int64) {
	if rw == nil || rw.err != nil {
		return
	}
	for ; rw.line < line; rw.line++ {
		if rw.err = rw.w.WriteByte('\n'); rw.err != nil {
			return
		}
	}
}

// walkRows reads a log as Read would and calls row with each row's id
// fingerprint (ok false for a row without one); with w set, it copies the
// log there, leaving out the rows row answers false for. found hears the
// id column once it is known, whether the log is gzip-compressed, and how
// the reader takes it in. A log with no id column ends the walk with a
// noIDs error.
func walkRows(ctx context.Context, r io.Reader, o ReadOptions, column string, w *bufio.Writer, found func(col string, gz bool, l layout), row func(fp uint64, ok bool) bool) error {
	in, gz, err := openInput(r, o.MaxBytes)
	if err != nil {
		return err
	}
	in.c.maxRatio = o.MaxGzipRatio
	head, err := in.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return err
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		in.Discard(3)
		head = head[3:]
	}
	if err := checkText(head); err != nil {
		return err
	}
	c, err := chooseContainer(head, o.Format)
	if err != nil {
		return err
	}
	// OTLP is walked request by request, its spans inside each, as the
	// reader's otlpSource reads it; other logs row by row.
	otlpLines, otlpLimit, isOTLP := otlpInput(head, c, &o)
	l := layout{c: c, otlp: isOTLP, otlpLines: otlpLines && isOTLP}
	maxRow := o.MaxLineBytes
	var src source
	switch {
	case isOTLP && otlpLines:
		src, c, maxRow = newLineSource(in, false, otlpLimit), containerJSONL, otlpLimit
	case isOTLP:
		src, c, maxRow = newDocSource(in, otlpLimit), containerJSON, otlpLimit
	case c == containerJSON:
		src = newDocSource(in, o.MaxLineBytes)
	default:
		src = newLineSource(in, c == containerCSV, o.MaxLineBytes)
	}
	first := &chunk{}
	more, err := src.next(first)
	if err != nil {
		return err
	}
	if !more {
		return errors.New("the file has no rows")
	}
	whole := first.buf[:first.start]
	var pl *plan
	var ids idSource
	if isOTLP {
		if column != "" && column != otlpSpanID {
			return &IDColumnError{Column: column}
		}
		ids = idSource{name: otlpSpanID, col: -1, otlp: true}
	} else {
		if pl, _, err = detect(first, c, o); err != nil {
			return err
		}
		if ids, err = idPlan(pl, column); err != nil {
			return err
		}
		l.format = pl.format
	}
	if found != nil {
		found(ids.name, gz, l)
	}
	var rw *rowWriter
	if w != nil {
		rw = &rowWriter{w: w, line: 1}
		// What detect stepped over: blank lines and the CSV header.
		rw.write(whole)
		rw.write(first.buf[len(whole):first.start])
	}
	if l, ok := src.(*lineSource); ok && pl != nil {
		l.header = pl.header
	}
	walker := &idWalker{pl: pl, ids: ids, o: &o, maxRow: maxRow, row: row, rw: rw}
	inArray := c == containerJSON && bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("["))
	if rw != nil && inArray {
		rw.write([]byte("["))
	}
	for ch := first; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case c == containerCSV:
			rw.padTo(ch.line)
			if err := walker.csv(ch.buf[ch.start:], ch.line); err != nil {
				return err
			}
		case c == containerJSONL:
			rw.padTo(ch.line)
			walker.jsonLines(ch.buf[ch.start:], ch.line)
		default:
			for _, s := range ch.spans {
				walker.jsonDoc(ch.buf[s.off:s.end], s.line, inArray)
			}
		}
		if rw != nil && rw.err != nil {
			return rw.err
		}
		ch = &chunk{buf: ch.buf[:0], spans: ch.spans[:0]}
		more, err := src.next(ch)
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	if rw != nil {
		if inArray {
			rw.write([]byte("]"))
		}
		switch s := src.(type) {
		case *lineSource:
			rw.padTo(s.line)
		case *docSource:
			rw.padTo(s.line)
		}
		return rw.err
	}
	return nil
}

// idSource is where a log keeps its ids: a CSV column, a JSON path, or
// the traceId and spanId of each OTLP span.
type idSource struct {
	name string
	col  int    // CSV
	path []byte // JSON
	otlp bool
}

// idPlan picks the id column of a log read with pl.
func idPlan(pl *plan, column string) (idSource, error) {
	if pl.reads[FieldRequests] || pl.p.explode != "" {
		return idSource{}, noIDs("its rows count several requests each, so a row has no one request id")
	}
	names := genericIDs
	if column != "" {
		names = []string{column}
	} else if ids, ok := presetIDs[pl.format]; ok {
		names = ids
	}
	if pl.container == containerCSV {
		for _, n := range names {
			for i, h := range pl.header {
				if h == n {
					return idSource{name: h, col: i}, nil
				}
			}
		}
		for _, n := range names {
			for i, h := range pl.header {
				if strings.EqualFold(strings.TrimSpace(h), n) {
					return idSource{name: h, col: i}, nil
				}
			}
		}
	} else {
		for _, n := range names {
			if pl.firstKeys[n] || column != "" {
				return idSource{name: n, col: -1, path: []byte(n)}, nil
			}
		}
	}
	if column != "" {
		return idSource{}, &IDColumnError{Column: column, Columns: pl.header}
	}
	return idSource{}, noIDs("it has no column of request ids (" + strings.Join(names, ", ") + ")")
}

// idWalker finds the id of each row of a chunk.
type idWalker struct {
	pl  *plan // nil for OTLP
	ids idSource
	o   *ReadOptions
	// maxRow bounds a row as the reader bounds it: a line, or one OTLP
	// export request.
	maxRow   int
	row      func(fp uint64, ok bool) bool
	rw       *rowWriter
	split    csvSplitter
	scan     jscan
	elems    jscan
	elemScan jscan
	// kept counts the rows of the JSON array written, for its commas.
	kept int
	// ot reads OTLP spans as the reader does.
	ot otlpSource
}

// csv walks CSV rows as the reader's csvRows does: blank lines are no rows,
// a row whose fields do not split or do not match the header has no id
// (the reader skips it as bad).
func (w *idWalker) csv(data []byte, line int64) error {
	ncols := len(w.pl.header)
	for len(data) > 0 {
		if data[0] == '\n' {
			w.rw.write(data[:1])
			data = data[1:]
			continue
		}
		if data[0] == '\r' && (len(data) == 1 || data[1] == '\n') {
			n := min(2, len(data))
			w.rw.write(data[:n])
			data = data[n:]
			continue
		}
		n, _, err, _ := w.split.split(data)
		if err == errOpenQuote {
			return openQuoteError(data, w.split.quoteAt, line, w.pl.header, errOpenQuote.Error())
		}
		rec := data[:n]
		data = data[n:]
		var fp uint64
		ok := err == nil && len(w.split.fields) == ncols && n <= w.o.MaxLineBytes &&
			utf8.Valid(rec) && bytes.IndexByte(rec, 0) < 0
		if ok {
			id := bytes.TrimSpace(w.split.fields[w.ids.col])
			if len(id) >= 2 && id[0] == '"' && id[len(id)-1] == '"' {
				id = id[1 : len(id)-1] // a cell that holds a JSON string (Langfuse's)
			}
			ok = len(id) > 0 && !isNullWord(id)
			fp = fingerprint(id)
		}
		if w.row(fp, ok) {
			w.rw.write(rec)
		} else {
			w.rw.blank(rec)
		}
		line += int64(bytes.Count(rec, []byte{'\n'}))
	}
	return nil
}

// jsonLines walks JSON Lines: each line a row, or a page of rows.
func (w *idWalker) jsonLines(data []byte, line int64) {
	for len(data) > 0 {
		e := bytes.IndexByte(data, '\n')
		rec, nl := data, []byte(nil)
		if e >= 0 {
			rec, nl, data = data[:e], data[e:e+1], data[e+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(rec)) > 0 {
			out, keep := w.record(rec)
			if keep {
				w.rw.write(out)
			}
		} else {
			w.rw.write(rec)
		}
		w.rw.write(nl)
		line++
	}
}

// jsonDoc walks one top-level value of a JSON document, written back at
// its line, inside the document's array when it has one.
func (w *idWalker) jsonDoc(rec []byte, line int64, inArray bool) {
	out, keep := w.record(rec)
	if !keep || w.rw == nil {
		return
	}
	if inArray && w.kept > 0 {
		w.rw.write([]byte(","))
	}
	w.rw.padTo(line)
	w.rw.write(out)
	w.kept++
}

// record finds the ids of one JSON value: a row, or a page whose rows are
// in an array under one of wrapperKeys (or an object, a page of one). It
// returns the value to write, without the page's rows that row refused,
// and whether to write it at all.
func (w *idWalker) record(rec []byte) ([]byte, bool) {
	if len(rec) > w.maxRow || !utf8.Valid(rec) || bytes.IndexByte(rec, 0) >= 0 {
		return rec, w.row(0, false)
	}
	if w.ids.otlp {
		return w.otlpRecord(rec)
	}
	var id jvalue
	var own bool
	// The reader takes a page's rows from the first of wrapperKeys that
	// holds an array, in that order, when the value has no model or usage
	// of its own.
	var wraps [8][]byte
	err := walkJSON(&w.scan, rec, func(path []byte, v jvalue) bool {
		// Comparisons of string(path) with a string do not allocate.
		switch {
		case bytes.Equal(path, w.ids.path):
			id = v
		case string(path) == "model" || string(path) == "usage":
			own = true
		}
		if v.kind == jArray {
			for i, k := range wrapperKeys {
				if i < len(wraps) && string(path) == k {
					wraps[i] = v.raw
				}
			}
		}
		return v.kind == jObject && underPath(w.ids.path, path)
	})
	if err != nil {
		return rec, w.row(0, false) // the reader skips it as bad
	}
	for _, arr := range wraps {
		if own || arr == nil {
			continue
		}
		at := cap(rec) - cap(arr) // arr lies inside rec
		kept := dropElements(arr, &w.elems, func(el []byte) bool {
			return w.row(w.elementID(el))
		})
		if bytes.Equal(kept, arr) {
			return rec, true
		}
		out := make([]byte, 0, len(rec))
		out = append(append(append(out, rec[:at]...), kept...), rec[at+len(arr):]...)
		return out, true
	}
	b, ok := idOf(id)
	return rec, w.row(fingerprint(b), ok)
}

// elementID is the id of one row of a page.
func (w *idWalker) elementID(el []byte) (uint64, bool) {
	var id jvalue
	if walkJSON(&w.elemScan, el, func(path []byte, v jvalue) bool {
		if bytes.Equal(path, w.ids.path) {
			id = v
		}
		return v.kind == jObject && underPath(w.ids.path, path)
	}) != nil {
		return 0, false
	}
	b, ok := idOf(id)
	return fingerprint(b), ok
}

// underPath says whether full lies inside the object at path.
func underPath(full, path []byte) bool {
	return len(full) > len(path) && full[len(path)] == '.' && bytes.HasPrefix(full, path)
}

// dropElements rewrites a JSON array without the objects keep refuses,
// keeping every line feed, so the rows after them stay on their lines.
func dropElements(arr []byte, s *jscan, keep func(el []byte) bool) []byte {
	out := make([]byte, 0, len(arr))
	out = append(out, '[')
	i, kept := 1, 0
	for {
		j := i
		for j < len(arr) && (arr[j] == ' ' || arr[j] == '\t' || arr[j] == '\n' || arr[j] == '\r' || arr[j] == ',') {
			j++
		}
		gap := bytes.Repeat([]byte{'\n'}, bytes.Count(arr[i:j], []byte{'\n'}))
		if j >= len(arr) || arr[j] == ']' {
			return append(append(out, gap...), arr[j:]...)
		}
		n, err := valueEnd(s, arr[j:])
		if err != nil {
			return arr // checked by the walk already; keep it as it is
		}
		el := arr[j : j+n]
		if arr[j] != '{' || keep(el) {
			if kept > 0 {
				out = append(out, ',')
			}
			out = append(append(out, gap...), el...)
			kept++
		} else {
			out = append(out, gap...)
			out = append(out, bytes.Repeat([]byte{'\n'}, bytes.Count(el, []byte{'\n'}))...)
		}
		i = j + n
	}
}

// otlpRecord finds the span ids of one OTLP export request, as the
// reader's otlpSource reads it: a row for each model call span, or one bad
// row for a request it cannot read. It returns the request without the
// spans row refused; every line feed stays, so the spans after them keep
// their lines.
func (w *idWalker) otlpRecord(rec []byte) ([]byte, bool) {
	ot := &w.ot
	var rs jvalue
	if walkJSON(&ot.scan, rec, func(path []byte, v jvalue) bool {
		if p := string(path); p == "resourceSpans" || p == "resource_spans" {
			rs = v
		}
		return false
	}) != nil {
		return rec, w.row(0, false)
	}
	switch rs.kind {
	case jArray:
	case jNull:
		return rec, true
	default:
		return rec, w.row(0, false)
	}
	type edit struct {
		at, n int
		with  []byte
	}
	var edits []edit
	ot.each(rs.raw, func(res []byte) {
		var scopes jvalue
		_ = walkJSON(&ot.scan, res, func(path []byte, v jvalue) bool {
			switch string(path) {
			case "scopeSpans", "scope_spans", "instrumentationLibrarySpans", "instrumentation_library_spans":
				scopes = v
			}
			return false
		})
		if scopes.kind != jArray {
			return
		}
		ot.each(scopes.raw, func(sc []byte) {
			var spans jvalue
			_ = walkJSON(&ot.scan, sc, func(path []byte, v jvalue) bool {
				if string(path) == "spans" {
					spans = v
				}
				return false
			})
			if spans.kind != jArray {
				return
			}
			kept := dropElements(spans.raw, &w.elems, func(el []byte) bool {
				fp, ok, call := w.spanID(el)
				return !call || w.row(fp, ok)
			})
			if !bytes.Equal(kept, spans.raw) {
				edits = append(edits, edit{at: offsetIn(rec, spans.raw), n: len(spans.raw), with: kept})
			}
		})
	})
	if len(edits) == 0 {
		return rec, true
	}
	out := make([]byte, 0, len(rec))
	from := 0
	for _, e := range edits {
		out = append(append(out, rec[from:e.at]...), e.with...)
		from = e.at + e.n
	}
	return append(out, rec[from:]...), true
}

// spanID is the fingerprint of a span's traceId and spanId (hex, compared
// without case), ok false when it lacks either; call says whether the
// reader reads the span as a request at all.
func (w *idWalker) spanID(el []byte) (fp uint64, ok, call bool) {
	fields, _, _, facts := w.ot.readSpan(el)
	if call, _ = facts.call(); !call {
		return 0, false, false
	}
	trace, tok := idOf(fields[0])
	span, sok := idOf(fields[1])
	if !tok || !sok {
		return 0, false, true
	}
	id := make([]byte, 0, len(trace)+1+len(span))
	id = append(append(append(id, bytes.ToLower(trace)...), '/'), bytes.ToLower(span)...)
	return fingerprint(id), true, true
}
