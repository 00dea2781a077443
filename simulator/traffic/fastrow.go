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
}

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
	return fp
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
	b, present, ok := plainField(w.split.fields[col])
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
