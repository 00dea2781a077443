package traffic

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInspectCSV(t *testing.T) {
	in := "\xef\xbb\xbfwhen,engine, tokens in ,text\n1718000000123,gpt-4o,812,\"" + strings.Repeat("long prompt ", 20) + "\"\n"
	sh, err := Inspect(strings.NewReader(in), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Column{{"when", "1718000000123"}, {"engine", "gpt-4o"}, {"tokens in", "812"}, {"text", strings.Repeat("long prompt ", 4)[:40] + "…"}}
	if sh.Container != "csv" || sh.Format != "" || len(sh.Columns) != len(want) {
		t.Fatalf("shape = %+v", sh)
	}
	for i, c := range want {
		if sh.Columns[i] != c {
			t.Errorf("column %d = %+v, want %+v", i, sh.Columns[i], c)
		}
	}
}

func TestInspectJSONLGzipAndPreset(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"created_at":"2026-01-02T03:04:05Z","model":"gpt-4.1","usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":2}},"tags":["a","b"]}` + "\n"))
	zw.Close()
	sh, err := Inspect(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range sh.Columns {
		got[c.Name] = c.Sample
	}
	if !sh.Gzip || sh.Container != "jsonl" || got["usage.prompt_tokens_details.cached_tokens"] != "2" || got["model"] != "gpt-4.1" || got["tags"] != `["a","b"]` {
		t.Errorf("shape = %+v", sh)
	}
	if _, ok := got["usage"]; ok {
		t.Error("an object is listed as a column; only its values are")
	}
}

func TestInspectRefusesNonLogs(t *testing.T) {
	for name, in := range map[string]string{"empty": "  \n", "binary": "a,b\n\x00\x01", "zip": "PK\x03\x04rest"} {
		if _, err := Inspect(strings.NewReader(in), 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSuggest(t *testing.T) {
	cols := []string{"id", "sent_at", "finished_at", "llm", "prompt_tokens_used", "cached_prompt_tokens", "completion_tokens", "http_status", "latency_ms", "cost_usd", "a,b"}
	got := Suggest(cols).String()
	want := "timestamp=sent_at,end_time=finished_at,model=llm,input_tokens=prompt_tokens_used,cached_input_tokens=cached_prompt_tokens,output_tokens=completion_tokens,status=http_status,latency=latency_ms,cost=cost_usd"
	if got != want {
		t.Errorf("Suggest =\n%s\nwant\n%s", got, want)
	}
	if _, err := ParseMapping(got); err != nil {
		t.Errorf("a suggestion does not parse: %v", err)
	}
	if m := Suggest([]string{"a", "b"}); len(m) != 0 {
		t.Errorf("Suggest of meaningless names = %v", m)
	}
}

// TestSuggestRealHeaders guesses the mapping of real exports' first rows
// (the samples in testdata, and the BurstGPT samples in ../shared/data) and
// of common hand-made headers; it used to fill little beyond the model.
func TestSuggestRealHeaders(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"azure_trace.csv":         "timestamp=TIMESTAMP,input_tokens=ContextTokens,output_tokens=GeneratedTokens",
		"bad.csv":                 "timestamp=timestamp,model=model,input_tokens=input_tokens,output_tokens=output_tokens",
		"helicone.csv":            "timestamp=request_created_at,model=model,input_tokens=prompt_tokens,cached_input_tokens=prompt_cache_read_tokens,output_tokens=completion_tokens,status=response_status,latency=delay_ms,cost=cost,origin=country_code",
		"litellm_spendlogs.csv":   "timestamp=startTime,end_time=endTime,model=model,input_tokens=prompt_tokens,output_tokens=completion_tokens,success=status,cost=spend,route=request_tags,user=user",
		"mapped.csv":              "timestamp=When (ms),model=Engine,input_tokens=Prompt,output_tokens=Completion,status=HTTP,latency=Took (s):s,route=Feature",
		"openrouter_activity.csv": "timestamp=date,model=model,input_tokens=prompt_tokens,output_tokens=completion_tokens,requests=requests",
		"helicone.jsonl":          "timestamp=request_created_at,model=model,input_tokens=prompt_tokens,cached_input_tokens=prompt_cache_read_tokens,cache_write_tokens=prompt_cache_write_tokens,output_tokens=completion_tokens,status=response_status,latency=delay_ms,cost=cost,route=request_properties.Helicone-Property-Feature,origin=country_code",
	}
	// Third-party samples read in place from ../shared/data, never copied
	// into testdata; each is skipped when the shared folder is absent.
	shared := map[string]string{
		"burstgpt/BurstGPT_1_first400.csv": "timestamp=Timestamp,model=Model,input_tokens=Request tokens,output_tokens=Response tokens",
		"burstgpt/BurstGPT_3_first400.csv": "timestamp=Timestamp,model=Model,input_tokens=Request tokens,output_tokens=Response tokens,latency=Elapsed time,user=Session ID",
	}
	suggest := func(t *testing.T, path, want string) {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := Inspect(f, 0)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := SuggestColumns(sh.Columns).String(); got != want {
			t.Errorf("%s:\n got %s\nwant %s", filepath.Base(path), got, want)
		}
	}
	for name, want := range files {
		t.Run(name, func(t *testing.T) { suggest(t, filepath.Join("testdata", name), want) })
	}
	for rel, want := range shared {
		t.Run(filepath.Base(rel), func(t *testing.T) { suggest(t, sharedFile(t, rel), want) })
	}
	headers := map[string]string{
		"created_at,model_name,tokens_in,tokens_out,duration,status_code,user_id": "timestamp=created_at,model=model_name,input_tokens=tokens_in,output_tokens=tokens_out,status=status_code,latency=duration,user=user_id",
		"time,Model,input_tokens,output_tokens,elapsed,http_status,customer":      "timestamp=time,model=Model,input_tokens=input_tokens,output_tokens=output_tokens,status=http_status,latency=elapsed,user=customer",
		"date,model,prompt,completion,latency_ms,status,user":                     "timestamp=date,model=model,input_tokens=prompt,output_tokens=completion,status=status,latency=latency_ms,user=user",
		"TIMESTAMP,prompt_tokens,completion_tokens,total_tokens":                  "timestamp=TIMESTAMP,input_tokens=prompt_tokens,output_tokens=completion_tokens",
	}
	for h, want := range headers {
		if got := Suggest(strings.Split(h, ",")).String(); got != want {
			t.Errorf("%s:\n got %s\nwant %s", h, got, want)
		}
	}
	// A "prompt" column holding the prompt itself is no token count.
	if m := SuggestColumns([]Column{{"ts", "2025-01-01T00:00:00Z"}, {"prompt", "Summarise this…"}}); m.String() != "timestamp=ts" {
		t.Errorf("text column guessed as a count: %s", m)
	}
}
