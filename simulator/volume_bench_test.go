package simulator

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSimulateVolume runs the multi-region example, whose OpenAI
// account takes 10,000 requests a minute a region, at four volumes with
// the same trials and seed. At 1e3 and 1e5 requests a day no limit binds;
// at 1e7 one binds in busy hours, which makes the most hours whose
// throttling a sampled incident moves; at 1e8 one binds in every minute
// of the month. DESIGN asks that a trial's cost grow with its incidents,
// not with traffic, so the four should take about as long. Besides ns/op it reports the CPU time the
// process spent per run (cpu-ns/op), which other work on a shared machine
// disturbs less than the wall clock.
func BenchmarkSimulateVolume(b *testing.B) {
	for _, v := range []struct {
		name string
		rpd  float64
	}{{"rpd=1e3", 1e3}, {"rpd=1e5", 1e5}, {"rpd=1e7", 1e7}, {"rpd=1e8", 1e8}} {
		b.Run(v.name, func(b *testing.B) {
			spec, prof, cat := exampleAt(b, "multi-region", v.rpd)
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if _, err := Run(context.Background(), spec, prof, cat, Options{Trials: 200}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
