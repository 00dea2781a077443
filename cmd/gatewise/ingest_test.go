package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

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
	if code != 0 || !strings.Contains(out, "span: 2024-01-01T00:00:05Z to 2024-01-01T00:02:10Z") {
		t.Errorf("exit %d\n%s", code, out)
	}
	_, errOut, code := runIngest(t, sample("burstgpt.csv"))
	if code != 1 || !strings.Contains(errOut, "--start") {
		t.Errorf("without --start: exit %d, %s", code, errOut)
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
		{[]string{"a", "b"}, 2, "ingest needs one file"},
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
