package pricing

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
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

func FuzzImportGenAIPrices(f *testing.F) { fuzzImport(f, "data.json", "genai-prices-small.json") }

func FuzzImportHelicone(f *testing.F) {
	fuzzImport(f, "llm-costs.json", "helicone-llm-costs-small.json")
}
