package simulator

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// Selection must pick what stat.Quantile picks from the sorted trials.
func TestEmpiricalQuantilesMatchSorting(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	ps := []float64{0, 0.05, 0.5, 0.95, 1}
	for n := range 300 {
		xs := make([]float64, 1+n*7%1000)
		for k := range xs {
			switch n % 3 {
			case 0:
				xs[k] = r.NormFloat64()
			case 1:
				xs[k] = float64(r.IntN(5)) // many ties
			default:
				xs[k] = float64(k) // already sorted
			}
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		got := empiricalQuantiles(xs, ps...)
		for k, p := range ps {
			if want := stat.Quantile(p, stat.Empirical, sorted, nil); got[k] != want {
				t.Fatalf("n %d, p %v: got %v, want %v", len(xs), p, got[k], want)
			}
		}
	}
	if q := empiricalQuantiles([]float64{1, math.NaN(), 2}, 0.5); !math.IsNaN(q[0]) {
		t.Errorf("with a NaN: got %v, want NaN", q[0])
	}
}
