package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"gatewise/memo"
	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// RunOptions is what a run was asked for; zero values take the
// architecture's settings. It is stored with the run as JSON.
type RunOptions struct {
	// UploadID replays an uploaded log's traffic instead of the
	// architecture's synthetic traffic.
	UploadID string `json:"upload_id,omitempty"`
	Trials   int    `json:"trials,omitempty"`
	Seed     uint64 `json:"seed,omitempty"`
	// Scenarios and Gateways narrow the architecture's own lists for this
	// run; empty keeps them. A scenario the file gives parameters to keeps
	// them.
	Scenarios []string `json:"scenarios,omitempty"`
	Gateways  []string `json:"gateways,omitempty"`
	// PriceFileID prices the run with a kept price file laid over the
	// catalog instead of the catalog alone.
	PriceFileID string `json:"price_file_id,omitempty"`
	// PriceAsOf picks the day whose prices a price file that dates them
	// answers: "today" (the day the run is queued, the default), "log"
	// (the uploaded log's first day) or YYYY-MM-DD.
	PriceAsOf string `json:"price_as_of,omitempty"`
}

// validate checks the options against the architecture before a run is
// queued.
func (o RunOptions) validate(maxTrials int, spec simulator.Spec) map[string]string {
	fields := map[string]string{}
	if o.Trials < 0 || o.Trials > maxTrials {
		fields["trials"] = "must be between 1 and " + number(maxTrials) + " on this server (--max-trials)"
	}
	for i, sc := range o.Scenarios {
		if _, err := simulator.SelectScenarios(spec.Scenarios, []string{sc}); err != nil {
			fields["scenarios"] = err.Error()
		} else if slices.Contains(o.Scenarios[:i], sc) {
			fields["scenarios"] = fmt.Sprintf("%q is listed twice", sc)
		}
	}
	for i, g := range o.Gateways {
		if !slices.Contains(simulator.GatewayIDs(), g) {
			fields["gateways"] = fmt.Sprintf("%q is not an option; use %v", g, simulator.GatewayIDs())
		} else if slices.Contains(o.Gateways[:i], g) {
			fields["gateways"] = fmt.Sprintf("%q is listed twice", g)
		}
	}
	return fields
}

// pipeline is what a run goes through, whichever queue runs it: its inputs
// loaded from the store, the simulator job built from them, and from the
// result the memo and what the store keeps. The in-process Runner and the
// River queue share it, so a run ends the same on one process or many.
type pipeline struct {
	store   *store.Store
	catalog *pricing.Catalog
	log     *slog.Logger
	version string
	tel     telemetry // metrics and spans of the runs (metrics.go, tracing.go)
}

// runInputs is what a run simulates: its architecture (narrowed to the
// run's options), traffic, prices and simulator options.
type runInputs struct {
	spec    simulator.Spec
	profile *traffic.Profile
	catalog *pricing.Catalog
	sim     simulator.Options
}

// inputs loads what run simulates from the store: the architecture it
// kept, its uploaded traffic or the architecture's synthetic traffic, and
// its price file laid over the catalog.
func (p *pipeline) inputs(ctx context.Context, run store.Run) (in runInputs, err error) {
	ctx, span := p.tel.span(ctx, "run.load_inputs", runIDAttr(run.ID))
	defer func() { endSpan(span, err) }()
	var opts RunOptions
	if err := json.Unmarshal(run.Options, &opts); err != nil {
		return runInputs{}, fmt.Errorf("the run's options do not decode: %w", err)
	}
	spec, err := runSpec(ctx, p.store, run)
	if err != nil {
		return runInputs{}, err
	}
	cat, err := runCatalog(ctx, p.store, p.catalog, run, opts)
	if err != nil {
		return runInputs{}, err
	}
	sim := simulator.Options{Trials: opts.Trials, Seed: opts.Seed}
	if sim.Seed == 0 {
		sim.Seed = spec.Simulation.Seed
	}
	if len(opts.Scenarios) > 0 {
		if sim.Scenarios, err = simulator.SelectScenarios(spec.Scenarios, opts.Scenarios); err != nil {
			return runInputs{}, fmt.Errorf("the run's scenarios no longer fit the architecture: %w", err)
		}
	}
	if len(opts.Gateways) > 0 {
		spec.Gateways = opts.Gateways
	}
	var profile *traffic.Profile
	if opts.UploadID != "" {
		up, err := p.store.Upload(ctx, opts.UploadID)
		if err != nil {
			return runInputs{}, fmt.Errorf("the uploaded traffic is gone: %w", err)
		}
		if profile, err = decodeProfile(up.Profile); err != nil {
			return runInputs{}, fmt.Errorf("the uploaded traffic does not decode: %w", err)
		}
		if sim.Log, err = uploadLogSource(up); err != nil {
			return runInputs{}, fmt.Errorf("the uploaded traffic's summary does not decode: %w", err)
		}
	} else if profile, err = traffic.Synthesize(ctx, spec.SyntheticParams(), sim.Seed); err != nil {
		return runInputs{}, err
	}
	return runInputs{spec: spec, profile: profile, catalog: cat, sim: sim}, nil
}

// job builds the simulator job of the run; progress, when set, hears the
// trials done of each range simulated.
func (in runInputs) job(progress func(done, total int)) (*simulator.Job, error) {
	sim := in.sim
	sim.Progress = progress
	return simulator.NewJob(in.spec, in.profile, in.catalog, sim)
}

// finish writes the memo of a simulated run and returns what the store
// keeps: the result as JSON, the memo, and the summary lists show.
func (p *pipeline) finish(ctx context.Context, in runInputs, res simulator.Result) (_ []byte, _ string, _ store.RunSummary, err error) {
	ctx, span := p.tel.span(ctx, "run.memo")
	defer func() { endSpan(span, err) }()
	outages, err := memo.Outages(ctx, in.spec, in.profile, in.catalog, res.Seed, min(memo.OutageTrials, res.Trials))
	if err != nil {
		return nil, "", store.RunSummary{}, err
	}
	var md bytes.Buffer
	if err := memo.Write(&md, memo.Input{Spec: in.spec, Result: res, Catalog: in.catalog, Now: time.Now().UTC(), Version: p.version, Outages: outages}); err != nil {
		return nil, "", store.RunSummary{}, err
	}
	data, err := json.Marshal(res)
	if err != nil {
		return nil, "", store.RunSummary{}, err
	}
	fm, _ := memo.SplitFrontMatter(md.Bytes())
	return data, md.String(), store.RunSummary{Chosen: fm.Chosen, Traffic: trafficShort(res.Traffic)}, nil
}

// recordEnd writes how a run ended with a context of its own, so a stopping
// server still records that the run was interrupted, and tries again while
// the database is unavailable (a locked SQLite file, a restarting
// PostgreSQL) for up to two minutes, ten seconds when stopping, so a
// finished result is not lost to a short outage.
func (p *pipeline) recordEnd(ctx context.Context, write func(context.Context) error) error {
	patience := 2 * time.Minute
	if ctx.Err() != nil {
		patience = 10 * time.Second
	}
	deadline := time.Now().Add(patience)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		wctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := write(wctx)
		stop()
		if err == nil || !errors.Is(err, store.ErrUnavailable) || time.Now().Add(wait).After(deadline) {
			return err
		}
		p.log.Warn("the database is unavailable; trying again", "error", err, "in", wait)
		time.Sleep(wait)
	}
}

// Runner is the in-process queue, for SQLite, which one process owns: the
// runs table is the queue and a few workers of this process poll it. A run
// carries all it needs (its architecture and options), so a worker takes
// it by id alone; on one machine a worker or two suffice, since a run
// already uses every core.
type Runner struct {
	pipeline
	workers int

	wake    chan struct{}
	mu      sync.Mutex
	cancels map[string]context.CancelFunc
	// traces holds, while tracing is on, the trace of the request that
	// queued each run still waiting, so the run's spans join it.
	traces map[string]trace.SpanContext
	wg     sync.WaitGroup
}

// maxWaitingTraces bounds Runner.traces: past it, a queued run's spans
// start a trace of their own.
const maxWaitingTraces = 1000

// NewRunner builds a runner; Start sets it going.
func NewRunner(st *store.Store, cat *pricing.Catalog, logger *slog.Logger, workers int, version string) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{pipeline: pipeline{store: st, catalog: cat, log: logger, version: version}, workers: max(workers, 1),
		wake: make(chan struct{}, 1), cancels: map[string]context.CancelFunc{}, traces: map[string]trace.SpanContext{}}
}

// Start marks runs a previous process left running as interrupted (no
// other process can hold one: the database is this process's alone), then
// starts the workers. They stop when ctx ends, marking their runs
// interrupted so they can be restarted; Wait waits for that.
func (r *Runner) Start(ctx context.Context) error {
	n, err := r.store.InterruptRunning(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		r.log.Warn("runs interrupted by the last stop", "runs", n)
	}
	for range r.workers {
		r.wg.Add(1)
		go r.work(ctx)
	}
	return nil
}

// Wait blocks until every worker has stopped.
func (r *Runner) Wait() { r.wg.Wait() }

// Enqueue has nothing to add to the database: the run's row is its place
// in the queue. It notes the trace of the request that queued the run.
func (r *Runner) Enqueue(ctx context.Context, _ *sql.Tx, runID string) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.mu.Lock()
		if len(r.traces) < maxWaitingTraces {
			r.traces[runID] = sc
		}
		r.mu.Unlock()
	}
	return nil
}

// Notify tells an idle worker that a run was queued.
func (r *Runner) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Cancel stops a queued run, or a running one: this process's worker
// records the end when it has stopped.
func (r *Runner) Cancel(ctx context.Context, id string) error {
	run, err := r.store.Run(ctx, id)
	if err != nil {
		return err
	}
	switch run.Status {
	case store.RunQueued:
		err := r.store.EndRun(ctx, id, store.RunCancelled, "cancelled before it started")
		r.cancelLocal(id) // a worker may have taken it meanwhile
		return err
	case store.RunRunning:
		if r.cancelLocal(id) {
			return nil // the worker records the end
		}
		return r.store.EndRun(ctx, id, store.RunCancelled, "cancelled")
	}
	return fmt.Errorf("run %q is %s: %w", id, run.Status, store.ErrRunEnded)
}

// cancelLocal stops a running run of this process; it reports whether
// there was one.
func (r *Runner) cancelLocal(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.traces, id)
	cancel, ok := r.cancels[id]
	if ok {
		cancel()
	}
	return ok
}

func (r *Runner) work(ctx context.Context) {
	defer r.wg.Done()
	idle := time.NewTicker(2 * time.Second)
	defer idle.Stop()
	for ctx.Err() == nil {
		run, err := r.store.ClaimRun(ctx)
		switch {
		case errors.Is(err, store.ErrNotFound):
			select {
			case <-ctx.Done():
			case <-r.wake:
			case <-idle.C:
			}
			continue
		case err != nil:
			r.log.Error("claiming a run", "error", err)
			select {
			case <-ctx.Done():
			case <-idle.C:
			}
			continue
		}
		r.execute(ctx, run)
	}
}

// execute runs one claimed run to its end and records how it ended.
func (r *Runner) execute(ctx context.Context, run store.Run) {
	r.mu.Lock()
	queuedBy, traced := r.traces[run.ID]
	delete(r.traces, run.ID)
	r.mu.Unlock()
	if traced {
		ctx = trace.ContextWithRemoteSpanContext(ctx, queuedBy)
	}
	ctx, span := r.tel.span(ctx, "run", runIDAttr(run.ID))
	defer span.End()
	runCtx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.cancels[run.ID] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.cancels, run.ID)
		r.mu.Unlock()
		cancel()
	}()

	began := time.Now()
	result, md, sum, err := r.simulate(runCtx, run)
	switch {
	case err == nil:
		err = r.recordEnd(ctx, func(c context.Context) error { return r.store.FinishRun(c, run.ID, result, md, sum) })
		r.tel.metrics.runFinished(time.Since(began))
		r.log.InfoContext(ctx, "run done", "run", run.ID, slog.Float64("took", seconds(time.Since(began))))
	case ctx.Err() != nil:
		err = r.recordEnd(ctx, func(c context.Context) error {
			return r.store.EndRun(c, run.ID, store.RunInterrupted, "the server stopped while the run was going; restart it")
		})
	case runCtx.Err() != nil:
		err = r.recordEnd(ctx, func(c context.Context) error { return r.store.EndRun(c, run.ID, store.RunCancelled, "cancelled") })
	default:
		r.log.WarnContext(ctx, "run failed", "run", run.ID, "error", err)
		span.SetStatus(codes.Error, err.Error())
		reason := err.Error()
		err = r.recordEnd(ctx, func(c context.Context) error { return r.store.EndRun(c, run.ID, store.RunFailed, reason) })
	}
	if err != nil && !errors.Is(err, store.ErrRunEnded) { // ended meanwhile: cancelled before a worker took it
		r.log.Error("recording the end of a run", "run", run.ID, "error", err)
	}
}

// runSpec is the architecture a run simulates: the one it kept when it was
// queued, or, for runs made before runs kept it, the architecture now.
func runSpec(ctx context.Context, st *store.Store, run store.Run) (simulator.Spec, error) {
	data := run.Spec
	if len(data) == 0 {
		a, err := st.Architecture(ctx, run.ArchitectureID)
		if err != nil {
			return simulator.Spec{}, fmt.Errorf("the architecture is gone: %w", err)
		}
		data = a.Spec
	}
	var spec simulator.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return simulator.Spec{}, fmt.Errorf("the architecture does not decode: %w", err)
	}
	return spec, nil
}

// simulate is the pipeline for one run in one process: its inputs, all its
// trials in one range with progress recorded as it goes, and the memo.
func (r *Runner) simulate(ctx context.Context, run store.Run) ([]byte, string, store.RunSummary, error) {
	in, err := r.inputs(ctx, run)
	if err != nil {
		return nil, "", store.RunSummary{}, err
	}
	var last time.Time
	count := r.tel.metrics.trialCounter()
	progress := func(done, total int) {
		count(done)
		if time.Since(last) < 500*time.Millisecond && done < total {
			return
		}
		last = time.Now()
		if err := r.store.RunProgress(ctx, run.ID, done, total); err != nil && ctx.Err() == nil {
			r.log.Warn("recording progress", "run", run.ID, "error", err)
		}
	}
	job, err := in.job(progress)
	if err != nil {
		return nil, "", store.RunSummary{}, err
	}
	sctx, span := r.tel.span(ctx, "run.simulate_range", trialRangeAttrs(0, job.Trials())...)
	part, err := job.Simulate(sctx, simulator.TrialRange{From: 0, To: job.Trials()})
	endSpan(span, err)
	if err != nil {
		return nil, "", store.RunSummary{}, err
	}
	_, span = r.tel.span(ctx, "run.merge", attribute.Int("gatewise.run.ranges", 1))
	res, err := job.Merge([]*simulator.Partial{part})
	endSpan(span, err)
	if err != nil {
		return nil, "", store.RunSummary{}, err
	}
	return r.finish(ctx, in, res)
}

// uploadLogSource names an upload for the run's result.
func uploadLogSource(up store.Upload) (*simulator.LogSource, error) {
	var sum traffic.Summary
	if len(up.Summary) > 0 {
		if err := json.Unmarshal(up.Summary, &sum); err != nil {
			return nil, err
		}
	}
	return withLogFiles(simulator.NewLogSource(up.Name, sum), up.Summary), nil
}
