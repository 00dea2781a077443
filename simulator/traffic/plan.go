package traffic

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

type container uint8

const (
	containerCSV container = iota
	containerJSONL
	containerJSON
)

var containerNames = [...]string{"csv", "jsonl", "json"}

// slotRef is one resolved place to read a field from: a CSV column index or
// a JSON path's slot.
type slotRef struct {
	slot int32
	unit Unit
	name string // column name or JSON path, for messages
}

// plan is a format resolved against the actual file: which slot each field
// comes from. It is built once and shared read-only by the workers.
type plan struct {
	format, title string
	container     container
	p             preset
	cands         [numFields][]slotRef
	consts        [numFields]string
	constRaw      [numFields][]byte
	hasConst      [numFields]bool
	// mixNames and mixCum assign origins from ReadOptions.OriginMix.
	mixNames []string
	mixCum   []float64

	// CSV: columns of the header, and the ones any field reads.
	header   []string
	usedCols []int32

	// JSON: slot per dotted path, and the paths that lead to one (walked
	// into); wrapper keys that hold a page's rows; the explode array.
	paths       map[string]int32
	prefixes    map[string]bool
	nslots      int
	wrapSlots   []int32
	ownSlots    []int32 // "model", "usage": a row, not a page
	explodeSlot int32
}

// wrapperKeys hold the rows of an API page ({"data": [...]}, Cloudflare's
// {"result": [...]}); an object with one of them and no model or usage of its
// own is a page, not a row.
var wrapperKeys = []string{"data", "result", "items", "records", "logs"}

// newPlan resolves a preset (or none) plus the user's mapping. For CSV, keys
// are the header; for JSON, the paths of the first row (used only to warn).
func newPlan(p preset, m Mapping, c container, header []string, firstKeys map[string]bool, o ReadOptions) (*plan, []string, error) {
	pl := &plan{format: p.name, title: p.title, container: c, p: p, explodeSlot: -1}
	if pl.format == "" {
		pl.format = containerNames[c]
		pl.title = "plain " + strings.ToUpper(containerNames[c]) + " read through a column mapping"
	}
	var warnings []string
	pl.mixNames = slices.Sorted(maps.Keys(o.OriginMix))
	acc := 0.0
	for _, k := range pl.mixNames {
		acc += o.OriginMix[k]
		pl.mixCum = append(pl.mixCum, acc)
	}
	fields := p.fields
	for f, src := range m {
		if src.IsConst {
			pl.consts[f], pl.constRaw[f], pl.hasConst[f] = src.Const, []byte(src.Const), true
			fields[f] = nil
			continue
		}
		fields[f] = []cand{{path: src.Column, unit: src.Unit}}
	}
	if c == containerCSV {
		pl.header = header
		byName := map[string]int{}
		lower := map[string]int{}
		for i, h := range header {
			if _, dup := byName[h]; !dup {
				byName[h] = i
			}
			lower[strings.ToLower(strings.TrimSpace(h))] = i
		}
		for f := range numFields {
			_, mapped := m[f]
			for _, cd := range fields[f] {
				i, ok := byName[cd.path]
				if !ok {
					i, ok = lower[strings.ToLower(cd.path)]
				}
				if !ok {
					if mapped {
						return nil, nil, fmt.Errorf("--map %s=%s: the header has no column %q (columns: %s)",
							f, cd.path, cd.path, strings.Join(header, ", "))
					}
					continue
				}
				pl.cands[f] = append(pl.cands[f], slotRef{slot: int32(i), unit: cd.unit, name: header[i]})
				if !slices.Contains(pl.usedCols, int32(i)) {
					pl.usedCols = append(pl.usedCols, int32(i))
				}
			}
		}
	} else {
		pl.paths, pl.prefixes = map[string]int32{}, map[string]bool{}
		slotOf := func(path string) int32 {
			if s, ok := pl.paths[path]; ok {
				return s
			}
			s := int32(len(pl.paths))
			pl.paths[path] = s
			for i := range len(path) {
				if path[i] == '.' {
					pl.prefixes[path[:i]] = true
				}
			}
			return s
		}
		for f := range numFields {
			_, mapped := m[f]
			for _, cd := range fields[f] {
				if mapped && firstKeys != nil && !firstKeys[cd.path] {
					warnings = append(warnings, fmt.Sprintf("--map %s=%s: the first row has no %q", f, cd.path, cd.path))
				}
				pl.cands[f] = append(pl.cands[f], slotRef{slot: slotOf(cd.path), unit: cd.unit, name: cd.path})
			}
		}
		for _, k := range wrapperKeys {
			pl.wrapSlots = append(pl.wrapSlots, slotOf(k))
		}
		pl.ownSlots = []int32{slotOf("model"), slotOf("usage")}
		if p.explode != "" {
			pl.explodeSlot = slotOf(p.explode)
		}
		pl.nslots = len(pl.paths)
	}
	if len(pl.cands[FieldTime]) == 0 && !pl.hasConst[FieldTime] {
		what := "columns: " + strings.Join(header, ", ")
		if c != containerCSV {
			what = "keys: " + strings.Join(slices.Sorted(maps.Keys(firstKeys)), ", ")
		}
		return nil, nil, fmt.Errorf("no timestamp: map one with --map timestamp=COLUMN (%s)", what)
	}
	if pl.hasConst[FieldTime] {
		return nil, nil, fmt.Errorf("timestamp cannot be a constant")
	}
	for f := range numFields {
		if !pl.hasConst[f] {
			continue
		}
		if err := checkConst(Field(f), pl.consts[f]); err != nil {
			return nil, nil, err
		}
	}
	for _, cd := range pl.cands[FieldTime] {
		if (cd.unit == UnitOffsetS || cd.unit == UnitOffsetMS) && o.Start.IsZero() {
			return nil, nil, fmt.Errorf("%s counts from zero (%s): give the trace's start time with --start 2024-01-01T00:00:00Z", cd.name, cd.unit)
		}
	}
	return pl, warnings, nil
}

// checkConst refuses a constant that no row could parse.
func checkConst(f Field, v string) error {
	b := []byte(v)
	var ok bool
	switch f {
	case FieldInput, FieldCached, FieldCacheWrite, FieldOutput, FieldRequests:
		var n int64
		n, ok = parseCount(b)
		ok = ok && n >= 0
	case FieldLatency, FieldCost:
		var x float64
		x, ok = parseFloat(b)
		ok = ok && x >= 0
	case FieldStatus:
		_, ok = parseCount(b)
	case FieldSuccess:
		_, ok = parseBool(b)
	case FieldEnd:
		_, ok = parseISO(b)
	default:
		ok = true
	}
	if !ok {
		return fmt.Errorf("--map %s='%s': not a valid %s", f, v, f)
	}
	return nil
}

// describe writes the fields the plan reads, in --map syntax, alternatives
// separated by '|'.
func (pl *plan) describe() string {
	var parts []string
	for f := range numFields {
		if pl.hasConst[f] {
			parts = append(parts, fmt.Sprintf("%s='%s'", Field(f), pl.consts[f]))
			continue
		}
		if len(pl.cands[f]) == 0 {
			continue
		}
		var alts []string
		for _, cd := range pl.cands[f] {
			alts = append(alts, Source{Column: cd.name, Unit: cd.unit}.String())
		}
		parts = append(parts, Field(f).String()+"="+strings.Join(alts, "|"))
	}
	return strings.Join(parts, ",")
}

// bucketWidth is the span of an aggregated row without an end time.
func (pl *plan) bucketWidth() time.Duration {
	if pl.p.bucket > 0 {
		return pl.p.bucket
	}
	return 0
}
