package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"gatewise/memo"
	"gatewise/server/store"
	"gatewise/simulator"
)

// downloadRollout sends a finished run's rollout bundle as a zip: the
// chosen option's by default, any simulated option's with ?gateway=ID.
func (s *Server) downloadRollout(c *gin.Context) {
	run, ok := s.finishedRun(c)
	if !ok {
		return
	}
	b, err := s.runBundle(c.Request.Context(), run, c.Query("gateway"))
	if err != nil {
		s.fail(c, err)
		return
	}
	gateway := b.Gateway
	var buf bytes.Buffer
	if err := b.Zip(&buf); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="gatewise-rollout-`+gateway+`-`+run.ID+`.zip"`)
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}

// runBundle renders a finished run's rollout bundle for gateway (the
// chosen option when empty) from the plan the run simulated and the
// architecture the run kept.
func (s *Server) runBundle(ctx context.Context, run store.Run, gateway string) (memo.Bundle, error) {
	spec, err := runSpec(ctx, s.store, run)
	if err != nil {
		return memo.Bundle{}, err
	}
	var res simulator.Result
	if err := json.Unmarshal(run.Result, &res); err != nil {
		return memo.Bundle{}, err
	}
	if gateway == "" {
		d, err := memo.Score(spec, res, s.catalog)
		if err != nil {
			return memo.Bundle{}, newError(http.StatusConflict, "No option of this run can be shipped: "+err.Error(), err)
		}
		gateway = d.Chosen
	}
	plan, ok := res.PlanOf(gateway)
	if !ok {
		var ids []string
		for _, p := range res.Plans {
			ids = append(ids, p.Gateway)
		}
		if len(ids) == 0 {
			return memo.Bundle{}, newError(http.StatusConflict, "This run was simulated before runs kept their plans; restart it to get a rollout bundle.", nil)
		}
		slices.Sort(ids)
		e := newError(http.StatusNotFound, fmt.Sprintf("The run simulated no option %q; it simulated %s.", gateway, strings.Join(ids, ", ")), nil)
		e.Fields = map[string]string{"gateway": e.Message}
		return memo.Bundle{}, e
	}
	// An option a hard constraint rules out is not shipped: its configs
	// would carry traffic where the architecture says it may not go.
	for _, r := range res.Results {
		if r.Gateway == gateway && r.Excluded != nil {
			e := newError(http.StatusUnprocessableEntity, fmt.Sprintf("%s cannot be shipped for this architecture: %s.", gateway, *r.Excluded), nil)
			e.Fields = map[string]string{"gateway": e.Message}
			return memo.Bundle{}, e
		}
	}
	return memo.Rollout(spec, plan, s.catalog)
}

// RolloutView is the chosen option's bundle shown on the run page.
type RolloutView struct {
	Gateway string
	Files   []RolloutFile
}

// RolloutFile is one file of the bundle, as text.
type RolloutFile struct{ Name, Content string }
