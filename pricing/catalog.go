package pricing

import (
	"embed"
	"slices"
	"strings"
	"sync"
)

// Catalog answers which providers, regions, models and gateways gatewise
// knows, and what each request and each gateway plan costs. It is read-only
// once built: every accessor hands out copies, so callers may share one value.
type Catalog struct {
	providers []Provider
	models    []Model
	gateways  []Gateway
	rates     *RateTable
}

// Provider is a host a team can hold an account with.
type Provider struct {
	ID      string
	Name    string
	Regions []Region
	// Residency lists the options that move processing into a region at a
	// price: OpenAI's regional processing, Anthropic's inference_geo, ...
	Residency  []Residency
	Compliance Compliance
}

// Region is a place a provider serves requests from. Jurisdiction says whose
// rules apply there ("us", "eu", "uk", "ap", ...); "global" means the provider
// gives no residency guarantee.
type Region struct {
	ID           string `yaml:"id"`
	Jurisdiction string `yaml:"jurisdiction"`
}

// Provenance says where a fact comes from and when it was true, so every
// number gatewise shows can be checked and refreshed.
type Provenance struct {
	AsOf   string
	Source string
	Note   string
}

// Residency is a provider-wide rule that prices requests processed in some
// regions higher, for some models (all of the provider's when Models is empty).
type Residency struct {
	ID         string
	Regions    []string
	Multiplier float64
	Models     []string
	Provenance
}

// Compliance holds what a provider offers for regulated workloads.
type Compliance struct {
	SOC2              Fact
	HIPAABAA          Fact
	ZeroDataRetention Fact
}

// Fact is a yes/no-style fact ("yes", "no", "by-approval", "partial",
// "unknown") with its provenance.
type Fact struct {
	Value string
	Provenance
}

// Model is a model under its canonical id. Hosts lists the provider ids that
// serve it, in the catalog's order; Offers says how each of them does.
type Model struct {
	ID     string
	Name   string
	Hosts  []string
	Offers []Offer
}

// Offer is one provider's way of serving a model: its own id for it, where,
// and at what list price.
type Offer struct {
	Provider string
	ModelID  string
	// Aliases are other names files use for this model on this provider
	// (dated snapshots, "-latest"); importers match on them.
	Aliases []string
	Regions []string
	// Prices are USD per million tokens, before any regional uplift.
	Prices TokenPrices
	// LongContextAbove is the prompt size beyond which Long applies to the
	// whole request; 0 when the model has no long-context tier.
	LongContextAbove int
	Long             TokenPrices
	Uplifts          []Uplift
	Provenance
}

// TokenPrices are USD per million tokens of each kind. Loading fills in the
// defaults (cache reads and writes at the input price, reasoning at the
// output price), so every field is the price actually charged.
type TokenPrices struct {
	Input      float64 `json:"input"`
	Output     float64 `json:"output"`
	CacheRead  float64 `json:"cache_read"`
	CacheWrite float64 `json:"cache_write"`
	Reasoning  float64 `json:"reasoning"`
}

// Uplift multiplies a single offer's prices in some regions (Nova in the EU).
type Uplift struct {
	Regions    []string
	Multiplier float64
	Provenance
}

//go:embed data/*.yaml
var dataFS embed.FS

// defaultCatalog parses the embedded data once; the tests load it too, so a
// broken data file fails `go test`, never a user.
var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := Load(dataFS)
	if err != nil {
		panic("pricing: embedded catalog: " + err.Error())
	}
	return c
})

// Default is the catalog gatewise ships with, parsed once from the embedded
// data files. It is shared, and nothing it hands out can change it.
func Default() *Catalog { return defaultCatalog() }

// Provider looks a provider up by id.
func (c *Catalog) Provider(id string) (Provider, bool) {
	for _, p := range c.providers {
		if p.ID == id {
			return cloneProvider(p), true
		}
	}
	return Provider{}, false
}

// Providers lists every provider in the order the app shows them.
func (c *Catalog) Providers() []Provider {
	out := make([]Provider, len(c.providers))
	for i, p := range c.providers {
		out[i] = cloneProvider(p)
	}
	return out
}

// Model looks a model up by its canonical id.
func (c *Catalog) Model(id string) (Model, bool) {
	i, ok := c.modelIndex(id)
	if !ok {
		return Model{}, false
	}
	return cloneModel(c.models[i]), true
}

func (c *Catalog) modelIndex(id string) (int, bool) {
	return slices.BinarySearchFunc(c.models, id, func(m Model, id string) int { return strings.Compare(m.ID, id) })
}

// Models lists every model sorted by id.
func (c *Catalog) Models() []Model {
	out := make([]Model, len(c.models))
	for i, m := range c.models {
		out[i] = cloneModel(m)
	}
	return out
}

// Jurisdiction says whose rules apply in a provider's region.
func (c *Catalog) Jurisdiction(provider, region string) (string, bool) {
	for _, p := range c.providers {
		if p.ID != provider {
			continue
		}
		for _, r := range p.Regions {
			if r.ID == region {
				return r.Jurisdiction, true
			}
		}
	}
	return "", false
}

// Jurisdictions lists, sorted, every jurisdiction some region belongs to.
func (c *Catalog) Jurisdictions() []string {
	var out []string
	for _, p := range c.providers {
		for _, r := range p.Regions {
			out = append(out, r.Jurisdiction)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Suggest finds the candidate closest to s, for "did you mean" hints on typos.
// It returns "" when nothing is close enough to be a plausible typo, so a
// wild guess is never offered. The first candidate wins a tie. It reads no
// catalog data, so a zero Catalog may suggest among any names (file keys).
func (c *Catalog) Suggest(candidates []string, s string) string {
	limit := 2
	if len([]rune(s)) <= 4 {
		limit = 1
	}
	best, bestDist := "", limit+1
	low := strings.ToLower(s)
	for _, cand := range candidates {
		if d := editDistance(low, strings.ToLower(cand)); d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best
}

// Closest lists up to n candidates nearest to s, nearest first, however far:
// the command line names them when an id is unknown, where any lead helps.
func Closest(candidates []string, s string, n int) []string {
	type scored struct {
		id string
		d  int
	}
	low := strings.ToLower(s)
	all := make([]scored, 0, len(candidates))
	for _, cand := range candidates {
		d := editDistance(low, strings.ToLower(cand))
		if strings.Contains(strings.ToLower(cand), low) && low != "" {
			d = min(d, 1) // a prefix or substring ("gpt-5") is a strong lead
		}
		all = append(all, scored{cand, d})
	}
	slices.SortStableFunc(all, func(a, b scored) int { return a.d - b.d })
	out := make([]string, 0, n)
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.id)
	}
	return out
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// adjacent letters turning a into b; a swap counts once because that is the
// commonest typo ("modles").
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	prev2 := make([]int, len(y)+1)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}

func cloneProvider(p Provider) Provider {
	p.Regions = slices.Clone(p.Regions)
	p.Residency = slices.Clone(p.Residency)
	for i := range p.Residency {
		p.Residency[i].Regions = slices.Clone(p.Residency[i].Regions)
		p.Residency[i].Models = slices.Clone(p.Residency[i].Models)
	}
	return p
}

func cloneModel(m Model) Model {
	m.Hosts = slices.Clone(m.Hosts)
	m.Offers = slices.Clone(m.Offers)
	for i := range m.Offers {
		m.Offers[i] = cloneOffer(m.Offers[i])
	}
	return m
}

func cloneOffer(o Offer) Offer {
	o.Aliases = slices.Clone(o.Aliases)
	o.Regions = slices.Clone(o.Regions)
	o.Uplifts = slices.Clone(o.Uplifts)
	for i := range o.Uplifts {
		o.Uplifts[i].Regions = slices.Clone(o.Uplifts[i].Regions)
	}
	return o
}

// AsOf is the catalog's date: the newest as_of among its prices and plans,
// which a result records so its numbers can be traced to the facts used.
func (c *Catalog) AsOf() string {
	newest := ""
	for _, m := range c.models {
		for _, o := range m.Offers {
			newest = max(newest, o.AsOf)
		}
	}
	for _, g := range c.gateways {
		for _, p := range g.Plans {
			newest = max(newest, p.AsOf)
		}
	}
	return newest
}
