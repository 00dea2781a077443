package simulator

import (
	"context"
	"math"
	"os"
	"testing"

	"gatewise/pricing"
	"gatewise/simulator/traffic"
)

// modelOf builds the run's model for an architecture, its traffic
// synthesised at requestsPerDay (0 for the file's).
func modelOf(t testing.TB, yaml string, requestsPerDay float64) *model {
	t.Helper()
	cat := pricing.Default()
	spec, err := Load([]byte(yaml), cat)
	if err != nil {
		t.Fatal(err)
	}
	if requestsPerDay > 0 {
		spec.Traffic.RequestsPerDay = requestsPerDay
	}
	prof, err := traffic.Synthesize(context.Background(), spec.SyntheticParams(), spec.Simulation.Seed)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := buildModel(spec, prof, cat, spec.Scenarios, retryCorrelation)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func optionIndex(t testing.TB, m *model, id string) int {
	t.Helper()
	for g := range m.options {
		if m.options[g].b.ID == id {
			return g
		}
	}
	t.Fatalf("no option %s", id)
	return -1
}

// A direct call with the SDK's two retries into an account that refuses a
// share θ of attempts, with nothing else failing, succeeds unless all three
// attempts are refused: 1 − θ³ (each 429 is independent of the last). Read
// from the calm table between its points, it is off by at most an eighth
// of a cell squared times the curvature, 6θ ≤ 6.
func TestTableInterpolatesWithinItsBound(t *testing.T) {
	t.Parallel()
	m := modelOf(t, limited, 0)
	g := optionIndex(t, m, "direct")
	s := m.newSolver(new(attemptScratch))
	s.use(g, m.lim.calm[g])
	bound := 6.0 / 8 / (thetaCells * thetaCells)
	worst := 0.0
	for i := range m.flows {
		t.Run(m.spec.Routes[m.flows[i].route].Name, func(t *testing.T) {
			if dims := m.lim.dims[g][i]; len(dims) != 1 {
				t.Fatalf("flow %d draws on %d limited groups, want 1", i, len(dims))
			}
			gi := m.lim.dims[g][i][0]
			for _, theta := range []float64{0.001, 0.1234, 1.0 / 3, 0.5, 0.777, 0.95} {
				clear(s.theta)
				s.theta[gi] = theta
				c := s.place(i, -1, 0)
				success := 0.0
				for x, v := range c.corner {
					success += s.weight(x) * c.t.outcome(v, &s.ts).success
				}
				want := 1 - theta*theta*theta
				worst = math.Max(worst, math.Abs(success-want))
				if math.Abs(success-want) > bound {
					t.Errorf("θ %v: interpolated success %.9f, want 1 − θ³ = %.9f within %.2g", theta, success, want, bound)
				}
			}
		})
	}
	t.Logf("worst interpolation error %.3g (bound %.3g)", worst, bound)
}

// At 1e8 requests a day the multi-region example's OpenAI limits bind in
// every minute. In each sampled minute the solved refusal shares balance:
// a binding group accepts as many attempts as its limit, read from the
// tables, and a group that refuses nothing is offered no more than its
// limit. For options without a cooldown the exact attempt model at those
// shares agrees to the tables' interpolation (1e-4 of the limit); with a
// cooldown the exact load jumps within a cell where the breaker trips, and
// the shares are where the tables' mix of tripped and not balances it.
func TestSolveBalancesTheLimits(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/examples/multi-region.yaml")
	if err != nil {
		t.Skipf("the multi-region example is not here: %v", err)
	}
	m := modelOf(t, string(data), 1e8)
	nG := len(m.lim.groups)
	demand := make([]float64, len(m.flows))
	ell, jac := make([]float64, nG), make([]float64, nG*nG)
	for g := range m.options {
		o := &m.options[g]
		if o.excluded != nil {
			continue
		}
		s := m.newSolver(new(attemptScratch))
		s.use(g, m.lim.calm[g])
		worstTable, worstExact := 0.0, 0.0
		for b := 0; b < m.bins(); b += 61 {
			for i, f := range m.flows {
				demand[i] = f.prefix[b+1] - f.prefix[b]
			}
			if !s.solve(demand) {
				t.Fatalf("%s: bin %d does not bind", o.b.ID, b)
			}
			clear(ell)
			clear(jac)
			s.gradients(demand, ell, jac)
			exact := exactOffered(m, g, demand, s.theta)
			for gi, grp := range m.lim.groups {
				if s.theta[gi] == 0 {
					if ell[gi] > grp.perBin*(1+1e-9) {
						t.Errorf("%s bin %d: group %d refuses nothing but is offered %.6g over its limit %.6g", o.b.ID, b, gi, ell[gi], grp.perBin)
					}
					continue
				}
				worstTable = math.Max(worstTable, math.Abs((1-s.theta[gi])*ell[gi]-grp.perBin)/grp.perBin)
				worstExact = math.Max(worstExact, math.Abs((1-s.theta[gi])*exact[gi]-grp.perBin)/grp.perBin)
			}
		}
		t.Logf("%-9s worst |accepted − limit|/limit: tables %.2g, exact attempt model %.2g", o.b.ID, worstTable, worstExact)
		if worstTable > 1e-9 {
			t.Errorf("%s: the shares leave accepted attempts %.2g of the limit off it on the tables", o.b.ID, worstTable)
		}
		if o.pol.cooldown == nil && worstExact > 1e-4 {
			t.Errorf("%s: the exact attempt model is %.2g of the limit off it at the shares, want within 1e-4", o.b.ID, worstExact)
		}
	}
}

// exactOffered is the attempts each group is offered in a bin of demand at
// refusal shares theta, from the attempt model itself.
func exactOffered(m *model, g int, demand, theta []float64) []float64 {
	o := &m.options[g]
	load := make([]float64, len(m.lim.groups))
	var buf []hop
	for i := range m.flows {
		hops := m.hopsInto(&buf, &m.flows[i], o.reach[i], nil, o.rate[i])
		for j, k := range o.reach[i] {
			if gi := m.lim.groupOf[i][k]; gi >= 0 {
				hops[j].throttle = theta[gi]
			}
		}
		loads := make([]float64, len(hops))
		planLoads(&o.pol, hops, o.cacheHit, 0, loads)
		for j, k := range o.reach[i] {
			if gi := m.lim.groupOf[i][k]; gi >= 0 {
				load[gi] += demand[i] * loads[j]
			}
		}
	}
	return load
}

// A demand surge's month is the calm month with the surge's bins taken out
// and worked again: the same, to float rounding, as working every bin.
func TestSurgeReusesTheCalmMonth(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/examples/multi-region.yaml")
	if err != nil {
		t.Skipf("the multi-region example is not here: %v", err)
	}
	m := modelOf(t, string(data), 3e7)
	calm := func(int) *outageState { return nil }
	surge := func(bin int) float64 {
		if bin >= 900 && bin < 1140 {
			return 3
		}
		return 1
	}
	for g := range m.options {
		if m.options[g].excluded != nil || m.lim.calmSums[g] == nil {
			continue
		}
		reused := m.throttling(g, surge, calm, 0, m.bins(), new(attemptScratch))
		snap := m.lim.calmSums[g]
		m.lim.calmSums[g] = nil
		direct := m.throttling(g, surge, calm, 0, m.bins(), new(attemptScratch))
		m.lim.calmSums[g] = snap
		id := m.options[g].b.ID
		for _, c := range []struct {
			name   string
			x, y   float64
			within float64
		}{
			{"failed", reused.res.failed, direct.res.failed, 1e-9 * math.Abs(direct.res.failed)},
			{"cost", reused.res.cost, direct.res.cost, 1e-9 * math.Abs(direct.res.cost)},
			{"requests", reused.requests, direct.requests, 0},
		} {
			if math.Abs(c.x-c.y) > c.within {
				t.Errorf("%s %s: %v reusing the calm month, %v working every bin", id, c.name, c.x, c.y)
			}
		}
		// Waiting and spend are rounded to their units once; the two sums
		// differ only in float rounding, so a bucket may round the other
		// way.
		for k := range reused.acc.waits {
			if d := reused.acc.waits[k] - direct.acc.waits[k]; d < -1 || d > 1 {
				t.Errorf("%s waiting bucket %d: %d reusing, %d working every bin", id, k, reused.acc.waits[k], direct.acc.waits[k])
			}
		}
		for k := range reused.acc.cost {
			if d := reused.acc.cost[k] - direct.acc.cost[k]; d < -1 || d > 1 {
				t.Errorf("%s spend on path %d: %d reusing, %d working every bin", id, k, reused.acc.cost[k], direct.acc.cost[k])
			}
		}
	}
}
