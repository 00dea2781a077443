package pricing

import (
	"slices"
	"strings"
)

// Catalog answers which providers, regions and models gatewise knows. It is
// read-only once built, so callers may share one value freely.
type Catalog struct {
	providers []Provider
	models    []Model
}

// Provider is a host a team can hold an account with.
type Provider struct {
	ID      string
	Name    string
	Regions []Region
}

// Region is a place a provider serves requests from. Jurisdiction says whose
// rules apply there ("us", "eu", "uk", "ap", ...); "global" means the provider
// gives no residency guarantee.
type Region struct {
	ID           string
	Jurisdiction string
}

// Model is a model under its canonical id, with the provider ids that serve it.
type Model struct {
	ID    string
	Name  string
	Hosts []string
}

// catalogTable is the one place the catalog's facts live.
//
// Regions follow /work/shared/research/gateways.md §7.2 (providers: residency
// and rate-limit tiers), as of 2026-11.
func catalogTable() ([]Provider, []Model) {
	r := func(id, jurisdiction string) Region { return Region{ID: id, Jurisdiction: jurisdiction} }
	providers := []Provider{
		{ID: "openai", Name: "OpenAI", Regions: []Region{
			r("us", "us"), r("eu", "eu"), r("au", "ap"), r("in", "ap"), r("jp", "ap"),
		}},
		{ID: "anthropic", Name: "Anthropic", Regions: []Region{
			r("us", "us"), r("global", "global"),
		}},
		{ID: "google-gemini", Name: "Google Gemini API", Regions: []Region{
			r("global", "global"),
		}},
		{ID: "google-vertex", Name: "Google Vertex AI", Regions: []Region{
			r("us-central1", "us"), r("us-east4", "us"), r("us-east5", "us"),
			r("europe-west1", "eu"), r("europe-west4", "eu"), r("europe-west9", "eu"),
			r("asia-northeast1", "ap"), r("asia-southeast1", "ap"),
			r("us", "us"), r("eu", "eu"),
		}},
		{ID: "aws-bedrock", Name: "AWS Bedrock", Regions: []Region{
			r("us-east-1", "us"), r("us-east-2", "us"), r("us-west-2", "us"),
			r("eu-central-1", "eu"), r("eu-west-1", "eu"), r("eu-west-3", "eu"), r("eu-north-1", "eu"),
			r("ap-northeast-1", "ap"), r("ap-southeast-2", "ap"), r("ap-south-1", "ap"),
		}},
		{ID: "azure-openai", Name: "Azure OpenAI", Regions: []Region{
			r("eastus", "us"), r("eastus2", "us"), r("westus", "us"),
			r("swedencentral", "eu"), r("francecentral", "eu"), r("germanywestcentral", "eu"),
			r("uksouth", "uk"),
			r("japaneast", "ap"), r("australiaeast", "ap"),
			r("us", "us"), r("eu", "eu"),
		}},
		{ID: "mistral", Name: "Mistral AI", Regions: []Region{
			r("eu", "eu"),
		}},
	}
	claude := []string{"anthropic", "aws-bedrock", "google-vertex"}
	openai := []string{"openai", "azure-openai"}
	gemini := []string{"google-gemini", "google-vertex"}
	models := []Model{
		{ID: "claude-sonnet-4.5", Name: "Claude Sonnet 4.5", Hosts: claude},
		{ID: "claude-opus-4.1", Name: "Claude Opus 4.1", Hosts: claude},
		{ID: "claude-haiku-4.5", Name: "Claude Haiku 4.5", Hosts: claude},
		{ID: "gpt-4.1", Name: "GPT-4.1", Hosts: openai},
		{ID: "gpt-4.1-mini", Name: "GPT-4.1 mini", Hosts: openai},
		{ID: "gpt-4.1-nano", Name: "GPT-4.1 nano", Hosts: openai},
		{ID: "gpt-4o", Name: "GPT-4o", Hosts: openai},
		{ID: "gpt-4o-mini", Name: "GPT-4o mini", Hosts: openai},
		{ID: "o3", Name: "o3", Hosts: openai},
		{ID: "o4-mini", Name: "o4-mini", Hosts: openai},
		{ID: "gpt-5", Name: "GPT-5", Hosts: openai},
		{ID: "gpt-5-mini", Name: "GPT-5 mini", Hosts: openai},
		{ID: "text-embedding-3-small", Name: "text-embedding-3-small", Hosts: openai},
		{ID: "gemini-2.5-pro", Name: "Gemini 2.5 Pro", Hosts: gemini},
		{ID: "gemini-2.5-flash", Name: "Gemini 2.5 Flash", Hosts: gemini},
		{ID: "gemini-2.5-flash-lite", Name: "Gemini 2.5 Flash-Lite", Hosts: gemini},
		{ID: "mistral-large", Name: "Mistral Large", Hosts: []string{"mistral", "aws-bedrock", "google-vertex"}},
		{ID: "mistral-medium", Name: "Mistral Medium", Hosts: []string{"mistral", "google-vertex"}},
		{ID: "mistral-small", Name: "Mistral Small", Hosts: []string{"mistral", "aws-bedrock", "google-vertex"}},
	}
	return providers, models
}

// Default builds the catalog gatewise ships with. It is rebuilt on every call,
// which is cheap, so nobody can alter a shared copy.
func Default() *Catalog {
	providers, models := catalogTable()
	models = slices.Clone(models)
	slices.SortFunc(models, func(a, b Model) int { return strings.Compare(a.ID, b.ID) })
	return &Catalog{providers: providers, models: models}
}

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
	i, ok := slices.BinarySearchFunc(c.models, id, func(m Model, id string) int { return strings.Compare(m.ID, id) })
	if !ok {
		return Model{}, false
	}
	return cloneModel(c.models[i]), true
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
	p, ok := c.Provider(provider)
	if !ok {
		return "", false
	}
	for _, r := range p.Regions {
		if r.ID == region {
			return r.Jurisdiction, true
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
	return p
}

func cloneModel(m Model) Model {
	m.Hosts = slices.Clone(m.Hosts)
	return m
}
