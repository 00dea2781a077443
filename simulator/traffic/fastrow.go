package traffic

// Most rows of a log are good, and most CSV fields hold plain values: an
// ISO time, a run of digits. fastRow reads such a row straight from the
// split fields, with the same parsers and checks as row, and leaves any row
// it is not sure of to row, which reads it again from the start and says
// what is wrong with it. So the fast path never decides a bad row, and a
// good row is read the same way on either path (TestFastRowIsRow).

// fastPlan is where fastRow finds each field it reads: a CSV column, or -1.
type fastPlan struct {
	ok                                        bool
	time, in, cached, cacheWrite, out, lat, c int32
	timeUnit, latUnit, costUnit               Unit
	// slotCols are the columns add reads through the slots (model, route,
	// origin, user), copied there for it.
	slotCols []int32
	// cols, when not nil, is what each column of a narrow trace is (an ISO
	// time, a count, or unread): lineRow reads such rows in one pass.
	cols []colKind
}

// colKind is what lineRow makes of a column.
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
	fp := fastPlan{time: -1, in: -1, cached: -1, cacheWrite: -1, out: -1, lat: -1, c: -1}
	if pl.container != containerCSV || pl.p.cacheOutsideInput {
		return fp
	}
	col := func(f Field) (int32, Unit, bool) {
		switch {
		case pl.hasConst[f] || len(pl.cands[f]) > 1:
			return -1, 0, false
		case len(pl.cands[f]) == 0:
			return -1, 0, true
		}
		return pl.cands[f][0].slot, pl.cands[f][0].unit, true
	}
	var ok [7]bool
	fp.time, fp.timeUnit, ok[0] = col(FieldTime)
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
	// An end time, a request count or a constant needs row's reading.
	for _, f := range []Field{FieldEnd, FieldRequests} {
		fp.ok = fp.ok && !pl.reads[f]
	}
	for _, f := range []Field{FieldModel, FieldRoute, FieldOrigin, FieldUser, FieldStatus, FieldSuccess, FieldError} {
		fp.ok = fp.ok && !pl.hasConst[f]
		for _, cd := range pl.cands[f] {
			fp.slotCols = append(fp.slotCols, cd.slot)
		}
	}
	// A trace of times and counts only (Azure's) is read by lineRow.
	narrow := fp.ok && fp.lat < 0 && fp.c < 0 && len(fp.slotCols) == 0 && (fp.timeUnit == UnitISO || fp.timeUnit == UnitDefault)
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
	}
	return fp
}

// lineRow reads the row at the start of data in one pass, for a trace of
// times and counts in a chunk with no quote: the time is read through the
// minute the row before had, each count where its digits lie, and the
// columns no field reads are stepped over. It aggregates the row and
// returns the bytes it took through the line feed, or 0 when the row is not
// plainly good (a new minute, a count that is not all digits, a missing or
// extra field, a bad value), which the general path then reads.
func (w *worker) lineRow(data []byte, line int64) int {
	var ts, in, cached, out int64
	p, last := 0, len(w.fast.cols)-1
	for col, kind := range w.fast.cols {
		end := p
		switch kind {
		case colSkip:
			for end < len(data) && data[end] != ',' && data[end] != '\n' {
				end++
			}
		case colTime:
			c := &w.iso[0]
			if len(data)-p < 16 || !c.ok || [16]byte(data[p:p+16]) != c.key {
				return 0
			}
			end = p + 16
			for end < len(data) && data[end] != ',' && data[end] != '\n' && data[end] != '\r' {
				end++
			}
			var ok bool
			if ts, ok = isoTail(data[p+16:end], c.secs); !ok {
				return 0
			}
		default:
			var n int64
			for end < len(data) && end-p < 18 && data[end]-'0' < 10 {
				n = n*10 + int64(data[end]-'0')
				end++
			}
			switch kind {
			case colIn:
				in = n
			case colCached:
				cached = n
			case colOut:
				out = n
			}
		}
		if col < last {
			if end >= len(data) || data[end] != ',' {
				return 0
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
			return 0
		}
	}
	if p > w.o.MaxLineBytes || ts < minTimestamp || (!w.pl.relative && ts > w.nowLimit) ||
		in > maxTokens || out > maxTokens || cached > in {
		return 0
	}
	failed, class := w.outcome(out, false)
	w.rowsRead++
	w.add(line, uint64(line), &request{ts: ts, in: in, cached: cached, out: out, reqs: 1, failed: failed, class: class})
	return p
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
	latency, hasLat, ok5 := w.fastFloat(fp.lat)
	if hasLat && fp.latUnit == UnitSeconds {
		latency *= 1000
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
