package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gatewise/pricing"
)

// examplePaths lists the shipped example files, which every test treats as
// known-good input.
func examplePaths(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob("../testdata/examples/*.yaml")
	if err != nil || len(paths) < 3 {
		t.Fatalf("examples: %v, %v", paths, err)
	}
	return paths
}

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("../testdata/examples/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestLoadExamples(t *testing.T) {
	t.Parallel()
	for _, path := range examplePaths(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(data, pricing.Default()); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
	}
}

func TestLoadMultiRegion(t *testing.T) {
	t.Parallel()
	s, err := Load(readExample(t, "multi-region"), pricing.Default())
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", s.Name, "Support assistant, 5 providers, 3 regions"},
		{"horizon", s.HorizonDays, 30},
		{"providers", len(s.Providers), 5},
		{"openai regions", s.Providers[0].Regions, []string{"us", "eu"}},
		{"openai limits", *s.Providers[0].RateLimits, RateLimits{RPM: 10000, TPM: 2000000}},
		{"anthropic limits", s.Providers[1].RateLimits, (*RateLimits)(nil)},
		{"routes", len(s.Routes), 3},
		{"primary", s.Routes[0].Models[0], "claude-sonnet-4.5"},
		{"chat share", s.Routes[0].Share, 0.6},
		{"cached", s.Routes[0].CachedInputShare, 0.4},
		{"summarize input", s.Routes[1].InputTokens, 3000},
		{"requests", s.Traffic.RequestsPerDay, 400000.0},
		{"eu origin", s.Traffic.Origin["eu"], 0.35},
		{"residency", s.Compliance.DataResidency, map[string]string{"eu": "eu"}},
		{"soc2", s.Compliance.SOC2, true},
		{"priorities", s.Priorities, Priorities{Failover: 0.5, Cost: 0.3, Observability: 0.2}},
		{"team", s.Team, Team{Engineers: 8, OpsHourlyUSD: 120}},
		{"needs", len(s.ObservabilityNeeds), 5},
		{"gateways", s.Gateways, GatewayIDs()},
		{"scenarios", len(s.Scenarios), 5},
		{"second scenario", s.Scenarios[1], Scenario{Name: "provider-outage"}},
		{"trials", s.Simulation.Trials, 10000},
		{"seed", s.Simulation.Seed, uint64(42)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	s, err := Parse([]byte("name: minimal\nproviders: [{id: openai, regions: [us]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{
		Name:        "minimal",
		HorizonDays: DefaultHorizonDays,
		Providers:   []Provider{{ID: "openai", Regions: []string{"us"}}},
		Priorities:  Priorities{Failover: 0.4, Cost: 0.4, Observability: 0.2},
		Team:        Team{Engineers: 1},
		Gateways:    GatewayIDs(),
		Scenarios:   []Scenario{{Name: "baseline"}},
		Simulation:  Simulation{Trials: DefaultTrials, Seed: DefaultSeed},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Parse = %+v\nwant %+v", s, want)
	}
	again := s
	again.ApplyDefaults()
	if !reflect.DeepEqual(again, s) {
		t.Error("ApplyDefaults is not idempotent")
	}
}

func TestParseForms(t *testing.T) {
	t.Parallel()
	yamlSpec, err := Parse(readExample(t, "eu-regulated"))
	if err != nil {
		t.Fatal(err)
	}
	jsonText, err := json.MarshalIndent(yamlSpec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"json", jsonText},
		{"json with leading space and BOM", append([]byte("\uFEFF \n"), jsonText...)},
		{"yaml with BOM", append([]byte("\uFEFF"), readExample(t, "eu-regulated")...)},
	}
	for _, tt := range tests {
		got, err := Parse(tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, yamlSpec) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, yamlSpec)
		}
	}
	want := Scenario{Name: "region-outage", Provider: "azure-openai", Region: "swedencentral", DurationHours: 6}
	if yamlSpec.Scenarios[1] != want {
		t.Errorf("object scenario = %+v, want %+v", yamlSpec.Scenarios[1], want)
	}
}

// multiRegion returns the documented example with one edit, for bad-input cases.
func multiRegion(t testing.TB, old, replacement string) []byte {
	t.Helper()
	src := string(readExample(t, "multi-region"))
	if !strings.Contains(src, old) {
		t.Fatalf("example has no %q", old)
	}
	return []byte(strings.Replace(src, old, replacement, 1))
}

func TestLoadProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want Problems
	}{
		{
			name: "unknown key with suggestion",
			data: multiRegion(t, "    models: [gpt-4.1-mini,", "    modles: [gpt-4.1-mini,"),
			// The route is still validated without the misspelled key.
			want: Problems{
				{Path: "routes[1].modles", Line: 24, Column: 5, Message: `unknown key (did you mean "models"?)`},
				{Path: "routes[1].models", Line: 22, Column: 5, Message: "is required"},
			},
		},
		{
			name: "unknown top-level key without suggestion",
			data: multiRegion(t, "horizon_days: 30", "horizon_days: 30\nbudget: 100"),
			want: Problems{{Path: "budget", Line: 3, Column: 1, Message: "unknown key"}},
		},
		{
			name: "YAML syntax error",
			data: multiRegion(t, "horizon_days: 30", "horizon_days: [30"),
			want: Problems{{Line: 2, Message: "did not find expected ',' or ']' in the list that starts on this line"}},
		},
		{
			name: "YAML tab indentation",
			data: []byte("name: x\nproviders:\n\t- id: openai\n"),
			want: Problems{{Line: 3, Message: "found character that cannot start any token (indent with spaces, not tabs)"}},
		},
		{
			name: "JSON syntax error",
			data: []byte("{\n  \"name\": \"x\",\n  \"horizon_days\": 30,,\n}"),
			want: Problems{{Line: 3, Column: 22, Message: "JSON: invalid character ',' looking for beginning of object key string"}},
		},
		{
			name: "JSON unknown key",
			data: []byte("{\n  \"name\": \"x\",\n  \"providers\": [{\"id\": \"openai\", \"regoins\": [\"us\"]}]\n}"),
			want: Problems{
				{Path: "providers[0].regoins", Line: 3, Column: 34, Message: `unknown key (did you mean "regions"?)`},
				{Path: "providers[0].regions", Line: 3, Column: 17, Message: "is required"},
				{Path: "routes", Message: "is required"},
				{Path: "traffic.requests_per_day", Message: "must be greater than 0"},
				{Path: "traffic.origin", Message: "is required"},
			},
		},
		{
			name: "string where a number is expected",
			data: multiRegion(t, "requests_per_day: 400000", "requests_per_day: lots"),
			want: Problems{{Path: "traffic.requests_per_day", Line: 33, Column: 21, Message: `must be a number, not "lots"`}},
		},
		{
			name: "fraction where a whole number is expected",
			data: multiRegion(t, "trials: 10000", "trials: 1.5"),
			want: Problems{{Path: "simulation.trials", Line: 48, Column: 22, Message: "must be a whole number, not 1.5"}},
		},
		{
			name: "negative seed",
			data: multiRegion(t, "seed: 42", "seed: -3"),
			want: Problems{{Path: "simulation.seed", Line: 48, Column: 35, Message: "must be zero or more"}},
		},
		{
			name: "list where a number is expected",
			data: multiRegion(t, "horizon_days: 30", "horizon_days: [30]"),
			want: Problems{{Path: "horizon_days", Line: 2, Column: 15, Message: "must be a whole number, not a list"}},
		},
		{
			name: "mapping where a list is expected",
			data: multiRegion(t, "regions: [us, eu]", "regions: {us: 1}"),
			want: Problems{{Path: "providers[0].regions", Line: 5, Column: 14, Message: "must be a list, not a mapping"}},
		},
		{
			name: "number where a string is expected",
			data: multiRegion(t, "name: Support assistant, 5 providers, 3 regions", "name: 2026"),
			want: Problems{{Path: "name", Line: 1, Column: 7, Message: "must be a string, not 2026 (put it in quotes)"}},
		},
		{
			name: "yes is not a boolean",
			data: multiRegion(t, "soc2: true", "soc2: yes"),
			want: Problems{{Path: "compliance.soc2", Line: 39, Column: 9, Message: `must be true or false, not "yes"`}},
		},
		{
			name: "duplicate key",
			data: multiRegion(t, "horizon_days: 30", "horizon_days: 30\nhorizon_days: 31"),
			want: Problems{{Path: "horizon_days", Line: 3, Column: 1, Message: "duplicate key (first at line 2)"}},
		},
		{
			name: "several problems at once",
			data: multiRegion(t, "horizon_days: 30", "horizon_dayz: 30\nhorizon_days: x"),
			want: Problems{
				{Path: "horizon_dayz", Line: 2, Column: 1, Message: `unknown key (did you mean "horizon_days"?)`},
				{Path: "horizon_days", Line: 3, Column: 15, Message: `must be a whole number, not "x"`},
			},
		},
		{
			name: "unknown scenario key",
			data: multiRegion(t, "scenarios: [baseline,", "scenarios: [{name: latency-degradation, regoin: us}, baseline,"),
			want: Problems{{Path: "scenarios[0].regoin", Line: 47, Column: 41, Message: `unknown key (did you mean "region"?)`}},
		},
		{
			name: "infinite number",
			data: multiRegion(t, "diurnal_amplitude: 0.5", "diurnal_amplitude: .inf"),
			want: Problems{{Path: "traffic.diurnal_amplitude", Line: 35, Column: 22, Message: "must be a finite number"}},
		},
		{
			name: "number too large for a float",
			data: []byte("{\"name\": \"x\", \"traffic\": {\"requests_per_day\": 1e400}}"),
			want: Problems{
				{Path: "traffic.requests_per_day", Line: 1, Column: 47, Message: "is too large"},
				{Path: "providers", Message: "is required"},
				{Path: "routes", Message: "is required"},
				{Path: "traffic.origin", Line: 1, Column: 15, Message: "is required"},
			},
		},
		{
			name: "route shares sum to 0.9",
			data: multiRegion(t, "share: 0.6", "share: 0.5"),
			want: Problems{{Path: "routes", Line: 15, Column: 1, Message: "route shares add up to 0.9, they must add up to 1"}},
		},
		{
			name: "priorities do not sum to 1",
			data: multiRegion(t, "failover: 0.5", "failover: 0.6"),
			want: Problems{{Path: "priorities", Line: 43, Column: 1, Message: "the weights add up to 1.1, they must add up to 1"}},
		},
		{
			name: "negative tokens",
			data: multiRegion(t, "input_tokens: 600", "input_tokens: -600"),
			want: Problems{{Path: "routes[2].input_tokens", Line: 30, Column: 5, Message: "must not be negative"}},
		},
		{
			name: "unknown provider with suggestion",
			data: multiRegion(t, "id: aws-bedrock", "id: aws-bedrok"),
			want: Problems{{Path: "providers[2].id", Line: 9, Column: 5, Message: `unknown provider "aws-bedrok" (did you mean "aws-bedrock"?)`}},
		},
		{
			name: "unknown provider without suggestion",
			data: multiRegion(t, "id: aws-bedrock", "id: cohere"),
			want: Problems{{Path: "providers[2].id", Line: 9, Column: 5, Message: `unknown provider "cohere" (known: openai, anthropic, google-gemini, google-vertex, aws-bedrock, azure-openai, mistral)`}},
		},
		{
			name: "unknown region",
			data: multiRegion(t, "regions: [us, eu]", "regions: [us, mars]"),
			want: Problems{{Path: "providers[0].regions[1]", Line: 5, Column: 19, Message: `openai has no region "mars" (known: us, eu, au, in, jp)`}},
		},
		{
			name: "model not served",
			data: multiRegion(t, "  - id: google-vertex\n    regions: [us-central1, europe-west4]\n", ""),
			want: Problems{
				{Path: "routes[0].models[2]", Line: 16, Column: 42, Message: "gemini-2.5-pro is not served by any of your providers; it is served by google-gemini, google-vertex"},
				{Path: "routes[1].models[1]", Line: 22, Column: 28, Message: "gemini-2.5-flash is not served by any of your providers; it is served by google-gemini, google-vertex"},
			},
		},
		{
			name: "unknown model",
			data: multiRegion(t, "[claude-sonnet-4.5, gpt-4.1,", "[claude-sonnet-4.5, gpt-4.2,"),
			want: Problems{{Path: "routes[0].models[1]", Line: 18, Column: 33, Message: `unknown model "gpt-4.2" (did you mean "gpt-4.1"?)`}},
		},
		{
			name: "residency with no provider region in it",
			data: multiRegion(t, "data_residency: {eu: eu}", "data_residency: {eu: uk}"),
			want: Problems{{Path: "compliance.data_residency.eu", Line: 38, Column: 20, Message: "none of your provider regions is in uk"}},
		},
		{
			name: "missing fields point at their parent",
			data: []byte("name: x\nproviders:\n  - id: openai\nroutes:\n  - share: 1\n    models: [gpt-4.1]\ntraffic: {requests_per_day: 10, origin: {us: 1}}\n"),
			want: Problems{
				{Path: "providers[0].regions", Line: 3, Column: 5, Message: "is required"},
				{Path: "routes[0].name", Line: 5, Column: 5, Message: "is required"},
			},
		},
		{
			// A stated zero was saved as the 30-day default while the
			// form refused it.
			name: "horizon of zero days",
			data: multiRegion(t, "horizon_days: 30", "horizon_days: 0"),
			want: Problems{{Path: "horizon_days", Line: 2, Column: 1, Message: "must be at least 1"}},
		},
		{
			// Saved, then the run failed with "the traffic profile is
			// empty".
			name: "less than a request in the horizon",
			data: multiRegion(t, "requests_per_day: 400000", "requests_per_day: 1e-300"),
			want: Problems{{Path: "traffic.requests_per_day", Line: 33, Column: 3, Message: "must be at least one request in the 30-day horizon (0.03333 a day)"}},
		},
		{name: "empty file", data: []byte(" \n\t\n"), want: Problems{{Message: "the file is empty"}}},
		{name: "only comments", data: []byte("# nothing yet\n"), want: Problems{{Message: "the file is empty"}}},
		{name: "oversized file", data: bytes.Repeat([]byte("# padding\n"), maxFileSize/10+1), want: Problems{{Message: "the file is larger than 1 MiB"}}},
		{name: "NUL byte", data: []byte("name: a\nb\x00c"), want: Problems{{Line: 2, Column: 2, Message: "the file contains a NUL byte; it must be UTF-8 text"}}},
		{name: "invalid UTF-8", data: []byte("name: é\xff"), want: Problems{{Line: 1, Column: 8, Message: "the file is not valid UTF-8 text"}}},
		{name: "not a mapping", data: []byte("- a\n- b\n"), want: Problems{{Line: 1, Column: 1, Message: "the file must be a mapping of keys to values, starting with name: and providers:"}}},
		{name: "two documents", data: []byte("name: a\n---\nname: b\n"), want: Problems{{Line: 2, Column: 1, Message: "the file holds more than one YAML document; keep only the first"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tt.data, pricing.Default())
			var got Problems
			if !errors.As(err, &got) {
				t.Fatalf("Load error = %v, want Problems", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Path: "routes[1].modles", Line: 12, Column: 5, Message: "unknown key"}, "line 12, column 5: routes[1].modles: unknown key"},
		{Problem{Path: "routes[1].share", Message: "must be greater than 0"}, "routes[1].share: must be greater than 0"},
		{Problem{Line: 3, Message: "did not find expected key"}, "line 3: did not find expected key"},
		{Problem{Message: "the file is empty"}, "the file is empty"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	ps := Problems{tests[0].p, tests[1].p}
	if got, want := ps.Error(), tests[0].want+"; "+tests[1].want; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, path := range examplePaths(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		s, err := Parse(data)
		if err != nil {
			f.Fatal(err)
		}
		j, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j)
	}
	f.Add([]byte("{\"name\": 1e400, \"scenarios\": [\"baseline\", {\"name\": \"x\"}]}"))
	f.Add([]byte("a: &a [*a]\nname: *a\n"))
	f.Add(aliasBomb(120))
	f.Add([]byte("name: x\nscenarios: [{name: provider-outage, error_rate: 0.25, duration_hours: 15}, {name: provider-outage, provider: openai}, {name: rate-limit-storm, multiplier: 2}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Parse error is not Problems: %v", err)
			}
			return
		}
		out, err := s.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("reparse of\n%s\nfailed: %v", out, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip changed the spec:\n got %#v\nwant %#v\nyaml:\n%s", back, s, out)
		}
		_ = s.Validate(pricing.Default())
	})
}

// aliasBomb is a file whose aliases stand for n×n provider regions: a
// kilobyte for n = 120, a third of a megabyte for n = 60,000.
func aliasBomb(n int) []byte {
	var b bytes.Buffer
	b.WriteString("name: x\nr: &r [eu")
	b.WriteString(strings.Repeat(",eu", n-1))
	b.WriteString("]\np: &p {id: openai, regions: *r}\nproviders: [*p")
	b.WriteString(strings.Repeat(",*p", n-1))
	b.WriteString("]\n")
	return b.Bytes()
}

// TestParseHostileInput feeds Parse files built to hurt: each comes back as
// problems, with a line where the problem has one.
func TestParseHostileInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want Problem
	}{
		{"gzip", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), Problem{Message: "the file is gzip-compressed; decompress it and give the YAML or JSON text"}},
		{"a line longer than the limit", bytes.Repeat([]byte("x"), maxFileSize+1), Problem{Message: "the file is larger than 1 MiB"}},
		{"JSON nested 100,000 deep", []byte(`{"name": ` + strings.Repeat("[", 100_000)), Problem{Line: 1, Column: 10009, Message: "JSON: invalid character '[' exceeded max depth"}},
		{"YAML flow nested 100,000 deep", []byte("name: " + strings.Repeat("[", 100_000)), Problem{Line: 1, Message: "lists and mappings nest more than 10000 levels deep"}},
		// The YAML scanner names the line of the key the nesting is under.
		{"YAML block nested 100,000 deep", []byte("name: x\nproviders:\n" + strings.Repeat("- ", 100_000) + "x\n"), Problem{Line: 2, Message: "lists and mappings nest more than 10000 levels deep"}},
		// Each provider is 123 values through aliases (itself, its id, its
		// list of regions and the 120 regions): 81 make 9,963, the next
		// adds 3 before its regions, and the bound falls on the 35th
		// region, written at column 110 of the anchored list.
		{"alias bomb", aliasBomb(120), Problem{Path: "providers[81].regions[34]", Line: 2, Column: 110, Message: "aliases make the file stand for more than 10000 values; write the values out instead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.data)
			var got Problems
			if !errors.As(err, &got) {
				t.Fatalf("Parse error = %v, want Problems", err)
			}
			if !slices.Contains(got, tt.want) {
				t.Errorf("problems:\n got %#v\nwant one %#v", got, tt.want)
			}
		})
	}
}

// TestParseAliasBombMemory parses a third of a megabyte whose aliases stand
// for 3.6 billion regions. Walking them would never end; the walk stops at
// maxAliasValues, within a generous bound on memory.
func TestParseAliasBombMemory(t *testing.T) {
	data := aliasBomb(60_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse(data)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "aliases make the file stand for more than 10000 values") {
		t.Fatalf("err = %v, want the alias bound", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte file: %d MiB allocated", len(data), alloc>>20)
	if alloc > 256<<20 {
		t.Errorf("allocated %d MiB, more than 256", alloc>>20)
	}
}

// BenchmarkParseHostile parses the hostile files above; with -benchmem,
// B/op is what each costs.
func BenchmarkParseHostile(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"alias_bomb_3.6e9_values", aliasBomb(60_000)},
		{"JSON_nested_100000", []byte(`{"name": ` + strings.Repeat("[", 100_000))},
		{"YAML_nested_100000", []byte("name: " + strings.Repeat("[", 100_000))},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(c.data); err == nil {
					b.Fatal("parsed")
				}
			}
		})
	}
}
