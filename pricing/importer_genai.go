package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// genai-prices (github.com/pydantic/genai-prices) publishes its prices as
// prices/data.json (v1, frozen) and prices/new_data/v2/data.json (live):
// a JSON array of providers, each with models; a model has an id, a match
// clause saying which model names it prices, and prices in USD per million
// tokens, either one set or a list of conditional prices with start dates
// (its price history). Schema: prices/new_data/v2/data.schema.json.

// genaiProviders maps genai-prices provider ids onto catalog providers.
// Its "google" provider covers both the Gemini API and Vertex AI.
var genaiProviders = map[string][]string{
	"openai":    {"openai"},
	"anthropic": {"anthropic"},
	"google":    {"google-gemini", "google-vertex"},
	"aws":       {"aws-bedrock"},
	"azure":     {"azure-openai"},
	"mistral":   {"mistral"},
}

type genaiProvider struct {
	id        string
	fallbacks []string
	models    []*genaiModel
}

type genaiModel struct {
	id       string
	line     int
	match    genaiClause
	periods  []pricePeriod
	constant bool // one set of prices, no history
	used     bool
	badRegex bool
	noInput  bool // some price of it has no input price
	offPeak  bool // it has time-of-day prices, left out
}

// genaiClause is a match clause: a test on the lower-cased model name.
type genaiClause struct {
	op    string
	value string
	re    *regexp.Regexp
	subs  []genaiClause
}

func (c genaiClause) matches(name string) bool {
	v := strings.ToLower(c.value)
	switch c.op {
	case "equals":
		return name == v
	case "starts_with":
		return strings.HasPrefix(name, v)
	case "ends_with":
		return strings.HasSuffix(name, v)
	case "contains":
		return strings.Contains(name, v)
	case "regex":
		return c.re != nil && c.re.MatchString(name)
	case "or":
		return slices.ContainsFunc(c.subs, func(s genaiClause) bool { return s.matches(name) })
	case "and":
		for _, s := range c.subs {
			if !s.matches(name) {
				return false
			}
		}
		return len(c.subs) > 0
	}
	return false
}

// isGenAIPrices tells a genai-prices data file (an array of providers with
// models) from OpenRouter's bare model array by its first element.
func isGenAIPrices(data []byte) bool {
	first, ok := firstObject(data)
	_, models := first["models"]
	return ok && models
}

// firstObject is the first element of a JSON array of objects, by its
// keys, for telling price files apart; false when data is no such array.
func firstObject(data []byte) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') || !dec.More() {
		return nil, false
	}
	var first map[string]json.RawMessage
	if dec.Decode(&first) != nil {
		return nil, false
	}
	return first, true
}

func (im *importer) genAIPrices(data []byte) error {
	im.overlay.Format = "genai-prices"
	provs, err := items(data, 0, "the file")
	if err != nil {
		return im.shapeFail(err, "")
	}
	byID := map[string]*genaiProvider{}
	var order []*genaiProvider
	lines := &lineCounter{data: data}
	for i, pv := range provs {
		p, err := im.genaiProvider(pv, i, lines)
		if err != nil {
			return err
		}
		if byID[p.id] != nil {
			return im.fieldError(pv.off, p.id, "provider id %q is listed twice", p.id)
		}
		byID[p.id] = p
		order = append(order, p)
	}
	var hosts []genaiHost
	for _, p := range order {
		for _, cp := range genaiProviders[p.id] {
			hosts = append(hosts, im.genaiHosts(p, cp, byID)...)
		}
	}
	if err := im.genaiApply(hosts); err != nil {
		return err
	}
	for _, p := range order {
		for _, m := range p.models {
			switch {
			case m.used && m.offPeak:
				im.skip("time-of-day (off-peak) price left out, the model's other prices used")
			case m.used:
			case m.noInput:
				im.skip("no input price")
			case len(genaiProviders[p.id]) == 0:
				im.skip("provider not in the catalog")
			case p.id == "aws" && strings.HasPrefix(m.id, "regional."):
				im.skip("regional variant (the catalog applies its own uplift)")
			case m.badRegex:
				im.skip("match clause with a regular expression gatewise cannot read")
			default:
				im.skip("no catalog model matches it")
			}
		}
	}
	return nil
}

// genaiHost is which genai-prices model prices a catalog host.
type genaiHost struct {
	t   aliasTarget
	m   *genaiModel
	key string
}

// genaiHosts finds, for every catalog host of provider cp, the model of p
// that genai-prices itself would price a request to it with: the first in
// p's list whose match clause takes one of the host's names (its own model
// id first, then its aliases, then the canonical name), else the first in
// one of p's fallback providers (one step, as genai-prices does).
func (im *importer) genaiHosts(p *genaiProvider, cp string, byID map[string]*genaiProvider) []genaiHost {
	var out []genaiHost
	for _, m := range im.cat.models {
		for _, off := range m.Offers {
			if off.Provider != cp {
				continue
			}
			var names []string
			if cp == "aws-bedrock" {
				// Bedrock's global profile is its list price; the catalog
				// derives the regional ones with its own uplift.
				names = append(names, "global."+strings.ToLower(off.ModelID))
			}
			names = append(names, strings.ToLower(off.ModelID))
			for _, a := range off.Aliases {
				names = append(names, strings.ToLower(a))
			}
			names = append(names, strings.ToLower(m.ID))
			t := aliasTarget{model: m.ID, provider: cp}
			if gm := genaiFind(p, names); gm != nil {
				out = append(out, genaiHost{t: t, m: gm, key: p.id + "/" + gm.id})
				continue
			}
			for _, fb := range p.fallbacks {
				if fp := byID[fb]; fp != nil {
					if gm := genaiFind(fp, names); gm != nil {
						out = append(out, genaiHost{t: t, m: gm, key: fp.id + "/" + gm.id + " (" + p.id + " falls back to " + fp.id + ")"})
						break
					}
				}
			}
		}
	}
	return out
}

func genaiFind(p *genaiProvider, names []string) *genaiModel {
	for _, n := range names {
		for _, m := range p.models {
			if p.id == "aws" && strings.HasPrefix(m.id, "regional.") {
				continue
			}
			if m.match.matches(n) {
				return m
			}
		}
	}
	return nil
}

// genaiApply records each host's prices: a constant price as it is, a
// price history with every period, answering today's. A model without an
// input price prices nothing (the host keeps the catalog's).
func (im *importer) genaiApply(hosts []genaiHost) error {
	for _, h := range hosts {
		if h.m.noInput {
			continue
		}
		h.m.used = true
		periods := slices.Clone(h.m.periods)
		for i := range periods {
			periods[i].key, periods[i].line = h.key, h.m.line
		}
		e := entry{key: h.key, line: h.m.line}
		if h.m.constant {
			p := periods[0]
			if err := im.add(e, h.t, p.base, p.above, p.long); err != nil {
				return err
			}
			continue
		}
		if err := im.setHistory(h.t, periods); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) genaiProvider(pv jsonValue, i int, lines *lineCounter) (*genaiProvider, error) {
	fields, err := members(pv.raw, pv.off, fmt.Sprintf("provider %d", i+1))
	if err != nil {
		return nil, im.shapeFail(err, "")
	}
	p := &genaiProvider{}
	var models *jsonValue
	for _, f := range fields {
		switch f.key {
		case "id":
			if p.id, err = im.str(f, "", "provider id"); err != nil {
				return nil, err
			}
		case "models":
			models = &f
		case "fallback_model_providers":
			if err := json.Unmarshal(f.raw, &p.fallbacks); err != nil {
				return nil, im.fieldError(f.off, p.id, "fallback_model_providers must be a list of provider ids")
			}
		}
	}
	if p.id == "" {
		return nil, im.fieldError(pv.off, "", "provider %d has no id", i+1)
	}
	if models == nil {
		return nil, im.fieldError(pv.off, p.id, "provider %q has no models list", p.id)
	}
	ms, err := items(models.raw, models.off, "models")
	if err != nil {
		return nil, im.shapeFail(err, p.id)
	}
	for j, mv := range ms {
		if err := im.countEntry(mv.off); err != nil {
			return nil, err
		}
		m, err := im.genaiModel(p.id, mv, j, lines)
		if err != nil {
			return nil, err
		}
		p.models = append(p.models, m)
	}
	return p, nil
}

func (im *importer) genaiModel(provider string, mv jsonValue, j int, lines *lineCounter) (*genaiModel, error) {
	key := fmt.Sprintf("%s/models[%d]", provider, j)
	fields, err := members(mv.raw, mv.off, key)
	if err != nil {
		return nil, im.shapeFail(err, key)
	}
	m := &genaiModel{line: lines.at(mv.off)}
	var match, prices *jsonValue
	for _, f := range fields {
		switch f.key {
		case "id":
			if m.id, err = im.str(f, key, "id"); err != nil {
				return nil, err
			}
			key = provider + "/" + m.id
		case "match":
			match = &f
		case "prices":
			prices = &f
		}
	}
	switch {
	case m.id == "":
		return nil, im.fieldError(mv.off, key, "model without an id")
	case match == nil:
		return nil, im.fieldError(mv.off, key, "match is missing: genai-prices says which model names a price is for")
	case prices == nil:
		return nil, im.fieldError(mv.off, key, "prices is missing")
	}
	if m.match, err = im.genaiClause(*match, key, "match", m, 0); err != nil {
		return nil, err
	}
	if m.periods, m.constant, m.offPeak, err = im.genaiPrices(*prices, key); err != nil {
		return nil, err
	}
	m.noInput = slices.ContainsFunc(m.periods, func(p pricePeriod) bool { return p.base.input == nil })
	return m, nil
}

var genaiClauseOps = []string{"equals", "starts_with", "ends_with", "contains", "regex", "or", "and"}

// maxClauseDepth bounds how deep match clauses nest: genai-prices' own
// nest two deep, and every level is read again below it, so a hostile
// file nesting thousands deep would cost time quadratic in its size.
const maxClauseDepth = 16

func (im *importer) genaiClause(v jsonValue, key, field string, m *genaiModel, depth int) (genaiClause, error) {
	if depth > maxClauseDepth {
		return genaiClause{}, im.fieldError(v.off, key, "%s: match clauses nest more than %d deep", field, maxClauseDepth)
	}
	fields, err := members(v.raw, v.off, field)
	if err != nil {
		return genaiClause{}, im.shapeFail(err, key)
	}
	if len(fields) != 1 {
		return genaiClause{}, im.fieldError(v.off, key, "%s must hold exactly one of %s, has %d keys", field, strings.Join(genaiClauseOps, ", "), len(fields))
	}
	f := fields[0]
	c := genaiClause{op: f.key}
	switch f.key {
	case "equals", "starts_with", "ends_with", "contains", "regex":
		if c.value, err = im.str(f, key, field+"."+f.key); err != nil {
			return c, err
		}
		if f.key == "regex" {
			// genai-prices matches with Python's re.search; a pattern Go's
			// regexp cannot compile never matches here, and is counted.
			if c.re, err = regexp.Compile(c.value); err != nil {
				c.re, m.badRegex = nil, true
			}
		}
	case "or", "and":
		subs, err := items(f.raw, f.off, field+"."+f.key)
		if err != nil {
			return c, im.shapeFail(err, key)
		}
		for i, s := range subs {
			sc, err := im.genaiClause(s, key, fmt.Sprintf("%s.%s[%d]", field, f.key, i), m, depth+1)
			if err != nil {
				return c, err
			}
			c.subs = append(c.subs, sc)
		}
	default:
		return c, im.fieldError(f.off, key, "%s: unknown clause %q (use %s)", field, f.key, strings.Join(genaiClauseOps, ", "))
	}
	return c, nil
}

// genaiPrices reads a model's prices: one ModelPrice object, or a list of
// conditional prices each with an optional start_date constraint. Prices
// that hold at a time of day (off-peak) are left out: a run's price does
// not vary by the hour.
func (im *importer) genaiPrices(v jsonValue, key string) (periods []pricePeriod, constant, offPeak bool, err error) {
	if t := bytes.TrimSpace(v.raw); len(t) > 0 && t[0] == '{' {
		p, err := im.genaiModelPrice(v, key, "prices")
		if err != nil {
			return nil, false, false, err
		}
		p.first = true
		return []pricePeriod{p}, true, false, nil
	}
	list, err := items(v.raw, v.off, "prices")
	if err != nil {
		return nil, false, false, im.fieldError(v.off, key, "prices must be an object of prices or a list of conditional prices, not %s", jsonKind(v.raw))
	}
	if len(list) == 0 {
		return nil, false, false, im.fieldError(v.off, key, "prices is an empty list")
	}
	var out []pricePeriod
	for i, cv := range list {
		field := fmt.Sprintf("prices[%d]", i)
		fields, err := members(cv.raw, cv.off, field)
		if err != nil {
			return nil, false, false, im.shapeFail(err, key)
		}
		var prices, constraint *jsonValue
		for _, f := range fields {
			switch f.key {
			case "prices":
				prices = &f
			case "constraint":
				constraint = &f
			default:
				return nil, false, false, im.fieldError(f.off, key, "%s: unknown key %q (a conditional price has prices and constraint)", field, f.key)
			}
		}
		if prices == nil {
			return nil, false, false, im.fieldError(cv.off, key, "%s has no prices", field)
		}
		p, err := im.genaiModelPrice(*prices, key, field+".prices")
		if err != nil {
			return nil, false, false, err
		}
		p.first, p.priority = i == 0, i
		if constraint != nil && !bytes.Equal(bytes.TrimSpace(constraint.raw), []byte("null")) {
			cf, err := members(constraint.raw, constraint.off, field+".constraint")
			if err != nil {
				return nil, false, false, im.shapeFail(err, key)
			}
			timeOfDay := false
			for _, f := range cf {
				switch f.key {
				case "start_date":
					s, err := im.str(f, key, field+".constraint.start_date")
					if err != nil {
						return nil, false, false, err
					}
					if _, err := time.Parse(time.DateOnly, s); err != nil {
						return nil, false, false, im.fieldError(f.off, key, "%s.constraint.start_date: %q is not a date (YYYY-MM-DD)", field, s)
					}
					p.From = s
				case "start_time", "end_time":
					if _, err := im.str(f, key, field+".constraint."+f.key); err != nil {
						return nil, false, false, err
					}
					timeOfDay = true
				default:
					return nil, false, false, im.fieldError(f.off, key, "%s.constraint: unknown key %q (start_date, or start_time and end_time)", field, f.key)
				}
			}
			if timeOfDay {
				offPeak = true
				continue
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, false, false, im.fieldError(v.off, key, "prices holds only time-of-day prices")
	}
	out[0].first = true
	return out, false, offPeak, nil
}

// genaiPrice is one price field: a number, or tiered {base, tiers}.
type genaiPrice struct {
	base  float64
	tiers []struct {
		Start int64   `json:"start"`
		Price float64 `json:"price"`
	}
}

// genaiModelPrice reads a ModelPrice object. Every field is checked (a
// number, or {base, tiers}, never negative); gatewise uses the text token
// prices, with a tiered price's first tier as the long-context price.
func (im *importer) genaiModelPrice(v jsonValue, key, field string) (pricePeriod, error) {
	fields, err := members(v.raw, v.off, field)
	if err != nil {
		return pricePeriod{}, im.shapeFail(err, key)
	}
	got := map[string]*genaiPrice{}
	for _, f := range fields {
		name := field + "." + f.key
		var gp genaiPrice
		if t := bytes.TrimSpace(f.raw); len(t) > 0 && t[0] == '{' {
			tf, err := members(f.raw, f.off, name)
			if err != nil {
				return pricePeriod{}, im.shapeFail(err, key)
			}
			hasBase := false
			for _, x := range tf {
				switch x.key {
				case "base":
					if gp.base, err = im.number(x, key, name+".base"); err != nil {
						return pricePeriod{}, err
					}
					hasBase = true
				case "tiers":
					if err := json.Unmarshal(x.raw, &gp.tiers); err != nil {
						return pricePeriod{}, im.fieldError(x.off, key, "%s.tiers must be a list of {start, price}: %v", name, shapeErr(err))
					}
				default:
					return pricePeriod{}, im.fieldError(x.off, key, "%s: unknown key %q (a tiered price has base and tiers)", name, x.key)
				}
			}
			if !hasBase {
				return pricePeriod{}, im.fieldError(f.off, key, "%s: a tiered price needs base", name)
			}
			last := int64(0)
			for i, t := range gp.tiers {
				if t.Start <= last {
					return pricePeriod{}, im.fieldError(f.off, key, "%s.tiers[%d].start %d must be a positive token count above the tier before", name, i, t.Start)
				}
				if t.Price < 0 || math.IsNaN(t.Price) {
					return pricePeriod{}, im.fieldError(f.off, key, "%s.tiers[%d].price %v is negative", name, i, t.Price)
				}
				last = t.Start
			}
		} else if gp.base, err = im.number(f, key, name); err != nil {
			return pricePeriod{}, im.fieldError(f.off, key, "%s must be a number or a tiered price {base, tiers}, not %s", name, jsonKind(f.raw))
		}
		if gp.base < 0 {
			return pricePeriod{}, im.fieldError(f.off, key, "%s: price %v is negative", name, gp.base)
		}
		got[f.key] = &gp
	}
	pick := func(names ...string) *genaiPrice {
		for _, n := range names {
			if p := got[n]; p != nil {
				return p
			}
		}
		return nil
	}
	in := pick("input_mtok", "input_text_mtok")
	out := pick("output_mtok", "output_text_mtok")
	cr := pick("cache_read_mtok", "cache_text_read_mtok")
	cw := pick("cache_write_mtok", "cache_write_5m_mtok", "cache_text_write_mtok")
	rs := pick("output_reasoning_mtok", "output_text_reasoning_mtok")
	var p pricePeriod
	for _, tp := range []*genaiPrice{in, out, cr, cw} {
		if tp != nil && len(tp.tiers) > 0 {
			p.above = int(min(tp.tiers[0].Start, math.MaxInt32))
			break
		}
	}
	basePtr := func(g *genaiPrice) *float64 {
		if g == nil {
			return nil
		}
		return ptr(g.base)
	}
	longPtr := func(g *genaiPrice) *float64 {
		if g == nil || p.above == 0 {
			return nil
		}
		for _, t := range g.tiers {
			if int(t.Start) == p.above {
				return ptr(t.Price)
			}
		}
		return nil
	}
	p.base = partialPrices{input: basePtr(in), output: basePtr(out), cacheRead: nonZero(basePtr(cr)), cacheWrite: nonZero(basePtr(cw)), reasoning: nonZero(basePtr(rs))}
	if p.above > 0 {
		p.long = partialPrices{input: longPtr(in), output: longPtr(out), cacheRead: longPtr(cr), cacheWrite: longPtr(cw)}
		if p.long.input == nil && p.long.output == nil {
			p.above, p.long = 0, partialPrices{}
		}
	}
	return p, nil
}
