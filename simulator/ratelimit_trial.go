package simulator

import (
	"cmp"
	"math"
	"slices"
)

// A sampled incident moves load as a named outage does: failovers land on
// the fallbacks' rate limits, and retries of a failing target add to its
// own. Each trial's incidents differ, so this is worked out in the trial:
// while an option's state holds (a throttled stretch), every bin of it in
// which a limit binds, at calm or under the incident, adds the throttling
// under the incident less the calm throttling the scenario's extra already
// holds for that bin.

// throttled is one option's stretch of constant state, for throttling:
// the flows the segment hits with their outcomes, from bounds[sa] to
// bounds[sb].
type throttled struct {
	hits   []segmentHit
	sa, sb int32
	on     bool
}

// limitedEntry is one option's bin under the limits at one demand and
// state: per flow, what the limit changes.
type limitedEntry struct {
	g      int
	state  []float64 // the flows' gateway failure shares and hop states
	demand []float64
	deltas []throttleDelta
	binds  bool
	theta  []float64 // the groups' refusal shares, where a limit binds
}

// throttleDelta is what a limit changes in one flow's outcome, per
// request: the outcome with it less the outcome without it, waiting
// merged by latency bucket and spend by hop.
type throttleDelta struct {
	lost, cost, fallback float64
	waits                []cohort
	costs                []float64
}

// deltaOf is lim less free, with waiting merged by bucket (at is scratch
// of one entry per bucket, left zeroed) and what cancels to nothing
// dropped.
func deltaOf(lim, free *outcome, at []int32) throttleDelta {
	d := throttleDelta{lost: free.success - lim.success, cost: lim.cost - free.cost, fallback: lim.fallback - free.fallback, costs: make([]float64, len(lim.costs))}
	var ws []cohort
	add := func(c cohort, sign float64) {
		if k := at[c.bucket]; k > 0 {
			ws[k-1].share += sign * c.share
			return
		}
		ws = append(ws, cohort{ms: c.ms, bucket: c.bucket, share: sign * c.share})
		at[c.bucket] = int32(len(ws))
	}
	for _, c := range lim.waits {
		add(c, 1)
	}
	for _, c := range free.waits {
		add(c, -1)
	}
	n := 0
	for _, c := range ws {
		at[c.bucket] = 0
		if math.Abs(c.share) > 1e-15 {
			ws[n] = c
			n++
		}
	}
	d.waits = slices.Clip(ws[:n])
	for j := range d.costs {
		d.costs[j] = lim.costs[j] - free.costs[j]
	}
	return d
}

// addDelta adds k requests of flow i's delta to res and acc.
func (m *model) addDelta(o *option, i int, d *throttleDelta, k float64, res *trialResult, acc *accum) {
	res.failed += k * d.lost
	res.cost += k * d.cost
	res.fallback += k * d.fallback
	addWaits(acc.waits, d.waits, k)
	at := m.pathAt[i]
	for j, p := range o.reach[i] {
		acc.cost[at+p] += int64(math.Round(k * d.costs[j] * microUSD))
	}
}

// maxLimited bounds the run's table of throttled bins (an entry holds
// two outcomes a flow, a few kilobytes).
const maxLimited = 1 << 15

// demandStep is the grid a bin's demand is solved on: 2 % apart, as the
// calm month's throttling reuses a solution within 2 %. The bins of a
// stretch then share a few solutions, a day's bins repeat on the next
// day, and each is a function of the bin alone (the same whatever the
// worker or the order of trials).
var demandStep = math.Log(1.02)

func onGrid(d float64) float64 {
	if d <= 0 {
		return 0
	}
	return math.Exp(math.Round(math.Log(d)/demandStep) * demandStep)
}

// trackThrottled follows option g's state through segment s (hits are
// the flows it hits there): a stretch that keeps its state grows, one that
// changes is throttled and a new one begins.
func (e *evaluator) trackThrottled(g int, hits []segmentHit, s int, sign float64, acc *accum) {
	t := &e.thr[g]
	if t.on && t.sb == int32(s) && sameHits(t.hits, hits) {
		t.sb = int32(s + 1)
		return
	}
	if t.on {
		e.throttleStretch(g, sign, acc)
	}
	if len(hits) == 0 {
		return
	}
	t.hits = append(t.hits[:0], hits...)
	t.sa, t.sb, t.on = int32(s), int32(s+1), true
}

func sameHits(x, y []segmentHit) bool {
	if len(x) != len(y) {
		return false
	}
	for k := range x {
		if x[k].flow != y[k].flow || !sameOutcome(x[k].me, y[k].me) {
			return false
		}
	}
	return true
}

// throttleStretch adds option g's throttling over its stretch: hour by
// hour where a limit binds, the outcome with the limit under the stretch's
// state less the same without it, less the calm throttling, for the
// stretch's requests in that hour. A limit is a rate, so each hour is
// solved at its mean requests a bin (on the demand grid, and so once for
// every trial whose incidents meet it in that state), not at the stretch's
// share of it; hours whose busiest bin fits every limit are skipped. The
// scenario's own outages are left out: their throttling, worked out with
// the run, holds them (a sampled incident during a named outage is not
// throttled).
func (e *evaluator) throttleStretch(g int, sign float64, acc *accum) {
	m, t := e.m, &e.thr[g]
	t.on = false
	o := &m.options[g]
	groups, h := m.lim.groups, m.binHours
	nF := len(m.flows)
	// The attempts per request each flow puts on each group in the
	// stretch's state.
	for i := range nF {
		per := e.thrPer[i*len(groups) : (i+1)*len(groups)]
		if me := e.hitOf(g, i); me != nil {
			copy(per, me.groupLoads)
		} else {
			copy(per, m.lim.calmPer[g][i])
		}
	}
	// At the busiest bin of each flow the stretch's load fits every limit
	// with room, at calm and in the stretch's state: no bin of it binds.
	fits := true
	for gi, grp := range groups {
		calm, now := 0.0, 0.0
		for i := range nF {
			calm += m.lim.peak[i] * m.lim.calmPer[g][i][gi]
			now += m.lim.peak[i] * e.thrPer[i*len(groups)+gi]
		}
		fits = fits && calm*(1+1e-9) < grp.perBin && now*(1+1e-9) < grp.perBin
	}
	if fits {
		return
	}
	// The stretch's state (gateway failure share and hops) as a key.
	state := e.thrState[:0]
	var hash uint64 = 14695981039346656037 ^ uint64(g)
	for i := range nF {
		if me := e.hitOf(g, i); me != nil {
			state = append(append(state, me.gate), me.state...)
		} else {
			state = append(state, -1)
		}
	}
	e.thrState = state
	for _, x := range state {
		hash ^= math.Float64bits(x)
		hash *= 1099511628211
	}
	// The stretch's hops per flow before throttling, and its gateway
	// failure shares.
	gates := e.thrGates[:nF]
	clear(gates)
	for i := range nF {
		hops := m.hopsInto(&e.thrHops[i], &m.flows[i], o.reach[i], nil, o.rate[i])
		if me := e.hitOf(g, i); me != nil {
			n := len(o.reach[i])
			for j := range hops {
				hops[j].fail, hops[j].slow, hops[j].down = me.state[j], me.state[n+j], me.state[2*n+j]
			}
			gates[i] = me.gate
		}
	}
	lo, hi := e.bounds[t.sa], e.bounds[t.sb]
	var res trialResult
	demand := e.thrDemand[:nF]
	span := float64(m.lim.chunk) * h
	for c := int(lo / span); c < len(m.lim.mean[0]) && float64(c)*span < hi; c++ {
		a, z := math.Max(lo, float64(c)*span), math.Min(hi, float64(c+1)*span)
		if z <= a {
			continue
		}
		binds := false
		for gi, grp := range groups {
			calm, now := 0.0, 0.0
			for i := range nF {
				d := m.lim.peakIn[i][c]
				calm += d * m.lim.calmPer[g][i][gi]
				now += d * e.thrPer[i*len(groups)+gi]
			}
			binds = binds || calm > grp.perBin || now > grp.perBin
		}
		if !binds {
			continue
		}
		for i := range nF {
			demand[i] = onGrid(m.lim.mean[i][c])
		}
		calm := e.limitedAt(g, 0, nil, demand, nil, nil)
		under := e.limitedAt(g, hash, state, demand, gates, calm)
		if !under.binds && !calm.binds {
			continue
		}
		for i := range nF {
			d := sign * e.demandOutsideOwn(i, a, z)
			if d == 0 {
				continue
			}
			if under.binds {
				m.addDelta(o, i, &under.deltas[i], d, &res, acc)
			}
			if calm.binds {
				m.addDelta(o, i, &calm.deltas[i], -d, &res, acc)
			}
		}
	}
	s := &e.thrSum[g]
	s.failed += res.failed
	s.cost += res.cost
	s.fallback += res.fallback
}

// hitOf is the outcome of flow i in the option's throttled stretch, or nil
// where the stretch leaves it calm.
func (e *evaluator) hitOf(g, i int) *memoEntry {
	for _, hit := range e.thr[g].hits {
		if int(hit.flow) == i {
			return hit.me
		}
	}
	return nil
}

// demandOutsideOwn is flow i's requests from a to z hours outside the
// scenario's own outages (not its slowdowns), whose throttling the run
// works out with the scenario.
func (e *evaluator) demandOutsideOwn(i int, a, z float64) float64 {
	f, h := &e.m.flows[i], e.m.binHours
	d := f.upTo(z, h) - f.upTo(a, h)
	for _, sp := range e.ownSpans {
		if x, y := math.Max(a, sp[0]), math.Min(z, sp[1]); y > x {
			d -= f.upTo(y, h) - f.upTo(x, h)
		}
	}
	return d
}

// ownOutages is the union of the spans of the scenario's own outages, in
// order: what demandOutsideOwn leaves out.
func ownOutages(own []event, into [][2]float64) [][2]float64 {
	into = into[:0]
	for k := range own {
		if ev := &own[k]; ev.slow <= 1 && ev.inc.End > ev.inc.Start {
			into = append(into, [2]float64{ev.inc.Start, ev.inc.End})
		}
	}
	slices.SortFunc(into, func(x, y [2]float64) int { return cmp.Compare(x[0], y[0]) })
	n := 0
	for _, sp := range into {
		if n > 0 && sp[0] <= into[n-1][1] {
			into[n-1][1] = math.Max(into[n-1][1], sp[1])
			continue
		}
		into[n] = sp
		n++
	}
	return into[:n]
}

// limitedAt is option g's bin at demand under the state whose hash and
// values are given (nil for calm), from the run's table when a worker has
// worked it out before. The refusal shares are found from calm's (nil for
// none refused): an incident mostly moves them a little, so the fixed
// point is reached in fewer steps, and as calm's entry is itself a
// function of the bin, so is this one.
func (e *evaluator) limitedAt(g int, hash uint64, state, demand, gates []float64, calm *limitedEntry) *limitedEntry {
	m := e.m
	key := hash ^ uint64(g)<<40
	for _, d := range demand {
		key ^= math.Float64bits(d)
		key *= 1099511628211
	}
	if le, ok := e.shared.limited.get(key); ok && le.g == g && slices.Equal(le.state, state) && slices.Equal(le.demand, demand) {
		return le
	}
	o := &m.options[g]
	nF := len(m.flows)
	le := &limitedEntry{g: g, state: slices.Clone(state), demand: slices.Clone(demand)}
	lim, free := make([]outcome, nF), make([]outcome, nF)
	base := func(i int) []hop {
		if state == nil {
			return m.hopsInto(&e.hops, &m.flows[i], o.reach[i], nil, o.rate[i])
		}
		e.hops = append(e.hops[:0], e.thrHops[i]...)
		return e.hops
	}
	outcomeOf := func(_ int, hops []hop, gate float64) outcome {
		return copied(evaluatePlan(&o.pol, &e.sc, hops, o.cacheHit, gate))
	}
	theta, load := make([]float64, len(m.lim.groups)), make([]float64, len(m.lim.groups))
	var start []float64
	if calm != nil && calm.binds {
		start = calm.theta
	}
	le.binds = m.limitedOutcomes(o, demand, gates, start, theta, load, &e.sc, base, outcomeOf, lim, free)
	if le.binds {
		le.theta = theta
		le.deltas = make([]throttleDelta, nF)
		for i := range nF {
			if demand[i] == 0 {
				continue // nothing of the flow's is limited, or served
			}
			if state == nil {
				free[i] = o.calm[i] // calm without the limit is the calm outcome itself
			}
			le.deltas[i] = deltaOf(&lim[i], &free[i], e.mergedAt)
		}
	}
	e.shared.limited.put(key, le)
	return le
}
