package traffic

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// cellKey is a worker-local cell: absolute bin (since the Unix epoch) and a
// packed route<<16|origin using the worker's own name tables.
type cellKey struct {
	bin int64
	ro  uint32
}

type cellAgg struct {
	key    cellKey
	d      Demand
	latSum float64
	latN   int64
}

type modelAgg struct {
	name                  string
	route                 int32
	requests, input, outp int64
}

// chunkStat lets the merge count out-of-order rows across chunk edges.
type chunkStat struct {
	seq         int
	first, last int64
	rows        bool
}

// worker parses rows and aggregates them into its own partial profile;
// nothing is shared with other workers until the merge.
type worker struct {
	pl *plan
	o  *ReadOptions

	split        csvSplitter
	scan, elScan jscan
	vals, parent []jvalue
	visit        func(path []byte, v jvalue) bool
	// keys is the memo of the walk under way: of rows, of rows found in a
	// page, or of an aggregate's results.
	keys                      *keyMemos
	rowKeys, leafKeys, elKeys keyMemos
	// shaped is the shape whose values, over none, are all w.vals holds.
	shaped   *rowShape
	lineBase int64 // line of the JSON row being walked, for messages
	nul      bool  // the chunk being parsed has a NUL byte somewhere
	text     bool  // the chunk is valid UTF-8, so every row in it is
	plain    bool  // the CSV chunk has no quote: splitPlain splits it
	lines    bool  // lineRows reads its rows: times and counts

	cells   []cellAgg
	cellIdx map[cellKey]int32
	lastKey cellKey
	lastIdx int32

	hists   map[uint32]*Histogram
	routes  table
	origins table
	models  []modelAgg
	modelIx map[string]int32
	fieldRt map[string]int32 // RouteByField: value → route
	// originRaw caches origin values: -1 means "not an origin, use the mix".
	originRaw map[string]int32

	rowsRead, rowsUsed int64
	others             int64 // rows that are not model calls (preset_extras.go)
	skipped            map[string]int64
	examples           []Problem
	minTs, maxTs       int64
	latN               int64
	latSum, latMax     float64
	cost               float64
	costRows           int64
	outOfOrder         int64
	chunks             []chunkStat
	cur                chunkStat
	prevTs             int64
	err                error
	// probe, when set, receives each row's raw timestamp instead of the
	// row being aggregated (settleClock looks at the first chunk this way);
	// it sets stop once it has seen enough.
	probe func(raw []byte)
	stop  bool
	// users holds hashes of the user values seen, up to maxUsers.
	users map[uint64]struct{}
	// iso caches the minute of the last start (0) and end (1) time read.
	iso [2]isoCache
	// fast says where fastRow reads a good CSV row from; nowLimit is the
	// latest time a row may have, a day past Now.
	fast     fastPlan
	nowLimit int64
	// reads is the plan's: the fields read at all.
	reads [numFields]bool
	// sameDims says every row has the same model, route and origin (the
	// log names none and no mix assigns origins); fixedDims that the first
	// row found them.
	sameDims, fixedDims bool
	fixedModel          int32
	fixedRO             uint32
	// binLo and binHi bound the bin of the last row, binLo its index: rows
	// in time order mostly fall in the same bin, and a division is dear.
	bin, binLo, binHi int64
	// lastModel, lastRoute and lastOrigin spare a row the map lookup of a
	// name the row before had: the model index and its raw name, the route
	// field's value and its route, the origin field's value and its origin.
	lastModel           int32
	lastRouteVal        []byte
	lastRoute           int32
	lastOriginVal       []byte
	lastOrigin          int32
	fixedRoute, anyOrig int32 // the route of RouteSingle, the "any" origin; -1 until first used
	mixOrigin           []int32
}

// table interns names to small indexes.
type table struct {
	names []string
	index map[string]int32
}

func (t *table) id(b []byte) int32 {
	if i, ok := t.index[string(b)]; ok {
		return i
	}
	s := string(b)
	i := int32(len(t.names))
	t.names = append(t.names, s)
	t.index[s] = i
	return i
}

func newWorker(pl *plan, o *ReadOptions) *worker {
	w := &worker{pl: pl, o: o, cellIdx: map[cellKey]int32{}, lastIdx: -1, lastModel: -1, lastRoute: -1, lastOrigin: noOrigin, fixedRoute: -1, anyOrig: -1,
		hists: map[uint32]*Histogram{}, modelIx: map[string]int32{}, fieldRt: map[string]int32{}, originRaw: map[string]int32{},
		skipped: map[string]int64{}, minTs: math.MaxInt64, maxTs: math.MinInt64}
	w.routes.index, w.origins.index = map[string]int32{}, map[string]int32{}
	w.fast, w.nowLimit, w.reads = fastPlanOf(pl), o.Now.UnixNano()+86400e9, pl.reads
	w.fast.ok = w.fast.ok && !o.general
	if !w.fast.ok {
		w.fast.cols, w.fast.strict, w.fast.json = nil, false, false
	}
	w.sameDims = !pl.reads[FieldModel] && !pl.reads[FieldRoute] && !pl.reads[FieldOrigin] && len(o.OriginMix) == 0 && !o.general
	w.binLo, w.binHi = 1, 0 // empty
	for _, r := range o.Routes {
		w.routes.id([]byte(r.Name))
	}
	if pl.container == containerCSV {
		w.vals = make([]jvalue, len(pl.header)+len(pl.extras.cells))
	} else {
		w.vals = make([]jvalue, pl.nslots)
		w.parent = make([]jvalue, pl.nslots)
		w.visit = func(path []byte, v jvalue) bool {
			k := w.keys.at(path, w.pl)
			if k.slot >= 0 {
				w.vals[k.slot] = v
			}
			return v.kind == jObject && v.raw == nil && k.descend
		}
		if o.general {
			// The plan's maps for every key: the reference for the memo.
			w.visit = func(path []byte, v jvalue) bool {
				if s, ok := w.pl.paths[string(path)]; ok {
					w.vals[s] = v
				}
				return v.kind == jObject && v.raw == nil && w.pl.prefixes[string(path)]
			}
		}
	}
	return w
}

// walk reads the JSON object rec into w.vals, which start as base (empty
// when nil), through the memo m: as a row of the shape of the last one m
// walked in full when it is one, else with the scanner, which the general
// reading does with no memo at all.
func (w *worker) walk(s *jscan, m *keyMemos, rec []byte, base []jvalue) error {
	reset := func() {
		if base == nil {
			clear(w.vals)
		} else {
			copy(w.vals, base)
		}
	}
	if w.shaped != &m.shape || base != nil {
		// A row of the shape that put the only values w.vals holds needs
		// no clearing: it puts its own in the same slots.
		reset()
	}
	w.shaped = nil
	if w.o.general {
		s.memo = nil
		return walkJSON(s, rec, w.visit)
	}
	if m.shape.ok {
		if s.walkShape(&m.shape, rec, w.vals) {
			if base == nil {
				w.shaped = &m.shape
			}
			return nil
		}
		reset()
	}
	w.keys = m
	m.start()
	s.memo = m
	if err := walkJSON(s, rec, w.visit); err != nil {
		return err
	}
	m.shape.learn(rec, s.leaves, m)
	return nil
}

// keyMemo is what the plan makes of a JSON member: its path, its slot (-1
// for none) and whether the walk goes into its object; key is the path's
// last part and plen the length before it, so the scanner can match the key
// where it lies (nil when it was written with escapes).
type keyMemo struct {
	path, key []byte
	plen      int32
	slot      int32
	descend   bool
}

// keyMemos remembers the members of the last row walked, in their order.
// Rows of an export have the same keys in the same order, so the n-th
// member of a row is mostly the n-th of the row before: while every member
// so far has been, the scanner matches the next key in place (jscan.member)
// and its path is known, as the members before fix the object it is in;
// after one differs, paths are compared, which still costs less than
// looking them up.
type keyMemos struct {
	e []keyMemo
	n int
	// streak holds while the walk's members are the memo's; hit says the
	// scanner matched member n; plen and escaped describe a key it did not.
	streak, hit, escaped bool
	plen                 int
	spare                keyMemo // the answer for a member past maxKeyMemos
	// shape is the last row walked in full, for the rows that follow with
	// the same keys in the same places (jscan.walkShape).
	shape rowShape
}

// maxKeyMemos bounds the keys remembered, whatever a row holds.
const maxKeyMemos = 256

// start readies the memo for a walk.
func (m *keyMemos) start() { m.n, m.streak, m.hit = 0, true, false }

// at is what the plan makes of the walk's next member, whose path is path;
// the result is valid until the next call.
func (m *keyMemos) at(path []byte, pl *plan) *keyMemo {
	n := m.n
	m.n++
	if m.hit {
		m.hit = false
		return &m.e[n]
	}
	if n < len(m.e) && string(m.e[n].path) == string(path) {
		return &m.e[n]
	}
	s, ok := pl.paths[string(path)]
	if !ok {
		s = -1
	}
	k := keyMemo{slot: s, descend: pl.prefixes[string(path)], plen: int32(m.plen)}
	switch {
	case n < len(m.e):
		k.path = append(m.e[n].path[:0], path...)
	case n < maxKeyMemos:
		k.path = append([]byte(nil), path...)
	default:
		m.spare = k
		return &m.spare
	}
	if !m.escaped {
		k.key = k.path
		if m.plen > 0 {
			k.key = k.path[m.plen+1:] // after the prefix and its dot
		}
	}
	if n < len(m.e) {
		m.e[n] = k
	} else {
		m.e = append(m.e, k)
	}
	return &m.e[n]
}

// process handles one chunk.
func (w *worker) process(c *chunk) {
	w.cur = chunkStat{seq: c.seq}
	w.prevTs = math.MinInt64
	data := c.buf[c.start:]
	if w.fast.strict && w.probe == nil {
		// lineRows takes only rows of digits, times and delimiters, so the
		// chunk need not be searched for NULs, bad UTF-8 or quotes first:
		// the rows it leaves are checked one by one.
		w.nul, w.text, w.plain, w.lines = true, false, false, true
		w.csvRows(data, c.line)
		w.chunks = append(w.chunks, w.cur)
		return
	}
	// One search per chunk spares every row its own.
	w.nul = bytes.IndexByte(data, 0) >= 0
	w.text = utf8.Valid(data)
	switch {
	case w.pl.container == containerCSV:
		w.plain = bytes.IndexByte(data, '"') < 0
		w.lines = w.plain && w.text && !w.nul && w.fast.cols != nil && w.probe == nil
		w.csvRows(data, c.line)
	case len(c.spans) > 0 || w.pl.container == containerJSON:
		for _, s := range c.spans {
			if w.stop {
				break
			}
			w.jsonRow(c.buf[s.off:s.end], s.line, uint64(s.off))
		}
	default:
		w.jsonLines(c.buf[c.start:], c.line)
	}
	w.chunks = append(w.chunks, w.cur)
}

func (w *worker) csvRows(data []byte, line int64) {
	ncols := len(w.pl.header)
	for len(data) > 0 && !w.stop {
		if data[0] == '\n' {
			data, line = data[1:], line+1
			continue
		}
		if data[0] == '\r' && (len(data) == 1 || data[1] == '\n') {
			data, line = data[min(2, len(data)):], line+1
			continue
		}
		if w.lines {
			if n, lines := w.lineRows(data, line); n > 0 {
				data, line = data[n:], line+lines
				continue
			}
		}
		var n, nl, ef int
		var err error
		if w.plain {
			n, nl, err, ef = w.split.splitPlain(data)
		} else {
			n, nl, err, ef = w.split.split(data)
		}
		if err == errOpenQuote {
			// Reading on would make the rest of the file one field.
			w.err = openQuoteError(data, w.split.quoteAt, line, w.pl.header, errOpenQuote.Error())
			return
		}
		rec := data[:n]
		data = data[n:]
		skipped, examples := w.rowsRead-w.rowsUsed, len(w.examples)
		switch {
		case n > w.o.MaxLineBytes:
			w.rowsRead++
			w.bad(ReasonTooLong, line, 0, "", fmt.Sprintf("row longer than %d bytes; skipped", w.o.MaxLineBytes))
		case !w.text && !utf8.Valid(rec) || w.nul && bytes.IndexByte(rec, 0) >= 0:
			w.rowsRead++
			w.badText(rec, line)
		case err == errTooManyFields:
			w.rowsRead++
			w.bad(ReasonFieldCount, line, 0, "", fmt.Sprintf("more than %d fields, the header has %d", maxColumns, ncols))
		case err != nil:
			w.rowsRead++
			w.bad(ReasonSyntax, line, ef+1, w.colName(ef), err.Error())
		case len(w.split.fields) != ncols:
			w.rowsRead++
			w.bad(ReasonFieldCount, line, 0, "", fmt.Sprintf("%d fields, the header has %d", len(w.split.fields), ncols))
		case w.fast.ok && w.probe == nil && w.fastRow(line):
		default:
			for _, col := range w.pl.usedCols {
				f := w.split.fields[col]
				w.vals[col] = jvalue{raw: f, kind: jString}
			}
			if len(w.pl.extras.cells) == 0 || w.cellValues(line) {
				w.row(line, uint64(line))
			}
		}
		if nl > 1 || nl == 1 && rec[len(rec)-1] != '\n' {
			if w.rowsRead-w.rowsUsed > skipped && len(w.examples) > examples {
				// A bad row whose quotes hold line feeds: say which lines it
				// took, as a quote that opens by mistake joins rows into one.
				last := line + int64(nl)
				if rec[len(rec)-1] == '\n' {
					last--
				}
				p := &w.examples[len(w.examples)-1]
				p.Message += fmt.Sprintf("; quotes make lines %d to %d one row", line, last)
			}
		}
		line += int64(nl)
	}
}

func (w *worker) colName(i int) string {
	if i >= 0 && i < len(w.pl.header) {
		return w.pl.header[i]
	}
	return ""
}

func (w *worker) jsonLines(data []byte, line int64) {
	for len(data) > 0 && !w.stop {
		e := bytes.IndexByte(data, '\n')
		rec := data
		if e >= 0 {
			rec, data = data[:e], data[e+1:]
		} else {
			data = nil
		}
		switch {
		case len(rec) > w.o.MaxLineBytes:
			w.rowsRead++
			w.bad(ReasonTooLong, line, 0, "", fmt.Sprintf("row longer than %d bytes; skipped", w.o.MaxLineBytes))
		case len(bytes.TrimSpace(rec)) > 0:
			w.jsonRow(rec, line, 0)
		}
		line++
	}
}

// jsonRow walks one JSON value: a row, a page of rows, or an aggregate whose
// per-model results become rows.
func (w *worker) jsonRow(rec []byte, line int64, ord uint64) {
	if !w.text && !utf8.Valid(rec) || w.nul && bytes.IndexByte(rec, 0) >= 0 {
		w.rowsRead++
		w.badText(rec, line)
		return
	}
	if err := w.walk(&w.scan, &w.rowKeys, rec, nil); err != nil {
		w.rowsRead++
		w.badJSON(rec, line, err)
		return
	}
	if w.isPage() {
		for _, s := range w.pl.wrapSlots {
			v := w.vals[s]
			switch v.kind {
			case jArray:
				// v.raw lies inside rec, so their capacities tell its offset.
				first := line + int64(bytes.Count(rec[:cap(rec)-cap(v.raw)], []byte{'\n'}))
				arr := v.raw
				w.elements(arr, func(el []byte, off int) {
					w.leaf(el, first+int64(bytes.Count(arr[:off], []byte{'\n'})), ord+uint64(off)+1)
				})
				return
			case jObject:
				if v.raw != nil {
					w.leaf(v.raw, line, ord)
					return
				}
			}
		}
	}
	w.exploded(line, ord)
}

// leaf walks a row found inside a page; it is not unwrapped again.
func (w *worker) leaf(rec []byte, line int64, ord uint64) {
	if err := w.walk(&w.scan, &w.leafKeys, rec, nil); err != nil {
		w.rowsRead++
		w.badJSON(rec, line, err)
		return
	}
	w.exploded(line, ord)
}

// exploded turns an aggregate with per-model results into one row per
// result, each inheriting the aggregate's times.
func (w *worker) exploded(line int64, ord uint64) {
	if w.pl.explodeSlot < 0 || w.vals[w.pl.explodeSlot].kind != jArray {
		w.row(line, ord)
		return
	}
	copy(w.parent, w.vals)
	raw := w.vals[w.pl.explodeSlot].raw
	w.elements(raw, func(el []byte, off int) {
		if err := w.walk(&w.elScan, &w.elKeys, el, w.parent); err != nil {
			w.rowsRead++
			w.badJSON(el, line, err)
			return
		}
		w.row(line, ord+uint64(off)+1)
	})
}

// elements calls fn for each object in a JSON array already checked by the
// walk, with its offset in the array.
func (w *worker) elements(arr []byte, fn func(el []byte, off int)) {
	i := 1
	for {
		for i < len(arr) && (arr[i] == ' ' || arr[i] == '\t' || arr[i] == '\n' || arr[i] == '\r' || arr[i] == ',') {
			i++
		}
		if i >= len(arr) || arr[i] == ']' {
			return
		}
		n, err := valueEnd(&w.elScan, arr[i:])
		if err != nil {
			return
		}
		if arr[i] == '{' {
			fn(arr[i:i+n], i)
		}
		i += n
	}
}

// isPage tells a page that wraps rows from a row.
func (w *worker) isPage() bool {
	for _, s := range w.pl.ownSlots {
		if w.vals[s].kind != jAbsent {
			return false
		}
	}
	for _, s := range w.pl.wrapSlots {
		if k := w.vals[s].kind; k == jArray || (k == jObject && w.vals[s].raw != nil) {
			return true
		}
	}
	return false
}

func (w *worker) badJSON(rec []byte, line int64, err error) {
	msg := err.Error()
	if je, ok := err.(*jsonError); ok {
		off := min(je.off, len(rec))
		line += int64(bytes.Count(rec[:off], []byte{'\n'}))
		col := off - bytes.LastIndexByte(rec[:off], '\n')
		msg = fmt.Sprintf("invalid JSON at character %d: %s", col, je.msg)
	}
	w.bad(ReasonSyntax, line, 0, "", msg)
}

// badText reports a row that is not text: the first NUL byte or byte that
// is not UTF-8, by its line and character.
func (w *worker) badText(rec []byte, line int64) {
	i := textFault(rec)
	if i == len(rec) {
		w.bad(ReasonUTF8, line, 0, "", "not valid UTF-8 text")
		return
	}
	line += int64(bytes.Count(rec[:i], []byte{'\n'}))
	col := utf8.RuneCount(rec[bytes.LastIndexByte(rec[:i], '\n')+1:i]) + 1
	if rec[i] == 0 {
		w.bad(ReasonBinary, line, 0, "", fmt.Sprintf("a NUL byte at character %d: binary data, not text", col))
		return
	}
	w.bad(ReasonUTF8, line, 0, "", fmt.Sprintf("not valid UTF-8 text: byte 0x%02x at character %d", rec[i], col))
}

// textFault is the offset of the first NUL byte or byte that is not UTF-8
// in b, or len(b).
func textFault(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] == 0 {
			return i
		}
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// bad counts a skipped row and keeps the first few examples of each reason.
func (w *worker) bad(reason string, line int64, col int, field, msg string) {
	w.skipped[reason]++
	if w.skipped[reason] <= examplesPerReason {
		w.examples = append(w.examples, Problem{Reason: reason, Line: line, Column: col, Field: field, Message: msg})
	}
}

// get returns the first present value of f.
func (w *worker) get(f Field) (v jvalue, r slotRef, ok bool) {
	if w.reads[f] {
		v, r, ok = w.lookup(f)
	}
	return
}

func (w *worker) lookup(f Field) (jvalue, slotRef, bool) {
	if w.pl.hasConst[f] {
		return jvalue{raw: w.pl.constRaw[f], kind: jString}, w.pl.constRef[f], true
	}
	for _, r := range w.pl.cands[f] {
		v := w.vals[r.slot]
		switch v.kind {
		case jAbsent, jNull:
			continue
		case jString:
			if w.pl.container == containerCSV {
				if n := len(v.raw); n > 0 && (!isGraphic(v.raw[0]) || !isGraphic(v.raw[n-1])) {
					v.raw = bytes.TrimSpace(v.raw)
				}
				if isNullWord(v.raw) {
					continue
				}
			}
			if len(v.raw) == 0 {
				continue
			}
			if v.escaped {
				s, ok := jsonString(v)
				if !ok {
					continue
				}
				v = jvalue{raw: []byte(s), kind: jString}
			}
		}
		return v, r, true
	}
	return jvalue{}, slotRef{}, false
}

// isGraphic tells an ASCII byte that bytes.TrimSpace keeps at either end of
// a field: neither space nor control nor the start of a multi-byte rune.
func isGraphic(c byte) bool { return c > ' ' && c < utf8.RuneSelf }

// isNullWord recognises how CSV writers spell a missing value.
func isNullWord(b []byte) bool {
	switch len(b) {
	case 2:
		return b[0] == '\\' && b[1] == 'N'
	case 3:
		return string(b) == "NaN" || string(b) == "nan"
	case 4:
		s := string(b)
		return s == "null" || s == "NULL" || s == "None" || s == "none"
	}
	return false
}

// column is the 1-based CSV column of a slot, for messages.
func (w *worker) column(r slotRef) int {
	if w.pl.container == containerCSV && r.slot >= 0 {
		return int(w.pl.csvColumn(r.slot)) + 1
	}
	return 0
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// count reads a non-negative whole number field; ok is false after a bad row
// was recorded.
func (w *worker) count(f Field, line int64) (n int64, present, ok bool) {
	v, r, present := w.get(f)
	if !present {
		return 0, false, true
	}
	n, good := parseCount(v.raw)
	if !good {
		w.bad(ReasonBadNumber, line, w.column(r), r.name, fmt.Sprintf("%s %q is not a whole number", f, clip(v.raw)))
		return 0, true, false
	}
	if n < 0 {
		w.bad(ReasonNegative, line, w.column(r), r.name, fmt.Sprintf("%s is negative (%d)", f, n))
		return 0, true, false
	}
	return n, true, true
}

// timeOf reads a time field as Unix nanoseconds.
func (w *worker) timeOf(f Field, line int64) (ts int64, present, ok bool) {
	v, r, present := w.get(f)
	if !present {
		return 0, false, true
	}
	ts, good := parseTime(v.raw, r.unit, w.o.Start.UnixNano(), &w.iso[f&1])
	if !good {
		w.bad(ReasonBadTime, line, w.column(r), r.name, fmt.Sprintf("%s %q is not a time in unit %s", f, clip(v.raw), unitOrAuto(r.unit)))
		return 0, true, false
	}
	return ts, true, true
}

func unitOrAuto(u Unit) string {
	if u == UnitDefault {
		return "auto (ISO 8601 or epoch number)"
	}
	return u.String()
}

// parseTime turns a raw time into Unix nanoseconds.
func parseTime(b []byte, u Unit, start int64, iso *isoCache) (int64, bool) {
	if u == UnitDefault {
		if len(b) >= 10 && b[4] == '-' {
			return iso.parse(b)
		}
		f, ok := parseFloat(b)
		if !ok {
			return 0, false
		}
		switch a := math.Abs(f); {
		case a < 1e11:
			u = UnitUnixS
		case a < 1e14:
			u = UnitUnixMS
		case a < 1e17:
			u = UnitUnixUS
		default:
			u = UnitUnixNS
		}
	}
	if u == UnitISO {
		return iso.parse(b)
	}
	var scale float64
	base := int64(0)
	switch u {
	case UnitUnixS:
		scale = 1e9
	case UnitUnixMS:
		scale = 1e6
	case UnitUnixUS:
		scale = 1e3
	case UnitUnixNS:
		scale = 1
	case UnitOffsetS:
		scale, base = 1e9, start
	case UnitOffsetMS:
		scale, base = 1e6, start
	default:
		return 0, false
	}
	if n, ok := parseCount(b); ok && bytes.IndexByte(b, '.') < 0 && bytes.IndexAny(b, "eE") < 0 {
		hi, lo := bits.Mul64(uint64(abs64(n)), uint64(scale))
		if hi != 0 || lo > math.MaxInt64/2 {
			return 0, false
		}
		ns := int64(lo)
		if n < 0 {
			ns = -ns
		}
		return base + ns, true
	}
	f, ok := parseFloat(b)
	if !ok || math.Abs(f*scale) > math.MaxInt64/2 {
		return 0, false
	}
	return base + int64(math.Round(f*scale)), true
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// Bounds of a plausible timestamp: logs of LLM calls start well after 2000.
const minTimestamp = 946684800 * 1e9 // 2000-01-01T00:00:00Z

// row turns the current slot values into one request (or aggregate) and adds
// it to the partial profile. Every check happens before anything is added,
// so a bad row leaves no trace but its count.
func (w *worker) row(line int64, ord uint64) {
	if w.fast.json && w.probe == nil && w.fastJSON(line, ord) {
		return
	}
	if w.pl.extras.hasCall && !w.isCall() {
		if w.probe == nil {
			w.others++
		}
		return
	}
	if w.probe != nil {
		if v, _, ok := w.get(FieldTime); ok {
			w.probe(v.raw)
		}
		return
	}
	w.rowsRead++
	ts, present, ok := w.timeOf(FieldTime, line)
	if !ok {
		return
	}
	if !present {
		w.bad(ReasonNoTime, line, 0, w.timeName(), "no timestamp")
		return
	}
	if ts < minTimestamp {
		_, r, _ := w.get(FieldTime)
		w.bad(ReasonOldTime, line, w.column(r), r.name, "timestamp before 2000: the timestamp's unit is probably wrong")
		return
	}
	if !w.pl.relative && ts > w.nowLimit {
		_, r, _ := w.get(FieldTime)
		w.bad(ReasonFutureTime, line, w.column(r), r.name, "timestamp more than a day in the future")
		return
	}
	end, hasEnd, ok := w.timeOf(FieldEnd, line)
	if !ok {
		return
	}
	// The first bad count rejects the row: a row is skipped once, for one
	// reason, however many of its fields are bad.
	in, _, ok := w.count(FieldInput, line)
	if !ok {
		return
	}
	cached, _, ok := w.count(FieldCached, line)
	if !ok {
		return
	}
	cw, _, ok := w.count(FieldCacheWrite, line)
	if !ok {
		return
	}
	out, _, ok := w.count(FieldOutput, line)
	if !ok {
		return
	}
	reqs, agg, ok := w.count(FieldRequests, line)
	if !ok {
		return
	}
	failedN, _, ok := w.count(FieldFailed, line)
	if !ok {
		return
	}
	if w.pl.p.cacheOutsideInput {
		in += cached + cw
	}
	if !agg {
		reqs = 1
	}
	if in > maxTokens*max(reqs, 1) || out > maxTokens*max(reqs, 1) || reqs > 1e12 {
		w.bad(ReasonAbsurd, line, 0, "", fmt.Sprintf("implausible counts: %d requests, %d input and %d output tokens", reqs, in, out))
		return
	}
	if failedN > reqs {
		_, r, _ := w.get(FieldFailed)
		w.bad(ReasonAbsurd, line, w.column(r), r.name, fmt.Sprintf("%d failed requests but only %d requests", failedN, reqs))
		return
	}
	if cached > in {
		_, r, _ := w.get(FieldCached)
		w.bad(ReasonCachedOverrun, line, w.column(r), r.name, fmt.Sprintf("%d cached tokens but only %d input tokens", cached, in))
		return
	}

	latency, hasLat := 0.0, false
	if v, r, ok := w.get(FieldLatency); ok {
		f, good := parseFloat(v.raw)
		if !good {
			w.bad(ReasonBadNumber, line, w.column(r), r.name, fmt.Sprintf("latency %q is not a number", clip(v.raw)))
			return
		}
		if r.unit == UnitSeconds {
			f *= 1000
		}
		latency, hasLat = f, true
	} else if hasEnd && !agg {
		latency, hasLat = float64(end-ts)/1e6, true
	}
	if hasLat && latency < 0 {
		w.bad(ReasonNegative, line, 0, "latency", fmt.Sprintf("latency is negative (%.0f ms)", latency))
		return
	}
	if hasLat && latency > maxLatencyMs {
		w.bad(ReasonAbsurd, line, 0, "latency", fmt.Sprintf("latency of %.0f ms is more than a day", latency))
		return
	}
	cost, hasCost := 0.0, false
	if v, r, ok := w.get(FieldCost); ok {
		f, good := parseFloat(v.raw)
		if !good || f < 0 {
			w.bad(ReasonBadNumber, line, w.column(r), r.name, fmt.Sprintf("cost %q is not a non-negative number", clip(v.raw)))
			return
		}
		if r.unit == UnitCents {
			f /= 100
		}
		cost, hasCost = f, true
	}

	failed, class := w.outcome(out, agg)
	if !agg && failedN > 0 && !failed {
		failed, class = true, ErrOther
	}

	// An aggregate covers [ts, end): its counts are spread over the bins it
	// covers.
	span := int64(0)
	if agg {
		if hasEnd && end > ts {
			span = end - ts
		} else if b := w.pl.bucketWidth(); b > 0 {
			span = int64(b)
		}
		width := int64(w.o.BinWidth)
		if span > 0 && floorDiv(ts+span-1, width)-floorDiv(ts, width) > 31*86400e9/width {
			w.bad(ReasonAbsurd, line, 0, "end_time", "an aggregated row spans more than 31 days")
			return
		}
	}
	w.add(line, ord, &request{ts: ts, span: span, in: in, cached: cached, out: out, reqs: reqs, agg: agg,
		latency: latency, hasLat: hasLat, cost: cost, hasCost: hasCost, failed: failed, class: class, failedN: failedN})
}

// request is a good row's values, checked and ready to aggregate.
type request struct {
	ts, span              int64 // start, and the span an aggregate covers
	in, cached, out, reqs int64
	agg                   bool
	latency, cost         float64
	hasLat, hasCost       bool
	failed                bool
	class                 ErrorClass
	failedN               int64 // failed requests of an aggregate
}

// add aggregates a good row into the partial profile; the row's user,
// model, route and origin are read from the slots here.
func (w *worker) add(line int64, ord uint64, r *request) {
	w.rowsUsed++
	if v, _, ok := w.get(FieldUser); ok && len(w.users) < maxUsers {
		if w.users == nil {
			w.users = map[uint64]struct{}{}
		}
		w.users[maphash.Bytes(w.pl.userSeed, v.raw)] = struct{}{}
	}
	var model int32
	var ro uint32
	if w.fixedDims {
		model, ro = w.fixedModel, w.fixedRO
	} else {
		model = w.modelOf()
		route := w.routeOf(model)
		origin := w.originOf(uint64(line)<<20 + ord)
		ro = uint32(route)<<16 | uint32(origin)
		if w.sameDims {
			w.fixedModel, w.fixedRO, w.fixedDims = model, ro, true
		}
	}
	m := &w.models[model]
	m.requests += r.reqs
	m.input += r.in
	m.outp += r.out
	if r.hasCost {
		w.cost += r.cost
		w.costRows++
	}
	ts := r.ts
	if ts < w.prevTs {
		w.outOfOrder++
	}
	w.prevTs = ts
	if !w.cur.rows {
		w.cur.first, w.cur.rows = ts, true
	}
	w.cur.last = ts
	w.minTs = min(w.minTs, ts)

	width := int64(w.o.BinWidth)
	if ts < w.binLo || ts >= w.binHi {
		w.bin = floorDiv(ts, width)
		w.binLo = w.bin * width
		w.binHi = w.binLo + width
		if w.binHi < w.binLo { // the last bin before the int64 edge
			w.binHi = math.MaxInt64
		}
	}
	bin := w.bin
	if !r.agg {
		w.maxTs = max(w.maxTs, ts)
		c := w.cell(cellKey{bin: bin, ro: ro})
		if c == nil {
			return
		}
		c.d.Requests++
		c.d.Input += r.in
		c.d.CachedInput += r.cached
		c.d.Output += r.out
		if r.failed {
			c.d.Errors[r.class]++
		}
		if r.hasLat {
			c.latSum += r.latency
			c.latN++
			w.latency(ro, r.latency)
		}
		return
	}
	// Each bin gets its share of the integer totals, exactly.
	last := bin
	if r.span > 0 {
		last = floorDiv(ts+r.span-1, width)
	}
	w.maxTs = max(w.maxTs, ts+max(r.span-1, 0))
	k := uint64(last - bin + 1)
	for i := range k {
		c := w.cell(cellKey{bin: bin + int64(i), ro: ro})
		if c == nil {
			return
		}
		c.d.Requests += share(r.reqs, i, k)
		c.d.Input += share(r.in, i, k)
		c.d.CachedInput += share(r.cached, i, k)
		c.d.Output += share(r.out, i, k)
		c.d.Errors[ErrOther] += share(r.failedN, i, k)
	}
}

// share is bin i's part of n spread over k bins: floor((i+1)n/k) − floor(in/k),
// computed in 128 bits so large token totals cannot overflow.
func share(n int64, i, k uint64) int64 {
	part := func(j uint64) uint64 {
		hi, lo := bits.Mul64(uint64(n), j)
		q, _ := bits.Div64(hi, lo, k)
		return q
	}
	return int64(part(i+1) - part(i))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (w *worker) timeName() string {
	if c := w.pl.cands[FieldTime]; len(c) > 0 {
		return c[0].name
	}
	return ""
}

// outcome decides whether the request failed and why: an HTTP status wins,
// then a success flag, then error text; a trace whose failures are rows
// without output says so through its preset.
func (w *worker) outcome(out int64, agg bool) (bool, ErrorClass) {
	if agg {
		return false, 0
	}
	if w.pl.extras.hasFail {
		if failed, class := w.ruleFailed(); failed {
			return true, class
		}
	}
	var statusText, successText []byte
	if v, _, ok := w.get(FieldStatus); ok {
		if n, good := v.count(); good {
			if n >= 400 && n <= 599 {
				return true, classOfStatus(n)
			}
			if n >= 100 && n < 400 {
				return false, 0
			}
		} else if !emptyError(v) {
			statusText = v.raw
		}
	}
	if v, _, ok := w.get(FieldSuccess); ok {
		if good, known := parseBool(v.raw); known {
			if good && statusText == nil {
				return false, 0
			}
			if e, _, ok := w.get(FieldError); ok && !emptyError(e) {
				return true, classOfText(e.raw)
			}
			if statusText != nil {
				return true, classOfText(statusText)
			}
			return !good, ErrOther
		}
		successText = v.raw
	}
	if e, _, ok := w.get(FieldError); ok && !emptyError(e) {
		return true, classOfText(e.raw)
	}
	if statusText != nil {
		return true, classOfText(statusText)
	}
	if successText != nil {
		return true, classOfText(successText)
	}
	if w.pl.p.zeroOutputFails && out == 0 || w.pl.p.allFail {
		return true, ErrOther
	}
	return false, 0
}

// emptyError tells "no error" spellings from real error values.
func emptyError(v jvalue) bool {
	if v.kind == jFalse || v.kind == jObject || v.kind == jArray {
		return true
	}
	s := strings.ToLower(string(v.raw))
	return s == "" || s == "0" || s == "none" || s == "null" || s == "false" || s == "200"
}

func classOfStatus(n int64) ErrorClass {
	switch {
	case n == 429:
		return ErrRateLimit
	case n == 408 || n == 504 || n == 524 || n == 598 || n == 599:
		return ErrTimeout
	case n >= 500:
		return ErrServer
	}
	return ErrOther
}

// classOfText reads an error code, type or message.
func classOfText(b []byte) ErrorClass {
	if n, ok := parseCount(bytes.TrimSpace(b)); ok {
		return classOfStatus(n)
	}
	s := strings.ToLower(string(b))
	has := func(words ...string) bool {
		for _, x := range words {
			if strings.Contains(s, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has("429", "rate_limit", "rate limit", "ratelimit", "too many requests", "quota", "throttl"):
		return ErrRateLimit
	case has("timeout", "timed out", "deadline"):
		return ErrTimeout
	case has("500", "502", "503", "529", "server", "overload", "internal", "unavailable", "api_error", "bad gateway"):
		return ErrServer
	}
	return ErrOther
}

// modelOf interns the row's model.
func (w *worker) modelOf() int32 {
	var name []byte
	if v, _, ok := w.get(FieldModel); ok {
		name = v.raw
	}
	if m := w.lastModel; m >= 0 && w.models[m].name == string(name) {
		return m
	}
	i := w.internModel(name)
	if w.models[i].name == string(name) { // not "(other models)"
		w.lastModel = i
	}
	return i
}

func (w *worker) internModel(name []byte) int32 {
	if i, ok := w.modelIx[string(name)]; ok {
		return i
	}
	if len(w.models) >= maxModels {
		name = []byte("(other models)")
		if i, ok := w.modelIx[string(name)]; ok {
			return i
		}
	}
	s := string(name)
	i := int32(len(w.models))
	w.models = append(w.models, modelAgg{name: s, route: -1})
	w.modelIx[s] = i
	return i
}

// routeOf applies the route rule.
func (w *worker) routeOf(model int32) int32 {
	o := w.o
	rule := o.RouteBy
	if rule == RouteAuto {
		rule = RouteSingle
		if len(o.Routes) > 0 {
			rule = RouteByModel
		}
	}
	switch rule {
	case RouteSingle:
		if len(o.Routes) > 0 {
			return 0
		}
		if w.fixedRoute < 0 {
			w.fixedRoute = w.routes.id([]byte("all"))
		}
		return w.fixedRoute
	case RouteByModel:
		m := &w.models[model]
		if m.route < 0 {
			m.route = w.matchModel(m.name)
		}
		return m.route
	}
	v, _, ok := w.get(FieldRoute)
	var raw []byte
	if ok {
		raw = v.raw
	}
	if w.lastRoute >= 0 && string(w.lastRouteVal) == string(raw) {
		return w.lastRoute
	}
	val := raw
	if len(val) > 0 && val[0] == '[' { // a JSON array (of tags): its first element
		s, _ := firstString(val)
		val = []byte(s)
	}
	w.lastRoute = w.routeField(val)
	w.lastRouteVal = append(w.lastRouteVal[:0], raw...)
	return w.lastRoute
}

// routeField finds the route of a route field's value.
func (w *worker) routeField(val []byte) int32 {
	o := w.o
	if i, ok := w.fieldRt[string(val)]; ok {
		return i
	}
	s := string(val)
	var r int32
	switch {
	case len(o.Routes) > 0:
		r = w.matchValue(s)
	case s == "" || len(w.routes.names) >= maxRoutes:
		r = w.routes.id([]byte(o.OtherRoute))
	default:
		r = w.routes.id(val)
	}
	if len(w.fieldRt) < 100000 {
		w.fieldRt[s] = r
	}
	return r
}

func (w *worker) matchModel(name string) int32 {
	n := normalizeModel(name)
	for i, r := range w.o.Routes {
		for _, m := range r.Models {
			if strings.EqualFold(m, name) || normalizeModel(m) == n {
				return int32(i)
			}
		}
	}
	return w.routes.id([]byte(w.o.OtherRoute))
}

func (w *worker) matchValue(s string) int32 {
	for i, r := range w.o.Routes {
		if strings.EqualFold(r.Name, s) {
			return int32(i)
		}
		for _, v := range r.Values {
			if strings.EqualFold(v, s) {
				return int32(i)
			}
		}
	}
	return w.routes.id([]byte(w.o.OtherRoute))
}

// originOf reads the origin field, else assigns one from the mix by a hash of
// the row's position, so the assignment does not depend on how the file was
// cut between workers.
func (w *worker) originOf(ord uint64) int32 {
	o := w.o
	if v, _, ok := w.get(FieldOrigin); ok {
		var i int32
		if w.lastOrigin != noOrigin && string(w.lastOriginVal) == string(v.raw) {
			i = w.lastOrigin
		} else {
			var cached bool
			i, cached = w.originRaw[string(v.raw)]
			if !cached {
				i = w.originField(v.raw)
			}
			w.lastOrigin, w.lastOriginVal = i, append(w.lastOriginVal[:0], v.raw...)
		}
		if i >= 0 {
			return i
		}
	}
	if len(o.OriginMix) == 0 {
		if w.anyOrig < 0 {
			w.anyOrig = w.origins.id([]byte("any"))
		}
		return w.anyOrig
	}
	u := float64(splitmix64(ord)>>11) / (1 << 53)
	k := len(w.pl.mixNames) - 1
	for i, c := range w.pl.mixCum {
		if u < c {
			k = i
			break
		}
	}
	if w.mixOrigin == nil {
		w.mixOrigin = make([]int32, len(w.pl.mixNames))
		for i := range w.mixOrigin {
			w.mixOrigin[i] = -1
		}
	}
	if w.mixOrigin[k] < 0 {
		w.mixOrigin[k] = w.origins.id([]byte(w.pl.mixNames[k]))
	}
	return w.mixOrigin[k]
}

// originField maps an origin value to an origin, or -1 when the value says
// nothing the mix knows (then the mix assigns one). Results are cached per
// raw value, so a row costs one map lookup.
func (w *worker) originField(raw []byte) int32 {
	i := w.resolveOrigin(raw)
	if len(w.originRaw) < 10000 {
		w.originRaw[string(raw)] = i
	}
	return i
}

func (w *worker) resolveOrigin(raw []byte) int32 {
	o := w.o
	val := strings.ToLower(string(raw))
	if m, ok := o.OriginMap[val]; ok {
		return w.origins.id([]byte(m))
	}
	if m, ok := o.OriginMap[string(raw)]; ok {
		return w.origins.id([]byte(m))
	}
	if _, ok := o.OriginMix[val]; !ok && len(o.OriginMix) > 0 {
		return -1
	}
	if len(w.origins.names) >= maxOrigins {
		return w.origins.id([]byte("other"))
	}
	return w.origins.id([]byte(val))
}

// noOrigin marks lastOrigin unset (-1 is a result: use the mix).
const noOrigin = -2

// splitmix64 is a good 64-bit mixer (Steele, Lea, Flood 2014).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// cell finds or creates the worker's cell for k; nil (with w.err set) when
// the profile would outgrow its bound.
func (w *worker) cell(k cellKey) *cellAgg {
	if w.lastIdx >= 0 && w.lastKey == k {
		return &w.cells[w.lastIdx]
	}
	return w.findCell(k)
}

func (w *worker) findCell(k cellKey) *cellAgg {
	i, ok := w.cellIdx[k]
	if !ok {
		if len(w.cells) >= w.o.MaxCells {
			if w.err == nil {
				w.err = fmt.Errorf("the profile would need more than %d time × route × origin cells: the log spans too long for %v bins; use a wider bin", w.o.MaxCells, w.o.BinWidth)
			}
			return nil
		}
		i = int32(len(w.cells))
		w.cells = append(w.cells, cellAgg{key: k})
		w.cellIdx[k] = i
	}
	w.lastKey, w.lastIdx = k, i
	return &w.cells[i]
}

func (w *worker) latency(ro uint32, ms float64) {
	h := w.hists[ro]
	if h == nil {
		h = new(Histogram)
		w.hists[ro] = h
	}
	h[histBucket(ms)]++
	w.latN++
	w.latSum += ms
	w.latMax = max(w.latMax, ms)
}
