package simulator

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"gatewise/pricing"
	"gatewise/simulator/traffic"
)

// Options tune a run; zero values take the architecture's settings.
type Options struct {
	Trials    int
	Seed      uint64
	Scenarios []Scenario
	// Workers defaults to GOMAXPROCS. Results do not depend on it.
	Workers int
	// Progress is called with trials done and the total, at most about a
	// hundred times a run, from one goroutine at a time.
	Progress func(done, total int)
	// RetryCorrelation, when set, replaces the estimated share of a failed
	// attempt's retries that fail with it (0.5), for the memo's
	// sensitivity to that estimate.
	RetryCorrelation *float64
	// Log describes the request log the profile was read from, for the
	// result to name its input; nil when the traffic is synthetic.
	Log *LogSource
}

// logUses and logIgnores say which of a request log's figures a run takes
// from it and which it models instead, for every page that names the log.
func logUses() []string {
	return []string{
		"requests and their timing, minute by minute",
		"input, cached and output tokens of each route and region",
		"which route and region each request belongs to",
	}
}

func logIgnores() []string {
	return []string{
		"its errors: failures come from the incident model, so every option meets the same incidents",
		"its latencies: added latency comes from each gateway's measured overhead",
		"its models and logged cost: each route is priced at the catalog's prices for the architecture's model",
	}
}

// maxAttemptedPaths caps how many paths one request tries: the primary and
// five fallbacks, LiteLLM's ROUTER_MAX_FALLBACKS (gateways.md §4); no
// gateway documents a deeper chain.
const maxAttemptedPaths = 6

// scenarioStart is when a named scenario's incident begins: a Wednesday at
// 14:00 UTC, when US and EU traffic overlap, so the scenario meets real load.
const scenarioStart = 2*24 + 14

// KnownModel tells whether a model name from a log is one the catalog
// prices, trying the name as written and then without provider prefixes
// and dates (traffic.NormalizeModel).
func KnownModel(cat *pricing.Catalog) func(string) bool {
	return func(m string) bool {
		if _, ok := cat.Model(m); ok {
			return true
		}
		_, ok := cat.Model(traffic.NormalizeModel(m))
		return ok
	}
}

// SyntheticParams is the traffic shape of the architecture's traffic block,
// for traffic.Synthesize when no log is given.
func (s Spec) SyntheticParams() traffic.SyntheticParams {
	p := traffic.SyntheticParams{
		RequestsPerDay:   s.Traffic.RequestsPerDay,
		DiurnalAmplitude: s.Traffic.DiurnalAmplitude,
		Origins:          s.Traffic.Origin,
		HorizonDays:      s.HorizonDays,
		Start:            time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), // a Monday, as the outage model assumes
	}
	for _, r := range s.Routes {
		p.Routes = append(p.Routes, traffic.SyntheticRoute{
			Name: r.Name, Share: r.Share, InputTokens: int64(r.InputTokens), OutputTokens: int64(r.OutputTokens),
			CachedInputShare: r.CachedInputShare,
		})
	}
	return p
}

// flow is the demand of one route from one origin and how it is served.
type flow struct {
	route, origin int
	prefix        []float64 // cumulative requests by bin
	total         float64
	weight        float64 // share of all requests
	paths         []Path
	cost          []float64 // USD per request on each path
	bg            []float64 // background error share on each path
}

// option is one gateway as the run evaluates it: its facts (b), the plan it
// ships and the plan's rules as the attempt model reads them.
type option struct {
	b        Behaviour
	plan     Plan
	pol      policy
	cacheHit float64   // share of requests its cache answers
	reach    [][]int   // per flow: the plan's targets as indices into flow.paths, in order
	paths    [][]int32 // per flow: the run-wide index of each target
	rate     []float64 // per flow: requests a second of its route plan
	calm     []outcome
	excluded *string
	quote    pricing.GatewayQuote
}

// model is everything a trial needs, built once per run.
type model struct {
	spec     Spec
	cat      *pricing.Catalog
	obs      ObservabilityFacts
	horizon  float64 // hours of traffic in the profile
	binHours float64
	// traffic is the profile's span and how it filled the horizon, for
	// Result.Traffic.
	traffic TrafficSource
	flows   []flow
	options []option
	sources []source
	bg      map[string]float64 // background error share per provider
	scen    []scenarioPlan
	total   float64
	// pathAt is where each flow's paths start in a run-wide list, for
	// spend by provider and model.
	pathAt []int
	nPaths int
	// flowOf gives the flow of each run-wide path index.
	flowOf []int32
	// What incidents can hit (hitSets), by source; a scenario's incident
	// has a set of its own.
	hitSets []hitSet
	srcHits []int32
	lim     *limits // the rate limits, for throttling
}

// hitSet is what an incident hits: run-wide paths and a bit per option,
// and (touches, bit g·flows+i) each option and flow whose reached paths
// or gateway it hits.
type hitSet struct {
	paths   []int32
	gates   uint64
	touches []uint64
}

// touch tells whether the hit set touches option g's flow i.
func (h *hitSet) touch(g, i, flows int) bool {
	b := g*flows + i
	return h.touches[b/64]&(1<<(b%64)) != 0
}

// addHitSet tabulates what e hits and returns the set's index.
func (m *model) addHitSet(e event) int32 {
	h := m.hits(e)
	nF := len(m.flows)
	h.touches = make([]uint64, (len(m.options)*nF+63)/64)
	for g, o := range m.options {
		for i := range m.flows {
			touched := h.gates&(1<<g) != 0
			for _, p := range o.paths[i] {
				touched = touched || slices.Contains(h.paths, p)
			}
			if b := g*nF + i; touched {
				h.touches[b/64] |= 1 << (b % 64)
			}
		}
	}
	m.hitSets = append(m.hitSets, h)
	return int32(len(m.hitSets) - 1)
}

// resolve says which hit set an event has, from the tables built once per
// run; a scenario's incident (built once too) gets a set of its own.
func (m *model) resolve(e *event) {
	switch {
	case e.src < 0:
		e.hit = m.addHitSet(*e)
	default:
		e.hit = m.srcHits[e.src]
	}
}

// hits lists the run-wide paths and the options an event hits.
func (m *model) hits(e event) hitSet {
	var h hitSet
	for i, f := range m.flows {
		for k, p := range f.paths {
			if e.hitsPath(m.sources, p) {
				h.paths = append(h.paths, int32(m.pathAt[i]+k))
			}
		}
	}
	for g, o := range m.options {
		if e.hitsGateway(m.sources, o.b) {
			h.gates |= 1 << g
		}
	}
	return h
}

// buildHits tabulates what each source's incidents can hit.
func (m *model) buildHits() {
	for s, src := range m.sources {
		m.srcHits = append(m.srcHits, m.addHitSet(event{src: s, platform: src.platform, model: src.onlyModel}))
	}
}

// accum gathers what must add up exactly whatever the number of workers:
// waiting by latency bucket (thousandths of a request) and token spend by
// path (micro-dollars), as integers.
type accum struct {
	waits []int64
	cost  []int64
}

func (m *model) newAccums(n int) []accum {
	out := make([]accum, n)
	for i := range out {
		out[i] = accum{waits: make([]int64, latencyBuckets), cost: make([]int64, m.nPaths)}
	}
	return out
}

type scenarioPlan struct {
	sc     Scenario
	label  string // the scenario's name in results (ScenarioLabels)
	events []event
	// A demand surge multiplies requests by surge over [surgeFrom, surgeTo).
	surge              float64
	surgeFrom, surgeTo float64
	extra              []scenarioExtra // per option
}

// window is the time a scenario's incidents cover; outside it the scenario
// is the sampled month unchanged.
func (p scenarioPlan) window() (lo, hi float64, ok bool) {
	if len(p.events) == 0 {
		return 0, 0, false
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, ev := range p.events {
		lo, hi = math.Min(lo, ev.inc.Start), math.Max(hi, ev.inc.End)
	}
	return lo, hi, hi > lo
}

// providerMonth is one provider's status page over one trial's horizon.
type providerMonth struct {
	down      float64 // status-page-weighted hours
	incidents float64
}

// statusPages adds up what each provider's status page would show for a
// trial's sampled incidents: the peak in its class's weight (major 1,
// partial 0.3, degraded 0; the mitigated tail shows as degraded), an
// incident of one region for its share of the provider's regions.
func (m *model) statusPages(env []event, out []providerMonth) {
	clear(out)
	for _, e := range env {
		if e.src < 0 {
			continue
		}
		src := &m.sources[e.src]
		if src.kind != srcProvider && src.kind != srcRegion {
			continue
		}
		k := slices.IndexFunc(m.spec.Providers, func(p Provider) bool { return p.ID == src.provider })
		if k < 0 {
			continue
		}
		share := src.status
		if src.kind == srcRegion {
			share /= float64(len(slices.DeleteFunc(slices.Clone(m.spec.Providers[k].Regions), func(r string) bool { return r == globalRegion })))
		}
		peak := math.Min(e.inc.PeakEnd, m.horizon) - math.Min(e.inc.Start, m.horizon)
		out[k].down += share * e.inc.StatusWeight * peak
		out[k].incidents += src.status
	}
}

// providerStatus summarises the providers' status pages over the trials.
func (j *Job) providerStatus(t *tally) []ProviderStatus {
	m := j.m
	monthly := HoursPerMonth / m.horizon
	var out []ProviderStatus
	for k, p := range m.spec.Providers {
		pt := &t.Providers[k]
		out = append(out, ProviderStatus{Provider: p.ID, StatusPageUptime: pt.Down.distribution(1, -1/m.horizon), IncidentsPerMonth: pt.Incidents.distribution(0, monthly)})
	}
	return out
}

// tiling says how a profile fills the horizon. A profile that spans the
// horizon, or falls short of it by less than a day (a synthetic month whose
// last minutes are empty), is used as it is. A shorter log repeats over the
// horizon: whole weeks of it when it has a week, whole days when it has a
// day, else all of it. Scaling a short log to a month instead would
// multiply a named outage with it: a 4 h outage in a day's log would count
// as 30 a month. It returns the bins to evaluate and the bins that repeat.
func tiling(profileBins int, binHours float64, horizonDays int) (bins, period int) {
	want := float64(horizonDays) * 24
	span := float64(profileBins) * binHours
	if span >= want-24 {
		return profileBins, profileBins
	}
	period = profileBins
	for _, unit := range []float64{7 * 24, 24} {
		if span >= unit {
			period = int(math.Floor(span/unit)*unit/binHours + 1e-9)
			break
		}
	}
	return int(math.Ceil(want/binHours - 1e-9)), max(period, 1)
}

// shares is the traffic's share by what name gives each flow, in the
// order names first appear.
func (m *model) shares(name func(flow) string) []Share {
	var out []Share
	for _, f := range m.flows {
		n := name(f)
		i := slices.IndexFunc(out, func(s Share) bool { return s.Name == n })
		if i < 0 {
			i = len(out)
			out = append(out, Share{Name: n})
		}
		out[i].Share += f.total / m.total
	}
	return out
}

// hoursText is a span of time for people: "1 h", "36 h", "12 days".
func hoursText(h float64) string {
	if h >= 48 {
		return strconv.FormatFloat(math.Round(h/24*10)/10, 'f', -1, 64) + " days"
	}
	return strconv.FormatFloat(math.Round(h*10)/10, 'f', -1, 64) + " h"
}

// buildModel resolves paths, prices, behaviours, calm outcomes and the
// incident streams once, so trials only read them.
func buildModel(spec Spec, profile *traffic.Profile, cat *pricing.Catalog, scenarios []Scenario, rho float64) (*model, []string, error) {
	bs, err := DefaultBehaviours()
	if err != nil {
		return nil, nil, err
	}
	incidents := spec.IncidentModels()
	obs, err := DefaultObservability()
	if err != nil {
		return nil, nil, err
	}
	m := &model{
		obs:      obs,
		spec:     spec,
		cat:      cat,
		binHours: profile.BinWidth.Hours(),
		sources:  environmentSources(spec, incidents, cat),
		bg:       map[string]float64{},
	}
	m.horizon = float64(profile.Bins) * m.binHours
	for id, im := range incidents.Providers {
		m.bg[id] = im.BackgroundErrorRate
	}
	var notes []string
	bins, period := profile.Bins, profile.Bins
	m.traffic.SpanHours = float64(profile.Bins) * m.binHours
	if bins, period = tiling(profile.Bins, m.binHours, spec.HorizonDays); bins != profile.Bins {
		m.horizon = float64(bins) * m.binHours
		repeats, what := "it repeats", "all "+hoursText(m.traffic.SpanHours)
		if period != profile.Bins {
			repeats = "its first " + hoursText(float64(period)*m.binHours) + " repeat"
			what = "its first " + hoursText(float64(period)*m.binHours)
		}
		m.traffic.Filled = fmt.Sprintf("%s of it repeated %s times to fill the %d-day horizon",
			what, strconv.FormatFloat(math.Round(float64(bins)/float64(period)*10)/10, 'f', -1, 64), spec.HorizonDays)
		notes = append(notes, fmt.Sprintf("the traffic covers %s; %s to fill the %d-day horizon, so that a named outage counts once a month",
			hoursText(float64(profile.Bins)*m.binHours), repeats, spec.HorizonDays))
	}

	// Flows: demand per route and origin, with prefix sums of requests.
	routeOf := make([]int, len(profile.Routes))
	for i, name := range profile.Routes {
		routeOf[i] = slices.IndexFunc(spec.Routes, func(r Route) bool { return r.Name == name })
		if routeOf[i] < 0 {
			routeOf[i] = 0
			notes = append(notes, fmt.Sprintf("requests the log could not assign to a route (%q) are served as route %q", name, spec.Routes[0].Name))
		}
	}
	type key struct{ route, origin int }
	index := map[key]int{}
	type tokens struct{ in, cached, out, n float64 }
	var toks []tokens
	for _, c := range profile.Cells {
		k := key{routeOf[c.Route], int(c.Origin)}
		i, ok := index[k]
		if !ok {
			i = len(m.flows)
			index[k] = i
			m.flows = append(m.flows, flow{route: k.route, origin: k.origin, prefix: make([]float64, bins+1)})
			toks = append(toks, tokens{})
		}
		for b := int(c.Bin); b < bins && int(c.Bin) < period; b += period {
			m.flows[i].prefix[b+1] += float64(c.Demand.Requests)
		}
		toks[i].in += float64(c.Demand.Input)
		toks[i].cached += float64(c.Demand.CachedInput)
		toks[i].out += float64(c.Demand.Output)
		toks[i].n += float64(c.Demand.Requests)
	}
	slices.SortFunc(m.flows, func(a, b flow) int { return (a.route*1000 + a.origin) - (b.route*1000 + b.origin) })
	rates := cat.RateTable()
	var meanTokens []float64
	for i := range m.flows {
		f := &m.flows[i]
		for b := 1; b < len(f.prefix); b++ {
			f.prefix[b] += f.prefix[b-1]
		}
		f.total = f.prefix[len(f.prefix)-1]
		m.total += f.total
		t := toks[index[key{f.route, f.origin}]]
		u := pricing.Usage{}
		if t.n > 0 {
			u = pricing.Usage{Input: t.in / t.n, CachedInput: t.cached / t.n, Output: t.out / t.n}
		}
		meanTokens = append(meanTokens, u.Input+u.Output)
		origin := profile.Origins[f.origin]
		f.paths = spec.RoutePaths(cat, f.route, origin)
		for _, p := range f.paths {
			f.cost = append(f.cost, rates.Rates(p.Rate).Cost(u))
			f.bg = append(f.bg, canon(m.bg[p.Provider]))
		}
		if len(f.paths) == 0 {
			notes = append(notes, fmt.Sprintf("route %q has no allowed path for traffic from %q: those requests fail under every option", spec.Routes[f.route].Name, origin))
		}
	}
	m.traffic.Routes, m.traffic.Origins = m.shares(func(f flow) string { return spec.Routes[f.route].Name }),
		m.shares(func(f flow) string { return profile.Origins[f.origin] })
	for i := range m.flows {
		m.flows[i].weight = m.flows[i].total / m.total
		m.pathAt = append(m.pathAt, m.nPaths)
		m.nPaths += len(m.flows[i].paths)
		for range m.flows[i].paths {
			m.flowOf = append(m.flowOf, int32(i))
		}
	}

	// Options: each compared gateway's plan, as it would ship.
	monthly := HoursPerMonth / m.horizon
	plans, err := spec.Plans(cat)
	if err != nil {
		return nil, nil, err
	}
	for gi, id := range spec.Gateways {
		b := spec.behaviour(bs, id)
		st := spec.GatewaySettings[id]
		if region := spec.HostingRegion(cat, id); region != "" {
			b.HostingRegion = region
			b.HostingPlatform, _ = cloudOfRegion(cat, region)
		}
		o := option{b: b, plan: plans[gi]}
		if o.pol, err = newPolicy(o.plan); err != nil {
			return nil, nil, err
		}
		o.pol.rho = rho
		if st.CacheHitRate != nil {
			o.cacheHit = *st.CacheHitRate
		}
		sc := new(attemptScratch)
		calmSpend := 0.0
		groupRate := m.groupRates(o.plan, profile.Origins)
		for i, f := range m.flows {
			var reach []int
			if rp, ok := o.plan.For(spec.Routes[f.route].Name, profile.Origins[f.origin]); ok {
				for _, t := range rp.Targets {
					k := slices.IndexFunc(f.paths, func(p Path) bool { return p.Model == t.Model && p.Provider == t.Provider && p.Region == t.Region })
					if k < 0 {
						return nil, nil, fmt.Errorf("simulate: %s's plan sends route %q to %s/%s in %s, which the route cannot use", id, rp.Route, t.Provider, t.Model, t.Region)
					}
					reach = append(reach, k)
				}
			}
			o.reach = append(o.reach, reach)
			o.rate = append(o.rate, groupRate[i])
			paths := make([]int32, len(reach))
			for j, k := range reach {
				paths[j] = int32(m.pathAt[i] + k)
			}
			o.paths = append(o.paths, paths)
			out := copied(evaluatePlan(&o.pol, sc, m.hops(f, reach, nil, groupRate[i]), o.cacheHit, 0))
			o.calm = append(o.calm, out)
			calmSpend += out.cost * f.total * monthly
		}
		o.excluded = hardConstraint(spec, b, cat)
		if o.excluded == nil {
			q, err := choosePlan(spec, cat, m.obs, id, gatewayNeed(spec, m.total*monthly, calmSpend))
			var none *pricing.NoPlanError
			switch {
			case errors.As(err, &none):
				reason := none.Error()
				o.excluded = &reason
			case err != nil:
				return nil, nil, err
			default:
				o.quote = q
			}
		}
		m.options = append(m.options, o)
	}

	if perMonth := HoursPerMonth / m.horizon; math.Abs(perMonth-1) > 0.05 && slices.ContainsFunc(scenarios, func(sc Scenario) bool { return sc.Name != "baseline" }) {
		// A named scenario is one incident in the simulated period, which
		// the monthly figures scale: say so when that is not about a month.
		notes = append(notes, fmt.Sprintf("a named scenario adds one incident to the simulated %s, so the monthly figures count it %.2f times a month", hoursText(m.horizon), perMonth))
	}
	labels := labelsWithin(spec.Scenarios, scenarios)
	for i, sc := range scenarios {
		sc = m.withDefaults(sc)
		plan, ok, note := m.scenarioEvents(sc)
		if note != "" {
			notes = append(notes, note)
		}
		if ok {
			sp := scenarioPlan{sc: sc, label: labels[i], events: plan, surge: 1}
			if sc.Name == "rate-limit-storm" {
				// Demand times the multiplier for the duration, from the
				// same Wednesday afternoon as the other scenarios.
				sp.surge = sc.Multiplier
				sp.surgeFrom = math.Min(scenarioStart, math.Max(m.horizon-sc.DurationHours, 0))
				sp.surgeTo = sp.surgeFrom + sc.DurationHours
			}
			m.scen = append(m.scen, sp)
		}
	}
	if len(m.scen) == 0 {
		return nil, nil, errors.New("simulate: none of the scenarios can be simulated yet")
	}
	m.buildHits()
	for s := range m.scen {
		for k := range m.scen[s].events {
			m.resolve(&m.scen[s].events[k])
		}
	}
	m.lim = m.newLimits(m.buildLimits(meanTokens))
	sc := new(attemptScratch)
	for s := range m.scen {
		sp := &m.scen[s]
		sp.extra = make([]scenarioExtra, len(m.options))
		if len(m.lim.groups) == 0 && sp.surge == 1 {
			continue
		}
		scale := func(bin int) float64 {
			if t := (float64(bin) + 0.5) * m.binHours; t >= sp.surgeFrom && t < sp.surgeTo {
				return sp.surge
			}
			return 1
		}
		calm := func(int) *outageState { return nil }
		lo, hi, outage := sp.window()
		for g := range m.options {
			if s == 0 || sp.surge != 1 || m.scen[0].surge != 1 || len(m.scen[0].events) > 0 {
				sp.extra[g] = m.throttling(g, scale, m.outageDuring(sp, g), 0, m.bins(), sc)
				continue
			}
			// At normal demand a scenario is the first one's throttling
			// outside its outage: only the outage's bins are worked again.
			sp.extra[g] = m.scen[0].extra[g].clone()
			if outage {
				from, to := max(int(lo/m.binHours), 0), min(int(math.Ceil(hi/m.binHours)), m.bins())
				sp.extra[g].plus(m.throttling(g, scale, calm, from, to, sc), -1)
				sp.extra[g].plus(m.throttling(g, scale, m.outageDuring(sp, g), from, to, sc), 1)
			}
		}
	}
	return m, notes, nil
}

// outageDuring gives, bin by bin, what a scenario's own incidents do to
// option g's flows (nil outside them), for throttling: failure and refused
// shares on the paths they hit, over each flow's background.
func (m *model) outageDuring(sp *scenarioPlan, g int) func(bin int) *outageState {
	if len(sp.events) == 0 {
		return func(int) *outageState { return nil }
	}
	states := map[int]*outageState{} // by the set of events active and their phase
	return func(bin int) *outageState {
		t := (float64(bin) + 0.5) * m.binHours
		var key uint64 = 14695981039346656037
		active := false
		for x, ev := range sp.events {
			if ev.inc.Start <= t && t < ev.inc.End && ev.slow <= 1 {
				active = true
				phase := uint64(1)
				if t >= ev.inc.PeakEnd {
					phase = 2
				}
				key ^= uint64(x+1)<<8 | phase
				key *= 1099511628211
			}
		}
		if !active {
			return nil
		}
		if st, ok := states[int(key%(1<<30))]; ok && st.key == key {
			return st
		}
		st := &outageState{fails: make([][]float64, len(m.flows)), downs: make([][]float64, len(m.flows)), key: key, outcomes: map[uint64]outcome{}}
		for i, f := range m.flows {
			survive, refuse := make([]float64, len(f.paths)), make([]float64, len(f.paths))
			for k := range survive {
				survive[k], refuse[k] = 1, 1
			}
			hit := false
			for _, ev := range sp.events {
				if !(ev.inc.Start <= t && t < ev.inc.End) || ev.slow > 1 {
					continue
				}
				hs := &m.hitSets[ev.hit]
				if hs.gates&(1<<g) != 0 {
					st.gateDown = true
				}
				rate := ev.rate(t)
				for _, p := range hs.paths {
					if int(m.flowOf[p]) != i {
						continue
					}
					k := int(p) - m.pathAt[i]
					survive[k] *= 1 - rate
					if ev.down || rate >= 1 {
						refuse[k] *= 1 - rate
					}
					hit = true
				}
			}
			if !hit {
				continue
			}
			st.fails[i], st.downs[i] = make([]float64, len(f.paths)), make([]float64, len(f.paths))
			for k := range survive {
				st.fails[i][k] = canon(1 - (1-f.bg[k])*survive[k])
				st.downs[i][k] = canon(1 - refuse[k])
			}
		}
		states[int(key%(1<<30))] = st
		return st
	}
}

// copied copies an outcome out of the scratch space, with the latency
// bucket of every wait filled in.
func copied(out outcome) outcome {
	var c outcome
	copyInto(&c, out)
	return c
}

// copyInto is copied into c, reusing its slices.
func copyInto(c *outcome, out outcome) {
	c.success, c.cost, c.fallback = out.success, out.cost, out.fallback
	c.waits = withBuckets(append(c.waits[:0], out.waits...))
	c.costs = append(c.costs[:0], out.costs...)
	c.loads = append(c.loads[:0], out.loads...)
}

// hardConstraint says why an option cannot be used at all, or nil: a
// hosted service in a path that must have none, or a hosted gateway whose
// SOC 2 or zero-data-retention fact in the catalog does not meet a rule
// the architecture sets.
func hardConstraint(s Spec, b Behaviour, cat *pricing.Catalog) *string {
	reason := ""
	g, _ := cat.Gateway(b.ID)
	hosted := b.InPath && !selfHosted(b.ID)
	switch {
	case s.Compliance.NoThirdPartyInPath && hosted:
		reason = fmt.Sprintf("no third party may be in the request path, and %s is a hosted service in it", b.ID)
	case s.Compliance.SOC2 && hosted && (g.SOC2.Value == "no" || g.SOC2.Value == "unknown"):
		reason = fmt.Sprintf("SOC 2 is required and %s's SOC 2 report is %s (%s, as of %s)", b.ID, factWord(g.SOC2.Value), g.SOC2.Source, g.SOC2.AsOf)
	case s.Compliance.ZeroDataRetention && hosted && g.ZeroDataRetention.Value == "no":
		reason = fmt.Sprintf("zero data retention is required and %s offers none (%s, as of %s)", b.ID, g.ZeroDataRetention.Source, g.ZeroDataRetention.AsOf)
	default:
		return nil
	}
	return &reason
}

func factWord(v string) string {
	if v == "unknown" {
		return "not verified"
	}
	return v
}

// gatewayNeed is what a plan must offer: the volume and spend to price, and
// the compliance rules (HIPAA, residency) that rule plans out.
func gatewayNeed(s Spec, requests, spend float64) pricing.GatewayNeed {
	need := pricing.GatewayNeed{
		RequestsPerMonth: requests,
		SpendUSDPerMonth: spend,
		HIPAA:            s.Compliance.HIPAA,
		// Observability needs (audit logs among them) are scored, not
		// required: only compliance rules rule a plan out.
		Seats:        s.Team.ConsoleSeats(),
		Models:       len(distinctModels(s)),
		OpsHourlyUSD: s.Team.OpsHourlyUSD,
		BYOK:         true, // teams keep their provider accounts; OpenRouter's BYOK fee then applies
		Failover:     true, // every plan gatewise ships can move to another target
	}
	for _, j := range s.Compliance.DataResidency {
		if !slices.Contains(need.Residency, j) {
			need.Residency = append(need.Residency, j)
		}
	}
	slices.Sort(need.Residency)
	return need
}

func distinctModels(s Spec) []string {
	var out []string
	for _, r := range s.Routes {
		for _, m := range r.Models {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// labelsWithin labels the scenarios of a run as the architecture file's
// list labels them, so that a run of one of two provider outages still
// says which one it ran.
func labelsWithin(file, run []Scenario) []string {
	all := slices.Clone(file)
	for _, sc := range run {
		if !slices.Contains(all, sc) {
			all = append(all, sc)
		}
	}
	labels := ScenarioLabels(all)
	out := make([]string, len(run))
	for i, sc := range run {
		out[i] = labels[slices.Index(all, sc)]
	}
	return out
}

// withDefaults fills in the defaults of a named scenario: the parameters it
// is simulated with, which the result records so the memo can say which
// outage it was. The primary provider is where the busiest flow goes first.
func (m *model) withDefaults(sc Scenario) Scenario {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	switch sc.Name {
	case "provider-outage":
		if sc.Provider == "" {
			sc.Provider = m.primaryProvider()
		}
		def(&sc.DurationHours, 4)
	case "region-outage":
		if sc.Region == "" {
			sc.Region = m.spec.DefaultOutageRegion(m.cat)
		}
		def(&sc.DurationHours, 6)
	case "gateway-outage":
		def(&sc.DurationHours, 3)
	case "rate-limit-storm":
		def(&sc.DurationHours, 2)
		def(&sc.Multiplier, 3)
	case "latency-degradation":
		if sc.Provider == "" {
			sc.Provider = m.primaryProvider()
		}
		def(&sc.DurationHours, 3)
		def(&sc.Multiplier, 4)
	}
	if sc.takesDown() {
		def(&sc.ErrorRate, 1)
	}
	return sc
}

// scenarioEvents builds a named scenario's injected incident from its
// resolved parameters.
func (m *model) scenarioEvents(sc Scenario) ([]event, bool, string) {
	full := func(d float64) Incident {
		start := math.Min(scenarioStart, math.Max(m.horizon-d, 0))
		return Incident{Start: start, PeakEnd: start + d, End: start + d, Class: -1, PeakErrorRate: sc.ErrorRate, TailErrorRate: sc.ErrorRate,
			StatusWeight: statusWeightFor(sc.ErrorRate), LatencyMultiplier: 1}
	}
	switch sc.Name {
	case "baseline", "rate-limit-storm":
		return nil, true, ""
	case "provider-outage":
		return []event{{src: -1, inc: full(sc.DurationHours), provider: sc.Provider, down: true}}, true, ""
	case "region-outage":
		if sc.Region == "" {
			return nil, false, "region-outage is left out of the results: none of the providers runs in a cloud region"
		}
		return []event{{src: -1, inc: full(sc.DurationHours), provider: sc.Provider, region: sc.Region, down: true}}, true, ""
	case "gateway-outage":
		return []event{{src: -1, inc: full(sc.DurationHours), allGateways: true}}, true, ""
	case "latency-degradation":
		inc := full(sc.DurationHours)
		inc.PeakErrorRate, inc.TailErrorRate, inc.StatusWeight = 0, 0, 0
		return []event{{src: -1, inc: inc, provider: sc.Provider, region: sc.Region, slow: sc.Multiplier}}, true, ""
	}
	return nil, false, fmt.Sprintf("scenario %s is not known to the engine; it is left out of the results", sc.Name)
}

// primaryProvider is where the busiest flow goes first.
func (m *model) primaryProvider() string {
	best := -1
	for i, f := range m.flows {
		if len(f.paths) > 0 && (best < 0 || f.total > m.flows[best].total) {
			best = i
		}
	}
	if best < 0 {
		return m.spec.Providers[0].ID
	}
	return m.flows[best].paths[0].Provider
}

// hops builds the attempt model's input for a flow: each target's failure
// share now (fails by path index; nil for calm), price, and the requests a
// second its route plan brings (rate).
func (m *model) hops(f flow, reach []int, fails []float64, rate float64) []hop {
	var out []hop
	return m.hopsInto(&out, &f, reach, fails, rate)
}

// groupRates is, per flow, the mean requests a second of all the flows one
// route plan of the option serves: a cooldown counts the failures of every
// request sent to a target, whatever origin it came from.
func (m *model) groupRates(plan Plan, origins []string) []float64 {
	seconds := m.horizon * 3600
	out := make([]float64, len(m.flows))
	for i, f := range m.flows {
		rp, ok := plan.For(m.spec.Routes[f.route].Name, origins[f.origin])
		if !ok {
			continue
		}
		for _, g := range m.flows {
			if g.route == f.route && (rp.Origins == nil || slices.Contains(rp.Origins, origins[g.origin])) {
				out[i] += g.total / seconds
			}
		}
	}
	return out
}

// collect turns the run's tally into its result.
func (j *Job) collect(t *tally) Result {
	m := j.m
	nG := len(m.options)
	res := Result{Seed: j.seed, Trials: j.trials, CatalogAsOf: j.cat.AsOf(), Assumptions: append(slices.Clone(j.notes), ModelAssumptions()...)}
	for _, o := range m.options {
		res.Plans = append(res.Plans, o.plan)
	}
	res.RequestsPerDay = m.total / m.horizon * 24
	res.Traffic = m.traffic
	res.Traffic.RequestsPerDay = res.RequestsPerDay
	for _, sp := range m.scen {
		res.Scenarios = append(res.Scenarios, ScenarioRun{Label: sp.label, Scenario: sp.sc})
	}
	res.Results = make([]OptionResult, len(m.scen)*nG)
	for k := range res.Results {
		res.Results[k] = j.row(k/nG, k%nG, t)
	}
	for s := range m.scen {
		j.pairWithBest(s, res.Results[s*nG:(s+1)*nG], t)
	}
	if j.baseline >= 0 {
		res.Covariance = j.covarianceOf(m.scen[j.baseline].label, res.Results[j.baseline*nG:(j.baseline+1)*nG], t)
	}
	res.Providers = j.providerStatus(t)
	return res
}

// covarianceOf is the trial-by-trial covariance of the eligible options'
// success shares and monthly costs: all of them met the same incidents,
// so the difference of two options is known far better than their
// separate intervals say, and the memo's ties read it.
func (j *Job) covarianceOf(label string, rows []OptionResult, t *tally) *Covariance {
	if j.trials < 2 {
		return nil
	}
	nG := len(rows)
	// Columns of the matrix: each eligible option's success share, then
	// its cost, as scale factors on the tally's failed requests and token
	// cost columns.
	type col struct {
		tallyCol int
		scale    float64
	}
	var names []string
	var cols []col
	for g, r := range rows {
		if r.Excluded == nil {
			c := j.consts[j.baseline*nG+g]
			names = append(names, r.Gateway)
			cols = append(cols, col{g, -1 / c.requests}, col{nG + g, c.slope})
		}
	}
	if len(names) == 0 {
		return nil
	}
	out := &Covariance{Scenario: label, Trials: j.trials, Options: names, Matrix: make([][]float64, len(cols))}
	for a := range cols {
		out.Matrix[a] = make([]float64, len(cols))
	}
	for a := range cols {
		for b := a; b < len(cols); b++ {
			v := cols[a].scale * cols[b].scale * j.covariance(t, cols[a].tallyCol, cols[b].tallyCol)
			out.Matrix[a][b], out.Matrix[b][a] = v, v
		}
	}
	return out
}

// row summarises option g under scenario s.
func (j *Job) row(s, g int, t *tally) OptionResult {
	m := j.m
	monthly := HoursPerMonth / m.horizon
	nG := len(m.options)
	sp, o := &m.scen[s], m.options[g]
	k := s*nG + g
	c, rt := j.consts[k], &t.Rows[k]
	trials := float64(j.trials)
	extra := sp.extra[g]
	merged := make([]int64, latencyBuckets)
	spent := make([]int64, m.nPaths)
	for i, f := range m.flows {
		addWaits(merged, o.calm[i].waits, f.total*trials)
		for q, p := range o.reach[i] {
			spent[m.pathAt[i]+p] += int64(math.Round(f.total * trials * o.calm[i].costs[q] * microUSD))
		}
	}
	for b, n := range extra.acc.waits {
		merged[b] += n * int64(j.trials)
	}
	for p, n := range extra.acc.cost {
		spent[p] += n * int64(j.trials)
	}
	for b, n := range t.acc[k].waits {
		merged[b] += n + t.base[g].waits[b]
	}
	for p, n := range t.acc[k].cost {
		spent[p] += n + t.base[g].cost[p]
	}
	if o.excluded != nil {
		// Not simulated (see workOut): the reason, and no figures that
		// would read as a calm month.
		return OptionResult{Gateway: o.b.ID, Scenario: sp.label, Excluded: o.excluded}
	}
	tokens := (rt.Cost.S1.value()/trials + c.calmCost) * monthly
	fees := 0.0
	if c.calmTokens > 0 {
		fees = o.quote.Fees * tokens / c.calmTokens
	}
	row := OptionResult{
		Gateway: o.b.ID, Scenario: sp.label,
		SuccessRate:    rt.Failed.distribution(1, -1/c.requests),
		FailedRequests: rt.Failed.distribution(0, monthly),
		Availability:   rt.Down.distribution(1, -1/m.horizon),
		LatencyAddedMS: latencyPercentiles(o.b, merged),
		CostUSD: CostBreakdown{
			Total: rt.Cost.distribution(c.slope*c.calmCost+c.fixed, c.slope), Tokens: tokens, TokensBy: m.spendBy(spent, trials, monthly), GatewayFees: fees + o.quote.Base + o.quote.Overage,
			Infrastructure: o.quote.Infrastructure, Operations: o.quote.Operations, Estimated: estimated(o.quote),
		},
		Observability: m.observability(j.cat, m.obs, o, monthly),
		Excluded:      o.excluded,
		PricePlan:     o.quote.Plan,
		FallbackShare: rt.Fallback.value() / trials,
	}
	// When requests fail: a calm month's share is in every trial, the
	// option's own incidents are the stretches its gateway was down, and
	// the rest came with providers' and platforms' incidents.
	row.FailedBy.Calm = max(c.calmFailed, 0) * monthly
	row.FailedBy.OwnIncidents = max(rt.Own.value()/trials*monthly, 0)
	row.FailedBy.Incidents = max(row.FailedRequests.Mean-row.FailedBy.Calm-row.FailedBy.OwnIncidents, 0)
	return row
}

// estimated is the part of a quote that is a placeholder price.
func estimated(q pricing.GatewayQuote) float64 {
	if q.Estimate {
		return q.Base
	}
	return 0
}

// pairWithBest compares every option with the most reliable one (fewest
// failed requests on average, among those not excluded) trial by trial:
// both saw the same incidents, so the differences carry far less noise than
// the two intervals suggest.
func (j *Job) pairWithBest(s int, rows []OptionResult, t *tally) {
	best := -1
	for g, r := range rows {
		if r.Excluded == nil && (best < 0 || r.FailedRequests.Mean < rows[best].FailedRequests.Mean) {
			best = g
		}
	}
	if best < 0 {
		return
	}
	nG := len(rows)
	monthly := HoursPerMonth / j.m.horizon
	for g := range rows {
		if rows[g].Excluded != nil {
			continue
		}
		p := &Paired{Best: rows[best].Gateway}
		if g != best {
			// The tally holds the lower-numbered option less the other;
			// read the other way round, the figures turn over.
			lo, hi, sign := g, best, 1.0
			if g > best {
				lo, hi, sign = best, g, -1
			}
			pt := &t.Pairs[s*nG*(nG-1)/2+pairIndex(lo, hi, nG)]
			p.FailedRequests = pt.Failed.distribution(0, sign*monthly)
			p.CostUSD = pt.Cost.distribution(0, sign)
		}
		rows[g].VersusBest = p
	}
}

// spendBy turns spend by path into mean monthly spend by provider and
// model, largest first.
func (m *model) spendBy(spent []int64, trials, monthly float64) []TokenSpend {
	type key struct{ provider, model string }
	sum := map[key]int64{}
	for i, f := range m.flows {
		for k, p := range f.paths {
			sum[key{p.Provider, p.Model}] += spent[m.pathAt[i]+k]
		}
	}
	out := []TokenSpend{}
	for k, v := range sum {
		if usd := float64(v) / microUSD / trials * monthly; usd >= 0.005 {
			out = append(out, TokenSpend{Provider: k.provider, Model: k.model, USD: math.Round(usd*100) / 100})
		}
	}
	slices.SortFunc(out, func(a, b TokenSpend) int {
		if a.USD != b.USD {
			return cmp.Compare(b.USD, a.USD)
		}
		return cmp.Compare(a.Provider+"/"+a.Model, b.Provider+"/"+b.Model)
	})
	return out
}

// observability is the share of requests the option's plan logs and the
// needs it meets on that plan.
func (m *model) observability(cat *pricing.Catalog, obs ObservabilityFacts, o option, monthly float64) Observability {
	out := Observability{NeedsMet: []string{}, NeedsMissing: []string{}}
	g, ok := cat.Gateway(o.b.ID)
	if !ok {
		return out
	}
	var plan pricing.Plan
	for _, p := range g.Plans {
		if p.ID == o.quote.Plan {
			plan = p
		}
	}
	out.Coverage = Coverage(o.b.ID, MonthlyLogCap(plan, 0), m.total*monthly)
	met, partial, missing := obs.NeedsOnPlan(g, plan, m.spec.ObservabilityNeeds, m.spec.Team.ConsoleSeats())
	out.NeedsMet = append(out.NeedsMet, met...)
	out.NeedsPartial = partial
	out.NeedsMissing = append(out.NeedsMissing, missing...)
	order := make([]string, len(g.Plans))
	for i, p := range g.Plans {
		order[i] = p.ID
	}
	level := func(need string) string {
		if s, ok := obs.Support(o.b.ID, plan.ID, order, need); ok {
			return s.Level
		}
		return levelNo
	}
	out.CostTracking = CostTracking{PerRequest: out.Coverage, Attribution: level("per_user_cost"), Budgets: level("budgets"), Alerts: level("alerts")}
	return out
}

// latencyPercentiles combines the gateway's own overhead (lognormal through
// its documented p50 and p95) with the waiting from retries, failovers and
// timeouts, and reads off percentiles of the mixture.
func latencyPercentiles(b Behaviour, waits []int64) Percentiles {
	var total float64
	for _, n := range waits {
		total += math.Max(float64(n), 0)
	}
	var over distuv.LogNormal
	hasOver := b.AddedLatencyMS.P50 > 0
	if hasOver {
		mu := math.Log(b.AddedLatencyMS.P50)
		sigma := 0.0
		if b.AddedLatencyMS.P95 > b.AddedLatencyMS.P50 {
			sigma = (math.Log(b.AddedLatencyMS.P95) - mu) / 1.6448536269514722
		}
		over = distuv.LogNormal{Mu: mu, Sigma: math.Max(sigma, 1e-6)}
	}
	cdf := func(x float64) float64 {
		if total == 0 {
			return 1
		}
		p := 0.0
		for k, n := range waits {
			if n <= 0 {
				continue
			}
			w := float64(n) / total
			y := x - bucketMS(k)
			switch {
			case y < 0:
			case !hasOver:
				p += w
			default:
				p += w * over.CDF(y)
			}
		}
		return p
	}
	q := func(p float64) float64 {
		lo, hi := 0.0, 1.0
		for cdf(hi) < p && hi < 1e9 {
			hi *= 2
		}
		for range 60 {
			mid := (lo + hi) / 2
			if cdf(mid) < p {
				lo = mid
			} else {
				hi = mid
			}
		}
		return math.Round(hi*10) / 10
	}
	return Percentiles{P50: q(0.5), P95: q(0.95), P99: q(0.99)}
}

// ModelAssumptions are the judgements every run rests on, in the order
// the result lists them after the run's own notes.
func ModelAssumptions() []string {
	return []string{
		fmt.Sprintf("incident failures: %.0f %% hang until the timeout, %.0f %% break mid-stream (never retried), the rest fail fast (%.1f s); an outage that fails every request refuses them, so none breaks mid-stream", hangShare*100, midStreamShare*100, fastErrorSeconds),
		fmt.Sprintf("every option keeps the app's SDK retries (2, after 0.5 s and 1 s); a retry fails with the attempt before it %.0f %% of the time (estimate) and is otherwise independent, a 429 always independent; %.0f %% of Anthropic's fast failures answer 529", retryCorrelation*100, overloadedShare*100),
		"cooldowns trip in time, from each route plan's mean request rate; OpenRouter skips a provider most of whose requests fail",
		"self-hosted gateways run 2 replicas unless set; half their own incidents take every replica down",
		"failures are independent apart from the common-mode cloud layer; teams bring their own provider keys",
		"named scenarios start Wednesday 14:00 UTC",
		"healthy answers take a lognormal time (median 2 s, sigma 0.7)",
		"rate limits refuse each minute's excess attempts with 429, counting the load an outage or a sampled incident moves onto the fallbacks (a sampled incident's hour at its mean demand)",
	}
}
