package traffic

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The samples in testdata/logs were written for these tests to each
// vendor's documented schema (testdata/logs/README.md lists them too):
//
//   - otel_genai.json: one OTLP JSON export request as in
//     open-telemetry/opentelemetry-proto examples/trace.json (commit
//     ca6170ef02a5), times and ints as JSON numbers; span attributes from
//     open-telemetry/semantic-conventions docs/gen-ai/gen-ai-spans.md (commit
//     c1212d96fcbf, 2026-04-27) and docs/registry/attributes/gen-ai.md
//     (commit 384d66161cb1, 2026-08-20), the deprecated gen_ai.system and
//     gen_ai.usage.prompt_tokens/completion_tokens included.
//   - otel_genai.jsonl: a collector file exporter's JSON Lines, one
//     TracesData a line, int64s as strings, per
//     https://opentelemetry.io/docs/specs/otel/protocol/file-exporter/ (read
//     2026-12-01).
//   - langfuse_observations.csv and .json: langfuse/langfuse commit
//     62751446149b (2026-08-22): the columns and their order from
//     packages/shared/src/server/repositories/observations_converters.ts
//     (convertObservationPartial) and
//     worker/src/features/database-read-stream/observation-stream.ts; CSV
//     cells from packages/shared/src/server/utils/transforms/transformStreamToCsv.ts
//     and packages/shared/src/utils/stringify.ts (stringifyForCsv: strings as
//     they are, anything else JSON, so a time keeps its JSON quotes); the JSON
//     array from transformStreamToJson.ts; usage keys (input_cached_tokens,
//     input_cache_read, input_cache_creation) from
//     packages/shared/src/server/otel/OtelIngestionProcessor.ts; types and
//     levels from packages/shared/src/domain/observations.ts.
//   - langsmith_runs.jsonl: langchain-ai/langsmith-sdk commit bc8dd672a7b9
//     (2026-08-21), python/langsmith/schemas.py: RunBase, Run,
//     InputTokenDetails.
//   - litellm_errorlogs.csv and litellm_daily_user_spend.csv: BerriAI/litellm
//     schema.prisma (commit 029f645f1c81), LiteLLM_ErrorLogs and
//     LiteLLM_DailyUserSpend, as psql's \copy ... CSV HEADER writes them.
//   - litellm_daily_activity.json: BerriAI/litellm
//     litellm/proxy/management_endpoints/common_daily_activity.py (commit
//     7615d176f28b), SpendAnalyticsPaginatedResponse.
//   - kong_ai_proxy.jsonl: Kong/kong kong/pdk/log.lua serialize (commit
//     008261824c15), kong/llm/plugin/shared-filters/serialize-analytics.lua
//     (commit 1f39c077db67) and kong/llm/plugin/observability.lua (commit
//     007d34e64875, namespace "proxy"): ai.proxy.meta and ai.proxy.usage.
//   - kong_ai_proxy_36.jsonl: Kong/kong kong/llm/drivers/shared.lua of Kong
//     3.6 (read 2026-12-01): ai.<plugin name>, usage keys prompt_token and
//     completion_token.
//   - bedrock_invocations.jsonl:
//     https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html
//     with its fields as Panther's AWS.BedrockModelInvocation schema lists
//     them (https://docs.panther.com/data-onboarding/supported-logs/aws/bedrock-model-invocation),
//     both read 2026-12-01.

// logCase is a sample read with a preset and what reading it must give.
type logCase struct {
	file, format string
	want         totals
	start, end   string
	// note is a part of the summary's note on rows left out, "" for none.
	note string
}

func logCases() []logCase {
	errs := func(rl, srv, tmo, oth int64) [NumErrorClasses]int64 {
		var e [NumErrorClasses]int64
		e[ErrRateLimit], e[ErrServer], e[ErrTimeout], e[ErrOther] = rl, srv, tmo, oth
		return e
	}
	// The reference figures were computed outside gatewise, with the
	// command in each case's comment, run in testdata/logs.
	return []logCase{
		// Q='[.resourceSpans[].scopeSpans[].spans[] | (.attributes|map({(.key): (.value|to_entries[0].value)})|add) as $a
		//   | select(($a|keys|any(test("^gen_ai\\.(request|response)\\.model$|^gen_ai\\.usage\\."))) and (["invoke_agent","execute_tool"]|index($a["gen_ai.operation.name"])|not)) | $a]
		//   | [length, (map((.["gen_ai.usage.input_tokens"]//.["gen_ai.usage.prompt_tokens"]//0)|tonumber)|add),
		//      (map((.["gen_ai.usage.cache_read.input_tokens"]//0)|tonumber)|add), (map((.["gen_ai.usage.output_tokens"]//.["gen_ai.usage.completion_tokens"]//0)|tonumber)|add)]'
		// jq -c "$Q" otel_genai.json → [8,6620,3072,940]; failures by status and error.type: openai.RateLimitError, timeout, 500
		{"otel_genai.json", "otel-genai", totals{8, 8, 8, 6620, 3072, 940, errs(1, 1, 1, 0)}, "2026-10-05T08:00:00.1Z", "2026-10-05T08:02:10Z",
			"4 spans of 12 are not GenAI model calls and were left out: 2 are of agents, tools"},
		// jq -s -c "[.[]|$Q]|transpose|map(add)" otel_genai.jsonl → [21,14970,0,3210]; three spans have error.type 429
		{"otel_genai.jsonl", "otel-genai", totals{21, 21, 21, 14970, 0, 3210, errs(3, 0, 0, 0)}, "2026-10-06T08:00:00Z", "2026-10-06T08:51:14Z",
			"3 spans of 24 are not GenAI model calls and were left out: 3 have no GenAI attributes"},
		// python3 -c "import csv,json; r=[x for x in csv.DictReader(open('langfuse_observations.csv')) if x['type'] in('GENERATION','EMBEDDING')];
		//   print(len(r),sum(int(x['inputUsage']) for x in r),sum(json.loads(x['usageDetails']).get('input_cached_tokens',0)+json.loads(x['usageDetails']).get('input_cache_read',0) for x in r),
		//   sum(int(x['outputUsage']) for x in r),sum(x['level']=='ERROR' for x in r))" → 8 10184 3200 1202 2 (a 429 and a time-out)
		{"langfuse_observations.csv", "langfuse", totals{8, 8, 8, 10184, 3200, 1202, errs(1, 0, 1, 0)}, "2026-10-07T10:00:00.2Z", "2026-10-07T10:10:40Z",
			"5 rows were left out as not model calls: spans, events, agents, tools and other observations (type is not GENERATION or EMBEDDING)"},
		// jq -c 'map(select(.type=="GENERATION" or .type=="EMBEDDING"))|[length,(map(.inputUsage)|add),(map((.usageDetails.input_cached_tokens//0)+(.usageDetails.input_cache_read//0))|add),
		//   (map(.outputUsage)|add),(map(select(.level=="ERROR"))|length)]' langfuse_observations.json → [8,10184,3200,1202,2]
		{"langfuse_observations.json", "langfuse", totals{8, 8, 8, 10184, 3200, 1202, errs(1, 0, 1, 0)}, "2026-10-07T10:00:00.2Z", "2026-10-07T10:10:40Z",
			"5 rows were left out as not model calls"},
		// jq -s -c 'map(select(.run_type=="llm" or .run_type=="embedding"))|[length,(map(.prompt_tokens//0)|add),(map(.prompt_token_details.cache_read//0)|add),
		//   (map(.completion_tokens//0)|add),(map(select(.error))|length)]' langsmith_runs.jsonl → [6,7648,5120,710,2] (RateLimitError, APITimeoutError)
		{"langsmith_runs.jsonl", "langsmith", totals{6, 6, 6, 7648, 5120, 710, errs(1, 0, 1, 0)}, "2026-10-08T14:00:00.1Z", "2026-10-08T14:06:00Z",
			"5 rows were left out as not model calls: chain, tool, retriever and other runs"},
		// python3 -c "import csv; r=list(csv.DictReader(open('litellm_errorlogs.csv'))); print(len(r),[x['status_code'] for x in r])"
		//   → 8 ['429', '429', '408', '529', '503', '', '400', '429']; the one without a status is an APIConnectionError
		{"litellm_errorlogs.csv", "litellm-errorlogs", totals{8, 8, 8, 0, 0, 0, errs(3, 2, 1, 2)}, "2026-10-09T08:00:01.123Z", "2026-10-09T08:31:00Z", ""},
		// python3 -c "import csv; r=[x for x in csv.DictReader(open('litellm_daily_user_spend.csv')) if not x['mcp_namespaced_tool_name']];
		//   print(len(r),*[sum(int(x[k]) for x in r) for k in ('api_requests','prompt_tokens','cache_read_input_tokens','completion_tokens','failed_requests')])"
		//   → 7 938 1387000 518000 154400 20
		{"litellm_daily_user_spend.csv", "litellm-daily", totals{7, 7, 938, 1387000, 518000, 154400, errs(0, 0, 0, 20)}, "2026-10-10T00:00:00Z", "2026-10-12T23:59:59.999999999Z",
			"1 row was left out as not model calls: MCP tool calls (mcp_namespaced_tool_name is set)"},
		// jq -c '.results|[length,(map(.metrics.api_requests)|add),(map(.metrics.prompt_tokens)|add),(map(.metrics.cache_read_input_tokens)|add),
		//   (map(.metrics.completion_tokens)|add),(map(.metrics.failed_requests)|add)]' litellm_daily_activity.json → [3,1059,1371000,521000,170000,23]
		{"litellm_daily_activity.json", "litellm-daily", totals{3, 3, 1059, 1371000, 521000, 170000, errs(0, 0, 0, 23)}, "2026-10-13T00:00:00Z", "2026-10-15T23:59:59.999999999Z", ""},
		// jq -s -c '[length,(map(.ai[].usage|(.prompt_tokens//.prompt_token))|add),(map(.ai[].usage|(.completion_tokens//.completion_token))|add),
		//   (map(.response.status)|map(select(.>=400)))]' kong_ai_proxy.jsonl → [10,10350,1215,[429,500,504]]
		{"kong_ai_proxy.jsonl", "kong-ai-proxy", totals{10, 10, 10, 10350, 0, 1215, errs(1, 1, 1, 0)}, "2026-10-11T08:00:00Z", "2026-10-11T08:01:15Z", ""},
		// the same command on kong_ai_proxy_36.jsonl → [4,4600,585,[429]]
		{"kong_ai_proxy_36.jsonl", "kong-ai-proxy", totals{4, 4, 4, 4600, 0, 585, errs(1, 0, 0, 0)}, "2026-10-12T08:00:00Z", "2026-10-12T08:00:15.3Z", ""},
		// jq -s -c '[length,(map(.input|(.inputTokenCount//0)+(.cacheReadInputTokenCount//0)+(.cacheWriteInputTokenCount//0))|add),(map(.input.cacheReadInputTokenCount//0)|add),
		//   (map(.output.outputTokenCount//0)|add),(map(.errorCode//empty))]' bedrock_invocations.jsonl
		//   → [9,11515,4696,1300,["ThrottlingException","ModelTimeoutException","ServiceUnavailableException"]]
		{"bedrock_invocations.jsonl", "bedrock-invocation", totals{9, 9, 9, 11515, 4696, 1300, errs(1, 1, 1, 0)}, "2026-10-12T09:00:03Z", "2026-10-12T09:06:00Z", ""},
	}
}

// TestLogPresets reads each sample with its format detected and forced,
// gzip-compressed too, and checks the figures, the span and the note on the
// rows that are not model calls.
func TestLogPresets(t *testing.T) {
	t.Parallel()
	for _, tc := range logCases() {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "logs", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(data)
			zw.Close()
			for _, v := range []struct {
				name   string
				data   []byte
				format string
			}{{"detected", data, ""}, {"forced", data, tc.format}, {"gzip", gz.Bytes(), ""}} {
				o := ReadOptions{Now: testNow, Format: v.format}
				p, s, err := Read(context.Background(), bytes.NewReader(v.data), o)
				if err != nil {
					t.Fatalf("%s: %v\n%+v", v.name, err, s)
				}
				if s.Format != tc.format {
					t.Errorf("%s: format %q, want %q", v.name, s.Format, tc.format)
				}
				if got := summaryTotals(s); got != tc.want {
					t.Errorf("%s: totals\n got %+v\nwant %+v\nexamples %v", v.name, got, tc.want, s.Examples)
				}
				if got := s.Start.Format(time.RFC3339Nano); got != tc.start {
					t.Errorf("%s: start %s, want %s", v.name, got, tc.start)
				}
				if got := s.End.Format(time.RFC3339Nano); got != tc.end {
					t.Errorf("%s: end %s, want %s", v.name, got, tc.end)
				}
				left := slices.IndexFunc(s.Notes, func(n string) bool { return strings.Contains(n, "left out") })
				switch {
				case tc.note == "" && left >= 0:
					t.Errorf("%s: a note on rows left out: %s", v.name, s.Notes[left])
				case tc.note != "" && (left < 0 || !strings.Contains(s.Notes[left], tc.note)):
					t.Errorf("%s: notes %q, want one with %q", v.name, s.Notes, tc.note)
				}
				checkProfile(t, p, s)
			}
		})
	}
}

// TestLogPresetsDetectedFromContent names each sample's format from its
// content alone (no file name reaches Read or Inspect), as Read and Inspect
// (the upload page's mapping form) see it, from the whole file and from its
// first row; each sample is told from the others' formats.
func TestLogPresetsDetectedFromContent(t *testing.T) {
	t.Parallel()
	for _, tc := range logCases() {
		data, err := os.ReadFile(filepath.Join("testdata", "logs", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		sh, err := Inspect(bytes.NewReader(data), 0)
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if sh.Format != tc.format {
			t.Errorf("%s: Inspect says %q, want %q", tc.file, sh.Format, tc.format)
		}
		// The first row alone is enough.
		first := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 && !strings.HasSuffix(tc.file, ".json") {
			first = data[:i+1]
			if strings.HasSuffix(tc.file, ".csv") {
				if j := bytes.IndexByte(data[i+1:], '\n'); j >= 0 {
					first = data[:i+1+j+1]
				}
			}
		}
		_, s, _ := Read(context.Background(), bytes.NewReader(first), ReadOptions{Now: testNow})
		if s.Format != tc.format {
			t.Errorf("%s: the first row reads as %q, want %q", tc.file, s.Format, tc.format)
		}
	}
}

// TestLogPresetsMapped reads samples through a plain mapping of the same
// columns, as a user would with --format and --map, and gets the same
// figures; a log whose preset leaves rows out reads them through a mapping
// that does not.
func TestLogPresetsMapped(t *testing.T) {
	t.Parallel()
	want := map[string]totals{}
	for _, tc := range logCases() {
		want[tc.file] = tc.want
	}
	cases := []struct {
		file, format, spec string
		adjust             func(*totals)
	}{
		{"otel_genai.jsonl", "jsonl", "timestamp=startTimeUnixNano:unix_ns,end_time=endTimeUnixNano:unix_ns,model=gen_ai.request.model," +
			"input_tokens=gen_ai.usage.input_tokens,output_tokens=gen_ai.usage.output_tokens,success=otel.status_code,error=error.type", nil},
		{"otel_genai.json", "json", "timestamp=startTimeUnixNano:unix_ns,model=gen_ai.request.model,input_tokens=gen_ai.usage.input_tokens," +
			"cached_input_tokens=gen_ai.usage.cache_read.input_tokens,output_tokens=gen_ai.usage.output_tokens,success=otel.status_code,error=error.type",
			func(w *totals) { w.input -= 900; w.output -= 150 }}, // the deprecated prompt_tokens and completion_tokens are not mapped
		{"kong_ai_proxy.jsonl", "jsonl", "timestamp=started_at:unix_ms,model=ai.proxy.meta.request_model,input_tokens=ai.proxy.usage.prompt_tokens," +
			"output_tokens=ai.proxy.usage.completion_tokens,status=response.status,latency=latencies.request", nil},
		{"litellm_errorlogs.csv", "csv", "timestamp=startTime,end_time=endTime,model=model_group,status=status_code,error=exception_type", nil},
		{"langsmith_runs.jsonl", "jsonl", "timestamp=start_time,end_time=end_time,model=extra.metadata.ls_model_name,input_tokens=prompt_tokens," +
			"cached_input_tokens=prompt_token_details.cache_read,output_tokens=completion_tokens,error=error",
			// the chain runs: a root with 2400 and 300 tokens that repeats its llm runs, and a failed one
			func(w *totals) {
				w.rows, w.used, w.requests = 11, 11, 11
				w.input += 2400
				w.output += 300
				w.errors[ErrRateLimit]++
			}},
		{"litellm_daily_user_spend.csv", "csv", "timestamp=date,model=model_group,input_tokens=prompt_tokens,cached_input_tokens=cache_read_input_tokens," +
			"output_tokens=completion_tokens,requests=api_requests,failed_requests=failed_requests",
			func(w *totals) { w.rows, w.used, w.requests = 8, 8, 950 }}, // and the MCP tool row: 12 requests
	}
	for _, c := range cases {
		m, err := ParseMapping(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		_, s, err := readFile(t, filepath.Join("testdata", "logs", c.file), ReadOptions{Format: c.format, Mapping: m})
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		w := want[c.file]
		if c.adjust != nil {
			c.adjust(&w)
		}
		if got := summaryTotals(s); got != w {
			t.Errorf("%s mapped: totals\n got %+v\nwant %+v\nexamples %v", c.file, got, w, s.Examples)
		}
		if s.Format != c.format {
			t.Errorf("%s mapped: format %q", c.file, s.Format)
		}
	}
}

// TestMappingIntoLogs maps the fields a preset leaves out: an OTLP
// resource attribute and a span attribute, a key inside a CSV cell's JSON.
func TestMappingIntoLogs(t *testing.T) {
	t.Parallel()
	routes := func(s Summary) string {
		var b []string
		for _, r := range s.Routes {
			b = append(b, fmt.Sprintf("%s:%d", r.Name, r.Requests))
		}
		return strings.Join(b, " ")
	}
	for _, c := range []struct {
		file, format, spec, want string
	}{
		{"otel_genai.json", "otel-genai", "route=resource.service.name", "batch-summarizer:2 support-bot:6"},
		{"otel_genai.json", "otel-genai", "route=gen_ai.provider.name", "anthropic:2 openai:4 other:2"},
		{"otel_genai.jsonl", "", "route=otel.scope.name", "opentelemetry.instrumentation.genai:21"},
		{"langfuse_observations.csv", "langfuse", "route=metadata.feature", "support:8"},
		{"litellm_errorlogs.csv", "csv", "timestamp=startTime,route=request_kwargs.metadata.user_api_key_alias", "support-bot:8"},
		{"bedrock_invocations.jsonl", "", "route=requestMetadata.feature", "ticket-summary:9"},
	} {
		m, err := ParseMapping(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		_, s, err := readFile(t, filepath.Join("testdata", "logs", c.file), ReadOptions{Format: c.format, Mapping: m, RouteBy: RouteByField})
		if err != nil {
			t.Errorf("%s %s: %v", c.file, c.spec, err)
			continue
		}
		if got := routes(s); got != c.want {
			t.Errorf("%s %s: routes %s, want %s", c.file, c.spec, got, c.want)
		}
	}
}

// TestOTLPBadInput reads OTLP JSON Lines with bad lines among good ones:
// each bad line is a bad row named by its line (and character), the other
// lines are read; a file of no model call, or of no span, is refused saying
// so.
func TestOTLPBadInput(t *testing.T) {
	t.Parallel()
	good := func(start int64, model string, in int) string {
		return fmt.Sprintf(`{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"traceId":"a","spanId":"b","name":"chat","startTimeUnixNano":"%d","endTimeUnixNano":"%d",`+
			`"attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"%s"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"%d"}}]}]}]}]}`,
			start, start+5e8, model, in)
	}
	t0 := int64(1791187200e9)
	// Past the first 64 KiB, which are checked for text before any row.
	var pad []string
	for i := range 300 {
		pad = append(pad, good(t0-int64(i+1)*1e9, "gpt-4o", 1))
	}
	lines := []string{
		strings.Join(pad, "\n"),
		good(t0, "gpt-4o", 10),
		`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x",}]}]}]}`, // a trailing comma
		good(t0+1e9, "gpt-4o", 20),
		`{"resourceSpans":{"not":"an array"}}`,
		`{"something":"else"}`,
		strings.Replace(good(t0+2e9, "gpt-4o", 30), `"startTimeUnixNano":"`, `"startTimeUnixNano":"soon`, 1),
		good(t0+3e9, "gpt-4o\xff", 40),
		good(t0+4e9, "claude-haiku-4-5", 50),
		strings.Repeat(good(t0+5e9, "gpt-4o", 60)+"\n", 3),
	}
	data := strings.Join(lines, "\n") + "\n"
	_, s, err := Read(context.Background(), strings.NewReader(data), ReadOptions{Now: testNow, MaxBadFraction: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.Format != "otel-genai" || s.Container != "jsonl" || s.RowsRead != 311 || s.RowsUsed != 306 || s.InputTokens != 300+10+20+50+3*60 {
		t.Errorf("format %s (%s), %d rows read, %d used, %d input tokens", s.Format, s.Container, s.RowsRead, s.RowsUsed, s.InputTokens)
	}
	var got []string
	for _, p := range s.Examples {
		got = append(got, p.String())
	}
	want := []string{
		"line 302: invalid JSON at character 56: expected a key",
		"line 304: resourceSpans is not an array",
		"line 305: not an OTLP export request: it has no resourceSpans",
		`line 306 (startTimeUnixNano): timestamp "soon1791187202000000000" is not a time in unit unix_ns`,
		"line 307: not valid UTF-8 text: byte 0xff at character 267",
	}
	if !slices.Equal(got, want) {
		t.Errorf("examples\n got %q\nwant %q", got, want)
	}
	if s.RowsSkipped[ReasonSyntax] != 3 || s.RowsSkipped[ReasonBadTime] != 1 || s.RowsSkipped[ReasonUTF8] != 1 {
		t.Errorf("skipped %v", s.RowsSkipped)
	}

	// A pretty document's span is reported on the line it starts on.
	doc := "{\n  \"resourceSpans\": [\n    {\n      \"scopeSpans\": [\n        {\n          \"spans\": [\n" +
		"            {\"startTimeUnixNano\": 1791187200000000000, \"attributes\": [{\"key\": \"gen_ai.request.model\", \"value\": {\"stringValue\": \"gpt-4o\"}}]},\n" +
		"            {\"startTimeUnixNano\": -5, \"attributes\": [{\"key\": \"gen_ai.request.model\", \"value\": {\"stringValue\": \"gpt-4o\"}}]}\n" +
		"          ]\n        }\n      ]\n    }\n  ]\n}\n"
	_, s, err = Read(context.Background(), strings.NewReader(doc), ReadOptions{Now: testNow, MaxBadFraction: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.RowsRead != 2 || s.RowsUsed != 1 || len(s.Examples) != 1 || s.Examples[0].Line != 8 || s.Examples[0].Reason != ReasonOldTime {
		t.Errorf("document: %d read, %d used, examples %v", s.RowsRead, s.RowsUsed, s.Examples)
	}

	for name, c := range map[string]struct{ in, want string }{
		"no calls": {`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"GET /","startTimeUnixNano":"1"},` +
			`{"name":"invoke_agent","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}}]}]}]}]}` + "\n",
			"none of the file's 2 spans is a GenAI model call (a span with gen_ai.request.model, gen_ai.usage.* or a gen_ai.operation.name such as chat or embeddings); 1 span is of agents, tools or workflows, which wrap the calls"},
		"no spans":  {`{"resourceSpans":[]}` + "\n", "the OTLP file holds no spans"},
		"bad only":  {`{"resourceSpans":[]}` + "\n" + `{"resourceSpans":[}` + "\n", "the OTLP file holds no spans; 1 export request could not be read, first: line 2: invalid JSON at character 19: unexpected character '}'"},
		"bad doc":   {`{"resourceSpans":[}`, "line 1: the JSON document is malformed: unexpected character '}'"},
		"truncated": {"{\n  \"resourceSpans\": [\n    {\"scopeSpans\": [\n", "line 4: the JSON document ends in the middle of a value (truncated file?)"},
	} {
		_, _, err := Read(context.Background(), strings.NewReader(c.in), ReadOptions{Now: testNow})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v\nwant %s", name, err, c.want)
		}
	}
	// A format forced to another preset reads OTLP as plain rows.
	if _, s, _ := Read(context.Background(), strings.NewReader(good(t0, "gpt-4o", 10)), ReadOptions{Now: testNow, Format: "openai-usage"}); s.Format != "openai-usage" {
		t.Errorf("forced openai-usage: %q", s.Format)
	}
}

// TestJSONCellsBad reads Langfuse CSV rows whose JSON cells are broken: each
// is a bad row named by its line, column and field.
func TestJSONCellsBad(t *testing.T) {
	t.Parallel()
	head := `"id","traceId","startTime","type","level","model","inputUsage","outputUsage","usageDetails"` + "\n"
	row := func(start, usage string) string {
		return fmt.Sprintf(`"o","t","""%s""","GENERATION","DEFAULT","gpt-4o","100","10","%s"`+"\n", start, usage)
	}
	data := head + row("2026-10-07T10:00:00.000Z", `{""input"":100,""input_cached_tokens"":40}`) +
		row("2026-10-07T10:00:01.000Z", "N/A") +
		row("2026-10-07T10:00:02.000Z", `{""input"":100,}`) +
		row("2026-10-07T10:00:03.000Z", `{""input"":100,""input_cached_tokens"":400}`) +
		row("2026-10-07T10:00:04.000Z", "") +
		strings.Replace(row("2026-10-07T10:00:05.000Z", "{}"), `"""2026-10-07T10:00:05.000Z"""`, `"""yesterday"""`, 1)
	_, s, err := Read(context.Background(), strings.NewReader(data), ReadOptions{Now: testNow, MaxBadFraction: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range s.Examples {
		got = append(got, p.String())
	}
	want := []string{
		`line 3, column 9 (usageDetails): "N/A" is not a JSON object`,
		"line 4, column 9 (usageDetails): not valid JSON at character 14 of the cell: expected a key",
		"line 5, column 9 (usageDetails.input_cached_tokens): 400 cached tokens but only 100 input tokens",
		`line 7, column 3 (startTime): timestamp "yesterday" is not a time in unit auto (ISO 8601 or epoch number)`,
	}
	if s.Format != "langfuse" || s.RowsRead != 6 || s.RowsUsed != 2 || s.CachedInputTokens != 40 || !slices.Equal(got, want) {
		t.Errorf("format %s, %d read, %d used, %d cached\nexamples %q\nwant     %q", s.Format, s.RowsRead, s.RowsUsed, s.CachedInputTokens, got, want)
	}
}

// TestDailyFailedRequests spreads a day's failed requests over its bins
// with its requests, and refuses a row that fails more requests than it
// has.
func TestDailyFailedRequests(t *testing.T) {
	t.Parallel()
	data := "date,api_requests,successful_requests,failed_requests,prompt_tokens,completion_tokens,model\n" +
		"2026-10-10,240,216,24,24000,2400,gpt-4o\n" +
		"2026-10-11,10,0,11,1000,100,gpt-4o\n" +
		"2026-10-12,48,47,1,4800,480,gpt-4o\n"
	p, s, err := Read(context.Background(), strings.NewReader(data), ReadOptions{Now: testNow, BinWidth: time.Hour, MaxBadFraction: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.Format != "litellm-daily" || s.Requests != 288 || s.Errors["other"] != 25 || s.RowsSkipped[ReasonAbsurd] != 1 ||
		len(s.Examples) != 1 || s.Examples[0].String() != "line 3, column 4 (failed_requests): 11 failed requests but only 10 requests" {
		t.Fatalf("%s: %d requests, errors %v, skipped %v, examples %v", s.Format, s.Requests, s.Errors, s.RowsSkipped, s.Examples)
	}
	// 2026-10-10 is 24 bins of 10 requests and 1 failure; 2026-10-12 is 24
	// bins of 2 requests, one of which holds its failure.
	var day1, day3 []int64
	for _, c := range p.Cells {
		switch day := p.Start.Add(time.Duration(c.Bin) * p.BinWidth).Day(); day {
		case 10:
			day1 = append(day1, c.Demand.Requests, c.Demand.Errors[ErrOther])
		case 12:
			day3 = append(day3, c.Demand.Errors[ErrOther])
		}
	}
	if len(day1) != 48 || slices.ContainsFunc(day1, func(n int64) bool { return n != 10 && n != 1 }) {
		t.Errorf("day 1: %v", day1)
	}
	var failed int64
	for _, n := range day3 {
		failed += n
	}
	if len(day3) != 24 || failed != 1 {
		t.Errorf("day 3: %v", day3)
	}
}

// TestNoModelCalls refuses an export with rows but no model call, saying
// what its rows are.
func TestNoModelCalls(t *testing.T) {
	t.Parallel()
	data := `{"id":"1","name":"Agent","run_type":"chain","start_time":"2026-10-08T14:00:00Z","trace_id":"1","prompt_tokens":10}` + "\n" +
		`{"id":"2","name":"lookup","run_type":"tool","start_time":"2026-10-08T14:00:01Z","trace_id":"1"}` + "\n"
	_, s, err := Read(context.Background(), strings.NewReader(data), ReadOptions{Now: testNow})
	want := "none of the file's 2 rows is a model call: all are chain, tool, retriever and other runs, whose tokens are those of the llm runs inside them (run_type is not llm or embedding)"
	if err == nil || err.Error() != want || s.Format != "langsmith" {
		t.Errorf("%s: %v\nwant %s", s.Format, err, want)
	}
}
