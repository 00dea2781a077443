package traffic

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// A team's traffic often comes in several files: a deployment's LiteLLM
// SpendLogs and ErrorLogs, or one export per day. Merge adds their profiles
// on one clock, so that a run replays them as one log; Within and Without
// let the caller count and drop what two files have in the same span.

// Merge adds profiles into one: bins line up by time (every profile's
// Start is a multiple of its bin width since the Unix epoch, so two
// profiles with the same width share one clock), routes and origins are
// matched by name, and each cell's requests, tokens, errors and latency
// sums are added. Routes and origins keep the order in which they first
// appear. Empty profiles add their names and nothing else. The profiles
// must share a bin width.
func Merge(ps ...*Profile) (*Profile, error) {
	var width time.Duration
	for _, p := range ps {
		if p == nil {
			continue
		}
		if p.BinWidth <= 0 {
			return nil, errors.New("merge: a profile has no bin width")
		}
		if width == 0 {
			width = p.BinWidth
		}
		if p.BinWidth != width {
			return nil, fmt.Errorf("merge: profiles have different bins (%v and %v); read the logs with one bin width", width, p.BinWidth)
		}
		if len(p.Cells) > 0 && p.Start.UnixNano()%int64(width) != 0 {
			return nil, fmt.Errorf("merge: a profile starts at %v, not on a %v bin", p.Start, width)
		}
	}
	if width == 0 {
		return nil, errors.New("merge: no profile to merge")
	}
	out := &Profile{BinWidth: width}
	routeIx, originIx := map[string]int{}, map[string]int{}
	add := func(names *[]string, ix map[string]int, n string) int {
		if i, ok := ix[n]; ok {
			return i
		}
		ix[n] = len(*names)
		*names = append(*names, n)
		return ix[n]
	}
	first, last := int64(math.MaxInt64), int64(math.MinInt64) // absolute bins
	hasLatency := false
	for _, p := range ps {
		if p == nil {
			continue
		}
		for _, n := range p.Routes {
			add(&out.Routes, routeIx, n)
		}
		for _, n := range p.Origins {
			add(&out.Origins, originIx, n)
		}
		if len(p.Cells) > 0 {
			b := p.Start.UnixNano() / int64(width)
			first, last = min(first, b), max(last, b+int64(p.Bins)-1)
		}
		hasLatency = hasLatency || p.Latency != nil
	}
	if len(out.Routes) >= math.MaxUint16 || len(out.Origins) >= math.MaxUint16 {
		return nil, fmt.Errorf("merge: %d routes and %d origins are more than a profile holds", len(out.Routes), len(out.Origins))
	}
	if first <= last {
		if last-first >= math.MaxInt32 {
			return nil, fmt.Errorf("merge: the profiles span %d bins of %v, more than a profile holds", last-first+1, width)
		}
		out.Start = time.Unix(0, first*int64(width)).UTC()
		out.Bins = int(last - first + 1)
	}
	if hasLatency {
		out.Latency = make([]Histogram, len(out.Routes)*len(out.Origins))
	}
	type key struct {
		bin           int32
		route, origin uint16
	}
	at := map[key]int{}
	for _, p := range ps {
		if p == nil {
			continue
		}
		rmap, omap := remap(p.Routes, routeIx), remap(p.Origins, originIx)
		shift := int32(0)
		if len(p.Cells) > 0 {
			shift = int32(p.Start.UnixNano()/int64(width) - first)
		}
		for _, c := range p.Cells {
			if int(c.Route) >= len(rmap) || int(c.Origin) >= len(omap) {
				return nil, fmt.Errorf("merge: a cell names route %d and origin %d of a profile with %d and %d", c.Route, c.Origin, len(rmap), len(omap))
			}
			k := key{bin: c.Bin + shift, route: rmap[c.Route], origin: omap[c.Origin]}
			i, ok := at[k]
			if !ok {
				i = len(out.Cells)
				at[k] = i
				out.Cells = append(out.Cells, Cell{Bin: k.bin, Route: k.route, Origin: k.origin})
			}
			o := &out.Cells[i]
			o.Demand.add(&c.Demand)
			o.LatencyMs += c.LatencyMs
			o.Latencies += c.Latencies
		}
		for i, h := range p.Latency {
			if len(p.Origins) == 0 {
				break
			}
			r, g := i/len(p.Origins), i%len(p.Origins)
			if r >= len(rmap) {
				break
			}
			dst := &out.Latency[int(rmap[r])*len(out.Origins)+int(omap[g])]
			for b := range h {
				dst[b] += h[b]
			}
		}
	}
	sortCells(out.Cells)
	for i := range out.Cells {
		out.Total.add(&out.Cells[i].Demand)
	}
	return out, nil
}

// remap gives each of a profile's names its index in the merged names.
func remap(names []string, ix map[string]int) []uint16 {
	m := make([]uint16, len(names))
	for i, n := range names {
		m[i] = uint16(ix[n])
	}
	return m
}

func sortCells(cells []Cell) {
	slices.SortFunc(cells, func(a, b Cell) int {
		if a.Bin != b.Bin {
			return int(a.Bin - b.Bin)
		}
		if a.Route != b.Route {
			return int(a.Route) - int(b.Route)
		}
		return int(a.Origin) - int(b.Origin)
	})
}

// binSpan is the bins of p that hold any instant of [from, to], clipped to
// the profile; ok is false when none does.
func (p *Profile) binSpan(from, to time.Time) (lo, hi int32, ok bool) {
	if len(p.Cells) == 0 || to.Before(from) {
		return 0, 0, false
	}
	a, b := max(p.BinOf(from), 0), min(p.BinOf(to), p.Bins-1)
	if a > b {
		return 0, 0, false
	}
	return int32(a), int32(b), true
}

// Within is the demand of the bins that hold any instant of [from, to]:
// what a log has in a span it shares with another, to the bin.
func (p *Profile) Within(from, to time.Time) Demand {
	var d Demand
	lo, hi, ok := p.binSpan(from, to)
	if !ok {
		return d
	}
	for i := range p.Cells {
		if c := &p.Cells[i]; c.Bin >= lo && c.Bin <= hi {
			d.add(&c.Demand)
		}
	}
	return d
}

// Without returns a copy of p without the bins that hold any instant of
// [from, to], and the demand it left out. Start and Bins shrink to the
// bins that still have traffic. Latency histograms, kept per route and
// origin rather than per bin, stay as they are.
func (p *Profile) Without(from, to time.Time) (*Profile, Demand) {
	out := *p
	out.Cells = nil
	out.Total = Demand{}
	out.Latency = slices.Clone(p.Latency)
	var dropped Demand
	lo, hi, ok := p.binSpan(from, to)
	if !ok {
		out.Cells = slices.Clone(p.Cells)
		out.Total = p.Total
		return &out, dropped
	}
	for _, c := range p.Cells {
		if c.Bin >= lo && c.Bin <= hi {
			dropped.add(&c.Demand)
			continue
		}
		out.Cells = append(out.Cells, c)
		out.Total.add(&c.Demand)
	}
	if len(out.Cells) == 0 {
		out.Start, out.Bins = time.Time{}, 0
		return &out, dropped
	}
	shift := out.Cells[0].Bin
	for i := range out.Cells {
		out.Cells[i].Bin -= shift
	}
	out.Start = p.Start.Add(time.Duration(shift) * p.BinWidth)
	out.Bins = int(out.Cells[len(out.Cells)-1].Bin) + 1
	return &out, dropped
}
