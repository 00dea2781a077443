package traffic

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrorClass is why a request failed, as far as a gateway's behaviour cares:
// a 429 is retried elsewhere, a 5xx or timeout means the path is unhealthy.
type ErrorClass uint8

// The error classes, in the order of Cell.Errors.
const (
	ErrRateLimit ErrorClass = iota // HTTP 429, "rate limit" errors
	ErrServer                      // 5xx other than gateway timeouts, "overloaded"
	ErrTimeout                     // 408, 504, 524, "timeout"
	ErrOther                       // everything else that failed
	NumErrorClasses
)

var errorClassNames = [NumErrorClasses]string{"rate_limit_429", "server_5xx", "timeout", "other"}

func (c ErrorClass) String() string {
	if c < NumErrorClasses {
		return errorClassNames[c]
	}
	return fmt.Sprintf("error_class(%d)", c)
}

// Demand is what a group of requests asks of the providers.
type Demand struct {
	Requests    int64
	Input       int64 // prompt tokens, cached ones included
	CachedInput int64 // of Input, those read from the provider's cache
	Output      int64
	Errors      [NumErrorClasses]int64
}

func (d *Demand) add(o *Demand) {
	d.Requests += o.Requests
	d.Input += o.Input
	d.CachedInput += o.CachedInput
	d.Output += o.Output
	for i := range d.Errors {
		d.Errors[i] += o.Errors[i]
	}
}

// Failed is the number of requests that ended in an error of any class.
func (d Demand) Failed() int64 {
	var n int64
	for _, e := range d.Errors {
		n += e
	}
	return n
}

// Cell is the demand of one time bin, route and origin. Latency is kept per
// bin as a sum and count (so the simulator can see slow periods) and as a
// full histogram per route and origin only: a 40-bucket histogram in every
// cell of a month of one-minute bins would cost hundreds of megabytes.
type Cell struct {
	Bin       int32 // index from Profile.Start in Profile.BinWidth steps
	Route     uint16
	Origin    uint16
	Demand    Demand
	LatencyMs float64 // sum over the requests with a latency
	Latencies int64   // how many requests had one
}

// Profile is a traffic profile: demand per time bin × route × origin, stored
// sparsely as the non-empty cells sorted by (Bin, Route, Origin).
type Profile struct {
	BinWidth time.Duration
	Start    time.Time // start of bin 0, a multiple of BinWidth since the Unix epoch
	Bins     int       // bins from Start to the last one with traffic, inclusive
	Routes   []string
	Origins  []string
	Cells    []Cell
	// Latency holds one histogram per route × origin, at
	// [route*len(Origins)+origin]; nil when the log had no latencies.
	Latency []Histogram
	Total   Demand
}

// BinOf returns the bin holding t; it may be outside [0, Bins).
func (p *Profile) BinOf(t time.Time) int {
	return int(math.Floor(float64(t.Sub(p.Start)) / float64(p.BinWidth)))
}

// End is the end of the last bin.
func (p *Profile) End() time.Time { return p.Start.Add(time.Duration(p.Bins) * p.BinWidth) }

// RequestsPerDay is the mean daily volume over the profile's span.
func (p *Profile) RequestsPerDay() float64 {
	span := time.Duration(p.Bins) * p.BinWidth
	if span <= 0 {
		return 0
	}
	return float64(p.Total.Requests) / span.Hours() * 24
}

// Prefix is cumulative demand per route × origin over bins, so the demand of
// any time range is two lookups: what the simulator needs to evaluate a
// period between incident boundaries in closed form.
type Prefix struct {
	bins, origins int
	// sums[(route*origins+origin)*(bins+1)+b] is the demand of bins [0, b).
	sums []Demand
}

// Prefix builds the cumulative sums. Its size is routes × origins × bins
// demands, so callers build it once per profile.
func (p *Profile) Prefix() *Prefix {
	n := len(p.Routes) * len(p.Origins)
	x := &Prefix{bins: p.Bins, origins: len(p.Origins), sums: make([]Demand, n*(p.Bins+1))}
	for _, c := range p.Cells {
		base := (int(c.Route)*x.origins + int(c.Origin)) * (p.Bins + 1)
		x.sums[base+int(c.Bin)+1].add(&c.Demand)
	}
	for s := range n {
		row := x.sums[s*(p.Bins+1) : (s+1)*(p.Bins+1)]
		for b := 1; b < len(row); b++ {
			row[b].add(&row[b-1])
		}
	}
	return x
}

// Range is the demand of route and origin over bins [from, to); bins outside
// the profile count as empty.
func (x *Prefix) Range(route, origin, from, to int) Demand {
	from, to = max(from, 0), min(to, x.bins)
	if from >= to || route < 0 || origin < 0 || origin >= x.origins {
		return Demand{}
	}
	base := (route*x.origins + origin) * (x.bins + 1)
	if base+to >= len(x.sums) {
		return Demand{}
	}
	a, b := x.sums[base+from], x.sums[base+to]
	d := Demand{Requests: b.Requests - a.Requests, Input: b.Input - a.Input,
		CachedInput: b.CachedInput - a.CachedInput, Output: b.Output - a.Output}
	for i := range d.Errors {
		d.Errors[i] = b.Errors[i] - a.Errors[i]
	}
	return d
}

// Histogram counts latencies in fixed log-spaced buckets, so histograms built
// by different workers merge exactly by adding counts. Bucket 0 holds
// latencies under 1 ms; bucket i (1 ≤ i < HistBuckets-1) holds
// [10^((i-1)/10), 10^(i/10)) ms, ten buckets per decade (±12% resolution);
// the last bucket holds everything from 10^6.1 ms (about 21 minutes) up.
type Histogram [HistBuckets]int64

// HistBuckets is the number of latency buckets.
const HistBuckets = 63

// histEdges are the bucket lower bounds in ms (bucket i starts at histEdges[i-1]).
var histEdges = func() [HistBuckets - 1]float64 {
	var e [HistBuckets - 1]float64
	for i := range e {
		e[i] = math.Pow(10, float64(i)/10)
	}
	return e
}()

func histBucket(ms float64) int {
	i, _ := slices.BinarySearch(histEdges[:], ms)
	if i < len(histEdges) && histEdges[i] == ms {
		i++
	}
	return i
}

// Quantile returns an estimate of the q-quantile in ms: the geometric middle
// of the bucket that holds it. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) float64 {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen int64
	for i, c := range h {
		seen += c
		if seen >= rank {
			switch i {
			case 0:
				return 0.5
			case HistBuckets - 1:
				return histEdges[HistBuckets-2]
			}
			return math.Sqrt(histEdges[i-1] * histEdges[i])
		}
	}
	return histEdges[HistBuckets-2]
}

// Count is the number of latencies recorded.
func (h *Histogram) Count() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}
