package pricing

import (
	"fmt"
	"slices"
	"strings"
)

// Usage is what one request consumed, in tokens. Counts are float64 so the
// simulator can price a mean request as well as a real one.
//
// By default the counts follow OpenAI's convention, also gatewise's
// normalised log record: Input includes the cached reads and cache writes,
// and Output includes the reasoning tokens. Set CacheSeparate for
// Anthropic-style usage (input_tokens excludes cache_read_input_tokens and
// cache_creation_input_tokens) and ReasoningSeparate for Gemini-style usage
// (thoughts are counted apart from candidates).
type Usage struct {
	Input       float64
	CachedInput float64
	CacheWrite  float64
	Output      float64
	Reasoning   float64

	CacheSeparate     bool
	ReasoningSeparate bool
}

// tier holds USD per token for each kind of token.
type tier struct {
	input, cacheRead, cacheWrite, output, reasoning float64
}

// Rates are one (model, provider, region)'s prices per token, regional uplift
// already applied, so costing a request is a handful of multiply-adds.
type Rates struct {
	base, long tier
	// above is the prompt size past which long applies; 0 means never.
	above float64
}

func newRates(p TokenPrices, above int, long TokenPrices, mult float64) Rates {
	t := func(p TokenPrices) tier {
		const perToken = 1e-6
		k := mult * perToken
		return tier{p.Input * k, p.CacheRead * k, p.CacheWrite * k, p.Output * k, p.Reasoning * k}
	}
	r := Rates{base: t(p)}
	if above > 0 {
		r.long, r.above = t(long), float64(above)
	}
	return r
}

// Cost is the USD cost of one request. The prompt size that selects the
// long-context tier counts every prompt token, cached or not; the tier then
// prices the whole request, as Anthropic and Google bill it.
func (r Rates) Cost(u Usage) float64 {
	uncached, prompt := u.Input, u.Input
	if u.CacheSeparate {
		prompt += u.CachedInput + u.CacheWrite
	} else {
		uncached -= u.CachedInput + u.CacheWrite
	}
	output := u.Output
	if !u.ReasoningSeparate {
		output -= u.Reasoning
	}
	t := &r.base
	if r.above > 0 && prompt > r.above {
		t = &r.long
	}
	return max(uncached, 0)*t.input + u.CachedInput*t.cacheRead + u.CacheWrite*t.cacheWrite +
		max(output, 0)*t.output + u.Reasoning*t.reasoning
}

// PerMillion reports the base tier in USD per million tokens, for display.
func (r Rates) PerMillion() TokenPrices {
	return TokenPrices{
		Input: r.base.input * 1e6, Output: r.base.output * 1e6,
		CacheRead: r.base.cacheRead * 1e6, CacheWrite: r.base.cacheWrite * 1e6, Reasoning: r.base.reasoning * 1e6,
	}
}

// Price is a resolved rate with what it applies to and where it comes from.
type Price struct {
	Model    string
	Provider string
	Region   string
	// ProviderModelID is the id to send to the provider.
	ProviderModelID string
	// Multiplier is the regional uplift already folded into Rates.
	Multiplier float64
	Rates      Rates
	Provenance
}

type rateKey struct{ model, provider, region string }

// RateTable holds the Rates of every (model, provider, region) the catalog
// serves, precomputed. Simulations resolve an index once per path and then
// only read the slice.
type RateTable struct {
	index  map[rateKey]int
	prices []Price
}

// Lookup finds the index of a (model, provider, region).
func (t *RateTable) Lookup(model, provider, region string) (int, bool) {
	i, ok := t.index[rateKey{model, provider, region}]
	return i, ok
}

// Rates returns the rates at index i.
func (t *RateTable) Rates(i int) Rates { return t.prices[i].Rates }

// Price returns the rates at index i with their provenance.
func (t *RateTable) Price(i int) Price { return t.prices[i] }

// Len is the number of (model, provider, region) entries.
func (t *RateTable) Len() int { return len(t.prices) }

// RateTable returns the catalog's precomputed rates. It is shared and
// read-only.
func (c *Catalog) RateTable() *RateTable { return c.rates }

func buildRateTable(c *Catalog) *RateTable {
	t := &RateTable{index: map[rateKey]int{}}
	for _, m := range c.models {
		for _, o := range m.Offers {
			p, _ := c.Provider(o.Provider)
			for _, region := range o.Regions {
				mult := regionMultiplier(p, m.ID, o, region)
				t.index[rateKey{m.ID, o.Provider, region}] = len(t.prices)
				t.prices = append(t.prices, Price{
					Model: m.ID, Provider: o.Provider, Region: region, ProviderModelID: o.ModelID,
					Multiplier: mult, Rates: newRates(o.Prices, o.LongContextAbove, o.Long, mult),
					Provenance: o.Provenance,
				})
			}
		}
	}
	return t
}

// regionMultiplier combines the provider's residency rules and the offer's
// own uplifts that cover region.
func regionMultiplier(p Provider, model string, o Offer, region string) float64 {
	mult := 1.0
	for _, r := range p.Residency {
		if slices.Contains(r.Regions, region) && (len(r.Models) == 0 || slices.Contains(r.Models, model)) {
			mult *= r.Multiplier
		}
	}
	for _, u := range o.Uplifts {
		if slices.Contains(u.Regions, region) {
			mult *= u.Multiplier
		}
	}
	return mult
}

// UnknownError reports an id the catalog does not know, with the closest
// ids it does, so a command line can offer them.
type UnknownError struct {
	Kind    string // "model", "provider", "region", "gateway"
	ID      string
	Closest []string
	// Context narrows the message ("served by openai, azure-openai").
	Context string
}

func (e *UnknownError) Error() string {
	msg := fmt.Sprintf("unknown %s %q", e.Kind, e.ID)
	if e.Context != "" {
		msg += " (" + e.Context + ")"
	}
	if len(e.Closest) > 0 {
		msg += "; closest known: " + strings.Join(e.Closest, ", ")
	}
	return msg
}

// Price resolves what a model costs on a provider in a region. An empty
// provider means the model's first host; an empty region means the host's
// cheapest region, preferring the first listed.
func (c *Catalog) Price(model, provider, region string) (Price, error) {
	i, ok := c.modelIndex(model)
	if !ok {
		ids := make([]string, len(c.models))
		for k, m := range c.models {
			ids[k] = m.ID
		}
		return Price{}, &UnknownError{Kind: "model", ID: model, Closest: Closest(ids, model, 3)}
	}
	m := c.models[i]
	if provider == "" {
		provider = m.Hosts[0]
	}
	k := slices.Index(m.Hosts, provider)
	if k < 0 {
		var ids []string
		for _, p := range c.providers {
			ids = append(ids, p.ID)
		}
		kind := "provider"
		if slices.Contains(ids, provider) {
			kind = "host"
		}
		return Price{}, &UnknownError{Kind: kind, ID: provider, Context: model + " is served by " + strings.Join(m.Hosts, ", "), Closest: Closest(m.Hosts, provider, 3)}
	}
	o := m.Offers[k]
	if region == "" {
		best := -1
		for _, r := range o.Regions {
			j, _ := c.rates.Lookup(model, provider, r)
			if best < 0 || c.rates.prices[j].Multiplier < c.rates.prices[best].Multiplier {
				best = j
			}
		}
		return c.rates.prices[best], nil
	}
	j, ok := c.rates.Lookup(model, provider, region)
	if !ok {
		return Price{}, &UnknownError{Kind: "region", ID: region, Context: model + " on " + provider + " is served in " + strings.Join(o.Regions, ", "), Closest: Closest(o.Regions, region, 3)}
	}
	return c.rates.prices[j], nil
}
