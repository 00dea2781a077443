package memo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"gatewise/pricing"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// BreakEven is the traffic volume at which the chosen option and the best
// option of the other kind (self-hosted or hosted, SaaS) cost the same a
// month, nearest today's; with direct calls chosen, the best of each kind.
type BreakEven struct {
	SaaS, SelfHosted string
	// Found is false when the cheaper of the two stays cheaper at every
	// volume from a hundredth to a hundred times today's; CheaperSaaS then
	// says which it is.
	Found          bool
	RequestsPerDay float64
	// Rising says the crossing lies above today's volume (traffic must
	// rise to reach it), false below.
	Rising bool
	// CheaperAfter is the option that costs less once traffic crosses it.
	CheaperAfter string
	CheaperSaaS  bool
}

// Variant is the choice under a changed assumption.
type Variant struct {
	Name   string // "provider incident rates ×2", "token prices +20 %"
	Chosen string
	// Method says how it was computed: "re-simulated, N trials, seed S" or
	// "token costs scaled in the result".
	Method string
	// FallbackShares is, per option, the share of requests served from a
	// fallback under the variant, when it was re-simulated: the fallback
	// share in production is how a team sees the variant coming true.
	FallbackShares map[string]float64 `json:",omitempty"`
	// Factor is the multiplier on incident rates or prices, or the share
	// of retries failing together (OfRetries).
	Factor float64 `json:",omitempty"`
	// Of is what an outage variant scales: OfProviders or OfGateways.
	Of string `json:",omitempty"`
	// Control is the choice on the variant's trials at the modelled
	// rates: the variant changes the choice only when it differs from it.
	Control string `json:",omitempty"`
	Trials  int    `json:",omitempty"`
}

// breakEven compares the best SaaS and self-hosted options' monthly cost as
// traffic scales: tokens scale linearly, gateway costs are re-quoted on the
// plans the simulation would choose (fees, instances, storage) at each
// volume. It needs no re-simulation because neither cost depends on
// outages to first order. The crossing reported is the nearest to today's
// volume, in whichever direction.
func breakEven(spec simulator.Spec, cat *pricing.Catalog, d Decision) *BreakEven {
	// The chosen option against the best of the other kind; for direct
	// calls, the best of each kind (the gateway a team would add later).
	var saas, self *OptionScore
	if c, ok := d.Option(d.Chosen); ok {
		for i := range d.Options {
			if d.Options[i].Gateway == c.Gateway {
				switch c.Hosting {
				case "saas":
					saas = &d.Options[i]
				case "self-hosted":
					self = &d.Options[i]
				}
			}
		}
	}
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
	perDay := d.RequestsPerDay
	gap := func(k float64) float64 { // self-hosted minus SaaS cost at k × today's volume
		return monthlyAt(spec, cat, *self, perDay, k) - monthlyAt(spec, cat, *saas, perDay, k)
	}
	be := &BreakEven{SaaS: saas.Gateway, SelfHosted: self.Gateway}
	now := gap(1)
	// Walk away from today in both directions and keep the nearer
	// crossing.
	type crossing struct{ k, gapAfter float64 }
	find := func(step float64) *crossing {
		lo, glo := 1.0, now
		for k := step; k >= 0.01-1e-12 && k <= 100+1e-9; k *= step {
			g := gap(k)
			if math.IsInf(g, 0) || math.IsInf(glo, 0) || math.IsNaN(g) || (g < 0) == (glo < 0) {
				lo, glo = k, g
				continue
			}
			hi := k
			for range 40 {
				mid := math.Sqrt(lo * hi)
				if (gap(mid) < 0) == (glo < 0) {
					lo = mid
				} else {
					hi = mid
				}
			}
			return &crossing{hi, g}
		}
		return nil
	}
	up, down := find(1.25), find(0.8)
	c, rising := up, true
	if down != nil && (up == nil || math.Abs(math.Log(down.k)) < math.Abs(math.Log(up.k))) {
		c, rising = down, false
	}
	if c == nil {
		be.CheaperSaaS = now > 0
		return be
	}
	be.Found, be.RequestsPerDay, be.Rising = true, perDay*c.k, rising
	be.CheaperAfter = saas.Gateway
	if c.gapAfter < 0 {
		be.CheaperAfter = self.Gateway
	}
	return be
}

// monthlyAt is an option's monthly cost at k times today's volume: its
// simulated token spend scaled, plus the quote at that volume on the plan
// the simulation would choose there.
func monthlyAt(spec simulator.Spec, cat *pricing.Catalog, o OptionScore, perDay, k float64) float64 {
	tokens := o.Base.CostUSD.Tokens * k
	q, err := spec.Quote(cat, o.Gateway, perDay*k*simulator.HoursPerMonth/24, tokens)
	if err != nil {
		return math.Inf(1)
	}
	return tokens + q.Total
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
		out = append(out, Variant{Name: fmt.Sprintf("token prices %+.0f %%", (f-1)*100), Chosen: d.Chosen, Method: "token costs scaled in the result", Factor: f})
	}
	return out
}

// Outages re-runs the simulation with the providers' incident rates
// halved and doubled, then the gateways' own, on fewer trials with the
// result's seed (so the environments are the same draws, only thinned or
// thickened), and reports the choice under each. The two are apart because
// a team watches them apart: its providers' status pages, its gateway's
// own. Pass what it returns to Write as Input.Outages. trials of 0 means
// OutageTrials.
func Outages(ctx context.Context, spec simulator.Spec, profile *traffic.Profile, cat *pricing.Catalog, seed uint64, trials int) ([]Variant, error) {
	if trials <= 0 {
		trials = OutageTrials
	}
	if profile == nil {
		return nil, errors.New("memo: outage sensitivity needs the traffic profile")
	}
	// The control: the same trials and seed at the modelled rates. A close
	// call can come out differently on fewer trials than the result's, so
	// a variant changes the choice only when it differs from this.
	_, d0, err := runAndScore(ctx, spec, profile, cat, trials, seed, nil)
	if err != nil {
		return nil, err
	}
	var out []Variant
	for _, of := range []string{OfProviders, OfGateways} {
		if of == OfGateways && !slices.ContainsFunc(spec.Gateways, func(g string) bool { return g != "direct" }) {
			continue
		}
		for _, f := range []float64{0.5, 2} {
			res, d, err := runAndScore(ctx, scaleOutages(spec, of, f), profile, cat, trials, seed, nil)
			if err != nil {
				return nil, err
			}
			v := Variant{Name: fmt.Sprintf("%s incident rates ×%g", strings.TrimSuffix(of, "s"), f), Chosen: d.Chosen,
				Method: fmt.Sprintf("re-simulated, %d trials, seed %d", trials, seed), Factor: f, Of: of, Control: d0.Chosen, Trials: trials,
				FallbackShares: map[string]float64{}}
			for _, r := range res.Results {
				if r.Scenario == d.Baseline {
					v.FallbackShares[r.Gateway] = r.FallbackShare
				}
			}
			out = append(out, v)
		}
	}
	// The share of retries that fail with the attempt before them is an
	// estimate (0.5): none and all of them bracket it.
	for _, rho := range []float64{0, 1} {
		_, d, err := runAndScore(ctx, spec, profile, cat, trials, seed, &rho)
		if err != nil {
			return nil, err
		}
		out = append(out, Variant{Name: fmt.Sprintf("retries failing together %.0f %%", 100*rho), Chosen: d.Chosen,
			Method: fmt.Sprintf("re-simulated, %d trials, seed %d", trials, seed), Factor: rho, Of: OfRetries, Control: d0.Chosen, Trials: trials})
	}
	return out, nil
}

// OutageTrials is how many trials each incident-rate variant runs: enough
// to separate options a point or two apart (the example's 1,000 trials of
// five runs take about a second and a half), against the result's 10,000.
const OutageTrials = 1000

// runAndScore simulates spec on trials with seed and scores the result.
func runAndScore(ctx context.Context, spec simulator.Spec, profile *traffic.Profile, cat *pricing.Catalog, trials int, seed uint64, rho *float64) (simulator.Result, Decision, error) {
	res, err := simulator.Run(ctx, spec, profile, cat, simulator.Options{Trials: trials, Seed: seed, RetryCorrelation: rho})
	if err != nil {
		return res, Decision{}, err
	}
	d, err := Score(spec, res, cat)
	return res, d, err
}

// What an outage variant scales: the providers' incident rates or the
// gateways' own.
const (
	OfProviders = "providers"
	OfGateways  = "gateways"
	// OfRetries: the share of retries that fail with the attempt before
	// them, 0 or 1 (Factor), against the estimated 0.5.
	OfRetries = "retries"
)

// scaleOutages multiplies the incident rate of every provider, or of every
// gateway's own platform, keeping the architecture's other overrides.
func scaleOutages(spec simulator.Spec, of string, f float64) simulator.Spec {
	im := spec.IncidentModels()
	om := simulator.OutageModel{Providers: map[string]simulator.IncidentOverride{}, Gateways: map[string]simulator.IncidentOverride{}}
	if spec.OutageModel != nil {
		om.CommonMode = spec.OutageModel.CommonMode
		maps.Copy(om.Providers, spec.OutageModel.Providers)
		maps.Copy(om.Gateways, spec.OutageModel.Gateways)
	}
	scale := func(into map[string]simulator.IncidentOverride, models map[string]simulator.IncidentModel, id string) {
		if m, ok := models[id]; ok {
			o := into[id]
			v := m.PerMonth * f
			o.IncidentsPerMonth = &v
			into[id] = o
		}
	}
	if of == OfProviders {
		for _, p := range spec.Providers {
			scale(om.Providers, im.Providers, p.ID)
		}
	} else {
		for _, g := range spec.Gateways {
			scale(om.Gateways, im.Gateways, g)
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
