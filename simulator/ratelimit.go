package simulator

import (
	"math"
	"slices"
)

// limitGroup is one region of a provider whose account has a rate limit:
// every path there draws on the same requests per minute.
type limitGroup struct {
	provider, region string
	perBin           float64 // requests the account accepts in one bin
	// paths lists, per flow, the indices of the flow's paths in the group.
	paths [][]int
}

// scenarioExtra is what a scenario adds to every trial whatever its
// incidents: throttling where demand exceeds rate limits, and the extra
// requests of a demand surge.
type scenarioExtra struct {
	res      trialResult
	acc      accum
	requests float64
}

// limits is what throttling reads at run time: the groups, the group of
// each flow's path (-1 for none), and per option the calm attempts per
// request of each flow on each group, which rule out most bins at once.
type limits struct {
	groups  []limitGroup
	groupOf [][]int
	calmPer [][][]float64 // per option, flow, group
	peak    []float64     // per flow: its busiest bin's requests
	// Per flow and hour (chunk bins): the mean and the most requests in a
	// bin, for throttling within a trial.
	chunk        int
	mean, peakIn [][]float64
}

// newLimits indexes the groups for the model's flows and options.
func (m *model) newLimits(groups []limitGroup) *limits {
	l := &limits{groups: groups, groupOf: make([][]int, len(m.flows)), calmPer: make([][][]float64, len(m.options)), peak: make([]float64, len(m.flows))}
	l.chunk = max(int(math.Round(1/m.binHours)), 1)
	chunks := (m.bins() + l.chunk - 1) / l.chunk
	l.mean, l.peakIn = make([][]float64, len(m.flows)), make([][]float64, len(m.flows))
	for i, f := range m.flows {
		l.mean[i], l.peakIn[i] = make([]float64, chunks), make([]float64, chunks)
		for b := range len(f.prefix) - 1 {
			d := f.prefix[b+1] - f.prefix[b]
			l.peak[i] = math.Max(l.peak[i], d)
			c := b / l.chunk
			l.peakIn[i][c] = math.Max(l.peakIn[i][c], d)
			l.mean[i][c] += d / float64(min(l.chunk, m.bins()-c*l.chunk))
		}
		l.groupOf[i] = make([]int, len(f.paths))
		for k := range l.groupOf[i] {
			l.groupOf[i][k] = -1
		}
		for gi, grp := range groups {
			for _, k := range grp.paths[i] {
				l.groupOf[i][k] = gi
			}
		}
	}
	for g := range m.options {
		o := &m.options[g]
		l.calmPer[g] = make([][]float64, len(m.flows))
		for i := range m.flows {
			l.calmPer[g][i] = make([]float64, len(groups))
			if o.excluded != nil {
				continue
			}
			for j, k := range o.reach[i] {
				if gi := l.groupOf[i][k]; gi >= 0 {
					l.calmPer[g][i][gi] += o.calm[i].loads[j]
				}
			}
		}
	}
	return l
}

// buildLimits reads the architecture's rate limits into groups. A limit in
// tokens per minute becomes requests at the mean tokens of the traffic that
// may reach the group; where both are given the tighter one holds. Global
// endpoints are not limited here, since their quota is separate from the
// regions'.
func (m *model) buildLimits(meanTokens []float64) []limitGroup {
	binMinutes := m.binHours * 60
	var out []limitGroup
	for _, p := range m.spec.Providers {
		if p.RateLimits == nil || (p.RateLimits.RPM == 0 && p.RateLimits.TPM == 0) {
			continue
		}
		for _, region := range p.Regions {
			g := limitGroup{provider: p.ID, region: region, paths: make([][]int, len(m.flows))}
			var tokens, weight float64
			for i, f := range m.flows {
				for k, path := range f.paths {
					if path.Provider == p.ID && path.Region == region {
						g.paths[i] = append(g.paths[i], k)
					}
				}
				if len(g.paths[i]) > 0 {
					tokens += meanTokens[i] * f.total
					weight += f.total
				}
			}
			if weight == 0 {
				continue
			}
			rpm := math.Inf(1)
			if p.RateLimits.RPM > 0 {
				rpm = float64(p.RateLimits.RPM)
			}
			if p.RateLimits.TPM > 0 && tokens > 0 {
				rpm = math.Min(rpm, float64(p.RateLimits.TPM)/(tokens/weight))
			}
			g.perBin = rpm * binMinutes
			out = append(out, g)
		}
	}
	return out
}

// throttling evaluates option g bin by bin where a rate limit may bind,
// with demand scaled by scale(bin), and returns the difference from the
// calm month at normal demand: failed requests, cost, waiting and spend,
// and the requests the scaling adds. A bin binds when the load offered to a
// group, counting every attempt (retries and failovers from other paths
// included), exceeds its limit; the share refused with 429 then follows
// from a fixed point, since refused requests retry or move on and load
// other groups, which is how cascades show. During a named scenario's
// outage (during(bin) gives the failure shares it puts on each flow's
// paths) the offered load is the outage's, failovers onto the fallbacks
// included, and the bin adds the throttling's difference from the outage
// alone, which each trial's evaluation of the outage already holds.
// Sampled incidents are throttled within each trial (throttleStretch),
// as differences from what this adds.
func (m *model) throttling(g int, scale func(bin int) float64, during func(bin int) *outageState, from, to int, sc *attemptScratch) scenarioExtra {
	o := &m.options[g]
	extra := scenarioExtra{acc: m.newAccums(1)[0]}
	groups, groupOf, perRequest := m.lim.groups, m.lim.groupOf, m.lim.calmPer[g]
	theta := make([]float64, len(groups))
	demand := make([]float64, len(m.flows))
	outs := make([]outcome, len(m.flows))
	// A binding bin whose demand is within 2 % per flow of the last one
	// solved keeps that solution (demand moves slowly from minute to
	// minute), and the outcomes at a refusal share are kept by that share
	// to 0.0001, so a limit that binds all month costs a few thousand
	// solutions, not one a minute.
	solvedFor := make([]float64, len(m.flows))
	finals := map[uint64]outcome{}
	var buf []hop
	load := make([]float64, len(groups))
	for b := from; b < to; b++ {
		x := scale(b)
		for i, f := range m.flows {
			demand[i] = (f.prefix[b+1] - f.prefix[b]) * x
			if x != 1 {
				extra.requests += demand[i] - (f.prefix[b+1] - f.prefix[b])
			}
		}
		if st := during(b); st != nil {
			m.throttleOutage(o, demand, theta, load, st, sc, &buf, &extra)
			continue
		}
		// With nothing refused, each group carries the calm attempts of
		// its flows; if that fits every limit, refusing nothing is the
		// answer and the bin needs no more work.
		binds := false
		for gi, grp := range groups {
			bound := 0.0
			for i := range m.flows {
				bound += demand[i] * perRequest[i][gi]
			}
			binds = binds || bound*(1+1e-9) > grp.perBin
		}
		if binds {
			binds = false
			clear(load)
			for i := range m.flows {
				for j, k := range o.reach[i] {
					if gi := groupOf[i][k]; gi >= 0 {
						load[gi] += demand[i] * o.calm[i].loads[j]
					}
				}
			}
			for gi, grp := range groups {
				binds = binds || load[gi] > grp.perBin
			}
		}
		if binds && !near(demand, solvedFor, 0.02) {
			m.solveThrottle(o, groups, groupOf, demand, theta, load, outs, sc, &buf, finals)
			copy(solvedFor, demand)
		}
		for i, f := range m.flows {
			base := f.prefix[b+1] - f.prefix[b]
			if !binds && demand[i] == base {
				continue // a calm bin at its usual demand changes nothing
			}
			calm := &o.calm[i]
			out := calm
			if binds && demand[i] > 0 {
				out = &outs[i]
			}
			// This bin at its demand and throttling, less the calm bin.
			extra.res.failed += demand[i]*(1-out.success) - base*(1-calm.success)
			extra.res.cost += demand[i]*out.cost - base*calm.cost
			extra.res.fallback += demand[i]*out.fallback - base*calm.fallback
			addWaits(extra.acc.waits, out.waits, demand[i])
			addWaits(extra.acc.waits, calm.waits, -base)
			at := m.pathAt[i]
			for j, k := range o.reach[i] {
				extra.acc.cost[at+k] += int64(math.Round((demand[i]*out.costs[j] - base*calm.costs[j]) * microUSD))
			}
		}
	}
	return extra
}

// outageState is what a named scenario's outage does to each flow's paths
// in one bin: their failure shares and refused shares (nil for a flow it
// leaves alone), and whether it takes the option's gateway down.
type outageState struct {
	fails, downs [][]float64
	gateDown     bool
	key          uint64 // tells states apart in the outcome cache
	outcomes     map[uint64]outcome
}

// throttleOutage is one bin of a named outage under rate limits: the load
// the outage sends to each group (failovers included), the refusal shares
// if it binds, and the bin's difference from the outage without limits.
func (m *model) throttleOutage(o *option, demand, theta, load []float64, st *outageState, sc *attemptScratch, buf *[]hop, extra *scenarioExtra) {
	if st.gateDown {
		return // every request fails at the gateway; no provider sees load
	}
	base := func(i int) []hop {
		hops := m.hopsInto(buf, &m.flows[i], o.reach[i], st.fails[i], o.rate[i])
		if st.downs[i] != nil {
			for j, k := range o.reach[i] {
				hops[j].down = st.downs[i][k]
			}
		}
		return hops
	}
	outcomeOf := func(i int, hops []hop, _ float64) outcome {
		h := st.key ^ uint64(i)*0x9e3779b97f4a7c15
		for _, hp := range hops {
			h ^= math.Float64bits(hp.throttle)
			h *= 1099511628211
		}
		out, ok := st.outcomes[h]
		if !ok {
			out = copied(evaluatePlan(&o.pol, sc, hops, o.cacheHit, 0))
			st.outcomes[h] = out
		}
		return out
	}
	lim, free := make([]outcome, len(m.flows)), make([]outcome, len(m.flows))
	defer clear(theta)
	if !m.limitedOutcomes(o, demand, nil, nil, theta, load, sc, base, outcomeOf, lim, free) {
		return
	}
	at := make([]int32, latencyBuckets)
	for i := range m.flows {
		if d := demand[i]; d > 0 {
			delta := deltaOf(&lim[i], &free[i], at)
			m.addDelta(o, i, &delta, d, &extra.res, &extra.acc)
		}
	}
}

// limitedOutcomes solves one bin under the rate limits: at demand, with
// each flow's hops before throttling as base gives them and gates[i] of
// its requests failing at the gateway (nil for none), it finds the groups'
// refusal shares theta, iterating from start (nil for none refused), and
// fills lim and free with each flow's outcome with and without them
// (outcomeOf evaluates a flow's hops). It reports whether a limit binds;
// when none does, it leaves lim and free alone and theta zero.
func (m *model) limitedOutcomes(o *option, demand, gates, start, theta, load []float64, sc *attemptScratch, base func(i int) []hop, outcomeOf func(i int, hops []hop, gate float64) outcome, lim, free []outcome) bool {
	groups, groupOf := m.lim.groups, m.lim.groupOf
	hopsFor := func(i int, round bool) []hop {
		hops := base(i)
		for j, k := range o.reach[i] {
			if gi := groupOf[i][k]; gi >= 0 {
				hops[j].throttle = theta[gi]
				if round {
					hops[j].throttle = math.Round(theta[gi]*1e4) / 1e4
				}
			}
		}
		return hops
	}
	gate := func(i int) float64 {
		if gates == nil {
			return 0
		}
		return gates[i]
	}
	offered := func() { m.offeredLoad(o, groupOf, demand, load, gates, sc, hopsFor) }
	clear(theta)
	offered()
	binds := false
	for gi, grp := range groups {
		binds = binds || load[gi] > grp.perBin
	}
	if !binds {
		return false
	}
	if start != nil {
		copy(theta, start)
	}
	settle(groups, theta, load, offered)
	for i := range m.flows {
		if demand[i] == 0 {
			continue
		}
		lim[i] = outcomeOf(i, hopsFor(i, true), gate(i))
		free[i] = outcomeOf(i, base(i), gate(i))
	}
	return true
}

// bins is how many time bins the flows' demand has.
func (m *model) bins() int { return len(m.flows[0].prefix) - 1 }

// plus adds y times k to x: scenario extras combine as sums over bins.
func (x *scenarioExtra) plus(y scenarioExtra, k float64) {
	x.res.failed += k * y.res.failed
	x.res.cost += k * y.res.cost
	x.res.fallback += k * y.res.fallback
	x.res.downtime += k * y.res.downtime
	x.requests += k * y.requests
	for i, v := range y.acc.waits {
		x.acc.waits[i] += int64(k) * v
	}
	for i, v := range y.acc.cost {
		x.acc.cost[i] += int64(k) * v
	}
}

// offeredLoad is the attempts each group is offered in a bin of demand,
// every flow's hops (as hopsFor gives them, unrounded) walked by the plan.
func (m *model) offeredLoad(o *option, groupOf [][]int, demand, load, gates []float64, sc *attemptScratch, hopsFor func(i int, round bool) []hop) {
	clear(load)
	for i := range m.flows {
		if demand[i] == 0 {
			continue
		}
		hops := hopsFor(i, false)
		loads := append(sc.loads[:0], make([]float64, len(hops))...)
		gate := 0.0
		if gates != nil {
			gate = gates[i]
		}
		planLoads(&o.pol, hops, o.cacheHit, gate, loads)
		sc.loads = loads
		for j, k := range o.reach[i] {
			if gi := groupOf[i][k]; gi >= 0 {
				load[gi] += demand[i] * loads[j]
			}
		}
	}
}

// settle finds the groups' refusal shares theta: offered (which fills
// load at the current theta) and a damped step towards refusing each
// group's excess, until no share moves by 1e-4. Where a cooldown trips
// past some share the load has a cliff and no share balances it: the
// steps then flap around the cliff, as the breaker does, and stop after
// 200.
func settle(groups []limitGroup, theta, load []float64, offered func()) {
	for range 200 {
		offered()
		change := 0.0
		for gi, grp := range groups {
			next := 0.0
			if load[gi] > grp.perBin {
				next = 1 - grp.perBin/load[gi]
			}
			next = 0.5*theta[gi] + 0.5*next // damped, so the fixed point settles
			change = math.Max(change, math.Abs(next-theta[gi]))
			theta[gi] = next
		}
		if change < 1e-4 {
			break
		}
	}
}

// near reports whether every demand is within rel of ref's (both zero
// counts as near).
func near(demand, ref []float64, rel float64) bool {
	for i, d := range demand {
		if math.Abs(d-ref[i]) > rel*math.Max(ref[i], 1) {
			return false
		}
	}
	return true
}

// solveThrottle finds, for one bin's demand, the share of attempts each
// limited group refuses: refused requests retry or fail over and load
// other groups, so the shares are a fixed point, reached by damped
// iteration from the previous bin's shares. outs receives each flow's
// outcome at the fixed point, worked out once per refusal share rounded to
// 0.0001 (finals).
func (m *model) solveThrottle(o *option, groups []limitGroup, groupOf [][]int, demand, theta, load []float64, outs []outcome, sc *attemptScratch, buf *[]hop, finals map[uint64]outcome) {
	hopsFor := func(i int, round bool) []hop {
		f := &m.flows[i]
		hops := m.hopsInto(buf, f, o.reach[i], nil, o.rate[i])
		for j, k := range o.reach[i] {
			if gi := groupOf[i][k]; gi >= 0 {
				hops[j].throttle = theta[gi]
				if round {
					hops[j].throttle = math.Round(theta[gi]*1e4) / 1e4
				}
			}
		}
		return hops
	}
	settle(groups, theta, load, func() { m.offeredLoad(o, groupOf, demand, load, nil, sc, hopsFor) })
	for i := range m.flows {
		if demand[i] == 0 {
			continue
		}
		hops := hopsFor(i, true)
		var h uint64 = 14695981039346656037 ^ uint64(i)
		for _, hp := range hops {
			h ^= math.Float64bits(hp.throttle)
			h *= 1099511628211
		}
		out, ok := finals[h]
		if !ok {
			out = copied(evaluatePlan(&o.pol, sc, hops, o.cacheHit, 0))
			finals[h] = out
		}
		outs[i] = out
	}
}

// clone copies an extra, so adding to it leaves the original alone.
func (x scenarioExtra) clone() scenarioExtra {
	x.acc.waits = slices.Clone(x.acc.waits)
	x.acc.cost = slices.Clone(x.acc.cost)
	return x
}
