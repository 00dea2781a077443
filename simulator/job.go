package simulator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"gatewise/pricing"
	"gatewise/simulator/traffic"
)

// TrialRange is the trials [From, To) of a run.
type TrialRange struct{ From, To int }

// Len is the number of trials in the range.
func (r TrialRange) Len() int { return r.To - r.From }

// Job is one Monte Carlo run made ready once, so its trials can be
// simulated in ranges, in one process or spread over many, and merged
// into the Result that Run returns. Trial i draws from its own PCG stream
// (seed, i) and every accumulator adds up exactly, so the merge is the
// same whatever the ranges, their order and the workers.
type Job struct {
	m      *model
	notes  []string
	cat    *pricing.Catalog
	opts   Options
	trials int
	seed   uint64
	perDay float64 // the profile's own requests a day, for a log's source
	// key says what the job is, so parts of another are refused; it is
	// worked out only when a part leaves the process or comes from
	// another, since fingerprinting the profile costs a run of few trials
	// more than its trials.
	key func() (uint64, error)
	// exact keeps every trial's figures for exact percentiles; see
	// exactQuantileTrials.
	exact    bool
	consts   []rowConst
	baseline int // the baseline scenario's index, or −1
}

// NewJob validates the architecture and options and builds the model the
// trials run on.
func NewJob(spec Spec, profile *traffic.Profile, cat *pricing.Catalog, opts Options) (*Job, error) {
	if cat == nil {
		cat = pricing.Default()
	}
	if err := spec.Validate(cat); err != nil {
		return nil, err
	}
	if profile == nil || profile.Bins <= 0 || profile.Total.Requests <= 0 {
		return nil, errors.New("simulate: the traffic profile is empty")
	}
	trials, seed := opts.Trials, opts.Seed
	if trials == 0 {
		trials = spec.Simulation.Trials
	}
	if seed == 0 {
		seed = spec.Simulation.Seed
	}
	if trials < 1 || trials > MaxTrials {
		return nil, fmt.Errorf("simulate: trials must be between 1 and %d, not %d", MaxTrials, trials)
	}
	scenarios := opts.Scenarios
	if scenarios == nil {
		scenarios = spec.Scenarios
	}
	rho := retryCorrelation
	if opts.RetryCorrelation != nil {
		if rho = *opts.RetryCorrelation; !(rho >= 0 && rho <= 1) {
			return nil, fmt.Errorf("simulate: retry correlation must be between 0 and 1, not %g", rho)
		}
	}
	m, notes, err := buildModel(spec, profile, cat, scenarios, rho)
	if err != nil {
		return nil, err
	}
	key := sync.OnceValues(func() (uint64, error) { return jobKey(spec, profile, scenarios, trials, seed, rho, cat.AsOf()) })
	return &Job{m: m, notes: notes, cat: cat, opts: opts, trials: trials, seed: seed, perDay: profile.RequestsPerDay(), key: key,
		exact: trials <= exactQuantileTrials, consts: m.rowConsts(), baseline: m.baselineScenario()}, nil
}

// memoBlock is how many trials share one set of memos.
const memoBlock = exactQuantileTrials

// MaxTrials is the most trials one run may have.
const MaxTrials = 1_000_000

// Trials is the number of trials the job runs.
func (j *Job) Trials() int { return j.trials }

// Seed is the seed the trials draw from.
func (j *Job) Seed() uint64 { return j.seed }

// Ranges splits the job's trials into consecutive ranges of at most size
// trials (all of them in one when size < 1).
func (j *Job) Ranges(size int) []TrialRange {
	if size < 1 {
		size = j.trials
	}
	var out []TrialRange
	for from := 0; from < j.trials; from += size {
		out = append(out, TrialRange{From: from, To: min(from+size, j.trials)})
	}
	return out
}

// Run replays the traffic profile through every gateway option under the
// sampled environment and each scenario, trial by trial: a Job simulated
// as one range. It stops when ctx is cancelled.
func Run(ctx context.Context, spec Spec, profile *traffic.Profile, cat *pricing.Catalog, opts Options) (Result, error) {
	j, err := NewJob(spec, profile, cat, opts)
	if err != nil {
		return Result{}, err
	}
	p, err := j.Simulate(ctx, TrialRange{From: 0, To: j.trials})
	if err != nil {
		return Result{}, err
	}
	return j.Merge([]*Partial{p})
}

// Simulate runs the trials of one range on opts.Workers goroutines and
// returns what they add up to. opts.Progress, when set, hears trials done
// within the range and the range's size.
func (j *Job) Simulate(ctx context.Context, r TrialRange) (*Partial, error) {
	if r.From < 0 || r.To > j.trials || r.From >= r.To {
		return nil, fmt.Errorf("simulate: trials %d to %d are not a range of this run's %d", r.From, r.To, j.trials)
	}
	m, seed, n := j.m, j.seed, r.Len()
	workers := j.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	nG, nP := len(m.options), len(m.spec.Providers)
	tallies := make([]*tally, workers)
	for w := range tallies {
		tallies[w] = j.newTally(j.exact)
	}
	var done atomic.Int64
	var progressMu sync.Mutex
	step := max(n/100, 1)
	// The trials go in blocks, each with memos of its own: the memos then
	// never hold more than one block's combinations, so a run's memory
	// does not grow with its trials, and a block is long enough for them
	// to pay.
	for from := r.From; from < r.To && ctx.Err() == nil; from += memoBlock {
		to := min(from+memoBlock, r.To)
		shared := newMemos()
		var next atomic.Int64
		next.Store(int64(from))
		var wg sync.WaitGroup
		for _, t := range tallies {
			wg.Go(func() {
				ev := newEvaluator(m, shared)
				base := make([]trialResult, nG)
				row := make([]trialResult, nG)
				cols := make([]float64, 2*nG)
				status := make([]providerMonth, nP)
				pcg := rand.NewPCG(seed, 0)
				rnd := rand.New(pcg)
				var env []event
				var incs []Incident
				for {
					i := int(next.Add(1) - 1)
					if i >= to || ctx.Err() != nil {
						return
					}
					env = sampleEnvironment(pcg, rnd, seed, i, m.sources, m.horizon, env, &incs)
					for k := range env {
						m.resolve(&env[k])
					}
					m.statusPages(env, status)
					j.addStatus(t, status)
					// The sampled month once; each scenario then only redoes
					// the window its incident covers.
					clear(base)
					ev.evaluate(env, nil, 0, m.horizon, 1, base, t.base)
					for s := range m.scen {
						copy(row, base)
						if lo, hi, ok := m.scen[s].window(); ok {
							ev.evaluate(env, m.scen[s].events, lo, hi, 1, row, t.acc[s*nG:(s+1)*nG])
							ev.evaluate(env, nil, lo, hi, -1, row, t.acc[s*nG:(s+1)*nG])
						}
						j.addScenario(t, s, row, cols)
					}
					if d := done.Add(1); j.opts.Progress != nil && (d%int64(step) == 0 || d == int64(n)) {
						progressMu.Lock()
						j.opts.Progress(int(d), n)
						progressMu.Unlock()
					}
				}
			})
		}
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Workers took trials as they came; the tallies add up exactly, so
	// which worker had which trial does not show.
	for _, t := range tallies[1:] {
		tallies[0].merge(t)
	}
	return &Partial{Range: r, job: j, t: tallies[0]}, nil
}

// Merge adds up the parts of the job, which must cover every trial once,
// in any order, into the run's result.
func (j *Job) Merge(parts []*Partial) (Result, error) {
	seen := make([]bool, j.trials)
	for _, p := range parts {
		if p == nil {
			return Result{}, errors.New("simulate: a part of the run is missing")
		}
		if p.job != j {
			key, err := j.key()
			if err != nil {
				return Result{}, err
			}
			theirs := p.Key
			if p.job != nil {
				if theirs, err = p.job.key(); err != nil {
					return Result{}, err
				}
			}
			if theirs != key {
				return Result{}, fmt.Errorf("simulate: trials %d to %d come from another run", p.Range.From, p.Range.To)
			}
		}
		if err := j.fits(p); err != nil {
			return Result{}, err
		}
		if p.Range.From < 0 || p.Range.To > j.trials || p.Range.From >= p.Range.To {
			return Result{}, fmt.Errorf("simulate: trials %d to %d are not a range of this run's %d", p.Range.From, p.Range.To, j.trials)
		}
		for i := p.Range.From; i < p.Range.To; i++ {
			if seen[i] {
				return Result{}, fmt.Errorf("simulate: trial %d is in two parts", i)
			}
			seen[i] = true
		}
	}
	for i, ok := range seen {
		if !ok {
			return Result{}, fmt.Errorf("simulate: trial %d is in no part", i)
		}
	}
	t := j.newTally(j.exact)
	for _, p := range parts {
		t.merge(p.t)
	}
	res := j.collect(t)
	res.Traffic.Kind = TrafficSynthetic
	if j.opts.Log != nil {
		log := *j.opts.Log
		log.RequestsPerDay = j.perDay
		res.Traffic.Kind, res.Traffic.Log = TrafficLog, &log
		res.Traffic.Uses, res.Traffic.Ignores = logUses(), logIgnores()
	}
	return res, nil
}

// addAccums adds b into a, entry by entry.
func addAccums(a, b []accum) {
	for k := range a {
		for i, v := range b[k].waits {
			a[k].waits[i] += v
		}
		for i, v := range b[k].cost {
			a[k].cost[i] += v
		}
	}
}
