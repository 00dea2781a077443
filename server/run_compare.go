package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pmezard/go-difflib/difflib"

	"gatewise/server/store"
	"gatewise/simulator"
)

// ComparePage sets two finished runs side by side: what changed in the
// inputs, and how the answer moved.
type ComparePage struct {
	Layout
	A, B          store.Run
	NameA         string
	NameB         string
	InputLines    []DiffLine
	InputsChanged bool
	Options       [2]string // the runs' options as JSON
	Decision      [2]string // each memo's decision line
	Rows          []CompareRow
	Choices       []store.Run // other finished runs to pick from
}

// DiffLine is one line of the two architectures' YAML, marked when it
// differs.
type DiffLine struct {
	A, B    string
	Changed bool
}

// CompareRow is one option in one scenario in both runs.
type CompareRow struct {
	Scenario, Gateway      string
	SuccessA, SuccessB     string
	FailedA, FailedB       string
	CostA, CostB           string
	FailedDelta, CostDelta string
}

// compareRuns shows /runs/compare?a=ID&b=ID; with only a, it offers the
// runs to compare with.
func (s *Server) compareRuns(c *gin.Context) {
	ctx := c.Request.Context()
	a, err := s.finished(c, c.Query("a"))
	if err != nil {
		s.fail(c, err)
		return
	}
	page := ComparePage{Layout: Layout{Title: "Compare runs", Nav: "runs", Version: s.cfg.Version}, A: a}
	page.NameA = s.architectureName(c, a.ArchitectureID)
	if c.Query("b") == "" {
		runs, err := s.store.ListRuns(ctx, 100, 0)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, r := range runs {
			if r.Status == store.RunDone && r.ID != a.ID {
				page.Choices = append(page.Choices, r)
			}
		}
		s.render(c, http.StatusOK, "run_compare", page)
		return
	}
	b, err := s.finished(c, c.Query("b"))
	if err != nil {
		s.fail(c, err)
		return
	}
	page.B, page.NameB = b, s.architectureName(c, b.ArchitectureID)
	page.Options = [2]string{string(a.Options), string(b.Options)}
	page.Decision = [2]string{decisionLine(a.Memo), decisionLine(b.Memo)}
	page.InputLines = s.inputDiff(c, a, b)
	for _, l := range page.InputLines {
		page.InputsChanged = page.InputsChanged || l.Changed
	}
	if page.Rows, err = compareResults(a.Result, b.Result); err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "run_compare", page)
}

func (s *Server) finished(c *gin.Context, id string) (store.Run, error) {
	if id == "" {
		return store.Run{}, newError(http.StatusBadRequest, "Name the runs to compare: /runs/compare?a=RUN&b=RUN.", nil)
	}
	r, err := s.store.Run(c.Request.Context(), id)
	if err != nil {
		return r, err
	}
	if r.Status != store.RunDone {
		return r, newError(http.StatusConflict, "Run "+id+" has not finished: it is "+r.Status+".", nil)
	}
	return r, nil
}

func (s *Server) architectureName(c *gin.Context, id string) string {
	if a, err := s.store.Architecture(c.Request.Context(), id); err == nil {
		return a.Name
	}
	return "(deleted architecture)"
}

// inputDiff aligns the canonical YAML of the architectures the two runs
// simulated (as each kept it, not as it is now) with a line matcher, so an
// added provider shows as added lines rather than shifting every line
// after it.
func (s *Server) inputDiff(c *gin.Context, a, b store.Run) []DiffLine {
	yamlOf := func(run store.Run) []string {
		spec, err := runSpec(c.Request.Context(), s.store, run)
		if err != nil {
			return nil
		}
		data, err := spec.YAML()
		if err != nil {
			return nil
		}
		return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	}
	la, lb := yamlOf(a), yamlOf(b)
	var out []DiffLine
	for _, op := range difflib.NewMatcher(la, lb).GetOpCodes() {
		if op.Tag == 'e' {
			for i := op.I1; i < op.I2; i++ {
				out = append(out, DiffLine{A: la[i], B: la[i]})
			}
			continue
		}
		// A replaced, deleted or inserted block: pair its lines side by side.
		n := max(op.I2-op.I1, op.J2-op.J1)
		for k := 0; k < n; k++ {
			d := DiffLine{Changed: true}
			if op.I1+k < op.I2 {
				d.A = la[op.I1+k]
			}
			if op.J1+k < op.J2 {
				d.B = lb[op.J1+k]
			}
			out = append(out, d)
		}
	}
	return out
}

// decisionLine is the memo's decision sentence.
func decisionLine(md string) string {
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "**Chosen:") || strings.HasPrefix(line, "**No single winner") {
			return strings.ReplaceAll(line, "**", "")
		}
	}
	return ""
}

// compareResults pairs each option and scenario of two results.
func compareResults(a, b []byte) ([]CompareRow, error) {
	var ra, rb simulator.Result
	if err := json.Unmarshal(a, &ra); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &rb); err != nil {
		return nil, err
	}
	type key struct{ scenario, gateway string }
	other := map[key]simulator.OptionResult{}
	for _, r := range rb.Results {
		other[key{r.Scenario, r.Gateway}] = r
	}
	var out []CompareRow
	for _, x := range ra.Results {
		y, ok := other[key{x.Scenario, x.Gateway}]
		if !ok || x.Excluded != nil || y.Excluded != nil {
			continue
		}
		out = append(out, CompareRow{
			Scenario: x.Scenario, Gateway: x.Gateway,
			SuccessA: fmt.Sprintf("%.3f %%", x.SuccessRate.Mean*100), SuccessB: fmt.Sprintf("%.3f %%", y.SuccessRate.Mean*100),
			FailedA: formatNumber(roundTo(x.FailedRequests.Mean)), FailedB: formatNumber(roundTo(y.FailedRequests.Mean)),
			CostA: "$" + formatNumber(roundTo(x.CostUSD.Total.P50)), CostB: "$" + formatNumber(roundTo(y.CostUSD.Total.P50)),
			FailedDelta: signed(y.FailedRequests.Mean-x.FailedRequests.Mean, ""),
			CostDelta:   signed(y.CostUSD.Total.P50-x.CostUSD.Total.P50, "$"),
		})
	}
	return out, nil
}

// signed writes a change with its sign before the unit: +$50, −12.
func signed(v float64, unit string) string {
	if v >= 0.5 {
		return "+" + unit + formatNumber(roundTo(v))
	}
	if v <= -0.5 {
		return "−" + unit + formatNumber(roundTo(-v))
	}
	return unit + "0"
}
