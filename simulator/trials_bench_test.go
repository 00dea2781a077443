package simulator

import (
	"context"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"gatewise/pricing"
	"gatewise/simulator/traffic"
)

// BenchmarkSimulateTrials runs the multi-region example at 10,000 and
// 100,000 trials and reports, besides -benchmem's allocations, the peak of
// the live heap sampled every 10 ms (peak-heap-MB): what a run holds at
// once, which must not grow with its trials. A million trials take too
// long for a benchmark; the README gives the command that measures them.
func BenchmarkSimulateTrials(b *testing.B) {
	data, err := os.ReadFile("../testdata/examples/multi-region.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cat := pricing.Default()
	spec, err := Load(data, cat)
	if err != nil {
		b.Fatal(err)
	}
	prof, err := traffic.Synthesize(context.Background(), spec.SyntheticParams(), 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, trials := range []int{10_000, 100_000} {
		b.Run(number(trials), func(b *testing.B) {
			peak := peakHeap()
			for b.Loop() {
				if _, err := Run(context.Background(), spec, prof, cat, Options{Trials: trials}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(trials), "ns/trial")
		})
	}
}

func number(n int) string { return strconv.Itoa(n/1000) + "k" }

// peakHeap samples the bytes of live heap objects until the returned
// function is called, which reports the largest sample.
func peakHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var mu sync.Mutex
	var top uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			top = max(top, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return top
	}
}
