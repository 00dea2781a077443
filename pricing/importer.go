package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// MaxImportBytes bounds a price file. The real ones are 1.5 MB (LiteLLM),
// under 1 MB (OpenRouter) and under 0.5 MB per provider (Portkey); 32 MiB
// leaves room for growth while keeping a hostile upload cheap to refuse.
const MaxImportBytes = 32 << 20

// Overlay is a set of prices read from another project's price file, mapped
// onto the catalog's (model, provider) pairs. Apply it with WithOverlay.
type Overlay struct {
	// Format is "litellm", "openrouter" or "portkey".
	Format string
	// Name is the file the prices came from.
	Name string
	// AsOf is the file's date when its content states one ("" otherwise);
	// callers may set it, from the file's modification time for instance.
	AsOf    string
	entries map[hostKey]*overlayEntry
}

type hostKey struct{ model, provider string }

// overlayEntry holds a file's prices for one host; nil fields are absent
// from the file and keep the catalog's value.
type overlayEntry struct {
	key      string
	line     int
	priority int
	base     partialPrices
	above    int
	long     partialPrices
}

type partialPrices struct {
	input, output, cacheRead, cacheWrite, reasoning *float64
}

// Len is the number of catalog hosts the overlay prices.
func (o *Overlay) Len() int { return len(o.entries) }

// ImportReport counts what an import did with each entry of the file.
type ImportReport struct {
	Format   string
	Entries  int
	Imported int
	// Merged counts entries folded into another one: Portkey's "-gt-200k"
	// long-context tier joins its "-lte-200k" base.
	Merged int
	// Skipped counts entries left out, by reason.
	Skipped map[string]int
	// Matches lists each imported file key and the catalog host it priced.
	Matches []ImportMatch
}

// ImportMatch ties a file key to a catalog model and provider.
type ImportMatch struct {
	Key      string
	Line     int
	Model    string
	Provider string
}

// SkippedTotal sums the skipped entries over every reason.
func (r ImportReport) SkippedTotal() int {
	n := 0
	for _, v := range r.Skipped {
		n += v
	}
	return n
}

// ImportError rejects a whole file: Line and Column locate the problem when
// it is a syntax error, Key names the entry when it is a bad value.
type ImportError struct {
	Name   string
	Line   int
	Column int
	Key    string
	Err    error
}

func (e *ImportError) Error() string {
	loc := e.Name
	if e.Line > 0 {
		loc += fmt.Sprintf(":%d:%d", e.Line, max(e.Column, 1))
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %q: %v", loc, e.Key, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *ImportError) Unwrap() error { return e.Err }

// Import reads a LiteLLM, OpenRouter or Portkey price file, recognised from
// its content, and maps its prices onto the default catalog. A file that is
// not valid JSON, has the wrong shape, or prices a catalog model negatively
// or absurdly is rejected whole: the error says why and where, and nothing
// is returned to apply.
func Import(r io.Reader, name string) (*Overlay, ImportReport, error) {
	return Default().Import(r, name)
}

// Import is the package-level Import against this catalog's models.
func (c *Catalog) Import(r io.Reader, name string) (*Overlay, ImportReport, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, ImportReport{}, &ImportError{Name: name, Err: err}
	}
	if len(data) > MaxImportBytes {
		return nil, ImportReport{}, &ImportError{Name: name, Err: fmt.Errorf("file is larger than %d MiB", MaxImportBytes>>20)}
	}
	if err := checkJSON(data); err != nil {
		return nil, ImportReport{}, syntaxError(name, data, err)
	}
	im := &importer{cat: c, name: name, data: data, aliases: c.aliasIndex()}
	im.overlay = &Overlay{Name: name, entries: map[hostKey]*overlayEntry{}}
	im.report.Skipped = map[string]int{}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		err = im.openRouter(data)
	case len(trimmed) > 0 && trimmed[0] == '{':
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err != nil {
			return nil, ImportReport{}, syntaxError(name, data, err)
		}
		switch detectObject(top) {
		case "openrouter":
			err = im.openRouter(top["data"])
		case "portkey":
			err = im.portkey(data)
		case "litellm":
			err = im.liteLLM(data)
		default:
			err = &ImportError{Name: name, Err: errors.New("not a LiteLLM, OpenRouter or Portkey price file")}
		}
	default:
		err = &ImportError{Name: name, Err: errors.New("not a LiteLLM, OpenRouter or Portkey price file: expected a JSON object or array")}
	}
	if err != nil {
		return nil, ImportReport{}, err
	}
	im.report.Format = im.overlay.Format
	im.report.Imported = len(im.overlay.entries)
	for k, e := range im.overlay.entries {
		im.report.Matches = append(im.report.Matches, ImportMatch{Key: e.key, Line: e.line, Model: k.model, Provider: k.provider})
	}
	sort.Slice(im.report.Matches, func(i, j int) bool { return im.report.Matches[i].Line < im.report.Matches[j].Line })
	return im.overlay, im.report, nil
}

// checkJSON reports the first syntax error with its offset.
func checkJSON(data []byte) error {
	var v any
	return json.Unmarshal(data, &v)
}

func syntaxError(name string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return &ImportError{Name: name, Err: err}
	}
	line, col := lineCol(data, off)
	return &ImportError{Name: name, Line: line, Column: col, Err: err}
}

func lineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// detectObject tells the three formats apart by what their entries hold.
func detectObject(top map[string]json.RawMessage) string {
	if raw, ok := top["data"]; ok && len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '[' {
		return "openrouter"
	}
	for _, raw := range top {
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) != nil {
			continue
		}
		if _, ok := probe["pricing_config"]; ok {
			return "portkey"
		}
		for _, k := range []string{"litellm_provider", "input_cost_per_token", "output_cost_per_token"} {
			if _, ok := probe[k]; ok {
				return "litellm"
			}
		}
	}
	return ""
}

// entry is one top-level key of a JSON object with where it starts.
type entry struct {
	key  string
	line int
	raw  json.RawMessage
}

// objectEntries walks a JSON object's keys in file order, keeping each
// entry's line so errors can point at it.
func objectEntries(data []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []entry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		line, _ := lineCol(data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, entry{key, line, raw})
	}
	return out, nil
}

type importer struct {
	cat     *Catalog
	name    string
	data    []byte
	aliases map[aliasKey]aliasTarget
	overlay *Overlay
	report  ImportReport
}

func (im *importer) skip(reason string) { im.report.Skipped[reason]++ }

func (im *importer) fail(e entry, format string, args ...any) error {
	return &ImportError{Name: im.name, Line: e.line, Key: e.key, Err: fmt.Errorf(format, args...)}
}

// checkPrice rejects negative, non-finite and absurd per-million prices.
func (im *importer) checkPrice(e entry, field string, v *float64) error {
	if v == nil {
		return nil
	}
	if math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0 {
		return im.fail(e, "%s: price %v is not a non-negative number", field, *v)
	}
	if *v > maxPerMillion {
		return im.fail(e, "%s: $%g per million tokens is beyond any real model's price (limit $%d); wrong unit?", field, *v, maxPerMillion)
	}
	return nil
}

// add records a file entry's prices for a catalog host, keeping the best
// match when several keys name the same host (an exact provider model id
// beats an alias, which beats the canonical name).
func (im *importer) add(e entry, t aliasTarget, base partialPrices, above int, long partialPrices) error {
	for _, p := range []struct {
		f string
		v *float64
	}{{"input", base.input}, {"output", base.output}, {"cache_read", base.cacheRead}, {"cache_write", base.cacheWrite}, {"reasoning", base.reasoning},
		{"long input", long.input}, {"long output", long.output}, {"long cache_read", long.cacheRead}, {"long cache_write", long.cacheWrite}} {
		if err := im.checkPrice(e, p.f, p.v); err != nil {
			return err
		}
	}
	k := hostKey{t.model, t.provider}
	if old, ok := im.overlay.entries[k]; ok {
		im.skip("duplicate: another key prices the same host")
		if old.priority <= t.priority {
			return nil
		}
	}
	im.overlay.entries[k] = &overlayEntry{key: e.key, line: e.line, priority: t.priority, base: base, above: above, long: long}
	return nil
}

// aliasKey is a normalised model name on a provider.
type aliasKey struct{ provider, name string }

type aliasTarget struct {
	model, provider string
	priority        int
}

// aliasIndex maps every name a file may use for a catalog host onto it.
func (c *Catalog) aliasIndex() map[aliasKey]aliasTarget {
	idx := map[aliasKey]aliasTarget{}
	put := func(provider, name, model string, prio int) {
		k := aliasKey{provider, normalizeModel(name)}
		if old, ok := idx[k]; ok && old.priority <= prio {
			return
		}
		idx[k] = aliasTarget{model, provider, prio}
	}
	for _, m := range c.models {
		for _, o := range m.Offers {
			put(o.Provider, o.ModelID, m.ID, 0)
			for _, a := range o.Aliases {
				put(o.Provider, a, m.ID, 1)
			}
			put(o.Provider, m.ID, m.ID, 2)
		}
	}
	return idx
}

var (
	reDateSuffix = regexp.MustCompile(`(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|@\d{3}|@default|@latest)$`)
	reVersion    = regexp.MustCompile(`(-v\d+(:\d+)?|:\d+)$`)
)

// normalizeModel reduces a model name to the form files and the catalog
// share: lower case, no path prefix, no dated snapshot or Bedrock version
// suffix, dots as dashes ("claude-sonnet-4.5" = "claude-sonnet-4-5-20250929").
func normalizeModel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	for {
		t := reVersion.ReplaceAllString(reDateSuffix.ReplaceAllString(s, ""), "")
		if t == s {
			break
		}
		s = t
	}
	return strings.ReplaceAll(s, ".", "-")
}

func (im *importer) lookup(provider, name string) (aliasTarget, bool) {
	t, ok := im.aliases[aliasKey{provider, normalizeModel(name)}]
	return t, ok
}

func ptr(v float64) *float64 { return &v }

// scaled converts a file's price to USD per million tokens.
func scaled(v *float64, k float64) *float64 {
	if v == nil {
		return nil
	}
	return ptr(*v * k)
}

// SortedReasons lists skip reasons with counts, most frequent first.
func (r ImportReport) SortedReasons() []string {
	var out []string
	for k, v := range r.Skipped {
		out = append(out, fmt.Sprintf("%d %s", v, k))
	}
	slices.SortFunc(out, func(a, b string) int {
		var x, y int
		fmt.Sscan(a, &x)
		fmt.Sscan(b, &y)
		if x != y {
			return y - x
		}
		return strings.Compare(a, b)
	})
	return out
}
