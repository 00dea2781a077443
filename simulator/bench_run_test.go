package simulator

import (
	"context"
	"os"
	"testing"

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

// A trial's cost must not grow with traffic: compare these two.
func BenchmarkSimulate1kPerDay(b *testing.B)   { benchmarkExample(b, 1000, 1000) }
func BenchmarkSimulate100MPerDay(b *testing.B) { benchmarkExample(b, 1000, 100_000_000) }
