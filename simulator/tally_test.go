package simulator

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// Numbers of every magnitude and sign, including subnormals and values
// near the largest float, sum exactly: the result is the correctly
// rounded value of the true sum (checked against math/big at a precision
// that holds it exactly), whatever the order and the grouping.
func TestExactSumIsExactInAnyOrder(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		n := 1 + r.IntN(300)
		xs := make([]float64, n)
		for i := range xs {
			switch r.IntN(5) {
			case 0:
				xs[i] = math.Ldexp(r.Float64(), r.IntN(2098)-1074) // any exponent
			case 1:
				xs[i] = r.NormFloat64() * 1e6
			case 2:
				xs[i] = math.SmallestNonzeroFloat64 * float64(r.IntN(1000))
			case 3:
				xs[i] = math.MaxFloat64 / float64(1+r.IntN(1<<20))
			default:
				xs[i] = float64(r.IntN(1 << 53))
			}
			if r.IntN(2) == 0 {
				xs[i] = -xs[i]
			}
		}
		want := new(big.Float).SetPrec(5000)
		for _, x := range xs {
			want.Add(want, new(big.Float).SetPrec(5000).SetFloat64(x))
		}
		wantF, _ := want.Float64()

		var whole exactSum
		for _, x := range xs {
			whole.add(x)
		}
		// The same numbers shuffled and added in two groups.
		r.Shuffle(n, func(i, k int) { xs[i], xs[k] = xs[k], xs[i] })
		var a, b exactSum
		cut := r.IntN(n + 1)
		for _, x := range xs[:cut] {
			a.add(x)
		}
		for _, x := range xs[cut:] {
			b.add(x)
		}
		a.merge(&b)
		if whole.value() != wantF || a.value() != wantF || a.W != whole.W {
			t.Fatalf("round %d: sum %g, regrouped %g, exact %g", round, whole.value(), a.value(), wantF)
		}
	}
}

// Squares, cubes and products are added exactly: the sum of x² and of x³
// over numbers whose squares and cubes round in float64 equals math/big's.
func TestExactSumOfPowers(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	var s2, s3, sp exactSum
	w2, w3, wp := newBig(), newBig(), newBig()
	for range 1000 {
		x, y := r.NormFloat64()*1e5, r.ExpFloat64()*1e-3
		s2.addSquare(x)
		s3.addCube(x)
		sp.addProduct(x, y)
		bx, by := newBig().SetFloat64(x), newBig().SetFloat64(y)
		w2.Add(w2, newBig().Mul(bx, bx))
		w3.Add(w3, newBig().Mul(bx, newBig().Mul(bx, bx)))
		wp.Add(wp, newBig().Mul(bx, by))
	}
	for _, c := range []struct {
		name string
		got  *big.Float
		want *big.Float
	}{{"x²", s2.big(), w2}, {"x³", s3.big(), w3}, {"x·y", sp.big(), wp}} {
		if c.got.Cmp(c.want) != 0 {
			t.Errorf("Σ%s = %s, want %s", c.name, c.got.Text('g', 30), c.want.Text('g', 30))
		}
	}
}

// A series' moments agree with gonum's two-pass ones to rounding, and a
// constant series has no spread at all (the exact sums cancel exactly).
func TestSeriesMomentsMatchGonum(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	xs := make([]float64, 5000)
	s := newSeries(true)
	for i := range xs {
		// Mostly calm months and now and then a long incident.
		xs[i] = 1e4 + r.Float64()
		if r.IntN(50) == 0 {
			xs[i] += r.ExpFloat64() * 1e6
		}
		s.add(xs[i])
	}
	mo := s.moments()
	mean, sd := stat.MeanStdDev(xs, nil)
	skew := stat.Skew(xs, nil)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"mean", mo.mean, mean}, {"sd", mo.sd, sd}, {"skew", mo.skew, skew}} {
		if math.Abs(c.got-c.want) > 1e-12*math.Abs(c.want) {
			t.Errorf("%s = %.17g, gonum says %.17g", c.name, c.got, c.want)
		}
	}
	c := newSeries(true)
	for range 1000 {
		c.add(0.1 + 0.2) // not exactly representable: its square rounds
	}
	if mo := c.moments(); mo.sd != 0 || mo.mean != 0.1+0.2 {
		t.Errorf("a constant series has mean %.17g and sd %g, want %.17g and 0", mo.mean, mo.sd, 0.1+0.2)
	}
}

// Above exactQuantileTrials, percentiles come from the sketch: each is
// within sketchError (relative) of the exact order statistic, for values
// of both signs, zeros among them.
func TestSketchPercentilesWithinStatedError(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(13, 14))
	for _, gen := range []struct {
		name string
		draw func() float64
	}{
		{"heavy tail", func() float64 { return math.Exp(r.NormFloat64() * 3) }},
		{"mostly zero", func() float64 {
			if r.IntN(10) > 0 {
				return 0
			}
			return r.ExpFloat64() * 5e4
		}},
		{"both signs", func() float64 { return r.NormFloat64() * 1e3 }},
		{"narrow", func() float64 { return 78000 + r.Float64()*2000 }},
	} {
		xs := make([]float64, 20000)
		sk, ex := newOrderStats(false), newOrderStats(true)
		for i := range xs {
			xs[i] = gen.draw()
			sk.add(xs[i])
			ex.add(xs[i])
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		ranks := []int{0, 999, 9999, 18999, 19999}
		got, exact := sk.ranks(len(xs), ranks...), ex.ranks(len(xs), ranks...)
		for k, rk := range ranks {
			if exact[k] != sorted[rk] {
				t.Errorf("%s: exact rank %d is %g, want %g", gen.name, rk, exact[k], sorted[rk])
			}
			if d := math.Abs(got[k] - sorted[rk]); d > sketchError*math.Abs(sorted[rk])+sketchFloor {
				t.Errorf("%s: rank %d from the sketch is %g, exact %g: off by %.3g %%, more than %.3g %%",
					gen.name, rk, got[k], sorted[rk], 100*d/math.Abs(sorted[rk]), 100*sketchError)
			}
		}
		// Merging two halves gives the same sketch as one.
		a, b := newOrderStats(false), newOrderStats(false)
		for i, x := range xs {
			if i%2 == 0 {
				a.add(x)
			} else {
				b.add(x)
			}
		}
		a.merge(&b)
		if !slices.Equal(a.ranks(len(xs), ranks...), got) {
			t.Errorf("%s: a merged sketch reads differently from one sketch", gen.name)
		}
	}
}
