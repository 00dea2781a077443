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

// limitedEntry is one option's hour under the limits at one demand and
// state: whether a limit binds, the groups' refusal shares if so, and for
// a stretch's state what the hour adds per request of each flow, as
// requests at points of the flows' tables. The state is that of the flows
// that draw on a limit: the others put no load on one, and their
// outcomes are not throttled.
type limitedEntry struct {
	g     int
	state []float64 // the limited flows' gateway failure shares and hop states
	class int32     // the hour's demand (limits.classDemand)
	binds bool
	theta []float64
	items []item
	calm  [][]item // at calm, per flow: its cell corners at theta
}

// item is coef requests at vertex k of table t per request of the flow,
// or with me, coef requests at me's difference from calm: a state's
// outcome without the limit is calm plus what the trial's memo already
// holds, which spares working it out again.
type item struct {
	t       *flowTable
	flow, k int32
	me      *memoEntry
	coef    float64
}

// maxLimited bounds the run's table of throttled hours in stretches'
// states (an entry is a few hundred bytes); past it, the hours read least
// recently are let go.
const maxLimited = 1 << 16

// maxTables bounds the run's tables of flows in stretches' states (a
// table holds the few points its stretches' solves read); past it, the
// tables read least recently are let go, and a state met again after
// that is tabulated afresh.
const maxTables = 1 << 14

// demandStep is the grid an hour's demand is solved on: 2 % apart. The
// hours of a stretch then share a few solutions, a day's hours repeat on
// the next day, and each is a function of the hour alone (the same
// whatever the worker or the order of trials).
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
func (e *evaluator) trackThrottled(g int, hits []segmentHit, s int, sign float64) {
	t := &e.thr[g]
	if t.on && t.sb == int32(s) && sameHits(t.hits, hits) {
		t.sb = int32(s + 1)
		return
	}
	if t.on {
		e.throttleStretch(g, sign)
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

// throttleStretch adds option g's throttling over its stretch to the
// option's sums: hour by hour where a limit binds, the outcome with the
// limit under the stretch's state less the same without it, less the calm
// throttling, for the stretch's requests in that hour. A limit is a rate,
// so each hour is solved at its mean requests a bin (on the demand grid,
// and so once for every trial whose incidents meet it in that state), not
// at the stretch's share of it; hours whose busiest bin fits every limit
// are skipped. The scenario's own outages are left out: their throttling,
// worked out with the run, holds them (a sampled incident during a named
// outage is not throttled).
func (e *evaluator) throttleStretch(g int, sign float64) {
	m, t := e.m, &e.thr[g]
	t.on = false
	groups, h := m.lim.groups, m.binHours
	nF := len(m.flows)
	// Where the state hits no flow that draws on a limit, throttling is
	// as at calm.
	changed := false
	for i := range nF {
		changed = changed || e.hitOf(g, i) != nil && len(m.lim.dims[g][i]) > 0
	}
	if !changed {
		return
	}
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
	// The state (gateway failure share and hops) of the flows that draw
	// on a limit, as a key.
	state := e.thrState[:0]
	var hash uint64 = 14695981039346656037 ^ uint64(g)
	for i := range nF {
		if me := e.hitOf(g, i); me != nil && len(m.lim.dims[g][i]) > 0 {
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
	lo, hi := e.bounds[t.sa], e.bounds[t.sb]
	in := e.thrIn[:nF]
	sums := e.thrSums[g]
	// The flows' tables in the stretch's state, once an hour needs them.
	tabs := e.thrTabs
	tabs[0] = nil
	var kept []float64
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
		// An hour wholly in the scenario's own outages adds nothing here.
		some := false
		for i := range nF {
			in[i] = sign * e.demandOutsideOwn(i, a, z)
			some = some || in[i] != 0
		}
		if !some {
			continue
		}
		if tabs[0] == nil {
			for i := range nF {
				tabs[i] = e.tableFor(g, i, e.hitOf(g, i))
			}
		}
		cls := m.lim.class[c]
		calm := e.calmAt(g, cls)
		under := e.limitedAt(g, hash, state, cls, tabs, calm, &kept)
		for _, it := range under.items {
			if d := in[it.flow]; d != 0 {
				if it.me != nil {
					sums.addMemo(it.me, it.coef*d)
				} else {
					sums.add(it.t, it.flow, it.k, it.coef*d)
				}
			}
		}
	}
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

// calmAt is option g's hour at calm at the demand of class cls, worked
// out by the first worker to need it: every state's hour there is found
// from it.
func (e *evaluator) calmAt(g int, cls int32) *limitedEntry {
	slot := &e.m.lim.calmHour[g][cls]
	if le := slot.Load(); le != nil {
		return le
	}
	le := e.solveHour(g, nil, cls, e.m.lim.calm[g], nil)
	if slot.CompareAndSwap(nil, le) {
		return le
	}
	return slot.Load()
}

// limitedAt is option g's hour at the demand of class cls with the flows'
// tables tabs, in the state whose hash and values are given, from the
// run's table when a worker has solved it before. The entry holds what
// the hour adds per request of each flow: its outcome with the limit less
// without in the state, less the same at calm.
func (e *evaluator) limitedAt(g int, hash uint64, state []float64, cls int32, tabs []*flowTable, calm *limitedEntry, kept *[]float64) *limitedEntry {
	key := (hash ^ uint64(g)<<40 ^ uint64(cls)) * 1099511628211
	if le, ok := e.shared.limited.get(key); ok && le.g == g && le.class == cls && slices.Equal(le.state, state) {
		return le
	}
	// A stretch's hours share one copy of its state.
	if *kept == nil {
		*kept = slices.Clone(state)
	}
	le := e.solveHour(g, *kept, cls, tabs, calm)
	e.shared.limited.put(key, le)
	return le
}

// solveHour solves option g's hour at the demand of class cls with the
// flows' tables tabs, in state (nil for calm). The refusal shares are
// found from calm's (nil for none refused): an incident mostly moves them
// a little, so the solve starts near its answer.
func (e *evaluator) solveHour(g int, state []float64, cls int32, tabs []*flowTable, calm *limitedEntry) *limitedEntry {
	le := &limitedEntry{g: g, state: state, class: cls}
	s := e.solver
	s.use(g, tabs)
	clear(s.theta)
	if calm != nil && calm.binds {
		copy(s.theta, calm.theta)
	}
	if le.binds = s.solve(e.m.lim.classDemand[cls]); le.binds {
		le.theta = slices.Clone(s.theta)
	}
	switch {
	case calm != nil:
		le.items = e.hourItems(g, le, calm, tabs)
	case le.binds:
		le.calm = e.calmItems(g, le)
	}
	return le
}

// hourItems is what an hour adds per request of each flow in a state
// (under) less at calm: each flow's cell corners at the state's refusal
// shares less its outcome without the limit, less the same at calm's,
// merged by point; what cancels is dropped. A flow that draws on no limit,
// or that the state leaves calm in groups whose shares it leaves alone,
// adds nothing.
func (e *evaluator) hourItems(g int, under, calm *limitedEntry, tabs []*flowTable) []item {
	s, lim := e.solver, e.m.lim
	calmTabs := lim.calm[g]
	items := e.thrItems[:0]
	defer func() { e.thrItems = items[:0] }()
	if under.binds {
		s.use(g, tabs)
		copy(s.theta, under.theta)
	}
	for i := range tabs {
		dims := lim.dims[g][i]
		if len(dims) == 0 {
			continue
		}
		if tabs[i] == calmTabs[i] && under.binds == calm.binds && (!under.binds || sameShares(dims, under.theta, calm.theta)) {
			continue
		}
		from := len(items)
		add := func(t *flowTable, k int32, c float64) {
			for x := from; x < len(items); x++ {
				if items[x].t == t && items[x].k == k && items[x].me == nil {
					items[x].coef += c
					return
				}
			}
			items = append(items, item{t: t, flow: int32(i), k: k, coef: c})
		}
		if under.binds {
			c := s.place(i, -1, 0)
			for x := range c.corner {
				if w := s.weight(x); w != 0 {
					add(c.t, c.idx[x], w)
				}
			}
			// Less the outcome without the limit: calm's, and in the
			// state its difference from calm.
			add(calmTabs[i], 0, -1)
			if tabs[i] != calmTabs[i] {
				items = append(items, item{t: calmTabs[i], flow: int32(i), me: e.hitOf(g, i), coef: -1})
			}
		}
		if calm.binds {
			for _, it := range calm.calm[i] {
				add(it.t, it.k, -it.coef)
			}
			add(calmTabs[i], 0, 1)
		}
		n := from
		for _, it := range items[from:] {
			if it.coef != 0 || it.me != nil {
				items[n] = it
				n++
			}
		}
		items = items[:n]
	}
	return slices.Clone(items)
}

// calmItems is, per flow, its cell corners at calm's refusal shares with
// their weights.
func (e *evaluator) calmItems(g int, calm *limitedEntry) [][]item {
	s, lim := e.solver, e.m.lim
	s.use(g, lim.calm[g])
	copy(s.theta, calm.theta)
	out := make([][]item, len(lim.calm[g]))
	for i := range out {
		if len(lim.dims[g][i]) == 0 {
			continue
		}
		c := s.place(i, -1, 0)
		for x := range c.corner {
			if w := s.weight(x); w != 0 {
				out[i] = append(out[i], item{t: c.t, flow: int32(i), k: c.idx[x], coef: w})
			}
		}
	}
	return out
}

// sameShares says whether two solutions refuse the same in each group of
// dims.
func sameShares(dims []int, x, y []float64) bool {
	for _, gi := range dims {
		if x[gi] != y[gi] {
			return false
		}
	}
	return true
}

// tableFor is option g's table for flow i in the state of memo entry me
// (calm for nil), from the run's tables when a worker has made it: a
// flow's state recurs across stretches and trials far more often than
// the combination of every flow's, and flows whose hops are alike (a
// route's traffic from two origins served alike) share one. A flow that
// draws on no limited group is the same with and without the limits, in
// any state, and uses the calm table.
func (e *evaluator) tableFor(g, i int, me *memoEntry) *flowTable {
	m := e.m
	if me == nil || len(m.lim.dims[g][i]) == 0 {
		return m.lim.calm[g][i]
	}
	if t := me.lim.Load(); t != nil {
		return t
	}
	o := &m.options[g]
	hops := m.hopsInto(&e.hops, &m.flows[i], o.reach[i], nil, o.rate[i])
	n := len(o.reach[i])
	for j := range hops {
		hops[j].fail, hops[j].slow, hops[j].down = me.state[j], me.state[n+j], me.state[2*n+j]
	}
	h := (14695981039346656037 ^ uint64(g)<<32 ^ math.Float64bits(me.gate)) * 1099511628211
	for _, hp := range hops {
		for _, x := range [...]float64{hp.fail, hp.background, hp.cost, hp.down, hp.slow, hp.overloaded, hp.rate} {
			h ^= math.Float64bits(x)
			h *= 1099511628211
		}
	}
	dims, hopDim := m.lim.dims[g][i], m.lim.hopDim[g][i]
	t, ok := e.shared.tables.get(h)
	if !ok || t.o != o || t.gate != me.gate || !slices.Equal(t.hops, hops) || !slices.Equal(t.dims, dims) || !slices.Equal(t.hopDim, hopDim) {
		t = m.stateTable(g, i, stateCells, hops, me.gate, slices.Clone(me.state), &e.solver.ts)
		t.key = stateKey(me.gate, me.state)
		e.shared.tables.put(h, t)
	}
	me.lim.Store(t)
	return t
}

// stateKey orders a flow's tables in a trial's sums by their state alone:
// not by the option's place among those compared, nor by which of two
// flows alike made the table, so that an option's figures are the same to
// the last bit whichever others are compared and whichever worker came
// first.
func stateKey(gate float64, state []float64) uint64 {
	h := (14695981039346656037 ^ math.Float64bits(gate)) * 1099511628211
	for _, x := range state {
		h ^= math.Float64bits(x)
		h *= 1099511628211
	}
	return h
}
