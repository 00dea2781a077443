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
	"unicode/utf8"
)

// MaxImportBytes bounds a price file. The real ones are 1.5 MB (LiteLLM),
// under 1 MB (OpenRouter), under 0.5 MB per provider (Portkey) and 0.4 MB
// (genai-prices); 32 MiB
// leaves room for growth while keeping a hostile upload cheap to refuse.
const MaxImportBytes = 32 << 20

// Overlay is a set of prices read from another project's price file, mapped
// onto the catalog's (model, provider) pairs. Apply it with WithOverlay.
type Overlay struct {
	// Format is "litellm", "openrouter", "portkey", "genai-prices" or
	// "helicone".
	Format string
	// Name is the file the prices came from.
	Name string
	// AsOf is the file's date when its content states one ("" otherwise);
	// callers may set it, from the file's modification time for instance.
	AsOf string
	// Day is the day whose prices a file with a price history answers
	// (genai-prices, Helicone date ranges): set by At; "" is the day it was
	// imported.
	Day string
	// entries are the prices applied: for a host with dated prices, those
	// in force on Day. dated keeps every dated host's whole history.
	entries map[hostKey]*overlayEntry
	dated   map[hostKey]*overlayEntry
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
	// asOf is the day these prices took effect when the file dates them.
	asOf string
	// history is every dated price of the host, for At.
	history []pricePeriod
}

type partialPrices struct {
	input, output, cacheRead, cacheWrite, reasoning *float64
}

// Len is the number of catalog hosts the overlay prices on some day.
func (o *Overlay) Len() int {
	n := len(o.entries)
	for k := range o.dated {
		if _, ok := o.entries[k]; !ok {
			n++
		}
	}
	return n
}

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

// Import reads a LiteLLM, OpenRouter, Portkey, genai-prices or Helicone
// price file, recognised from its content, and maps its prices onto the
// default catalog. A genai-prices file's price history is kept: the overlay
// answers today's prices, and At the prices of another day. A file that is
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
	if err := checkText(name, data); err != nil {
		return nil, ImportReport{}, err
	}
	if err := checkJSON(data); err != nil {
		return nil, ImportReport{}, syntaxError(name, data, err)
	}
	im := &importer{cat: c, name: name, data: data, aliases: c.aliasIndex()}
	im.overlay = &Overlay{Name: name, entries: map[hostKey]*overlayEntry{}, dated: map[hostKey]*overlayEntry{}}
	im.report.Skipped = map[string]int{}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[' && isGenAIPrices(data):
		err = im.genAIPrices(data)
	case len(trimmed) > 0 && trimmed[0] == '[':
		err = im.openRouter(data)
	case len(trimmed) > 0 && trimmed[0] == '{':
		var entries []entry
		if entries, err = objectEntries(data); err != nil {
			return nil, ImportReport{}, entriesError(name, data, err)
		}
		switch format, array := detectObject(entries); format {
		case "helicone":
			err = im.helicone(array)
		case "openrouter":
			err = im.openRouter(array)
		case "portkey":
			err = im.portkey(entries)
		case "litellm":
			err = im.liteLLM(entries)
		default:
			err = &ImportError{Name: name, Err: errors.New("not a " + knownFormats + " price file")}
		}
	default:
		err = &ImportError{Name: name, Err: errors.New("not a " + knownFormats + " price file: expected a JSON object or array")}
	}
	if err != nil {
		return nil, ImportReport{}, err
	}
	im.report.Format = im.overlay.Format
	im.report.Imported = im.overlay.Len()
	for k, e := range im.overlay.entries {
		im.report.Matches = append(im.report.Matches, ImportMatch{Key: e.key, Line: e.line, Model: k.model, Provider: k.provider})
	}
	for k, e := range im.overlay.dated {
		if _, ok := im.overlay.entries[k]; !ok {
			im.report.Matches = append(im.report.Matches, ImportMatch{Key: e.key, Line: e.line, Model: k.model, Provider: k.provider})
		}
	}
	sort.Slice(im.report.Matches, func(i, j int) bool { return im.report.Matches[i].Line < im.report.Matches[j].Line })
	return im.overlay, im.report, nil
}

// checkText refuses what is not JSON text before the JSON parser sees it,
// with a message that says what the file is: compressed, binary, or in
// another encoding. encoding/json would take invalid UTF-8 inside strings
// silently, turning it into U+FFFD.
func checkText(name string, data []byte) error {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return &ImportError{Name: name, Err: errors.New("the file is empty")}
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		return &ImportError{Name: name, Err: errors.New("the file is gzip-compressed: decompress it and give the JSON inside")}
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return &ImportError{Name: name, Err: errors.New("the file is a zip archive: unzip it and give the JSON inside")}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line, col := lineCol(data, int64(i))
		return &ImportError{Name: name, Line: line, Column: col, Err: errors.New("a NUL byte: the file is binary, not JSON text")}
	}
	if !utf8.Valid(data) {
		i := 0
		for {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		line, col := lineCol(data, int64(i))
		return &ImportError{Name: name, Line: line, Column: col, Err: fmt.Errorf("byte 0x%02x is not UTF-8: JSON files are UTF-8 text", data[i])}
	}
	return nil
}

// checkJSON reports the first syntax error with its offset. json.Valid
// allocates nothing, so a large valid file costs no decoded copy; only an
// invalid one is unmarshalled, into a RawMessage, for the error's offset.
func checkJSON(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v json.RawMessage
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

// knownFormats names the price files gatewise reads, for messages.
const knownFormats = "LiteLLM, OpenRouter, Portkey, genai-prices or Helicone"

// detectObject tells the object formats apart by what their entries hold,
// looking at the entries in file order; for OpenRouter and Helicone it also
// returns the data array.
func detectObject(entries []entry) (string, json.RawMessage) {
	for _, e := range entries {
		if raw := bytes.TrimSpace(e.raw); e.key == "data" && len(raw) > 0 && raw[0] == '[' {
			if isHelicone(entries, raw) {
				return "helicone", e.raw
			}
			return "openrouter", e.raw
		}
	}
	for _, e := range entries {
		var probe map[string]json.RawMessage
		if json.Unmarshal(e.raw, &probe) != nil {
			continue
		}
		if _, ok := probe["pricing_config"]; ok {
			return "portkey", nil
		}
		for _, k := range []string{"litellm_provider", "input_cost_per_token", "output_cost_per_token"} {
			if _, ok := probe[k]; ok {
				return "litellm", nil
			}
		}
	}
	return "", nil
}

// maxImportEntries bounds the entries of a price file: the real ones hold
// under 3,000 (LiteLLM) and under 1,000 (OpenRouter, a Portkey provider).
// Without it a file of a few million tiny entries, still under
// MaxImportBytes, would cost hundreds of megabytes of entry records.
const maxImportEntries = 100_000

// errTooManyEntries is what objectEntries and arrayEntries return past
// maxImportEntries, with the offset of the entry that went over.
type errTooManyEntries struct{ offset int64 }

// tooManyEntries points past the separators after off, at the entry that
// went over the bound.
func tooManyEntries(data []byte, off int64) error {
	for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,"), data[off]) >= 0 {
		off++
	}
	return &errTooManyEntries{offset: off}
}

func (e *errTooManyEntries) Error() string {
	return fmt.Sprintf("more than %d entries: not a price file gatewise can read", maxImportEntries)
}

// entriesError locates an objectEntries or arrayEntries failure.
func entriesError(name string, data []byte, err error) error {
	var many *errTooManyEntries
	if errors.As(err, &many) {
		line, col := lineCol(data, many.offset)
		return &ImportError{Name: name, Line: line, Column: col, Err: err}
	}
	return syntaxError(name, data, err)
}

// entry is one top-level key of a JSON object with where it starts.
type entry struct {
	key  string
	line int
	raw  json.RawMessage
}

// lineCounter turns increasing offsets into lines, counting each byte once;
// counting from the start for every entry made a file of many entries cost
// time quadratic in its size.
type lineCounter struct {
	data []byte
	off  int64
	line int
}

func (c *lineCounter) at(off int64) int {
	off = min(max(off, c.off), int64(len(c.data)))
	c.line += bytes.Count(c.data[c.off:off], []byte("\n"))
	c.off = off
	return c.line + 1
}

// objectEntries walks a JSON object's keys in file order, keeping each
// entry's line so errors can point at it.
func objectEntries(data []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	lines := lineCounter{data: data}
	var out []entry
	for dec.More() {
		if len(out) == maxImportEntries {
			return nil, tooManyEntries(data, dec.InputOffset())
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		line := lines.at(dec.InputOffset())
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
