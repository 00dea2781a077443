package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"gatewise/internal/resultcsv"
	"gatewise/server/store"
	"gatewise/simulator"
)

// ScenarioTable is one scenario's options on a run's page.
type ScenarioTable struct {
	Scenario string
	Rows     []ResultRow
}

// ResultRow is one option in one scenario, formatted for people.
type ResultRow struct {
	Gateway      string
	Excluded     string
	Success      string // mean with its 95 % interval
	Failed       string // per month: mean (p95)
	FailedWhen   string // shares of the mean: calm, own incidents, provider incidents
	Availability string
	Latency      string // added p50 / p95 / p99 ms
	Cost         string // p50 (p5–p95)
	Logged       string
	Missing      string
}

// resultTables turns a result into a table per scenario.
func resultTables(res simulator.Result) []ScenarioTable {
	var out []ScenarioTable
	for _, r := range res.Results {
		if len(out) == 0 || out[len(out)-1].Scenario != r.Scenario {
			out = append(out, ScenarioTable{Scenario: r.Scenario})
		}
		row := ResultRow{Gateway: r.Gateway}
		if r.Excluded != nil {
			row.Excluded = *r.Excluded
		} else {
			row.Success = fmt.Sprintf("%.3f %% (%.3f–%.3f)", r.SuccessRate.Mean*100, r.SuccessRate.CI95[0]*100, r.SuccessRate.CI95[1]*100)
			row.Failed = fmt.Sprintf("%s (%s)", formatNumber(roundTo(r.FailedRequests.Mean)), formatNumber(roundTo(r.FailedRequests.P95)))
			if by, f := r.FailedBy, r.FailedRequests.Mean; f > 0 && by != (simulator.FailedBy{}) {
				row.FailedWhen = fmt.Sprintf("%.0f %% / %.0f %% / %.0f %%", 100*by.Calm/f, 100*by.OwnIncidents/f, 100*by.Incidents/f)
			}
			row.Availability = fmt.Sprintf("%.3f %%", r.Availability.Mean*100)
			row.Latency = fmt.Sprintf("%s / %s / %s", formatNumber(roundTo(r.LatencyAddedMS.P50)), formatNumber(roundTo(r.LatencyAddedMS.P95)), formatNumber(roundTo(r.LatencyAddedMS.P99)))
			row.Cost = fmt.Sprintf("$%s ($%s–$%s)", formatNumber(roundTo(r.CostUSD.Total.P50)), formatNumber(roundTo(r.CostUSD.Total.P5)), formatNumber(roundTo(r.CostUSD.Total.P95)))
			row.Logged = fmt.Sprintf("%.0f %%", r.Observability.Coverage*100)
			row.Missing = joinOr(r.Observability.NeedsMissing, "none")
		}
		out[len(out)-1].Rows = append(out[len(out)-1].Rows, row)
	}
	return out
}

func roundTo(v float64) float64 { return float64(int64(v + 0.5)) }

func joinOr(xs []string, empty string) string {
	if len(xs) == 0 {
		return empty
	}
	out := xs[0]
	for _, x := range xs[1:] {
		out += ", " + x
	}
	return out
}

// downloadResultCSV sends a finished run's result as CSV, one row per
// option and scenario, for spreadsheets.
func (s *Server) downloadResultCSV(c *gin.Context) {
	run, ok := s.finishedRun(c)
	if !ok {
		return
	}
	var res simulator.Result
	if err := json.Unmarshal(run.Result, &res); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="gatewise-result-`+run.ID+`.csv"`)
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Status(http.StatusOK)
	// The CLI's simulate --csv writes the same bytes for the same result.
	resultcsv.Write(c.Writer, res)
}

// RunListPage lists runs newest first.
type RunListPage struct {
	Layout
	Runs []RunItem
}

// RunItem is one line of the runs list.
type RunItem struct {
	Run          store.Run
	Architecture string
	Percent      int
}

func (s *Server) listRuns(c *gin.Context) {
	runs, err := s.store.ListRuns(c.Request.Context(), 100, 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	page := RunListPage{Layout: Layout{Title: "Runs", Nav: "runs", Version: s.cfg.Version}}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ArchitectureID
	}
	names, err := s.store.ArchitectureNames(c.Request.Context(), ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, r := range runs {
		name := names[r.ArchitectureID]
		item := RunItem{Run: r, Architecture: name}
		if r.Total > 0 {
			item.Percent = r.Done * 100 / r.Total
		}
		page.Runs = append(page.Runs, item)
	}
	s.render(c, http.StatusOK, "run_list", page)
}
