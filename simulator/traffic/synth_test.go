package traffic

import (
	"context"
	"math"
	"testing"
	"time"
)

// exampleParams is the traffic block of testdata/examples/multi-region.yaml.
func exampleParams() SyntheticParams {
	return SyntheticParams{
		RequestsPerDay: 400000, DiurnalAmplitude: 0.5, HorizonDays: 30,
		Origins: map[string]float64{"us": 0.55, "eu": 0.35, "ap": 0.10},
		Routes: []SyntheticRoute{
			{Name: "chat", Share: 0.6, InputTokens: 1800, OutputTokens: 400, CachedInputShare: 0.4},
			{Name: "summarize", Share: 0.3, InputTokens: 3000, OutputTokens: 250},
			{Name: "embed-rerank", Share: 0.1, InputTokens: 600, OutputTokens: 50},
		},
	}
}

func TestSynthesizeIsReproducible(t *testing.T) {
	t.Parallel()
	p := exampleParams()
	p.HorizonDays, p.Burstiness = 3, 0.3
	a, err := Synthesize(context.Background(), p, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Synthesize(context.Background(), p, 7)
	c, _ := Synthesize(context.Background(), p, 8)
	if len(a.Cells) != len(b.Cells) || a.Total != b.Total {
		t.Fatal("same seed, different profiles")
	}
	for i := range a.Cells {
		if a.Cells[i] != b.Cells[i] {
			t.Fatalf("cell %d differs", i)
		}
	}
	if a.Total == c.Total {
		t.Error("different seeds gave the same totals")
	}
}

// TestSynthesizeShape checks the mean volume, route and origin shares, token
// sizes and the diurnal swing. Tolerances: the daily total is Poisson with
// mean 1.2e6 over 3 days, so its standard deviation is about 0.1%; 1% is ten
// of them.
func TestSynthesizeShape(t *testing.T) {
	t.Parallel()
	p := exampleParams()
	p.HorizonDays = 3
	prof, err := Synthesize(context.Background(), p, 42)
	if err != nil {
		t.Fatal(err)
	}
	want := p.RequestsPerDay * 3
	if got := float64(prof.Total.Requests); math.Abs(got-want)/want > 0.01 {
		t.Errorf("requests %v, want %v ±1%%", got, want)
	}
	if prof.Bins != 3*1440 || len(prof.Routes) != 3 || len(prof.Origins) != 3 {
		t.Fatalf("bins %d routes %v origins %v", prof.Bins, prof.Routes, prof.Origins)
	}
	x := prof.Prefix()
	for ri, r := range p.Routes {
		var d Demand
		for oi := range prof.Origins {
			got := x.Range(ri, oi, 0, prof.Bins)
			d.add(&got)
		}
		share := float64(d.Requests) / float64(prof.Total.Requests)
		if math.Abs(share-r.Share) > 0.01 {
			t.Errorf("route %s share %.3f, want %.2f", r.Name, share, r.Share)
		}
		if d.Input != d.Requests*r.InputTokens || d.Output != d.Requests*r.OutputTokens {
			t.Errorf("route %s tokens %d/%d for %d requests", r.Name, d.Input, d.Output, d.Requests)
		}
		if c := float64(d.CachedInput) / float64(max(d.Input, 1)); math.Abs(c-r.CachedInputShare) > 0.001 {
			t.Errorf("route %s cached share %.4f, want %.2f", r.Name, c, r.CachedInputShare)
		}
	}
	// US traffic peaks at 19:00 UTC and bottoms out at 07:00: with amplitude
	// 0.5 the hourly rates are in the ratio 1.5 : 0.5.
	us := -1
	for i, o := range prof.Origins {
		if o == "us" {
			us = i
		}
	}
	var peak, trough int64
	for d := range 3 {
		for r := range p.Routes {
			pd := x.Range(r, us, d*1440+19*60-30, d*1440+19*60+30)
			td := x.Range(r, us, d*1440+7*60-30, d*1440+7*60+30)
			peak += pd.Requests
			trough += td.Requests
		}
	}
	if ratio := float64(peak) / float64(trough); ratio < 2.7 || ratio > 3.3 {
		t.Errorf("peak/trough %.2f, want about 3", ratio)
	}
}

// TestPoissonMoments checks the sampler's mean and variance (both λ) on both
// of its branches, with 200k draws: the standard error of the mean is
// sqrt(λ/n), under 0.2% of λ for these λ.
func TestPoissonMoments(t *testing.T) {
	t.Parallel()
	for _, lambda := range []float64{0.3, 4, 25, 1000} {
		rng := newTestRand(1)
		const n = 200000
		var s, s2 float64
		for range n {
			k := float64(poisson(rng, lambda))
			s += k
			s2 += k * k
		}
		mean := s / n
		v := s2/n - mean*mean
		if math.Abs(mean-lambda)/lambda > 0.01 || math.Abs(v-lambda)/lambda > 0.03 {
			t.Errorf("λ=%v: mean %.4f variance %.4f", lambda, mean, v)
		}
	}
}

func TestSynthesizeValidates(t *testing.T) {
	t.Parallel()
	mut := []func(*SyntheticParams){
		func(p *SyntheticParams) { p.RequestsPerDay = 0 },
		func(p *SyntheticParams) { p.DiurnalAmplitude = 2 },
		func(p *SyntheticParams) { p.Origins = nil },
		func(p *SyntheticParams) { p.Routes[0].Share = 0.9 },
		func(p *SyntheticParams) { p.HorizonDays = 400 },
		func(p *SyntheticParams) { p.BinWidth = 7 * time.Second },
		func(p *SyntheticParams) { p.Weekly = []float64{1, 2} },
		func(p *SyntheticParams) { p.Burstiness = math.NaN() },
		func(p *SyntheticParams) { p.HorizonDays, p.BinWidth = 366, time.Second },
	}
	for i, m := range mut {
		p := exampleParams()
		m(&p)
		if _, err := Synthesize(context.Background(), p, 1); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

func TestSynthesizeCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Synthesize(ctx, exampleParams(), 1); err == nil {
		t.Error("no error after cancel")
	}
}
