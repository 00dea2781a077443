package simulator

import (
	"slices"
	"testing"
)

func TestScenarioLabels(t *testing.T) {
	t.Parallel()
	list := []Scenario{
		{Name: "baseline"},
		{Name: "provider-outage", Provider: "openai"},
		{Name: "provider-outage", Provider: "anthropic", DurationHours: 8, ErrorRate: 0.25},
		{Name: "provider-outage"},
		{Name: "region-outage", Provider: "azure-openai", Region: "swedencentral", DurationHours: 6},
		{Name: "rate-limit-storm", Multiplier: 2.5},
	}
	want := []string{
		"baseline",
		"provider-outage (openai)",
		"provider-outage (anthropic, 8 h, 25 % of requests fail)",
		"provider-outage", // the defaults need no words
		"region-outage",   // alone of its name
		"rate-limit-storm",
	}
	if got := ScenarioLabels(list); !slices.Equal(got, want) {
		t.Errorf("labels:\n got %q\nwant %q", got, want)
	}
	// Labels never collide, even when parameters read alike.
	if got := ScenarioLabels([]Scenario{{Name: "provider-outage"}, {Name: "provider-outage", ErrorRate: 1}}); !slices.Equal(got, []string{"provider-outage", "provider-outage [2]"}) {
		t.Errorf("labels of look-alikes = %q", got)
	}
	if got := list[4].Params(); got != "azure-openai, swedencentral, 6 h" {
		t.Errorf("Params = %q", got)
	}
	if got := list[5].Params(); got != "×2.5" {
		t.Errorf("Params = %q", got)
	}
}

func TestSelectScenarios(t *testing.T) {
	t.Parallel()
	openai := Scenario{Name: "provider-outage", Provider: "openai"}
	anthropic := Scenario{Name: "provider-outage", Provider: "anthropic", DurationHours: 8}
	region := Scenario{Name: "region-outage", Region: "eu-central-1"}
	file := []Scenario{{Name: "baseline"}, openai, anthropic, region}
	for _, c := range []struct {
		picks []string
		want  []Scenario
	}{
		{[]string{"provider-outage (anthropic, 8 h)"}, []Scenario{anthropic}},
		{[]string{"provider-outage"}, []Scenario{openai, anthropic}},
		{[]string{"region-outage"}, []Scenario{region}}, // the file's parameters are kept
		{[]string{"gateway-outage", "baseline"}, []Scenario{{Name: "gateway-outage"}, {Name: "baseline"}}},
		{[]string{"provider-outage (openai)", "provider-outage"}, []Scenario{openai, anthropic}},
	} {
		got, err := SelectScenarios(file, c.picks)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("SelectScenarios(%q) = %+v, %v; want %+v", c.picks, got, err, c.want)
		}
	}
	_, err := SelectScenarios(file, []string{"provider-outage (mistral)"})
	const msg = `"provider-outage (mistral)" is not a scenario: use one of baseline, provider-outage (openai), provider-outage (anthropic, 8 h), region-outage, provider-outage, gateway-outage, rate-limit-storm, latency-degradation`
	if err == nil || err.Error() != msg {
		t.Errorf("an unknown label: %v\nwant %s", err, msg)
	}
}

// A run of one of two outages still says which one it ran.
func TestLabelsWithinTheFile(t *testing.T) {
	t.Parallel()
	openai := Scenario{Name: "provider-outage", Provider: "openai"}
	anthropic := Scenario{Name: "provider-outage", Provider: "anthropic"}
	got := labelsWithin([]Scenario{{Name: "baseline"}, openai, anthropic}, []Scenario{anthropic, {Name: "gateway-outage"}})
	if want := []string{"provider-outage (anthropic)", "gateway-outage"}; !slices.Equal(got, want) {
		t.Errorf("labels = %q, want %q", got, want)
	}
}
