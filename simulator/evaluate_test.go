package simulator

import (
	"math"
	"math/rand/v2"
	"testing"
)

// roundInt must round exactly as math.Round does: halves away from zero,
// the float just below a half down, integers and huge values unchanged
// (beyond int64, the conversion gives what it gives either way).
func TestRoundInt(t *testing.T) {
	t.Parallel()
	cases := []float64{0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 0.49999999999999994, -0.49999999999999994,
		math.Nextafter(2.5, 0), math.Nextafter(-2.5, 0), 1 << 52, 1<<52 + 1, -(1 << 53), 1<<53 + 2, 4503599627370495.5,
		math.MaxInt32 + 0.5, 1e15 + 0.5, -1e15 - 0.5, 1 << 61, -(1 << 61), 1e300, -1e300}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		cases = append(cases,
			(r.Float64()-0.5)*1e7,
			float64(r.Int64N(1<<40)-1<<39)+0.5,
			math.Nextafter(float64(r.Int64N(1<<40)-1<<39)+0.5, math.Inf(1)),
			math.Nextafter(float64(r.Int64N(1<<40)-1<<39)+0.5, math.Inf(-1)),
			math.Float64frombits(r.Uint64()),
		)
	}
	for _, x := range cases {
		if math.IsNaN(x) {
			continue
		}
		if got, want := roundInt(x), int64(math.Round(x)); got != want {
			t.Fatalf("roundInt(%v) = %d, want %d", x, got, want)
		}
	}
}
