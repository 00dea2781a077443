package simulator

import (
	"math"
	"math/big"
	"math/bits"
)

// exactWords is the size of an exactSum: every float64 is an integer
// multiple of 2^-1074 below 2^1024, so 2098 bits hold any one of them,
// and 64 more bits of headroom and a sign bit hold the sum of 2^63 of
// them.
const exactWords = 34

// exactSum adds float64s with no rounding at all: a fixed-point two's
// complement integer in units of 2^-1074. Sums of the same numbers are
// then equal bit for bit in any order and any grouping, which is what lets
// trial ranges simulated apart merge into the result of one run.
type exactSum struct {
	W [exactWords]uint64
	// Bad is set once a NaN or an infinity was added.
	Bad bool
}

// add adds x exactly.
func (s *exactSum) add(x float64) {
	if x == 0 {
		return
	}
	b := math.Float64bits(x)
	exp := int(b >> 52 & 0x7ff)
	if exp == 0x7ff {
		s.Bad = true
		return
	}
	m, p := b&(1<<52-1), 0
	if exp > 0 {
		m |= 1 << 52
		p = exp - 1
	}
	w, sh := p/64, uint(p%64)
	lo, hi := m<<sh, m>>(64-sh) // hi is 0 when sh is 0
	if b>>63 == 0 {
		var c uint64
		s.W[w], c = bits.Add64(s.W[w], lo, 0)
		s.W[w+1], c = bits.Add64(s.W[w+1], hi, c)
		for k := w + 2; c != 0 && k < exactWords; k++ {
			s.W[k], c = bits.Add64(s.W[k], 0, c)
		}
		return
	}
	var c uint64
	s.W[w], c = bits.Sub64(s.W[w], lo, 0)
	s.W[w+1], c = bits.Sub64(s.W[w+1], hi, c)
	for k := w + 2; c != 0 && k < exactWords; k++ {
		s.W[k], c = bits.Sub64(s.W[k], 0, c)
	}
}

// addSquare adds x² exactly: the rounded square and its rounding error,
// which a fused multiply-add gives exactly.
func (s *exactSum) addSquare(x float64) {
	h := x * x
	s.add(h)
	s.add(math.FMA(x, x, -h))
}

// addCube adds x³ exactly, as the four exact parts of (h + l)·x.
func (s *exactSum) addCube(x float64) {
	h := x * x
	l := math.FMA(x, x, -h)
	hh := h * x
	s.add(hh)
	s.add(math.FMA(h, x, -hh))
	lh := l * x
	s.add(lh)
	s.add(math.FMA(l, x, -lh))
}

// addProduct adds x·y exactly.
func (s *exactSum) addProduct(x, y float64) {
	h := x * y
	s.add(h)
	s.add(math.FMA(x, y, -h))
}

// merge adds o into s.
func (s *exactSum) merge(o *exactSum) {
	var c uint64
	for k := range s.W {
		s.W[k], c = bits.Add64(s.W[k], o.W[k], c)
	}
	s.Bad = s.Bad || o.Bad
}

// exactPrec is the precision of the arithmetic on exact sums: far more
// than the 2,162 bits a sum holds, so moments computed from them lose
// nothing to cancellation.
const exactPrec = 4600

// big is the sum as an exact big.Float (NaN sums give nil).
func (s *exactSum) big() *big.Float {
	if s.Bad {
		return nil
	}
	neg := s.W[exactWords-1]>>63 == 1
	w := s.W
	if neg { // two's complement: the magnitude is ^w + 1
		c := uint64(1)
		for k := range w {
			w[k], c = bits.Add64(^w[k], 0, c)
		}
	}
	words := make([]big.Word, 0, 2*exactWords)
	for _, v := range w {
		if bits.UintSize == 64 {
			words = append(words, big.Word(v))
		} else {
			words = append(words, big.Word(uint32(v)), big.Word(v>>32))
		}
	}
	i := new(big.Int).SetBits(words)
	if neg {
		i.Neg(i)
	}
	f := new(big.Float).SetPrec(exactPrec).SetInt(i)
	return f.SetMantExp(f, -1074)
}

// value is the sum rounded once to the nearest float64.
func (s *exactSum) value() float64 {
	f := s.big()
	if f == nil {
		return math.NaN()
	}
	v, _ := f.Float64()
	return v
}
