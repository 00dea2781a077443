package traffic

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// What a preset reads besides its fields. Some exports hold more than model
// calls (Langfuse's spans and events, LangSmith's chains and tools, which
// repeat the tokens of the calls inside them), say a failure in a word of
// their own (Langfuse's level ERROR), are failures from the first row to the
// last (LiteLLM's ErrorLogs), or write JSON inside their CSV cells
// (Langfuse's usageDetails, and its times as JSON strings with their
// quotes). The preset says so as data; the plan resolves it against the file
// like any field, and the worker asks it of each row.

// callRule tells model calls from the other rows of an export. With values,
// a row is a call when its value at path is one of them (ignoring case); with
// none, when it has no value there (LiteLLM's daily rows of MCP tool calls
// name the tool). A row without the path at all is a call either way, so a
// file mapped by hand without that column reads every row.
type callRule struct {
	path   string
	values []string
	// left says what the other rows are, for the summary's note.
	left string
}

// failRule marks as failed the rows whose value at path is one of values;
// text names the field whose words tell the class (a rate limit, a
// timeout).
type failRule struct {
	path   string
	values []string
	text   string
}

// cellRef is a CSV cell read as JSON: its column, and the dotted path inside
// the cell's object ("" for the cell's whole value).
type cellRef struct {
	col  int32
	path string
}

// planExtras is a plan's resolution of the preset's extras.
type planExtras struct {
	// cells are the CSV cells read as JSON: slot len(header)+i holds the
	// value of cells[i].
	cells []cellRef
	// callRef and failRef are where the rules read; failText the class.
	callRef, failRef, failText slotRef
	hasCall, hasFail           bool
	// active says the plan reads any of these, which fastRow does not.
	active bool
}

// cellRef resolves a CSV candidate that the header does not name as it is:
// a dotted path whose start names a column (usageDetails.input_cached_tokens
// in the usageDetails column), or, for a preset whose cells are JSON, any
// column. The value lands in a slot past the header's.
func (pl *plan) cellRef(cd cand, byName, lower map[string]int) (slotRef, bool) {
	find := func(name string) (int, bool) {
		i, ok := byName[name]
		if !ok {
			i, ok = lower[strings.ToLower(name)]
		}
		return i, ok
	}
	col, path := -1, ""
	if i, ok := find(cd.path); ok {
		if !pl.p.jsonCells {
			return slotRef{}, false
		}
		col = i
	} else {
		for j := strings.LastIndexByte(cd.path, '.'); j > 0; j = strings.LastIndexByte(cd.path[:j], '.') {
			if i, ok := find(cd.path[:j]); ok {
				col, path = i, cd.path[j+1:]
				break
			}
		}
	}
	if col < 0 {
		return slotRef{}, false
	}
	x := &pl.extras
	ref := cellRef{col: int32(col), path: path}
	i := slices.Index(x.cells, ref)
	if i < 0 {
		i = len(x.cells)
		x.cells = append(x.cells, ref)
	}
	x.active = true
	return slotRef{slot: int32(len(pl.header) + i), unit: cd.unit, name: cd.path}, true
}

// csvColumn is the header column a CSV slot reads, for messages.
func (pl *plan) csvColumn(slot int32) int32 {
	if i := int(slot) - len(pl.header); i >= 0 && i < len(pl.extras.cells) {
		return pl.extras.cells[i].col
	}
	return slot
}

// csvExtras resolves the preset's rules against a CSV header. A rule whose
// column the file lacks reads nothing: every row is a call, none fails by it.
func (pl *plan) csvExtras(byName, lower map[string]int) {
	ref := func(path string) (slotRef, bool) {
		if path == "" {
			return slotRef{}, false
		}
		if r, ok := pl.cellRef(cand{path: path}, byName, lower); ok {
			return r, true
		}
		i, ok := byName[path]
		if !ok {
			i, ok = lower[strings.ToLower(path)]
		}
		if !ok {
			return slotRef{}, false
		}
		if !slices.Contains(pl.usedCols, int32(i)) {
			pl.usedCols = append(pl.usedCols, int32(i))
		}
		return slotRef{slot: int32(i), name: pl.header[i]}, true
	}
	pl.resolveRules(ref)
}

// jsonExtras gives the preset's rules their slots in a JSON plan.
func (pl *plan) jsonExtras(slotOf func(string) int32) {
	pl.resolveRules(func(path string) (slotRef, bool) {
		if path == "" {
			return slotRef{}, false
		}
		return slotRef{slot: slotOf(path), name: path}, true
	})
}

func (pl *plan) resolveRules(ref func(string) (slotRef, bool)) {
	x := &pl.extras
	if r := pl.p.calls; r != nil {
		x.callRef, x.hasCall = ref(r.path)
	}
	if r := pl.p.failOn; r != nil {
		x.failRef, x.hasFail = ref(r.path)
		if t, ok := ref(r.text); ok {
			x.failText = t
		} else {
			x.failText.slot = -1
		}
	}
	x.active = x.active || x.hasCall || x.hasFail
}

// fastPlanOf is the plan's fast path, none when it reads cells or rules.
func fastPlanOf(pl *plan) fastPlan {
	if pl.extras.active {
		return fastPlan{}
	}
	return newFastPlan(pl)
}

// valueAt reads a slot as lookup reads a field's: a CSV value trimmed and
// its null words absent, a JSON string unescaped.
func (w *worker) valueAt(r slotRef) (jvalue, bool) {
	if r.slot < 0 || int(r.slot) >= len(w.vals) {
		return jvalue{}, false
	}
	v := w.vals[r.slot]
	switch v.kind {
	case jAbsent, jNull:
		return v, false
	case jString:
		if w.pl.container == containerCSV {
			v.raw = bytes.TrimSpace(v.raw)
			if isNullWord(v.raw) {
				return v, false
			}
		}
		if len(v.raw) == 0 {
			return v, false
		}
		if v.escaped {
			s, ok := jsonString(v)
			if !ok {
				return v, false
			}
			v = jvalue{raw: []byte(s), kind: jString}
		}
	}
	return v, true
}

// isCall applies the preset's call rule to the row in the slots.
func (w *worker) isCall() bool {
	r := w.pl.p.calls
	v, ok := w.valueAt(w.pl.extras.callRef)
	if !ok {
		return true
	}
	if len(r.values) == 0 {
		return false
	}
	return oneOf(v.raw, r.values)
}

// ruleFailed applies the preset's failure rule to the row in the slots.
func (w *worker) ruleFailed() (bool, ErrorClass) {
	x := &w.pl.extras
	v, ok := w.valueAt(x.failRef)
	if !ok || !oneOf(v.raw, w.pl.p.failOn.values) {
		return false, 0
	}
	if t, ok := w.valueAt(x.failText); ok && !emptyError(t) {
		return true, classOfText(t.raw)
	}
	return true, ErrOther
}

func oneOf(b []byte, words []string) bool {
	for _, s := range words {
		if bytes.EqualFold(b, []byte(s)) {
			return true
		}
	}
	return false
}

// cellValues reads the row's JSON cells into their slots: a cell read whole
// that is a JSON string gives its content (Langfuse writes times as
// "\"2025-03-10T09:15:02.113Z\""), any other its text; a path walks into the
// cell's object. A cell a path reads that holds text but no JSON object makes
// the row bad, by its line and column; ok is false then.
func (w *worker) cellValues(line int64) bool {
	cells := w.pl.extras.cells
	base := len(w.pl.header)
	for i := range cells {
		w.vals[base+i] = jvalue{}
	}
	for i, c := range cells {
		if c.path != "" && slices.ContainsFunc(cells[:i], func(d cellRef) bool { return d.col == c.col && d.path != "" }) {
			continue // walked with the first path into this cell
		}
		raw := bytes.TrimSpace(w.split.fields[c.col])
		if len(raw) == 0 {
			continue
		}
		if c.path == "" {
			w.vals[base+i] = wholeCell(raw)
			continue
		}
		if isNullWord(raw) {
			continue
		}
		var err error
		if raw[0] != '{' {
			err = fmt.Errorf("%q is not a JSON object", clip(raw))
		} else {
			w.elScan.memo = nil
			err = walkJSON(&w.elScan, raw, func(path []byte, v jvalue) bool {
				descend := false
				for j := i; j < len(cells); j++ {
					d := cells[j]
					if d.col != c.col || d.path == "" {
						continue
					}
					if d.path == string(path) {
						w.vals[base+j] = v
					} else if len(d.path) > len(path) && d.path[len(path)] == '.' && strings.HasPrefix(d.path, string(path)) {
						descend = true
					}
				}
				return descend && v.kind == jObject && v.raw == nil
			})
			if je, ok := err.(*jsonError); ok {
				err = fmt.Errorf("not valid JSON at character %d of the cell: %s", je.off+1, je.msg)
			}
		}
		if err != nil {
			w.rowsRead++
			w.bad(ReasonSyntax, line, int(c.col)+1, w.colName(int(c.col)), err.Error())
			return false
		}
	}
	return true
}

// wholeCell is a cell read whole: a JSON string's content, else the text.
func wholeCell(raw []byte) jvalue {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		s := jscan{data: raw}
		if content, esc, err := s.str(); err == nil && s.pos == len(raw) {
			return jvalue{raw: content, kind: jString, escaped: esc}
		}
	}
	return jvalue{raw: raw, kind: jString}
}

// presetReport adds to the summary what the preset's extras found: the rows
// that are not model calls, and what a source that makes rows (OTLP) left
// out or found bad. It fails a file none of whose rows is a model call.
func presetReport(workers []*worker, src source, pl *plan, sum *Summary) error {
	var others int64
	for _, w := range workers {
		others += w.others
	}
	if ot, ok := src.(*otlpSource); ok {
		ot.report(sum)
	}
	if others == 0 {
		return nil
	}
	r := pl.p.calls
	why := r.path + " is set"
	if len(r.values) > 0 {
		why = r.path + " is not " + strings.Join(r.values, " or ")
	}
	if sum.RowsRead == 0 {
		return fmt.Errorf("none of the file's %s is a model call: all are %s (%s)", Plural(others, "row"), r.left, why)
	}
	sum.Notes = append(sum.Notes, fmt.Sprintf("%s left out as not model calls: %s (%s)", Plural(others, "row was", "rows were"), r.left, why))
	return nil
}

// addProblems counts bad rows found outside the workers and keeps their
// first examples with the others, as merge does: examplesPerReason of each
// reason, in line order.
func addProblems(sum *Summary, counts map[string]int64, examples []Problem) {
	for k, n := range counts {
		sum.RowsRead += n
		sum.RowsSkipped[k] += n
	}
	all := append(slices.Clone(sum.Examples), examples...)
	slices.SortStableFunc(all, func(a, b Problem) int {
		if c := strings.Compare(a.Reason, b.Reason); c != 0 {
			return c
		}
		return int(a.Line - b.Line)
	})
	kept := all[:0]
	for i, p := range all {
		if i >= examplesPerReason && all[i-examplesPerReason].Reason == p.Reason {
			continue
		}
		kept = append(kept, p)
	}
	slices.SortStableFunc(kept, func(a, b Problem) int { return int(a.Line - b.Line) })
	sum.Examples = kept
}
