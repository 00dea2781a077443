package traffic

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// Most rows of a log are good, and most CSV fields hold plain values: an
// ISO time, a run of digits. fastRow reads such a row straight from the
// split fields, with the same parsers and checks as row, and leaves any row
// it is not sure of to row, which reads it again from the start and says
// what is wrong with it. So the fast path never decides a bad row, and a
// good row is read the same way on either path (TestFastRowIsRow).

// fastPlan is where fastRow finds each field it reads: a CSV column, or -1.
// A JSON row's fields are read by fastJSON from their slots, the first
// present one as lookup reads them, each field's in the same unit.
type fastPlan struct {
	ok                                             bool
	time, end, in, cached, cacheWrite, out, lat, c int32
	timeUnit, endUnit, latUnit, costUnit           Unit
	json                                           bool
	slots                                          [numFields][]int32
	// slotCols are the columns add reads through the slots (model, route,
	// origin, user), copied there for it.
	slotCols []int32
	// cols, when not nil, is what each column of a narrow trace is (an ISO
	// time, a count, or unread): lineValues reads such rows in one pass.
	// strict says every column is read, so a row lineValues takes holds
	// nothing but digits, times and delimiters.
	cols   []colKind
	strict bool
}

// colKind is what lineValues makes of a column.
type colKind uint8

const (
	colSkip colKind = iota
	colTime
	colIn
	colCached
	colCacheWrite
	colOut
)

// newFastPlan says whether the plan's CSV fields are all ones fastRow
// reads, each from at most one column.
func newFastPlan(pl *plan) fastPlan {
	fp := fastPlan{time: -1, end: -1, in: -1, cached: -1, cacheWrite: -1, out: -1, lat: -1, c: -1}
	if pl.p.cacheOutsideInput {
		return fp
	}
	fp.json = pl.container != containerCSV
	col := func(f Field) (int32, Unit, bool) {
		cs := pl.cands[f]
		switch {
		case pl.hasConst[f] || len(cs) > 1 && !fp.json:
			return -1, 0, false
		case len(cs) == 0:
			return -1, 0, true
		}
		for _, c := range cs {
			if c.unit != cs[0].unit {
				return -1, 0, false
			}
			fp.slots[f] = append(fp.slots[f], c.slot)
		}
		return cs[0].slot, cs[0].unit, true
	}
	var ok [8]bool
	fp.time, fp.timeUnit, ok[0] = col(FieldTime)
	fp.end, fp.endUnit, ok[7] = col(FieldEnd)
	fp.in, _, ok[1] = col(FieldInput)
	fp.cached, _, ok[2] = col(FieldCached)
	fp.cacheWrite, _, ok[3] = col(FieldCacheWrite)
	fp.out, _, ok[4] = col(FieldOutput)
	fp.lat, fp.latUnit, ok[5] = col(FieldLatency)
	fp.c, fp.costUnit, ok[6] = col(FieldCost)
	fp.ok = fp.time >= 0
	for _, o := range ok {
		fp.ok = fp.ok && o
	}
	// Any other field (an aggregate's request count, its failures, one
	// added later) needs row's reading.
	for f := range numFields {
		switch f {
		case FieldTime, FieldEnd, FieldInput, FieldCached, FieldCacheWrite, FieldOutput, FieldLatency, FieldCost,
			FieldModel, FieldRoute, FieldOrigin, FieldUser, FieldStatus, FieldSuccess, FieldError:
		default:
			fp.ok = fp.ok && !pl.reads[f]
		}
	}
	for _, f := range []Field{FieldModel, FieldRoute, FieldOrigin, FieldUser, FieldStatus, FieldSuccess, FieldError} {
		fp.ok = fp.ok && !pl.hasConst[f]
		for _, cd := range pl.cands[f] {
			fp.slotCols = append(fp.slotCols, cd.slot)
		}
	}
	if fp.json {
		return fp // the slots of model, route, origin and user are add's
	}
	// A trace of times and counts only (Azure's) is read by lineRows.
	narrow := fp.ok && fp.end < 0 && fp.lat < 0 && fp.c < 0 && len(fp.slotCols) == 0 && (fp.timeUnit == UnitISO || fp.timeUnit == UnitDefault)
	if narrow {
		fp.cols = make([]colKind, len(pl.header))
		fp.cols[fp.time] = colTime
		for _, c := range []struct {
			col  int32
			kind colKind
		}{{fp.in, colIn}, {fp.cached, colCached}, {fp.cacheWrite, colCacheWrite}, {fp.out, colOut}} {
			if c.col >= 0 {
				fp.cols[c.col] = c.kind
			}
		}
		fp.strict = !slices.Contains(fp.cols, colSkip)
	}
	return fp
}

// lineValues reads the row at the start of data in one pass, for a trace
// of times and counts: the time is read through the minute the row before
// had, each count where its digits lie, and the columns no field reads are
// stepped over (only in a chunk with no quote, as a skipped field is not
// looked into). It returns the bytes the row takes through its line feed,
// or 0 when the row is not plainly good (a new minute, a count that is not
// all digits, a missing or extra field, a bad value, a quote), which the
// general path then reads.
func (w *worker) lineValues(data []byte) (n int, ts, in, cached, out int64) {
	p, last := 0, len(w.fast.cols)-1
	for col, kind := range w.fast.cols {
		var end int
		switch kind {
		case colSkip:
			end = p
			for end < len(data) && data[end] != ',' && data[end] != '\n' {
				end++
			}
		case colTime:
			var ok bool
			if ts, end, ok = w.timeAt(data, p); !ok {
				return 0, 0, 0, 0, 0
			}
		default:
			// digitsAt, by hand: the call would cost as much as the digits.
			var c int64
			end = -1
			if p+8 <= len(data) {
				x := binary.LittleEndian.Uint64(data[p:])
				if n := digits8(x); n < 8 {
					c, end = parse8(x, n), p+n
				}
			}
			if end < 0 {
				c, end = digitsLoop(data, p)
			}
			// In registers, not an array indexed by kind.
			switch kind {
			case colIn:
				in = c
			case colCached:
				cached = c
			case colOut:
				out = c
			}
		}
		if col < last {
			if end >= len(data) || data[end] != ',' {
				return 0, 0, 0, 0, 0
			}
			p = end + 1
			continue
		}
		switch {
		case end == len(data):
			p = end
		case data[end] == '\n':
			p = end + 1
		case data[end] == '\r' && (end+1 == len(data) || data[end+1] == '\n'):
			p = min(end+2, len(data))
		default:
			return 0, 0, 0, 0, 0
		}
	}
	if p > w.o.MaxLineBytes || ts < minTimestamp || (!w.pl.relative && ts > w.nowLimit) ||
		in > maxTokens || out > maxTokens || cached > in {
		return 0, 0, 0, 0, 0
	}
	return p, ts, in, cached, out
}

// lineRows reads rows from the start of data with lineValues as long as
// they are plainly good, and returns the bytes and lines they took. Such a
// trace names no model, route or origin and has no status or latency, so
// its rows differ only in time and counts: a run of rows in one bin is
// summed here and added to its cell at once, as add would add them one by
// one. The first row goes through add, which finds the model, route and
// origin every row has.
func (w *worker) lineRows(data []byte, line int64) (int, int64) {
	if !w.fixedDims {
		n, ts, in, cached, out := w.lineValues(data)
		if n == 0 {
			return 0, 0
		}
		r := request{ts: ts, in: in, cached: cached, out: out, reqs: 1}
		if w.pl.p.zeroOutputFails && out == 0 {
			r.failed, r.class = true, ErrOther
		}
		w.rowsRead++
		w.add(line, uint64(line), &r)
		return n, int64(bytes.Count(data[:n], []byte{'\n'}))
	}
	zeroFails := w.pl.p.zeroOutputFails
	width := int64(w.o.BinWidth)
	var run Demand // the rows of the current run, all in bin w.bin
	var rows, lines int64
	flush := func() {
		if run.Requests == 0 {
			return
		}
		if c := w.cell(cellKey{bin: w.bin, ro: w.fixedRO}); c != nil {
			c.d.add(&run)
		}
		m := &w.models[w.fixedModel]
		m.requests += run.Requests
		m.input += run.Input
		m.outp += run.Output
		run = Demand{}
	}
	p := 0
	for p < len(data) {
		n, ts, in, cached, out := w.lineValues(data[p:])
		if n == 0 {
			break
		}
		if ts < w.binLo || ts >= w.binHi {
			flush()
			w.bin = floorDiv(ts, width)
			w.binLo, w.binHi = w.bin*width, w.bin*width+width
			if w.binHi < w.binLo {
				w.binHi = math.MaxInt64
			}
		}
		run.Requests++
		run.Input += in
		run.CachedInput += cached
		run.Output += out
		if zeroFails && out == 0 {
			run.Errors[ErrOther]++
		}
		if ts < w.prevTs {
			w.outOfOrder++
		}
		w.prevTs = ts
		if !w.cur.rows {
			w.cur.first, w.cur.rows = ts, true
		}
		w.cur.last = ts
		w.minTs, w.maxTs = min(w.minTs, ts), max(w.maxTs, ts)
		rows++
		if data[p+n-1] == '\n' {
			lines++
		}
		p += n
	}
	flush()
	w.rowsRead += rows
	w.rowsUsed += rows
	return p, lines
}

// digitsAt reads the run of up to 18 digits at data[p:] and returns its
// value and where it ends. Where eight bytes can be loaded, up to eight
// digits are read as one word: the digits a count has vary from row to row,
// and a loop that stops on them is a branch the CPU mispredicts.
func digitsAt(data []byte, p int) (int64, int) {
	if p+8 <= len(data) {
		x := binary.LittleEndian.Uint64(data[p:])
		if n := digits8(x); n < 8 {
			return parse8(x, n), p + n
		}
	}
	return digitsLoop(data, p)
}

// digitsLoop is digitsAt a byte at a time.
func digitsLoop(data []byte, p int) (int64, int) {
	var n int64
	end := min(len(data), p+18)
	i := p
	for ; i < end; i++ {
		d := data[i] - '0'
		if d >= 10 {
			break
		}
		n = n*10 + int64(d)
	}
	return n, i
}

// digits8 counts the digits at the start of the eight bytes in x (the
// first byte lowest).
func digits8(x uint64) int {
	const hiNibbles, loNibbles = 0xf0f0f0f0f0f0f0f0, 0x0f0f0f0f0f0f0f0f
	// A byte is a digit when its high nibble is 3 and its low one plus 6
	// stays below 16; neither sum carries into the next byte.
	nd := (x&hiNibbles ^ '0'*bytes01) | (x&loNibbles+6*bytes01)&hiNibbles
	return bits.TrailingZeros64(^zeroBytes(nd)&0x8080808080808080) >> 3
}

// parse8 is the value of the first n (< 8) digits in x.
func parse8(x uint64, n int) int64 {
	if n == 0 {
		return 0
	}
	// The digits go to the top bytes, zeros above them, and pairs, fours
	// and eights of digits are combined in place.
	v := (x & 0x0f0f0f0f0f0f0f0f) << (64 - 8*n)
	v = (v*10 + v>>8) & 0x00ff00ff00ff00ff
	v = (v*100 + v>>16) & 0x0000ffff0000ffff
	v = (v*10000 + v>>32) & 0xffffffff
	return int64(v)
}

// timeAt reads a time at data[p:] whose date, hour and minute are those of
// the row before, followed by ":05" and up to nine digits of a fraction,
// then the end of the field; it returns the time, where the field ends and
// whether it was such a time (parseISO reads it the same, FuzzTimeAt).
func (w *worker) timeAt(data []byte, p int) (int64, int, bool) {
	c := &w.iso[0]
	if len(data)-p < 19 || !c.ok || [16]byte(data[p:p+16]) != c.key || data[p+16] != ':' {
		return 0, 0, false
	}
	s1, s2 := data[p+17]-'0', data[p+18]-'0'
	sec := int64(s1)*10 + int64(s2)
	if s1 >= 10 || s2 >= 10 || sec > 60 || c.secs >= math.MaxInt64/1_000_000_000-61 || c.secs <= math.MinInt64/1_000_000_000+1 {
		return 0, 0, false
	}
	end := p + 19
	var nanos int64
	if end < len(data) && data[end] == '.' {
		end++
		start := end
		if end+8 <= len(data) {
			x := binary.LittleEndian.Uint64(data[end:])
			if n := digits8(x); n < 8 {
				nanos, end = parse8(x, n), end+n
				goto read
			}
		}
		for lim := min(len(data), start+9); end < lim; end++ {
			d := data[end] - '0'
			if d >= 10 {
				break
			}
			nanos = nanos*10 + int64(d)
		}
	read:
		if end == start {
			return 0, 0, false
		}
		nanos *= pow10i[9-(end-start)]
	}
	if end < len(data) && data[end] != ',' && data[end] != '\n' && data[end] != '\r' {
		return 0, 0, false
	}
	return (c.secs+sec)*1e9 + nanos, end, true
}

// plainField returns a CSV field's value when row would read it as is: not
// empty, nothing to trim, not a word for null. present is false for an
// empty field (row reads it as absent); ok is false when row must decide.
func plainField(b []byte) (v []byte, present, ok bool) {
	n := len(b)
	if n == 0 {
		return nil, false, true
	}
	if !isGraphic(b[0]) || !isGraphic(b[n-1]) || (n <= 4 && isNullWord(b)) {
		return nil, false, false
	}
	return b, true, true
}

// fastCount reads a count column as row would, or says row must.
func (w *worker) fastCount(col int32) (int64, bool) {
	if col < 0 {
		return 0, true
	}
	// The common count, up to 18 digits and nothing else, is read here.
	f := w.split.fields[col]
	if len(f) <= 18 {
		var n int64
		i := 0
		for ; i < len(f) && f[i]-'0' < 10; i++ {
			n = n*10 + int64(f[i]-'0')
		}
		if i == len(f) {
			return n, true // an empty field is absent: 0, as row reads it
		}
	}
	b, present, ok := plainField(f)
	if !present {
		return 0, ok
	}
	n, good := parseCount(b)
	return n, good && n >= 0
}

// fastFloat reads a latency or cost column as row would: a non-negative
// number, present or not.
func (w *worker) fastFloat(col int32) (float64, bool, bool) {
	if col < 0 {
		return 0, false, true
	}
	b, present, ok := plainField(w.split.fields[col])
	if !present {
		return 0, false, ok
	}
	f, good := parseFloat(b)
	return f, true, good && f >= 0
}

// fastRow aggregates the row in w.split.fields if it is plainly good, and
// reports whether it did; nothing is counted when it did not.
func (w *worker) fastRow(line int64) bool {
	fp := &w.fast
	b, present, ok := plainField(w.split.fields[fp.time])
	if !present || !ok {
		return false
	}
	ts, good := parseTime(b, fp.timeUnit, w.o.Start.UnixNano(), &w.iso[0])
	if !good || ts < minTimestamp || (!w.pl.relative && ts > w.nowLimit) {
		return false
	}
	in, ok1 := w.fastCount(fp.in)
	cached, ok2 := w.fastCount(fp.cached)
	_, ok3 := w.fastCount(fp.cacheWrite)
	out, ok4 := w.fastCount(fp.out)
	if !ok1 || !ok2 || !ok3 || !ok4 || in > maxTokens || out > maxTokens || cached > in {
		return false
	}
	end, hasEnd := int64(0), false
	if fp.end >= 0 {
		b, present, ok := plainField(w.split.fields[fp.end])
		if !ok {
			return false
		}
		if present {
			if end, hasEnd = parseTime(b, fp.endUnit, w.o.Start.UnixNano(), &w.iso[1]); !hasEnd {
				return false
			}
		}
	}
	latency, hasLat, ok5 := w.fastFloat(fp.lat)
	if hasLat && fp.latUnit == UnitSeconds {
		latency *= 1000
	}
	if ok5 && !hasLat && hasEnd {
		// No latency field: a request's latency is its end less its start.
		latency, hasLat = float64(end-ts)/1e6, true
		ok5 = latency >= 0
	}
	cost, hasCost, ok6 := w.fastFloat(fp.c)
	if !ok5 || !ok6 || latency > maxLatencyMs {
		return false
	}
	if hasCost && fp.costUnit == UnitCents {
		cost /= 100
	}
	for _, c := range fp.slotCols {
		w.vals[c] = jvalue{raw: w.split.fields[c], kind: jString}
	}
	failed, class := w.outcome(out, false)
	w.rowsRead++
	w.add(line, uint64(line), &request{ts: ts, in: in, cached: cached, out: out, reqs: 1,
		latency: latency, hasLat: hasLat, cost: cost, hasCost: hasCost, failed: failed, class: class})
	return true
}

// jsonField reads a field of a JSON row as lookup would: its first
// candidate that is neither absent, null nor an empty string, or nil. ok is
// false when row must decide (a string with escapes to undo).
func (w *worker) jsonField(f Field) (v *jvalue, ok bool) {
	for _, s := range w.fast.slots[f] {
		v := &w.vals[s]
		switch v.kind {
		case jAbsent, jNull:
			continue
		case jString:
			if len(v.raw) == 0 {
				continue
			}
			if v.escaped {
				return nil, false
			}
		}
		return v, true
	}
	return nil, true
}

// jsonCount reads a count field of a JSON row as row would, or says row
// must.
func (w *worker) jsonCount(f Field) (int64, bool) {
	v, ok := w.jsonField(f)
	if v == nil {
		return 0, ok
	}
	n, good := v.count()
	return n, good && n >= 0
}

// jsonFloat reads a latency or cost field of a JSON row as row would: a
// non-negative number, present or not.
func (w *worker) jsonFloat(f Field) (float64, bool, bool) {
	v, ok := w.jsonField(f)
	if v == nil {
		return 0, false, ok
	}
	x, good := parseFloat(v.raw)
	return x, true, good && x >= 0
}

// fastJSON is fastRow for a JSON row, whose values the walk has put in
// w.vals: it aggregates the row if it is plainly good and reports whether
// it did; nothing is counted when it did not.
func (w *worker) fastJSON(line int64, ord uint64) bool {
	fp := &w.fast
	t, _ := w.jsonField(FieldTime)
	if t == nil {
		return false
	}
	ts, good := parseTime(t.raw, fp.timeUnit, w.o.Start.UnixNano(), &w.iso[0])
	if !good || ts < minTimestamp || (!w.pl.relative && ts > w.nowLimit) {
		return false
	}
	in, ok1 := w.jsonCount(FieldInput)
	cached, ok2 := w.jsonCount(FieldCached)
	_, ok3 := w.jsonCount(FieldCacheWrite)
	out, ok4 := w.jsonCount(FieldOutput)
	if !ok1 || !ok2 || !ok3 || !ok4 || in > maxTokens || out > maxTokens || cached > in {
		return false
	}
	end, hasEnd := int64(0), false
	if fp.end >= 0 {
		e, ok := w.jsonField(FieldEnd)
		if !ok {
			return false
		}
		if e != nil {
			if end, hasEnd = parseTime(e.raw, fp.endUnit, w.o.Start.UnixNano(), &w.iso[1]); !hasEnd {
				return false
			}
		}
	}
	latency, hasLat, ok5 := w.jsonFloat(FieldLatency)
	if hasLat && fp.latUnit == UnitSeconds {
		latency *= 1000
	}
	if ok5 && !hasLat && hasEnd {
		latency, hasLat = float64(end-ts)/1e6, true
		ok5 = latency >= 0
	}
	cost, hasCost, ok6 := w.jsonFloat(FieldCost)
	if !ok5 || !ok6 || latency > maxLatencyMs {
		return false
	}
	if hasCost && fp.costUnit == UnitCents {
		cost /= 100
	}
	failed, class := w.outcome(out, false)
	w.rowsRead++
	w.add(line, ord, &request{ts: ts, in: in, cached: cached, out: out, reqs: 1,
		latency: latency, hasLat: hasLat, cost: cost, hasCost: hasCost, failed: failed, class: class})
	return true
}
