package traffic

import (
	"bytes"
	"compress/gzip"
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
