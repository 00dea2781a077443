package traffic

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testNow is "now" for every test, so no sample ever drifts into the future.
var testNow = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func readFile(t *testing.T, path string, o ReadOptions) (*Profile, Summary, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if o.Now.IsZero() {
		o.Now = testNow
	}
	return Read(context.Background(), f, o)
}

type totals struct {
	rows, used, requests, input, cached, output int64
	errors                                      [NumErrorClasses]int64
}

func summaryTotals(s Summary) totals {
	t := totals{rows: s.RowsRead, used: s.RowsUsed, requests: s.Requests, input: s.InputTokens,
		cached: s.CachedInputTokens, output: s.OutputTokens}
	for c := range NumErrorClasses {
		t.errors[c] = s.Errors[c.String()]
	}
	return t
}

// TestPresets reads each hand-made sample. The reference totals were
// computed outside gatewise, with the command in each row's comment (run in
// testdata/); error counts follow the status columns by eye.
func TestPresets(t *testing.T) {
	t.Parallel()
	mapped, err := ParseMapping("timestamp=When (ms):unix_ms, route=Feature, model=Engine, input_tokens=Prompt, output_tokens=Completion, latency=Took (s):s, status=HTTP")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rl, srv, tmo, oth := ErrRateLimit, ErrServer, ErrTimeout, ErrOther
	errs := func(pairs ...ErrorClass) (e [NumErrorClasses]int64) {
		for _, c := range pairs {
			e[c]++
		}
		return e
	}
	tests := []struct {
		file, format string
		opts         ReadOptions
		want         totals
	}{
		// python3 -c "import csv;r=list(csv.DictReader(open('litellm_spendlogs.csv')));print(len(r),sum(int(x['prompt_tokens']) for x in r),sum(int(x['completion_tokens']) for x in r))"  → 5 2800 270
		{"litellm_spendlogs.csv", "litellm-spendlogs", ReadOptions{}, totals{5, 5, 5, 2800, 0, 270, errs(oth)}},
		// jq -s '[length, (map(.prompt_tokens//0)|add), (map(.prompt_cache_read_tokens//0)|add), (map(.completion_tokens//0)|add)]' helicone.jsonl → 5 6500 2448 420
		{"helicone.jsonl", "helicone", ReadOptions{}, totals{5, 5, 5, 6500, 2448, 420, errs(rl, srv, tmo)}},
		// awk -F, 'NR>1{n++;i+=$7;c+=$8;o+=$9} END{print n,i,c,o}' helicone.csv → 5 6500 2448 420
		{"helicone.csv", "helicone", ReadOptions{}, totals{5, 5, 5, 6500, 2448, 420, errs(rl, srv, tmo)}},
		// jq -c '[length, (map(.native_tokens_prompt//.tokens_prompt)|add), (map(.native_tokens_cached//0)|add), (map(.native_tokens_completion//.tokens_completion)|add)]' → 3 3010 1500 540
		{"openrouter_generations.json", "openrouter-generation", ReadOptions{}, totals{3, 3, 3, 3010, 1500, 540, errs()}},
		// awk -F, 'NR>1{r+=$8;i+=$9;o+=$10} END{print r,i,o}' openrouter_activity.csv → 3160 7320000 932000
		{"openrouter_activity.csv", "openrouter-activity", ReadOptions{}, totals{3, 3, 3160, 7320000, 0, 932000, errs()}},
		// jq -s '[length, (map(.usage.prompt_tokens//.usage.input_tokens//.response.body.usage.prompt_tokens//0)|add), …cached…, …output…]' → 4 2367 1152 550
		{"openai_usage.jsonl", "openai-usage", ReadOptions{}, totals{4, 4, 4, 2367, 1152, 550, errs(rl)}},
		// jq -c '[.data[].results[]] | [length, (map(.num_model_requests)|add), (map(.input_tokens)|add), (map(.input_cached_tokens)|add), (map(.output_tokens)|add)]' → 3 907 690059 200000 69007
		{"openai_usage_buckets.json", "openai-usage-buckets", ReadOptions{}, totals{3, 3, 907, 690059, 200000, 69007, errs()}},
		// jq -s '[length, (map(.usage.input_tokens + (.usage.cache_creation_input_tokens//0) + (.usage.cache_read_input_tokens//0))|add), (map(.usage.cache_read_input_tokens//0)|add), (map(.usage.output_tokens)|add)]' → 3 4150 2000 420
		{"anthropic_usage.jsonl", "anthropic-usage", ReadOptions{}, totals{3, 3, 3, 4150, 2000, 420, errs(srv)}},
		// jq -s '[length,(map(.req_units)|add),(map(.res_units)|add)]' portkey.jsonl → 2 1500 200
		{"portkey.jsonl", "portkey", ReadOptions{}, totals{2, 2, 2, 1500, 0, 200, errs(srv)}},
		// jq -c '.result|[length,(map(.tokens_in)|add),(map(.tokens_out)|add)]' cloudflare.json → 2 520 80
		{"cloudflare.json", "cloudflare", ReadOptions{}, totals{2, 2, 2, 520, 0, 80, errs(srv)}},
		// jq -s '[length,(map(.prompt_tokens)|add),(map(.completion_tokens)|add)]' litellm_payload.jsonl → 3 10 20
		{"litellm_payload.jsonl", "litellm-payload", ReadOptions{}, totals{3, 3, 3, 10, 0, 20, errs(tmo, rl)}},
		// awk -F, 'NR>1{n++;i+=$4;o+=$5} END{print n,i,o}' mapped.csv → 4 2710 271
		{"mapped.csv", "csv", ReadOptions{Mapping: mapped}, totals{4, 4, 4, 2710, 0, 271, errs(srv, rl)}},
		// awk -F, 'NR>1{n++;i+=$2;o+=$3} END{print n,i,o}' azure_trace.csv → 3 1649 208
		{"azure_trace.csv", "azure-trace", ReadOptions{}, totals{3, 3, 3, 1649, 0, 208, errs()}},
		// awk -F, 'NR>1{n++;i+=$5;o+=$6;f+=($6==0)} END{print n,i,o,f}' burstgpt.csv → 4 2029 705 1
		{"burstgpt.csv", "burstgpt", ReadOptions{Start: start}, totals{4, 4, 4, 2029, 0, 705, errs(oth)}},
		// jq -s '[length,(map(.input_length)|add),(map(.output_length)|add)]' mooncake.jsonl → 3 16370 1306
		{"mooncake.jsonl", "mooncake", ReadOptions{Start: start}, totals{3, 3, 3, 16370, 0, 1306, errs()}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			for _, forced := range []bool{false, true} {
				o := tc.opts
				if forced {
					o.Format = tc.format
				}
				prof, sum, err := readFile(t, filepath.Join("testdata", tc.file), o)
				if err != nil {
					t.Fatalf("forced=%v: %v\n%+v", forced, err, sum)
				}
				if sum.Format != tc.format {
					t.Errorf("format %q, want %q", sum.Format, tc.format)
				}
				if got := summaryTotals(sum); got != tc.want {
					t.Errorf("forced=%v: totals\n got %+v\nwant %+v\nexamples %v", forced, got, tc.want, sum.Examples)
				}
				checkProfile(t, prof, sum)
			}
		})
	}
}

// checkProfile checks that the cells add up to the totals and are sorted.
func checkProfile(t *testing.T, p *Profile, s Summary) {
	t.Helper()
	var d Demand
	for i, c := range p.Cells {
		d.add(&c.Demand)
		if int(c.Bin) >= p.Bins || int(c.Route) >= len(p.Routes) || int(c.Origin) >= len(p.Origins) {
			t.Fatalf("cell %d out of range: %+v", i, c)
		}
		if i > 0 {
			a := p.Cells[i-1]
			if a.Bin > c.Bin || (a.Bin == c.Bin && (a.Route > c.Route || (a.Route == c.Route && a.Origin >= c.Origin))) {
				t.Fatalf("cells not sorted at %d", i)
			}
		}
	}
	if d != p.Total || d.Requests != s.Requests || d.Input != s.InputTokens || d.Output != s.OutputTokens {
		t.Errorf("cells add up to %+v, total %+v, summary %d requests", d, p.Total, s.Requests)
	}
	x := p.Prefix()
	var r Demand
	for ri := range p.Routes {
		for oi := range p.Origins {
			got := x.Range(ri, oi, 0, p.Bins)
			r.add(&got)
		}
	}
	if r != p.Total {
		t.Errorf("prefix sums give %+v, want %+v", r, p.Total)
	}
}

func TestRoutesAndOrigins(t *testing.T) {
	t.Parallel()
	routes := []Route{{Name: "chat", Models: []string{"gpt-4o", "gpt-4.1"}}, {Name: "summarize", Models: []string{"claude-sonnet-4.5"}}, {Name: "search"}}
	tests := []struct {
		name, file string
		opts       ReadOptions
		routes     map[string]int64
		origins    map[string]int64
	}{
		// Models: gpt-4o twice (model_group), claude-sonnet-4-5 once, gpt-4o-mini and the embedding model unmatched.
		{"by model", "litellm_spendlogs.csv", ReadOptions{Routes: routes, RouteBy: RouteByModel},
			map[string]int64{"chat": 2, "summarize": 1, "search": 0, "other": 2}, map[string]int64{"any": 5}},
		// request_tags: chat ×2, summarize, search, and [] on req-4.
		{"by field", "litellm_spendlogs.csv", ReadOptions{Routes: routes, RouteBy: RouteByField},
			map[string]int64{"chat": 2, "summarize": 1, "search": 1, "other": 1}, map[string]int64{"any": 5}},
		{"single", "litellm_spendlogs.csv", ReadOptions{Routes: routes, RouteBy: RouteSingle},
			map[string]int64{"chat": 5, "summarize": 0, "search": 0}, map[string]int64{"any": 5}},
		{"field values without routes", "litellm_spendlogs.csv", ReadOptions{RouteBy: RouteByField},
			map[string]int64{"chat": 2, "summarize": 1, "search": 1, "other": 1}, map[string]int64{"any": 5}},
		// country_code: US ×2, DE ×2 (mapped to eu), JP (not in the mix: assigned from it).
		{"origin field and mix", "helicone.jsonl", ReadOptions{OriginMix: map[string]float64{"us": 0.5, "eu": 0.5}, OriginMap: map[string]string{"de": "eu"}},
			map[string]int64{"all": 5}, nil},
		{"origin field alone", "helicone.csv", ReadOptions{},
			map[string]int64{"all": 5}, map[string]int64{"us": 2, "de": 2, "jp": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, sum, err := readFile(t, filepath.Join("testdata", tc.file), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, c := range sum.Routes {
				got[c.Name] = c.Requests
			}
			if !equalCounts(got, tc.routes) {
				t.Errorf("routes %v, want %v (profile routes %v)", got, tc.routes, p.Routes)
			}
			got = map[string]int64{}
			var n int64
			for _, c := range sum.Origins {
				got[c.Name] = c.Requests
				n += c.Requests
			}
			if tc.origins != nil && !equalCounts(got, tc.origins) {
				t.Errorf("origins %v, want %v", got, tc.origins)
			}
			if tc.origins == nil && (n != 5 || got["us"] < 2 || got["eu"] < 2 || len(got) != 2) {
				t.Errorf("origins %v: want us ≥ 2, eu ≥ 2, 5 in all", got)
			}
		})
	}
}

func equalCounts(a, b map[string]int64) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok && v != 0 {
			return false
		}
	}
	return true
}

func TestBadRows(t *testing.T) {
	t.Parallel()
	m, _ := ParseMapping("timestamp=timestamp,model=model,input_tokens=input_tokens,output_tokens=output_tokens")
	_, sum, err := readFile(t, "testdata/bad.csv", ReadOptions{Mapping: m, MaxBadFraction: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Lines 3–10 of bad.csv are bad, one reason each; lines 2 and 11 are good.
	want := map[string]int64{ReasonNegative: 1, ReasonBadNumber: 1, ReasonBadTime: 1, ReasonFutureTime: 1,
		ReasonFieldCount: 1, ReasonSyntax: 1, ReasonNoTime: 1, ReasonAbsurd: 1}
	if !equalCounts(sum.RowsSkipped, want) || sum.RowsRead != 10 || sum.RowsUsed != 2 {
		t.Errorf("read %d used %d skipped %v, want 10, 2, %v", sum.RowsRead, sum.RowsUsed, sum.RowsSkipped, want)
	}
	lines := map[string]int64{}
	for _, p := range sum.Examples {
		lines[p.Reason] = p.Line
	}
	wantLines := map[string]int64{ReasonNegative: 3, ReasonBadNumber: 4, ReasonBadTime: 5, ReasonFutureTime: 6,
		ReasonFieldCount: 7, ReasonSyntax: 8, ReasonNoTime: 9, ReasonAbsurd: 10}
	if !equalCounts(lines, wantLines) {
		t.Errorf("example lines %v, want %v", lines, wantLines)
	}
	for _, p := range sum.Examples {
		if p.Reason == ReasonNegative && (p.Column != 3 || p.Field != "input_tokens") {
			t.Errorf("negative value reported at column %d field %q, want 3 input_tokens", p.Column, p.Field)
		}
	}
	// With the default threshold the same file is refused.
	_, _, err = readFile(t, "testdata/bad.csv", ReadOptions{Mapping: m})
	if err == nil || !strings.Contains(err.Error(), "8 of 10 rows are bad") {
		t.Errorf("err = %v, want a refusal naming 8 of 10 rows", err)
	}
}

func TestUnusableInput(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n"), 2000))
	zw.Close()
	truncated := gz.Bytes()[:gz.Len()/2]
	tests := []struct {
		name  string
		input []byte
		opts  ReadOptions
		want  string
	}{
		{"empty", nil, ReadOptions{}, "empty"},
		{"binary", []byte("\x00\x01\x02garbage"), ReadOptions{}, "binary"},
		{"latin1", []byte("timestamp,model\n2025-01-01T00:00:00Z,caf\xe9\n"), ReadOptions{}, "line 2: the file is not UTF-8"},
		{"zip", []byte("PK\x03\x04rest"), ReadOptions{}, "zip archive"},
		{"truncated gzip", truncated, ReadOptions{}, "gzip data is truncated"},
		{"unknown header", []byte("a,b,c\n1,2,3\n"), ReadOptions{}, "columns match no known format (a, b, c)"},
		{"unknown keys", []byte(`{"x":1}` + "\n"), ReadOptions{}, "keys match no known format (x)"},
		{"header only", []byte("TIMESTAMP,ContextTokens,GeneratedTokens\n"), ReadOptions{}, "no rows"},
		{"wrong mapped column", []byte("a,b\n1,2\n"), ReadOptions{Mapping: Mapping{FieldTime: {Column: "when"}}}, `no column "when"`},
		{"unclosed quote", append([]byte("timestamp,model\n2025-01-01T00:00:00Z,\"gpt"), bytes.Repeat([]byte("x\n"), 1<<20)...),
			ReadOptions{Mapping: Mapping{FieldTime: {Column: "timestamp"}}, MaxLineBytes: 1024}, "closing quote missing"},
		{"truncated JSON array", []byte(`[{"created_at":"2025-01-01T00:00:00Z","tokens_in":1,"tokens_out":1},{"created_at":`), ReadOptions{}, "truncated"},
		{"too big", bytes.Repeat([]byte("TIMESTAMP,ContextTokens,GeneratedTokens\n"), 100), ReadOptions{MaxBytes: 1000}, "larger than the limit"},
		{"bad options", []byte("x"), ReadOptions{BinWidth: 7 * time.Second}, "bin width"},
		{"json preset on csv", []byte("a,b\n1,2\n"), ReadOptions{Format: "mooncake"}, "looks like CSV"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Now = testNow
			p, _, err := Read(context.Background(), bytes.NewReader(tc.input), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
			if p != nil {
				t.Error("a profile came back with the error")
			}
		})
	}
}

func TestLongLinesAreSkipped(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("TIMESTAMP,ContextTokens,GeneratedTokens\n")
	for i := range 50 {
		if i == 20 {
			b.WriteString("2023-11-16 18:15:46.6805900,1,1" + strings.Repeat(" ", 5000) + "\n")
			continue
		}
		b.WriteString("2023-11-16 18:15:46.6805900,1,1\n")
	}
	_, sum, err := Read(context.Background(), &b, ReadOptions{MaxLineBytes: 1024, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RowsRead != 50 || sum.RowsUsed != 49 || sum.RowsSkipped[ReasonTooLong] != 1 {
		t.Errorf("read %d used %d skipped %v", sum.RowsRead, sum.RowsUsed, sum.RowsSkipped)
	}
	if len(sum.Examples) != 1 || sum.Examples[0].Line != 22 {
		t.Errorf("examples %v, want line 22", sum.Examples)
	}
}

// TestGzipAndChunking reads the same rows plain and compressed, and with
// many chunks and workers, and gets the same profile.
func TestGzipAndChunking(t *testing.T) {
	t.Parallel()
	data := generateCSV(6000, 7) // 2.4 MB: three chunks
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	read := func(r io.Reader, workers int) (*Profile, Summary) {
		p, s, err := Read(context.Background(), r, ReadOptions{Workers: workers, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		return p, s
	}
	p1, s1 := read(bytes.NewReader(data), 1)
	p2, s2 := read(bytes.NewReader(gz.Bytes()), 4)
	if !s2.Gzip || s1.Requests != 6000 || summaryTotals(s1) != summaryTotals(s2) || p1.Total != p2.Total || len(p1.Cells) != len(p2.Cells) {
		t.Fatalf("plain %+v\ngzip %+v", summaryTotals(s1), summaryTotals(s2))
	}
	for i := range p1.Cells {
		if p1.Cells[i] != p2.Cells[i] {
			t.Fatalf("cell %d differs: %+v vs %+v", i, p1.Cells[i], p2.Cells[i])
		}
	}
}

// TestRealFiles reads the real traces and exports in ../shared/data and
// checks their totals against a second, plain reader (encoding/csv or
// encoding/json) written here.
func TestRealFiles(t *testing.T) {
	t.Parallel()
	const dir = "../../../shared/data/"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/data is not here; the real-file tests need the shared data set")
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		file, format       string
		in, out, cached    string // column names or JSON paths for the second reader
		failedIfZeroOutput bool
	}{
		{"azure-llm-2023/AzureLLMInferenceTrace_code.csv", "azure-trace", "ContextTokens", "GeneratedTokens", "", false},
		{"azure-llm-2023/AzureLLMInferenceTrace_conv.csv", "azure-trace", "ContextTokens", "GeneratedTokens", "", false},
		{"burstgpt/BurstGPT_1_first400.csv", "burstgpt", "Request tokens", "Response tokens", "", true},
		{"burstgpt/BurstGPT_3_first400.csv", "burstgpt", "Request tokens", "Response tokens", "", true},
		{"mooncake-traces/conversation_trace.jsonl", "mooncake", "input_length", "output_length", "", false},
		{"mooncake-traces/synthetic_trace.jsonl", "mooncake", "input_length", "output_length", "", false},
		{"gateway-formats/litellm/example_standard_logging_payload.json", "litellm-payload", "prompt_tokens", "completion_tokens", "", false},
		{"gateway-formats/openrouter/chat_completion_response_with_usage_cost.json", "openai-usage", "usage.prompt_tokens", "usage.completion_tokens", "usage.prompt_tokens_details.cached_tokens", false},
		{"gateway-formats/provider-response-stubs-helicone-ai-gateway/openai_chat_completion.json", "openai-usage", "response.jsonBody.usage.prompt_tokens", "response.jsonBody.usage.completion_tokens", "response.jsonBody.usage.prompt_tokens_details.cached_tokens", false},
		{"gateway-formats/provider-response-stubs-helicone-ai-gateway/openai_chat_completion_cacheable.json", "openai-usage", "response.jsonBody.usage.prompt_tokens", "response.jsonBody.usage.completion_tokens", "response.jsonBody.usage.prompt_tokens_details.cached_tokens", false},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			t.Parallel()
			path := dir + tc.file
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s is not in the shared data set", tc.file)
			}
			_, sum, err := readFile(t, path, ReadOptions{Start: start})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Format != tc.format {
				t.Errorf("format %q, want %q", sum.Format, tc.format)
			}
			want := referenceTotals(t, path, tc.in, tc.out, tc.cached, tc.failedIfZeroOutput)
			got := summaryTotals(sum)
			if got != want {
				t.Errorf("totals\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// referenceTotals is the second reader: encoding/csv for CSV, encoding/json
// for JSON Lines or a single JSON object.
func referenceTotals(t *testing.T, path, in, out, cached string, failedIfZero bool) totals {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if strings.HasSuffix(path, ".csv") {
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			m := map[string]any{}
			for i, h := range recs[0] {
				m[h] = r[i]
			}
			rows = append(rows, m)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var m map[string]any
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, m)
		}
	}
	num := func(m map[string]any, path string) int64 {
		if path == "" {
			return 0
		}
		var v any = m
		for _, k := range strings.Split(path, ".") {
			mm, ok := v.(map[string]any)
			if !ok {
				return 0
			}
			v = mm[k]
		}
		switch x := v.(type) {
		case float64:
			return int64(x)
		case string:
			n, _ := strconv.ParseInt(x, 10, 64)
			return n
		}
		return 0
	}
	var tot totals
	for _, r := range rows {
		tot.rows++
		tot.used++
		tot.requests++
		tot.input += num(r, in)
		tot.output += num(r, out)
		tot.cached += num(r, cached)
		if failedIfZero && num(r, out) == 0 {
			tot.errors[ErrOther]++
		}
	}
	return tot
}

func TestParseMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, want, err string
	}{
		{"timestamp=Timestamp:offset_s, model=Model, input_tokens=Request tokens", "timestamp=Timestamp:offset_s,model=Model,input_tokens=Request tokens", ""},
		{"time=t:ms,latency=took:s,cost=c:cents,model='azure-code'", "timestamp=t:unix_ms,model='azure-code',latency=took:s,cost=c:cents", ""},
		{"timestamp=a:b:iso8601", "timestamp=a:b:iso8601", ""},
		{"timestamp=Time: 12", "timestamp=Time: 12", ""},
		{"", "", ""},
		{"stamp=x", "", `unknown field "stamp"`},
		{"timestamp", "", "want FIELD=COLUMN"},
		{"model=a,model=b", "", "mapped twice"},
		{"latency=x:unix_ms", "", `latency cannot be in unit "unix_ms"`},
		{"input_tokens=", "", "has no column"},
	}
	for _, tc := range tests {
		m, err := ParseMapping(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || m.String() != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.spec, m.String(), err, tc.want)
		}
	}
}

func TestOptionsAreValidated(t *testing.T) {
	t.Parallel()
	bad := []ReadOptions{
		{Format: "splunk"},
		{BinWidth: -time.Minute},
		{MaxBadFraction: 2},
		{MaxLineBytes: 10},
		{Routes: []Route{{Name: "a"}, {Name: "a"}}},
		{OriginMix: map[string]float64{"us": 0.5}},
		{Start: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, o := range bad {
		if _, err := o.withDefaults(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestNormalizeModel(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"gpt-4o-2024-08-06":             "gpt-4o",
		"claude-sonnet-4-5-20250929":    "claude-sonnet-4.5",
		"anthropic/claude-sonnet-4.5":   "claude-sonnet-4.5",
		"google/gemini-2.5-flash:free":  "gemini-2.5-flash",
		"GPT-4.1-mini":                  "gpt-4.1-mini",
		"openrouter/openai/gpt-4o-mini": "gpt-4o-mini",
		"gpt-3.5-turbo-0125":            "gpt-3.5-turbo-0125",
	} {
		if got := normalizeModel(in); got != want {
			t.Errorf("normalizeModel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Read(ctx, bytes.NewReader(generateCSV(1000, 1)), ReadOptions{Now: testNow})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestLongAggregateLeavesNoTrace: an aggregated row spanning more than 31
// days is skipped before anything of it is counted; its requests used to
// stay on its model and its start in the log's span.
func TestLongAggregateLeavesNoTrace(t *testing.T) {
	t.Parallel()
	page := `{"object":"page","data":[` +
		`{"start_time":1735689600,"end_time":1739145600,"results":[{"model":"gpt-4o","input_tokens":10,"output_tokens":5,"num_model_requests":2}]},` +
		`{"start_time":1740787200,"end_time":1740873600,"results":[{"model":"gpt-4.1","input_tokens":30,"output_tokens":7,"num_model_requests":3}]}]}`
	_, sum, err := Read(context.Background(), strings.NewReader(page), ReadOptions{MaxBadFraction: 1, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RowsRead != 2 || sum.RowsUsed != 1 || sum.RowsSkipped[ReasonAbsurd] != 1 || sum.Requests != 3 {
		t.Errorf("read %d used %d skipped %v requests %d", sum.RowsRead, sum.RowsUsed, sum.RowsSkipped, sum.Requests)
	}
	if len(sum.Models) != 1 || sum.Models[0].Name != "gpt-4.1" || sum.Models[0].Requests != 3 {
		t.Errorf("models %+v, want gpt-4.1 alone", sum.Models)
	}
	if want := time.Unix(1740787200, 0).UTC(); !sum.Start.Equal(want) {
		t.Errorf("span starts %v, want %v", sum.Start, want)
	}
}
