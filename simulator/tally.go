package simulator

import (
	"math"
	"math/big"
)

// tally is what a run adds up over its trials, in a size that grows with
// options, scenarios and providers but not with trials: per scenario and
// option its failed requests, downtime and token cost; per scenario the
// differences of every pair of options, trial by trial, for the pairing
// with the best; under the baseline the cross products that make the
// options' covariance; per provider its status page. Every part merges
// exactly, so ranges of trials tallied apart add up to one run's tally.
type tally struct {
	Rows      []rowTally
	Pairs     []pairTally // per scenario, pairs (g, h) with g < h in pairIndex order
	Cov       []exactSum  // baseline: products of columns i < j (covColumns)
	Providers []providerTally
	// Latency buckets and spend by path, per scenario and option, and of
	// the sampled month per option.
	acc, base []accum
}

// rowTally is one option under one scenario, trial by trial: failed
// requests (the calm month's included, never below zero), hours
// unavailable, and token cost in USD as a difference from the calm month.
type rowTally struct {
	Failed, Down, Cost series
	Fallback, Own      exactSum // requests served by a fallback (a share), failed while the gateway was down
}

// pairTally is option g less option h under one scenario, trial by trial:
// failed requests, and monthly cost (the whole of it, so a sketch's error
// is relative to the difference shown).
type pairTally struct{ Failed, Cost series }

// providerTally is one provider's status page over the trials: hours
// down (weighted) and incidents.
type providerTally struct{ Down, Incidents series }

// rowConst is what every trial of one option under one scenario shares:
// the calm month's failures, cost and fallbacks that incident stretches
// add their differences to, the requests, and how token cost becomes the
// monthly total (fees in proportion to tokens, then fixed costs).
type rowConst struct {
	calmFailed, calmCost, calmFallback float64
	requests, calmTokens               float64
	slope, fixed                       float64 // total = slope·(calmCost + cost) + fixed
}

// total is the monthly cost of a trial whose token cost differs from the
// calm month's by cost.
func (c rowConst) total(cost float64) float64 { return c.slope*(c.calmCost+cost) + c.fixed }

// rowConsts works out rowConst for every scenario and option.
func (m *model) rowConsts() []rowConst {
	monthly := HoursPerMonth / m.horizon
	nG := len(m.options)
	out := make([]rowConst, len(m.scen)*nG)
	for s := range m.scen {
		for g, o := range m.options {
			extra := m.scen[s].extra[g]
			c := rowConst{calmFailed: extra.res.failed, calmCost: extra.res.cost, calmFallback: extra.res.fallback, requests: m.total + extra.requests}
			for i, f := range m.flows {
				c.calmTokens += f.total * o.calm[i].cost * monthly
				c.calmFailed += f.total * (1 - o.calm[i].success)
				c.calmCost += f.total * o.calm[i].cost
				c.calmFallback += f.total * o.calm[i].fallback
			}
			c.slope = monthly
			if c.calmTokens > 0 {
				c.slope = monthly * (1 + o.quote.Fees/c.calmTokens)
			}
			c.fixed = o.quote.Base + o.quote.Overage + o.quote.Infrastructure + o.quote.Operations
			out[s*nG+g] = c
		}
	}
	return out
}

// baselineScenario is the index of the baseline scenario, or −1.
func (m *model) baselineScenario() int {
	for s, sp := range m.scen {
		if sp.sc.Name == "baseline" {
			return s
		}
	}
	return -1
}

func (j *Job) newTally(exact bool) *tally {
	m := j.m
	nS, nG, nP := len(m.scen), len(m.options), len(m.spec.Providers)
	t := &tally{Rows: make([]rowTally, nS*nG), Pairs: make([]pairTally, nS*nG*(nG-1)/2), Providers: make([]providerTally, nP),
		acc: m.newAccums(nS * nG), base: m.newAccums(nG)}
	for k := range t.Rows {
		t.Rows[k] = rowTally{Failed: newSeries(exact), Down: newSeries(exact), Cost: newSeries(exact)}
	}
	for k := range t.Pairs {
		t.Pairs[k] = pairTally{Failed: newSeries(exact), Cost: newSeries(exact)}
	}
	for k := range t.Providers {
		t.Providers[k] = providerTally{Down: newSeries(exact), Incidents: newSeries(exact)}
	}
	if m.baselineScenario() >= 0 {
		c := 2 * nG
		t.Cov = make([]exactSum, c*(c-1)/2)
	}
	return t
}

// pairIndex numbers the pairs g < h of n options.
func pairIndex(g, h, n int) int { return g*n - g*(g+1)/2 + h - g - 1 }

// covIndex numbers the pairs i < j of c columns.
func covIndex(i, k, c int) int { return pairIndex(i, k, c) }

// addScenario adds one trial of scenario s: row holds each option's
// stretch differences, cols is scratch of 2·options.
func (j *Job) addScenario(t *tally, s int, row []trialResult, cols []float64) {
	nG := len(j.m.options)
	fs, xs := cols[:nG], cols[nG:2*nG]
	for g, r := range row {
		c := &j.consts[s*nG+g]
		rt := &t.Rows[s*nG+g]
		// Incident stretches add their difference to the calm month;
		// rounding must not make a count negative.
		f := max(r.failed+c.calmFailed, 0)
		rt.Failed.add(f)
		rt.Down.add(max(r.downtime, 0))
		rt.Cost.add(r.cost)
		rt.Fallback.add(max(r.fallback+c.calmFallback, 0) / c.requests)
		rt.Own.add(r.own)
		fs[g], xs[g] = f, r.cost
	}
	for g := range nG {
		for h := g + 1; h < nG; h++ {
			p := &t.Pairs[s*nG*(nG-1)/2+pairIndex(g, h, nG)]
			p.Failed.add(fs[g] - fs[h])
			p.Cost.add(j.consts[s*nG+g].total(xs[g]) - j.consts[s*nG+h].total(xs[h]))
		}
	}
	if s == j.baseline {
		c := 2 * nG
		for a := range c {
			for b := a + 1; b < c; b++ {
				t.Cov[covIndex(a, b, c)].addProduct(cols[a], cols[b])
			}
		}
	}
}

// addStatus adds one trial's status pages.
func (j *Job) addStatus(t *tally, status []providerMonth) {
	for k, s := range status {
		t.Providers[k].Down.add(math.Min(s.down, j.m.horizon))
		t.Providers[k].Incidents.add(s.incidents)
	}
}

func (t *tally) merge(o *tally) {
	for k := range t.Rows {
		a, b := &t.Rows[k], &o.Rows[k]
		a.Failed.merge(&b.Failed)
		a.Down.merge(&b.Down)
		a.Cost.merge(&b.Cost)
		a.Fallback.merge(&b.Fallback)
		a.Own.merge(&b.Own)
	}
	for k := range t.Pairs {
		t.Pairs[k].Failed.merge(&o.Pairs[k].Failed)
		t.Pairs[k].Cost.merge(&o.Pairs[k].Cost)
	}
	for k := range t.Cov {
		t.Cov[k].merge(&o.Cov[k])
	}
	for k := range t.Providers {
		t.Providers[k].Down.merge(&o.Providers[k].Down)
		t.Providers[k].Incidents.merge(&o.Providers[k].Incidents)
	}
	addAccums(t.acc, o.acc)
	addAccums(t.base, o.base)
}

// covariance of columns a and b (a ≠ b, or a == b for a variance) of the
// baseline over n trials: (S_ab − S_a·S_b/n)/(n − 1), exactly.
func (j *Job) covariance(t *tally, a, b int) float64 {
	nG := len(j.m.options)
	col := func(i int) *series {
		r := &t.Rows[j.baseline*nG+i%nG]
		if i < nG {
			return &r.Failed
		}
		return &r.Cost
	}
	sa, sb := col(a), col(b)
	n := sa.N
	if n < 2 {
		return 0
	}
	var prod *big.Float
	if a == b {
		prod = sa.S2.big()
	} else {
		prod = t.Cov[covIndex(min(a, b), max(a, b), 2*nG)].big()
	}
	ua, ub := sa.S1.big(), sb.S1.big()
	if prod == nil || ua == nil || ub == nil {
		return math.NaN()
	}
	nf := newBig().SetInt64(n)
	c := newBig().Sub(prod, newBig().Quo(newBig().Mul(ua, ub), nf))
	c.Quo(c, newBig().SetInt64(n-1))
	v, _ := c.Float64()
	return v
}
