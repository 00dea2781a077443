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

// clearFailoverGain is the share of requests a gateway must spare from
// failing (one in two hundred) to overturn the "no gateway yet" rule: an
// app that calls one provider at low volume gains logs and cost tracking
// from any gateway, which the scores count, but only failures its users
// would notice pay for a new dependency in the path; a single provider's
// incidents cost such an app a fraction of that, which the SDK's retries
// and an apology absorb.
const clearFailoverGain = 0.005

// Decision is the scored comparison and its recommendation.
type Decision struct {
	// Baseline is the scenario the scores come from: the sampled months,
	// every option's own incidents at their sourced rates.
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
	// Compared is how many options the architecture compared, excluded
	// ones included.
	Compared int
	// RequestsPerDay is the volume the rules read: as simulated when the
	// result says, else the architecture's.
	RequestsPerDay float64
	// Reason is the decision in one line.
	Reason string
	// cov pairs the options' trials under the baseline, when the result
	// carries it (results from before it did compare intervals).
	cov *simulator.Covariance
}

// OptionScore is one eligible option on the triangle, each score 0–100.
type OptionScore struct {
	Gateway       string
	Hosting       string // "none", "saas" or "self-hosted"
	Failover      float64
	Cost          float64
	Observability float64
	Overall       float64
	// Bill and Tracking are the two halves of Cost: the monthly bill
	// against the cheapest option's, and the cost tracking the option
	// gives (dollars per request, attribution, budgets, alerts).
	Bill, Tracking float64
	// Margin is the half-width of Overall's 95 % interval, from the
	// intervals of the means the scores come from.
	Margin float64
	// Base is the option in the sampled months (the baseline scenario);
	// Worst is the named stress test in which it fails most (Base when
	// there is none), reported beside the score, never weighted into it.
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
// Scores, each 0–100, from the sampled months (the baseline scenario):
//
//	failure share f = ½·f_mean + ½·f_p95: the mean month's failed share and
//	  the 95th-percentile month's, so a tail of bad months counts
//	Failover = clamp(100 × (−log10 f − 2) / 3): 99 % success scores 0,
//	  99.999 % scores 100, each extra nine is worth a third of the scale
//	Cost = ½·Bill + ½·Tracking: Bill = 100 × C_min / C, C the mean monthly
//	  total (tokens, gateway fees, infrastructure, operations) and C_min
//	  the cheapest eligible option's; Tracking = 100 × the cost tracking
//	  met (per-request cost, attribution by user and feature, budgets,
//	  alerts, a quarter each, partial a half of that)
//	Observability = 100 × (coverage + needs met / needs stated) / 2, a
//	  partly met need counting a half, or 100 × coverage with no needs
//	Overall = w_f·Failover + w_c·Cost + w_o·Observability, w the priorities
//	  normalised to sum to 1
//
// Named scenarios are stress tests: their failed requests are reported
// beside the scores, never weighted as if they happened every month.
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
	d := Decision{Baseline: baselineScenario(res), Weights: normalise(spec.Priorities), RequestsPerDay: res.RequestsPerDay}
	if c := res.Covariance; c != nil && c.Scenario == d.Baseline && validCovariance(c) {
		d.cov = c
	}
	if d.RequestsPerDay <= 0 {
		d.RequestsPerDay = spec.Traffic.RequestsPerDay
	}
	for _, id := range gatewayOrder(res) {
		base, ok := find(res, id, d.Baseline)
		if !ok {
			continue
		}
		d.Compared++
		if reason := exclusion(spec, cat, base); reason != "" {
			d.Excluded = append(d.Excluded, Exclusion{Gateway: id, Reason: reason})
			continue
		}
		o := OptionScore{Gateway: id, Hosting: hosting(cat, id), Base: base, Worst: worstScenario(res, id, d.Baseline, base)}
		o.Failover, o.failLo, o.failHi = failoverScore(o.Base)
		o.Observability = observabilityScore(base.Observability)
		o.Tracking = 100 * base.Observability.CostTracking.Score()
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

// Rescore ranks the same options under other weights.
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

// tiedWith is tied on the paired interval of the two options' difference
// when the result pairs their trials: options that met the same incidents
// differ by much less than the sum of their separate margins, which would
// call a steady gap a tie.
func (d Decision) tiedWith(a, b OptionScore) bool {
	if m, ok := d.pairedMargin(a, b); ok {
		return math.Abs(a.Overall-b.Overall) <= m+0.05
	}
	return tied(a, b)
}

// pairedMargin is the half-width of the 95 % interval of a's overall score
// less b's. The scores move with the mean success share (Failover) and the
// mean monthly cost (Cost) at the slopes their own intervals give, so the
// difference's variance is the covariance of those four means, weighted.
func (d Decision) pairedMargin(a, b OptionScore) (float64, bool) {
	c := d.cov
	if c == nil {
		return 0, false
	}
	ia, ib := slices.Index(c.Options, a.Gateway), slices.Index(c.Options, b.Gateway)
	if ia < 0 || ib < 0 {
		return 0, false
	}
	w := d.Weights
	at := [4]int{2 * ia, 2*ia + 1, 2 * ib, 2*ib + 1}
	coef := [4]float64{w.Failover * a.failSlope(), w.Cost * a.costSlope(), -w.Failover * b.failSlope(), -w.Cost * b.costSlope()}
	v := 0.0
	for i := range at {
		for j := range at {
			v += coef[i] * coef[j] * c.Matrix[at[i]][at[j]]
		}
	}
	return 1.96 * math.Sqrt(max(v, 0)/float64(c.Trials)), true
}

// failSlope is Failover's change per unit of mean success share, across
// the mean's interval (0 when the interval is empty or the score pinned).
func (o OptionScore) failSlope() float64 {
	lo, hi := o.Base.SuccessRate.CI95[0], o.Base.SuccessRate.CI95[1]
	if hi <= lo {
		return 0
	}
	return (o.failHi - o.failLo) / (hi - lo)
}

// costSlope is Cost's change per dollar of mean monthly cost.
func (o OptionScore) costSlope() float64 {
	lo, hi := o.Base.CostUSD.Total.CI95[0], o.Base.CostUSD.Total.CI95[1]
	if hi <= lo {
		return 0
	}
	return (o.costLo - o.costHi) / (hi - lo)
}

// validCovariance checks a covariance read from a stored result: square,
// two variables per option, trials to divide by.
func validCovariance(c *simulator.Covariance) bool {
	n := 2 * len(c.Options)
	if c.Trials < 2 || len(c.Matrix) != n {
		return false
	}
	for _, row := range c.Matrix {
		if len(row) != n {
			return false
		}
	}
	return true
}

// choose picks the recommendation: the best overall, unless it is tied
// (then the tied option best on the dominant corner leads, and the memo says
// it is a tie) or the "no gateway yet" rule applies.
func (d *Decision) choose(spec simulator.Spec) {
	d.Tied, d.NoGatewayYet = nil, false
	top := d.Options[0]
	for _, o := range d.Options {
		if d.tiedWith(top, o) {
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
	if direct, ok := d.Option("direct"); ok && noGatewayCase(spec, d.RequestsPerDay) {
		// Only a gain the simulation measures overturns the rule: more
		// than clearWin points overall and fewer failures beyond the
		// intervals. Logging alone does not make a gateway worth adding.
		spared := (1 - direct.Base.SuccessRate.Mean) - (1 - top.Base.SuccessRate.Mean)
		clear := top.Gateway != "direct" && top.Overall-direct.Overall > top.Margin+direct.Margin+clearWin &&
			top.failLo > direct.failHi && spared > clearFailoverGain
		if !clear {
			d.Chosen, d.NoGatewayYet, d.Tied = "direct", true, nil
		}
	}
	d.Reason = d.reason()
}

// noGatewayCase is the "you don't need a gateway yet" situation: one
// provider, low volume, no compliance rule.
func noGatewayCase(spec simulator.Spec, requestsPerDay float64) bool {
	c := spec.Compliance
	return len(spec.Providers) == 1 && requestsPerDay < NoGatewayMaxRequestsPerDay &&
		len(c.DataResidency) == 0 && !c.SOC2 && !c.HIPAA && !c.ZeroDataRetention && !c.NoThirdPartyInPath
}

func (d Decision) reason() string {
	c, _ := d.Option(d.Chosen)
	corner := dominant(d.Weights)
	heaviest := d.heaviest()
	switch {
	case d.NoGatewayYet:
		best := c
		for _, o := range d.Options {
			if o.Gateway != "direct" && (best.Gateway == "direct" || o.Base.FailedRequests.Mean < best.Base.FailedRequests.Mean) {
				best = o
			}
		}
		if best.Gateway == "direct" {
			return fmt.Sprintf("one provider, under %s requests a day and no compliance rule, and no gateway was compared", thousands(NoGatewayMaxRequestsPerDay))
		}
		return fmt.Sprintf("one provider, under %s requests a day and no compliance rule: direct calls fail %s requests a month and the most reliable gateway, %s, %s, not a clear enough gain to pay for a new dependency, its latency and its bill",
			thousands(NoGatewayMaxRequestsPerDay), thousands(c.Base.FailedRequests.Mean), best.Gateway, thousands(best.Base.FailedRequests.Mean))
	case len(d.Tied) > 1:
		// The memo's table rounds corner scores to whole points: a lead
		// under half a point is no lead a reader can see.
		level, ahead := true, true
		for _, id := range d.Tied[1:] {
			o, _ := d.Option(id)
			level = level && corner.of(c)-corner.of(o) < 0.5
			ahead = ahead && c.Overall > o.Overall
		}
		if level {
			rest := "is marginally ahead overall"
			if !ahead {
				rest = "comes first in the table"
			}
			return fmt.Sprintf("%s are tied within the simulation's intervals and level on %s, %s; %s %s", joinAnd(d.Tied), corner.name, heaviest, d.Chosen, rest)
		}
		reason := fmt.Sprintf("%s are tied within the simulation's intervals; %s leads them on %s, %s", joinAnd(d.Tied), d.Chosen, corner.name, heaviest)
		// An option outside the tie may still lead that corner: say so,
		// as the table shows it.
		for _, o := range d.Options {
			if !slices.Contains(d.Tied, o.Gateway) && corner.of(o)-corner.of(c) >= 0.5 {
				reason += fmt.Sprintf(" (%s scores higher on it, %.0f against %.0f, at %.1f overall against %.1f)", o.Gateway, corner.of(o), corner.of(c), o.Overall, c.Overall)
				break
			}
		}
		return reason
	case len(d.Options) == 1 && d.Compared == 1:
		return fmt.Sprintf("it is the only option compared (overall %.1f)", c.Overall)
	case len(d.Options) == 1:
		return fmt.Sprintf("it is the only option compared that meets the hard constraints (overall %.1f)", c.Overall)
	}
	r := d.Options[1]
	if d.Chosen == r.Gateway {
		r = d.Options[0]
	}
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
		return reason + fmt.Sprintf(", and the best on %s (%.0f), %s", corner.name, corner.of(c), heaviest)
	}
	return reason + fmt.Sprintf(", carried by %s (%.0f against %.0f); %s scores higher on %s, %s (%.0f against %.0f)",
		lead.name, lead.of(c), lead.of(r), best.Gateway, corner.name, heaviest, corner.of(best), corner.of(c))
}

// heaviest words the dominant corner's place: "the corner that weighs
// most", or, when two or three weigh the same, that it is one of them.
func (d Decision) heaviest() string {
	w := []float64{d.Weights.Failover, d.Weights.Cost, d.Weights.Observability}
	top := slices.Max(w)
	n := 0
	for _, x := range w {
		if math.Abs(x-top) < 1e-9 {
			n++
		}
	}
	switch n {
	case 1:
		return "the corner that weighs most"
	case 2:
		return "one of the two corners that weigh most"
	}
	return "with all three corners weighing the same"
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
		if ws[i] > ws[best]+1e-9 {
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

// failoverScore is the nines-based score of the sampled months, from the
// mean month's failed share and the 95th-percentile month's (the 5th
// percentile of success), and its values at the ends of the mean's
// interval.
func failoverScore(base simulator.OptionResult) (score, lo, hi float64) {
	tail := 1 - base.SuccessRate.P5
	at := func(mean float64) float64 {
		f := (1-mean)/2 + tail/2
		nines := -math.Log10(math.Max(f, 1e-9))
		return math.Min(100, math.Max(0, 100*(nines-2)/3))
	}
	return at(base.SuccessRate.Mean), at(base.SuccessRate.CI95[0]), at(base.SuccessRate.CI95[1])
}

// scoreCost is Cost = ½·Bill + ½·Tracking, with Bill against the cheapest
// eligible option.
func scoreCost(opts []OptionScore) {
	cmin := math.Inf(1)
	for _, o := range opts {
		cmin = math.Min(cmin, o.Base.CostUSD.Total.Mean)
	}
	bill := func(c float64) float64 {
		if c <= 0 {
			return 100
		}
		return math.Min(100, 100*cmin/c)
	}
	for i := range opts {
		o, t := &opts[i], opts[i].Base.CostUSD.Total
		o.Bill = bill(t.Mean)
		o.Cost = (o.Bill + o.Tracking) / 2
		o.costLo, o.costHi = (bill(t.CI95[1])+o.Tracking)/2, (bill(t.CI95[0])+o.Tracking)/2
	}
}

func observabilityScore(o simulator.Observability) float64 {
	needs := len(o.NeedsMet) + len(o.NeedsMissing)
	if needs == 0 {
		return 100 * o.Coverage
	}
	return 100 * (o.Coverage + simulator.NeedScore(o.NeedsMet, o.NeedsPartial)/float64(needs)) / 2
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
		Seats:            spec.Team.ConsoleSeats(),
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

// worstScenario is the named stress test in which an option fails most,
// or the baseline when there is none.
func worstScenario(res simulator.Result, gateway, baseline string, base simulator.OptionResult) simulator.OptionResult {
	worst := base
	for _, r := range res.Results {
		if r.Gateway == gateway && r.Scenario != baseline && (worst.Scenario == baseline || r.FailedRequests.Mean > worst.FailedRequests.Mean) {
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
