package simulator

import (
	"math"
	"math/big"
)

// series accumulates one figure over trials in a size that does not grow
// with them: exact power sums for its mean, spread and skew, and its
// order statistics for percentiles.
type series struct {
	N          int64
	S1, S2, S3 exactSum
	Q          orderStats
}

func newSeries(exact bool) series { return series{Q: newOrderStats(exact)} }

func (s *series) add(x float64) {
	s.N++
	s.S1.add(x)
	s.S2.addSquare(x)
	s.S3.addCube(x)
	s.Q.add(x)
}

func (s *series) merge(o *series) {
	s.N += o.N
	s.S1.merge(&o.S1)
	s.S2.merge(&o.S2)
	s.S3.merge(&o.S3)
	s.Q.merge(&o.Q)
}

// moments are a series' mean, sample standard deviation and sample
// skewness as gonum's stat.MeanStdDev and stat.Skew define them, worked
// out from the exact sums with no cancellation.
type moments struct {
	n              int64
	mean, sd, skew float64
}

func (s *series) moments() moments {
	out := moments{n: s.N}
	if s.N == 0 {
		return out
	}
	s1, s2, s3 := s.S1.big(), s.S2.big(), s.S3.big()
	if s1 == nil || s2 == nil || s3 == nil {
		nan := math.NaN()
		return moments{n: s.N, mean: nan, sd: nan, skew: nan}
	}
	nf := newBig().SetInt64(s.N)
	mean := newBig().Quo(s1, nf)
	out.mean, _ = mean.Float64()
	if s.N < 2 {
		return out
	}
	// Sums of the deviations' squares and cubes: m2 = S2 − S1·x̄,
	// m3 = S3 − 3·x̄·S2 + 2·x̄²·S1.
	m2 := newBig().Sub(s2, newBig().Mul(s1, mean))
	m3 := newBig().Mul(newBig().SetInt64(3), newBig().Mul(mean, s2))
	m3.Sub(s3, m3)
	m3.Add(m3, newBig().Mul(newBig().SetInt64(2), newBig().Mul(newBig().Mul(mean, mean), s1)))
	variance := newBig().Quo(m2, newBig().SetInt64(s.N-1))
	if variance.Sign() <= 0 {
		return out // every trial alike: no spread, no skew
	}
	sd := newBig().Sqrt(variance)
	out.sd, _ = sd.Float64()
	if s.N < 3 {
		out.skew = math.NaN()
		return out
	}
	// stat.Skew: Σz³ · n / ((n−1)(n−2)), z the deviation over sd.
	sd3 := newBig().Mul(sd, newBig().Mul(sd, sd))
	k := newBig().Quo(nf, newBig().SetInt64((s.N-1)*(s.N-2)))
	skew := newBig().Mul(newBig().Quo(m3, sd3), k)
	out.skew, _ = skew.Float64()
	return out
}

func newBig() *big.Float { return new(big.Float).SetPrec(exactPrec) }

// distribution is the Distribution of a + b·x over the trials of x.
func (s *series) distribution(a, b float64) Distribution {
	if s.N == 0 {
		return Distribution{}
	}
	mo := s.moments()
	mean, sd, skew := a+b*mo.mean, math.Abs(b)*mo.sd, mo.skew
	if b < 0 {
		skew = -skew
	}
	// Percentiles are ranks of the empirical distribution, the element of
	// rank ⌈p·n⌉, read from the other end when b turns the order round.
	n := int(s.N)
	rank := func(p float64) int {
		r := max(int(math.Ceil(p*float64(n)))-1, 0)
		if b < 0 {
			r = n - 1 - r
		}
		return r
	}
	q := s.Q.ranks(n, rank(0.05), rank(0.5), rank(0.95))
	for k := range q {
		q[k] = a + b*q[k]
	}
	return Distribution{Mean: mean, CI95: intervalOfMean(n, mean, sd, skew), P5: q[0], P50: q[1], P95: q[2]}
}
