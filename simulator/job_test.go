package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gatewise/pricing"
	"gatewise/simulator/traffic"
)

// A run split into trial ranges, simulated with different numbers of
// workers, sent through the wire format and merged out of order, gives
// the same bytes as the run in one piece. At 3e6 requests a day the
// eu-regulated example's limit of 3,000 requests a minute binds in busy
// hours, so the trials' incidents are throttled with tables and hours the
// workers share, each solved by whichever worker needs it first.
func TestSplitRunIsByteIdentical(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file        string
		rpd         float64
		trials, per int
	}{{"multi-region", 0, 97, 23}, {"single-provider", 0, 97, 23}, {"eu-regulated", 3e6, 97, 23}} {
		t.Run(fmt.Sprintf("%s/rpd=%g", c.file, c.rpd), func(t *testing.T) {
			t.Parallel()
			spec, prof, cat := exampleAt(t, c.file, c.rpd)
			opts := Options{Trials: c.trials, Seed: 11}
			whole, err := Run(context.Background(), spec, prof, cat, opts)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(whole)

			job, err := NewJob(spec, prof, cat, opts)
			if err != nil {
				t.Fatal(err)
			}
			var parts []*Partial
			for i, r := range job.Ranges(c.per) {
				split, _ := NewJob(spec, prof, cat, Options{Trials: c.trials, Seed: 11, Workers: 1 + i%3})
				p, err := split.Simulate(context.Background(), r)
				if err != nil {
					t.Fatal(err)
				}
				wire, err := p.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				var back Partial
				if err := back.UnmarshalBinary(wire); err != nil {
					t.Fatal(err)
				}
				parts = append(parts, &back)
			}
			if len(parts) != 5 {
				t.Fatalf("%d trials in ranges of %d make %d parts, want 5", c.trials, c.per, len(parts))
			}
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(parts), func(i, k int) { parts[i], parts[k] = parts[k], parts[i] })
			merged, err := job.Merge(parts)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(merged)
			if !bytes.Equal(got, want) {
				t.Errorf("the split run differs from the whole run (%d against %d bytes)", len(got), len(want))
			}
		})
	}
}

// Merge refuses parts that leave a trial out, count one twice, or belong to
// another run.
func TestMergeRefusesPartsThatDoNotFit(t *testing.T) {
	t.Parallel()
	spec, prof, cat := example(t, "single-provider")
	job, err := NewJob(spec, prof, cat, Options{Trials: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewJob(spec, prof, cat, Options{Trials: 20, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	sim := func(j *Job, from, to int) *Partial {
		p, err := j.Simulate(context.Background(), TrialRange{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := sim(job, 0, 10), sim(job, 10, 20), sim(job, 5, 15)
	for _, tc := range []struct {
		name  string
		parts []*Partial
		want  string
	}{
		{"missing", []*Partial{a}, "trial 10 is in no part"},
		{"twice", []*Partial{a, b, c}, "trial 5 is in two parts"},
		{"other run", []*Partial{a, sim(other, 10, 20)}, "come from another run"},
	} {
		if _, err := job.Merge(tc.parts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Merge says %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := job.Simulate(context.Background(), TrialRange{From: 15, To: 25}); err == nil {
		t.Error("Simulate took trials 15 to 25 of a 20-trial run")
	}
	var p Partial
	if err := p.UnmarshalBinary([]byte("not a part")); err == nil {
		t.Error("UnmarshalBinary took bytes that are not a part")
	}
}

// Past exactQuantileTrials a run reads percentiles from sketches: the
// same trials tallied both ways give the same means, intervals and
// everything else bit for bit, and percentiles within sketchError of the
// exact ones.
func TestSketchedRunMatchesExactRun(t *testing.T) {
	t.Parallel()
	spec, prof, cat := example(t, "multi-region")
	job, err := NewJob(spec, prof, cat, Options{Trials: 400, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	run := func(exact bool) Result {
		job.exact = exact
		p, err := job.Simulate(context.Background(), TrialRange{From: 0, To: 400})
		if err != nil {
			t.Fatal(err)
		}
		res, err := job.Merge([]*Partial{p})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	exact, sketched := run(true), run(false)
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > sketchError*math.Abs(want)+1e-12 {
			t.Errorf("%s: %g from the sketch, %g exact", what, got, want)
		}
	}
	percentiles := func(name string, got, want *Distribution) {
		t.Helper()
		near(name+" p5", got.P5, want.P5)
		near(name+" p50", got.P50, want.P50)
		near(name+" p95", got.P95, want.P95)
		got.P5, got.P50, got.P95 = want.P5, want.P50, want.P95
	}
	for k := range exact.Results {
		e, s := &exact.Results[k], &sketched.Results[k]
		if e.Excluded != nil {
			continue
		}
		name := e.Gateway + "/" + e.Scenario
		percentiles(name+" success", &s.SuccessRate, &e.SuccessRate)
		percentiles(name+" failed", &s.FailedRequests, &e.FailedRequests)
		percentiles(name+" availability", &s.Availability, &e.Availability)
		percentiles(name+" cost", &s.CostUSD.Total, &e.CostUSD.Total)
		if e.VersusBest != nil {
			percentiles(name+" failed vs best", &s.VersusBest.FailedRequests, &e.VersusBest.FailedRequests)
			percentiles(name+" cost vs best", &s.VersusBest.CostUSD, &e.VersusBest.CostUSD)
		}
	}
	for k := range exact.Providers {
		percentiles("status page", &sketched.Providers[k].StatusPageUptime, &exact.Providers[k].StatusPageUptime)
		percentiles("incidents", &sketched.Providers[k].IncidentsPerMonth, &exact.Providers[k].IncidentsPerMonth)
	}
	// With the percentiles set aside, nothing else differs.
	a, _ := json.Marshal(exact)
	b, _ := json.Marshal(sketched)
	if !bytes.Equal(a, b) {
		t.Error("a sketched run differs from the exact one in more than its percentiles")
	}
}

// example loads a bundled example architecture and synthesises its traffic.
func example(t *testing.T, name string) (Spec, *traffic.Profile, *pricing.Catalog) {
	t.Helper()
	return exampleAt(t, name, 0)
}

// exampleAt is the example at rpd requests a day (its own for 0).
func exampleAt(t testing.TB, name string, rpd float64) (Spec, *traffic.Profile, *pricing.Catalog) {
	t.Helper()
	data, err := os.ReadFile("../testdata/examples/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat := pricing.Default()
	spec, err := Load(data, cat)
	if err != nil {
		t.Fatal(err)
	}
	if rpd > 0 {
		spec.Traffic.RequestsPerDay = rpd
	}
	prof, err := traffic.Synthesize(context.Background(), spec.SyntheticParams(), spec.Simulation.Seed)
	if err != nil {
		t.Fatal(err)
	}
	return spec, prof, cat
}
