package simulator

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// trialResult is one option's month in one trial (unscaled totals).
type trialResult struct {
	failed   float64 // requests
	cost     float64 // USD of tokens
	downtime float64 // hours in which more than unavailableAbove of the option's requests fail
	fallback float64 // requests served by a target other than the first
	own      float64 // of failed, those while the option's own gateway has an incident
}

// evaluator holds one worker's scratch space and its view of the run's
// memos: the failure shares of a flow's paths take few distinct values
// (the severity classes, the tail rate, the background), so most stretches
// repeat a combination of incidents (a segment) and most options' flows an
// outcome that an earlier trial already worked out.
type evaluator struct {
	m      *model
	bounds []float64
	live   []*event     // the events that overlap the stretch evaluated
	key    []segmentKey // the active ones in a segment
	slows  [][]float64  // per flow, per path: latency multiplier now
	downs  [][]float64  // per flow, per path: failure share from outages that refuse requests
	// Per segment: survival and slowdown by run-wide path, the paths and
	// flows an active event touched, and each option's gateway survival.
	survive, slowAt []float64
	downSurvive     []float64 // survival of the outages that refuse requests
	touched         []int32
	flowHit         []bool
	gateUp          []float64
	pre             []float64 // per flow and bound of the stretch evaluated: demand before it, or NaN
	sc              attemptScratch
	hops            []hop
	out             outcome     // attempts' outcome with the cache mixed in
	fails           [][]float64 // per flow, per path
	hits            []segmentHit
	alone           []*segment
	merged          []cohort
	shares          []share
	mergedAt        []int32 // per latency bucket: 1 + its place in merged, or 0
	// What the run's workers have worked out, and this worker's copies of
	// the segments it has used (reading them takes no lock; outcomes are
	// only looked up when a segment is new, so they need no copy).
	shared   *memos
	segments map[uint64]*segment
	// Per option: the stretches being added up, one per flow under one
	// outcome (open lists the flows that have one), and the stretch of
	// downtime.
	pend [][]stretch
	open [][]int32
	down []stretch
	// Throttling within the trial (ratelimit_trial.go): per option the
	// stretch of constant state and the sums it adds at the end of an
	// evaluation; the scenario's own events; scratch; and the bins worked
	// out, by demand and state.
	thr      []throttled
	thrSums  []*trialSums
	own      []event
	ownSpans [][2]float64
	thrPer   []float64 // per flow and group
	thrState []float64
	thrIn    []float64
	thrTabs  []*flowTable
	thrItems []item
	thrWaits []float64
	thrCost  []float64
	solver   *limitSolver
}

// stretch is a run of consecutive segments in which one option's flow
// keeps one outcome (or the option stays down). It is added once, when it
// ends, so an event that touches neither the option nor the flow (another
// option's own incident) splits nothing: every option's figures are the
// same whichever others are compared, to the last bit.
type stretch struct {
	me     *memoEntry
	sa, sb int32 // from bounds[sa] to bounds[sb]
	on     bool
}

// sameOutcome says two entries answer the same option, flow and state:
// workers may each hold a copy of one.
func sameOutcome(x, y *memoEntry) bool {
	return x == y || x.lost == y.lost && x.cost == y.cost && x.fallback == y.fallback &&
		x.option == y.option && x.flow == y.flow && x.gate == y.gate && slices.Equal(x.state, y.state)
}

// memos are the tables a run's workers share.
type memos struct {
	outcomes table[*memoEntry]
	segments table[*segment]
	limited  recentTable[*limitedEntry]
	tables   recentTable[*flowTable] // flows' tables in the states of stretches (ratelimit_solve.go)
}

func newMemos() *memos {
	return &memos{
		outcomes: table[*memoEntry]{m: map[uint64]*memoEntry{}, max: maxMemo},
		segments: table[*segment]{m: map[uint64]*segment{}, max: maxSegments},
		limited:  recentTable[*limitedEntry]{cur: map[uint64]*limitedEntry{}, max: maxLimited},
		tables:   recentTable[*flowTable]{cur: map[uint64]*flowTable{}, max: maxTables},
	}
}

// segment is what one combination of active incidents does to every
// option. A month's stretches mostly repeat a combination seen before (one
// incident of a given class, alone), so the evaluator works each out once
// and a repeat costs one lookup and the additions it contributes.
type segment struct {
	key []segmentKey
	// hits[from[g]:from[g+1]] are the flows option g sees hit, in order.
	hits   []segmentHit
	from   []int32
	status []float64 // per option: 1 when the stretch counts as unavailable to its users, else 0
}

// segmentKey is one active incident: what it hits, and how hard now.
type segmentKey struct {
	hit        int32
	rate, slow float64
	down       bool
}

// segmentHit is one flow an option sees hit, with its outcome.
type segmentHit struct {
	flow int32
	me   *memoEntry
}

// maxSegments bounds the table of segments (an entry is about a
// kilobyte); past it, new combinations are worked out each time.
const maxSegments = 1 << 16

// memoEntry is an option's outcome on a flow under one set of failure
// shares, as a difference from calm.
type memoEntry struct {
	// The stretch's difference from the calm outcome per request, with
	// the gateway's own failure share folded in: what evaluate adds. These
	// come first, and the shares with them when they fit, so a stretch
	// reads one place per hit.
	lost     float64 // the calm success share less the stretch's
	cost     float64 // USD
	fallback float64 // share served by a target other than the first
	// shares[:nWaits] are shares of requests by latency bucket, merged;
	// the rest are USD by run-wide path. Each part comes largest first,
	// without those too small to ever count (see significant).
	shares []share
	nWaits int
	inline [8]share
	// The key the entry answers: option, flow, gateway failure share and
	// state: the failure share, the slowdown and the refused share of each
	// reachable hop.
	option, flow int
	gate         float64
	state        []float64
	success      float64
	// groupLoads is the attempts per request on each rate-limit group
	// (ratelimit.go), for throttling within a trial.
	groupLoads []float64
	loadsIn    [4]float64 // groupLoads' room for a few groups
	// lim is the entry's table under the limits, once a stretch in its
	// state has been throttled (ratelimit_trial.go).
	lim atomic.Pointer[flowTable]
}

// share is an amount per request and where it is counted: a latency
// bucket, or a run-wide path.
type share struct {
	x  float64
	at int32
}

// largestFirst sorts shares by size, largest first.
func largestFirst(s []share) {
	slices.SortFunc(s, func(a, b share) int {
		if c := cmp.Compare(math.Abs(b.x), math.Abs(a.x)); c != 0 {
			return c
		}
		return cmp.Compare(a.at, b.at)
	})
}

// addRounded adds each share times d requests in unit, rounded to an
// integer, at its place in into. Shares come largest first, so the loop
// stops at the first below limit, halfUnit(d, unit), which cannot reach
// half a unit: the rest would add zeros. Most of what a difference from
// calm leaves is float noise near 1e-17, so this skips much of the work
// and changes no sum.
func addRounded(into []int64, shares []share, d, unit, limit float64) {
	for _, s := range shares {
		if math.Abs(s.x) < limit {
			return
		}
		into[s.at] += roundInt(s.x * d * unit)
	}
}

// table is shared by a run's workers: an entry is a pure function of its
// key, so whichever worker works it out first, every trial reads the same
// numbers, and no combination is worked out twice.
type table[T any] struct {
	mu  sync.RWMutex
	m   map[uint64]T // by a hash of the key the entry holds
	max int
}

func (t *table[T]) get(h uint64) (T, bool) {
	t.mu.RLock()
	v, ok := t.m[h]
	t.mu.RUnlock()
	return v, ok
}

// put keeps an entry unless the table is full or the hash is taken; then
// later combinations are only worked out again.
func (t *table[T]) put(h uint64, v T) {
	t.mu.Lock()
	if _, taken := t.m[h]; !taken && len(t.m) < t.max {
		t.m[h] = v
	}
	t.mu.Unlock()
}

// recentTable keeps the entries read most recently, up to max: when the
// newer half fills, the older half is let go, and an older entry read
// again moves to the newer. Throttled hours keep meeting states and
// demands not seen before long after the table would have filled, and
// the ones that recur are the ones worth keeping.
type recentTable[T any] struct {
	mu       sync.RWMutex
	cur, old map[uint64]T
	max      int
}

func (t *recentTable[T]) get(h uint64) (T, bool) {
	t.mu.RLock()
	v, ok := t.cur[h]
	older := false
	if !ok {
		v, ok = t.old[h]
		older = ok
	}
	t.mu.RUnlock()
	if older {
		t.put(h, v)
	}
	return v, ok
}

// put keeps an entry unless the hash is taken.
func (t *recentTable[T]) put(h uint64, v T) {
	t.mu.Lock()
	if _, taken := t.cur[h]; !taken {
		if len(t.cur) >= t.max/2 {
			t.old, t.cur = t.cur, make(map[uint64]T, t.max/2)
		}
		t.cur[h] = v
	}
	t.mu.Unlock()
}

// maxMemo bounds the memo (an entry is under a kilobyte).
const maxMemo = 1 << 18

func newEvaluator(m *model, shared *memos) *evaluator {
	e := &evaluator{m: m, fails: make([][]float64, len(m.flows)), slows: make([][]float64, len(m.flows)), downs: make([][]float64, len(m.flows)),
		survive: make([]float64, m.nPaths), slowAt: make([]float64, m.nPaths), downSurvive: make([]float64, m.nPaths), flowHit: make([]bool, len(m.flows)), gateUp: make([]float64, len(m.options)),
		mergedAt: make([]int32, latencyBuckets),
		shared:   shared, segments: map[uint64]*segment{},
		pend: make([][]stretch, len(m.options)), open: make([][]int32, len(m.options)), down: make([]stretch, len(m.options))}
	for g := range m.options {
		e.pend[g] = make([]stretch, len(m.flows))
	}
	e.thr, e.thrSums = make([]throttled, len(m.options)), make([]*trialSums, len(m.options))
	for g := range e.thrSums {
		e.thrSums[g] = newTrialSums(len(m.flows))
	}
	e.thrPer = make([]float64, len(m.flows)*len(m.lim.groups))
	e.thrIn, e.thrTabs = make([]float64, len(m.flows)), make([]*flowTable, len(m.flows))
	e.thrWaits, e.thrCost = make([]float64, latencyBuckets), make([]float64, m.nPaths)
	e.solver = m.newSolver(&e.sc)
	for i, f := range m.flows {
		e.fails[i] = slices.Clone(f.bg)
		e.slows[i] = make([]float64, len(f.paths))
		e.downs[i] = make([]float64, len(f.paths))
		for k := range f.paths {
			e.slows[i][k] = 1
			e.survive[m.pathAt[i]+k] = 1
			e.slowAt[m.pathAt[i]+k] = 1
			e.downSurvive[m.pathAt[i]+k] = 1
		}
	}
	return e
}

// upTo is a flow's demand before t hours, interpolating within bins.
func (f *flow) upTo(t, binHours float64) float64 {
	x := t / binHours
	i := int(x)
	if i >= len(f.prefix)-1 {
		return f.prefix[len(f.prefix)-1]
	}
	return f.prefix[i] + (x-float64(i))*(f.prefix[i+1]-f.prefix[i])
}

// demandIn is flow i's requests from bounds[sa] to bounds[sb]: options'
// stretches of one flow mostly start and end at the same boundaries, so
// the demand before each boundary is read once per flow (pre holds it).
func (e *evaluator) demandIn(i, sa, sb int32) float64 {
	return e.demandBefore(i, sb) - e.demandBefore(i, sa)
}

func (e *evaluator) demandBefore(i, k int32) float64 {
	at := int(i)*len(e.bounds) + int(k)
	if v := e.pre[at]; !math.IsNaN(v) {
		return v
	}
	v := e.m.flows[i].upTo(e.bounds[k], e.m.binHours)
	e.pre[at] = v
	return v
}

// unavailableAbove is the failed share above which a minute counts as
// down for an option's users: Google's ML service SLAs count a minute with
// more than 5 % of requests failing as downtime (outages.md §6).
const unavailableAbove = 0.05

// unavailable is 1 for a stretch whose failed share makes it downtime for
// the option's users, else 0.
func unavailable(failedShare float64) float64 {
	if failedShare > unavailableAbove {
		return 1
	}
	return 0
}

// outcomeFor evaluates option g on flow i with the current failure shares,
// from the memo when this combination was seen before.
func (e *evaluator) outcomeFor(g, i int, fg float64) *memoEntry {
	reach := e.m.options[g].reach[i]
	var h uint64 = 14695981039346656037
	for _, k := range reach {
		h ^= math.Float64bits(e.fails[i][k])
		h *= 1099511628211
		h ^= math.Float64bits(e.slows[i][k])
		h *= 1099511628211
		if d := e.downs[i][k]; d != 0 {
			h ^= math.Float64bits(d)
			h *= 1099511628211
		}
	}
	h ^= math.Float64bits(fg)
	h *= 1099511628211
	h ^= uint64(g)<<32 | uint64(i)
	h *= 1099511628211
	me, ok := e.shared.outcomes.get(h)
	if !ok || !e.same(me, g, i, fg) {
		me = e.workOutOutcome(g, i, fg)
		e.shared.outcomes.put(h, me)
	}
	return me
}

// same tells whether me is option g's outcome on flow i under the current
// failure shares and gateway failure share fg.
func (e *evaluator) same(me *memoEntry, g, i int, fg float64) bool {
	if me.option != g || me.flow != i || me.gate != fg {
		return false
	}
	reach := e.m.options[g].reach[i]
	for j, k := range reach {
		if me.state[j] != e.fails[i][k] || me.state[len(reach)+j] != e.slows[i][k] || me.state[2*len(reach)+j] != e.downs[i][k] {
			return false
		}
	}
	return true
}

// workOutOutcome runs the attempt model for option g on flow i under the
// current failure shares, and keeps its difference from the calm outcome
// per request, with the gateway's own failure share fg (those requests
// fail fast). Waits are merged by latency bucket in the order they first
// appear.
func (e *evaluator) workOutOutcome(g, i int, fg float64) *memoEntry {
	o := &e.m.options[g]
	reach := o.reach[i]
	hops := e.m.hopsInto(&e.hops, &e.m.flows[i], reach, e.fails[i], o.rate[i])
	me := &memoEntry{option: g, flow: i, gate: fg, state: make([]float64, 3*len(reach))}
	for j, k := range reach {
		hops[j].slow, hops[j].down = e.slows[i][k], e.downs[i][k]
		me.state[j], me.state[len(reach)+j], me.state[2*len(reach)+j] = e.fails[i][k], e.slows[i][k], e.downs[i][k]
	}
	out, calm := &e.out, o.calm[i]
	copyInto(out, evaluatePlan(&o.pol, &e.sc, hops, o.cacheHit, fg))
	me.success, me.cost = out.success, out.cost-calm.cost
	if groups := e.m.lim.groups; len(groups) > 0 {
		if len(groups) <= len(me.loadsIn) {
			me.groupLoads = me.loadsIn[:len(groups)]
		} else {
			me.groupLoads = make([]float64, len(groups))
		}
		for j, k := range reach {
			if gi := e.m.lim.groupOf[i][k]; gi >= 0 {
				me.groupLoads[gi] += out.loads[j]
			}
		}
	}
	me.fallback = out.fallback - calm.fallback
	merged := e.merged[:0]
	add := func(b int32, share float64) {
		if k := e.mergedAt[b]; k > 0 {
			merged[k-1].share += share
			return
		}
		merged = append(merged, cohort{bucket: b, share: share})
		e.mergedAt[b] = int32(len(merged))
	}
	for _, c := range out.waits {
		add(c.bucket, c.share)
	}
	for _, c := range calm.waits {
		add(c.bucket, -c.share)
	}
	// One buffer for both parts keeps what evaluate reads together.
	shares := e.shares[:0]
	for _, c := range merged {
		e.mergedAt[c.bucket] = 0
		shares = append(shares, share{x: c.share, at: c.bucket})
	}
	e.merged = merged
	nw := len(shares)
	for j := range out.costs {
		shares = append(shares, share{x: out.costs[j] - calm.costs[j], at: o.paths[i][j]})
	}
	waits := significant(shares[:nw], e.m.flows[i].total, waitUnit)
	costs := significant(shares[nw:], e.m.flows[i].total, microUSD)
	me.nWaits, me.lost = len(waits), calm.success-me.success
	me.shares = me.inline[:0]
	if n := len(waits) + len(costs); n > len(me.inline) {
		me.shares = make([]share, 0, n)
	}
	me.shares = append(append(me.shares, waits...), costs...)
	e.shares = shares
	return me
}

// halfUnit is the size below which a share of d requests makes less than
// half a unit, even after the products' rounding: the relative margin of
// 1e-12 covers that many times over.
func halfUnit(d, unit float64) float64 {
	return 0.5 / (math.Abs(d) * unit) * (1 - 1e-12)
}

// significant keeps the shares that can count, largest first:
// the rest make less than half a unit even for all the flow's requests
// (total) in one stretch, so addRounded would skip them anyway. Most of
// what a difference from calm leaves is float noise near 1e-17 from
// cohorts the stretch did not change.
func significant(shares []share, total, unit float64) []share {
	// A stretch's requests never exceed the flow's total but for a few
	// ulps of interpolation; the margin covers them.
	limit := halfUnit(total*(1+1e-9), unit)
	// Dropping the noise first leaves little to sort.
	n := 0
	for _, s := range shares {
		if math.Abs(s.x) >= limit {
			shares[n] = s
			n++
		}
	}
	largestFirst(shares[:n])
	return shares[:n]
}

// evaluate plays one trial's events against every option. Between
// consecutive event boundaries failure shares are constant, so each stretch
// is priced in closed form from prefix sums of demand; stretches no event
// touches keep the calm outcome computed once per run. The results are
// differences from a calm month, which collect adds back; waits receive the
// difference in waiting per option.
func (e *evaluator) evaluate(env, extra []event, lo, hi, sign float64, result []trialResult, acc []accum) {
	m := e.m
	// Only events that overlap [lo, hi) can be active in it; the bounds of
	// the others would clamp to lo or hi. The scenario's events follow the
	// sampled ones, so the order (and every product) is as if appended.
	live := e.live[:0]
	defer func() { e.live = live }()
	for _, evs := range [2][]event{env, extra} {
		for x := range evs {
			if ev := &evs[x]; ev.inc.Start < hi && ev.inc.End > lo {
				live = append(live, ev)
			}
		}
	}
	if len(live) == 0 {
		return
	}
	limited := len(m.lim.groups) > 0
	e.own, e.ownSpans = extra, ownOutages(extra, e.ownSpans)
	bounds := e.bounds[:0]
	bounds = append(bounds, lo, hi)
	for _, ev := range live {
		bounds = append(bounds, clampTo(ev.inc.Start, lo, hi), clampTo(ev.inc.PeakEnd, lo, hi), clampTo(ev.inc.End, lo, hi))
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	e.bounds = bounds
	e.pre = slices.Grow(e.pre[:0], len(m.flows)*len(bounds))[:len(m.flows)*len(bounds)]
	for k := range e.pre {
		e.pre[k] = math.NaN()
	}
	for s := 0; s+1 < len(bounds); s++ {
		a, b := bounds[s], bounds[s+1]
		mid := (a + b) / 2
		e.key = e.key[:0]
		for _, ev := range live {
			if ev.inc.Start <= mid && mid < ev.inc.End {
				// An incident failing every request refuses them before the
				// first token, as a named outage does: no stream starts, so
				// none breaks mid-stream.
				rate, slow := ev.rate(mid), ev.slow
				if ev.src >= 0 && mid < ev.inc.PeakEnd && ev.inc.LatencyMultiplier > 1 {
					slow = ev.inc.LatencyMultiplier // a degraded incident's peak: slower answers
				}
				e.key = append(e.key, segmentKey{hit: ev.hit, rate: rate, slow: slow, down: ev.down || rate >= 1})
			}
		}
		if len(e.key) == 0 {
			continue
		}
		se := e.segment(e.key)
		for g := range m.options {
			for k := se.from[g]; k < se.from[g+1]; k++ {
				h := &se.hits[k]
				p := &e.pend[g][h.flow]
				if p.on && p.sb == int32(s) && sameOutcome(p.me, h.me) {
					p.sb = int32(s + 1)
					continue
				}
				if p.on {
					e.add(g, h.flow, sign, &result[g], &acc[g])
				} else {
					e.open[g] = append(e.open[g], h.flow)
				}
				*p = stretch{me: h.me, sa: int32(s), sb: int32(s + 1), on: true}
			}
			// A flow this segment leaves calm ends its stretch.
			open := e.open[g][:0]
			for _, i := range e.open[g] {
				if e.pend[g][i].sb == int32(s+1) {
					open = append(open, i)
				} else {
					e.add(g, i, sign, &result[g], &acc[g])
				}
			}
			e.open[g] = open
			dn := &e.down[g]
			switch {
			case se.status[g] == 0:
				if dn.on {
					result[g].downtime += sign * (bounds[dn.sb] - bounds[dn.sa])
					dn.on = false
				}
			case dn.on && dn.sb == int32(s):
				dn.sb = int32(s + 1)
			default:
				if dn.on {
					result[g].downtime += sign * (bounds[dn.sb] - bounds[dn.sa])
				}
				*dn = stretch{sa: int32(s), sb: int32(s + 1), on: true}
			}
			if limited && m.options[g].excluded == nil {
				e.trackThrottled(g, se.hits[se.from[g]:se.from[g+1]], s, sign)
			}
		}
	}
	for g := range m.options {
		for _, i := range e.open[g] {
			e.add(g, i, sign, &result[g], &acc[g])
		}
		e.open[g] = e.open[g][:0]
		if dn := &e.down[g]; dn.on {
			result[g].downtime += sign * (bounds[dn.sb] - bounds[dn.sa])
			dn.on = false
		}
		if e.thr[g].on {
			e.throttleStretch(g, sign)
		}
		// Throttling's sums come last, in the stretches' order, so they
		// do not depend on which other options split the segments.
		if s := e.thrSums[g]; len(s.entry) > 0 || len(s.memo) > 0 {
			s.into(m, &e.solver.ts, &result[g], &acc[g], e.thrWaits, e.thrCost)
		}
	}
}

// add ends option g's stretch on flow i: its requests times the outcome's
// difference from calm, with waits and spend rounded to their units.
func (e *evaluator) add(g int, i int32, sign float64, res *trialResult, acc *accum) {
	p := &e.pend[g][i]
	p.on = false
	d := e.demandIn(i, p.sa, p.sb)
	if d == 0 {
		return
	}
	limitW, limitC := halfUnit(d, waitUnit), halfUnit(d, microUSD)
	d *= sign
	me := p.me
	res.failed += d * me.lost
	if me.gate > 0 {
		res.own += d * me.lost
	}
	res.cost += d * me.cost
	res.fallback += d * me.fallback
	addRounded(acc.waits, me.shares[:me.nWaits], d, waitUnit, limitW)
	addRounded(acc.cost, me.shares[me.nWaits:], d, microUSD, limitC)
}

// segment is the effect of the active events key describes, from the
// tables when the combination was seen before.
func (e *evaluator) segment(key []segmentKey) *segment {
	var h uint64 = 14695981039346656037
	for _, k := range key {
		h ^= uint64(k.hit)
		h *= 1099511628211
		h ^= math.Float64bits(k.rate)
		h *= 1099511628211
		h ^= math.Float64bits(k.slow)
		h *= 1099511628211
		if k.down {
			h ^= 1
			h *= 1099511628211
		}
	}
	if se, ok := e.segments[h]; ok && slices.Equal(se.key, key) {
		return se
	}
	se, ok := e.shared.segments.get(h)
	if !ok || !slices.Equal(se.key, key) {
		se = e.workOut(key)
		e.shared.segments.put(h, se)
	}
	if len(e.segments) < maxSegments {
		e.segments[h] = se
	}
	return se
}

// workOut evaluates a combination of active events against every option.
func (e *evaluator) workOut(key []segmentKey) *segment {
	m := e.m
	// Under several incidents, a flow that only one of them touches under
	// an option fares as under that incident alone: same failure shares,
	// same outcome. Those segments are worked out first (they use the same
	// scratch space) and spare most of the memo lookups.
	var alone []*segment
	if len(key) > 1 {
		alone = e.alone[:0]
		for x := range key {
			alone = append(alone, e.segment(key[x:x+1]))
		}
		e.alone = alone
	}
	// Failure shares of the paths the active events touch, once for all
	// options; every other path keeps its background share.
	for g := range e.gateUp {
		e.gateUp[g] = 1
	}
	for _, k := range key {
		hs := &m.hitSets[k.hit]
		for _, p := range hs.paths {
			if e.survive[p] == 1 && e.slowAt[p] == 1 {
				e.touched = append(e.touched, p)
			}
			e.survive[p] *= 1 - k.rate
			e.slowAt[p] = math.Max(e.slowAt[p], k.slow)
			if k.down {
				e.downSurvive[p] *= 1 - k.rate
			}
		}
		for g := range e.gateUp {
			if hs.gates&(1<<g) != 0 {
				e.gateUp[g] *= 1 - k.rate
			}
		}
	}
	for _, p := range e.touched {
		i := m.flowOf[p]
		k := int(p) - m.pathAt[i]
		e.flowHit[i] = true
		e.fails[i][k] = canon(1 - (1-m.flows[i].bg[k])*e.survive[p])
		e.slows[i][k] = e.slowAt[p]
		e.downs[i][k] = canon(1 - e.downSurvive[p])
	}
	se := &segment{key: slices.Clone(key), from: make([]int32, 1, len(m.options)+1), status: make([]float64, len(m.options))}
	hits := e.hits[:0]
	for g := range m.options {
		o := &m.options[g]
		if o.excluded != nil {
			// A hard constraint rules it out: nothing of it is reported,
			// so nothing of it is worked out.
			se.from = append(se.from, int32(len(hits)))
			continue
		}
		fg := canon(1 - e.gateUp[g])
		failedShare := 0.0
		for i, f := range m.flows {
			calm := &o.calm[i]
			var me *memoEntry
			switch by, n := e.touching(key, g, i); {
			case n == 0: // calm
			case n == 1 && alone != nil:
				me = alone[by].hitOn(g, i)
			case e.changed(g, i, fg):
				me = e.outcomeFor(g, i, fg)
			}
			if me == nil {
				failedShare += f.weight * (1 - calm.success)
				continue
			}
			failedShare += f.weight * (1 - me.success)
			hits = append(hits, segmentHit{flow: int32(i), me: me})
		}
		se.from = append(se.from, int32(len(hits)))
		se.status[g] = unavailable(failedShare)
	}
	se.hits, e.hits = slices.Clone(hits), hits
	for _, p := range e.touched {
		i := m.flowOf[p]
		k := int(p) - m.pathAt[i]
		e.survive[p], e.slowAt[p], e.downSurvive[p] = 1, 1, 1
		e.fails[i][k], e.slows[i][k], e.downs[i][k] = m.flows[i].bg[k], 1, 0
		e.flowHit[i] = false
	}
	e.touched = e.touched[:0]
	return se
}

// touching counts the events of key that touch option g's flow i, and
// gives the last of them.
func (e *evaluator) touching(key []segmentKey, g, i int) (by, n int) {
	for x, k := range key {
		if e.m.hitSets[k.hit].touch(g, i, len(e.m.flows)) {
			by, n = x, n+1
		}
	}
	return by, n
}

// changed tells whether option g's flow i differs from calm now: its
// gateway fails (fg) or a path it reaches fails or slows otherwise.
func (e *evaluator) changed(g, i int, fg float64) bool {
	if fg > 0 {
		return true
	}
	if !e.flowHit[i] {
		return false
	}
	f := &e.m.flows[i]
	for _, k := range e.m.options[g].reach[i] {
		if e.fails[i][k] != f.bg[k] || e.slows[i][k] != 1 {
			return true
		}
	}
	return false
}

// hitOn is option g's outcome on flow i in the segment, or nil where the
// segment leaves it calm.
func (se *segment) hitOn(g, i int) *memoEntry {
	for _, h := range se.hits[se.from[g]:se.from[g+1]] {
		if int(h.flow) == i {
			return h.me
		}
	}
	return nil
}

// canon rounds a failure share to 12 decimals: products of the same
// factors taken in another order then give the same number, so the memo
// recognises a combination it has seen.
func canon(x float64) float64 { return math.Round(x*1e12) / 1e12 }

// hopsInto is hops with a reused buffer.
func (m *model) hopsInto(buf *[]hop, f *flow, reach []int, fails []float64, rate float64) []hop {
	*buf = (*buf)[:0]
	for _, k := range reach {
		h := hop{fail: f.bg[k], background: f.bg[k], cost: f.cost[k], rate: rate}
		if fails != nil {
			h.fail = fails[k]
		}
		if f.paths[k].Provider == "anthropic" {
			h.overloaded = overloadedShare
		}
		*buf = append(*buf, h)
	}
	return *buf
}

// microUSD makes spend by path an integer count of micro-dollars.
const microUSD = 1e6

// waitUnit makes waiting weights integers (thousandths of a request), so
// sums over workers do not depend on their order.
const waitUnit = 1000

func addWaits(into []int64, ws []cohort, requests float64) {
	for _, c := range ws {
		into[c.bucket] += roundInt(c.share * requests * waitUnit)
	}
}

// roundInt is int64(math.Round(x)), half away from zero, without
// branches the data decides: x - trunc(x) is exact and within (-1, 1), and
// twice it truncates to -1, 0 or 1 exactly when it is at or past a half.
// The hot loop rounds every stretch's waiting and spend.
func roundInt(x float64) int64 {
	n := int64(x)
	if !(math.Abs(x) < 1<<52) {
		return n // an integer already, or NaN
	}
	return n + int64(2*(x-float64(n)))
}

// Waiting is counted in log-spaced buckets, 100 a decade from 1 ms to about
// 3 hours (±1.2 %), so adding a stretch's waiting is an array update.
const (
	latencyBuckets   = 1 + 700
	bucketsPerDecade = 100
)

func latencyBucket(ms int64) int32 {
	if ms < 1 {
		return 0
	}
	if ms < int64(len(bucketOfMS)) {
		return int32(bucketOfMS[ms])
	}
	if k := ms >> coarseShift; k < coarseCells {
		if b := bucketOfCoarse()[k]; b >= 0 {
			return int32(b)
		}
	}
	return bucketByLog(ms)
}

func bucketByLog(ms int64) int32 {
	b := 1 + int32(math.Log10(float64(ms))*bucketsPerDecade)
	return min(b, latencyBuckets-1)
}

// bucketOfMS is latencyBucket for waits under about a minute, where most
// fall, read from a table instead of a logarithm: the hot loops bucket
// every cohort they merge.
//
// bucketOfCoarse is latencyBucket by 64 ms cells up to the last bucket
// (about 2.8 h): a cell wholly inside one bucket reads it here, the few
// that straddle a bucket's edge (−1) take the logarithm. It is made the
// first time a wait that long is bucketed.
//
// Both are filled from the buckets' 700 edges rather than by a logarithm
// an entry, which cost every gatewise command 3 ms at start-up, ingest and
// check included. TestLatencyTables compares them with bucketByLog entry
// by entry.
const (
	coarseShift = 6
	coarseCells = 1e7 >> coarseShift
)

var (
	bucketEdges    = latencyEdges(coarseCells << coarseShift)
	bucketOfMS     = fineTable(&bucketEdges, 1<<16)
	bucketOfCoarse = sync.OnceValue(func() []int16 { return coarseTable(&bucketEdges, coarseCells) })
)

// latencyEdges is, for each bucket b, the least ms whose bucket is b or
// above, top for none. bucketByLog never decreases as ms grows, so ms is in
// the last bucket whose edge it has reached; bucket b holds the waits from
// edge b to edge b+1 less one. Each edge is stepped to from 10^((b−1)/100).
func latencyEdges(top int64) [latencyBuckets + 1]int64 {
	edge := [latencyBuckets + 1]int64{1, 1}
	for b := 2; b < len(edge); b++ {
		g := int64(math.Ceil(math.Pow(10, float64(b-1)/bucketsPerDecade)))
		g = min(max(g, edge[b-1]), top)
		for g > edge[b-1] && bucketByLog(g-1) >= int32(b) {
			g--
		}
		for g < top && bucketByLog(g) < int32(b) {
			g++
		}
		edge[b] = g
	}
	return edge
}

// fineTable is the bucket of every ms below n.
func fineTable(edge *[latencyBuckets + 1]int64, n int) []int16 {
	f := make([]int16, n)
	for b := 0; b+1 < len(edge); b++ {
		for ms := edge[b]; ms < min(edge[b+1], int64(n)); ms++ {
			f[ms] = int16(b)
		}
	}
	return f
}

// coarseTable is the bucket of each of n cells of 64 ms that lies wholly
// between two edges, −1 for the others.
func coarseTable(edge *[latencyBuckets + 1]int64, n int) []int16 {
	c := make([]int16, n)
	for k := range c {
		c[k] = -1
	}
	for b := 0; b+1 < len(edge); b++ {
		for k := (edge[b] + 1<<coarseShift - 1) >> coarseShift; k < min(edge[b+1]>>coarseShift, int64(n)); k++ {
			c[k] = int16(b)
		}
	}
	return c
}

// bucketMS is a bucket's representative waiting: its geometric middle.
func bucketMS(b int) float64 {
	if b == 0 {
		return 0
	}
	return math.Pow(10, (float64(b-1)+0.5)/bucketsPerDecade)
}

// withBuckets fills in the bucket of every cohort.
func withBuckets(ws []cohort) []cohort {
	for i := range ws {
		ws[i].bucket = latencyBucket(ws[i].ms)
	}
	return ws
}

func clampTo(t, lo, hi float64) float64 { return math.Min(math.Max(t, lo), hi) }
