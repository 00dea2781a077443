package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/simulator"
)

// The River queue, for PostgreSQL. A run is three kinds of job, each of
// which any gatewise serve or gatewise worker on the database may take:
//
//   - run: marks the run running, builds its simulator job (which checks
//     the inputs) and plans it as ranges of --trials-per-job trials, one
//     trials job per range, inserted with the plan in one transaction;
//   - trials: simulates one range and stores its part (run_parts); the
//     transaction that stores the last part inserts the merge job, so it
//     is inserted exactly once;
//   - merge: adds the parts up into the result, which is byte for byte the
//     one a single process would get, writes the memo and finishes the run.
//
// A job whose worker dies is tried again on another process within the
// lease (--job-lease) of the moment it started, and after jobAttempts tries
// its run is marked interrupted within the lease of the last one's start:
// River takes a job for dead once it has run rescueAfter, the lease less
// the margin River itself needs (takeUpMargin), and a job is stopped at
// jobTimeout, before that, so a job still at work is never taken for dead.
// Nothing is interrupted at start-up: another server's runs are not this
// one's to judge. Cancel cancels every job of the run, which reaches the
// process working it through LISTEN/NOTIFY, and a part that comes in after
// is dropped. The periodic sweeps are River periodic jobs, which only the
// leader inserts, so each runs once per round for the whole deployment.

// Defaults and bounds of the River queue's settings.
const (
	// DefaultJobLease is far longer than a range of DefaultTrialsPerJob or
	// a merge takes: its jobs may run 3m54s.
	DefaultJobLease = 5 * time.Minute
	// MinJobLease leaves a job minJobTimeout to run once River's margin
	// and the stop's grace are taken off.
	MinJobLease = takeUpMargin + minJobTimeout + minStopGrace
	// MaxJobLease is a day: a job that needs longer is better split.
	MaxJobLease = 24 * time.Hour
	// DefaultTrialsPerJob makes a range of the multi-region example a few
	// seconds on two cores (about 0.8 ms a trial), long enough that
	// building the model (0.4 s) is a small share of it.
	DefaultTrialsPerJob = 5000
	// jobAttempts is how many times a job is tried, a dead worker's
	// attempt included, before its run is given up as interrupted.
	jobAttempts = 3
	// upkeepQueue keeps the periodic sweeps from waiting behind trials.
	upkeepQueue = "gatewise_upkeep"
	// minJobTimeout is the least time a job may run: a range of a few
	// thousand trials, or the merge of a small architecture.
	minJobTimeout = 15 * time.Second
	// minStopGrace is the least time between a job's timeout and its
	// rescue, for a job cut short to return and River to record it; a
	// tenth of rescueAfter when that is more.
	minStopGrace = 5 * time.Second
)

// What River (v0.51.2) adds, at worst, between a job running rescueAfter
// and another worker starting it. None of River's intervals can be set
// through river.Config, so TestRiverMarginMatchesRiver reads them in
// River's source and fails when an upgrade moves them; river.Config's
// TestOnly would only skip the services' staggered start, and is not for
// production. The bound is for one process dying, with a worker free on
// another; should the leader die too, later and on another process, its
// lapse (22 s, below) may come on top.
const (
	// riverRescueEvery is how often the leader's rescuer looks for jobs
	// running past rescueAfter (maintenance.JobRescuerIntervalDefault).
	//
	// When the dead process was the leader, its term lapses at most 15 s
	// after the death (electIntervalDefault 5 s + electIntervalTTLPaddingDefault
	// 10 s), another process bids within 6 s of that (electIntervalDefault +
	// electIntervalJitterDefault) and its rescuer makes its first round
	// within a second (StaggerStart): 22 s after the death. The dead job
	// was started before the death and would have stopped at jobTimeout,
	// so that first round comes before rescueAfter + riverRescueEvery: a
	// leader's lapse adds nothing to the worst case.
	riverRescueEvery = 30 * time.Second
	// riverScheduleEvery is how often the leader's scheduler makes
	// retryable jobs available, taking those due within as long again
	// (maintenance.JobSchedulerIntervalDefault, and its look-ahead): a
	// rescued job's soonRetry delay, jobAttempts-1 seconds at most, is
	// within it.
	riverScheduleEvery = 5 * time.Second
	// fetchPollEvery is how often an idle worker looks for jobs when no
	// notification tells it of one (river.Config.FetchPollInterval, set
	// to River's default here so that the margin holds it).
	fetchPollEvery = time.Second
	// reconcileEvery is how often the leader looks for runs that cannot
	// finish: as often as the scheduler runs, so that marking a run
	// interrupted after its job's last rescue fits in the same margin as
	// trying the job again.
	reconcileEvery = riverScheduleEvery
	// riverSlack covers the rescuer's, the scheduler's and the reconcile's
	// own queries on a loaded database, and clocks: the rescuer compares
	// its process's clock with the database's attempted_at.
	riverSlack = 4 * time.Second
	// takeUpMargin is the part of the lease River needs: a rescue round,
	// a scheduling round, a fetch poll, and the slack (40 s).
	takeUpMargin = riverRescueEvery + riverScheduleEvery + fetchPollEvery + riverSlack
)

// rescueAfter is how long a job runs before River takes it for dead
// (RescueStuckJobsAfter): the lease less River's margin.
func rescueAfter(lease time.Duration) time.Duration { return lease - takeUpMargin }

// jobTimeout is how long any one job may run (River's JobTimeout): short
// enough of rescueAfter that a job cut short has returned before it could
// be taken for dead.
func jobTimeout(lease time.Duration) time.Duration {
	r := rescueAfter(lease)
	return r - max(minStopGrace, r/10)
}

// CheckJobLease refuses a lease outside MinJobLease to MaxJobLease.
func CheckJobLease(lease time.Duration) error {
	switch {
	case lease < MinJobLease:
		return fmt.Errorf("%s is too short: River needs %s of the lease to try a dead worker's job again, and a job %s more to run and stop, so the lease is at least %s",
			shortDuration(lease), shortDuration(takeUpMargin), shortDuration(minJobTimeout+minStopGrace), shortDuration(MinJobLease))
	case lease > MaxJobLease:
		return fmt.Errorf("%s is too long: the lease is at most %s; split the run into shorter jobs with --trials-per-job", shortDuration(lease), shortDuration(MaxJobLease))
	}
	return nil
}

// shortDuration writes d without the zero minutes and seconds that
// time.Duration's String adds ("1m", "24h", "3m54s").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// RiverOptions are the River queue's settings.
type RiverOptions struct {
	// Workers is how many jobs this process works at once.
	Workers int
	// Lease is how long after a job's start it is tried again on another
	// process, at most, when its own died (or its run is marked
	// interrupted, after the last try); a job runs jobTimeout of it at
	// most. From MinJobLease to MaxJobLease; zero means DefaultJobLease.
	Lease time.Duration
	// TrialsPerJob is the size of a run's trial ranges.
	TrialsPerJob int
	// Version goes into memos.
	Version string
	// Sweep tidies the database; it runs every housekeepEvery on one
	// process of the deployment.
	Sweep func(context.Context)
	// Metrics hears the trials this process simulates and the runs it
	// finishes; TracerProvider, when set, traces each job and its stages,
	// in the trace of the request that queued the run. Both may be nil.
	Metrics        *Metrics
	TracerProvider trace.TracerProvider
}

// RiverQueue is the Queue of a PostgreSQL deployment.
type RiverQueue struct {
	pipeline
	opts RiverOptions

	mu       sync.Mutex
	pool     *pgxpool.Pool
	client   *river.Client[pgx.Tx]  // works jobs; LISTEN/NOTIFY and leader election on its pool
	inserter *river.Client[*sql.Tx] // inserts and cancels jobs inside the store's transactions
	stopping atomic.Bool            // the process is stopping: jobs cut short go back to the queue
	done     chan struct{}          // closed once the client has stopped
	started  bool
}

// NewRiverQueue builds the queue of a PostgreSQL store. It connects on
// first use, so building it costs nothing.
func NewRiverQueue(st *store.Store, cat *pricing.Catalog, logger *slog.Logger, opts RiverOptions) *RiverQueue {
	if logger == nil {
		logger = slog.Default()
	}
	opts.Workers = max(opts.Workers, 1)
	if opts.Lease <= 0 {
		opts.Lease = DefaultJobLease
	}
	if opts.TrialsPerJob <= 0 {
		opts.TrialsPerJob = DefaultTrialsPerJob
	}
	return &RiverQueue{pipeline: pipeline{store: st, catalog: cat, log: logger, version: opts.Version,
		tel: newTelemetry(opts.Metrics, opts.TracerProvider)}, opts: opts}
}

// jobTimeout is how long any one job of this queue may run.
func (q *RiverQueue) jobTimeout() time.Duration { return jobTimeout(q.opts.Lease) }

// init builds the pool and the two River clients, once. Both clients use
// the schema gatewise's tables are in, so deployments (and tests) sharing
// one database never see each other's jobs or notifications.
func (q *RiverQueue) init(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.client != nil {
		return nil
	}
	if err := CheckJobLease(q.opts.Lease); err != nil {
		return fmt.Errorf("job queue: the job lease (--job-lease): %w", err)
	}
	schema, err := q.store.Schema(ctx)
	if err != nil {
		return err
	}
	pcfg, err := pgxpool.ParseConfig(q.store.PostgresDSN())
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	// A connection for LISTEN, one for the leader's maintenance, and one
	// for each job at work, the upkeep queue's included.
	pcfg.MaxConns = int32(q.opts.Workers + 5)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	sqlDB, err := q.store.SQL()
	if err != nil {
		pool.Close()
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &runWorker{q: q})
	river.AddWorker(workers, &trialsWorker{q: q})
	river.AddWorker(workers, &mergeWorker{q: q})
	river.AddWorker(workers, &sweepWorker{q: q})
	river.AddWorker(workers, &reconcileWorker{q: q})
	logger := q.log.With("component", "jobs")
	// Two upkeep workers, so that a reconcile never waits behind a sweep:
	// it has to fit in the lease too.
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.opts.Workers}, upkeepQueue: {MaxWorkers: 2}}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:               schema,
		Logger:               logger,
		Workers:              workers,
		Queues:               queues,
		MaxAttempts:          jobAttempts,
		RescueStuckJobsAfter: rescueAfter(q.opts.Lease),
		JobTimeout:           q.jobTimeout(),
		FetchPollInterval:    fetchPollEvery,
		RetryPolicy:          soonRetry{},
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(housekeepEvery), func() (river.JobArgs, *river.InsertOpts) {
				return sweepArgs{}, nil
			}, &river.PeriodicJobOpts{ID: "sweep", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(reconcileEvery), func() (river.JobArgs, *river.InsertOpts) {
				return reconcileArgs{}, nil
			}, &river.PeriodicJobOpts{ID: "reconcile", RunOnStart: true}),
		},
	})
	if err != nil {
		pool.Close()
		return fmt.Errorf("job queue: %w", err)
	}
	inserter, err := river.NewClient(riverdatabasesql.New(sqlDB), &river.Config{Schema: schema, Logger: logger, Workers: workers, MaxAttempts: jobAttempts})
	if err != nil {
		pool.Close()
		return fmt.Errorf("job queue: %w", err)
	}
	q.pool, q.client, q.inserter = pool, client, inserter
	return nil
}

// Start starts this process's workers; they stop when ctx ends, and a job
// cut short goes back to the queue for another worker (or this one, once
// it is back). Wait waits for that.
func (q *RiverQueue) Start(ctx context.Context) error {
	if err := q.init(ctx); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return errors.New("job queue: already started")
	}
	// The client stops when this process says, not when ctx ends: see below.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	q.started, q.done = true, make(chan struct{})
	go func() {
		defer close(q.done)
		<-ctx.Done()
		q.stopping.Store(true)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := q.client.StopAndCancel(sctx); err != nil {
			q.log.Warn("stopping the job queue", "error", err)
		}
		q.pool.Close()
	}()
	q.log.Info("job queue started", "workers", q.opts.Workers, "lease", q.opts.Lease, "job_timeout", q.jobTimeout(),
		"rescue_after", rescueAfter(q.opts.Lease), "trials_per_job", q.opts.TrialsPerJob)
	return nil
}

// Wait blocks until the workers have stopped.
func (q *RiverQueue) Wait() {
	q.mu.Lock()
	done := q.done
	q.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Enqueue inserts the run's planning job in tx.
func (q *RiverQueue) Enqueue(ctx context.Context, tx *sql.Tx, runID string) error {
	if err := q.init(ctx); err != nil {
		return err
	}
	if _, err := q.inserter.InsertTx(ctx, tx, runArgs{RunID: runID, Trace: carry(ctx)}, nil); err != nil {
		return fmt.Errorf("job queue: insert the run's job: %w", err)
	}
	return nil
}

// Notify has nothing to do: River tells the workers of a new job itself.
func (q *RiverQueue) Notify() {}

// Cancel marks the run cancelled and cancels all its jobs in one
// transaction; a worker on any process working one of them is told at
// commit and stops.
func (q *RiverQueue) Cancel(ctx context.Context, id string) error {
	if err := q.init(ctx); err != nil {
		return err
	}
	run, err := q.store.Run(ctx, id)
	if err != nil {
		return err
	}
	reason := "cancelled"
	if run.Status == store.RunQueued {
		reason = "cancelled before it started"
	}
	return q.store.EndRun(ctx, id, store.RunCancelled, reason, q.cancelJobs)
}

// cancelJobs cancels every job of the run not yet finished, inside tx.
func (q *RiverQueue) cancelJobs(ctx context.Context, tx *sql.Tx, runID string) error {
	jobs, err := jobsOfRun(runID, liveStates, func(p *river.JobListParams) (*river.JobListResult, error) {
		return q.inserter.JobListTx(ctx, tx, p)
	})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if _, err := q.inserter.JobCancelTx(ctx, tx, j.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("job queue: cancel job %d of run %s: %w", j.ID, runID, err)
		}
	}
	return nil
}

// liveStates are the states of a job still to be worked or at work.
var liveStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled}

// jobsOfRun lists the run's jobs in the given states, page by page.
func jobsOfRun(runID string, states []rivertype.JobState, list func(*river.JobListParams) (*river.JobListResult, error)) ([]*rivertype.JobRow, error) {
	params := river.NewJobListParams().Kinds(runArgs{}.Kind(), trialsArgs{}.Kind(), mergeArgs{}.Kind()).States(states...).
		Where("args @> jsonb_build_object('run_id', @run_id::text)", river.NamedArgs{"run_id": runID}).First(1000)
	var out []*rivertype.JobRow
	for {
		res, err := list(params)
		if err != nil {
			return nil, fmt.Errorf("job queue: list the jobs of run %s: %w", runID, err)
		}
		out = append(out, res.Jobs...)
		if len(res.Jobs) < 1000 {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

// soonRetry tries a failed or rescued job again after a second per attempt
// so far: a run waits on its slowest range, so there is no point in
// River's default backoff of minutes. A rescued job's delay is within the
// scheduler's look-ahead (riverScheduleEvery), so it costs the lease
// nothing.
type soonRetry struct{}

func (soonRetry) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Duration(max(job.Attempt, 1)) * time.Second)
}

// newPlan names a plan of a run's ranges.
func newPlan() string { return strings.ToLower(rand.Text()[:12]) }

// settle decides what an error of one of the run's jobs means. When the
// job was cut short or the database is away (see retry), the job ends with
// the error, to be tried again or dropped as River decides. Anything else
// is the run's own problem (its architecture, upload or price file): the
// run fails with the reason and its other jobs are cancelled.
func (q *RiverQueue) settle(ctx context.Context, runID, what string, err error) error {
	if ok, err := q.retry(ctx, runID, what, err); ok {
		return err
	}
	q.log.WarnContext(ctx, "run failed", "run", runID, "error", err)
	trace.SpanFromContext(ctx).SetStatus(codes.Error, err.Error())
	reason := err.Error()
	if err := q.recordEnd(ctx, func(c context.Context) error {
		return q.store.EndRun(c, runID, store.RunFailed, reason, q.cancelJobs)
	}); err != nil && !errors.Is(err, store.ErrRunEnded) {
		return err
	}
	return nil
}

// retry words an error that is no fault of the run, and reports whether
// err was one: the job's context ended because the run was cancelled
// (it is already marked so), because this process is stopping (River puts
// the job back for another worker), or because the job outran its lease
// (tried again, then given up); or the database is unavailable (tried
// again).
func (q *RiverQueue) retry(ctx context.Context, runID, what string, err error) (bool, error) {
	switch {
	case errors.Is(context.Cause(ctx), river.ErrJobCancelledRemotely):
		q.log.Info("stopped "+what+": the run was cancelled", "run", runID)
		return true, err
	case q.stopping.Load() && ctx.Err() != nil:
		q.log.Info("stopped "+what+": this process is stopping; the job goes back to the queue", "run", runID)
		return true, err
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return true, fmt.Errorf("%s took longer than the job lease allows (a job may run %s of a %s lease); set a longer --job-lease or fewer --trials-per-job",
			what, shortDuration(q.jobTimeout()), shortDuration(q.opts.Lease))
	case errors.Is(err, store.ErrUnavailable):
		q.log.Warn(what+": the database is unavailable; the job will be tried again", "run", runID, "error", err)
		return true, err
	}
	return false, err
}

// gone reports whether err says the run is not to be worked on any more:
// it ended (cancelled, say) or was deleted with its architecture.
func gone(err error) bool {
	return errors.Is(err, store.ErrRunEnded) || errors.Is(err, store.ErrNotFound)
}

// runArgs is the job that plans a run.
type runArgs struct {
	RunID string       `json:"run_id"`
	Trace traceCarrier `json:"trace,omitempty"` // of the request that queued the run
}

func (runArgs) Kind() string { return "gatewise_run" }

type runWorker struct {
	river.WorkerDefaults[runArgs]
	q *RiverQueue
}

func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) (err error) {
	q, id := w.q, job.Args.RunID
	ctx, span := q.tel.jobSpan(ctx, job.Args.Trace, job.Kind, id, job.Attempt)
	defer func() { endSpan(span, err) }()
	run, err := q.store.StartRun(ctx, id)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	in, err := q.inputs(ctx, run)
	if err != nil {
		return q.settle(ctx, id, "planning", err)
	}
	sj, err := in.job(nil)
	if err != nil {
		return q.settle(ctx, id, "planning", err)
	}
	var ranges []store.PartRange
	var inserts []river.InsertManyParams
	plan := newPlan()
	for _, r := range sj.Ranges(q.opts.TrialsPerJob) {
		ranges = append(ranges, store.PartRange{From: r.From, To: r.To})
		inserts = append(inserts, river.InsertManyParams{Args: trialsArgs{RunID: id, Plan: plan, From: r.From, To: r.To, Trace: carry(ctx)}})
	}
	planned, err := q.store.PlanRun(ctx, id, plan, ranges, func(ctx context.Context, tx *sql.Tx, _ string) error {
		_, err := q.inserter.InsertManyTx(ctx, tx, inserts)
		return err
	})
	if gone(err) {
		return nil
	}
	if err != nil {
		_, err = q.retry(ctx, id, "planning", err)
		return err
	}
	if planned {
		q.log.Info("run planned", "run", id, "trials", sj.Trials(), "ranges", len(ranges))
	}
	return nil
}

// trialsArgs is the job that simulates one range of a run's plan.
type trialsArgs struct {
	RunID string       `json:"run_id"`
	Plan  string       `json:"plan"`
	From  int          `json:"from"`
	To    int          `json:"to"`
	Trace traceCarrier `json:"trace,omitempty"` // of the job that planned the run
}

func (trialsArgs) Kind() string { return "gatewise_trials" }

type trialsWorker struct {
	river.WorkerDefaults[trialsArgs]
	q *RiverQueue
}

func (w *trialsWorker) Work(ctx context.Context, job *river.Job[trialsArgs]) (err error) {
	q, a := w.q, job.Args
	ctx, span := q.tel.jobSpan(ctx, a.Trace, job.Kind, a.RunID, job.Attempt)
	defer func() { endSpan(span, err) }()
	what := fmt.Sprintf("trials %d to %d", a.From, a.To)
	run, err := q.store.Run(ctx, a.RunID)
	if gone(err) || (err == nil && run.Status != store.RunRunning) {
		return nil // cancelled before this range's turn came
	}
	if err != nil {
		return err
	}
	in, err := q.inputs(ctx, run)
	if err != nil {
		return q.settle(ctx, a.RunID, what, err)
	}
	var last time.Time
	count := q.tel.metrics.trialCounter()
	progress := func(done, total int) {
		count(done)
		if time.Since(last) < time.Second && done < total {
			return
		}
		last = time.Now()
		if err := q.store.PartProgress(ctx, a.RunID, a.Plan, a.From, done); err != nil && ctx.Err() == nil {
			q.log.Warn("recording progress", "run", a.RunID, "error", err)
		}
	}
	sj, err := in.job(progress)
	if err != nil {
		return q.settle(ctx, a.RunID, what, err)
	}
	q.log.InfoContext(ctx, "simulating "+what, "run", a.RunID, "attempt", job.Attempt)
	sctx, sspan := q.tel.span(ctx, "run.simulate_range", trialRangeAttrs(a.From, a.To)...)
	part, err := sj.Simulate(sctx, simulator.TrialRange{From: a.From, To: a.To})
	endSpan(sspan, err)
	if err != nil {
		return q.settle(ctx, a.RunID, what, err)
	}
	data, err := part.MarshalBinary()
	if err != nil {
		return q.settle(ctx, a.RunID, what, err)
	}
	saved, err := q.store.SavePart(ctx, a.RunID, a.Plan, store.PartRange{From: a.From, To: a.To}, data,
		func(ctx context.Context, tx *sql.Tx, runID string) error {
			_, err := q.inserter.InsertTx(ctx, tx, mergeArgs{RunID: runID, Trace: carry(ctx)}, nil)
			return err
		})
	if gone(err) {
		return nil
	}
	if err != nil {
		_, err = q.retry(ctx, a.RunID, "saving "+what, err)
		return err
	}
	if !saved {
		q.log.Info("dropped "+what+": the run has ended or the range was already in", "run", a.RunID)
	}
	return nil
}

// mergeArgs is the job that adds a run's parts up and finishes it.
type mergeArgs struct {
	RunID string       `json:"run_id"`
	Trace traceCarrier `json:"trace,omitempty"` // of the job that saved the last range
}

func (mergeArgs) Kind() string { return "gatewise_merge" }

type mergeWorker struct {
	river.WorkerDefaults[mergeArgs]
	q *RiverQueue
}

func (w *mergeWorker) Work(ctx context.Context, job *river.Job[mergeArgs]) (err error) {
	q, id := w.q, job.Args.RunID
	ctx, span := q.tel.jobSpan(ctx, job.Args.Trace, job.Kind, id, job.Attempt)
	defer func() { endSpan(span, err) }()
	run, err := q.store.Run(ctx, id)
	if gone(err) || (err == nil && run.Status != store.RunRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	in, err := q.inputs(ctx, run)
	if err != nil {
		return q.settle(ctx, id, "merging", err)
	}
	sj, err := in.job(nil)
	if err != nil {
		return q.settle(ctx, id, "merging", err)
	}
	stored, err := q.store.RunParts(ctx, id)
	if err != nil {
		_, err = q.retry(ctx, id, "merging", err)
		return err
	}
	parts := make([]*simulator.Partial, len(stored))
	for i, data := range stored {
		parts[i] = new(simulator.Partial)
		if err := parts[i].UnmarshalBinary(data); err != nil {
			return q.settle(ctx, id, "merging", fmt.Errorf("a part of the run does not decode: %w", err))
		}
	}
	_, mspan := q.tel.span(ctx, "run.merge", attribute.Int("gatewise.run.ranges", len(parts)))
	res, err := sj.Merge(parts)
	endSpan(mspan, err)
	if err != nil {
		return q.settle(ctx, id, "merging", err)
	}
	result, md, sum, err := q.finish(ctx, in, res)
	if err != nil {
		return q.settle(ctx, id, "merging", err)
	}
	err = q.recordEnd(ctx, func(c context.Context) error { return q.store.FinishRun(c, id, result, md, sum) })
	if gone(err) {
		return nil
	}
	if err != nil {
		_, err = q.retry(ctx, id, "saving the result", err)
		return err
	}
	q.tel.metrics.runFinished(time.Since(run.StartedAt))
	q.log.InfoContext(ctx, "run done", "run", id, "ranges", len(parts), slog.Float64("took", seconds(time.Since(run.StartedAt))))
	return nil
}

// sweepArgs is the periodic job that tidies the database.
type sweepArgs struct{}

func (sweepArgs) Kind() string { return "gatewise_sweep" }

func (sweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: upkeepQueue, MaxAttempts: 1}
}

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	q *RiverQueue
}

func (w *sweepWorker) Timeout(*river.Job[sweepArgs]) time.Duration {
	return min(time.Minute, w.q.jobTimeout())
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	if w.q.opts.Sweep != nil {
		w.q.opts.Sweep(ctx)
	}
	return nil
}

// reconcileArgs is the periodic job that gives up runs that cannot finish:
// none of their jobs is left to work, or a job of their plan ran out of
// attempts (its worker died, or it failed, every time).
type reconcileArgs struct{}

func (reconcileArgs) Kind() string { return "gatewise_reconcile" }

func (reconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: upkeepQueue, MaxAttempts: 1}
}

type reconcileWorker struct {
	river.WorkerDefaults[reconcileArgs]
	q *RiverQueue
}

func (w *reconcileWorker) Timeout(*river.Job[reconcileArgs]) time.Duration {
	return min(time.Minute, w.q.jobTimeout())
}

func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[reconcileArgs]) error {
	q := w.q
	ids, err := q.store.RunsInFlight(ctx)
	if err != nil {
		return err
	}
	list := func(p *river.JobListParams) (*river.JobListResult, error) { return q.client.JobList(ctx, p) }
	for _, id := range ids {
		reason, err := stranded(id, list)
		if err != nil {
			return err
		}
		if reason == "" {
			continue
		}
		// The run's other jobs are cancelled with it, so that no process
		// goes on simulating ranges that will never be merged.
		switch err := q.store.EndRun(ctx, id, store.RunInterrupted, reason, q.cancelJobs); {
		case err == nil:
			q.log.Warn("run interrupted", "run", id, "reason", reason)
		case !gone(err):
			return err
		}
	}
	return nil
}

// stranded says why run id cannot finish, or "" while it can. It cannot
// when none of its jobs is left, and it cannot as soon as a range of its
// plan (or its merge) is discarded, even with other ranges still going:
// the merge waits for every range, so the run would never end, and its
// interruption would wait on its slowest range rather than come within
// the lease. A job discarded before the run's last start is an earlier
// plan's, which a restart left behind: the run's planning job is inserted
// at each start, and its ranges after it, so only jobs with a later id
// than the last planning job's are the current plan's.
func stranded(id string, list func(*river.JobListParams) (*river.JobListResult, error)) (string, error) {
	live, err := jobsOfRun(id, liveStates, list)
	if err != nil {
		return "", err
	}
	dead, err := jobsOfRun(id, []rivertype.JobState{rivertype.JobStateDiscarded}, list)
	if err != nil {
		return "", err
	}
	switch {
	case len(live) == 0 && len(dead) == 0:
		return "its job is gone; restart it", nil
	case len(live) == 0:
		return whyDiscarded(dead), nil
	case len(dead) == 0:
		return "", nil
	}
	res, err := list(river.NewJobListParams().Kinds(runArgs{}.Kind()).
		Where("args @> jsonb_build_object('run_id', @run_id::text)", river.NamedArgs{"run_id": id}).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(1))
	if err != nil {
		return "", fmt.Errorf("job queue: the planning job of run %s: %w", id, err)
	}
	var since int64
	if len(res.Jobs) > 0 {
		since = res.Jobs[0].ID
	}
	var current []*rivertype.JobRow
	for _, j := range dead {
		if j.ID > since && j.Kind != (runArgs{}).Kind() {
			current = append(current, j)
		}
	}
	if len(current) == 0 {
		return "", nil
	}
	return whyDiscarded(current), nil
}

// whyDiscarded words why a run's jobs ran out of attempts, from the last
// error of the job discarded last.
func whyDiscarded(jobs []*rivertype.JobRow) string {
	last := jobs[0]
	for _, j := range jobs[1:] {
		if j.FinalizedAt != nil && (last.FinalizedAt == nil || j.FinalizedAt.After(*last.FinalizedAt)) {
			last = j
		}
	}
	cause := "its worker stopped"
	if n := len(last.Errors); n > 0 {
		if e := last.Errors[n-1].Error; strings.Contains(e, "Stuck job rescued") {
			cause = "its worker stopped answering (taken for dead after the job lease)"
		} else {
			cause = e
		}
	}
	tries := fmt.Sprintf("%d times", last.Attempt)
	if last.Attempt == 1 {
		tries = "once"
	}
	return fmt.Sprintf("the run was tried %s and gave up: %s; restart it", tries, cause)
}
