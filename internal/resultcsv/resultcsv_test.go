package resultcsv

import (
	"bytes"
	"testing"

	"gatewise/simulator"
)

// The bytes are the contract: spreadsheets and scripts read the columns by
// position and name, and the web's result.csv and simulate --csv must agree.
func TestWrite(t *testing.T) {
	why := "HIPAA: no BAA on this plan, with \"quotes\", and a comma"
	res := simulator.Result{Results: []simulator.OptionResult{
		{
			Gateway: "direct", Scenario: "baseline",
			SuccessRate:    simulator.Distribution{Mean: 0.99912345678901, CI95: [2]float64{0.9990, 0.9992}},
			FailedRequests: simulator.Distribution{Mean: 10563.25, P95: 21000},
			Availability:   simulator.Distribution{Mean: 0.9995},
			LatencyAddedMS: simulator.Percentiles{P50: 0, P95: 1.5, P99: 1200},
			CostUSD: simulator.CostBreakdown{Total: simulator.Distribution{P50: 48211.5, P5: 48000, P95: 48500.125},
				Tokens: 48211.5, GatewayFees: 0, Infrastructure: 0, Operations: 0},
			Observability: simulator.Observability{Coverage: 0},
			FailedBy:      simulator.FailedBy{Calm: 563.25, OwnIncidents: 0, Incidents: 10000},
		},
		{Gateway: "portkey", Scenario: "baseline", Excluded: &why},
	}}
	var got bytes.Buffer
	if err := Write(&got, res); err != nil {
		t.Fatal(err)
	}
	want := "gateway,scenario,excluded,success_mean,success_ci95_lo,success_ci95_hi,failed_requests_mean,failed_requests_p95,availability_mean,latency_added_ms_p50,latency_added_ms_p95,latency_added_ms_p99,cost_usd_p50,cost_usd_p5,cost_usd_p95,tokens_usd,gateway_fees_usd,infrastructure_usd,operations_usd,log_coverage,failed_calm,failed_own_incidents,failed_provider_incidents\n" +
		// Ten significant digits: 0.99912345678901 → 0.9991234568.
		"direct,baseline,,0.9991234568,0.999,0.9992,10563.25,21000,0.9995,0,1.5,1200,48211.5,48000,48500.125,48211.5,0,0,0,0,563.25,0,10000\n" +
		"portkey,baseline,\"HIPAA: no BAA on this plan, with \"\"quotes\"\", and a comma\",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n"
	if got.String() != want {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want)
	}
}
