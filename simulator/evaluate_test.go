package simulator

import (
	"math"
	"math/rand/v2"
	"slices"
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

// addRounded stops at the first share too small to add anything, and
// significant drops the shares too small for any stretch of the flow; the
// sums must be those of rounding every share, whatever the size of d.
func TestAddRoundedSkipsOnlyZeros(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		shares := make([]share, 1+r.IntN(40))
		for k := range shares {
			// Real shares and the float noise a difference from calm leaves.
			x := r.Float64() * math.Pow(10, -float64(r.IntN(20)))
			if r.IntN(2) == 0 {
				x = -x
			}
			shares[k] = share{x: x, at: int32(r.IntN(8))}
		}
		// Shares that make exactly half a unit at d = 1, and just below.
		shares = append(shares, share{x: 0.5 / waitUnit, at: 1}, share{x: math.Nextafter(0.5/microUSD, 0), at: 2})
		largestFirst(shares)
		d := math.Pow(10, r.Float64()*16-4)
		if r.IntN(10) == 0 {
			d = 1
		}
		if r.IntN(2) == 0 {
			d = -d
		}
		for _, unit := range []float64{waitUnit, microUSD} {
			got, kept, want := make([]int64, 8), make([]int64, 8), make([]int64, 8)
			addRounded(got, shares, d, unit, halfUnit(d, unit))
			total := math.Abs(d) * (1 + r.Float64()*float64(r.IntN(3)))
			addRounded(kept, significant(slices.Clone(shares), total, unit), d, unit, halfUnit(d, unit))
			for _, s := range shares {
				want[s.at] += int64(math.Round(s.x * d * unit))
			}
			if !slices.Equal(got, want) || !slices.Equal(kept, want) {
				t.Fatalf("d %v unit %v: got %v and %v, want %v", d, unit, got, kept, want)
			}
		}
	}
}
