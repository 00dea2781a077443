package simulator

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"gatewise/pricing"
)

func TestValidateProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Spec)
		want Problems
	}{
		{
			name: "valid example",
			edit: func(*Spec) {},
		},
		{
			name: "ranges and required fields use file keys",
			edit: func(s *Spec) {
				s.Name = ""
				s.Routes[1].Share = 0
				s.Routes[2].Share = 0.4
				s.Traffic.RequestsPerDay = -1
				s.HorizonDays = 400
			},
			want: Problems{
				{Path: "name", Message: "is required"},
				{Path: "horizon_days", Message: "must be at most 366"},
				{Path: "routes[1].share", Message: "must be greater than 0"},
				{Path: "traffic.requests_per_day", Message: "must be greater than 0"},
			},
		},
		{
			name: "origin map keys are rendered with a dot",
			edit: func(s *Spec) {
				s.Traffic.Origin = map[string]float64{"us": 1.5, "eu": -0.5, "mars": 0}
			},
			want: Problems{
				{Path: "traffic.origin.eu", Message: "must not be negative"},
				{Path: "traffic.origin.mars", Message: `unknown origin "mars" (known: ap, eu, uk, us)`},
				{Path: "traffic.origin.us", Message: "must be at most 1"},
			},
		},
		{
			name: "not a number",
			edit: func(s *Spec) {
				s.Routes[0].Share = math.NaN()
				s.Priorities.Cost = math.Inf(1)
			},
			want: Problems{
				{Path: "routes[0].share", Message: "must be a finite number"},
				{Path: "priorities.cost", Message: "must be a finite number"},
			},
		},
		{
			name: "duplicates",
			edit: func(s *Spec) {
				s.Routes[2].Name = "chat"
				s.Providers[4].ID = "openai"
				s.Providers[2].Regions = []string{"us-east-1", "us-east-1"}
				s.Gateways = []string{"direct", "kong", "direct"}
				s.ObservabilityNeeds = []string{"tracing", "tracing"}
				s.Scenarios = []Scenario{{Name: "baseline"}, {Name: "baseline"}}
			},
			want: Problems{
				{Path: "providers[2].regions[1]", Message: `region "us-east-1" is listed twice (also regions[0])`},
				{Path: "providers[4].id", Message: "openai is listed twice (also providers[0]); list its regions once"},
				{Path: "routes[2].name", Message: `"chat" is already the name of routes[0]`},
				{Path: "observability_needs[1]", Message: `"tracing" is listed twice (also observability_needs[0])`},
				{Path: "gateways[2]", Message: `"direct" is listed twice (also gateways[0])`},
				{Path: "scenarios[1]", Message: "repeats scenarios[0]"},
			},
		},
		{
			name: "options",
			edit: func(s *Spec) {
				s.Gateways = []string{"portky"}
				s.Scenarios = []Scenario{{Name: "meteor"}}
			},
			want: Problems{
				{Path: "gateways[0]", Message: `"portky" is not an option (did you mean "portkey"?); must be one of: direct, openrouter, portkey, helicone, litellm, kong, cloudflare`},
				{Path: "scenarios[0].name", Message: "must be one of: baseline, provider-outage, region-outage, gateway-outage, rate-limit-storm, latency-degradation"},
			},
		},
		{
			name: "scenario parameters name the team's providers and regions",
			edit: func(s *Spec) {
				s.Scenarios = []Scenario{
					{Name: "provider-outage", Provider: "azure-openai"},
					{Name: "region-outage", Provider: "openai", Region: "jp"},
					{Name: "region-outage", Region: "eu-central-1"},
					{Name: "region-outage", Region: "eu-west-9"},
				}
			},
			want: Problems{
				{Path: "scenarios[0].provider", Message: `"azure-openai" is not one of your providers (known: openai, anthropic, aws-bedrock, google-vertex, mistral)`},
				{Path: "scenarios[1].region", Message: `"jp" is not one of your openai regions (known: us, eu)`},
				{Path: "scenarios[3].region", Message: `"eu-west-9" is not a region of your providers (known: eu, eu-central-1, europe-west4, us, us-central1, us-east-1)`},
			},
		},
		{
			name: "scenario parameters fit their scenario",
			edit: func(s *Spec) {
				s.Scenarios = []Scenario{
					{Name: "provider-outage", Multiplier: 3},
					{Name: "latency-degradation", ErrorRate: 0.5},
					{Name: "provider-outage", ErrorRate: 1.5},
					{Name: "region-outage", ErrorRate: 0.25, DurationHours: 15},
				}
			},
			want: Problems{
				{Path: "scenarios[0].multiplier", Message: "applies to rate-limit-storm and latency-degradation only (demand or latency times the multiplier)"},
				{Path: "scenarios[1].error_rate", Message: "applies to provider-outage, region-outage and gateway-outage only: latency-degradation fails no requests of its own"},
				{Path: "scenarios[2].error_rate", Message: "must be at most 1"},
			},
		},
		{
			name: "residency hint names regions the team could add",
			edit: func(s *Spec) {
				s.Providers = []Provider{
					{ID: "openai", Regions: []string{"us"}},
					{ID: "aws-bedrock", Regions: []string{"us-east-1"}},
					{ID: "google-vertex", Regions: []string{"us-central1"}},
				}
			},
			want: Problems{
				{Path: "compliance.data_residency.eu", Message: "none of your provider regions is in eu; add one, for example openai eu or aws-bedrock eu-central-1 or google-vertex europe-west1"},
			},
		},
		{
			name: "residency rules",
			edit: func(s *Spec) {
				s.Compliance.DataResidency = map[string]string{"uk": "uk", "eu": "global", "us": "us"}
			},
			want: Problems{
				{Path: "compliance.data_residency.eu", Message: `unknown jurisdiction "global" (known: ap, eu, uk, us)`},
				{Path: "compliance.data_residency.uk", Message: `"uk" is not an origin in traffic.origin`},
			},
		},
		{
			// A route whose only model is hosted in the US, with half its
			// traffic from the EU that must stay there: every option would
			// fail that half, so the file cannot be served.
			name: "a route no allowed host serves for an origin",
			edit: func(s *Spec) {
				s.Providers = []Provider{{ID: "anthropic", Regions: []string{"us"}}, {ID: "mistral", Regions: []string{"eu"}}}
				s.Routes = []Route{
					{Name: "chat", Share: 0.5, Models: []string{"claude-sonnet-4.5"}, InputTokens: 100, OutputTokens: 10},
					{Name: "summarize", Share: 0.5, Models: []string{"mistral-small"}, InputTokens: 100, OutputTokens: 10},
				}
				s.Traffic.Origin = map[string]float64{"us": 0.5, "eu": 0.5}
				s.Scenarios = []Scenario{{Name: "baseline"}}
			},
			want: Problems{
				{Path: "routes[0].models", Message: `route "chat" cannot serve its eu traffic: traffic from eu must be served in eu, and no region you listed there serves claude-sonnet-4.5; add a model or a provider region that can`},
			},
		},
		{
			name: "scenarios that touch nothing",
			edit: func(s *Spec) {
				s.Providers = []Provider{{ID: "mistral", Regions: []string{"eu"}}, {ID: "aws-bedrock", Regions: []string{"eu-central-1"}}}
				s.Routes = []Route{{Name: "chat", Share: 1, Models: []string{"mistral-small"}, InputTokens: 100, OutputTokens: 10}}
				s.Traffic.Origin = map[string]float64{"eu": 1}
				s.Gateways = []string{"direct"}
				s.Scenarios = []Scenario{
					{Name: "region-outage"}, // defaults to the region the file does run in
					{Name: "region-outage", Region: "eu-central-1"},
					{Name: "gateway-outage"},
					{Name: "latency-degradation", Provider: "mistral", DurationHours: 2},
				}
			},
			want: Problems{
				{Path: "scenarios[2].name", Message: "gateway-outage: none of the options compared puts a gateway in the request path, so it would touch nothing"},
			},
		},
		{
			name: "a region outage where nothing runs",
			edit: func(s *Spec) {
				s.Providers = []Provider{{ID: "mistral", Regions: []string{"eu"}}, {ID: "aws-bedrock", Regions: []string{"eu-central-1", "us-east-1"}}}
				s.Routes = []Route{{Name: "chat", Share: 1, Models: []string{"mistral-small"}, InputTokens: 100, OutputTokens: 10}}
				s.Traffic.Origin = map[string]float64{"eu": 1}
				s.Scenarios = []Scenario{{Name: "region-outage", Region: "us-east-1"}, {Name: "provider-outage", Provider: "mistral"}}
			},
			want: Problems{
				{Path: "scenarios[0].region", Message: "region-outage us-east-1: no provider of this architecture runs there"},
			},
		},
		{
			name: "empty lists",
			edit: func(s *Spec) {
				s.Providers = nil
				s.Routes[0].Models = nil
			},
			want: Problems{
				{Path: "providers", Message: "is required"},
				{Path: "routes[0].models", Message: "is required"},
				{Path: "compliance.data_residency.eu", Message: "none of your provider regions is in eu"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(readExample(t, "multi-region"))
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(&s)
			err = s.Validate(pricing.Default())
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var got Problems
			if !errors.As(err, &got) {
				t.Fatalf("Validate = %v, want Problems", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestValidateDeterministic guards the order of problems from map entries,
// which Go iterates in random order.
func TestValidateDeterministic(t *testing.T) {
	t.Parallel()
	s, err := Parse(readExample(t, "multi-region"))
	if err != nil {
		t.Fatal(err)
	}
	s.Traffic.Origin = map[string]float64{"a": 2, "b": 2, "c": 2, "d": 2, "e": 2, "f": 2}
	first := s.Validate(nil).Error()
	for range 20 {
		if again := s.Validate(nil).Error(); again != first {
			t.Fatalf("Validate order changed:\n%s\n%s", first, again)
		}
	}
}

func TestResolvePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		brackets    bool
		want        string
		wantPartLen int
	}{
		{"routes[1].share", true, "routes[1].share", 3},
		{"traffic.origin[eu]", true, "traffic.origin.eu", 3},
		{"traffic.origin.e.u", false, "traffic.origin.e.u", 3},
		{"providers[0].rate_limits.rpm", false, "providers[0].rate_limits.rpm", 4},
		{"nonsense.path", false, "nonsense.path", 1},
	}
	for _, tt := range tests {
		got, parts := resolvePath(tt.in, tt.brackets)
		if got != tt.want || len(parts) != tt.wantPartLen {
			t.Errorf("resolvePath(%q) = %q, %d parts; want %q, %d", tt.in, got, len(parts), tt.want, tt.wantPartLen)
		}
	}
}
