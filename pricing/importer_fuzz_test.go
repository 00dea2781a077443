package pricing

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzImport checks the importer's promises on any input: no panic, and
// either an error with nothing to apply or an overlay whose prices are all
// finite, in range and usable.
func fuzzImport(f *testing.F, name string, seeds ...string) {
	for _, s := range seeds {
		data, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, rep, err := Import(bytes.NewReader(data), name)
		if err != nil {
			if o != nil {
				t.Fatal("error with an overlay to apply")
			}
			return
		}
		if rep.Imported != o.Len() {
			t.Fatalf("report says %d imported, overlay has %d", rep.Imported, o.Len())
		}
		cat := Default().WithOverlay(o)
		rt := cat.RateTable()
		for i := range rt.Len() {
			p := rt.Rates(i).PerMillion()
			for _, v := range []float64{p.Input, p.Output, p.CacheRead, p.CacheWrite, p.Reasoning} {
				if math.IsNaN(v) || v < 0 || v > maxPerMillion*10 {
					t.Fatalf("price %v after import", v)
				}
			}
		}
	})
}

func FuzzImportLiteLLM(f *testing.F) { fuzzImport(f, "prices.json", "litellm-small.json") }

func FuzzImportOpenRouter(f *testing.F) { fuzzImport(f, "models.json", "openrouter-small.json") }

func FuzzImportPortkey(f *testing.F) {
	fuzzImport(f, "anthropic.json", "portkey/anthropic.json", "portkey/google.json")
}

// The genai-prices and Helicone targets start from small files of their
// schemas (the testdata samples' shapes: a conditional price with a start
// date, a tiered price, or and starts_with clauses, a fallback provider; the
// three operators and a date_range) rather than the samples themselves,
// whose 20 to 30 KB make each minimisation step slow.
const (
	genaiSeed = `[{"id":"anthropic","models":[{"id":"claude-sonnet-5","match":{"or":[{"starts_with":"claude-sonnet-5"},{"equals":"x"}]},
"prices":[{"prices":{"input_mtok":2,"output_mtok":10}},{"constraint":{"start_date":"2026-09-01"},"prices":{"input_mtok":{"base":3,"tiers":[{"start":200000,"price":6}]},"output_mtok":15,"cache_read_mtok":0.3}}]}]},
{"id":"azure","fallback_model_providers":["openai"],"models":[]},{"id":"openai","models":[{"id":"o3","match":{"equals":"o3"},"prices":{"input_mtok":2,"output_mtok":8}}]}]`
	heliconeSeed = `{"metadata":{"operators_explained":{}},"data":[
{"provider":"ANTHROPIC","model":"claude-opus-4","operator":"startsWith","input_cost_per_1m":15,"output_cost_per_1m":75,"prompt_cache_read_per_1m":1.5},
{"provider":"OPENAI","model":"o3","operator":"equals","input_cost_per_1m":10,"output_cost_per_1m":40,"date_range":{"start":"2025-04-16","end":"2025-06-09"}},
{"provider":"OPENAI","model":"o3-2025","operator":"includes","input_cost_per_1m":2,"output_cost_per_1m":8}]}`
)

func FuzzImportGenAIPrices(f *testing.F) {
	f.Add([]byte(genaiSeed))
	fuzzImport(f, "data.json")
}

func FuzzImportHelicone(f *testing.F) {
	f.Add([]byte(heliconeSeed))
	fuzzImport(f, "llm-costs.json")
}

// The small seeds are files of their formats, as the samples are.
func TestFuzzSeedsImport(t *testing.T) {
	for _, c := range []struct{ seed, name, format string }{{genaiSeed, "data.json", "genai-prices"}, {heliconeSeed, "llm-costs.json", "helicone"}} {
		o, rep, err := Import(strings.NewReader(c.seed), c.name)
		if err != nil || rep.Format != c.format || o.Len() == 0 || !o.HasHistory() {
			t.Errorf("%s seed: %v, %q, %+v", c.format, err, rep.Format, rep)
		}
	}
}
