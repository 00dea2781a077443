package simulator

import (
	"math"
	"slices"
)

// exactQuantileTrials is the most trials for which a run keeps every
// trial's figures to read its percentiles exactly; above it they come from
// a sketch of fixed size, within sketchError of the exact order statistic.
const exactQuantileTrials = 10_000

// A sketch counts values in buckets of one 512th of a power of two (by
// the mantissa, so the bucket of a value is the same on every machine) and
// answers a rank with its bucket's middle: at most 1/1024 (0.098 %) away
// from the value of that rank, relative to it. Values nearer zero than
// sketchFloor count as zero.
const (
	sketchSubBuckets = 512
	sketchError      = 1.0 / (2 * sketchSubBuckets)
	sketchFloor      = 0x1p-40
)

// orderStats keeps what a run needs of one figure's trials to read its
// percentiles: the values themselves, or a sketch. Both merge exactly, so
// the percentiles of trial ranges merged are those of one run.
type orderStats struct {
	Exact  bool
	Values []float64 // when exact
	// The sketch: counts of values at or near zero, above zero by bucket
	// and below zero by the bucket of their magnitude.
	Zero     uint64
	Pos, Neg buckets
	Bad      bool // a NaN was added
}

// buckets are counts by bucket index, Counts[i] for index Lo+i; a run
// has at most MaxTrials values, so 32 bits hold any count.
type buckets struct {
	Lo     int32
	Counts []uint32
}

func newOrderStats(exact bool) orderStats { return orderStats{Exact: exact} }

func (o *orderStats) add(x float64) {
	switch {
	case math.IsNaN(x):
		o.Bad = true
	case o.Exact:
		o.Values = append(o.Values, x)
	case math.Abs(x) < sketchFloor:
		o.Zero++
	case x > 0:
		o.Pos.add(bucketOf(x), 1)
	default:
		o.Neg.add(bucketOf(-x), 1)
	}
}

// bucketOf is the sketch bucket of x > 0: its binary exponent and the
// first nine bits of its mantissa. Infinities fall in the last bucket.
func bucketOf(x float64) int32 {
	x = math.Min(x, math.MaxFloat64)
	frac, exp := math.Frexp(x) // x = frac·2^exp, frac in [0.5, 1)
	j := int32((2*frac - 1) * sketchSubBuckets)
	return int32(exp-1)*sketchSubBuckets + j
}

// bucketValue is the middle of bucket i.
func bucketValue(i int32) float64 {
	e, j := i/sketchSubBuckets, i%sketchSubBuckets
	if j < 0 {
		e, j = e-1, j+sketchSubBuckets
	}
	return math.Ldexp(1+(float64(j)+0.5)/sketchSubBuckets, int(e))
}

func (b *buckets) add(i int32, n uint32) {
	switch {
	case len(b.Counts) == 0:
		b.Lo, b.Counts = i, append(b.Counts, n)
		return
	case i < b.Lo:
		grown := make([]uint32, int(b.Lo-i)+len(b.Counts))
		copy(grown[b.Lo-i:], b.Counts)
		b.Lo, b.Counts = i, grown
	case int(i-b.Lo) >= len(b.Counts):
		b.Counts = append(b.Counts, make([]uint32, int(i-b.Lo)+1-len(b.Counts))...)
	}
	b.Counts[i-b.Lo] += n
}

func (b *buckets) merge(o buckets) {
	for k, n := range o.Counts {
		if n > 0 {
			b.add(o.Lo+int32(k), n)
		}
	}
}

func (o *orderStats) merge(p *orderStats) {
	o.Bad = o.Bad || p.Bad
	o.Values = append(o.Values, p.Values...)
	o.Zero += p.Zero
	o.Pos.merge(p.Pos)
	o.Neg.merge(p.Neg)
}

// ranks returns the values of the given ranks (0 for the smallest) among
// n values added, NaN for all when a NaN was added.
func (o *orderStats) ranks(n int, rs ...int) []float64 {
	out := make([]float64, len(rs))
	if o.Bad || n < 1 {
		return o.nan(out)
	}
	if o.Exact {
		if len(o.Values) == 0 {
			return o.nan(out)
		}
		sorted := slices.Clone(o.Values)
		slices.Sort(sorted)
		for k, r := range rs {
			out[k] = sorted[min(max(r, 0), len(sorted)-1)]
		}
		return out
	}
	for k, r := range rs {
		out[k] = o.sketchRank(uint64(min(max(r, 0), n-1)))
	}
	return out
}

// sketchRank walks the buckets from the most negative value up.
func (o *orderStats) sketchRank(r uint64) float64 {
	seen := uint64(0)
	for k := len(o.Neg.Counts) - 1; k >= 0; k-- {
		if seen += uint64(o.Neg.Counts[k]); seen > r {
			return -bucketValue(o.Neg.Lo + int32(k))
		}
	}
	if seen += o.Zero; seen > r {
		return 0
	}
	for k, c := range o.Pos.Counts {
		if seen += uint64(c); seen > r {
			return bucketValue(o.Pos.Lo + int32(k))
		}
	}
	return math.NaN() // fewer values than r + 1
}

func (o *orderStats) nan(out []float64) []float64 {
	for k := range out {
		out[k] = math.NaN()
	}
	return out
}
