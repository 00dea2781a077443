package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatewise/pricing"
)

func pricesRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := pricesCmd(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestPricesCost(t *testing.T) {
	t.Parallel()
	p, err := pricing.Default().Price("gpt-4.1", "openai", "")
	if err != nil {
		t.Fatal(err)
	}
	// 1,000,000 input tokens cost exactly the catalog's input price per million.
	out, errOut, code := pricesRun(t, "cost", "--model", "gpt-4.1", "--input", "1000000", "--output", "0", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		USD      float64 `json:"usd"`
		Provider string  `json:"provider"`
		Model    string  `json:"model"`
		AsOf     string  `json:"as_of"`
		Source   string  `json:"source"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if math.Abs(got.USD-p.Rates.PerMillion().Input) > 1e-9 || got.Provider != "openai" || got.Model != "gpt-4.1" || got.AsOf == "" || got.Source == "" {
		t.Errorf("cost = %+v, want usd %v on openai with provenance", got, p.Rates.PerMillion().Input)
	}

	// Anthropic-style usage: 1,000*3 + 5,000*0.3 + 2,000*3.75 + 300*15 = 16,500 micro-dollars.
	out, _, code = pricesRun(t, "cost", "--model", "claude-sonnet-4.5", "--provider", "anthropic", "--input", "1000",
		"--cached-input", "5000", "--cache-write", "2000", "--output", "300", "--usage-style", "anthropic")
	if code != 0 || !strings.HasPrefix(out, "$0.016500 for claude-sonnet-4.5 on anthropic (global)") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestPricesCostUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"cost", "--model", "gpt-4.2", "--input", "10"}, 1, "gpt-4.1"},
		{[]string{"cost", "--model", "gpt-4.1", "--provider", "azure-opneai", "--input", "10"}, 1, "azure-openai"},
		{[]string{"list", "--provider", "antropic"}, 1, "anthropic"},
		{[]string{"cost", "--input", "10"}, 2, "needs --model"},
		{[]string{"cost", "--model", "gpt-4.1", "--input", "-5"}, 2, "non-negative"},
		{[]string{"cost", "--model", "gpt-4.1", "--bogus"}, 2, "bogus"},
		{[]string{"frobnicate"}, 2, "unknown prices subcommand"},
	}
	for _, tt := range tests {
		_, errOut, code := pricesRun(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

func TestPricesCostWithImportedFile(t *testing.T) {
	t.Parallel()
	// testdata/litellm-small.json prices gpt-4.1 input at 2.2e-06 per token.
	file := filepath.Join("..", "..", "pricing", "testdata", "litellm-small.json")
	out, errOut, code := pricesRun(t, "cost", "--model", "gpt-4.1", "--input", "1000000", "--prices", file, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		USD    float64 `json:"usd"`
		Source string  `json:"source"`
		AsOf   string  `json:"as_of"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.USD-2.2) > 1e-9 || !strings.Contains(got.Source, "litellm-small.json") || got.AsOf != "2026-07-24" {
		t.Errorf("cost with file = %+v", got)
	}
	if !strings.Contains(errOut, "litellm file") {
		t.Errorf("no import summary on stderr: %q", errOut)
	}

	bad := writeFile(t, "bad.json", "{\"gpt-4.1\": {\"litellm_provider\": \"openai\",\n\"input_cost_per_token\": -1, \"output_cost_per_token\": 1e-06}}")
	_, errOut, code = pricesRun(t, "cost", "--model", "gpt-4.1", "--input", "1", "--prices", bad)
	if code != 1 || !strings.Contains(errOut, "negative price") || !strings.Contains(errOut, "bad.json:1") {
		t.Errorf("bad file: exit %d, %q", code, errOut)
	}
}

func TestPricesList(t *testing.T) {
	t.Parallel()
	out, _, code := pricesRun(t, "list", "--provider", "mistral", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rows []struct {
		Model    string `json:"model"`
		Provider string `json:"provider"`
		AsOf     string `json:"as_of"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 5 {
		t.Errorf("%d mistral rows", len(rows))
	}
	for _, r := range rows {
		if r.Provider != "mistral" || r.AsOf == "" {
			t.Errorf("row %+v", r)
		}
	}
	out, _, _ = pricesRun(t, "list")
	if !strings.Contains(out, "claude-sonnet-4.5") || !strings.Contains(out, "AS OF") {
		t.Errorf("text list lacks models or header:\n%.500s", out)
	}
}

func TestPricesDiffRealLiteLLM(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "..", "shared", "data", "litellm-prices", "model_prices_and_context_window.json")
	if _, err := os.Stat(file); err != nil {
		t.Skipf("shared LiteLLM price file not available (%v); it lives in ../shared/data beside the repository", err)
	}
	out, errOut, code := pricesRun(t, "diff", file, "--threshold", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Whatever differs, each line names model, provider, price, both values with
	// both dates and the change; the summary line closes the table, and the
	// entries left out follow it (a LiteLLM file dates no price: no history).
	row := regexp.MustCompile(`^\S+\s+\S+\s+\S+\s+\$[\d.]+ \(\d{4}-\d\d-\d\d\)\s+\$[\d.]+ \(\d{4}-\d\d-\d\d\)\s+[+-][\d.]+%\s+\S+:\d+ \S+$`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	summary := regexp.MustCompile(`^(\d+) prices differ by more than 5% across \d+ catalog hosts found in .* \(litellm, as of 2026-07-24\)\.$`)
	if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-1], "Of its 2985 entries, left out: ") || !strings.Contains(lines[len(lines)-1], " provider not in the catalog") {
		t.Fatalf("last line %q", lines[len(lines)-1])
	}
	lines = lines[:len(lines)-1]
	m := summary.FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("summary line %q", lines[len(lines)-1])
	}
	if m[1] != "0" {
		for _, l := range lines[1 : len(lines)-1] {
			if !row.MatchString(l) {
				t.Errorf("diff row %q", l)
			}
		}
	}

	out, _, code = pricesRun(t, "diff", "--json", "--threshold", "0", file)
	var res struct {
		Format   string              `json:"format"`
		Imported int                 `json:"imported"`
		Diffs    []pricing.PriceDiff `json:"diffs"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Format != "litellm" || res.Imported < 80 || res.Diffs == nil {
		t.Errorf("diff --json: exit %d, %+v", code, res)
	}
}

func TestPricesDiffSmallFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "pricing", "testdata", "litellm-small.json")
	out, _, code := pricesRun(t, "diff", file)
	// gpt-4.1 input: catalog $2, file $2.20 → +10 %.
	if code != 0 || !strings.Contains(out, "gpt-4.1") || !strings.Contains(out, "+10.0%") || !strings.Contains(out, "1 prices differ") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	_, errOut, code := pricesRun(t, "diff")
	if code != 2 || !strings.Contains(errOut, "needs one file") {
		t.Errorf("diff without file: exit %d %q", code, errOut)
	}
}

func TestPricesGateways(t *testing.T) {
	t.Parallel()
	out, errOut, code := pricesRun(t, "gateways", "--requests-per-month", "2000000", "--spend-usd", "10000", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []struct {
		Gateway string
		Plan    string
		Total   float64
		Error   string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.Gateway)
	}
	if strings.Join(ids, ",") != strings.Join(pricing.GatewayIDs(), ",") {
		t.Errorf("gateways %v, want all seven", ids)
	}
	// OpenRouter pay-as-you-go: 5.5 % of $10,000.
	if rows[1].Plan != "pay-as-you-go" || math.Abs(rows[1].Total-550) > 1e-9 {
		t.Errorf("openrouter row %+v", rows[1])
	}
	out, _, code = pricesRun(t, "gateways", "--residency", "eu", "--hipaa")
	for _, id := range pricing.GatewayIDs() {
		if !strings.Contains(out, id) {
			t.Errorf("text output lacks %s:\n%s", id, out)
		}
	}
	if code != 0 || !strings.Contains(out, "no openrouter plan meets the need") {
		t.Errorf("exit %d; want openrouter's misfit explained:\n%s", code, out)
	}
	_, errOut, code = pricesRun(t, "gateways", "--residency", "mars")
	if code != 2 || !strings.Contains(errOut, "unknown jurisdiction") {
		t.Errorf("bad residency: exit %d %q", code, errOut)
	}
}

func TestPricesHelp(t *testing.T) {
	t.Parallel()
	_, _, code := pricesRun(t, "cost", "-h")
	if code != 0 {
		t.Errorf("-h exit %d", code)
	}
	var ee *exitError
	if err := pricesCmd(context.Background(), nil, new(bytes.Buffer), new(bytes.Buffer)); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("no subcommand: %v", err)
	}
}

// genai-prices' data file (a subset of prices/new_data/v2/data.json of
// pydantic/genai-prices at 47df840, 2026-08-21) and Helicone's llm-costs
// JSON (see pricing/importer_helicone_test.go for its sources).
var (
	genaiSample    = filepath.Join("..", "..", "pricing", "testdata", "genai-prices-small.json")
	heliconeSample = filepath.Join("..", "..", "pricing", "testdata", "helicone-llm-costs-small.json")
)

func TestPricesDiffGenAIPrices(t *testing.T) {
	t.Parallel()
	out, errOut, code := pricesRun(t, "diff", genaiSample, "--price-date", "2026-08-31", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got diffResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Format != "genai-prices" || got.PriceDate != "2026-08-31" || got.Entries != 20 || got.Imported != 25 || got.Skipped["provider not in the catalog"] != 2 {
		t.Errorf("%+v", got)
	}
	// On 2026-08-31 Sonnet 5 is at its introductory $2/$10, the catalog's
	// price: no difference; o3's cut of 2025-06-10 is in force.
	for _, d := range got.Diffs {
		if d.Model == "claude-sonnet-5" || d.Model == "o3" {
			t.Errorf("unexpected difference %+v", d)
		}
	}
	inForce := map[string]float64{}
	for _, h := range got.History {
		if h.InForce {
			inForce[h.Model+"/"+h.Provider] = h.Input
		}
	}
	if inForce["claude-sonnet-5/anthropic"] != 2 || inForce["o3/openai"] != 2 {
		t.Errorf("in force on 2026-08-31: %v", inForce)
	}

	text, _, code := pricesRun(t, "diff", genaiSample, "--price-date", "2026-09-01")
	for _, want := range []string{
		"claude-sonnet-5  anthropic",
		"Of its 20 entries, left out: 2 provider not in the catalog, 1 regional variant (the catalog applies its own uplift).",
		"  claude-sonnet-5 on anthropic, until 2026-08-31: $2 / $10",
		"* claude-sonnet-5 on anthropic, from 2026-09-01: $3 / $15",
	} {
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("diff output lacks %q:\n%s", want, text)
		}
	}
	if _, errOut, code := pricesRun(t, "diff", genaiSample, "--price-date", "31/08/2026"); code != 2 || !strings.Contains(errOut, `"31/08/2026" is not a date`) {
		t.Errorf("bad --price-date: exit %d, %s", code, errOut)
	}
}

func TestPricesCostOnADay(t *testing.T) {
	t.Parallel()
	// 1M input tokens of claude-sonnet-5 at genai-prices' price of the day.
	for day, want := range map[string]float64{"2026-08-31": 2, "2026-09-01": 3} {
		out, errOut, code := pricesRun(t, "cost", "--model", "claude-sonnet-5", "--provider", "anthropic", "--input", "1000000", "--output", "0",
			"--prices", genaiSample, "--price-date", day, "--json")
		var got struct {
			USD  float64 `json:"usd"`
			AsOf string  `json:"as_of"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || math.Abs(got.USD-want) > 1e-12 {
			t.Errorf("%s: exit %d, %s %s, want $%v", day, code, out, errOut, want)
		}
	}
	if _, errOut, code := pricesRun(t, "cost", "--model", "o3", "--input", "1", "--output", "1", "--price-date", "2026-01-01"); code != 2 || !strings.Contains(errOut, "--price-date needs --prices") {
		t.Errorf("exit %d, %s", code, errOut)
	}
}

func TestPricesDiffHelicone(t *testing.T) {
	t.Parallel()
	out, errOut, code := pricesRun(t, "diff", heliconeSample)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		// Helicone's equals "gpt-4o" row says $5/$15; the catalog $2.50/$10.
		"gpt-4o", "OPENAI gpt-4o (equals)",
		"helicone, as of",
		"1 price beyond any real model's (over $5000 per million tokens)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
}
