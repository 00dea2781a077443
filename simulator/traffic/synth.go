package traffic

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"
)

// SyntheticRoute is one route of an architecture's traffic block.
type SyntheticRoute struct {
	Name             string
	Share            float64 // of requests; all routes add up to 1
	InputTokens      int64   // per request, cached ones included
	OutputTokens     int64
	CachedInputShare float64 // of input tokens, read from the provider's cache
}

// SyntheticParams is the shape of traffic when there is no log.
type SyntheticParams struct {
	RequestsPerDay float64
	// DiurnalAmplitude is 0 for flat traffic and 1 for nights near zero; the
	// rate follows 1 + A·cos(2π(h − peak)/24) around each origin's peak hour.
	DiurnalAmplitude float64
	// PeakHourUTC overrides the hour (UTC) each origin peaks; by default
	// 14:00 local time for the jurisdictions gatewise knows (us, eu, uk,
	// ap) and 14:00 UTC for others.
	PeakHourUTC map[string]float64
	// Weekly weighs Monday..Sunday; nil is flat. Normalised to mean 1.
	Weekly  []float64
	Origins map[string]float64 // origin → share; shares add up to 1
	Routes  []SyntheticRoute
	// HorizonDays is the length of the profile (1–366).
	HorizonDays int
	// BinWidth defaults to one minute.
	BinWidth time.Duration
	// Start defaults to Monday 2026-01-05 00:00 UTC, so that a profile does
	// not depend on the day it was made.
	Start time.Time
	// Burstiness is the variance of a per-bin rate multiplier with mean 1
	// (gamma distributed); 0 gives plain Poisson arrivals.
	Burstiness float64
}

// defaultPeak is 14:00 local time in UTC hours for common origins.
var defaultPeak = map[string]float64{"us": 19, "eu": 13, "uk": 14, "ap": 6}

func (p SyntheticParams) validate() (SyntheticParams, error) {
	var errs []error
	if !(p.RequestsPerDay > 0 && p.RequestsPerDay <= 1e10) {
		errs = append(errs, fmt.Errorf("requests per day %v: want (0, 1e10]", p.RequestsPerDay))
	}
	if !(p.DiurnalAmplitude >= 0 && p.DiurnalAmplitude <= 1) {
		errs = append(errs, fmt.Errorf("diurnal amplitude %v: want [0, 1]", p.DiurnalAmplitude))
	}
	if p.Weekly != nil {
		sum := 0.0
		for _, x := range p.Weekly {
			if !(x >= 0 && x <= 1e6) {
				errs = append(errs, fmt.Errorf("weekly weight %v: want a non-negative number", x))
			}
			sum += x
		}
		if len(p.Weekly) != 7 || !(sum > 0) {
			errs = append(errs, errors.New("weekly shape: want 7 weights, Monday to Sunday, not all zero"))
		}
	}
	if len(p.Origins) == 0 || len(p.Origins) > maxOrigins {
		errs = append(errs, fmt.Errorf("origins: want 1 to %d", maxOrigins))
	}
	sum := 0.0
	for k, v := range p.Origins {
		if k == "" || !(v >= 0 && v <= 1) {
			errs = append(errs, fmt.Errorf("origin %q: share %v, want a name and a share in [0, 1]", k, v))
		}
		sum += v
	}
	if len(p.Origins) > 0 && math.Abs(sum-1) > 1e-6 {
		errs = append(errs, fmt.Errorf("origin shares add up to %v, want 1", sum))
	}
	for k, v := range p.PeakHourUTC {
		if !(v >= 0 && v < 24) {
			errs = append(errs, fmt.Errorf("peak hour of %q: %v, want [0, 24)", k, v))
		}
	}
	if len(p.Routes) == 0 || len(p.Routes) > maxRoutes {
		errs = append(errs, fmt.Errorf("routes: want 1 to %d", maxRoutes))
	}
	sum = 0
	seen := map[string]bool{}
	for i, r := range p.Routes {
		if r.Name == "" || seen[r.Name] {
			errs = append(errs, fmt.Errorf("routes[%d]: name %q is empty or repeats", i, r.Name))
		}
		seen[r.Name] = true
		if !(r.Share >= 0 && r.Share <= 1) {
			errs = append(errs, fmt.Errorf("routes[%d]: share %v, want [0, 1]", i, r.Share))
		}
		if r.InputTokens < 0 || r.InputTokens > maxTokens || r.OutputTokens < 0 || r.OutputTokens > maxTokens {
			errs = append(errs, fmt.Errorf("routes[%d]: tokens per request want 0 to %d", i, maxTokens))
		}
		if !(r.CachedInputShare >= 0 && r.CachedInputShare <= 1) {
			errs = append(errs, fmt.Errorf("routes[%d]: cached input share %v, want [0, 1]", i, r.CachedInputShare))
		}
		sum += r.Share
	}
	if len(p.Routes) > 0 && math.Abs(sum-1) > 1e-6 {
		errs = append(errs, fmt.Errorf("route shares add up to %v, want 1", sum))
	}
	if p.HorizonDays < 1 || p.HorizonDays > 366 {
		errs = append(errs, fmt.Errorf("horizon %d days: want 1 to 366", p.HorizonDays))
	}
	if p.BinWidth == 0 {
		p.BinWidth = DefaultBinWidth
	}
	if p.BinWidth < time.Second || p.BinWidth > 24*time.Hour || (24*time.Hour)%p.BinWidth != 0 {
		errs = append(errs, fmt.Errorf("bin width %v: want a divisor of a day between 1s and 24h", p.BinWidth))
	}
	if !(p.Burstiness >= 0 && p.Burstiness <= 10) {
		errs = append(errs, fmt.Errorf("burstiness %v: want [0, 10]", p.Burstiness))
	}
	if p.Start.IsZero() {
		p.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	p.Start = p.Start.UTC()
	if errs == nil {
		if p.Start.UnixNano()%int64(p.BinWidth) != 0 {
			errs = append(errs, fmt.Errorf("start %s is not on a %v boundary", p.Start.Format(time.RFC3339), p.BinWidth))
		}
		cells := float64(p.HorizonDays) * float64(24*time.Hour/p.BinWidth) * float64(len(p.Routes)*len(p.Origins))
		if cells > DefaultMaxCells {
			errs = append(errs, fmt.Errorf("%d days of %v bins × %d routes × %d origins is %.0f cells, more than %d: use wider bins",
				p.HorizonDays, p.BinWidth, len(p.Routes), len(p.Origins), cells, DefaultMaxCells))
		}
	}
	return p, errors.Join(errs...)
}

// Synthesize builds a profile from the traffic block: Poisson arrivals per
// bin × route × origin around a diurnal and weekly mean, optionally made
// bursty by a gamma-distributed multiplier per bin. Tokens are the route's
// per-request sizes times the requests.
//
// Each day draws from its own PCG stream (seed, day), so days are generated
// in parallel and the same seed gives the same profile whatever the number
// of cores.
func Synthesize(ctx context.Context, params SyntheticParams, seed uint64) (*Profile, error) {
	p, err := params.validate()
	if err != nil {
		return nil, err
	}
	origins := slices.Sorted(maps.Keys(p.Origins))
	peaks := make([]float64, len(origins))
	for i, o := range origins {
		peaks[i] = 14
		if h, ok := defaultPeak[o]; ok {
			peaks[i] = h
		}
		if h, ok := p.PeakHourUTC[o]; ok {
			peaks[i] = h
		}
	}
	weekly := make([]float64, 7)
	for i := range weekly {
		weekly[i] = 1
	}
	if p.Weekly != nil {
		sum := 0.0
		for _, x := range p.Weekly {
			sum += x
		}
		for i, x := range p.Weekly {
			weekly[i] = x * 7 / sum
		}
	}
	binsPerDay := int(24 * time.Hour / p.BinWidth)
	perBin := p.RequestsPerDay / float64(binsPerDay)

	days := make([][]Cell, p.HorizonDays)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), p.HorizonDays) {
		wg.Go(func() {
			for d := range next {
				if ctx.Err() != nil {
					continue
				}
				rng := rand.New(rand.NewPCG(seed, uint64(d)))
				day := p.Start.AddDate(0, 0, d)
				dow := (int(day.Weekday()) + 6) % 7 // Monday = 0
				cells := make([]Cell, 0, binsPerDay*len(origins)*len(p.Routes))
				for b := range binsPerDay {
					t := day.Add(time.Duration(b) * p.BinWidth)
					hour := float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600 +
						p.BinWidth.Hours()/2
					burst := 1.0
					if p.Burstiness > 0 {
						burst = gamma(rng, 1/p.Burstiness) * p.Burstiness
					}
					for oi, o := range origins {
						diurnal := 1 + p.DiurnalAmplitude*math.Cos(2*math.Pi*(hour-peaks[oi])/24)
						lo := perBin * weekly[dow] * burst * diurnal * p.Origins[o]
						for ri, r := range p.Routes {
							n := poisson(rng, lo*r.Share)
							if n == 0 {
								continue
							}
							in := n * r.InputTokens
							cells = append(cells, Cell{
								Bin: int32(d*binsPerDay + b), Route: uint16(ri), Origin: uint16(oi),
								Demand: Demand{Requests: n, Input: in,
									CachedInput: int64(math.Round(float64(in) * r.CachedInputShare)),
									Output:      n * r.OutputTokens},
							})
						}
					}
				}
				days[d] = cells
			}
		})
	}
	for d := range p.HorizonDays {
		if ctx.Err() != nil {
			break
		}
		next <- d
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prof := &Profile{BinWidth: p.BinWidth, Start: p.Start, Bins: p.HorizonDays * binsPerDay, Origins: origins}
	for _, r := range p.Routes {
		prof.Routes = append(prof.Routes, r.Name)
	}
	n := 0
	for _, d := range days {
		n += len(d)
	}
	prof.Cells = make([]Cell, 0, n)
	for _, d := range days {
		prof.Cells = append(prof.Cells, d...)
	}
	for i := range prof.Cells {
		prof.Total.add(&prof.Cells[i].Demand)
	}
	return prof, nil
}

// poisson draws a Poisson variate: by inversion for small means, else by
// Hörmann's transformed rejection (PTRS, "The transformed rejection method
// for generating Poisson random variables", 1993).
func poisson(rng *rand.Rand, lambda float64) int64 {
	if lambda <= 0 {
		return 0
	}
	if lambda < 10 {
		limit, prod := math.Exp(-lambda), rng.Float64()
		var k int64
		for prod > limit {
			prod *= rng.Float64()
			k++
		}
		return k
	}
	slam, loglam := math.Sqrt(lambda), math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return int64(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return int64(k)
		}
	}
}

// gamma draws a Gamma(shape, 1) variate (Marsaglia and Tsang, "A simple
// method for generating gamma variables", 2000; shape < 1 by boosting).
func gamma(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
