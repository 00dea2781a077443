package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Helicone publishes its cost registry (packages/cost in
// github.com/Helicone/helicone) as JSON at its llm-costs API
// (bifrost/app/api/llm-costs/route.ts): {"metadata": {...}, "data": [...]}
// with one entry per cost row: provider (OPENAI, ANTHROPIC, ...), model, a
// match operator (equals, startsWith, includes) saying which model names
// the row prices, and USD per million tokens: input_cost_per_1m,
// output_cost_per_1m, prompt_cache_write_per_1m, prompt_cache_read_per_1m;
// optionally a date_range {start, end} the row holds for.

// heliconeProviders maps Helicone's provider names onto catalog providers.
// GOOGLE is googleapis.com, both the Gemini API and Vertex AI; AWS and
// BEDROCK both name Bedrock.
var heliconeProviders = map[string][]string{
	"OPENAI":    {"openai"},
	"AZURE":     {"azure-openai"},
	"ANTHROPIC": {"anthropic"},
	"GOOGLE":    {"google-gemini", "google-vertex"},
	"MISTRAL":   {"mistral"},
	"AWS":       {"aws-bedrock"},
	"BEDROCK":   {"aws-bedrock"},
}

var heliconeOperators = []string{"equals", "startsWith", "includes"}

// isHelicone tells Helicone's llm-costs JSON from OpenRouter's, which also
// keeps its models under "data": Helicone's rows carry a match operator.
func isHelicone(entries []entry, data json.RawMessage) bool {
	for _, e := range entries {
		if e.key == "metadata" {
			var m struct {
				Operators json.RawMessage `json:"operators_explained"`
			}
			if json.Unmarshal(e.raw, &m) == nil && m.Operators != nil {
				return true
			}
		}
	}
	first, ok := firstObject(data)
	if !ok {
		return false
	}
	_, op := first["operator"]
	_, in := first["input_cost_per_1m"]
	return op || in
}

type heliconeRow struct {
	provider, model, operator string
	value                     string // model, lower case and URL-decoded
	norm                      string // value as normalizeModel has it
	key                       string
	line                      int
	from, until               string
	base                      partialPrices
	used, matched             bool
	absurd                    bool // a price beyond any real model's
	index                     int  // the row's place in the file
}

func (im *importer) helicone(array json.RawMessage) error {
	im.overlay.Format = "helicone"
	offset := int64(max(bytes.Index(im.data, array), 0))
	rows, err := items(array, offset, "data")
	if err != nil {
		return im.shapeFail(err, "")
	}
	var parsed []*heliconeRow
	byProvider := map[string][]*heliconeRow{} // catalog provider → its rows, in file order
	lines := &lineCounter{data: im.data}
	for i, rv := range rows {
		if err := im.countEntry(rv.off); err != nil {
			return err
		}
		r, err := im.heliconeRow(rv, i, lines)
		if err != nil {
			return err
		}
		r.index = i
		parsed = append(parsed, r)
		if !r.absurd {
			for _, cp := range heliconeProviders[r.provider] {
				byProvider[cp] = append(byProvider[cp], r)
			}
		}
	}
	for _, m := range im.cat.models {
		for _, off := range m.Offers {
			if err := im.heliconeHost(m, off, byProvider[off.Provider]); err != nil {
				return err
			}
		}
	}
	for _, r := range parsed {
		switch {
		case r.used:
		case r.absurd:
			im.skip(fmt.Sprintf("price beyond any real model's (over $%d per million tokens)", maxPerMillion))
		case len(heliconeProviders[r.provider]) == 0:
			im.skip("provider not in the catalog")
		case r.matched:
			im.skip("a closer entry prices the same host")
		default:
			im.skip("no catalog model matches it")
		}
	}
	return nil
}

func (im *importer) heliconeRow(rv jsonValue, i int, lines *lineCounter) (*heliconeRow, error) {
	key := "data[" + strconv.Itoa(i) + "]"
	fields, err := members(rv.raw, rv.off, key)
	if err != nil {
		return nil, im.shapeFail(err, key)
	}
	r := &heliconeRow{line: lines.at(rv.off)}
	byName := map[string]jsonValue{}
	for _, f := range fields {
		byName[f.key] = f
	}
	for _, name := range []string{"provider", "model", "operator"} {
		f, ok := byName[name]
		if !ok {
			return nil, im.fieldError(rv.off, key, "%s is missing", name)
		}
		s, err := im.str(f, key, name)
		if err != nil {
			return nil, err
		}
		switch name {
		case "provider":
			r.provider = s
		case "model":
			r.model = s
			key = r.provider + " " + s
		case "operator":
			if !slices.Contains(heliconeOperators, s) {
				return nil, im.fieldError(f.off, key, "operator %q is not one of %s", s, strings.Join(heliconeOperators, ", "))
			}
			r.operator = s
		}
	}
	if r.model == "" {
		return nil, im.fieldError(byName["model"].off, key, "model is empty")
	}
	r.key = key + " (" + r.operator + ")"
	r.value = strings.ToLower(r.model)
	if strings.Contains(r.value, "%") {
		// Bedrock rows write the ':' of a model id as %3A.
		if u, err := url.PathUnescape(r.value); err == nil {
			r.value = u
		}
	}
	r.norm = normalizeModel(r.value)
	prices := map[string]*float64{}
	for _, f := range fields {
		switch {
		case f.key == "date_range":
			if err := im.heliconeDates(f, r); err != nil {
				return nil, err
			}
		case strings.HasSuffix(f.key, "_per_1m") || f.key == "per_image" || f.key == "per_call":
			v, err := im.number(f, r.key, f.key)
			if err != nil {
				return nil, err
			}
			if v < 0 {
				return nil, im.fieldError(f.off, r.key, "%s: price %v is negative", f.key, v)
			}
			prices[f.key] = ptr(v)
		}
	}
	for _, need := range []string{"input_cost_per_1m", "output_cost_per_1m"} {
		if prices[need] == nil {
			return nil, im.fieldError(rv.off, r.key, "%s is missing", need)
		}
	}
	r.base = partialPrices{
		input: prices["input_cost_per_1m"], output: prices["output_cost_per_1m"],
		cacheRead: nonZero(prices["prompt_cache_read_per_1m"]), cacheWrite: nonZero(prices["prompt_cache_write_per_1m"]),
	}
	// Helicone's registry holds rows priced a thousand times too high (its
	// mistral-large-latest row, 0.002 USD a token, is $2,000 per million):
	// such a row is left out, named in the report, rather than refusing the
	// whole file or pricing runs with it.
	for _, v := range []*float64{r.base.input, r.base.output, r.base.cacheRead, r.base.cacheWrite} {
		if v != nil && (math.IsInf(*v, 0) || *v > maxPerMillion) {
			r.absurd = true
		}
	}
	return r, nil
}

// heliconeDates reads a row's date_range: days, or timestamps whose day
// counts.
func (im *importer) heliconeDates(f jsonValue, r *heliconeRow) error {
	if bytes.Equal(bytes.TrimSpace(f.raw), []byte("null")) {
		return nil
	}
	fs, err := members(f.raw, f.off, "date_range")
	if err != nil {
		return im.shapeFail(err, r.key)
	}
	for _, x := range fs {
		if x.key != "start" && x.key != "end" {
			return im.fieldError(x.off, r.key, "date_range: unknown key %q (start, end)", x.key)
		}
		s, err := im.str(x, r.key, "date_range."+x.key)
		if err != nil {
			return err
		}
		day := s[:min(len(s), 10)]
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			return im.fieldError(x.off, r.key, "date_range.%s: %q does not start with a date (YYYY-MM-DD)", x.key, s)
		}
		if x.key == "start" {
			r.from = day
		} else {
			r.until = day
		}
	}
	if r.from != "" && r.until != "" && r.until < r.from {
		return im.fieldError(f.off, r.key, "date_range ends (%s) before it starts (%s)", r.until, r.from)
	}
	return nil
}

// heliconeMatch is how closely a row names a host: lower is closer.
type heliconeMatch struct {
	class, sub, index int
	r                 *heliconeRow
}

// heliconeHost prices one catalog host from the rows of its provider
// (those of Helicone's providers mapped onto it, absurd ones left out). A row
// matches a host when its operator matches one of the host's names (its
// own model id, its aliases, the canonical name; all lower case, as
// Helicone compares): equals the name, the name starts with the value
// (startsWith), or contains it (includes). Helicone itself takes the first
// matching row of its list, but its llm-costs JSON is sorted by model name,
// not in that order; so gatewise takes the closest row: equals before
// startsWith or includes, and among those the longer value (startsWith on
// a tie); among equals the host's own model id before an alias before the
// canonical name; equals also matches a dated snapshot of the name
// ("claude-sonnet-4-5" for claude-sonnet-4-5-20250929) below exact names.
// Rows with a date_range price the host on their dates only, where they
// beat the rows they are closer than and rows as close without dates.
func (im *importer) heliconeHost(m Model, off Offer, rows []*heliconeRow) error {
	names := []string{strings.ToLower(off.ModelID)}
	for _, a := range off.Aliases {
		names = append(names, strings.ToLower(a))
	}
	names = append(names, strings.ToLower(m.ID))
	norms := make([]string, len(names))
	for j, n := range names {
		norms[j] = normalizeModel(n)
	}
	var found []heliconeMatch
	for _, r := range rows {
		i := r.index
		best := heliconeMatch{class: -1}
		for j, n := range names {
			c := heliconeMatch{class: -1, index: i, r: r}
			switch r.operator {
			case "equals":
				switch {
				case n == r.value:
					c.class, c.sub = 0, j
				case norms[j] == r.norm:
					c.class, c.sub = 1, j
				}
			case "startsWith":
				if strings.HasPrefix(n, r.value) {
					c.class, c.sub = 2, -2*len(r.value)
				}
			case "includes":
				if strings.Contains(n, r.value) {
					c.class, c.sub = 2, -2*len(r.value)+1
				}
			}
			if c.class >= 0 && (best.class < 0 || closer(c, best)) {
				best = c
			}
		}
		if best.class >= 0 {
			r.matched = true
			found = append(found, best)
		}
	}
	if len(found) == 0 {
		return nil
	}
	// Closest last, so a period's priority is its rank.
	slices.SortStableFunc(found, func(a, b heliconeMatch) int {
		if closer(a, b) {
			return 1
		}
		if closer(b, a) {
			return -1
		}
		return 0
	})
	t := aliasTarget{model: m.ID, provider: off.Provider}
	dated := slices.ContainsFunc(found, func(h heliconeMatch) bool { return h.r.from != "" || h.r.until != "" })
	if !dated {
		r := found[len(found)-1].r
		r.used = true
		return im.add(entry{key: r.key, line: r.line}, t, r.base, 0, partialPrices{})
	}
	var periods []pricePeriod
	for i, h := range found {
		h.r.used = true
		periods = append(periods, pricePeriod{From: h.r.from, Until: h.r.until, base: h.r.base, key: h.r.key, line: h.r.line, priority: i})
	}
	return im.setHistory(t, periods)
}

// closer says whether a names the host more closely than b; on a tie, a
// row bounded to dates, then the row earlier in the file.
func closer(a, b heliconeMatch) bool {
	if a.class != b.class {
		return a.class < b.class
	}
	if a.sub != b.sub {
		return a.sub < b.sub
	}
	if ad, bd := a.r.from != "" || a.r.until != "", b.r.from != "" || b.r.until != ""; ad != bd {
		return ad
	}
	return a.index < b.index
}
