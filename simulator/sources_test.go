package simulator

import (
	"testing"

	"gatewise/internal/citation"
)

// Every source, note and unmodelled remark the simulator's defaults hand
// out (behaviours, observability facts, incident models of providers,
// gateways and the cloud layer) names a public source.
func TestDefaultsCitePublicSources(t *testing.T) {
	t.Parallel()
	behaviours, err := DefaultBehaviours()
	if err != nil {
		t.Fatal(err)
	}
	obs, err := DefaultObservability()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	check := func(path, s string) {
		n++
		if citation.Internal(s) {
			t.Errorf("%s cites an internal file: %q", path, s)
		}
	}
	citation.Walk(behaviours, "behaviours", check)
	citation.Walk(obs, "observability", check)
	citation.Walk(DefaultProviderIncidents(), "provider incidents", check)
	citation.Walk(DefaultGatewayIncidents(), "gateway incidents", check)
	citation.Walk(DefaultCommonMode(), "common mode", check)
	if n < 100 {
		t.Errorf("walked %d strings; the defaults were not reached", n)
	}
}

// The data files too, comments aside: "no" entries of the observability
// file are not handed out but are still the reviewer's sources.
func TestDataFilesCitePublicSourcesSimulator(t *testing.T) {
	t.Parallel()
	for name, data := range map[string][]byte{"gateway_behaviour.yaml": gatewayBehaviourYAML, "observability.yaml": observabilityYAML} {
		for _, line := range citation.InternalLines(data) {
			t.Errorf("%s:%d cites an internal file", name, line)
		}
	}
}
