package simulator

import (
	"context"
	"os"
	"testing"
	"time"

	"gatewise/pricing"
	"gatewise/simulator/traffic"
)

func benchmarkExample(b *testing.B, trials int, requestsPerDay float64) {
	data, err := os.ReadFile("../testdata/examples/multi-region.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cat := pricing.Default()
	spec, err := Load(data, cat)
	if err != nil {
		b.Fatal(err)
	}
	if requestsPerDay > 0 {
		spec.Traffic.RequestsPerDay = requestsPerDay
	}
	prof, err := traffic.Synthesize(context.Background(), spec.SyntheticParams(), 1)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Run(context.Background(), spec, prof, cat, Options{Trials: trials}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(trials), "ns/trial")
}

// BenchmarkSimulateExample is the multi-region example: 7 gateways, 5
// scenarios (those the engine simulates), 10,000 trials.
func BenchmarkSimulateExample(b *testing.B) { benchmarkExample(b, 10000, 0) }

// A trial's cost must not grow with traffic: compare these two. They
// report the trial loop's cost per trial apart from the run's fixed cost
// (building paths, calm outcomes and, where rate limits bind, the
// throttling of every minute), which grows with the minutes a limit binds.
func BenchmarkSimulate1kPerDay(b *testing.B)   { benchmarkPerTrial(b, 1000) }
func BenchmarkSimulate100MPerDay(b *testing.B) { benchmarkPerTrial(b, 100_000_000) }

func benchmarkPerTrial(b *testing.B, requestsPerDay float64) {
	data, err := os.ReadFile("../testdata/examples/multi-region.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cat := pricing.Default()
	spec, err := Load(data, cat)
	if err != nil {
		b.Fatal(err)
	}
	spec.Traffic.RequestsPerDay = requestsPerDay
	prof, err := traffic.Synthesize(context.Background(), spec.SyntheticParams(), 1)
	if err != nil {
		b.Fatal(err)
	}
	const trials = 1000
	var fixed, full time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := Run(context.Background(), spec, prof, cat, Options{Trials: 1}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := Run(context.Background(), spec, prof, cat, Options{Trials: trials}); err != nil {
			b.Fatal(err)
		}
		fixed += t1.Sub(t0)
		full += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(full-fixed)/n/(trials-1), "ns/trial")
	b.ReportMetric(float64(fixed)/n/1e6, "ms-fixed")
}
