package traffic

import (
	"fmt"
	"hash/maphash"
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
	constRef      [numFields]slotRef
	// reads marks the fields the plan reads at all, a column or a constant.
	reads [numFields]bool
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

	// relative marks a clock counting from zero (settleClock): its times
	// are anchored at a chosen start, so "in the future" means nothing.
	relative bool
	// firstKeys are the first JSON row's paths, so the summary can name the
	// alternatives a preset lists that the file actually has.
	firstKeys map[string]bool
	// userSeed hashes user values, so workers' sets of users can be merged
	// without keeping the names.
	userSeed maphash.Seed
	// extras are what a preset reads besides its fields: CSV cells holding
	// JSON, and the values that tell model calls and failures (preset_extras.go).
	extras planExtras
}

// wrapperKeys hold the rows of an API page ({"data": [...]}, Cloudflare's
// {"result": [...]}); an object with one of them and no model or usage of its
// own is a page, not a row.
var wrapperKeys = []string{"data", "result", "items", "records", "logs"}

// newPlan resolves a preset (or none) plus the user's mapping. For CSV, keys
// are the header; for JSON, the paths of the first row (used only to warn).
func newPlan(p preset, m Mapping, c container, header []string, firstKeys map[string]bool, o ReadOptions) (*plan, []string, error) {
	pl := &plan{format: p.name, title: p.title, container: c, p: p, explodeSlot: -1, firstKeys: firstKeys, userSeed: maphash.MakeSeed()}
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
				if r, ok := pl.cellRef(cd, byName, lower); ok {
					pl.cands[f] = append(pl.cands[f], r)
					continue
				}
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
		pl.csvExtras(byName, lower)
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
		pl.jsonExtras(slotOf)
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
		pl.reads[f] = pl.hasConst[f] || len(pl.cands[f]) > 0
		if pl.hasConst[f] {
			pl.constRef[f] = slotRef{name: "'" + pl.consts[f] + "'", slot: -1}
		}
	}
	for f := range numFields {
		if !pl.hasConst[f] {
			continue
		}
		if err := checkConst(Field(f), pl.consts[f]); err != nil {
			return nil, nil, err
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
// separated by '|', and as a table. A JSON preset lists many spellings of a
// field (six for OpenAI's input tokens); only those the first row has are
// named, unless it has none of them.
func (pl *plan) describe() (string, []MappedField) {
	var parts []string
	var table []MappedField
	for f := range numFields {
		if pl.hasConst[f] {
			parts = append(parts, fmt.Sprintf("%s='%s'", Field(f), pl.consts[f]))
			table = append(table, MappedField{Field: Field(f).String(), Const: pl.consts[f], IsConst: true})
			continue
		}
		cands := pl.cands[f]
		if pl.container != containerCSV && pl.firstKeys != nil {
			var present []slotRef
			for _, cd := range cands {
				if pl.firstKeys[cd.name] {
					present = append(present, cd)
				}
			}
			if len(present) > 0 {
				cands = present
			}
		}
		if len(cands) == 0 {
			continue
		}
		var alts []string
		row := MappedField{Field: Field(f).String(), Unit: cands[0].unit.String()}
		for _, cd := range cands {
			alts = append(alts, Source{Column: cd.name, Unit: cd.unit}.String())
			row.Columns = append(row.Columns, cd.name)
		}
		parts = append(parts, Field(f).String()+"="+strings.Join(alts, "|"))
		table = append(table, row)
	}
	return strings.Join(parts, ","), table
}

// bucketWidth is the span of an aggregated row without an end time.
func (pl *plan) bucketWidth() time.Duration {
	if pl.p.bucket > 0 {
		return pl.p.bucket
	}
	return 0
}
