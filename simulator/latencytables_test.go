package simulator

import (
	"slices"
	"testing"
)

// TestLatencyTables checks the bucket tables built from the buckets' edges
// against a logarithm for every entry, the way they were built before, so
// that a wait is bucketed the same whichever way its table was made.
func TestLatencyTables(t *testing.T) {
	t.Parallel()
	fine := make([]int16, 1<<16)
	for ms := 1; ms < len(fine); ms++ {
		fine[ms] = int16(bucketByLog(int64(ms)))
	}
	coarse := make([]int16, 1e7>>6)
	for k := range coarse {
		lo, hi := int64(k)<<6, int64(k+1)<<6-1
		coarse[k] = -1
		if b := bucketByLog(lo); lo > 0 && b == bucketByLog(hi) {
			coarse[k] = int16(b)
		}
	}
	if !slices.Equal(bucketOfMS, fine) {
		t.Error("bucketOfMS differs from bucketByLog")
	}
	if !slices.Equal(bucketOfCoarse(), coarse) {
		t.Error("bucketOfCoarse differs from bucketByLog")
	}
	for _, ms := range []int64{0, 1, 2, 999, 1000, 65535, 65536, 1e6, 9_999_999, 1e7, 1e9} {
		want := int32(0)
		if ms >= 1 {
			want = bucketByLog(ms)
		}
		if got := latencyBucket(ms); got != want {
			t.Errorf("latencyBucket(%d) = %d, want %d", ms, got, want)
		}
	}
}

// BenchmarkLatencyTables is what building the tables costs: the edges and
// the fine table every start of gatewise, the coarse table the first time a
// wait of a minute or more is bucketed.
func BenchmarkLatencyTables(b *testing.B) {
	b.ReportAllocs()
	b.Run("start", func(b *testing.B) {
		for b.Loop() {
			e := latencyEdges(coarseCells << coarseShift)
			fineTable(&e, 1<<16)
		}
	})
	b.Run("coarse", func(b *testing.B) {
		for b.Loop() {
			coarseTable(&bucketEdges, coarseCells)
		}
	})
}
