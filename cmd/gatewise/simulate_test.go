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
	"time"

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

// TestSimulateSeveralLogs replays a deployment's SpendLogs and ErrorLogs
// together (--logs twice): the run's log names both files, its 140
// requests are those ingest counts for the pair (TestIngestSeveralLogs),
// and standard error reports what combining them found, as ingest prints
// it.
func TestSimulateSeveralLogs(t *testing.T) {
	t.Parallel()
	_, paths := writeLogs(t, "spend.csv", spendLogsCSV(0, 0, 120), "errors.csv", errorLogsCSV())
	arch := filepath.Join("..", "..", "testdata", "examples", "single-provider.yaml")
	out := filepath.Join(t.TempDir(), "r.json")
	stdout, stderr, code := runCmd(t, "simulate", "-f", arch, "--logs", paths[0], "--logs", paths[1], "--trials", "20", "--json", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	report := strings.ReplaceAll(stderr, filepath.Dir(paths[0])+string(filepath.Separator), "")
	for _, want := range []string{"file 2: errors.csv: litellm-errorlogs (LiteLLM ErrorLogs export), csv\n",
		"  - errors.csv overlaps spend.csv for 1.9 hours (errors.csv has 20 requests in that time, spend.csv 115); their request ids differ, so they are different requests: both kept.\n",
		"2 files: 140 requests over 2h0m0s (litellm-spendlogs + litellm-errorlogs)\n"} {
		if !strings.Contains(report, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res simulator.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	l := res.Traffic.Log
	if l == nil || l.File != "spend.csv + errors.csv" || l.Format != "litellm-spendlogs + litellm-errorlogs" || l.RowsRead != 140 || l.RowsUsed != 140 || len(l.Files) != 2 {
		t.Fatalf("log %+v", l)
	}
	if f := l.Files[1]; f.File != "errors.csv" || f.Format != "litellm-errorlogs" || f.RowsRead != 20 || !f.Start.Equal(spendAt.Add(3*time.Minute)) {
		t.Errorf("second file %+v", f)
	}
	// 140 requests over the 2 hours the bins cover: 1,680 a day.
	if math.Abs(res.RequestsPerDay-1680) > 1e-9 {
		t.Errorf("requests a day %v, want 1680", res.RequestsPerDay)
	}

	// A bad file among them stops the run before it starts, naming it.
	_, stderr, code = runCmd(t, "simulate", "-f", arch, "--logs", paths[0], "--logs", paths[0], "--trials", "20")
	if code != 1 || !strings.Contains(stderr, paths[0]+" (file 2 of 2): it is given twice (the same bytes): a log counts once; no file was combined") || strings.Contains(stderr, "trials in") {
		t.Errorf("the same log twice: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "simulate", "-f", arch, "--logs", paths[0], "--logs", paths[1], "--format", "csv", "--format", "auto", "--format", "auto"); code != 2 || !strings.Contains(stderr, "--format is given 3 times for 2 files") {
		t.Errorf("three formats for two logs: exit %d\n%s", code, stderr)
	}
}
