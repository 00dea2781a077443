// Package resultcsv writes a simulation result as CSV, one row per option
// and scenario, for spreadsheets. The web app's result.csv and
// `gatewise simulate --csv` both write it, so the same result gives the
// same bytes wherever it is downloaded.
package resultcsv

import (
	"encoding/csv"
	"io"
	"strconv"

	"gatewise/simulator"
)

// Header is the CSV's first row: the columns, in order.
var Header = []string{"gateway", "scenario", "excluded", "success_mean", "success_ci95_lo", "success_ci95_hi",
	"failed_requests_mean", "failed_requests_p95", "availability_mean", "latency_added_ms_p50", "latency_added_ms_p95",
	"latency_added_ms_p99", "cost_usd_p50", "cost_usd_p5", "cost_usd_p95", "tokens_usd", "gateway_fees_usd",
	"infrastructure_usd", "operations_usd", "log_coverage", "failed_calm", "failed_own_incidents", "failed_provider_incidents"}

// Write writes res as CSV: the header, then a row per option and scenario
// in the result's order. Numbers carry ten significant digits; an option a
// hard constraint excludes says why in "excluded" and has zero figures.
func Write(w io.Writer, res simulator.Result) error {
	cw := csv.NewWriter(w)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	if err := cw.Write(Header); err != nil {
		return err
	}
	for _, r := range res.Results {
		excluded := ""
		if r.Excluded != nil {
			excluded = *r.Excluded
		}
		if err := cw.Write([]string{r.Gateway, r.Scenario, excluded, f(r.SuccessRate.Mean), f(r.SuccessRate.CI95[0]), f(r.SuccessRate.CI95[1]),
			f(r.FailedRequests.Mean), f(r.FailedRequests.P95), f(r.Availability.Mean), f(r.LatencyAddedMS.P50), f(r.LatencyAddedMS.P95),
			f(r.LatencyAddedMS.P99), f(r.CostUSD.Total.P50), f(r.CostUSD.Total.P5), f(r.CostUSD.Total.P95), f(r.CostUSD.Tokens),
			f(r.CostUSD.GatewayFees), f(r.CostUSD.Infrastructure), f(r.CostUSD.Operations), f(r.Observability.Coverage),
			f(r.FailedBy.Calm), f(r.FailedBy.OwnIncidents), f(r.FailedBy.Incidents)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
