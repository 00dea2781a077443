package pricing

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedData is the research data shipped next to the repository, read in
// place and never copied in.
var sharedData = filepath.Join("..", "..", "shared", "data")

func openShared(t *testing.T, rel string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedData, rel))
	if err != nil {
		t.Skipf("shared price file %s not available (%v); it lives in ../shared/data beside the repository", rel, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// basePrice returns a host's USD-per-million prices in its unuplifted region.
func basePrice(t *testing.T, cat *Catalog, model, provider, region string) Price {
	t.Helper()
	p, err := cat.Price(model, provider, region)
	if err != nil {
		t.Fatal(err)
	}
	if p.Multiplier != 1 {
		t.Fatalf("%s/%s/%s has uplift %v; pick a base region", model, provider, region, p.Multiplier)
	}
	return p
}

type wantPrice struct {
	model, provider, region string
	field                   string
	usdPerMillion           float64
}

func (w wantPrice) check(t *testing.T, cat *Catalog) {
	t.Helper()
	p := basePrice(t, cat, w.model, w.provider, w.region).Rates.PerMillion()
	got := map[string]float64{"input": p.Input, "output": p.Output, "cache_read": p.CacheRead, "cache_write": p.CacheWrite, "reasoning": p.Reasoning}[w.field]
	if math.Abs(got-w.usdPerMillion) > 1e-9 {
		t.Errorf("%s on %s %s = %v per million, want %v", w.model, w.provider, w.field, got, w.usdPerMillion)
	}
}

func TestImportRealFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		name    string // name passed to Import (Portkey files are named after their provider)
		format  string
		minimum int // imported at least this many catalog hosts
		want    []wantPrice
	}{
		{
			file: "litellm-prices/model_prices_and_context_window.json", format: "litellm", minimum: 80,
			want: []wantPrice{
				// key "gpt-4.1": input_cost_per_token 2e-06, cache_read_input_token_cost 5e-07.
				{"gpt-4.1", "openai", "us", "input", 2}, {"gpt-4.1", "openai", "us", "cache_read", 0.5},
				// key "claude-sonnet-4-5-20250929": cache_creation_input_token_cost 3.75e-06.
				{"claude-sonnet-4.5", "anthropic", "global", "cache_write", 3.75},
				// key "gemini/gemini-2.5-flash": output_cost_per_token 2.5e-06.
				{"gemini-2.5-flash", "google-gemini", "global", "output", 2.5},
				// key "mistral/mistral-large-2512": input_cost_per_token 5e-07.
				{"mistral-large", "mistral", "eu", "input", 0.5},
				// key "amazon.nova-pro-v1:0": output_cost_per_token 3.2e-06.
				{"nova-pro", "aws-bedrock", "us-east-1", "output", 3.2},
			},
		},
		{
			file: "openrouter-models-api/openrouter_api_v1_models_2026-01-29.json", format: "openrouter", minimum: 15,
			want: []wantPrice{
				// id "anthropic/claude-sonnet-4.5": pricing.prompt "0.000003", input_cache_read "0.0000003".
				{"claude-sonnet-4.5", "anthropic", "global", "input", 3}, {"claude-sonnet-4.5", "anthropic", "global", "cache_read", 0.3},
				// id "openai/gpt-4.1-mini": pricing.completion "0.0000016".
				{"gpt-4.1-mini", "openai", "us", "output", 1.6},
			},
		},
		{
			file: "openrouter-models-api/openrouter_api_v1_models_data_array_2026-05-01.json", format: "openrouter", minimum: 15,
			want: []wantPrice{
				// id "google/gemini-2.5-pro": pricing.prompt "0.00000125".
				{"gemini-2.5-pro", "google-gemini", "global", "input", 1.25},
			},
		},
		{
			file: "portkey-models/pricing/anthropic.json", name: "anthropic.json", format: "portkey", minimum: 5,
			want: []wantPrice{
				// key "claude-sonnet-4-5-20250929": request_token 0.0003 cents = $3/M,
				// cache_read_input_token 3e-05 cents = $0.30/M.
				{"claude-sonnet-4.5", "anthropic", "global", "input", 3}, {"claude-sonnet-4.5", "anthropic", "global", "cache_read", 0.3},
			},
		},
		{
			file: "portkey-models/pricing/google.json", name: "google.json", format: "portkey", minimum: 3,
			want: []wantPrice{
				// key "gemini-2.5-pro-lte-128k": request_token 0.000125 cents = $1.25/M.
				{"gemini-2.5-pro", "google-gemini", "global", "input", 1.25},
			},
		},
		{
			file: "portkey-models/pricing/bedrock.json", name: "bedrock.json", format: "portkey", minimum: 5,
			want: []wantPrice{
				// key "anthropic.claude-sonnet-4-5-20250929-v1:0": response_token 0.0015 cents = $15/M.
				{"claude-sonnet-4.5", "aws-bedrock", "global", "output", 15},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f := openShared(t, tt.file)
			name := tt.name
			if name == "" {
				name = f.Name()
			}
			o, rep, err := Import(f, name)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s, %d entries, %d imported, %d merged, skipped: %s", tt.file, rep.Format, rep.Entries, rep.Imported, rep.Merged, strings.Join(rep.SortedReasons(), "; "))
			if rep.Format != tt.format || rep.Imported < tt.minimum || rep.Imported+rep.Merged+rep.SkippedTotal() != rep.Entries {
				t.Errorf("report %+v: want format %s and at least %d imported, every entry accounted for", rep, tt.format, tt.minimum)
			}
			cat := Default().WithOverlay(o)
			for _, w := range tt.want {
				w.check(t, cat)
			}
		})
	}
}

func TestImportSmallFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, format string
		imported     int
		skipped      string
		want         []wantPrice
	}{
		// gpt-4.1 input 2.2e-06 per token = $2.20/M (the catalog says $2.00).
		{"litellm-small.json", "litellm", 2, "regional variant", []wantPrice{
			{"gpt-4.1", "openai", "us", "input", 2.2},
			// cache_write not in the file for gpt-4.1: the catalog's (= input) scales with input.
			{"gpt-4.1", "openai", "us", "cache_write", 2.2},
			{"claude-sonnet-4.5", "anthropic", "global", "cache_write", 3.75},
		}},
		// openai/gpt-4.1-mini prompt "0.0000005" = $0.50/M.
		{"openrouter-small.json", "openrouter", 2, "no static price", []wantPrice{{"gpt-4.1-mini", "openai", "us", "input", 0.5}}},
		// claude-haiku-4-5 request_token 0.0001 cents = $1/M; response 0.0005 cents = $5/M.
		{"portkey/anthropic.json", "portkey", 2, "no catalog model", []wantPrice{{"claude-haiku-4.5", "anthropic", "global", "output", 5}}},
		// gemini-2.5-pro-lte-200k 0.000125 cents = $1.25/M.
		{"portkey/google.json", "portkey", 1, "", []wantPrice{{"gemini-2.5-pro", "google-gemini", "global", "input", 1.25}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			o, rep, err := Import(bytes.NewReader(data), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Format != tt.format || rep.Imported != tt.imported {
				t.Errorf("format %s, imported %d; want %s, %d", rep.Format, rep.Imported, tt.format, tt.imported)
			}
			if tt.skipped != "" && !strings.Contains(strings.Join(rep.SortedReasons(), ";"), tt.skipped) {
				t.Errorf("skip reasons %v lack %q", rep.SortedReasons(), tt.skipped)
			}
			cat := Default().WithOverlay(o)
			for _, w := range tt.want {
				w.check(t, cat)
			}
		})
	}
}

func TestImportLongContextTier(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "portkey", "google.json"))
	if err != nil {
		t.Fatal(err)
	}
	o, _, err := Import(bytes.NewReader(data), "google.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Default().WithOverlay(o).Price("gemini-2.5-pro", "google-gemini", "global")
	if err != nil {
		t.Fatal(err)
	}
	// gt-200k: request 0.00025 cents = $2.50/M for prompts above 200,000: 300,000 * 2.5.
	if got := p.Rates.Cost(Usage{Input: 300000}); !near(got, 0.75) {
		t.Errorf("long-context cost = %v, want 0.75", got)
	}
	if !strings.Contains(p.Source, "google.json") || p.Note != "imported" {
		t.Errorf("overlaid price provenance = %+v", p.Provenance)
	}
}

func TestImportRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, data, want string
		line                   int
	}{
		{"syntax error", "x.json", "{\n  \"gpt-4.1\": {\"litellm_provider\": \"openai\",\n  \"input_cost_per_token\": 2e-06,,\n}", "invalid character ','", 3},
		{"truncated", "x.json", "{\"gpt-4.1\": {\"litellm_provider\": \"openai\", \"input_cost_per_token\": 2e-06", "unexpected end", 1},
		{"negative price", "x.json", "{\"gpt-4.1\": {\"litellm_provider\": \"openai\",\n\"input_cost_per_token\": -2e-06, \"output_cost_per_token\": 8e-06}}", "negative price", 1},
		// $2 per token = $2,000,000 per million: a unit mistake.
		{"absurd price", "x.json", "{\"gpt-4.1\": {\"litellm_provider\": \"openai\", \"input_cost_per_token\": 2, \"output_cost_per_token\": 8e-06}}", "beyond any real model", 1},
		{"wrong shape", "x.json", "{\"gpt-4.1\": {\"litellm_provider\": \"openai\", \"input_cost_per_token\": \"cheap\"}}", "wrong shape", 1},
		{"openrouter bad number", "x.json", "{\"data\": [\n {\"id\": \"openai/gpt-4.1\", \"pricing\": {\"prompt\": \"two\", \"completion\": \"0.000008\"}}]}", "not a number", 2},
		{"portkey unknown provider", "groq.json", "{\"llama\": {\"pricing_config\": {\"pay_as_you_go\": {}}}}", "named after it", 0},
		{"unknown format", "x.json", "{\"hello\": \"world\"}", "not a LiteLLM, OpenRouter, Portkey, genai-prices or Helicone", 0},
		{"not json", "x.json", "model,price\ngpt-4.1,2\n", "invalid character", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, _, err := Import(strings.NewReader(tt.data), tt.file)
			var ie *ImportError
			if o != nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Import = %v, %v; want an *ImportError containing %q", o, err, tt.want)
			}
			if tt.line > 0 && ie.Line != tt.line {
				t.Errorf("error at line %d, want %d: %v", ie.Line, tt.line, err)
			}
		})
	}
}

func TestImportSizeLimit(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte(" "), MaxImportBytes+1)
	if _, _, err := Import(bytes.NewReader(big), "big.json"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
}

func TestOverlayLeavesCatalogAlone(t *testing.T) {
	t.Parallel()
	data, _ := os.ReadFile(filepath.Join("testdata", "litellm-small.json"))
	o, _, err := Import(bytes.NewReader(data), "litellm-small.json")
	if err != nil {
		t.Fatal(err)
	}
	_ = Default().WithOverlay(o)
	wantPrice{"gpt-4.1", "openai", "us", "input", 2}.check(t, Default())
}

func TestDiff(t *testing.T) {
	t.Parallel()
	data, _ := os.ReadFile(filepath.Join("testdata", "litellm-small.json"))
	o, _, err := Import(bytes.NewReader(data), "litellm-small.json")
	if err != nil {
		t.Fatal(err)
	}
	// Only gpt-4.1 input differs: 2.2 vs 2.0 is +10 %.
	diffs := Default().Diff(o, 0.05)
	if len(diffs) != 1 {
		t.Fatalf("diffs = %+v, want one", diffs)
	}
	d := diffs[0]
	if d.Model != "gpt-4.1" || d.Field != "input" || d.Catalog != 2 || !near(d.File, 2.2) || !near(d.Change, 0.1) || d.FileAsOf != "2026-07-24" || d.CatalogAsOf == "" {
		t.Errorf("diff = %+v", d)
	}
	if got := Default().Diff(o, 0.15); len(got) != 0 {
		t.Errorf("at 15 %% threshold: %+v, want none", got)
	}
}
