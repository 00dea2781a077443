package server

import (
	"reflect"
	"testing"

	"gatewise/memo"
	"gatewise/simulator"
)

// An option failing far more than direct calls carries the cause the
// result gives: here, Kong's failures are mostly its own incidents, and
// LiteLLM's come during provider incidents it does not fail over from.
func TestFailureCausesExplainSurprisingFigures(t *testing.T) {
	t.Parallel()
	spec := simulator.Spec{}
	base := func(gw string, mean float64, by simulator.FailedBy) memo.OptionScore {
		return memo.OptionScore{Gateway: gw, Base: simulator.OptionResult{Gateway: gw, FailedRequests: simulator.Distribution{Mean: mean}, FailedBy: by}}
	}
	d := memo.Decision{Options: []memo.OptionScore{
		base("portkey", 30, simulator.FailedBy{Calm: 10, Incidents: 20}),
		base("direct", 100, simulator.FailedBy{Calm: 40, Incidents: 60}),
		base("kong", 800, simulator.FailedBy{Calm: 50, OwnIncidents: 600, Incidents: 150}),
		base("litellm", 350, simulator.FailedBy{Calm: 50, OwnIncidents: 100, Incidents: 200}),
	}}
	res := simulator.Result{Plans: []simulator.Plan{{Gateway: "litellm", FailOverOn: []string{"429", "5xx"},
		Cooldown: &simulator.Cooldown{Kind: "litellm", AfterFails: 3, WindowSeconds: 60, Seconds: 5}}}}
	got := failureCauses(spec, res, d)
	want := []string{
		"kong fails 8× as many requests as direct calls (800 against 100 a month): 75 % of its failures come while kong itself is down (its own incidents, 0.25 a month modelled), which no failover behind it can route around.",
		"litellm fails 3.5× as many requests as direct calls (350 against 100 a month): 57 % of its failures come during provider incidents; it fails over only on 429, 5xx, and passes any other failure back to the app; after 3 failures within 60 s it cools a target down for 5 s, and requests meant for it fail over or fail until then.",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("causes\n got %q\nwant %q", got, want)
	}
	// Nothing to explain when no option fails half as much again as direct.
	d.Options = d.Options[:2]
	if got := failureCauses(spec, res, d); got != nil {
		t.Errorf("causes %q for unsurprising figures", got)
	}
}
