package simulator

import (
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"gatewise/pricing"
)

// The override block from the outage-model contract, appended to the
// reference example.
const overridesYAML = `
outage_model:
  providers:
    openai:
      incidents_per_month: 8
      duration_median_hours: 1.5
      duration_sigma: 1.38
      incident_error_rate: 1.0
      model_scoped_share: 0.8
      background_error_rate: 0.0015
      arrival: poisson
  gateways:
    openrouter: {incidents_per_month: 0.4, duration_median_hours: 0.7, duration_sigma: 1.0}
  common_mode: {events_per_year: 5}
gateway_settings:
  litellm: {allowed_fails: 1, cooldown_seconds: 30, num_retries: 2, timeout_seconds: 30}
`

func withOverrides(t *testing.T, overrides string) []byte {
	t.Helper()
	base, err := os.ReadFile("../testdata/examples/multi-region.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return append(base, overrides...)
}

func TestOverridesApply(t *testing.T) {
	t.Parallel()
	spec, err := Load(withOverrides(t, overridesYAML), pricing.Default())
	if err != nil {
		t.Fatal(err)
	}
	m := spec.IncidentModels()
	openai := m.Providers["openai"]
	if openai.PerMonth != 8 || openai.Arrival != Poisson || openai.FixedErrorRate == nil || *openai.FixedErrorRate != 1 ||
		math.Abs(openai.DurationMu-math.Log(1.5)) > 1e-12 || openai.DurationSigma != 1.38 || openai.ModelScopedShare != 0.8 {
		t.Errorf("openai model = %+v", openai)
	}
	if !strings.Contains(openai.Source, "overridden") {
		t.Errorf("source %q does not say it was overridden", openai.Source)
	}
	// Providers without overrides keep the calibrated model.
	if !reflect.DeepEqual(m.Providers["anthropic"], DefaultProviderIncidents()["anthropic"]) {
		t.Error("anthropic changed without an override")
	}
	if got := m.Gateways["openrouter"]; got.PerMonth != 0.4 || math.Abs(got.DurationMu-math.Log(0.7)) > 1e-12 {
		t.Errorf("openrouter = %+v", got)
	}
	got := 0.0
	for _, pl := range m.CommonMode {
		got += pl.Model.PerMonth
	}
	if math.Abs(got-5.0/12) > 1e-12 {
		t.Errorf("common mode per month = %v", got)
	}
	lit := spec.GatewaySettings["litellm"]
	if *lit.AllowedFails != 1 || *lit.CooldownSeconds != 30 || *lit.NumRetries != 2 || *lit.TimeoutSeconds != 30 || lit.Replicas != nil {
		t.Errorf("litellm settings = %+v", lit)
	}

	// The block survives the canonical writer.
	data, err := spec.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(again, spec) {
		t.Errorf("round trip changed the overrides:\n%s", data)
	}
}

// Zero turns a source of failure off, which is not the same as leaving the
// field out.
func TestZeroOverrideTurnsSourceOff(t *testing.T) {
	t.Parallel()
	spec, err := Load(withOverrides(t, "outage_model:\n  providers:\n    mistral: {incidents_per_month: 0, background_error_rate: 0}\n"), pricing.Default())
	if err != nil {
		t.Fatal(err)
	}
	if m := spec.IncidentModels().Providers["mistral"]; m.PerMonth != 0 || m.BackgroundErrorRate != 0 {
		t.Errorf("mistral = %+v", m)
	}
}

func TestOverrideProblems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, overrides string
		want            []string
	}{
		{"negative rate", "outage_model:\n  providers:\n    openai: {incidents_per_month: -8}\n",
			[]string{"outage_model.providers.openai.incidents_per_month: must not be negative"}},
		{"unknown arrival", "outage_model:\n  providers:\n    openai: {arrival: gamma}\n",
			[]string{"outage_model.providers.openai.arrival: must be one of: weibull, poisson"}},
		{"provider not listed", "outage_model:\n  providers:\n    azure-openai: {incidents_per_month: 1}\n",
			[]string{`outage_model.providers.azure-openai: "azure-openai" is not one of your providers`}},
		{"misspelled gateway", "outage_model:\n  gateways:\n    opnrouter: {incidents_per_month: 1}\n",
			[]string{`outage_model.gateways.opnrouter: unknown gateway "opnrouter" (did you mean "openrouter"?)`}},
		{"direct has no platform", "outage_model:\n  gateways:\n    direct: {incidents_per_month: 1}\n",
			[]string{"outage_model.gateways.direct: direct calls have no gateway of their own"}},
		{"median above the cap", "outage_model:\n  providers:\n    openai: {duration_median_hours: 600, duration_sigma: 0.1}\n",
			[]string{"outage_model.providers.openai: durations almost never fall under the 72 h cap"}},
		{"replicas on SaaS", "gateway_settings:\n  openrouter: {replicas: 2}\n",
			[]string{"gateway_settings.openrouter.replicas: only self-hosted gateways"}},
		{"unknown knob", "gateway_settings:\n  litellm: {retries: 2}\n",
			[]string{`gateway_settings.litellm.retries: unknown key`}},
		{"zero replicas", "gateway_settings:\n  kong: {replicas: 0}\n",
			[]string{"gateway_settings.kong.replicas: must be at least 1"}},
	}
	for _, c := range cases {
		_, err := Load(withOverrides(t, c.overrides), pricing.Default())
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q", c.name, err, w)
			}
		}
	}
}
