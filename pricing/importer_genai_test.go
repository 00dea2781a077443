package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// testdata/genai-prices-small.json is a subset of genai-prices' live data
// file, prices/new_data/v2/data.json of github.com/pydantic/genai-prices at
// commit 47df840a5ab10bbcffb8e5ac01b9899032245d1b (2026-08-21): eight of its
// providers with some of their models as they stand there (descriptions,
// price comments and usage extractors left out, all optional in its schema,
// prices/new_data/v2/data.schema.json), pretty-printed (the original is one
// line).

func importTestFile(t *testing.T, path string) (*Overlay, ImportReport) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o, rep, err := Import(bytes.NewReader(data), path)
	if err != nil {
		t.Fatal(err)
	}
	return o, rep
}

// pinToday fixes the day "today" means for the test.
func pinToday(t *testing.T, day string) {
	old := today
	today = func() string { return day }
	t.Cleanup(func() { today = old })
}

func TestImportGenAIPrices(t *testing.T) {
	pinToday(t, "2026-12-01")
	o, rep := importTestFile(t, "testdata/genai-prices-small.json")
	if rep.Format != "genai-prices" || o.Format != "genai-prices" {
		t.Fatalf("format %q", rep.Format)
	}
	// 20 models in the sample; deepseek-chat and groq's model belong to
	// providers the catalog lacks; aws's regional.* Sonnet 5 is the +10 %
	// in-region price the catalog derives with its own uplift.
	if rep.Entries != 20 || rep.Skipped["provider not in the catalog"] != 2 || rep.Skipped["regional variant (the catalog applies its own uplift)"] != 1 {
		t.Errorf("entries %d, skipped %v", rep.Entries, rep.Skipped)
	}
	if rep.Imported != 25 || o.Len() != 25 {
		t.Errorf("imported %d hosts (overlay %d), want 25", rep.Imported, o.Len())
	}
	cat := Default().WithOverlay(o)
	for _, w := range []wantPrice{
		// anthropic/claude-sonnet-5: $2/$10 until 2026-08-31, $3/$15 from
		// 2026-09-01 (constraint start_date); today is after.
		{"claude-sonnet-5", "anthropic", "global", "input", 3}, {"claude-sonnet-5", "anthropic", "global", "output", 15},
		{"claude-sonnet-5", "anthropic", "global", "cache_write", 3.75},
		// aws/global.anthropic.claude-sonnet-5-v1:0, the same history.
		{"claude-sonnet-5", "aws-bedrock", "global", "input", 3},
		// google has no Sonnet 5 and falls back to anthropic.
		{"claude-sonnet-5", "google-vertex", "us-east5", "output", 15},
		// openai/o3: $10/$40 at launch, $2/$8 from 2025-06-10.
		{"o3", "openai", "us", "input", 2}, {"o3", "openai", "us", "output", 8},
		// azure has no gpt-4.1 and falls back to openai's: input_mtok 2.
		{"gpt-4.1", "azure-openai", "global", "input", 2},
		// mistral/mistral-small-latest: input_mtok 0.1, output_mtok 0.3.
		{"mistral-small", "mistral", "eu", "input", 0.1}, {"mistral-small", "mistral", "eu", "output", 0.3},
		// google/gemini-2.5-flash: cache_read_mtok 0.03 (Gemini API and Vertex).
		{"gemini-2.5-flash", "google-gemini", "global", "cache_read", 0.03},
		{"gemini-2.5-flash", "google-vertex", "us-central1", "cache_read", 0.03},
	} {
		w.check(t, cat)
	}
	// openai/gpt-5.4: input_mtok {base 2.5, tiers [{start 272000, price 5}]},
	// output {15, 22.5}: the tier is the catalog's long-context price.
	m, _ := cat.Model("gpt-5.4")
	for _, off := range m.Offers {
		if off.Provider == "openai" && (off.LongContextAbove != 272000 || off.Long.Input != 5 || off.Long.Output != 22.5 || off.Prices.Input != 2.5) {
			t.Errorf("gpt-5.4 on openai: %+v above %d, long %+v", off.Prices, off.LongContextAbove, off.Long)
		}
	}
	// The overlaid offer is dated by when its price took effect.
	m, _ = cat.Model("claude-sonnet-5")
	if got := m.Offers[0].AsOf; got != "2026-09-01" {
		t.Errorf("claude-sonnet-5 dated %q, want 2026-09-01", got)
	}
	if !o.HasHistory() {
		t.Error("no history")
	}
}

func TestGenAIPricesAsOf(t *testing.T) {
	pinToday(t, "2026-12-01")
	o, _ := importTestFile(t, "testdata/genai-prices-small.json")
	tests := []struct {
		day  string
		want []wantPrice
	}{
		// The last day of Sonnet 5's introductory price, and o3 long after
		// its cut.
		{"2026-08-31", []wantPrice{{"claude-sonnet-5", "anthropic", "global", "input", 2}, {"claude-sonnet-5", "aws-bedrock", "global", "output", 10}, {"o3", "openai", "us", "input", 2}}},
		{"2026-09-01", []wantPrice{{"claude-sonnet-5", "anthropic", "global", "input", 3}}},
		// o3 before 2025-06-10: the first (launch) price.
		{"2025-05-01", []wantPrice{{"o3", "openai", "us", "input", 10}, {"o3", "openai", "us", "output", 40}}},
		// A day before every start date takes the first price, as
		// genai-prices does.
		{"2020-01-01", []wantPrice{{"claude-sonnet-5", "anthropic", "global", "input", 2}}},
	}
	for _, tt := range tests {
		at, err := o.At(tt.day)
		if err != nil {
			t.Fatal(err)
		}
		cat := Default().WithOverlay(at)
		for _, w := range tt.want {
			w.check(t, cat)
		}
	}
	// Sonnet 5's introductory price has no start date in the file; on
	// 2026-08-31 it is dated by that day, the standard one by its start.
	for day, want := range map[string]string{"2026-08-31": "2026-08-31", "2026-10-01": "2026-09-01"} {
		at, _ := o.At(day)
		if m, _ := Default().WithOverlay(at).Model("claude-sonnet-5"); m.Offers[0].AsOf != want {
			t.Errorf("claude-sonnet-5 on %s dated %q, want %s", day, m.Offers[0].AsOf, want)
		}
	}
	// claude-opus-4-6 dropped its 200k tier on 2026-03-13.
	before, _ := o.At("2026-03-12")
	m, _ := Default().WithOverlay(before).Model("claude-opus-4.6")
	if m.Offers[0].LongContextAbove != 200000 || m.Offers[0].Long.Input != 10 {
		t.Errorf("claude-opus-4.6 on 2026-03-12: above %d, long %+v", m.Offers[0].LongContextAbove, m.Offers[0].Long)
	}
	if _, err := o.At("2026-13-01"); err == nil {
		t.Error("a month 13 was taken as a day")
	}
	// At leaves o alone.
	w := wantPrice{"claude-sonnet-5", "anthropic", "global", "input", 3}
	w.check(t, Default().WithOverlay(o))

	var sonnet *HostHistory
	hist := o.History()
	for i := range hist {
		if hist[i].Model == "claude-sonnet-5" && hist[i].Provider == "anthropic" {
			sonnet = &hist[i]
		}
	}
	if sonnet == nil || len(sonnet.Periods) != 2 || sonnet.Periods[1].From != "2026-09-01" || !sonnet.Periods[1].InForce || sonnet.Periods[0].InForce || sonnet.Periods[0].Input != 2 {
		t.Errorf("claude-sonnet-5 history %+v", sonnet)
	}
}

// The real file is written on one line: errors still say where, by column.
func TestGenAIPricesOneLine(t *testing.T) {
	data, err := os.ReadFile("testdata/genai-prices-small.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		t.Fatal(err)
	}
	one := buf.String()
	if _, rep, err := Import(strings.NewReader(one), "data.json"); err != nil || rep.Imported != 25 {
		t.Fatalf("one-line file: %v, %d imported", err, rep.Imported)
	}
	bad := strings.Replace(one, `"start_date":"2026-09-01"`, `"start_date":"2026-09-31"`, 1)
	_, _, err = Import(strings.NewReader(bad), "data.json")
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Line != 1 || ie.Column != strings.Index(bad, `"2026-09-31"`)+1 || !strings.Contains(err.Error(), "prices[1].constraint.start_date") || !strings.Contains(err.Error(), "anthropic/claude-sonnet-5") {
		t.Errorf("bad date: %v (%+v)", err, ie)
	}
}

func TestGenAIPricesRejects(t *testing.T) {
	provider := func(models string) string {
		return `[{"id": "anthropic", "name": "Anthropic", "api_pattern": "x", "models": [` + models + `]}]`
	}
	model := func(match, prices string) string {
		return `{"id": "claude-sonnet-5", "match": ` + match + `, "prices": ` + prices + `}`
	}
	ok := `{"starts_with": "claude-sonnet-5"}`
	tests := []struct {
		name, data, want string
		line, col        int
	}{
		{"negative", provider(model(ok, `{"input_mtok": -3, "output_mtok": 15}`)), `prices.input_mtok: price -3 is negative`, 1, 0},
		{"string price", provider(model(ok, `{"input_mtok": "3", "output_mtok": 15}`)), `prices.input_mtok must be a number or a tiered price {base, tiers}, not a string`, 1, 0},
		{"unknown clause", provider(model(`{"like": "claude"}`, `{"input_mtok": 3}`)), `match: unknown clause "like"`, 1, 0},
		{"two clauses", provider(model(`{"equals": "a", "contains": "b"}`, `{"input_mtok": 3}`)), `match must hold exactly one of`, 1, 0},
		{"no match", provider(`{"id": "claude-sonnet-5", "prices": {"input_mtok": 3}}`), `match is missing`, 1, 0},
		{"no prices", provider(`{"id": "claude-sonnet-5", "match": {"equals": "x"}}`), `prices is missing`, 1, 0},
		{"tier order", provider(model(ok, `{"input_mtok": {"base": 3, "tiers": [{"start": 200000, "price": 6}, {"start": 100000, "price": 9}]}}`)), `tiers[1].start 100000`, 1, 0},
		{"bad date", provider(model(ok, `[{"prices": {"input_mtok": 2}}, {"constraint": {"start_date": "1 Sept"}, "prices": {"input_mtok": 3}}]`)), `"1 Sept" is not a date`, 1, 0},
		{"unknown constraint", provider(model(ok, `[{"prices": {"input_mtok": 2}, "constraint": {"from": "2026-01-01"}}]`)), `unknown key "from"`, 1, 0},
		{"models not a list", `[{"id": "openai", "models": {"a": 1}}]`, `models must be a JSON array, not an object`, 1, 0},
		{"provider twice", `[{"id": "openai", "models": []}, {"id": "openai", "models": []}]`, `provider id "openai" is listed twice`, 1, 0},
		{"absurd", provider(model(ok, `{"input_mtok": 30000, "output_mtok": 15}`)), `beyond any real model's price`, 1, 0},
		{"multi-line position", "[\n {\"id\": \"openai\",\n  \"models\": [\n   {\"id\": \"o3\", \"match\": {\"equals\": \"o3\"},\n    \"prices\": {\"input_mtok\": true}}]}]", `not a boolean`, 5, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, err := Import(strings.NewReader(tt.data), "data.json")
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

// An OpenRouter file that is a bare array is still OpenRouter's.
func TestGenAIPricesDetection(t *testing.T) {
	_, rep, err := Import(strings.NewReader(`[{"id": "openai/gpt-4.1", "pricing": {"prompt": "0.000002", "completion": "0.000008"}}]`), "models.json")
	if err != nil || rep.Format != "openrouter" {
		t.Fatalf("%v, %q", err, rep.Format)
	}
}
