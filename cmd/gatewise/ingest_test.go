package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"gatewise/internal/logtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata from the commands as they are")

func runIngest(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := ingestCmd(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func sample(name string) string {
	return filepath.Join("..", "..", "simulator", "traffic", "testdata", name)
}

// sharedSample is the path of rel in ../shared/data, the third-party data
// kept beside the repository and never copied into it; the test is skipped
// when the file is not there.
func sharedSample(t *testing.T, rel string) string {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "data", rel)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs %s in ../shared/data (the shared data folder beside the repository): %v", rel, err)
	}
	return path
}

func TestIngestJSON(t *testing.T) {
	t.Parallel()
	// Flags after the file, as users type them.
	out, errOut, code := runIngest(t, sample("helicone.jsonl"), "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"format", "rows_read", "rows_used", "rows_skipped", "requests", "input_tokens",
		"cached_input_tokens", "output_tokens", "errors", "start", "end", "models"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	// Totals: see TestPresets in simulator/traffic (jq over the same file).
	if got["format"] != "helicone" || got["requests"] != 5.0 || got["input_tokens"] != 6500.0 || got["output_tokens"] != 420.0 {
		t.Errorf("summary %v", got)
	}
	errs := got["errors"].(map[string]any)
	if errs["rate_limit_429"] != 1.0 || errs["server_5xx"] != 1.0 || errs["timeout"] != 1.0 {
		t.Errorf("errors %v", errs)
	}
	models := got["models"].([]any)
	first := models[0].(map[string]any)
	if first["name"] != "gpt-4.1" || first["requests"] != 3.0 || first["known"] != true {
		t.Errorf("first model %v", first)
	}
}

func TestIngestText(t *testing.T) {
	t.Parallel()
	out, errOut, code := runIngest(t, "--map", "timestamp=When (ms):unix_ms,model=Engine,input_tokens=Prompt,output_tokens=Completion,latency=Took (s):s,status=HTTP",
		sample("mapped.csv"))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"csv (plain CSV read through a column mapping)", "rows: 4 read, 4 used, 0 skipped",
		"requests: 4  input tokens: 2710 (cached 0)  output tokens: 271", "rate_limit_429 1", "server_5xx 1",
		"unknown-model-x", "(not in the price catalog)", "latency: 4 requests"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestIngestRelativeClock(t *testing.T) {
	t.Parallel()
	out, _, code := runIngest(t, sample("burstgpt.csv"), "--format", "burstgpt", "--start", "2024-01-01")
	if code != 0 || !strings.Contains(out, "span: 2024-01-01T00:00:05Z to 2024-01-01T00:02:10Z") ||
		!strings.Contains(out, "clock: the clock counts from zero; read as seconds from Monday 2024-01-01 00:00 UTC; --start sets another start\n") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestIngestRelativeClockDefaultStart: BurstGPT's first 400 rows, whose
// clock counts seconds from zero, used to exit 1 asking for --start. They
// are read from Monday 2026-01-05, and the summary says so; its numbers are
// rounded to what they mean ("926.045016077170430435 requests a day" on the
// web before).
func TestIngestRelativeClockDefaultStart(t *testing.T) {
	t.Parallel()
	name := sharedSample(t, "burstgpt/BurstGPT_1_first400.csv")
	out, errOut, code := runIngest(t, name)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := name + `: burstgpt (BurstGPT trace), csv, 16.4 KiB
mapping: timestamp=Timestamp:offset_s,model=Model,input_tokens=Request tokens,output_tokens=Response tokens,route=Log Type
rows: 400 read, 400 used, 0 skipped
clock: the clock counts from zero; read as seconds from Monday 2026-01-05 00:00 UTC (gatewise's default start: the log does not say when it began); --start sets another start
span: 2026-01-05T00:00:05Z to 2026-01-05T10:21:14Z (10.4 hours), 926 requests a day
requests: 400  input tokens: 208189 (cached 0)  output tokens: 110612
errors: 17 (4.25%): other 17, rate_limit_429 0, server_5xx 0, timeout 0
models (2):
  ChatGPT                                  320  (not in the price catalog)
  GPT-4                                    80  (not in the price catalog)
warning: the log covers only 10.4 hours: runs repeat it to fill their horizon, so 926 requests a day assumes every hour of the day is like these; a log of at least a day includes the quiet and busy hours
note: 2 models are not in the price catalog (ChatGPT, GPT-4). Their 400 requests are still simulated and priced like any other: gatewise prices each request at the models of the route it is served on, and the log's model names only pick the route
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	jsonOut, _, code := runIngest(t, name, "--json")
	var got struct {
		Clock struct {
			Relative     bool   `json:"relative"`
			Unit         string `json:"unit"`
			Start        string `json:"start"`
			DefaultStart bool   `json:"default_start"`
			Text         string `json:"text"`
		} `json:"clock"`
	}
	if code != 0 || json.Unmarshal([]byte(jsonOut), &got) != nil || !got.Clock.Relative || got.Clock.Unit != "offset_s" ||
		got.Clock.Start != "2026-01-05T00:00:00Z" || !got.Clock.DefaultStart || !strings.HasPrefix(got.Clock.Text, "the clock counts from zero") {
		t.Errorf("exit %d, clock %+v", code, got.Clock)
	}
}

// TestIngestTinyLog: a one-row log is accepted, with its daily volume
// flagged as meaning little.
func TestIngestTinyLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "one.csv")
	if err := os.WriteFile(path, []byte("timestamp,model,input_tokens,cost\n2026-03-02T10:00:00Z,gpt-4.1,10,0.002\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := runIngest(t, path, "--format", "csv", "--map", "timestamp=timestamp,model=model,input_tokens=input_tokens,cost=cost")
	for _, want := range []string{"span: 2026-03-02T10:00:00Z to 2026-03-02T10:00:00Z (0 seconds), 1,440 requests a day\n",
		"cost reported: $0.0020 on 1 row (the log's own figure; simulations price requests from the catalog)\n",
		"warning: only 1 request: a count of n varies by about √n, so 1,440 requests a day is uncertain by about ±100 %; at least 100 requests (±10 %) make a daily volume worth trusting\n",
		"warning: the log covers only 1 minute:"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d; output lacks %q:\n%s", code, want, out)
		}
	}
}

// TestIngestOldTimestampHint: rows before 2000 get a hint in the command
// line's own syntax.
func TestIngestOldTimestampHint(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.csv")
	if err := os.WriteFile(path, []byte("ts,input_tokens\n5,1\n1735689600,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, _ := runIngest(t, path, "--format", "csv", "--map", "timestamp=ts:unix_s,input_tokens=input_tokens", "--max-bad", "1")
	for _, want := range []string{"line 2, column 1 (ts): timestamp before 2000: the timestamp's unit is probably wrong\n",
		"  hint: set the timestamp's unit with --map timestamp=COLUMN:unix_ms (epoch milliseconds), or :offset_s for a clock counting from zero\n",
		"clock: timestamps are epoch seconds\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestIngestFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "ingest needs one file"},
		{[]string{"a", "b"}, 1, "open a: no such file"},
		{[]string{"--nope", sample("helicone.jsonl")}, 2, "flag provided but not defined"},
		{[]string{sample("helicone.jsonl"), "--map", "stamp=x"}, 2, `unknown field "stamp"`},
		{[]string{sample("helicone.jsonl"), "--start", "yesterday"}, 2, "--start"},
		{[]string{"does-not-exist.csv"}, 1, "no such file"},
		{[]string{sample("bad.csv"), "--map", "timestamp=timestamp,input_tokens=input_tokens"}, 1, "8 of 10 rows are bad"},
		{[]string{"../../testdata/examples/multi-region.yaml"}, 1, "match no known format"},
		{[]string{sample("helicone.jsonl"), "--format", "splunk"}, 2, `unknown format "splunk"`},
		{[]string{sample("helicone.jsonl"), "--bin", "7s"}, 2, "bin width"},
	}
	for _, tc := range tests {
		_, errOut, code := runIngest(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestIngestJSONOnFailure(t *testing.T) {
	t.Parallel()
	out, _, code := runIngest(t, "--json", "--map", "timestamp=timestamp,input_tokens=input_tokens", sample("bad.csv"))
	var got struct {
		RowsRead    int64            `json:"rows_read"`
		RowsSkipped map[string]int64 `json:"rows_skipped"`
		Error       string           `json:"error"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &got) != nil || got.RowsRead != 10 || got.Error == "" || got.RowsSkipped["negative_value"] != 1 {
		t.Errorf("exit %d, %+v\n%s", code, got, out)
	}
}

// TestIngestUnclosedQuote: 1,000 good rows, a quote that never closes, then
// 3,000 good rows. ingest used to exit 0 with "1001 read, 1000 used, 1
// skipped", the 3,000 rows gone uncounted; it refuses the file, naming where
// the quote opens.
func TestIngestUnclosedQuote(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("TIMESTAMP,ContextTokens,GeneratedTokens\n")
	row := func(s int) {
		fmt.Fprintf(&b, "2023-11-16 10:%02d:%02d.6805900,%d,44\n", s/60%60, s%60, 300+s%40)
	}
	for s := range 1000 {
		row(s)
	}
	b.WriteString("2023-11-16 11:00:00.0000000,\"374,44\n")
	for s := range 3000 {
		row(s)
	}
	path := filepath.Join(t.TempDir(), "azure.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runIngest(t, path)
	want := "gatewise: " + path + ": line 1002, column 2 (ContextTokens): a quoted field opens here and never closes\n"
	if code != 1 || errOut != want {
		t.Errorf("exit %d, stderr %q\nwant 1, %q\nstdout:\n%s", code, errOut, want, out)
	}
}

// spendAt is when the test SpendLogs start.
var spendAt = logtest.SpendStart

// spendLogsCSV is a LiteLLM SpendLogs export: n requests, one a minute
// from spendAt plus offset minutes, with ids req-<i> counted from first
// and prompt tokens 100+i, as the web upload's tests read it.
func spendLogsCSV(offset, first, n int) string {
	return logtest.SpendLogsCSV(offset, first, n, "prompt")
}

// errorLogsCSV is the same deployment's LiteLLM ErrorLogs: 20 failed
// requests, 15 rate-limited (429) and 5 server errors (500), between the
// SpendLogs' requests, 10:03 to 11:57.
func errorLogsCSV() string { return logtest.ErrorLogsCSV("upstream") }

// writeLogs writes files into one folder and returns their paths.
func writeLogs(t *testing.T, files ...string) (dir string, paths []string) {
	t.Helper()
	dir = t.TempDir()
	for i := 0; i < len(files); i += 2 {
		p := filepath.Join(dir, files[i])
		if err := os.WriteFile(p, []byte(files[i+1]), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return dir, paths
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/gatewise -run %s -update to write it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (-update rewrites it):\n%s", path, got)
	}
}

// TestIngestSeveralLogs reads a LiteLLM deployment's SpendLogs and
// ErrorLogs as one log, as the upload test in server/upload_combine_test.go
// combines them on the web: 120 + 20 requests, 15 of them rate-limited
// and 5 server errors, the ErrorLogs inside the SpendLogs' hours with
// request ids of their own, so both are kept.
func TestIngestSeveralLogs(t *testing.T) {
	t.Parallel()
	dir, paths := writeLogs(t, "spend.csv", spendLogsCSV(0, 0, 120), "errors.csv", errorLogsCSV())
	out, errOut, code := runIngest(t, paths...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	out = strings.ReplaceAll(out, dir+string(filepath.Separator), "")
	for _, want := range []string{"requests: 140  input tokens: ", "errors: 20 (14.29%): other 0, rate_limit_429 15, server_5xx 5, timeout 0\n",
		"errors.csv overlaps spend.csv for 1.9 hours (errors.csv has 20 requests in that time, spend.csv 115); their request ids differ, so they are different requests: both kept."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	golden(t, "ingest_spend_errors.golden", out)

	// The JSON describes every file and what combining them found.
	jsonOut, _, code := runIngest(t, append(paths, "--json")...)
	var got struct {
		Requests int64            `json:"requests"`
		RowsRead int64            `json:"rows_read"`
		Errors   map[string]int64 `json:"errors"`
		Format   string           `json:"format"`
		Files    []struct {
			Name     string `json:"name"`
			Format   string `json:"format"`
			RowsRead int64  `json:"rows_read"`
			Requests int64  `json:"requests"`
			IDColumn string `json:"id_column"`
		} `json:"files"`
		Findings []struct {
			Kind          string  `json:"kind"`
			Hours         float64 `json:"hours"`
			Requests      int64   `json:"requests"`
			OtherRequests int64   `json:"other_requests"`
			Action        string  `json:"action"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(jsonOut), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, jsonOut)
	}
	if got.Requests != 140 || got.RowsRead != 140 || got.Errors["rate_limit_429"] != 15 || got.Errors["server_5xx"] != 5 || got.Format != "litellm-spendlogs + litellm-errorlogs" {
		t.Errorf("whole: %+v", got)
	}
	if len(got.Files) != 2 || got.Files[0].Name != paths[0] || got.Files[0].RowsRead != 120 || got.Files[0].IDColumn != "request_id" ||
		got.Files[1].Format != "litellm-errorlogs" || got.Files[1].Requests != 20 {
		t.Errorf("files: %+v", got.Files)
	}
	if len(got.Findings) != 1 || got.Findings[0].Kind != "overlap" || got.Findings[0].Hours != 1.9 || got.Findings[0].Requests != 20 ||
		got.Findings[0].OtherRequests != 115 || got.Findings[0].Action != "kept" {
		t.Errorf("findings: %+v", got.Findings)
	}
}

// TestIngestSeveralLogsDuplicatesAndOverlap adds to the SpendLogs a later
// export that repeats its last hour (60 ids skipped, as on the web) and a
// plain CSV without ids read through its own mapping, whose overlap with
// both is dropped: 120 + 60 + 30 requests.
func TestIngestSeveralLogsDuplicatesAndOverlap(t *testing.T) {
	t.Parallel()
	var plain strings.Builder
	plain.WriteString("when,engine,in,out\n")
	for i := range 120 { // 11:30 to 13:29
		fmt.Fprintf(&plain, "%s,gpt-4o,50,5\n", spendAt.Add(90*time.Minute+time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	later := spendLogsCSV(60, 60, 120) + "req-9999,acompletion,0.001,5,5,0,not a time,,gpt-4o,gpt-4o,x,success\n"
	dir, paths := writeLogs(t, "spend.csv", spendLogsCSV(0, 0, 120), "spend-later.csv", later, "plain.csv", plain.String())
	args := append(paths, "--map", "", "--map", "", "--map", "timestamp=when,model=engine,input_tokens=in,output_tokens=out",
		"--format", "auto", "--format", "auto", "--format", "csv", "--overlap", "drop")
	out, errOut, code := runIngest(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	out = strings.ReplaceAll(out, dir+string(filepath.Separator), "")
	for _, want := range []string{
		// 121 rows: 60 repeat spend.csv's ids, one has no time (its line
		// is the file's own, 122, though the repeats were left out).
		"  rows: 121 read, 60 used, 61 skipped (bad_timestamp 1, duplicate_request_id 60)\n    line 122, column 7 (startTime): ",
		"  duplicates: 60 rows repeat earlier files' request ids: skipped\n",
		"  requests: 120, 90 dropped where it overlaps earlier files\n",
		"  - spend-later.csv repeats 60 request ids of spend.csv (request_id): those rows were skipped, so each request counts once.\n",
		"  - plain.csv overlaps spend.csv for 29 minutes: its 30 requests in that time were dropped, as chosen; spend.csv's 30 stand for them.\n",
		"  - plain.csv overlaps spend-later.csv for 59 minutes: its 60 requests in that time were dropped, as chosen; spend-later.csv's 60 stand for them.\n",
		"rows: 361 read, 300 used, 61 skipped\n",
		// spend.csv's and spend-later.csv's 180 distinct requests, prompt
		// tokens 100+i for i in 0..179, and plain.csv's 30 kept of 50.
		fmt.Sprintf("requests: 210  input tokens: %d (cached 0)  output tokens: %d\n", 180*100+179*180/2+30*50, 180*10+30*5),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Kept (the default), plain.csv's 120 requests all count.
	out, _, _ = runIngest(t, append(args[:len(args)-2], "--overlap", "keep")...)
	if !strings.Contains(out, "requests: 300  input tokens") || !strings.Contains(out, "  overlap: kept where it overlaps earlier files (--overlap drop leaves its requests there out)\n") {
		t.Errorf("kept:\n%s", out)
	}
}

// TestIngestSeveralLogsRefused: a missing, repeated, all-duplicate or bad
// file is named, with its line and column where it has one, and nothing is
// combined; bad usage of the per-file options exits 2 before any file is
// read.
func TestIngestSeveralLogsRefused(t *testing.T) {
	t.Parallel()
	var broken strings.Builder
	broken.WriteString(spendLogsCSV(200, 200, 3))
	broken.WriteString("req-0300,acompletion,0.001,5,5,0,\"2026-03-02 14:00:00+00,x\n")
	_, paths := writeLogs(t, "spend.csv", spendLogsCSV(0, 0, 120), "copy.csv", spendLogsCSV(0, 0, 120),
		"again.csv", spendLogsCSV(0, 0, 120)+"\n", "broken.csv", broken.String())
	spend, copyOf, again, bad := paths[0], paths[1], paths[2], paths[3]
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{spend, filepath.Join(filepath.Dir(spend), "none.csv")}, 1, "open " + filepath.Join(filepath.Dir(spend), "none.csv") + ": no such file or directory"},
		{[]string{spend, spend}, 1, spend + " (file 2 of 2): it is given twice (the same bytes): a log counts once; no file was combined"},
		{[]string{spend, copyOf}, 1, copyOf + " (file 2 of 2): it has the same bytes as " + spend + ": the same file counts once; no file was combined"},
		{[]string{spend, again}, 1, again + " (file 2 of 2): every row repeats a request id of " + spend + ": it adds nothing; no file was combined"},
		{[]string{spend, bad}, 1, bad + " (file 2 of 2): line 5, column 7 (startTime): a quoted field opens here and never closes; no file was combined"},
		{[]string{spend, bad, "--map", "a=b", "--map", "", "--map", ""}, 2, "--map is given 3 times for 2 files"},
		{[]string{spend, bad, "--overlap", "merge"}, 2, `--overlap "merge": want keep or drop`},
		{[]string{"-", "-"}, 2, "- (standard input) is given twice"},
	} {
		out, errOut, code := runIngest(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
		if strings.Contains(out, " + ") {
			t.Errorf("%v: a combination was printed:\n%s", tc.args, out)
		}
	}
}
