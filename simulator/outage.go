package simulator

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// HoursPerMonth is the mean month (365.25 days / 12), the unit incident
// rates are published in.
const HoursPerMonth = 365.25 * 24 / 12

// Arrival is how incident start times are spread.
type Arrival int

const (
	// Weibull renewal with shape below 1 clusters incidents into bad weeks,
	// as the published inter-arrival times do (coefficient of variation
	// 1.3–1.9; outages.md §11.1).
	Weibull Arrival = iota
	// Poisson spreads incidents independently; it under-produces bad weeks.
	Poisson
)

// SeverityClass is one status-page impact class: how often incidents are of
// this class, what share of requests fail during the peak, and how a status
// page counts that time.
type SeverityClass struct {
	Name              string
	Share             float64 // probability an incident is of this class
	PeakErrorRate     float64 // share of requests failing during the peak window
	StatusWeight      float64 // status-page downtime weight of the peak (partial 0.3, major 1)
	LatencyMultiplier float64 // latency factor during the peak; 1 for none
}

// IncidentModel is how one source of failure (a provider, a provider region,
// a SaaS gateway, a cloud platform) fails: how often, for how long, and how
// badly. Every default names its source in Source.
type IncidentModel struct {
	PerMonth     float64 // mean incidents per month; 0 turns the source off
	Arrival      Arrival
	WeibullShape float64 // k of the Weibull renewal; ignored for Poisson

	DurationMu    float64 // lognormal μ of the duration in hours
	DurationSigma float64 // lognormal σ
	MaxHours      float64 // durations are truncated here (resampled above it)

	Classes       []SeverityClass
	PeakFraction  float64 // share of the duration at the class's peak error rate
	TailErrorRate float64 // error rate for the rest of the duration

	// FixedErrorRate, when set, replaces the classes: every incident fails
	// this share of requests for its whole duration (outage_model's
	// incident_error_rate).
	FixedErrorRate *float64

	ModelScopedShare    float64 // share of incidents that hit one model, not the whole provider
	RegionalShare       float64 // share of incidents confined to one region
	BackgroundErrorRate float64 // transient 5xx share outside incidents

	Source string
}

// Validate reports parameters the sampler cannot use, so a bad override is a
// message and never a panic or an endless loop.
func (m IncidentModel) Validate() error {
	finite := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
		return true
	}
	switch {
	case !finite(m.PerMonth, m.WeibullShape, m.DurationMu, m.DurationSigma, m.MaxHours, m.PeakFraction, m.TailErrorRate,
		m.ModelScopedShare, m.RegionalShare, m.BackgroundErrorRate):
		return fmt.Errorf("parameters must be finite numbers")
	case m.PerMonth < 0 || m.PerMonth > 1000:
		return fmt.Errorf("incidents per month must be between 0 and 1000, not %g", m.PerMonth)
	case m.Arrival == Weibull && (m.WeibullShape < 0.2 || m.WeibullShape > 5):
		return fmt.Errorf("Weibull shape must be between 0.2 and 5, not %g", m.WeibullShape)
	case m.DurationSigma < 0 || m.DurationSigma > 4:
		return fmt.Errorf("duration sigma must be between 0 and 4, not %g", m.DurationSigma)
	case m.DurationMu < math.Log(1.0/3600) || m.DurationMu > math.Log(24*30):
		return fmt.Errorf("median duration must be between one second and 30 days")
	case m.MaxHours <= 0 || m.MaxHours > 24*30:
		return fmt.Errorf("maximum duration must be between 0 and 720 hours, not %g", m.MaxHours)
	case m.PeakFraction < 0 || m.PeakFraction > 1, m.TailErrorRate < 0 || m.TailErrorRate > 1,
		m.ModelScopedShare < 0 || m.ModelScopedShare > 1, m.RegionalShare < 0 || m.RegionalShare > 1,
		m.BackgroundErrorRate < 0 || m.BackgroundErrorRate > 1:
		return fmt.Errorf("shares and rates must be between 0 and 1")
	case m.FixedErrorRate != nil && (!finite(*m.FixedErrorRate) || *m.FixedErrorRate < 0 || *m.FixedErrorRate > 1):
		return fmt.Errorf("incident error rate must be between 0 and 1")
	}
	// A median far above the cap would make truncation resample for ever.
	if m.DurationSigma > 0 {
		if p := distuv.UnitNormal.CDF((math.Log(m.MaxHours) - m.DurationMu) / m.DurationSigma); p < 0.01 {
			return fmt.Errorf("durations almost never fall under the %g h cap; lower the median", m.MaxHours)
		}
	} else if math.Exp(m.DurationMu) > m.MaxHours {
		return fmt.Errorf("the median duration is above the %g h cap", m.MaxHours)
	}
	if m.FixedErrorRate == nil && m.PerMonth > 0 {
		sum := 0.0
		for _, c := range m.Classes {
			if !finite(c.Share, c.PeakErrorRate, c.StatusWeight, c.LatencyMultiplier) || c.Share < 0 || c.PeakErrorRate < 0 || c.PeakErrorRate > 1 ||
				c.StatusWeight < 0 || c.StatusWeight > 1 || c.LatencyMultiplier < 1 || c.LatencyMultiplier > 100 {
				return fmt.Errorf("severity class %q has values out of range", c.Name)
			}
			sum += c.Share
		}
		if math.Abs(sum-1) > 1e-9 {
			return fmt.Errorf("severity class shares add up to %g, not 1", sum)
		}
	}
	return nil
}

// MeanDuration is E[D] of the lognormal truncated at MaxHours:
// exp(μ+σ²/2)·Φ((ln T−μ−σ²)/σ) / Φ((ln T−μ)/σ).
func (m IncidentModel) MeanDuration() float64 {
	if m.DurationSigma == 0 {
		return math.Min(math.Exp(m.DurationMu), m.MaxHours)
	}
	lt := math.Log(m.MaxHours)
	s := m.DurationSigma
	return math.Exp(m.DurationMu+s*s/2) *
		distuv.UnitNormal.CDF((lt-m.DurationMu-s*s)/s) / distuv.UnitNormal.CDF((lt-m.DurationMu)/s)
}

// MeanErrorRate is the time-averaged share of requests an incident fails:
// the fixed rate, or the class-weighted peak over PeakFraction plus the tail.
func (m IncidentModel) MeanErrorRate() float64 {
	if m.FixedErrorRate != nil {
		return *m.FixedErrorRate
	}
	peak := 0.0
	for _, c := range m.Classes {
		peak += c.Share * c.PeakErrorRate
	}
	return m.PeakFraction*peak + (1-m.PeakFraction)*m.TailErrorRate
}

// Incident is one sampled failure, in hours from the start of the horizon.
// During [Start, PeakEnd) requests in scope fail at PeakErrorRate, during
// [PeakEnd, End) at TailErrorRate.
type Incident struct {
	Start, PeakEnd, End float64
	Class               int // index into the model's classes; -1 with a fixed rate
	PeakErrorRate       float64
	TailErrorRate       float64
	StatusWeight        float64
	LatencyMultiplier   float64
	ModelScoped         bool
	Regional            bool
	// Pick is a uniform draw the engine turns into which model or region is
	// hit, so every gateway sees the same choice (common random numbers).
	Pick float64
}

// weekModulation is the incident rate by time of week relative to the mean:
// weekdays ×1.3 and weekends ×0.25, which averages to 1 over a week and puts
// about 93 % of incidents on weekdays (outages.md §11.1). The horizon starts
// on a Monday at 00:00 UTC.
func weekModulation(hour float64) float64 {
	day := int(math.Mod(hour, 168) / 24)
	if day >= 5 {
		return 0.25
	}
	return 1.3
}

// operationalHours maps clock hours to operational time, the integral of the
// modulation, and back: a stationary renewal process in operational time is
// the modulated one in clock time.
func operationalHours(clock float64) float64 {
	weeks := math.Floor(clock / 168)
	rest := clock - weeks*168
	op := weeks * 168
	weekday := math.Min(rest, 120)
	op += weekday * 1.3
	if rest > 120 {
		op += (rest - 120) * 0.25
	}
	return op
}

func clockHours(op float64) float64 {
	weeks := math.Floor(op / 168)
	rest := op - weeks*168
	clock := weeks * 168
	if rest <= 120*1.3 {
		return clock + rest/1.3
	}
	return clock + 120 + (rest-120*1.3)/0.25
}

// Sample draws the incidents that start within [0, horizon) hours.
// Weibull renewals start a burn-in before the horizon, so the first
// incident is not artificially late.
func (m IncidentModel) Sample(r *rand.Rand, horizon float64) []Incident {
	return m.sampleInto(nil, r, horizon)
}

// sampleInto is Sample appending to out, so a worker can reuse one buffer
// for every trial.
func (m IncidentModel) sampleInto(out []Incident, r *rand.Rand, horizon float64) []Incident {
	if m.PerMonth <= 0 || horizon <= 0 {
		return out
	}
	// The mean gap in operational hours, scaled so that the horizon holds
	// PerMonth × horizon / HoursPerMonth incidents on average whatever its
	// mix of weekdays: a 30-day window from a Monday has 22 weekdays, and
	// unscaled it would carry 2 % more incidents than a mean month.
	meanGap := HoursPerMonth / m.PerMonth * operationalHours(horizon) / horizon
	var next func() float64
	switch m.Arrival {
	case Poisson:
		next = func() float64 { return r.ExpFloat64() * meanGap }
	default:
		// Weibull with mean meanGap: scale = mean / Γ(1+1/k).
		k := m.WeibullShape
		scale := meanGap / math.Gamma(1+1/k)
		// E^(1/k) for E exponential, as exp(ln E / k): the hot part of
		// sampling a month's incidents.
		invK := 1 / k
		next = func() float64 { return scale * math.Exp(math.Log(r.ExpFloat64())*invK) }
	}
	endOp := operationalHours(horizon)
	t := 0.0
	if m.Arrival != Poisson {
		t = -10 * meanGap
	}
	for {
		t += next()
		if t >= endOp {
			return out
		}
		if t < 0 {
			continue
		}
		out = append(out, m.incidentAt(r, clockHours(t)))
	}
}

func (m IncidentModel) incidentAt(r *rand.Rand, start float64) Incident {
	d := m.sampleDuration(r)
	inc := Incident{Start: start, End: start + d, Class: -1, LatencyMultiplier: 1}
	if m.FixedErrorRate != nil {
		inc.PeakEnd = inc.End
		inc.PeakErrorRate, inc.TailErrorRate = *m.FixedErrorRate, *m.FixedErrorRate
		inc.StatusWeight = statusWeightFor(*m.FixedErrorRate)
	} else {
		u := r.Float64()
		inc.Class = len(m.Classes) - 1
		for i, c := range m.Classes {
			if u < c.Share {
				inc.Class = i
				break
			}
			u -= c.Share
		}
		c := m.Classes[inc.Class]
		inc.PeakEnd = start + m.PeakFraction*d
		inc.PeakErrorRate, inc.TailErrorRate = c.PeakErrorRate, m.TailErrorRate
		inc.StatusWeight, inc.LatencyMultiplier = c.StatusWeight, c.LatencyMultiplier
	}
	inc.ModelScoped = r.Float64() < m.ModelScopedShare
	inc.Regional = r.Float64() < m.RegionalShare
	inc.Pick = r.Float64()
	return inc
}

// statusWeightFor words a fixed error rate as a status page would: most
// requests failing is a major outage, some a partial one, few degraded.
func statusWeightFor(rate float64) float64 {
	switch {
	case rate >= 0.5:
		return 1
	case rate >= 0.2:
		return 0.3
	}
	return 0
}

func (m IncidentModel) sampleDuration(r *rand.Rand) float64 {
	for {
		d := math.Exp(m.DurationMu + m.DurationSigma*r.NormFloat64())
		if d <= m.MaxHours {
			return d
		}
	}
}
