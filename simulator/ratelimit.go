package simulator

import (
	"encoding/binary"
	"math"
	"slices"
	"sync/atomic"
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
	// Per flow and hour (chunk bins): the mean requests a bin (on the
	// demand grid) and the most in a bin, for throttling within a trial.
	chunk        int
	mean, peakIn [][]float64
	// The month's distinct hours by their demand on the grid: each hour's
	// class, and each class's requests a bin per flow. Per option, the
	// calm hour of each class, once a stretch has needed it.
	class       []int32
	classDemand [][]float64
	calmHour    [][]atomic.Pointer[limitedEntry]
	// Per option: each flow's dimensions (the groups its targets draw
	// on) and the dimension of each of its hops (-1 for none), the flows
	// drawing on each group, whether any flow draws on two, and the calm
	// tables (ratelimit_solve.go).
	dims    [][][]int
	hopDim  [][][]int8
	members [][][]member
	coupled []bool
	calm    [][]*flowTable
	// calmTheta holds, per option, the calm month's refusal shares bin by
	// bin (NaN until solved), and calmSums its throttling: every
	// scenario's calm bins are the same, so each is solved once a run.
	calmTheta [][]float64
	calmSums  []*limitSums
}

// member is a flow drawing on a group, and the dimension of its table
// that the group is.
type member struct{ flow, dim int32 }

// newLimits indexes the groups for the model's flows and options, and
// starts each option's calm tables at the calm outcome.
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
		for c, d := range l.mean[i] {
			l.mean[i][c] = onGrid(d)
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
	l.class = make([]int32, chunks)
	classOf := map[string]int32{}
	key := make([]byte, 0, 8*len(m.flows))
	for c := range l.class {
		key = key[:0]
		for i := range m.flows {
			key = binary.LittleEndian.AppendUint64(key, math.Float64bits(l.mean[i][c]))
		}
		k, ok := classOf[string(key)]
		if !ok {
			k = int32(len(l.classDemand))
			classOf[string(key)] = k
			d := make([]float64, len(m.flows))
			for i := range d {
				d[i] = l.mean[i][c]
			}
			l.classDemand = append(l.classDemand, d)
		}
		l.class[c] = k
	}
	n := len(m.options)
	l.calmHour = make([][]atomic.Pointer[limitedEntry], n)
	for g := range l.calmHour {
		l.calmHour[g] = make([]atomic.Pointer[limitedEntry], len(l.classDemand))
	}
	l.dims, l.hopDim, l.members, l.coupled = make([][][]int, n), make([][][]int8, n), make([][][]member, n), make([]bool, n)
	l.calm, l.calmTheta, l.calmSums = make([][]*flowTable, n), make([][]float64, n), make([]*limitSums, n)
	for g := range m.options {
		o := &m.options[g]
		l.calmPer[g] = make([][]float64, len(m.flows))
		l.dims[g], l.hopDim[g], l.members[g] = make([][]int, len(m.flows)), make([][]int8, len(m.flows)), make([][]member, len(groups))
		for i := range m.flows {
			l.calmPer[g][i] = make([]float64, len(groups))
			if o.excluded != nil {
				continue
			}
			l.hopDim[g][i] = make([]int8, len(o.reach[i]))
			for j, k := range o.reach[i] {
				l.hopDim[g][i][j] = -1
				gi := l.groupOf[i][k]
				if gi < 0 {
					continue
				}
				l.calmPer[g][i][gi] += o.calm[i].loads[j]
				p := slices.Index(l.dims[g][i], gi)
				if p < 0 {
					p = len(l.dims[g][i])
					l.dims[g][i] = append(l.dims[g][i], gi)
					l.members[g][gi] = append(l.members[g][gi], member{int32(i), int32(p)})
				}
				l.hopDim[g][i][j] = int8(p)
			}
			l.coupled[g] = l.coupled[g] || len(l.dims[g][i]) > 1
		}
	}
	m.lim = l
	var buf []hop
	for g := range m.options {
		o := &m.options[g]
		if o.excluded != nil {
			continue
		}
		l.calm[g] = make([]*flowTable, len(m.flows))
		for i := range m.flows {
			t := m.newFlowTable(g, i, thetaCells, m.hopsInto(&buf, &m.flows[i], o.reach[i], nil, o.rate[i]), 0, nil)
			// Nothing refused is the calm outcome itself.
			zero := &vertex{coords: make([]uint16, len(t.dims)), loads: make([]float64, len(t.dims))}
			zero.out.Store(compacted(o.calm[i]))
			for j, x := range o.calm[i].loads {
				if p := t.hopDim[j]; p >= 0 {
					zero.loads[p] += x
				}
			}
			t.keep(zero.coords, make([]byte, 2*len(t.dims)), zero)
			t.key = stateKey(-1, nil) // calm, which no state's gate share of −1 matches
			l.calm[g][i] = t
		}
	}
	return l
}

// stateTable tabulates option g's flow i in a state on a grid of cells:
// its hops before throttling and the gateway's failure share, with the
// state's key.
func (m *model) stateTable(g, i, cells int, hops []hop, gate float64, state []float64, ts *tableScratch) *flowTable {
	t := m.newFlowTable(g, i, cells, hops, gate, state)
	t.point(make([]uint16, len(t.dims)), ts) // nothing refused comes first, at 0
	return t
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
//
// A bin's requests are added at the points of the flows' tables
// (ratelimit_solve.go) and each point's outcome counted once, at the end:
// a bin costs its solve and a few additions whatever its traffic, and a
// calm bin's solve is kept for every scenario.
func (m *model) throttling(g int, scale func(bin int) float64, during func(bin int) *outageState, from, to int, sc *attemptScratch) scenarioExtra {
	o := &m.options[g]
	extra := scenarioExtra{acc: m.newAccums(1)[0]}
	if o.excluded != nil {
		return extra // an excluded option has no figures
	}
	calm := m.lim.calm[g]
	s := m.newSolver(sc)
	// A month that is calm but for a few bins (a demand surge) is the calm
	// month, worked out once, with those bins taken out and worked again.
	whole := from == 0 && to == m.bins()
	snap := m.lim.calmSums[g]
	sums := newLimitSums(len(m.flows))
	if whole && snap != nil {
		sums = snap.clone()
	}
	s.acc = sums
	allCalm := true
	// Requests at each flow's calm outcome, added once at the end.
	atCalm := make([]float64, len(m.flows))
	demand := make([]float64, len(m.flows))
	for b := from; b < to; b++ {
		x, st := scale(b), during(b)
		if x == 1 && st == nil && whole && snap != nil {
			continue // in the calm month already
		}
		allCalm = allCalm && x == 1 && st == nil
		if whole && snap != nil {
			// Out of the calm month: this bin at normal demand, calm.
			for i, f := range m.flows {
				demand[i] = f.prefix[b+1] - f.prefix[b]
			}
			if m.calmBin(g, b, 1, demand, s) {
				for i, d := range demand {
					if d > 0 {
						s.weigh(i, -d)
					}
					atCalm[i] += d
				}
			}
		}
		for i, f := range m.flows {
			demand[i] = (f.prefix[b+1] - f.prefix[b]) * x
			if x != 1 {
				extra.requests += demand[i] - (f.prefix[b+1] - f.prefix[b])
			}
		}
		if st != nil {
			if !st.gateDown { // else every request fails at the gateway; no provider sees load
				m.throttleOutage(g, demand, st, s, sums)
			}
			continue
		}
		binds := m.calmBin(g, b, x, demand, s)
		for i, f := range m.flows {
			base := f.prefix[b+1] - f.prefix[b]
			if !binds {
				atCalm[i] += demand[i] - base // a calm bin at its usual demand changes nothing
				continue
			}
			// This bin at its demand and throttling, less the calm bin.
			if d := demand[i]; d > 0 {
				s.weigh(i, d)
			}
			atCalm[i] -= base
		}
	}
	s.flushAll()
	for i, x := range atCalm {
		if x != 0 {
			sums.add(calm[i], 0, x)
		}
	}
	if whole && allCalm && snap == nil {
		m.lim.calmSums[g] = sums.clone()
	}
	sums.into(m, &s.ts, &extra.res, &extra.acc, make([]float64, latencyBuckets), make([]float64, m.nPaths))
	return extra
}

// calmBin solves bin b of option g at demand (its flows' requests times
// x), with no outage, leaving the refusal shares in s on the calm tables,
// and reports whether a limit binds. At normal demand the shares are kept
// for every scenario.
func (m *model) calmBin(g, b int, x float64, demand []float64, s *limitSolver) bool {
	// With nothing refused, each group carries the calm attempts of its
	// flows; if that fits every limit, refusing nothing is the answer and
	// the bin needs no more work.
	groups, perRequest := m.lim.groups, m.lim.calmPer[g]
	binds := false
	for gi, grp := range groups {
		bound := 0.0
		for i := range m.flows {
			bound += demand[i] * perRequest[i][gi]
		}
		binds = binds || bound > grp.perBin
	}
	if !binds {
		return false
	}
	nG := len(groups)
	cached := m.lim.calmTheta[g]
	if cached == nil {
		cached = make([]float64, m.bins()*nG)
		for k := range cached {
			cached[k] = math.NaN()
		}
		m.lim.calmTheta[g] = cached
	}
	s.use(g, m.lim.calm[g])
	th := cached[b*nG : (b+1)*nG]
	if x == 1 && !math.IsNaN(th[0]) {
		copy(s.theta, th)
	} else {
		s.solve(demand)
		if x == 1 {
			copy(th, s.theta)
		}
	}
	return slices.ContainsFunc(s.theta, func(t float64) bool { return t > 0 })
}

// outageState is what a named scenario's outage does to each flow's paths
// in one bin: their failure shares and refused shares (nil for a flow it
// leaves alone), and whether it takes the option's gateway down.
type outageState struct {
	fails, downs [][]float64
	gateDown     bool
	key          uint64 // tells states apart
	outcomes     map[uint64]outcome
	// tables are the flows' tables in the state (the calm ones where it
	// leaves a flow alone), and theta the refusal shares last solved in
	// it, where the next bin's solve starts.
	tables []*flowTable
	theta  []float64
}

// throttleOutage is one bin of a named outage under rate limits: the load
// the outage sends to each group (failovers included), the refusal shares
// if it binds, and the bin's difference from the outage without limits,
// added to sums.
func (m *model) throttleOutage(g int, demand []float64, st *outageState, s *limitSolver, sums *limitSums) {
	o := &m.options[g]
	if st.tables == nil {
		st.tables = slices.Clone(m.lim.calm[g])
		var hops []hop
		for i := range m.flows {
			if st.fails[i] == nil {
				continue
			}
			h := m.hopsInto(&hops, &m.flows[i], o.reach[i], st.fails[i], o.rate[i])
			if st.downs[i] != nil {
				for j, k := range o.reach[i] {
					h[j].down = st.downs[i][k]
				}
			}
			st.tables[i] = m.stateTable(g, i, thetaCells, h, 0, nil, &s.ts)
		}
		st.theta = make([]float64, len(m.lim.groups))
	}
	s.use(g, st.tables)
	copy(s.theta, st.theta)
	binds := s.solve(demand)
	copy(st.theta, s.theta)
	if !binds {
		return
	}
	for i, t := range st.tables {
		if d := demand[i]; d > 0 {
			s.weigh(i, d)
			sums.add(t, 0, -d)
		}
	}
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

// clone copies an extra, so adding to it leaves the original alone.
func (x scenarioExtra) clone() scenarioExtra {
	x.acc.waits = slices.Clone(x.acc.waits)
	x.acc.cost = slices.Clone(x.acc.cost)
	return x
}
