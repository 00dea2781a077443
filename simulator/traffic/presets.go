package traffic

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// cand is one place a preset looks for a field; a preset lists several when
// exports spell the same fact differently, and a row uses the first one that
// is present and not empty.
type cand struct {
	path string
	unit Unit
}

// preset describes an export format gatewise knows by name. Formats are data,
// not code: adding one is adding a table entry, and the same rows drive
// detection, reading and the summary.
type preset struct {
	name  string
	title string
	// csv and json say which containers the format comes in.
	csv, json bool
	// detect lists alternative key sets; the preset matches a header (or the
	// keys of the first JSON record) that holds every key of one set.
	detect [][]string
	fields [numFields][]cand
	// zeroOutputFails marks traces whose failed requests are rows with no
	// output tokens (BurstGPT says so of its own data).
	zeroOutputFails bool
	// cacheOutsideInput marks usage objects whose input count excludes cache
	// reads and writes (Anthropic); gatewise adds them back so that input
	// always includes cached tokens.
	cacheOutsideInput bool
	// bucket is the width of an aggregated row that has no end time.
	bucket time.Duration
	// explode names an array of per-model results inside an aggregated row;
	// each element becomes a row that inherits the parent's other fields.
	explode string
	// relative marks traces whose clocks start at zero: they need a start.
	relative bool
	// calls, when set, tells model calls from the other rows an export
	// holds (a Langfuse span, a LangSmith chain, a LiteLLM MCP tool call):
	// those are left out, and counted in a note.
	calls *callRule
	// failOn marks as failed the rows whose value at a path is one of a few
	// words (Langfuse's level ERROR), the class told by another field.
	failOn *failRule
	// allFail marks exports whose every row is a failed request (LiteLLM's
	// ErrorLogs); the status and error fields tell the class.
	allFail bool
	// jsonCells marks CSV exports whose cells are JSON values: a time or a
	// name written as a JSON string with its quotes, usage as an object
	// (Langfuse's); each cell a field reads is decoded, and a dotted path
	// walks into an object.
	jsonCells bool
}

// c builds a candidate list from "path" or "path:unit" strings.
func c(specs ...string) []cand {
	out := make([]cand, 0, len(specs))
	for _, s := range specs {
		p, u := s, UnitDefault
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			if uu, ok := unitNames[s[i+1:]]; ok {
				p, u = s[:i], uu
			}
		}
		out = append(out, cand{path: p, unit: u})
	}
	return out
}

// presets returns the known formats, most specific first: detection takes the
// first whose keys are all present. Field names and units come from
// ../shared/research/data.md §2–§4 and peers.md §5.
func presets() []preset {
	usageIn := []string{"usage.prompt_tokens", "usage.input_tokens",
		"response.body.usage.prompt_tokens", "response.body.usage.input_tokens",
		"response.jsonBody.usage.prompt_tokens", "response.jsonBody.usage.input_tokens"}
	usageCached := []string{"usage.prompt_tokens_details.cached_tokens", "usage.input_tokens_details.cached_tokens",
		"response.body.usage.prompt_tokens_details.cached_tokens", "response.body.usage.input_tokens_details.cached_tokens",
		"response.jsonBody.usage.prompt_tokens_details.cached_tokens"}
	usageOut := []string{"usage.completion_tokens", "usage.output_tokens",
		"response.body.usage.completion_tokens", "response.body.usage.output_tokens",
		"response.jsonBody.usage.completion_tokens", "response.jsonBody.usage.output_tokens"}
	return []preset{
		{
			name: "openai-usage-buckets", title: "OpenAI Usage API (completions buckets)", json: true,
			detect:  [][]string{{"start_time", "end_time", "results"}},
			explode: "results",
			fields: [numFields][]cand{
				FieldTime: c("start_time:unix_s"), FieldEnd: c("end_time:unix_s"),
				FieldModel: c("model"), FieldInput: c("input_tokens"), FieldCached: c("input_cached_tokens"),
				FieldOutput: c("output_tokens"), FieldRequests: c("num_model_requests"),
				FieldRoute: c("project_id"),
			},
		},
		{
			name: "litellm-spendlogs", title: "LiteLLM SpendLogs export", csv: true, json: true,
			detect: [][]string{{"request_id", "spend", "startTime", "prompt_tokens"}},
			fields: [numFields][]cand{
				FieldTime: c("startTime"), FieldEnd: c("endTime"),
				FieldModel: c("model_group", "model"), FieldInput: c("prompt_tokens"),
				FieldOutput: c("completion_tokens"), FieldSuccess: c("status"),
				FieldLatency: c("request_duration_ms:ms"), FieldCost: c("spend:usd"),
				FieldRoute: c("request_tags"), FieldUser: c("end_user", "user"),
			},
		},
		{
			name: "litellm-payload", title: "LiteLLM standard logging payload", json: true,
			detect: [][]string{{"call_type", "response_cost", "startTime"}},
			fields: [numFields][]cand{
				FieldTime: c("startTime:unix_s"), FieldEnd: c("endTime:unix_s"),
				FieldModel: c("model_group", "model"), FieldInput: c("prompt_tokens"),
				FieldOutput: c("completion_tokens"), FieldSuccess: c("status"),
				FieldStatus:  c("error_information.error_code"),
				FieldError:   c("error_information.error_class", "error_str"),
				FieldLatency: c("response_time:s"), FieldCost: c("response_cost:usd"),
				FieldRoute: c("request_tags"),
			},
		},
		{
			name: "helicone", title: "Helicone request export", csv: true, json: true,
			detect: [][]string{{"request_created_at", "prompt_tokens"}, {"request_created_at", "delay_ms"}},
			fields: [numFields][]cand{
				FieldTime: c("request_created_at"), FieldModel: c("model", "request_model", "response_model"),
				FieldInput: c("prompt_tokens"), FieldCached: c("prompt_cache_read_tokens"),
				FieldCacheWrite: c("prompt_cache_write_tokens"),
				FieldOutput:     c("completion_tokens"), FieldStatus: c("response_status"),
				FieldLatency: c("delay_ms:ms"), FieldCost: c("costUSD:usd", "cost:usd"),
				FieldOrigin: c("country_code"),
			},
		},
		{
			name: "openrouter-generation", title: "OpenRouter generation records", csv: true, json: true,
			detect: [][]string{{"created_at", "native_tokens_prompt"}, {"created_at", "tokens_prompt"}},
			fields: [numFields][]cand{
				FieldTime: c("created_at"), FieldModel: c("model"),
				FieldInput: c("native_tokens_prompt", "tokens_prompt"), FieldCached: c("native_tokens_cached"),
				FieldOutput:  c("native_tokens_completion", "tokens_completion"),
				FieldLatency: c("latency:ms"), FieldCost: c("total_cost:usd", "usage:usd"),
				FieldRoute: c("app_id"),
			},
		},
		{
			name: "openrouter-activity", title: "OpenRouter activity export (daily)", csv: true, json: true,
			detect: [][]string{{"date", "requests", "prompt_tokens", "completion_tokens"}},
			bucket: 24 * time.Hour,
			fields: [numFields][]cand{
				FieldTime: c("date"), FieldModel: c("model"), FieldInput: c("prompt_tokens"),
				FieldOutput: c("completion_tokens"), FieldRequests: c("requests"), FieldCost: c("usage:usd"),
			},
		},
		{
			name: "portkey", title: "Portkey log export", csv: true, json: true,
			detect: [][]string{{"req_units", "res_units", "created_at"}},
			fields: [numFields][]cand{
				FieldTime: c("created_at"), FieldModel: c("ai_model"), FieldInput: c("req_units"),
				FieldOutput: c("res_units"), FieldStatus: c("response_status_code"),
				FieldSuccess: c("is_success"), FieldLatency: c("response_time:ms"), FieldCost: c("cost:cents"),
				FieldRoute: c("metadata._prompt_slug", "prompt_slug"),
			},
		},
		{
			name: "cloudflare", title: "Cloudflare AI Gateway logs", csv: true, json: true,
			detect: [][]string{{"tokens_in", "tokens_out", "created_at"}},
			fields: [numFields][]cand{
				FieldTime: c("created_at"), FieldModel: c("model"), FieldInput: c("tokens_in"),
				FieldOutput: c("tokens_out"), FieldStatus: c("status_code"), FieldSuccess: c("success"),
				FieldLatency: c("duration:ms"), FieldCost: c("cost:usd"),
			},
		},
		{
			// Spans of OpenTelemetry's GenAI semantic conventions, read from
			// OTLP JSON (one export request, or a collector file exporter's
			// JSON Lines) by otlpSource, which writes each model call span as
			// a flat row: its attributes under their keys, the resource's
			// under resource., its status as otel.status_code.
			name: "otel-genai", title: "OpenTelemetry GenAI spans (OTLP JSON)", json: true,
			detect: [][]string{{"resourceSpans"}, {"resource_spans"}},
			fields: [numFields][]cand{
				FieldTime: c("startTimeUnixNano:unix_ns"), FieldEnd: c("endTimeUnixNano:unix_ns"),
				FieldModel:  c("gen_ai.request.model", "gen_ai.response.model"),
				FieldInput:  c("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
				FieldCached: c("gen_ai.usage.cache_read.input_tokens"), FieldCacheWrite: c("gen_ai.usage.cache_creation.input_tokens"),
				FieldOutput: c("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
				FieldStatus: c("http.response.status_code"), FieldSuccess: c("otel.status_code"),
				FieldError: c("error.type", "otel.status_description"),
				FieldUser:  c("user.id", "enduser.id"),
			},
		},
		{
			// Observations exported from Langfuse's tables (CSV, JSON or
			// JSON Lines): inputUsage sums every input usage key, cached ones
			// included; usageDetails holds the cache reads.
			name: "langfuse", title: "Langfuse observations export", csv: true, json: true, jsonCells: true,
			detect: [][]string{{"traceId", "startTime", "usageDetails"}, {"traceId", "startTime", "inputUsage"}, {"traceId", "startTime", "promptTokens"}},
			calls:  &callRule{path: "type", values: []string{"GENERATION", "EMBEDDING"}, left: "spans, events, agents, tools and other observations"},
			failOn: &failRule{path: "level", values: []string{"ERROR"}, text: "statusMessage"},
			fields: [numFields][]cand{
				FieldTime: c("startTime"), FieldEnd: c("endTime"), FieldModel: c("model"),
				FieldInput:      c("inputUsage", "promptTokens", "usage.input"),
				FieldCached:     c("usageDetails.input_cached_tokens", "usageDetails.input_cache_read", "usageDetails.cache_read_input_tokens"),
				FieldCacheWrite: c("usageDetails.input_cache_creation", "usageDetails.input_cache_write"),
				FieldOutput:     c("outputUsage", "completionTokens", "usage.output"),
				FieldCost:       c("totalCost:usd", "calculatedTotalCost:usd"),
				FieldRoute:      c("traceName"), FieldUser: c("userId"),
			},
		},
		{
			// LangSmith runs, as the SDK's list_runs writes them: model calls
			// are the llm and embedding runs; chains and tools around them
			// repeat their tokens.
			name: "langsmith", title: "LangSmith runs", json: true,
			detect: [][]string{{"run_type", "start_time", "trace_id"}, {"run_type", "start_time", "dotted_order"}},
			calls:  &callRule{path: "run_type", values: []string{"llm", "embedding"}, left: "chain, tool, retriever and other runs, whose tokens are those of the llm runs inside them"},
			fields: [numFields][]cand{
				FieldTime: c("start_time"), FieldEnd: c("end_time"),
				FieldModel: c("extra.metadata.ls_model_name", "extra.invocation_params.model", "extra.invocation_params.model_name"),
				FieldInput: c("prompt_tokens"), FieldCached: c("prompt_token_details.cache_read"),
				FieldCacheWrite: c("prompt_token_details.cache_creation"),
				FieldOutput:     c("completion_tokens"), FieldError: c("error"), FieldCost: c("total_cost:usd"),
			},
		},
		{
			// LiteLLM's LiteLLM_ErrorLogs table: every row is a failed request.
			name: "litellm-errorlogs", title: "LiteLLM ErrorLogs export", csv: true, json: true, allFail: true,
			detect: [][]string{{"exception_type", "exception_string", "startTime"}},
			fields: [numFields][]cand{
				FieldTime: c("startTime"), FieldEnd: c("endTime"),
				FieldModel: c("model_group", "litellm_model_name"), FieldStatus: c("status_code"),
				FieldError: c("exception_type", "exception_string"),
			},
		},
		{
			// LiteLLM's daily spend tables (LiteLLM_DailyUserSpend, Team,
			// Organization, EndUser, Agent, Tag), or its /user/daily/activity
			// pages, whose results are days: each row counts a day's requests
			// and failed requests of one model and key.
			name: "litellm-daily", title: "LiteLLM daily spend (with failed requests)", csv: true, json: true,
			detect:  [][]string{{"date", "api_requests", "failed_requests"}, {"results", "metadata.total_failed_requests"}},
			bucket:  24 * time.Hour,
			explode: "results",
			calls:   &callRule{path: "mcp_namespaced_tool_name", left: "MCP tool calls"},
			fields: [numFields][]cand{
				FieldTime: c("date"), FieldModel: c("model_group", "model"),
				FieldInput: c("prompt_tokens", "metrics.prompt_tokens"), FieldCached: c("cache_read_input_tokens", "metrics.cache_read_input_tokens"),
				FieldCacheWrite: c("cache_creation_input_tokens", "metrics.cache_creation_input_tokens"),
				FieldOutput:     c("completion_tokens", "metrics.completion_tokens"),
				FieldRequests:   c("api_requests", "metrics.api_requests"), FieldFailed: c("failed_requests", "metrics.failed_requests"),
				FieldCost: c("spend:usd", "metrics.spend:usd"), FieldRoute: c("tag"),
				FieldUser: c("user_id", "end_user_id"),
			},
		},
		{
			// A Kong log plugin's entries (file-log, http-log, ...) for a
			// route with AI Proxy logging statistics: ai.proxy since Kong 3.8,
			// ai.ai-proxy before, whose usage keys were once singular.
			name: "kong-ai-proxy", title: "Kong AI Proxy log entries", json: true,
			detect: [][]string{{"started_at", "ai.proxy.meta.request_model"}, {"started_at", "ai.ai-proxy.meta.request_model"},
				{"started_at", "ai.proxy.usage.prompt_tokens"}, {"started_at", "ai.ai-proxy.usage.prompt_tokens"}, {"started_at", "ai.ai-proxy.usage.prompt_token"}},
			fields: [numFields][]cand{
				FieldTime:   c("started_at:unix_ms"),
				FieldModel:  c("ai.proxy.meta.request_model", "ai.ai-proxy.meta.request_model"),
				FieldInput:  c("ai.proxy.usage.prompt_tokens", "ai.ai-proxy.usage.prompt_tokens", "ai.ai-proxy.usage.prompt_token"),
				FieldOutput: c("ai.proxy.usage.completion_tokens", "ai.ai-proxy.usage.completion_tokens", "ai.ai-proxy.usage.completion_token"),
				FieldStatus: c("response.status"), FieldLatency: c("latencies.request:ms"),
				FieldCost:  c("ai.proxy.usage.cost:usd", "ai.ai-proxy.usage.cost:usd"),
				FieldRoute: c("route.name", "service.name"), FieldUser: c("consumer.username", "consumer.custom_id", "consumer.id"),
			},
		},
		{
			// Amazon Bedrock model invocation logs (CloudWatch Logs or S3):
			// input counts leave cache reads and writes out, as Converse's do.
			name: "bedrock-invocation", title: "Amazon Bedrock model invocation logs", json: true, cacheOutsideInput: true,
			detect: [][]string{{"schemaType", "modelId", "requestId"}, {"schemaType", "modelId", "input.inputTokenCount"}},
			fields: [numFields][]cand{
				FieldTime: c("timestamp"), FieldModel: c("modelId"), FieldInput: c("input.inputTokenCount"),
				FieldCached: c("input.cacheReadInputTokenCount"), FieldCacheWrite: c("input.cacheWriteInputTokenCount"),
				FieldOutput: c("output.outputTokenCount"), FieldError: c("errorCode"),
				FieldLatency: c("output.outputBodyJson.metrics.latencyMs:ms"), FieldUser: c("identity.arn"),
			},
		},
		{
			name: "anthropic-usage", title: "Anthropic Messages responses (usage)", json: true,
			detect:            [][]string{{"stop_reason", "usage.input_tokens"}, {"usage.cache_read_input_tokens"}},
			cacheOutsideInput: true,
			fields: [numFields][]cand{
				FieldTime:  c("created_at", "timestamp", "created"),
				FieldModel: c("model"), FieldInput: c("usage.input_tokens"),
				FieldCached: c("usage.cache_read_input_tokens"), FieldCacheWrite: c("usage.cache_creation_input_tokens"),
				FieldOutput: c("usage.output_tokens"), FieldError: c("error.type"),
			},
		},
		{
			name: "openai-usage", title: "OpenAI-style responses with usage (Chat Completions, Responses, Batch output)", json: true,
			detect: [][]string{{"usage.prompt_tokens"}, {"usage.input_tokens"}, {"response.body.usage.prompt_tokens"},
				{"response.body.usage.input_tokens"}, {"response.jsonBody.usage.prompt_tokens"}},
			fields: [numFields][]cand{
				FieldTime: c("created:unix_s", "created_at", "response.body.created:unix_s",
					"response.body.created_at", "response.jsonBody.created:unix_s", "timestamp"),
				FieldModel: c("model", "response.body.model", "response.jsonBody.model"),
				FieldInput: c(usageIn...), FieldCached: c(usageCached...), FieldOutput: c(usageOut...),
				FieldStatus: c("response.status_code", "response.status", "status_code"),
				FieldError:  c("error.code", "error.type", "response.body.error.code", "response.jsonBody.error.code"),
				FieldCost:   c("usage.cost:usd"),
			},
		},
		{
			name: "azure-trace", title: "Azure LLM inference trace", csv: true,
			detect: [][]string{{"TIMESTAMP", "ContextTokens", "GeneratedTokens"}},
			fields: [numFields][]cand{
				FieldTime: c("TIMESTAMP:iso8601"), FieldInput: c("ContextTokens"), FieldOutput: c("GeneratedTokens"),
			},
		},
		{
			name: "burstgpt", title: "BurstGPT trace", csv: true, relative: true, zeroOutputFails: true,
			detect: [][]string{{"Timestamp", "Model", "Request tokens", "Response tokens"}},
			fields: [numFields][]cand{
				FieldTime: c("Timestamp:offset_s"), FieldModel: c("Model"), FieldInput: c("Request tokens"),
				FieldOutput: c("Response tokens"), FieldLatency: c("Elapsed time:s"), FieldRoute: c("Log Type"),
				FieldUser: c("Session ID"),
			},
		},
		{
			name: "mooncake", title: "Mooncake trace", json: true, relative: true,
			detect: [][]string{{"timestamp", "input_length", "output_length"}},
			fields: [numFields][]cand{
				FieldTime: c("timestamp:offset_ms"), FieldInput: c("input_length"), FieldOutput: c("output_length"),
			},
		},
	}
}

// genericFormats are the container names a user can force without a preset;
// they need a mapping.
var genericFormats = []string{"csv", "jsonl", "json"}

// FormatNames lists what --format accepts besides "auto".
func FormatNames() []string {
	names := slices.Clone(genericFormats)
	for _, p := range presets() {
		names = append(names, p.name)
	}
	return names
}

func presetByName(name string) (preset, bool) {
	for _, p := range presets() {
		if p.name == name {
			return p, true
		}
	}
	return preset{}, false
}

// detectPreset picks the first preset whose keys are all present.
func detectPreset(keys map[string]bool, isJSON bool) (preset, bool) {
	for _, p := range presets() {
		if (isJSON && !p.json) || (!isJSON && !p.csv) {
			continue
		}
		for _, set := range p.detect {
			all := true
			for _, k := range set {
				if !keys[k] {
					all = false
					break
				}
			}
			if all {
				return p, true
			}
		}
	}
	return preset{}, false
}

// checkFormat refuses a --format value gatewise does not know.
func checkFormat(name string) error {
	if name == "" || name == "auto" || slices.Contains(genericFormats, name) {
		return nil
	}
	if _, ok := presetByName(name); ok {
		return nil
	}
	return fmt.Errorf("unknown format %q (auto, %s)", name, strings.Join(FormatNames(), ", "))
}
