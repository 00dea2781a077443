package simulator

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// Throttling solves, bin by bin, the share of attempts each limited group
// refuses. Running the attempt model inside that solve for every binding
// minute of a month (hundreds of thousands at high volume) costs minutes,
// so each flow's attempts per request and outcome are worked out on a grid
// of refusal shares, in each group the flow draws on, and interpolated
// between the grid's points. A bin's solve then reads a few numbers per
// flow, and a month costs the points its refusal shares pass through,
// whatever the traffic.

// thetaCells is the grid of the calm month's tables. Outcomes are smooth
// between points, so interpolating errs by at most an eighth of a cell
// squared times their curvature: 1 − θ³, the success share of a direct
// call with two SDK retries into a full limit, is off by under 1.2e-5.
const thetaCells = 256

// stateCells is the grid of a stretch's tables, whose hours are solved at
// their mean demand on a 2 % grid already: 1 − θ³ is off by under 2e-4
// here, a fortieth of what 2 % of demand moves it where half the attempts
// are refused, and a stretch's few hours mostly fall in one cell, so a
// sampled incident costs the attempt model at its two (or four) corners.
const stateCells = 64

// flowTable is one option's flow in one state (its hops before throttling
// and the gateway's failure share), tabulated over the refusal shares of
// the groups its targets draw on, its dimensions, at cells points a
// dimension. A point's attempts are worked out when the solve first reads
// them and its outcome when a bin first weighs it, and both are kept: each
// is a function of the table and the point alone, so whichever worker
// adds one, every reader sees the same numbers.
type flowTable struct {
	o      *option
	flow   int
	cells  int
	hops   []hop // before throttling
	gate   float64
	dims   []int  // the group of each dimension
	hopDim []int8 // per hop: its dimension, or -1 outside every limit
	// The state the table answers (nil for calm), and a hash of it, which
	// orders a trial's sums (stateKey).
	state []float64
	key   uint64

	zero *vertex // where nothing is refused, the first kept
	mu   sync.RWMutex
	// A vertex's place by its coordinates: packed in a word where they
	// fit (up to four dimensions, each under 65,536 cells), which a solve
	// that probes many cells reads several times cheaper than a string.
	at    map[uint64]int32
	atStr map[string]int32
	verts []*vertex
}

// vertex is one point of a flow's table: where it is, the flow's attempts
// per request on each dimension's group there, and its outcome once read.
type vertex struct {
	coords []uint16
	loads  []float64
	out    atomic.Pointer[outcome]
}

// newFlowTable tabulates option g's flow i from hops (copied), with
// dimensions as the model's limits give them for the option.
func (m *model) newFlowTable(g, i, cells int, hops []hop, gate float64, state []float64) *flowTable {
	lim := m.lim
	return &flowTable{o: &m.options[g], flow: i, cells: cells, hops: append([]hop(nil), hops...), gate: gate,
		dims: lim.dims[g][i], hopDim: lim.hopDim[g][i], state: state, at: map[uint64]int32{}, atStr: map[string]int32{}}
}

// packedDims is how many dimensions' coordinates a word holds.
const packedDims = 4

// pack is coords in one word, for tables of up to packedDims dimensions.
func pack(coords []uint16) uint64 {
	var w uint64
	for q, c := range coords {
		w |= uint64(c) << (16 * q)
	}
	return w
}

// tableScratch is what working out a point reuses.
type tableScratch struct {
	sc    *attemptScratch
	key   []byte
	hops  []hop
	loads []float64
}

// throttled is the table's hops at a point.
func (t *flowTable) throttled(coords []uint16, buf *[]hop) []hop {
	h := append((*buf)[:0], t.hops...)
	*buf = h
	for j := range h {
		if p := t.hopDim[j]; p >= 0 {
			h[j].throttle = float64(coords[p]) / float64(t.cells)
		}
	}
	return h
}

// point is the table's vertex at coords (one per dimension, in cells) and
// its index, its attempts worked out if no worker has yet.
func (t *flowTable) point(coords []uint16, ts *tableScratch) (int32, *vertex) {
	var key []byte
	if len(coords) > packedDims {
		key = ts.key[:0]
		for _, c := range coords {
			key = append(key, byte(c), byte(c>>8))
		}
		ts.key = key
	}
	t.mu.RLock()
	k, ok := t.find(coords, key)
	var v *vertex
	if ok {
		v = t.verts[k]
	}
	t.mu.RUnlock()
	if ok {
		return k, v
	}
	h := t.throttled(coords, &ts.hops)
	ts.loads = append(ts.loads[:0], make([]float64, len(h))...)
	planLoads(&t.o.pol, h, t.o.cacheHit, t.gate, ts.loads)
	v = &vertex{coords: append([]uint16(nil), coords...), loads: make([]float64, len(t.dims))}
	for j, l := range ts.loads {
		if p := t.hopDim[j]; p >= 0 {
			v.loads[p] += l
		}
	}
	return t.keep(coords, key, v)
}

// find is the place of the vertex at coords (key, their bytes, past
// packedDims dimensions), if the table has it; t.mu is held.
func (t *flowTable) find(coords []uint16, key []byte) (int32, bool) {
	if len(coords) <= packedDims {
		k, ok := t.at[pack(coords)]
		return k, ok
	}
	k, ok := t.atStr[string(key)]
	return k, ok
}

// keep adds v at coords unless another worker did first, and returns the
// vertex kept.
func (t *flowTable) keep(coords []uint16, key []byte, v *vertex) (int32, *vertex) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k, ok := t.find(coords, key); ok {
		return k, t.verts[k]
	}
	k := int32(len(t.verts))
	t.verts = append(t.verts, v)
	if len(coords) <= packedDims {
		t.at[pack(coords)] = k
	} else {
		t.atStr[string(key)] = k
	}
	if k == 0 {
		t.zero = v
	}
	return k, v
}

// vertexAt is the vertex kept at index k.
func (t *flowTable) vertexAt(k int32) *vertex {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.verts[k]
}

// outcome is the flow's outcome at v, worked out with ts the first time.
func (t *flowTable) outcome(v *vertex, ts *tableScratch) *outcome {
	if out := v.out.Load(); out != nil {
		return out
	}
	out := compacted(evaluatePlan(&t.o.pol, ts.sc, t.throttled(v.coords, &ts.hops), t.o.cacheHit, t.gate))
	if v.out.CompareAndSwap(nil, out) {
		return out
	}
	return v.out.Load()
}

// negligible is a share of requests too small to count: a month's
// requests at 1e10 a day, in thousandths of a request, make under a
// hundredth of one from it.
const negligible = 1e-15

// compacted copies an outcome, bucketed, without the waits too small to
// count: a limit's retries split requests into cohorts whose shares fall
// to 1e-80, and most of a point's cohorts are below 1e-15, which adding
// each point's outcome would otherwise visit.
func compacted(out outcome) *outcome {
	n := 0
	for _, w := range out.waits {
		if math.Abs(w.share) >= negligible {
			n++
		}
	}
	c := &outcome{success: out.success, cost: out.cost, fallback: out.fallback, waits: make([]cohort, 0, n),
		costs: slices.Clone(out.costs), loads: slices.Clone(out.loads)}
	for _, w := range out.waits {
		if math.Abs(w.share) >= negligible {
			w.bucket = latencyBucket(w.ms)
			c.waits = append(c.waits, w)
		}
	}
	return c
}

// cell is the grid cell of a flow's table its refusal shares were last
// read in: its lower corner and its 2^dims corners.
type cell struct {
	t      *flowTable
	lower  []uint16
	idx    []int32
	corner []*vertex
	w      []float64 // requests added at each corner, not yet in the sums
	lo, hi []float64 // the cell's bounds in each dimension, as shares
}

// flush moves the requests added at c's corners into the solver's sums.
func (s *limitSolver) flush(c *cell) {
	for x, w := range c.w {
		if w != 0 {
			s.acc.add(c.t, c.idx[x], w)
			c.w[x] = 0
		}
	}
}

// flushAll moves every cell's requests into the sums.
func (s *limitSolver) flushAll() {
	for i := range s.cells {
		s.flush(&s.cells[i])
		s.flush(&s.spare[i])
	}
}

// limitSolver solves one option's bins under the rate limits and reads the
// flows' tables at the solution. Each goroutine has its own.
type limitSolver struct {
	m     *model
	g     int
	acc   *limitSums   // where weigh adds, if anywhere
	tabs  []*flowTable // per flow
	cells []cell       // per flow: the cell read last, and the one before
	spare []cell
	theta []float64 // per group: the refusal share
	ts    tableScratch
	// Scratch.
	lower, corner []uint16
	frac          []float64
	active        []int
	ell, jac, fv  []float64
	lin           []float64
	memo          [4]struct {
		k int
		v float64
	}
}

func (m *model) newSolver(sc *attemptScratch) *limitSolver {
	return &limitSolver{m: m, cells: make([]cell, len(m.flows)), spare: make([]cell, len(m.flows)), theta: make([]float64, len(m.lim.groups)), ts: tableScratch{sc: sc}}
}

// use points the solver at option g, with the flows' tables.
func (s *limitSolver) use(g int, tabs []*flowTable) {
	s.g, s.tabs = g, tabs
}

// at makes flow i's cell the one with lower corner lower and reads its
// corners; the cell before is kept aside, as a bin's shares mostly move
// between two neighbouring cells.
func (s *limitSolver) at(i int, lower []uint16) *cell {
	c, spare := &s.cells[i], &s.spare[i]
	t := s.tabs[i]
	if c.t == t && equalCoords(c.lower, lower) {
		return c
	}
	*c, *spare = *spare, *c
	if c.t == t && equalCoords(c.lower, lower) {
		return c
	}
	s.flush(c)
	n := len(t.dims)
	c.t = t
	c.lower = append(c.lower[:0], lower...)
	c.lo, c.hi = c.lo[:0], c.hi[:0]
	for _, k := range lower {
		c.lo, c.hi = append(c.lo, float64(k)/float64(t.cells)), append(c.hi, float64(k+1)/float64(t.cells))
	}
	c.idx, c.corner = c.idx[:0], c.corner[:0]
	coords := append(s.corner[:0], c.lower...)
	for k := range 1 << n {
		for q := range n {
			coords[q] = c.lower[q] + uint16(k>>q&1)
		}
		x, v := t.point(coords, &s.ts)
		c.idx, c.corner = append(c.idx, x), append(c.corner, v)
	}
	s.corner = coords
	return c
}

func equalCoords(x, y []uint16) bool {
	if len(x) != len(y) {
		return false
	}
	for k := range x {
		if x[k] != y[k] {
			return false
		}
	}
	return true
}

// place finds flow i's cell at the current refusal shares, dimension p's
// share (if p is not negative) at x instead, and each dimension's place
// within the cell (s.frac), and reads the cell.
func (s *limitSolver) place(i, p int, x float64) *cell {
	t := s.tabs[i]
	lower, frac := s.lower[:0], s.frac[:0]
	// A cell read last holds the point on its edges too.
	var old *cell
	for _, c := range [2]*cell{&s.cells[i], &s.spare[i]} {
		if c.t == t && s.holds(c, p, x) {
			old = c
			break
		}
	}
	for q, gi := range t.dims {
		th := s.theta[gi]
		if q == p {
			th = x
		}
		u := th * float64(t.cells)
		c := min(int(u), t.cells-1)
		if old != nil {
			c = int(old.lower[q])
		}
		lower, frac = append(lower, uint16(c)), append(frac, u-float64(c))
	}
	s.lower, s.frac = lower, frac
	return s.at(i, lower)
}

// holds says whether cell c holds the current shares, dimension p's (if
// p is not negative) at x instead.
func (s *limitSolver) holds(c *cell, p int, x float64) bool {
	for q, gi := range c.t.dims {
		th := s.theta[gi]
		if q == p {
			th = x
		}
		if th < c.lo[q] || th > c.hi[q] {
			return false
		}
	}
	return true
}

// weight is corner x's interpolation weight in the cell just placed.
func (s *limitSolver) weight(x int) float64 {
	w := 1.0
	for q, f := range s.frac {
		if x>>q&1 == 1 {
			w *= f
		} else {
			w *= 1 - f
		}
	}
	return w
}

// loads2 is flow i's attempts per request on dimension p's group at both
// ends of fine cell k (of thetaCells) of that group's share, the others
// at theirs: every table's grid divides thetaCells, so the fine cell lies
// in one of the table's and the attempts are linear along it.
func (s *limitSolver) loads2(i, p, k int) (lo, hi float64) {
	t := s.tabs[i]
	c := s.place(i, p, (float64(k)+0.5)/thetaCells)
	r := float64(t.cells) / thetaCells
	f0, f1 := float64(k)*r-float64(c.lower[p]), float64(k+1)*r-float64(c.lower[p])
	for x, v := range c.corner {
		w := 1.0
		for q, f := range s.frac {
			switch {
			case q == p:
			case x>>q&1 == 1:
				w *= f
			default:
				w *= 1 - f
			}
		}
		if w == 0 {
			continue
		}
		l := w * v.loads[p]
		if x>>p&1 == 1 {
			lo, hi = lo+f0*l, hi+f1*l
		} else {
			lo, hi = lo+(1-f0)*l, hi+(1-f1)*l
		}
	}
	return lo, hi
}

// offered is the attempts group gi is offered in a bin of demand with its
// refusal share at grid point k (of thetaCells) and the others' at theirs,
// worked out two at a time, at both ends of a fine cell.
func (s *limitSolver) offered(gi, k int, demand []float64) float64 {
	for _, e := range s.memo {
		if e.k == k {
			return e.v
		}
	}
	kc := min(k, thetaCells-1)
	lo, hi := 0.0, 0.0
	for _, mb := range s.m.lim.members[s.g][gi] {
		if d := demand[mb.flow]; d > 0 {
			l0, l1 := s.loads2(int(mb.flow), int(mb.dim), kc)
			lo, hi = lo+d*l0, hi+d*l1
		}
	}
	copy(s.memo[2:], s.memo[:2])
	s.memo[0].k, s.memo[0].v, s.memo[1].k, s.memo[1].v = kc, lo, kc+1, hi
	if k == kc {
		return lo
	}
	return hi
}

// solve finds the groups' refusal shares in a bin of demand, starting from
// the solver's current ones, and reports whether any limit binds. A group
// binds when the attempts offered to it exceed its limit; it then refuses
// the share θ at which the attempts it accepts, (1 − θ) times those
// offered at θ (retries and failovers from the other groups included),
// equal the limit. Each group's equation is solved exactly on the
// interpolated tables with the others' shares held, in turn, until no
// share moves: refusing more in one group only adds load to the others,
// so the sweeps converge, in one where no flow draws on two groups.
func (s *limitSolver) solve(demand []float64) bool {
	lim := s.m.lim
	// With nothing refused nothing moves: if every group's load fits,
	// refusing nothing is the answer.
	binds := false
	for gi, grp := range lim.groups {
		load := 0.0
		for _, mb := range lim.members[s.g][gi] {
			if d := demand[mb.flow]; d > 0 {
				load += d * s.tabs[mb.flow].zero.loads[mb.dim]
			}
		}
		binds = binds || load > grp.perBin
	}
	if !binds {
		clear(s.theta)
		return false
	}
	if lim.coupled[s.g] && s.newton(demand) {
		return true
	}
	settled := false
	for range 200 {
		change := 0.0
		for gi := range lim.groups {
			x := s.solveGroup(gi, demand)
			change = math.Max(change, math.Abs(x-s.theta[gi]))
			s.theta[gi] = x
		}
		if settled = change <= 1e-10 || !lim.coupled[s.g]; settled {
			break
		}
	}
	if !settled {
		// A cooldown can make the groups' loads swing against each
		// other, so that the sweeps cycle; from where they stop, Newton's
		// method mostly finds the balance. Where it does not, the last
		// sweep stands, as a breaker flapping would.
		th := slices.Clone(s.theta)
		if !s.newton(demand) {
			copy(s.theta, th)
		}
	}
	for _, x := range s.theta {
		if x > 0 {
			return true
		}
	}
	return false
}

// newton finds the refusal shares from where they are, for the groups
// refusing some, by Newton's method on the flows' cells, where their
// attempts are multilinear in the shares: where two groups share flows the
// bracketing solve takes several sweeps to settle them together, and a
// bin's answer is mostly near the last bin's, so two or three steps find
// it. It reports false, leaving the shares to the bracketing solve, where
// the steps do not settle or the answer does not hold (a group refusing
// nothing before now overflows, or one stops binding).
func (s *limitSolver) newton(demand []float64) bool {
	lim := s.m.lim
	nG := len(lim.groups)
	act := s.active[:0]
	for gi, x := range s.theta {
		if x > 0 {
			act = append(act, gi)
		}
	}
	s.active = act
	if len(act) == 0 {
		return false
	}
	ell := grow(&s.ell, nG)
	jac := grow(&s.jac, nG*nG)
	n := len(act)
	for range 8 {
		clear(ell)
		clear(jac)
		s.gradients(demand, ell, jac)
		// J[g][h] = (1 − θ_g)·∂ℓ_g/∂θ_h − [g = h]·ℓ_g on the active
		// groups, and −F_g = limit − (1 − θ_g)·ℓ_g.
		a := grow(&s.lin, n*(n+1))
		for r, gi := range act {
			for c, hi := range act {
				a[r*(n+1)+c] = (1 - s.theta[gi]) * jac[gi*nG+hi]
				if r == c {
					a[r*(n+1)+c] -= ell[gi]
				}
			}
			a[r*(n+1)+n] = lim.groups[gi].perBin - (1-s.theta[gi])*ell[gi]
		}
		if !solveLinear(a, n) {
			return false
		}
		step := 0.0
		for r, gi := range act {
			x := s.theta[gi] + a[r*(n+1)+n]
			if !(x > 0 && x < 1) {
				return false
			}
			step = math.Max(step, math.Abs(x-s.theta[gi]))
			s.theta[gi] = x
		}
		if step <= 1e-11 {
			// Converged within the cells the last step was taken on;
			// the groups refusing nothing must still fit.
			if !s.inCells() {
				return false
			}
			for gi, grp := range lim.groups {
				if s.theta[gi] == 0 && ell[gi] >= grp.perBin*(1-1e-9) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// gradients adds, for each group, the attempts offered to it at the
// current shares (ell) and their derivatives by each group's share (jac,
// row by group), from the flows' cells.
func (s *limitSolver) gradients(demand, ell, jac []float64) {
	nG := len(s.theta)
	for i, t := range s.tabs {
		d := demand[i]
		if d <= 0 || len(t.dims) == 0 {
			continue
		}
		c := s.place(i, -1, 0)
		r := d * float64(t.cells)
		switch len(t.dims) {
		case 1:
			g0, f := t.dims[0], s.frac[0]
			v0, v1 := c.corner[0].loads[0], c.corner[1].loads[0]
			ell[g0] += d * (v0 + f*(v1-v0))
			jac[g0*nG+g0] += r * (v1 - v0)
		case 2:
			ga, gb, fa, fb := t.dims[0], t.dims[1], s.frac[0], s.frac[1]
			for p, gp := range t.dims {
				v00, v10, v01, v11 := c.corner[0].loads[p], c.corner[1].loads[p], c.corner[2].loads[p], c.corner[3].loads[p]
				ell[gp] += d * ((1-fa)*(1-fb)*v00 + fa*(1-fb)*v10 + (1-fa)*fb*v01 + fa*fb*v11)
				jac[gp*nG+ga] += r * ((1-fb)*(v10-v00) + fb*(v11-v01))
				jac[gp*nG+gb] += r * ((1-fa)*(v01-v00) + fa*(v11-v10))
			}
		default:
			for x, v := range c.corner {
				w := s.weight(x)
				for p, gp := range t.dims {
					ell[gp] += d * w * v.loads[p]
				}
				// ∂w/∂u_q is w with dimension q's factor replaced by ±1.
				for q, gq := range t.dims {
					dw := 1.0
					for u, fu := range s.frac {
						switch {
						case u == q && x>>u&1 == 1:
						case u == q:
							dw = -dw
						case x>>u&1 == 1:
							dw *= fu
						default:
							dw *= 1 - fu
						}
					}
					for p, gp := range t.dims {
						jac[gp*nG+gq] += r * dw * v.loads[p]
					}
				}
			}
		}
	}
}

// inCells says whether every flow's shares lie in the cell read last.
func (s *limitSolver) inCells() bool {
	for i, t := range s.tabs {
		c := &s.cells[i]
		if len(t.dims) == 0 {
			continue
		}
		if c.t != t {
			return false
		}
		for q, gi := range t.dims {
			u := s.theta[gi]*float64(t.cells) - float64(c.lower[q])
			if u < 0 || u > 1 {
				return false
			}
		}
	}
	return true
}

// solveLinear solves the n×n system in a (rows of n coefficients and the
// right-hand side) by elimination with partial pivoting, leaving the
// solution in the last column; false if it is singular.
func solveLinear(a []float64, n int) bool {
	w := n + 1
	for col := range n {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r*w+col]) > math.Abs(a[piv*w+col]) {
				piv = r
			}
		}
		if a[piv*w+col] == 0 {
			return false
		}
		if piv != col {
			for k := range w {
				a[col*w+k], a[piv*w+k] = a[piv*w+k], a[col*w+k]
			}
		}
		for r := range n {
			if r == col {
				continue
			}
			m := a[r*w+col] / a[col*w+col]
			for k := col; k < w; k++ {
				a[r*w+k] -= m * a[col*w+k]
			}
		}
	}
	for r := range n {
		a[r*w+n] /= a[r*w+r]
	}
	return true
}

func grow(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// solveGroup is group gi's refusal share with the others' held: the root
// of f(θ) = (1 − θ)·offered(θ) − limit, which falls as θ rises (a refused
// attempt moves on or gives up, and a cooldown it trips sends attempts
// elsewhere). It is bracketed between grid points from the current share
// outwards, then f is a quadratic within the bracket's cell.
func (s *limitSolver) solveGroup(gi int, demand []float64) float64 {
	limit := s.m.lim.groups[gi].perBin
	for x := range s.memo {
		s.memo[x].k = -1
	}
	f := func(k int) float64 {
		return (1-float64(k)/thetaCells)*s.offered(gi, k, demand) - limit
	}
	lo, hi := 0, thetaCells
	k0 := min(int(s.theta[gi]*thetaCells), thetaCells-1)
	if f(k0) > 0 {
		lo = k0
		for step := 1; ; step *= 2 {
			k := min(k0+step, thetaCells)
			if k == thetaCells || f(k) <= 0 {
				hi = k
				break
			}
			lo = k
		}
	} else {
		hi = k0
		for step := 1; ; step *= 2 {
			k := max(k0-step, 0)
			if f(k) > 0 {
				lo = k
				break
			}
			if k == 0 {
				return 0
			}
			hi = k
		}
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if f(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	// Within the cell the offered load is linear, ℓ0 + Δ·u for u in
	// [0, 1], and f(u) = (a − u/thetaCells)(ℓ0 + Δ·u) − limit is a
	// quadratic with f(0) > 0 ≥ f(1): exactly one root in (0, 1].
	l0, l1 := s.offered(gi, lo, demand), s.offered(gi, lo+1, demand)
	a, h, dl := 1-float64(lo)/thetaCells, 1.0/thetaCells, l1-l0
	u := rootIn01(-h*dl, a*dl-h*l0, a*l0-limit)
	return (float64(lo) + u) / thetaCells
}

// rootIn01 is the root in [0, 1] of a·u² + b·u + c, which has c > 0 and
// a + b + c ≤ 0.
func rootIn01(a, b, c float64) float64 {
	unit := func(u float64) float64 { return max(0, min(u, 1)) }
	if math.Abs(a) <= 1e-12*(math.Abs(b)+math.Abs(c)) {
		return unit(-c / b)
	}
	disc := b*b - 4*a*c
	if disc < 0 {
		disc = 0
	}
	q := -0.5 * (b + math.Copysign(math.Sqrt(disc), b))
	if u := q / a; u >= -1e-9 && u <= 1+1e-9 {
		return unit(u)
	}
	return unit(c / q) // the sign change puts one of the two in [0, 1]
}

// weigh adds d requests of flow i at the current refusal shares to the
// solver's sums: at its cell's corners, by their interpolation weights,
// kept with the cell until it is left.
func (s *limitSolver) weigh(i int, d float64) {
	c := s.place(i, -1, 0)
	if len(c.w) != len(c.corner) {
		s.flush(c)
		c.w = make([]float64, len(c.corner))
	}
	for k := range c.corner {
		c.w[k] += s.weight(k) * d
	}
}

// limitSums adds up requests at the points of flows' tables over many
// bins, so that each point's outcome is added once at the end rather than
// once a bin; points are added in the order first met, which the bins
// decide, so the sums do not depend on which worker added a point to a
// table first.
type limitSums struct {
	slot  map[*flowTable]int32
	tabs  []*flowTable
	pos   [][]int32 // per slot and vertex: 1 + the entry's place, or 0
	entry []sumEntry
	// The last table added to for each flow, and its slot.
	last []struct {
		t *flowTable
		n int32
	}
}

type sumEntry struct {
	slot, k int32
	w       float64
}

func newLimitSums(flows int) *limitSums {
	return &limitSums{slot: map[*flowTable]int32{}, last: make([]struct {
		t *flowTable
		n int32
	}, flows)}
}

// clone copies the sums, so adding to the copy leaves them alone.
func (u *limitSums) clone() *limitSums {
	c := newLimitSums(len(u.last))
	for _, e := range u.entry {
		c.add(u.tabs[e.slot], e.k, e.w)
	}
	return c
}

// add adds x requests at vertex k of table t.
func (u *limitSums) add(t *flowTable, k int32, x float64) {
	l := &u.last[t.flow]
	n := l.n
	if l.t != t {
		var ok bool
		if n, ok = u.slot[t]; !ok {
			n = int32(len(u.tabs))
			u.slot[t] = n
			u.tabs, u.pos = append(u.tabs, t), append(u.pos, nil)
		}
		l.t, l.n = t, n
	}
	pos := u.pos[n]
	if int(k) >= len(pos) {
		pos = append(pos, make([]int32, int(k)+1-len(pos))...)
		u.pos[n] = pos
	}
	if pos[k] == 0 {
		u.entry = append(u.entry, sumEntry{slot: n, k: k})
		pos[k] = int32(len(u.entry))
	}
	u.entry[pos[k]-1].w += x
}

// into adds the sums to res and acc: each point's outcome times its
// requests, waiting and spend rounded to their units once, at the end
// (waits and cost are scratch of the accumulators' sizes, left zeroed).
// The sums start afresh.
func (u *limitSums) into(m *model, ts *tableScratch, res *trialResult, acc *accum, waits, cost []float64) {
	for _, e := range u.entry {
		if e.w == 0 {
			continue
		}
		t := u.tabs[e.slot]
		out := t.outcome(t.vertexAt(e.k), ts)
		res.failed += e.w * (1 - out.success)
		res.cost += e.w * out.cost
		res.fallback += e.w * out.fallback
		for _, c := range out.waits {
			waits[c.bucket] += e.w * c.share
		}
		at := m.pathAt[t.flow]
		for j, p := range t.o.reach[t.flow] {
			cost[at+p] += e.w * out.costs[j]
		}
	}
	acc.addScratch(waits, cost)
	u.reset()
}

// addScratch adds requests' waits by latency bucket and spend by path,
// added up in float, to acc in its units, rounded once, and zeroes them.
func (acc *accum) addScratch(waits, cost []float64) {
	for b, v := range waits {
		if v != 0 {
			acc.waits[b] += roundInt(v * waitUnit)
			waits[b] = 0
		}
	}
	for p, v := range cost {
		if v != 0 {
			acc.cost[p] += roundInt(v * microUSD)
			cost[p] = 0
		}
	}
}

// reset empties the sums, keeping their room; past a thousand tables
// (a long run's stretches each bring their own) it lets them go.
func (u *limitSums) reset() {
	for _, e := range u.entry {
		u.pos[e.slot][e.k] = 0
	}
	u.entry = u.entry[:0]
	if len(u.tabs) > 1024 {
		clear(u.slot)
		clear(u.tabs)
		u.tabs, u.pos = u.tabs[:0], u.pos[:0]
		for i := range u.last {
			u.last[i].t = nil
		}
	}
}

// trialSums adds up a trial's throttling as limitSums does, for the
// stretches of one option. Workers share the tables, and a table may
// exist twice (two workers made it at once, or the run's tables were
// full), so the requests at a point are kept in fixed point, 2⁻²⁴ of a
// request, and merged by what the point is, not which copy holds it,
// before its outcome is counted: the sums are then the same whichever
// worker made which table.
type trialSums struct {
	slot  map[slotKey]int32
	tabs  []slotKey
	pos   [][]int32
	entry []trialEntry
	last  []struct {
		t *flowTable
		n int32
	}
	// Requests at memo entries' differences from calm.
	memo   []memoWeight
	memoAt map[*memoEntry]int
}

type memoWeight struct {
	me *memoEntry
	w  int64
}

// addMemo adds x requests at me's difference from calm.
func (u *trialSums) addMemo(me *memoEntry, x float64) {
	w := int64(math.Round(x * fixedUnit))
	n, ok := u.memoAt[me]
	if !ok {
		n = len(u.memo)
		u.memoAt[me] = n
		u.memo = append(u.memo, memoWeight{me, 0})
	}
	u.memo[n].w += w
}

// slotKey is a table as a flow's requests are added at it: flows whose
// hops are alike share a stretch's table, and spend is counted by flow.
type slotKey struct {
	t    *flowTable
	flow int32
}

type trialEntry struct {
	t    *flowTable
	flow int32
	k    int32
	v    *vertex
	w    int64
}

const fixedUnit = 1 << 24

func newTrialSums(flows int) *trialSums {
	return &trialSums{slot: map[slotKey]int32{}, memoAt: map[*memoEntry]int{}, last: make([]struct {
		t *flowTable
		n int32
	}, 2*flows)}
}

// add adds x requests of flow i at vertex k of table t.
func (u *trialSums) add(t *flowTable, i int32, k int32, x float64) {
	// A flow's requests in a stretch go to its table in the state and
	// its calm one, in turn: the last two are at hand.
	l := &u.last[2*i]
	if l.t != t {
		l = &u.last[2*i+1]
	}
	if l.t != t {
		key := slotKey{t, i}
		n, ok := u.slot[key]
		if !ok {
			n = int32(len(u.tabs))
			u.slot[key] = n
			u.tabs, u.pos = append(u.tabs, key), append(u.pos, nil)
		}
		u.last[2*i+1] = u.last[2*i]
		l = &u.last[2*i]
		l.t, l.n = t, n
	}
	n := l.n
	pos := u.pos[n]
	if int(k) >= len(pos) {
		pos = append(pos, make([]int32, int(k)+1-len(pos))...)
		u.pos[n] = pos
	}
	if pos[k] == 0 {
		u.entry = append(u.entry, trialEntry{t: t, flow: i, k: k})
		pos[k] = int32(len(u.entry))
	}
	u.entry[pos[k]-1].w += int64(math.Round(x * fixedUnit))
}

// into adds the sums to res and acc as limitSums.into does, points in the
// order of their flow, table and place, and starts the sums afresh.
func (u *trialSums) into(m *model, ts *tableScratch, res *trialResult, acc *accum, waits, cost []float64) {
	es := u.entry
	for x := range es {
		es[x].v = es[x].t.vertexAt(es[x].k)
	}
	slices.SortFunc(es, func(a, b trialEntry) int {
		if c := cmp.Compare(a.flow, b.flow); c != 0 {
			return c
		}
		if c := cmp.Compare(a.t.key, b.t.key); c != 0 {
			return c
		}
		if c := slices.Compare(a.v.coords, b.v.coords); c != 0 {
			return c
		}
		return slices.Compare(a.t.state, b.t.state)
	})
	for x := 0; x < len(es); {
		e := es[x]
		w := e.w
		for x++; x < len(es) && es[x].flow == e.flow && es[x].t.sameAs(e.t) && slices.Equal(es[x].v.coords, e.v.coords); x++ {
			w += es[x].w
		}
		if w == 0 {
			continue
		}
		fw := float64(w) / fixedUnit
		out := e.t.outcome(e.v, ts)
		res.failed += fw * (1 - out.success)
		res.cost += fw * out.cost
		res.fallback += fw * out.fallback
		for _, c := range out.waits {
			waits[c.bucket] += fw * c.share
		}
		at := m.pathAt[e.flow]
		for j, p := range e.t.o.reach[e.flow] {
			cost[at+p] += fw * out.costs[j]
		}
	}
	ms := u.memo
	slices.SortFunc(ms, func(a, b memoWeight) int {
		if c := cmp.Compare(a.me.flow, b.me.flow); c != 0 {
			return c
		}
		if c := cmp.Compare(a.me.gate, b.me.gate); c != 0 {
			return c
		}
		return slices.Compare(a.me.state, b.me.state)
	})
	for x := 0; x < len(ms); {
		me := ms[x].me
		w := ms[x].w
		for x++; x < len(ms) && sameOutcome(ms[x].me, me); x++ {
			w += ms[x].w
		}
		if w == 0 {
			continue
		}
		fw := float64(w) / fixedUnit
		res.failed += fw * me.lost
		res.cost += fw * me.cost
		res.fallback += fw * me.fallback
		for _, sh := range me.shares[:me.nWaits] {
			waits[sh.at] += fw * sh.x
		}
		for _, sh := range me.shares[me.nWaits:] {
			cost[sh.at] += fw * sh.x
		}
	}
	u.memo = u.memo[:0]
	clear(u.memoAt)
	acc.addScratch(waits, cost)
	for _, e := range u.entry {
		u.pos[u.slot[slotKey{e.t, e.flow}]][e.k] = 0
	}
	u.entry = u.entry[:0]
	for i := range u.last {
		u.last[i].t = nil
	}
	if len(u.tabs) > 1024 { // a long run's stretches each bring tables; let them go
		clear(u.slot)
		clear(u.tabs)
		u.tabs, u.pos = u.tabs[:0], u.pos[:0]
	}
}

// sameAs says two tables tabulate the same option, hops and state.
func (t *flowTable) sameAs(u *flowTable) bool {
	return t == u || t.o == u.o && t.key == u.key && t.gate == u.gate && t.cells == u.cells &&
		slices.Equal(t.hops, u.hops) && slices.Equal(t.dims, u.dims) && slices.Equal(t.hopDim, u.hopDim)
}
