package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatewise/internal/resultcsv"
	"gatewise/simulator"
)

// The web's result.csv is resultcsv.Write of the run's stored JSON result;
// simulate --csv writes the same bytes for the result it computed.
func TestSimulateCSVIsTheWebsCSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jsonPath, csvPath := filepath.Join(dir, "result.json"), filepath.Join(dir, "result.csv")
	stdout, stderr, code := runCmd(t, "simulate", "-f", filepath.Join("..", "..", "testdata", "examples", "single-provider.yaml"),
		"--trials", "30", "--json", jsonPath, "--csv", csvPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	got, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res simulator.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	var web bytes.Buffer
	if err := resultcsv.Write(&web, res); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, web.Bytes()) {
		t.Errorf("simulate --csv differs from the web's CSV of the same result:\n%s\nweb:\n%s", got, web.Bytes())
	}
	lines := strings.Split(strings.TrimRight(string(got), "\n"), "\n")
	// A header and 7 options × 2 scenarios.
	if len(lines) != 15 || !strings.HasPrefix(lines[0], "gateway,scenario,excluded,success_mean,") || !strings.HasPrefix(lines[1], "direct,baseline,,") {
		t.Errorf("%d lines, starting %q, %q", len(lines), lines[0], lines[1])
	}

	// --csv - writes the CSV alone to standard output.
	out, _, code := runCmd(t, "simulate", "-f", filepath.Join("..", "..", "testdata", "examples", "single-provider.yaml"), "--trials", "30", "--csv", "-")
	if code != 0 || out != string(got) {
		t.Errorf("--csv -: exit %d, output differs from the file:\n%s", code, out)
	}
	if _, stderr, code := runCmd(t, "simulate", "-f", "x.yaml", "--csv", "-", "--json", "-"); code != 2 || !strings.Contains(stderr, "both write to standard output") {
		t.Errorf("--csv - --json -: exit %d, %s", code, stderr)
	}
}

// sonnet5 is an architecture whose one route uses claude-sonnet-5, whose
// price genai-prices dates: $2/$10 until 2026-08-31, $3/$15 from 2026-09-01
// (prices/new_data/v2/data.json at 47df840, 2026-08-21).
const sonnet5 = `name: Sonnet 5 only
horizon_days: 30
providers:
  - id: anthropic
    regions: [global]
routes:
  - name: chat
    share: 1
    models: [claude-sonnet-5]
    input_tokens: 1000
    output_tokens: 200
    cached_input_share: 0.3
traffic:
  requests_per_day: 1000
  origin: {us: 1}
compliance: {soc2: false, hipaa: false, zero_data_retention: false, no_third_party_in_path: false}
priorities: {failover: 0.4, cost: 0.4, observability: 0.2}
team: {engineers: 2, ops_hourly_usd: 100}
observability_needs: []
gateways: [direct]
scenarios: [baseline]
simulation: {trials: 20, seed: 3}
`

func tokensUSD(t *testing.T, args ...string) (float64, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "r.json")
	stdout, stderr, code := runCmd(t, append(args, "--json", out)...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res simulator.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Results {
		if r.Gateway == "direct" && r.Scenario == "baseline" {
			return r.CostUSD.Tokens, stderr
		}
	}
	t.Fatal("no direct/baseline result")
	return 0, ""
}

func TestSimulatePriceDate(t *testing.T) {
	t.Parallel()
	arch := writeFile(t, "sonnet5.yaml", sonnet5)
	prices := filepath.Join("..", "..", "pricing", "testdata", "genai-prices-small.json")
	catalog, _ := tokensUSD(t, "simulate", "-f", arch)
	intro, stderr := tokensUSD(t, "simulate", "-f", arch, "--prices", prices, "--price-date", "2026-08-31")
	if !strings.Contains(stderr, "prices in force on 2026-08-31") {
		t.Errorf("stderr does not say the day:\n%s", stderr)
	}
	standard, _ := tokensUSD(t, "simulate", "-f", arch, "--prices", prices, "--price-date", "2026-09-01")
	// The catalog has Sonnet 5 at $2/$10 (2026-07-24); every price rises by
	// half on 2026-09-01 (input 2→3, output 10→15, cache read 0.2→0.3).
	if intro <= 0 || math.Abs(intro-catalog) > 1e-9*catalog || math.Abs(standard/intro-1.5) > 1e-9 {
		t.Errorf("tokens: catalog $%v, 2026-08-31 $%v, 2026-09-01 $%v (ratio %v, want 1.5)", catalog, intro, standard, standard/intro)
	}

	// A log from August 2026 prices at its first day's price.
	var log strings.Builder
	log.WriteString("timestamp,model,input_tokens,output_tokens\n")
	for i := range 200 {
		fmt.Fprintf(&log, "2026-08-20T%02d:%02d:00Z,claude-sonnet-5,1000,200\n", 8+i/60, i%60)
	}
	logPath := writeFile(t, "aug.csv", log.String())
	logArgs := []string{"simulate", "-f", arch, "--logs", logPath, "--format", "csv", "--map", "timestamp=timestamp,model=model,input_tokens=input_tokens,output_tokens=output_tokens", "--prices", prices}
	atLog, stderr := tokensUSD(t, append(logArgs, "--price-date", "log")...)
	if !strings.Contains(stderr, "prices in force on 2026-08-20, the log's first day") {
		t.Errorf("stderr:\n%s", stderr)
	}
	atToday, _ := tokensUSD(t, logArgs...)
	if math.Abs(atToday/atLog-1.5) > 1e-9 {
		t.Errorf("log priced at its day $%v, today $%v: ratio %v, want 1.5", atLog, atToday, atToday/atLog)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--price-date", "2026-09-01"}, "--price-date needs --prices FILE"},
		{[]string{"--prices", prices, "--price-date", "1 Sept"}, `--price-date: "1 Sept" is not YYYY-MM-DD, log or today`},
		{[]string{"--prices", prices, "--price-date", "log"}, "--price-date log needs a request log"},
	} {
		if _, stderr, code := runCmd(t, append([]string{"simulate", "-f", arch}, tt.args...)...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %s", tt.args, code, stderr)
		}
	}
}
