package traffic

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTinyLogWarned: one row used to read as "1,440 requests a day" with no
// word of doubt.
func TestTinyLogWarned(t *testing.T) {
	t.Parallel()
	in := "timestamp,model,input_tokens\n2026-03-02T10:00:00Z,gpt-4.1,10\n"
	_, s, err := Read(t.Context(), strings.NewReader(in), ReadOptions{Format: "csv", Mapping: Mapping{FieldTime: {Column: "timestamp"}, FieldModel: {Column: "model"}, FieldInput: {Column: "input_tokens"}}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"only 1 request: a count of n varies by about √n, so 1,440 requests a day is uncertain by about ±100 %; at least 100 requests (±10 %) make a daily volume worth trusting",
		"the log covers only 1 minute: runs repeat it to fill their horizon, so 1,440 requests a day assumes every hour of the day is like these; a log of at least a day includes the quiet and busy hours",
	}
	if !slices.Equal(s.Warnings, want) {
		t.Errorf("warnings:\n%q\nwant\n%q", s.Warnings, want)
	}
}

// TestLogOfADayNotWarned: a day of a few hundred requests is enough.
func TestLogOfADayNotWarned(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("timestamp,input_tokens\n")
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range 200 {
		b.WriteString(start.Add(time.Duration(i) * 8 * time.Minute).Format(time.RFC3339))
		b.WriteString(",5\n")
	}
	_, s, err := Read(t.Context(), strings.NewReader(b.String()), ReadOptions{Format: "csv", Mapping: Mapping{FieldTime: {Column: "timestamp"}}, Now: testNow})
	if err != nil || len(s.Warnings) != 0 {
		t.Errorf("err %v, warnings %q", err, s.Warnings)
	}
}

// TestOtherRouteAndUnknownModelsExplained: requests whose model no route
// lists were counted as "other" and simulated as the first route without a
// word; models the catalog does not price were listed without saying what
// happens to them.
func TestOtherRouteAndUnknownModelsExplained(t *testing.T) {
	t.Parallel()
	opts := ReadOptions{
		Routes:        []Route{{Name: "chat", Models: []string{"gpt-4.1"}}, {Name: "search", Models: []string{"gpt-4.1-mini"}}},
		RouteBy:       RouteByModel,
		OtherServedAs: "chat",
		Known:         func(m string) bool { return strings.HasPrefix(m, "gpt-") },
	}
	_, s, err := readFile(t, sharedFile(t, "burstgpt/BurstGPT_1_first400.csv"), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`400 requests (100 %) fit none of the architecture's routes, so the summary counts them as "other": no route lists their model (ChatGPT, GPT-4); the simulation serves them as route "chat", the architecture's first. Add their models to a route to place them yourself`,
		"2 models are not in the price catalog (ChatGPT, GPT-4). Their 400 requests are still simulated and priced like any other: gatewise prices each request at the models of the route it is served on, and the log's model names only pick the route",
	}
	if !slices.Equal(s.Notes, want) {
		t.Errorf("notes:\n%q\nwant\n%q", s.Notes, want)
	}
	if s.Models[0].Route != "other" {
		t.Errorf("models %+v", s.Models)
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, want string
	}{
		{FormatRate(926.045016077170430435), "926"},
		{FormatRate(1440), "1,440"},
		{FormatRate(464784.4), "464,784"},
		{FormatRate(2.46), "2.5"},
		{FormatRate(0.0423), "0.042"},
		{FormatRate(0), "0"},
		{Plural(1, "request"), "1 request"},
		{Plural(2400, "request"), "2,400 requests"},
		{Plural(1, "model is", "models are"), "1 model is"},
		{DurationWords(37269 * time.Second), "10.4 hours"},
		{DurationWords(time.Minute), "1 minute"},
		{DurationWords(time.Hour), "1 hour"},
		{DurationWords(121 * 24 * time.Hour), "121 days"},
		{percentOf(17, 400), "4.3 %"},
		{percentOf(1, 10000), "0.01 %"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestMappingTable: a JSON preset's summary names the spellings the file
// has, not all six it looks for.
func TestMappingTable(t *testing.T) {
	t.Parallel()
	_, s, err := readFile(t, "testdata/openai_usage.jsonl", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 900 characters before; fields the first row lacks (errors, cost)
	// still list every spelling, since later rows may have any.
	if len(s.Mapping) > 400 {
		t.Errorf("mapping is %d characters: %s", len(s.Mapping), s.Mapping)
	}
	var input MappedField
	for _, f := range s.Fields {
		if f.Field == "input_tokens" {
			input = f
		}
	}
	if !slices.Equal(input.Columns, []string{"usage.prompt_tokens"}) {
		t.Errorf("input_tokens from %v; fields %+v", input.Columns, s.Fields)
	}
}
