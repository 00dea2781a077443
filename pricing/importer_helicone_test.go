package pricing

import (
	"errors"
	"strings"
	"testing"
)

// testdata/helicone-llm-costs-small.json follows the JSON that Helicone's
// llm-costs API writes (bifrost/app/api/llm-costs/route.ts of
// github.com/Helicone/helicone at commit 05a819cbf36d, per-token costs ×1e6
// rounded to 8 decimals, rows sorted by provider and model, the metadata
// block as the route writes it). Its rows are Helicone's cost registry
// (packages/cost/providers/*/index.ts; ModelRow in
// packages/cost/interfaces/Cost.ts, commit b4c177942e62): anthropic at
// 10e22052fa88, openai at 009597f6a776, google at 05a819cbf36d, mistral at
// 8328769edba0, awsBedrock at 55a32407679, the AZURE list taking OpenAI's
// rows (providers/mappings.ts at 0003b753b4b7). Two rows are constructed,
// with prices from those files, to exercise what the registry defines but
// these files do not use: ANTHROPIC claude-opus-4 (startsWith), priced as
// claude-opus-4-20250514, and OPENAI o3 with a date_range, o3's launch price
// ($10/$40, cut on 2025-06-10).

func TestImportHelicone(t *testing.T) {
	pinToday(t, "2026-12-01")
	o, rep := importTestFile(t, "testdata/helicone-llm-costs-small.json")
	if rep.Format != "helicone" || rep.Entries != 25 {
		t.Fatalf("format %q, %d entries", rep.Format, rep.Entries)
	}
	want := map[string]int{
		"no catalog model matches it":                                   4, // claude-3-5-haiku, claude-v1, the Bedrock llama 3 8B, gemini-2.5-flash-preview
		"a closer entry prices the same host":                           3, // gpt-4.1-2025-04-14, gpt-4o-2024-08-06, o4-mini
		"provider not in the catalog":                                   1, // GROQ
		"price beyond any real model's (over $5000 per million tokens)": 1, // MISTRAL mistral-large-latest, $2,000/$6,000
	}
	for k, v := range want {
		if rep.Skipped[k] != v {
			t.Errorf("skipped %q: %d, want %d (%v)", k, rep.Skipped[k], v, rep.Skipped)
		}
	}
	if rep.Imported != 19 {
		t.Errorf("%d hosts imported, want 19", rep.Imported)
	}
	cat := Default().WithOverlay(o)
	for _, w := range []wantPrice{
		// equals "claude-sonnet-4-5-20250929", the host's own model id.
		{"claude-sonnet-4.5", "anthropic", "global", "input", 3}, {"claude-sonnet-4.5", "anthropic", "global", "cache_write", 3.75},
		// includes "claude-opus-4-5" (15 letters) beats startsWith "claude-opus-4" (13).
		{"claude-opus-4.5", "anthropic", "global", "input", 5},
		// startsWith "claude-opus-4" is the only row naming claude-opus-4-6.
		{"claude-opus-4.6", "anthropic", "global", "input", 15}, {"claude-opus-4.6", "anthropic", "global", "output", 75},
		// equals "gpt-4o" is the host's id; the row for the dated snapshot
		// gpt-4o-2024-08-06 ($2.50), an alias, is further.
		{"gpt-4o", "openai", "us", "input", 5},
		// includes "o4-mini-2025-04-16" (longer) beats includes "o4-mini".
		{"o4-mini", "openai", "us", "output", 4.4},
		// includes "gemini-2.5-flash-lite", not equals "gemini-2.5-flash".
		{"gemini-2.5-flash-lite", "google-gemini", "global", "input", 0.1}, {"gemini-2.5-flash", "google-vertex", "us-central1", "input", 0.3},
		{"gpt-4.1", "azure-openai", "global", "input", 2},
		// mistral-small-latest is an alias of the catalog's mistral-small.
		{"mistral-small", "mistral", "eu", "input", 0.14},
		// mistral-large's absurd row is left out: the catalog's price stays.
		{"mistral-large", "mistral", "eu", "input", 0.5},
		// o3 today: includes "o3-2025-04-16"; its dated equals row is over.
		{"o3", "openai", "us", "input", 2},
	} {
		w.check(t, cat)
	}
	// Within its date_range the equals "o3" row is closer and wins.
	at, err := o.At("2025-05-01")
	if err != nil {
		t.Fatal(err)
	}
	wantPrice{"o3", "openai", "us", "input", 10}.check(t, Default().WithOverlay(at))
	wantPrice{"o3", "openai", "us", "cache_read", 2.5}.check(t, Default().WithOverlay(at))
	if !o.HasHistory() {
		t.Error("the date_range gives no history")
	}
}

func TestHeliconeRejects(t *testing.T) {
	row := func(fields string) string {
		return "{\"metadata\": {\"operators_explained\": {}},\n \"data\": [\n  {" + fields + "}]}"
	}
	base := `"provider": "OPENAI", "model": "gpt-4.1", "operator": "equals", `
	tests := []struct {
		name, data, want string
		line, col        int
	}{
		{"operator", row(`"provider": "OPENAI", "model": "gpt-4.1", "operator": "regex", "input_cost_per_1m": 2, "output_cost_per_1m": 8`), `operator "regex" is not one of equals, startsWith, includes`, 3, 58},
		{"negative", row(base + `"input_cost_per_1m": -2, "output_cost_per_1m": 8`), `input_cost_per_1m: price -2 is negative`, 3, 0},
		{"string", row(base + `"input_cost_per_1m": "2", "output_cost_per_1m": 8`), `input_cost_per_1m must be a number, not a string`, 3, 0},
		{"missing output", row(base + `"input_cost_per_1m": 2`), `output_cost_per_1m is missing`, 3, 3},
		{"missing model", row(`"provider": "OPENAI", "operator": "equals", "input_cost_per_1m": 2, "output_cost_per_1m": 8`), `model is missing`, 3, 3},
		{"bad date", row(base + `"input_cost_per_1m": 2, "output_cost_per_1m": 8, "date_range": {"start": "soon", "end": "2025-01-01"}`), `date_range.start: "soon" does not start with a date`, 3, 0},
		{"dates reversed", row(base + `"input_cost_per_1m": 2, "output_cost_per_1m": 8, "date_range": {"start": "2025-02-01", "end": "2025-01-01"}`), `ends (2025-01-01) before it starts`, 3, 0},
		{"row not an object", `{"data": [{"provider": "OPENAI", "model": "o3", "operator": "equals", "input_cost_per_1m": 2, "output_cost_per_1m": 8}, 7]}`, `data[1] must be a JSON object, not a number`, 1, 121},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, err := Import(strings.NewReader(tt.data), "llm-costs.json")
			var ie *ImportError
			if o != nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an ImportError saying %q", err, tt.want)
			}
			if ie.Line != tt.line || tt.col > 0 && ie.Column != tt.col {
				t.Errorf("at %d:%d, want %d:%d (%v)", ie.Line, ie.Column, tt.line, tt.col, err)
			}
		})
	}
}

// OpenRouter's response also keeps its models under "data"; it stays
// OpenRouter's.
func TestHeliconeDetection(t *testing.T) {
	_, rep, err := Import(strings.NewReader(`{"data": [{"id": "openai/gpt-4.1", "pricing": {"prompt": "0.000002", "completion": "0.000008"}}]}`), "models.json")
	if err != nil || rep.Format != "openrouter" {
		t.Fatalf("%v, %q", err, rep.Format)
	}
}
