package simulator

import (
	"errors"
	"fmt"
	"slices"

	"gatewise/pricing"
)

// choosePlan picks the plan an option is priced and scored on: among the
// plans that meet the compliance rules, the one that meets most of the
// stated needs (a partly met need counts a half), then logs the largest
// share of requests, then costs least. Pricing an option on a free plan
// whose logs stop at 10,000 requests would score a plan that cannot tell
// the team what its requests cost, which is half of the cost corner, nor
// meet a need for per-user cost. When no plan is left the error is the
// catalog's *pricing.NoPlanError.
func choosePlan(spec Spec, cat *pricing.Catalog, obs ObservabilityFacts, id string, need pricing.GatewayNeed) (pricing.GatewayQuote, error) {
	g, ok := cat.Gateway(id)
	if !ok {
		return cat.GatewayCost(id, need) // the catalog's unknown-gateway error
	}
	type candidate struct {
		q             pricing.GatewayQuote
		score, logged float64
	}
	var fits []candidate
	var ruledOut []pricing.RuledOut
	for _, p := range g.Plans {
		n := need
		n.OnlyPlans = []string{p.ID}
		q, err := cat.GatewayCost(id, n)
		var none *pricing.NoPlanError
		switch {
		case errors.As(err, &none):
			ruledOut = append(ruledOut, none.RuledOut...)
			continue
		case err != nil:
			return pricing.GatewayQuote{}, err
		}
		met, partial, _ := obs.NeedsOnPlan(g, p, spec.ObservabilityNeeds, spec.Team.ConsoleSeats())
		fits = append(fits, candidate{q: q, score: NeedScore(met, partial), logged: Coverage(id, MonthlyLogCap(p, 0), need.RequestsPerMonth)})
	}
	if len(fits) == 0 {
		return pricing.GatewayQuote{Gateway: id, RuledOut: ruledOut}, &pricing.NoPlanError{Gateway: id, RuledOut: ruledOut}
	}
	better := func(a, b candidate) int {
		switch {
		case a.score != b.score:
			return -cmpFloat(a.score, b.score)
		case a.logged != b.logged:
			return -cmpFloat(a.logged, b.logged)
		case a.q.Total != b.q.Total:
			return cmpFloat(a.q.Total, b.q.Total)
		case a.q.Estimate != b.q.Estimate:
			if !a.q.Estimate {
				return -1
			}
			return 1
		}
		return 0
	}
	slices.SortStableFunc(fits, better)
	best := fits[0]
	q := best.q
	q.RuledOut = ruledOut
	for _, f := range fits[1:] {
		why := fmt.Sprintf("fits but costs $%.2f a month, more than %s at $%.2f", f.q.Total, q.Plan, q.Total)
		switch {
		case f.score < best.score:
			why = fmt.Sprintf("meets fewer of the stated needs than %s", q.Plan)
		case f.logged < best.logged:
			why = fmt.Sprintf("logs a smaller share of requests than %s", q.Plan)
		}
		q.RuledOut = append(q.RuledOut, pricing.RuledOut{Plan: f.q.Plan, Reason: why})
	}
	return q, nil
}

// Quote prices one option for this architecture at a volume and provider
// spend a month, on the plan it would be scored on (choosePlan), so that
// the memo's break-even and exclusions use the plans the simulation used.
func (s Spec) Quote(cat *pricing.Catalog, gateway string, requestsPerMonth, spendUSD float64) (pricing.GatewayQuote, error) {
	if cat == nil {
		cat = pricing.Default()
	}
	obs, err := DefaultObservability()
	if err != nil {
		return pricing.GatewayQuote{}, err
	}
	return choosePlan(s, cat, obs, gateway, gatewayNeed(s, requestsPerMonth, spendUSD))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
