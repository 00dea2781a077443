package traffic

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"gatewise/pricing"
)

// catalogKnows is simulator.KnownModel over the embedded catalog.
func catalogKnows(m string) bool {
	cat := pricing.Default()
	if _, ok := cat.Model(m); ok {
		return true
	}
	_, ok := cat.Model(NormalizeModel(m))
	return ok
}

// TestBedrockModelIDs reads each shape of id Bedrock writes (the shapes of
// the modelIdentifier pattern in the Bedrock API reference, see
// preset_bedrock.go) as the catalog's name.
func TestBedrockModelIDs(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]string{
		"anthropic.claude-sonnet-4-5-20250929-v1:0":                                                        "claude-sonnet-4.5",
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0":                                                     "claude-sonnet-4.5",
		"eu.anthropic.claude-haiku-4-5-20251001-v1:0":                                                      "claude-haiku-4.5",
		"apac.anthropic.claude-sonnet-4-5-20250929-v1:0":                                                   "claude-sonnet-4.5",
		"global.anthropic.claude-opus-4-5-20251101-v1:0":                                                   "claude-opus-4.5",
		"jp.anthropic.claude-sonnet-4-6":                                                                   "claude-sonnet-4.6",
		"US.Anthropic.Claude-Opus-4-6-v1":                                                                  "claude-opus-4.6",
		"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-1-20250805-v1:0":              "claude-opus-4.1",
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-6":          "claude-sonnet-4.6",
		"arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.amazon.nova-lite-v1:0": "nova-lite",
		"bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0":                                              "claude-haiku-4.5", // LiteLLM's model column
		// Ids the catalog lists for the aws-bedrock host, whose names the
		// plain reading would not give.
		"meta.llama3-3-70b-instruct-v1:0":       "llama-3.3-70b",
		"mistral.mistral-large-3-675b-instruct": "mistral-large",
		"openai.gpt-oss-120b-1:0":               "gpt-oss-120b",
		// Models the catalog does not have: the plain reading, which no
		// route or price will match unless one names that model.
		"us.anthropic.claude-3-7-sonnet-20250219-v1:0": "claude-3.7-sonnet",
		"anthropic.claude-3-5-haiku-20241022-v1:0":     "claude-3.5-haiku",
		"amazon.titan-text-express-v1":                 "titan-text-express",
		"anthropic.claude-v2:1":                        "claude-v2",
		// Not Bedrock's: unchanged by it.
		"gpt-4.1":                  "gpt-4.1",
		"openai/gpt-4o-2024-08-06": "gpt-4o",
		"gemini-2.5-pro":           "gemini-2.5-pro",
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6": "a1b2c3d4e5f6",
	} {
		if got := NormalizeModel(id); got != want {
			t.Errorf("NormalizeModel(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestBedrockCatalogIDs: every id the catalog gives a model on Bedrock,
// alone or behind a US profile, reads back as that model, so a log's id
// finds its route and price whichever vendor made the model.
func TestBedrockCatalogIDs(t *testing.T) {
	t.Parallel()
	n := 0
	for _, m := range pricing.Default().Models() {
		for _, o := range m.Offers {
			if o.Provider != "aws-bedrock" {
				continue
			}
			n++
			for _, id := range []string{o.ModelID, "us." + o.ModelID} {
				if got, want := NormalizeModel(id), NormalizeModel(m.ID); got != want {
					t.Errorf("%s on Bedrock, %q: read as %q, want %q", m.ID, id, got, want)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("%d Bedrock offers in the catalog", n)
	}
}

// bedrockRow is a row of a Bedrock invocation log (the schema of
// testdata/logs/bedrock_invocations.jsonl) for the i-th request, of model.
func bedrockRow(i int, model string) string {
	return fmt.Sprintf(`{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2026-10-12T10:%02d:00Z","accountId":"123456789012",`+
		`"identity":{"arn":"arn:aws:sts::123456789012:assumed-role/support-bot-task/ecs-1"},"region":"us-east-1",`+
		`"requestId":"6b1e2c9a-1d7f-4c55-9a0e-3f4d5e6f70%02d","operation":"Converse","modelId":%q,`+
		`"input":{"inputContentType":"application/json","inputTokenCount":%d},"output":{"outputContentType":"application/json","outputTokenCount":%d}}`+"\n",
		i, i, model, 100+i, 10+i)
}

// TestBedrockLogModels reads a Bedrock invocation log with a row per id
// shape: each row finds the route of the catalog model it names, and the
// two ids that name no catalog model (an application inference profile,
// whose id is opaque, and Claude 3.7 Sonnet) are reported as unknown under
// the names the log gives them.
func TestBedrockLogModels(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	for i, id := range []string{
		"anthropic.claude-sonnet-4-5-20250929-v1:0",
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0",
		"eu.anthropic.claude-haiku-4-5-20251001-v1:0",
		"apac.anthropic.claude-sonnet-4-5-20250929-v1:0",
		"global.anthropic.claude-opus-4-5-20251101-v1:0",
		"jp.anthropic.claude-sonnet-4-6",
		"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-1-20250805-v1:0",
		"arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
		"arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
		"meta.llama3-3-70b-instruct-v1:0",
		"us.amazon.nova-pro-v1:0",
		"openai.gpt-oss-120b-1:0",
		"us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
	} {
		log.WriteString(bedrockRow(i, id))
	}
	o := ReadOptions{Known: catalogKnows, RouteBy: RouteByModel, Routes: []Route{
		{Name: "chat", Models: []string{"claude-sonnet-4.5", "claude-sonnet-4.6", "claude-haiku-4.5"}},
		{Name: "hard", Models: []string{"claude-opus-4.5", "claude-opus-4.1"}},
		{Name: "open", Models: []string{"llama-3.3-70b", "gpt-oss-120b", "nova-pro"}},
	}}
	_, s := readString(t, log.String(), o)
	if s.Format != "bedrock-invocation" || s.Requests != 14 {
		t.Fatalf("%s, %d requests", s.Format, s.Requests)
	}
	routes := map[string]int64{}
	for _, r := range s.Routes {
		routes[r.Name] = r.Requests
	}
	// chat: sonnet 4.5 five ways, haiku 4.5, sonnet 4.6; hard: opus 4.5 and
	// 4.1; open: llama, nova, gpt-oss; other: the two unknown.
	if routes["chat"] != 7 || routes["hard"] != 2 || routes["open"] != 3 || routes["other"] != 2 {
		t.Errorf("routes %v", routes)
	}
	want := "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6,us.anthropic.claude-3-7-sonnet-20250219-v1:0"
	if got := strings.Join(s.UnknownModels, ","); got != want {
		t.Errorf("unknown models %s, want %s", got, want)
	}
	for _, m := range s.Models {
		if m.Known == nil || *m.Known == strings.Contains(want, m.Name) {
			t.Errorf("model %s: known %v", m.Name, m.Known)
		}
	}

	// The sample of the preset's test: its Claude Sonnet 4.5 and Nova Lite
	// ids are the catalog's; Claude 3.5 Haiku, behind a US profile's ARN,
	// is not in it.
	data, err := os.ReadFile("testdata/logs/bedrock_invocations.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	_, s = readString(t, string(data), ReadOptions{Known: catalogKnows})
	if got := strings.Join(s.UnknownModels, ","); got != "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0" {
		t.Errorf("sample: unknown models %s", got)
	}
}
