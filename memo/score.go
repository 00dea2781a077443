package memo

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gatewise/pricing"
	"gatewise/simulator"
)

// NoGatewayMaxRequestsPerDay is the volume under which a one-provider app
// with no compliance needs calls its provider directly. 100k requests a day
// is 3M a month: below it an hour-long provider incident touches at most
// about 4,200 requests, which retries and an apology absorb, while a gateway
// adds a dependency, latency and a bill; above it the hosted gateways' free
// allowances (1M BYOK requests, 10k logs a month) no longer cover the
// traffic, so the trade is worth simulating in earnest.
const NoGatewayMaxRequestsPerDay = 100_000

// clearWin is how many overall points an option must gain over direct, on
// top of the intervals, to overturn the "no gateway yet" rule: a tenth of
// the scale. It must also fail fewer requests than direct beyond the
// intervals, so a gateway is only added when the simulation clearly pays for
// it.
const clearWin = 10

// Decision is the scored comparison and its recommendation.
type Decision struct {
	// Baseline is the scenario the cost and observability scores come from.
	Baseline string
	// Weights are the architecture's priorities, normalised to sum to 1.
	Weights simulator.Priorities
	// Options are the eligible options, best overall first.
	Options []OptionScore
	// Excluded are the options a hard constraint rules out, with the reason.
	Excluded []Exclusion
	// Checks are compliance facts the catalog cannot settle, to verify.
	Checks []string
	// Chosen is the recommended option; Tied lists every option whose score
	// is within the intervals of Chosen's (Chosen first), when there are
	// several.
	Chosen string
	Tied   []string
	// NoGatewayYet is true when the "you don't need a gateway yet" rule
	// chose direct.
	NoGatewayYet bool
	// Reason is the decision in one line.
	Reason string
}

// OptionScore is one eligible option on the triangle, each score 0–100.
type OptionScore struct {
	Gateway       string
	Hosting       string // "none", "saas" or "self-hosted"
	Failover      float64
	Cost          float64
	Observability float64
	Overall       float64
	// Margin is the half-width of Overall's 95 % interval, from the
	// intervals of the means the scores come from.
	Margin float64
	// Base is the option under the baseline scenario; Worst under the named
	// scenario where it fails most (Base when there is none).
	Base, Worst simulator.OptionResult
	failLo      float64 // Failover at the interval's ends
	failHi      float64
	costLo      float64
	costHi      float64
}

// Exclusion is an option ruled out by a hard constraint.
type Exclusion struct {
	Gateway string
	Reason  string
}

// Option finds an eligible option's score.
func (d Decision) Option(id string) (OptionScore, bool) {
	i := slices.IndexFunc(d.Options, func(o OptionScore) bool { return o.Gateway == id })
	if i < 0 {
		return OptionScore{}, false
	}
	return d.Options[i], true
}

// Score applies the hard constraints, scores the remaining options and picks
// one.
//
// Scores, each 0–100:
//
//	failure share f = ½(1 − success_baseline) + ½(1 − success_worst), where
//	  worst is the named scenario in which the option fails most
//	Failover = clamp(100 × (−log10 f − 2) / 3): 99 % success scores 0,
//	  99.999 % scores 100, each extra nine is worth a third of the scale
//	Cost = 100 × C_min / C, C the baseline's mean monthly total (tokens,
//	  gateway fees, infrastructure, operations) and C_min the cheapest
//	  eligible option's: twice the cheapest scores 50
//	Observability = 100 × (coverage + needs met / needs stated) / 2, or
//	  100 × coverage when no needs are stated
//	Overall = w_f·Failover + w_c·Cost + w_o·Observability, w the priorities
//	  normalised to sum to 1
//
// Margin carries the 95 % intervals of the mean success rates and costs
// through the same formulas. Two options are tied when their overall scores
// differ by no more than the sum of their margins.
func Score(spec simulator.Spec, res simulator.Result, cat *pricing.Catalog) (Decision, error) {
	if cat == nil {
		cat = pricing.Default()
	}
	if len(res.Results) == 0 {
		return Decision{}, errors.New("memo: the result has no options")
	}
	d := Decision{Baseline: baselineScenario(res), Weights: normalise(spec.Priorities)}
	for _, id := range gatewayOrder(res) {
		base, ok := find(res, id, d.Baseline)
		if !ok {
			continue
		}
		if reason := exclusion(spec, cat, base); reason != "" {
			d.Excluded = append(d.Excluded, Exclusion{Gateway: id, Reason: reason})
			continue
		}
		o := OptionScore{Gateway: id, Hosting: hosting(cat, id), Base: base, Worst: worstScenario(res, id, d.Baseline, base)}
		o.Failover, o.failLo, o.failHi = failoverScore(o.Base, o.Worst)
		o.Observability = observabilityScore(base.Observability)
		d.Options = append(d.Options, o)
	}
	if len(d.Options) == 0 {
		return d, errors.New("memo: every option is excluded by a hard constraint")
	}
	scoreCost(d.Options)
	d.Checks = complianceChecks(spec, cat, d.Options)
	d.rank()
	d.choose(spec)
	return d, nil
}

// Rescore ranks the same options under other weights; sensitivity uses it
// to find where the ranking flips.
func (d Decision) Rescore(spec simulator.Spec, w simulator.Priorities) Decision {
	out := d
	out.Options = slices.Clone(d.Options)
	out.Weights = normalise(w)
	spec.Priorities = w
	out.rank()
	out.choose(spec)
	return out
}

func (d *Decision) rank() {
	w := d.Weights
	for i := range d.Options {
		o := &d.Options[i]
		o.Overall = w.Failover*o.Failover + w.Cost*o.Cost + w.Observability*o.Observability
		o.Margin = w.Failover*(o.failHi-o.failLo)/2 + w.Cost*(o.costHi-o.costLo)/2
	}
	slices.SortStableFunc(d.Options, func(a, b OptionScore) int {
		switch {
		case a.Overall > b.Overall:
			return -1
		case a.Overall < b.Overall:
			return 1
		}
		return 0
	})
}

// tied reports whether two options are within their intervals of each
// other. The 0.05 floor is the memo's display precision: scores that print
// the same are never ranked.
func tied(a, b OptionScore) bool {
	return math.Abs(a.Overall-b.Overall) <= a.Margin+b.Margin+0.05
}

// choose picks the recommendation: the best overall, unless it is tied
// (then the tied option best on the dominant corner leads, and the memo says
// it is a tie) or the "no gateway yet" rule applies.
func (d *Decision) choose(spec simulator.Spec) {
	d.Tied, d.NoGatewayYet = nil, false
	top := d.Options[0]
	for _, o := range d.Options {
		if tied(top, o) {
			d.Tied = append(d.Tied, o.Gateway)
		}
	}
	d.Chosen = top.Gateway
	if len(d.Tied) > 1 {
		corner := dominant(d.Weights)
		best := top
		for _, id := range d.Tied {
			o, _ := d.Option(id)
			if corner.of(o) > corner.of(best) {
				best = o
			}
		}
		d.Chosen = best.Gateway
		d.Tied = append([]string{best.Gateway}, slices.DeleteFunc(slices.Clone(d.Tied), func(s string) bool { return s == best.Gateway })...)
	} else {
		d.Tied = nil
	}
	if direct, ok := d.Option("direct"); ok && noGatewayCase(spec) {
		// Only a gain the simulation measures overturns the rule: more
		// than clearWin points overall and fewer failures beyond the
		// intervals. Logging alone does not make a gateway worth adding.
		clear := top.Gateway != "direct" && top.Overall-direct.Overall > top.Margin+direct.Margin+clearWin &&
			top.failLo > direct.failHi
		if !clear {
			d.Chosen, d.NoGatewayYet, d.Tied = "direct", true, nil
		}
	}
	d.Reason = d.reason()
}

// noGatewayCase is the "you don't need a gateway yet" situation: one
// provider, low volume, no compliance rule.
func noGatewayCase(spec simulator.Spec) bool {
	c := spec.Compliance
	return len(spec.Providers) == 1 && spec.Traffic.RequestsPerDay < NoGatewayMaxRequestsPerDay &&
		len(c.DataResidency) == 0 && !c.SOC2 && !c.HIPAA && !c.ZeroDataRetention && !c.NoThirdPartyInPath
}

func (d Decision) reason() string {
	c, _ := d.Option(d.Chosen)
	corner := dominant(d.Weights)
	switch {
	case d.NoGatewayYet:
		return fmt.Sprintf("one provider, under %s requests a day and no compliance rule: a gateway would add a dependency and a bill without a failover target to move to", thousands(NoGatewayMaxRequestsPerDay))
	case len(d.Tied) > 1:
		return fmt.Sprintf("%s are tied within the simulation's intervals; %s leads on %s, the corner that weighs most", joinAnd(d.Tied), d.Chosen, corner.name)
	case len(d.Options) == 1:
		return fmt.Sprintf("it is the only option that meets the hard constraints (overall %.1f)", c.Overall)
	}
	r := d.Options[1]
	reason := fmt.Sprintf("best overall at %.1f against %.1f for %s", c.Overall, r.Overall, r.Gateway)
	// Say where the lead comes from: the heaviest corner if the choice
	// leads there, else the corner that carries it, and who leads the
	// heaviest one instead.
	lead := corner
	for _, k := range corners() {
		if k.weight(d.Weights)*(k.of(c)-k.of(r)) > lead.weight(d.Weights)*(lead.of(c)-lead.of(r)) {
			lead = k
		}
	}
	best := c
	for _, o := range d.Options {
		if corner.of(o) > corner.of(best) {
			best = o
		}
	}
	if best.Gateway == c.Gateway {
		return reason + fmt.Sprintf(", and the best on %s (%.1f), the corner that weighs most", corner.name, corner.of(c))
	}
	return reason + fmt.Sprintf(", carried by %s (%.1f against %.1f); %s scores higher on %s, the corner that weighs most (%.1f against %.1f)",
		lead.name, lead.of(c), lead.of(r), best.Gateway, corner.name, corner.of(best), corner.of(c))
}

// corner is one side of the triangle.
type corner struct {
	name string
	of   func(OptionScore) float64
}

// weight is the corner's share of the priorities.
func (k corner) weight(w simulator.Priorities) float64 {
	switch k.name {
	case "failover":
		return w.Failover
	case "cost":
		return w.Cost
	}
	return w.Observability
}

func corners() []corner {
	return []corner{
		{"failover", func(o OptionScore) float64 { return o.Failover }},
		{"cost", func(o OptionScore) float64 { return o.Cost }},
		{"observability", func(o OptionScore) float64 { return o.Observability }},
	}
}

// dominant is the corner with the largest weight; failover wins an equal
// split, since an outage is the costliest way to be wrong.
func dominant(w simulator.Priorities) corner {
	cs := corners()
	ws := []float64{w.Failover, w.Cost, w.Observability}
	best := 0
	for i := range ws {
		if ws[i] > ws[best] {
			best = i
		}
	}
	return cs[best]
}

func normalise(p simulator.Priorities) simulator.Priorities {
	sum := p.Failover + p.Cost + p.Observability
	if sum <= 0 {
		return simulator.Priorities{Failover: 1.0 / 3, Cost: 1.0 / 3, Observability: 1.0 / 3}
	}
	return simulator.Priorities{Failover: p.Failover / sum, Cost: p.Cost / sum, Observability: p.Observability / sum}
}

// failoverScore is the nines-based score and its values at the ends of the
// success rates' intervals.
func failoverScore(base, worst simulator.OptionResult) (score, lo, hi float64) {
	at := func(b, w float64) float64 {
		f := (1-b)/2 + (1-w)/2
		nines := -math.Log10(math.Max(f, 1e-9))
		return math.Min(100, math.Max(0, 100*(nines-2)/3))
	}
	return at(base.SuccessRate.Mean, worst.SuccessRate.Mean),
		at(base.SuccessRate.CI95[0], worst.SuccessRate.CI95[0]),
		at(base.SuccessRate.CI95[1], worst.SuccessRate.CI95[1])
}

func scoreCost(opts []OptionScore) {
	cmin := math.Inf(1)
	for _, o := range opts {
		cmin = math.Min(cmin, o.Base.CostUSD.Total.Mean)
	}
	s := func(c float64) float64 {
		if c <= 0 {
			return 100
		}
		return math.Min(100, 100*cmin/c)
	}
	for i := range opts {
		t := opts[i].Base.CostUSD.Total
		opts[i].Cost, opts[i].costLo, opts[i].costHi = s(t.Mean), s(t.CI95[1]), s(t.CI95[0])
	}
}

func observabilityScore(o simulator.Observability) float64 {
	needs := len(o.NeedsMet) + len(o.NeedsMissing)
	if needs == 0 {
		return 100 * o.Coverage
	}
	return 100 * (o.Coverage + float64(len(o.NeedsMet))/float64(needs)) / 2
}

// exclusion is why an option cannot be used, from the result or, where the
// result is silent, from the catalog's facts.
func exclusion(spec simulator.Spec, cat *pricing.Catalog, r simulator.OptionResult) string {
	if r.Excluded != nil {
		return *r.Excluded
	}
	h := hosting(cat, r.Gateway)
	if spec.Compliance.NoThirdPartyInPath && h == "saas" {
		return fmt.Sprintf("no third party may be in the request path, and %s is a hosted service in it", r.Gateway)
	}
	need := pricing.GatewayNeed{
		RequestsPerMonth: spec.Traffic.RequestsPerDay * simulator.HoursPerMonth / 24,
		SpendUSDPerMonth: r.CostUSD.Tokens,
		HIPAA:            spec.Compliance.HIPAA,
		Seats:            spec.Team.Engineers,
		OpsHourlyUSD:     spec.Team.OpsHourlyUSD,
		BYOK:             true,
	}
	for _, j := range spec.Compliance.DataResidency {
		if !slices.Contains(need.Residency, j) {
			need.Residency = append(need.Residency, j)
		}
	}
	var none *pricing.NoPlanError
	if _, err := cat.GatewayCost(r.Gateway, need); errors.As(err, &none) {
		return none.Error()
	}
	return ""
}

// complianceChecks lists the rules the catalog holds no fact for or only a
// conditional one: the memo asks the team to confirm them rather than
// guessing either way.
func complianceChecks(spec simulator.Spec, cat *pricing.Catalog, opts []OptionScore) []string {
	c := spec.Compliance
	var out []string
	var hosted []string
	for _, o := range opts {
		if o.Hosting == "saas" {
			hosted = append(hosted, o.Gateway)
		}
	}
	var zdrPartial []string
	for _, id := range hosted {
		g, ok := cat.Gateway(id)
		if ok && c.ZeroDataRetention && g.ZeroDataRetention.Value != "yes" {
			zdrPartial = append(zdrPartial, fmt.Sprintf("%s (%s: %s)", id, g.ZeroDataRetention.Value, g.ZeroDataRetention.Note))
		}
	}
	if len(zdrPartial) > 0 {
		out = append(out, "zero data retention is only partly offered by "+strings.Join(zdrPartial, "; "))
	}
	for _, p := range spec.Providers {
		pr, ok := cat.Provider(p.ID)
		if !ok {
			continue
		}
		if c.ZeroDataRetention && pr.Compliance.ZeroDataRetention.Value != "yes" {
			out = append(out, fmt.Sprintf("zero data retention at %s is %q (%s)", p.ID, pr.Compliance.ZeroDataRetention.Value, pr.Compliance.ZeroDataRetention.Source))
		}
		if c.HIPAA && pr.Compliance.HIPAABAA.Value != "yes" {
			out = append(out, fmt.Sprintf("HIPAA BAA at %s is %q (%s)", p.ID, pr.Compliance.HIPAABAA.Value, pr.Compliance.HIPAABAA.Source))
		}
		if c.SOC2 && pr.Compliance.SOC2.Value != "yes" {
			out = append(out, fmt.Sprintf("SOC 2 at %s is %q (%s)", p.ID, pr.Compliance.SOC2.Value, pr.Compliance.SOC2.Source))
		}
	}
	if c.ZeroDataRetention && len(hosted) > 0 {
		out = append(out, fmt.Sprintf("zero data retention: turn off request-body logging in %s", joinAnd(hosted)))
	}
	return out
}

func hosting(cat *pricing.Catalog, id string) string {
	if g, ok := cat.Gateway(id); ok {
		return g.Hosting
	}
	return "saas"
}

func baselineScenario(res simulator.Result) string {
	for _, r := range res.Results {
		if r.Scenario == "baseline" {
			return "baseline"
		}
	}
	return res.Results[0].Scenario
}

func gatewayOrder(res simulator.Result) []string {
	var out []string
	for _, r := range res.Results {
		if !slices.Contains(out, r.Gateway) {
			out = append(out, r.Gateway)
		}
	}
	return out
}

func find(res simulator.Result, gateway, scenario string) (simulator.OptionResult, bool) {
	for _, r := range res.Results {
		if r.Gateway == gateway && r.Scenario == scenario {
			return r, true
		}
	}
	return simulator.OptionResult{}, false
}

func worstScenario(res simulator.Result, gateway, baseline string, base simulator.OptionResult) simulator.OptionResult {
	worst := base
	for _, r := range res.Results {
		if r.Gateway == gateway && r.Scenario != baseline && (worst.Scenario == baseline || r.SuccessRate.Mean < worst.SuccessRate.Mean) {
			worst = r
		}
	}
	return worst
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// thousands writes a number with thousands separators and no decimals.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", math.Abs(v))
	var b strings.Builder
	if v < 0 && s != "0" {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
