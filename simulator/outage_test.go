package simulator

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

func TestDefaultIncidentModelsAreValid(t *testing.T) {
	t.Parallel()
	for id, m := range DefaultProviderIncidents() {
		if err := m.Validate(); err != nil {
			t.Errorf("provider %s: %v", id, err)
		}
		if m.Source == "" {
			t.Errorf("provider %s has no source", id)
		}
	}
	for id, m := range DefaultGatewayIncidents() {
		if err := m.Validate(); err != nil {
			t.Errorf("gateway %s: %v", id, err)
		}
	}
	total := 0.0
	for _, pl := range DefaultCommonMode() {
		if err := pl.Model.Validate(); err != nil {
			t.Errorf("common mode %s: %v", pl.Name, err)
		}
		total += pl.Model.PerMonth * 12
	}
	if math.Abs(total-5) > 1e-9 {
		t.Errorf("the common-mode layer has %v events a year, want 5 (outages.md §11.4)", total)
	}
}

// The calibration in outages.md §11.3 says the defaults put the
// time-averaged error share of an OpenAI incident at ≈0.075 and of an
// Anthropic incident at ≈0.063.
func TestMeanErrorRateMatchesCalibration(t *testing.T) {
	t.Parallel()
	d := DefaultProviderIncidents()
	// OpenAI: 0.25·(0.18·0.03+0.42·0.10+0.29·0.30+0.11·0.95) + 0.75·0.02 = 0.25·0.2389 + 0.015 = 0.074725
	if got := d["openai"].MeanErrorRate(); !scalar.EqualWithinAbs(got, 0.074725, 1e-12) {
		t.Errorf("openai mean error rate = %v, want 0.074725", got)
	}
	// Anthropic: 0.25·(0.15·0.03+0.39·0.10+0.44·0.30+0.02·0.95) + 0.015 = 0.25·0.1945 + 0.015 = 0.063625
	if got := d["anthropic"].MeanErrorRate(); !scalar.EqualWithinAbs(got, 0.063625, 1e-12) {
		t.Errorf("anthropic mean error rate = %v, want 0.063625", got)
	}
}

// MeanDuration against numerical integration of the truncated density.
func TestMeanDurationOfTruncatedLognormal(t *testing.T) {
	t.Parallel()
	m := DefaultProviderIncidents()["openai"]
	ln := distuv.LogNormal{Mu: m.DurationMu, Sigma: m.DurationSigma}
	// ∫₀ᵀ x f(x) dx / F(T) by the trapezoid rule on a fine grid.
	const n = 2_000_000
	h := m.MaxHours / n
	sum := 0.0
	for i := 1; i < n; i++ {
		x := float64(i) * h
		sum += x * ln.Prob(x)
	}
	sum += m.MaxHours * ln.Prob(m.MaxHours) / 2
	want := sum * h / ln.CDF(m.MaxHours)
	if got := m.MeanDuration(); !scalar.EqualWithinRel(got, want, 1e-4) {
		t.Errorf("MeanDuration = %v, numerical %v", got, want)
	}
	// Without truncation the lognormal mean is exp(μ+σ²/2) = 3.92 h for OpenAI
	// (outages.md §11.2 quotes 3.9 h); the 72 h cap lowers it a little.
	if full := math.Exp(m.DurationMu + m.DurationSigma*m.DurationSigma/2); !(m.MeanDuration() < full && full < 3.95) {
		t.Errorf("truncated mean %v should be below the full mean %v ≈ 3.9 h", m.MeanDuration(), full)
	}
}

func sampleMany(m IncidentModel, trials int, horizon float64) [][]Incident {
	r := rand.New(rand.NewPCG(42, 7))
	out := make([][]Incident, trials)
	for i := range out {
		out[i] = m.Sample(r, horizon)
	}
	return out
}

// The count of incidents in a 30-day horizon averages λ per mean month for
// both
// arrival processes; Weibull renewals with k < 1 are overdispersed (bad
// weeks), Poisson ones are not.
func TestIncidentCounts(t *testing.T) {
	t.Parallel()
	const trials = 20000
	horizon := 30 * 24.0
	for _, arrival := range []Arrival{Poisson, Weibull} {
		m := DefaultProviderIncidents()["openai"]
		m.Arrival = arrival
		counts := make([]float64, trials)
		for i, incs := range sampleMany(m, trials, horizon) {
			counts[i] = float64(len(incs))
		}
		mean, sd := stat.MeanStdDev(counts, nil)
		// The horizon starts on a Monday, so 30 days are four weeks plus a
		// Monday and a Tuesday at ×1.3, 734.4 operational hours; the rate is
		// scaled so the horizon still holds λ·720/730.5 = 7.885 incidents,
		// a mean month's share, not 2 % more.
		want := m.PerMonth * horizon / HoursPerMonth
		if !scalar.EqualWithinAbs(want, 8*720/730.5, 1e-9) {
			t.Fatalf("expected count %v", want)
		}
		tol := 4 * sd / math.Sqrt(trials)
		if math.Abs(mean-want) > tol {
			t.Errorf("arrival %v: mean count %.3f, want %.3f ± %.3f", arrival, mean, want, tol)
		}
		dispersion := sd * sd / mean
		switch arrival {
		case Poisson:
			if math.Abs(dispersion-1) > 0.05 {
				t.Errorf("Poisson variance/mean = %.3f, want 1", dispersion)
			}
		case Weibull:
			if dispersion < 1.2 {
				t.Errorf("Weibull k=0.7 variance/mean = %.3f, want clustering (> 1.2)", dispersion)
			}
		}
	}
}

// About 93 % of incidents start on weekdays (outages.md §11.1): with ×1.3 on
// weekdays and ×0.25 on weekends the expected weekend share over whole
// weeks is 2·0.25/(5·1.3+2·0.25) = 0.5/7 ≈ 0.0714.
func TestIncidentsFollowTimeOfWeek(t *testing.T) {
	t.Parallel()
	m := DefaultProviderIncidents()["anthropic"]
	weekend, total := 0, 0
	for _, incs := range sampleMany(m, 4000, 28*24) { // four whole weeks
		for _, in := range incs {
			total++
			if int(math.Mod(in.Start, 168)/24) >= 5 {
				weekend++
			}
		}
	}
	share := float64(weekend) / float64(total)
	se := math.Sqrt(0.0714 * (1 - 0.0714) / float64(total))
	if math.Abs(share-0.5/7) > 4*se+0.005 { // clustering widens the spread a little
		t.Errorf("weekend share %.4f of %d incidents, want %.4f", share, total, 0.5/7)
	}
}

func TestSampledIncidentsAreWellFormed(t *testing.T) {
	t.Parallel()
	m := DefaultProviderIncidents()["aws-bedrock"]
	classCount := make([]int, len(m.Classes))
	n := 0
	var durations []float64
	for _, incs := range sampleMany(m, 20000, 30*24) {
		for _, in := range incs {
			if in.Start < 0 || in.Start >= 30*24 || in.End <= in.Start || in.End-in.Start > m.MaxHours ||
				in.PeakEnd < in.Start || in.PeakEnd > in.End || in.Pick < 0 || in.Pick >= 1 {
				t.Fatalf("malformed incident %+v", in)
			}
			classCount[in.Class]++
			durations = append(durations, in.End-in.Start)
			n++
		}
	}
	for i, c := range m.Classes {
		got := float64(classCount[i]) / float64(n)
		if se := math.Sqrt(c.Share * (1 - c.Share) / float64(n)); math.Abs(got-c.Share) > 4*se {
			t.Errorf("class %s share %.4f, want %.4f", c.Name, got, c.Share)
		}
	}
	mean, sd := stat.MeanStdDev(durations, nil)
	if want := m.MeanDuration(); math.Abs(mean-want) > 4*sd/math.Sqrt(float64(len(durations))) {
		t.Errorf("mean duration %.3f h, want %.3f h", mean, want)
	}
}

func TestFixedErrorRateReplacesClasses(t *testing.T) {
	t.Parallel()
	m := DefaultProviderIncidents()["openai"]
	one := 1.0
	m.FixedErrorRate = &one
	for _, incs := range sampleMany(m, 200, 30*24) {
		for _, in := range incs {
			if in.Class != -1 || in.PeakErrorRate != 1 || in.TailErrorRate != 1 || in.PeakEnd != in.End || in.StatusWeight != 1 {
				t.Fatalf("fixed-rate incident %+v", in)
			}
		}
	}
	if m.MeanErrorRate() != 1 {
		t.Errorf("MeanErrorRate = %v", m.MeanErrorRate())
	}
}

func TestSamplingIsReproducible(t *testing.T) {
	t.Parallel()
	m := DefaultProviderIncidents()["openai"]
	a := m.Sample(rand.New(rand.NewPCG(1, 2)), 720)
	b := m.Sample(rand.New(rand.NewPCG(1, 2)), 720)
	if len(a) != len(b) {
		t.Fatalf("same seed, %d vs %d incidents", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, incident %d differs", i)
		}
	}
}

func TestOperationalTimeRoundTrips(t *testing.T) {
	t.Parallel()
	for _, h := range []float64{0, 1, 119.5, 120, 130, 167.9, 168, 500, 719.99} {
		if got := clockHours(operationalHours(h)); !scalar.EqualWithinAbs(got, h, 1e-9) {
			t.Errorf("clockHours(operationalHours(%v)) = %v", h, got)
		}
	}
	if got := operationalHours(168); got != 168 {
		t.Errorf("a week of operational time = %v, want 168", got)
	}
}

func TestIncidentModelValidateRejectsBadOverrides(t *testing.T) {
	t.Parallel()
	base := DefaultProviderIncidents()["openai"]
	nan := math.NaN()
	two := 2.0
	cases := map[string]func(*IncidentModel){
		"negative rate":       func(m *IncidentModel) { m.PerMonth = -1 },
		"NaN sigma":           func(m *IncidentModel) { m.DurationSigma = nan },
		"median above cap":    func(m *IncidentModel) { m.DurationMu = math.Log(500); m.DurationSigma = 0.1 },
		"shape out of range":  func(m *IncidentModel) { m.WeibullShape = 0 },
		"error rate above 1":  func(m *IncidentModel) { m.FixedErrorRate = &two },
		"class shares":        func(m *IncidentModel) { m.Classes = m.Classes[:2] },
		"background above 1":  func(m *IncidentModel) { m.BackgroundErrorRate = 1.5 },
		"absurd rate per day": func(m *IncidentModel) { m.PerMonth = 1e6 },
	}
	for name, mutate := range cases {
		m := base
		m.Classes = append([]SeverityClass(nil), base.Classes...)
		mutate(&m)
		if m.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	off := base
	off.PerMonth = 0
	if err := off.Validate(); err != nil || len(off.Sample(rand.New(rand.NewPCG(1, 1)), 720)) != 0 {
		t.Errorf("a rate of 0 must turn the source off (err %v)", err)
	}
}

func BenchmarkSampleIncidents(b *testing.B) {
	m := DefaultProviderIncidents()["anthropic"]
	r := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		m.Sample(r, 720)
	}
}
