package pricing

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// near compares money to a tenth of a micro-dollar, far below any price step.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-7 }

func TestCost(t *testing.T) {
	t.Parallel()
	cat := Default()
	tests := []struct {
		name                    string
		model, provider, region string
		u                       Usage
		want                    float64
	}{
		// gpt-4.1 on openai: $2 in, $0.50 cached, $8 out per million (models.yaml).
		// (10,000-4,000)*2 + 4,000*0.5 + 500*8 = 12,000 + 2,000 + 4,000 = 18,000 micro-dollars.
		{"openai style cached inside input", "gpt-4.1", "openai", "us",
			Usage{Input: 10000, CachedInput: 4000, Output: 500}, 0.018},
		// claude-sonnet-4.5: $3 in, $0.30 cache read, $3.75 cache write, $15 out.
		// 1,000*3 + 5,000*0.3 + 2,000*3.75 + 300*15 = 3,000 + 1,500 + 7,500 + 4,500 = 16,500.
		{"anthropic style cache outside input", "claude-sonnet-4.5", "anthropic", "global",
			Usage{Input: 1000, CachedInput: 5000, CacheWrite: 2000, Output: 300, CacheSeparate: true}, 0.0165},
		// The same request counted OpenAI's way: input 8,000 includes the 7,000 cached.
		{"same request openai style", "claude-sonnet-4.5", "anthropic", "global",
			Usage{Input: 8000, CachedInput: 5000, CacheWrite: 2000, Output: 300}, 0.0165},
		// Above 200k prompt tokens the long tier prices the whole request:
		// 250,000*6 + 1,000*22.5 = 1,500,000 + 22,500.
		{"long context tier", "claude-sonnet-4.5", "anthropic", "global",
			Usage{Input: 250000, Output: 1000}, 1.5225},
		// Cached reads count toward the threshold: 50,000 + 160,000 = 210,000 > 200k;
		// 50,000*6 + 160,000*0.6 = 300,000 + 96,000.
		{"cached tokens reach the long tier", "claude-sonnet-4.5", "anthropic", "global",
			Usage{Input: 50000, CachedInput: 160000, CacheSeparate: true}, 0.396},
		// Exactly at the threshold stays on the base tier: 200,000*3.
		{"threshold itself is base", "claude-sonnet-4.5", "anthropic", "global",
			Usage{Input: 200000}, 0.6},
		// OpenAI regional processing +10 % on gpt-5.4 ($2.50 in; long tier above
		// 272k, so stay below it): 100,000 * 2.5 * 1.1.
		{"openai residency uplift", "gpt-5.4", "openai", "eu", Usage{Input: 100000}, 0.275},
		{"openai default endpoint no uplift", "gpt-5.4", "openai", "us", Usage{Input: 100000}, 0.25},
		// gpt-4.1 predates 2026-03-05: no uplift in eu.
		{"older openai model keeps price in region", "gpt-4.1", "openai", "eu", Usage{Input: 1e6}, 2},
		// Bedrock geography profile: 100,000 * $3 * 1.1 in eu-central-1; global profile $3.
		{"bedrock geo profile", "claude-sonnet-4.5", "aws-bedrock", "eu-central-1", Usage{Input: 100000}, 0.33},
		{"bedrock global profile", "claude-sonnet-4.5", "aws-bedrock", "global", Usage{Input: 100000}, 0.3},
		// Uplift multiplies the long tier too: 250,000 * $6 * 1.1.
		{"uplift on long tier", "claude-sonnet-4.5", "aws-bedrock", "eu-central-1", Usage{Input: 250000}, 1.65},
		// Nova Pro in the EU: $0.80 * 1.3125 = $1.05 (LiteLLM eu.amazon.nova-pro-v1:0).
		{"host uplift", "nova-pro", "aws-bedrock", "eu-central-1", Usage{Input: 1e6}, 1.05},
		// Azure data zone: gpt-4.1 $2 * 1.1.
		{"azure data zone", "gpt-4.1", "azure-openai", "eu", Usage{Input: 1e6}, 2.2},
		// o3 ($8 out): reasoning inside output is not billed twice: 1,000*8.
		{"reasoning inside output", "o3", "openai", "us", Usage{Output: 1000, Reasoning: 800}, 0.008},
		// Gemini counts thoughts apart: (200 + 800) * 2.5.
		{"reasoning outside output", "gemini-2.5-flash", "google-gemini", "global",
			Usage{Output: 200, Reasoning: 800, ReasoningSeparate: true}, 0.0025},
		// Inconsistent counts never go negative: cached 5,000 > input 1,000 → 0*2 + 5,000*0.5.
		{"cached above input clamps", "gpt-4.1", "openai", "us", Usage{Input: 1000, CachedInput: 5000}, 0.0025},
		{"zero usage", "gpt-4.1", "openai", "us", Usage{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := cat.Price(tt.model, tt.provider, tt.region)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Rates.Cost(tt.u); !near(got, tt.want) {
				t.Errorf("Cost(%+v) = %.9f, want %.9f", tt.u, got, tt.want)
			}
		})
	}
}

func TestPriceDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	cat := Default()
	p, err := cat.Price("gpt-5.4", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Provider != "openai" || p.Region != "us" || p.Multiplier != 1 {
		t.Errorf("default host = %s/%s ×%g, want openai/us ×1 (the cheapest region)", p.Provider, p.Region, p.Multiplier)
	}
	if p.AsOf == "" || p.Source == "" {
		t.Errorf("price without provenance: %+v", p.Provenance)
	}
	tests := []struct {
		model, provider, region string
		kind                    string
		closest                 string
	}{
		{"gpt-4.2", "", "", "model", "gpt-4.1"},
		{"claude-sonnet-4.5", "openai", "", "host", ""},
		{"claude-sonnet-4.5", "antropic", "", "provider", "anthropic"},
		// Anthropic's inference_geo "us" starts with Opus 4.6.
		{"claude-sonnet-4.5", "anthropic", "us", "region", "global"},
	}
	for _, tt := range tests {
		_, err := cat.Price(tt.model, tt.provider, tt.region)
		var ue *UnknownError
		if !errors.As(err, &ue) || ue.Kind != tt.kind {
			t.Errorf("Price(%q, %q, %q) error = %v, want unknown %s", tt.model, tt.provider, tt.region, err, tt.kind)
			continue
		}
		if tt.closest != "" && !slices.Contains(ue.Closest, tt.closest) {
			t.Errorf("Price(%q, %q, %q) closest = %v, want %s among them", tt.model, tt.provider, tt.region, ue.Closest, tt.closest)
		}
	}
}

func TestRateTableCoversEveryRegion(t *testing.T) {
	t.Parallel()
	cat := Default()
	rt := cat.RateTable()
	n := 0
	for _, m := range cat.Models() {
		for _, o := range m.Offers {
			for _, r := range o.Regions {
				i, ok := rt.Lookup(m.ID, o.Provider, r)
				if !ok {
					t.Fatalf("no rates for %s on %s in %s", m.ID, o.Provider, r)
				}
				if got := rt.Price(i); got.Model != m.ID || got.Region != r {
					t.Fatalf("Lookup(%s, %s, %s) points at %+v", m.ID, o.Provider, r, got)
				}
				n++
			}
		}
	}
	if rt.Len() != n {
		t.Errorf("RateTable.Len() = %d, want %d", rt.Len(), n)
	}
}

// BenchmarkCost measures the per-request hot path. Run with
// go test ./pricing -run '^$' -bench Cost -benchmem.
func BenchmarkCost(b *testing.B) {
	cat := Default()
	rt := cat.RateTable()
	i, ok := rt.Lookup("claude-sonnet-4.5", "aws-bedrock", "eu-central-1")
	if !ok {
		b.Fatal("no rates")
	}
	r := rt.Rates(i)
	u := Usage{Input: 1800, CachedInput: 720, Output: 400}
	var sum float64
	for b.Loop() {
		sum += r.Cost(u)
		u.Output++
	}
	if sum <= 0 {
		b.Fatal("no cost")
	}
}

// BenchmarkLookupAndCost adds the table lookup a caller without a cached
// index would pay.
func BenchmarkLookupAndCost(b *testing.B) {
	rt := Default().RateTable()
	u := Usage{Input: 1800, CachedInput: 720, Output: 400}
	var sum float64
	for b.Loop() {
		i, _ := rt.Lookup("claude-sonnet-4.5", "aws-bedrock", "eu-central-1")
		sum += rt.Rates(i).Cost(u)
	}
	if sum <= 0 {
		b.Fatal("no cost")
	}
}
