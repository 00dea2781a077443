package memo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gatewise/pricing"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// BreakEven is the traffic volume at which the best self-hosted option and
// the best hosted (SaaS) option cost the same a month.
type BreakEven struct {
	SaaS, SelfHosted string
	// Found is false when one is cheaper at every volume from a hundredth to
	// a hundred times today's; CheaperSaaS then says which.
	Found          bool
	RequestsPerDay float64
	// SelfHostedCheaperAbove is true when self-hosting wins above the
	// break-even volume (fixed costs amortised), false when it wins below.
	SelfHostedCheaperAbove bool
	CheaperSaaS            bool
}

// Flip is a priority weight at which another option would be chosen.
type Flip struct {
	Corner string
	From   float64 // today's normalised weight
	To     float64 // the nearest weight that changes the choice
	Chosen string  // what would be chosen there
}

// Variant is the choice under a changed assumption.
type Variant struct {
	Name   string // "outage rates ×2", "token prices +20 %"
	Chosen string
	// Method says how it was computed: "re-simulated, N trials, seed S" or
	// "token costs scaled in the result".
	Method string
}

// breakEven compares the best SaaS and self-hosted options' monthly cost as
// traffic scales: tokens scale linearly, gateway costs are re-quoted by the
// catalog (plans, fees, instances, storage) at each volume. It needs no
// re-simulation because neither cost depends on outages to first order.
func breakEven(spec simulator.Spec, cat *pricing.Catalog, d Decision) *BreakEven {
	var saas, self *OptionScore
	for i := range d.Options {
		o := &d.Options[i]
		switch {
		case o.Hosting == "saas" && saas == nil:
			saas = o
		case o.Hosting == "self-hosted" && self == nil:
			self = o
		}
	}
	if saas == nil || self == nil {
		return nil
	}
	perDay := spec.Traffic.RequestsPerDay
	gap := func(k float64) float64 { // self-hosted minus SaaS cost at k × today's volume
		return monthlyAt(spec, cat, *self, k) - monthlyAt(spec, cat, *saas, k)
	}
	be := &BreakEven{SaaS: saas.Gateway, SelfHosted: self.Gateway}
	lo, glo := 0.01, gap(0.01)
	for k := lo * 1.25; k <= 100; k *= 1.25 {
		g := gap(k)
		if !math.IsInf(g, 0) && !math.IsInf(glo, 0) && (g < 0) != (glo < 0) {
			hi := k
			for range 40 {
				mid := math.Sqrt(lo * hi)
				if (gap(mid) < 0) == (glo < 0) {
					lo = mid
				} else {
					hi = mid
				}
			}
			be.Found, be.RequestsPerDay, be.SelfHostedCheaperAbove = true, perDay*hi, g < 0
			return be
		}
		lo, glo = k, g
	}
	be.CheaperSaaS = gap(1) > 0
	return be
}

// monthlyAt is an option's monthly cost at k times today's volume: its
// simulated token spend scaled, plus the catalog's quote at that volume.
func monthlyAt(spec simulator.Spec, cat *pricing.Catalog, o OptionScore, k float64) float64 {
	tokens := o.Base.CostUSD.Tokens * k
	need := pricing.GatewayNeed{
		RequestsPerMonth: spec.Traffic.RequestsPerDay * k * simulator.HoursPerMonth / 24,
		SpendUSDPerMonth: tokens,
		HIPAA:            spec.Compliance.HIPAA,
		Seats:            spec.Team.Engineers,
		Models:           len(architectureModels(spec)),
		OpsHourlyUSD:     spec.Team.OpsHourlyUSD,
		BYOK:             true,
	}
	for _, j := range spec.Compliance.DataResidency {
		need.Residency = append(need.Residency, j)
	}
	q, err := cat.GatewayCost(o.Gateway, need)
	if err != nil {
		return math.Inf(1)
	}
	return tokens + q.Total
}

// flips moves each priority weight, the others keeping their ratio, and
// reports the nearest weight at which the chosen option changes.
func flips(spec simulator.Spec, d Decision) []Flip {
	var out []Flip
	w := d.Weights
	now := []float64{w.Failover, w.Cost, w.Observability}
	for c, cn := range corners() {
		best := Flip{Corner: cn.name, From: now[c], To: math.NaN()}
		for step := 0; step <= 100; step++ {
			x := float64(step) / 100
			if best.Chosen != "" && math.Abs(x-now[c]) >= math.Abs(best.To-now[c]) {
				continue
			}
			ws := reweigh(now, c, x)
			alt := d.Rescore(spec, simulator.Priorities{Failover: ws[0], Cost: ws[1], Observability: ws[2]})
			if alt.Chosen != d.Chosen {
				best.To, best.Chosen = x, alt.Chosen
			}
		}
		if best.Chosen != "" {
			out = append(out, best)
		}
	}
	return out
}

// reweigh sets corner c's weight to x and shares 1 − x among the others in
// their current ratio (equally when they are both zero).
func reweigh(w []float64, c int, x float64) []float64 {
	out := make([]float64, 3)
	rest := 0.0
	for i := range w {
		if i != c {
			rest += w[i]
		}
	}
	for i := range w {
		switch {
		case i == c:
			out[i] = x
		case rest == 0:
			out[i] = (1 - x) / 2
		default:
			out[i] = (1 - x) * w[i] / rest
		}
	}
	return out
}

// priceVariants re-scores with token prices ±20 %. It scales the token part
// of every option's cost in the result instead of re-running the
// simulation: token spend is linear in price, and the percentage fees that
// also follow spend are left as they are, a difference of at most a fifth
// of those fees.
func priceVariants(spec simulator.Spec, res simulator.Result, cat *pricing.Catalog) []Variant {
	var out []Variant
	for _, f := range []float64{0.8, 1.2} {
		r := res
		r.Results = make([]simulator.OptionResult, len(res.Results))
		for i, o := range res.Results {
			delta := o.CostUSD.Tokens * (f - 1)
			t := &o.CostUSD.Total
			t.Mean, t.P5, t.P50, t.P95 = t.Mean+delta, t.P5+delta, t.P50+delta, t.P95+delta
			t.CI95 = [2]float64{t.CI95[0] + delta, t.CI95[1] + delta}
			o.CostUSD.Tokens *= f
			r.Results[i] = o
		}
		d, err := Score(spec, r, cat)
		if err != nil {
			continue
		}
		out = append(out, Variant{Name: fmt.Sprintf("token prices %+.0f %%", (f-1)*100), Chosen: d.Chosen, Method: "token costs scaled in the result"})
	}
	return out
}

// Outages re-runs the simulation with every provider's and gateway's
// incident rate halved and doubled, on fewer trials with the result's seed
// (so the environments are the same draws, only thinned or thickened), and
// reports the choice under each. Pass what it returns to Write as
// Input.Outages. trials of 0 means 300.
func Outages(ctx context.Context, spec simulator.Spec, profile *traffic.Profile, cat *pricing.Catalog, seed uint64, trials int) ([]Variant, error) {
	if trials <= 0 {
		trials = 300
	}
	if profile == nil {
		return nil, errors.New("memo: outage sensitivity needs the traffic profile")
	}
	var out []Variant
	for _, f := range []float64{0.5, 2} {
		s := scaleOutages(spec, f)
		res, err := simulator.Run(ctx, s, profile, cat, simulator.Options{Trials: trials, Seed: seed})
		if err != nil {
			return nil, err
		}
		d, err := Score(s, res, cat)
		if err != nil {
			return nil, err
		}
		out = append(out, Variant{Name: fmt.Sprintf("outage rates ×%g", f), Chosen: d.Chosen, Method: fmt.Sprintf("re-simulated, %d trials, seed %d", trials, seed)})
	}
	return out, nil
}

// scaleOutages multiplies the incident rate of every provider and gateway,
// keeping the architecture's other overrides.
func scaleOutages(spec simulator.Spec, f float64) simulator.Spec {
	im := spec.IncidentModels()
	om := simulator.OutageModel{Providers: map[string]simulator.IncidentOverride{}, Gateways: map[string]simulator.IncidentOverride{}}
	if spec.OutageModel != nil {
		om.CommonMode = spec.OutageModel.CommonMode
	}
	for _, p := range spec.Providers {
		o := simulator.IncidentOverride{}
		if spec.OutageModel != nil {
			o = spec.OutageModel.Providers[p.ID]
		}
		if m, ok := im.Providers[p.ID]; ok {
			v := m.PerMonth * f
			o.IncidentsPerMonth = &v
			om.Providers[p.ID] = o
		}
	}
	for _, g := range spec.Gateways {
		o := simulator.IncidentOverride{}
		if spec.OutageModel != nil {
			o = spec.OutageModel.Gateways[g]
		}
		if m, ok := im.Gateways[g]; ok {
			v := m.PerMonth * f
			o.IncidentsPerMonth = &v
			om.Gateways[g] = o
		}
	}
	spec.OutageModel = &om
	return spec
}

func architectureModels(s simulator.Spec) []string {
	var out []string
	for _, r := range s.Routes {
		for _, m := range r.Models {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}
