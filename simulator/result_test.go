package simulator

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// A series' percentiles are stat.Quantile's Empirical ones of the trials,
// and of a + b·x read from the other end when b < 0.
func TestSeriesPercentilesMatchGonum(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	ps := []float64{0.05, 0.5, 0.95}
	for n := range 300 {
		xs := make([]float64, 1+n*7%1000)
		s := newSeries(true)
		for k := range xs {
			switch n % 3 {
			case 0:
				xs[k] = r.NormFloat64()
			case 1:
				xs[k] = float64(r.IntN(5)) // many ties
			default:
				xs[k] = float64(k) // already sorted
			}
			s.add(xs[k])
		}
		for _, b := range []float64{2, -0.5} {
			ys := make([]float64, len(xs))
			for k, x := range xs {
				ys[k] = 1 + b*x
			}
			slices.Sort(ys)
			d := s.distribution(1, b)
			for k, got := range []float64{d.P5, d.P50, d.P95} {
				if want := stat.Quantile(ps[k], stat.Empirical, ys, nil); got != want {
					t.Fatalf("n %d, b %v, p %v: got %v, want %v", len(xs), b, ps[k], got, want)
				}
			}
		}
	}
	s := newSeries(true)
	for _, x := range []float64{1, math.NaN(), 2} {
		s.add(x)
	}
	if d := s.distribution(0, 1); !math.IsNaN(d.P50) || !math.IsNaN(d.Mean) {
		t.Errorf("with a NaN: got median %v and mean %v, want NaN", d.P50, d.Mean)
	}
}
