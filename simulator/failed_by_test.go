package simulator

import (
	"context"
	"math"
	"testing"

	"gatewise/pricing"
	"gatewise/simulator/traffic"
)

// A gateway's own incidents are told apart from the providers': with
// OpenAI calm but for its background errors and Portkey down twice a
// month, Portkey's failures beyond a calm month are all its own, and
// direct calls have none of their own.
func TestFailedByTellsOwnIncidentsApart(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	file := publishedFile("openai", "gpt-4.1-mini", "{incidents_per_month: 0, background_error_rate: 0.001}") +
		"  common_mode: {events_per_year: 0}\n  gateways:\n    portkey: {incidents_per_month: 2}\n"
	spec, err := Load([]byte(file), cat)
	if err != nil {
		t.Fatal(err)
	}
	spec.Gateways = []string{"direct", "portkey"}
	spec.Simulation.Trials = 300
	profile, err := traffic.Synthesize(context.Background(), spec.SyntheticParams(), 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), spec, profile, cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	direct, portkey := find(t, res, "direct", "baseline"), find(t, res, "portkey", "baseline")
	for _, o := range []OptionResult{direct, portkey} {
		// The three parts add up to the mean, to rounding.
		if sum := o.FailedBy.Calm + o.FailedBy.OwnIncidents + o.FailedBy.Incidents; math.Abs(sum-o.FailedRequests.Mean) > 1e-6*o.FailedRequests.Mean+1e-9 {
			t.Errorf("%s: parts add to %.6f, mean is %.6f", o.Gateway, sum, o.FailedRequests.Mean)
		}
		if o.FailedBy.Incidents > 1e-6 {
			t.Errorf("%s: %.6f failed in provider incidents, with none", o.Gateway, o.FailedBy.Incidents)
		}
	}
	if direct.FailedBy.OwnIncidents != 0 || direct.FailedBy.Calm <= 0 {
		t.Errorf("direct: %+v, want calm failures only", direct.FailedBy)
	}
	if portkey.FailedBy.OwnIncidents <= portkey.FailedBy.Calm {
		t.Errorf("portkey: %+v, want most failures its own", portkey.FailedBy)
	}
}
