package simulator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestYAMLRoundTrip(t *testing.T) {
	t.Parallel()
	for _, path := range examplePaths(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out, err := s.YAML()
		if err != nil {
			t.Fatalf("%s: YAML: %v", path, err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("%s: reparse: %v\n%s", path, err, out)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("%s: YAML round trip changed the spec:\n got %+v\nwant %+v", filepath.Base(path), back, s)
		}
		again, err := back.YAML()
		if err != nil || string(again) != string(out) {
			t.Errorf("%s: YAML is not canonical: second pass differs (%v)", filepath.Base(path), err)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, path := range examplePaths(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		j, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Spec
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("%s: JSON round trip changed the spec:\n got %+v\nwant %+v", filepath.Base(path), back, s)
		}
	}
}

func TestScenarioEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scenario Scenario
		yaml     string
		json     string
	}{
		{"simple", Scenario{Name: "baseline"}, "baseline\n", `"baseline"`},
		{
			"with parameters",
			Scenario{Name: "provider-outage", Provider: "openai", DurationHours: 4},
			"name: provider-outage\nprovider: openai\nduration_hours: 4\n",
			`{"name":"provider-outage","provider":"openai","duration_hours":4}`,
		},
	}
	for _, tt := range tests {
		y, err := yaml.Marshal(tt.scenario)
		if err != nil || string(y) != tt.yaml {
			t.Errorf("%s: yaml.Marshal = %q, %v; want %q", tt.name, y, err, tt.yaml)
		}
		var fromYAML Scenario
		if err := yaml.Unmarshal(y, &fromYAML); err != nil || fromYAML != tt.scenario {
			t.Errorf("%s: yaml.Unmarshal = %+v, %v", tt.name, fromYAML, err)
		}
		j, err := json.Marshal(tt.scenario)
		if err != nil || string(j) != tt.json {
			t.Errorf("%s: json.Marshal = %s, %v; want %s", tt.name, j, err, tt.json)
		}
		var fromJSON Scenario
		if err := json.Unmarshal(j, &fromJSON); err != nil || fromJSON != tt.scenario {
			t.Errorf("%s: json.Unmarshal = %+v, %v", tt.name, fromJSON, err)
		}
	}
}

func TestScenarioJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input, want string
	}{
		{`{"name": "region-outage", "regoin": "us"}`, `unknown field "regoin"`},
		{`42`, "a scenario must be a name or an object"},
		{`["baseline"]`, "a scenario must be a name or an object"},
	}
	for _, tt := range tests {
		var s Scenario
		err := json.Unmarshal([]byte(tt.input), &s)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("json.Unmarshal(%s) error = %v, want one containing %q", tt.input, err, tt.want)
		}
	}
}

func TestYAMLShape(t *testing.T) {
	t.Parallel()
	s, err := Parse(readExample(t, "eu-regulated"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"name: Clinical notes assistant, EU only\n",
		"    regions: [swedencentral, francecentral]\n",
		"    rate_limits: {rpm: 3000, tpm: 500000}\n",
		"  origin: {eu: 1}\n",
		"  - baseline\n",
		"  - {name: region-outage, provider: azure-openai, region: swedencentral, duration_hours: 6}\n",
		"simulation: {trials: 10000, seed: 2026}\n",
	} {
		if !strings.Contains(string(out), line) {
			t.Errorf("canonical YAML lacks %q:\n%s", line, out)
		}
	}
}
