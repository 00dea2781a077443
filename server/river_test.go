package server

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/server/store/storetest"
)

// The River queue's tests run on PostgreSQL, each in a schema of its own
// (River's tables and notifications included), and skip without one.

// riverDSN gives the test a private schema, or skips it.
func riverDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run the River queue's tests on PostgreSQL")
	}
	return storetest.Schema(t, base)
}

// riverServer is a server on dsn whose log the test reads.
func riverServer(t *testing.T, dsn string, cfg Config) (*Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := store.Open(context.Background(), dsn, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Version = "test"
	s, err := New(cfg, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.queue.(*RiverQueue); !ok {
		t.Fatalf("a server on PostgreSQL queues runs with %T, want River", s.queue)
	}
	return s, logs
}

// startQueue starts s's workers until the returned stop is called or the
// test ends.
func startQueue(t *testing.T, s *Server) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stop = func() { cancel(); s.queue.Wait() }
	t.Cleanup(stop)
	return stop
}

// waitRun waits for the run to reach one of the statuses; under the race
// detector a run's merge (the memo) takes half a minute, so the deadline is
// generous: it bounds a background job, it measures nothing.
func waitRun(t *testing.T, s *Server, id string, statuses ...string) store.Run {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		run, err := s.store.Run(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(statuses, run.Status) {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s, want %v", id, run.Status, statuses)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog waits for a line containing every part in the log.
func waitLog(t *testing.T, logs *syncBuffer, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		for _, line := range strings.Split(string(logs.Bytes()), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q:\n%s", parts, logs.Bytes())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logHas reports whether one line of logs holds every part.
func logHas(logs *syncBuffer, parts ...string) bool {
	for _, line := range strings.Split(string(logs.Bytes()), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// A run split into ranges, worked by two servers' workers, gives the same
// result bytes as the same run simulated in one piece by the in-process
// runner.
func TestRiverSplitRunIsByteIdentical(t *testing.T) {
	t.Parallel()
	dsn := riverDSN(t)
	a, logsA := riverServer(t, dsn, Config{Workers: 2, TrialsPerJob: 40})
	b, logsB := riverServer(t, dsn, Config{Workers: 1, TrialsPerJob: 40})
	startQueue(t, a)
	startQueue(t, b)
	spec := loadExample(t, "single-provider")
	arch := create(t, a.Handler(), spec)
	opts := RunOptions{Trials: 120, Seed: 7}
	queued, err := a.queueRun(context.Background(), arch, opts)
	if err != nil {
		t.Fatal(err)
	}
	split := waitRun(t, a, queued.ID, store.RunDone, store.RunFailed, store.RunInterrupted)
	if split.Status != store.RunDone || split.Done != 120 || split.Total != 120 {
		t.Fatalf("split run = %s (%s), %d of %d", split.Status, split.Error, split.Done, split.Total)
	}
	// Either server may have planned it.
	planned := []string{"run planned", "run=" + queued.ID, "trials=120", "ranges=3"}
	if !logHas(logsA, planned...) && !logHas(logsB, planned...) {
		t.Fatalf("neither server logged %q:\n%s\n----\n%s", planned, logsA.Bytes(), logsB.Bytes())
	}

	one, _ := newTestServer(t)
	startRunner(t, one)
	single, err := one.queueRun(context.Background(), create(t, one.Handler(), spec), opts)
	if err != nil {
		t.Fatal(err)
	}
	whole := waitRun(t, one, single.ID, store.RunDone, store.RunFailed)
	if whole.Status != store.RunDone {
		t.Fatalf("one-piece run = %+v", whole)
	}
	if !bytes.Equal(split.Result, whole.Result) {
		t.Fatalf("the split run's result (%d bytes) differs from the one-piece run's (%d bytes)", len(split.Result), len(whole.Result))
	}
	if split.Chosen != whole.Chosen || split.Traffic != whole.Traffic || split.Chosen == "" {
		t.Errorf("summaries differ: split %q/%q, one piece %q/%q", split.Chosen, split.Traffic, whole.Chosen, whole.Traffic)
	}
	// The memos differ only in their date lines.
	if strip := func(md string) string {
		var keep []string
		for _, l := range strings.Split(md, "\n") {
			if !strings.Contains(l, "date") && !strings.Contains(l, "review") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}; strip(split.Memo) != strip(whole.Memo) {
		t.Errorf("the memos differ beyond their dates:\n%s\n----\n%s", split.Memo, whole.Memo)
	}
	// The parts went with the finished run.
	if _, err := a.store.RunParts(context.Background(), split.ID); err == nil {
		t.Error("the finished run kept its parts")
	}
}

// A run and its job are stored in one transaction: when the transaction
// fails after the job was inserted, neither is left.
func TestRiverRunAndJobCommitTogether(t *testing.T) {
	t.Parallel()
	s, _ := riverServer(t, riverDSN(t), Config{})
	q := s.queue.(*RiverQueue)
	ctx := context.Background()
	arch := create(t, s.Handler(), loadExample(t, "single-provider"))
	boom := errors.New("the transaction fails after the job's insert")
	run := store.Run{ArchitectureID: arch, Options: []byte(`{"trials":10}`), Total: 10}
	err := s.store.CreateRun(ctx, &run, q.Enqueue, func(context.Context, *sql.Tx, string) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("CreateRun = %v, want the failure", err)
	}
	jobs := func() []*rivertype.JobRow {
		t.Helper()
		res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(runArgs{}.Kind()))
		if err != nil {
			t.Fatal(err)
		}
		return res.Jobs
	}
	if runs, err := s.store.ListRuns(ctx, 10, 0); err != nil || len(runs) != 0 || len(jobs()) != 0 {
		t.Fatalf("after the failed transaction: %d runs (%v), %d jobs; want neither", len(runs), err, len(jobs()))
	}
	if err := s.store.CreateRun(ctx, &store.Run{ArchitectureID: "nope", Options: []byte("{}")}, q.Enqueue); !errors.Is(err, store.ErrNotFound) || len(jobs()) != 0 {
		t.Fatalf("a run of a missing architecture: %v, %d jobs", err, len(jobs()))
	}
	queued, err := s.queueRun(ctx, arch, RunOptions{Trials: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := jobs(); len(got) != 1 || !strings.Contains(string(got[0].EncodedArgs), queued.ID) {
		t.Fatalf("jobs after queueing run %s: %d, want its one job", queued.ID, len(got))
	}
}

// Cancel on one server stops the worker of another, and the run stays
// cancelled.
func TestRiverCancelReachesTheWorker(t *testing.T) {
	t.Parallel()
	dsn := riverDSN(t)
	a, logs := riverServer(t, dsn, Config{Workers: 1, TrialsPerJob: 1_000_000, MaxTrials: 1_000_000})
	b, _ := riverServer(t, dsn, Config{MaxTrials: 1_000_000}) // serves requests, works nothing
	startQueue(t, a)
	arch := create(t, b.Handler(), loadExample(t, "single-provider"))
	queued, err := b.queueRun(context.Background(), arch, RunOptions{Trials: 1_000_000}) // half a minute's work: one range
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, "simulating trials 0 to 1000000", "run="+queued.ID)
	if err := b.cancel(context.Background(), queued.ID); err != nil {
		t.Fatal(err)
	}
	if run, _ := b.store.Run(context.Background(), queued.ID); run.Status != store.RunCancelled || run.Error != "cancelled" {
		t.Fatalf("after the cancel: %s (%q)", run.Status, run.Error)
	}
	waitLog(t, logs, "stopped trials 0 to 1000000: the run was cancelled", "run="+queued.ID)
	if err := b.cancel(context.Background(), queued.ID); err == nil || !strings.Contains(err.Error(), "already ended") {
		t.Errorf("a second cancel: %v, want the run already ended", err)
	}
	if run, _ := a.store.Run(context.Background(), queued.ID); run.Status != store.RunCancelled {
		t.Fatalf("the worker changed the cancelled run to %s", run.Status)
	}
}

// A server stopping puts its jobs back rather than interrupting the run;
// the next worker goes on from the parts already in.
func TestRiverStopHandsTheRunOn(t *testing.T) {
	t.Parallel()
	dsn := riverDSN(t)
	a, logsA := riverServer(t, dsn, Config{Workers: 1, TrialsPerJob: 10000})
	stopA := startQueue(t, a)
	arch := create(t, a.Handler(), loadExample(t, "single-provider"))
	queued, err := a.queueRun(context.Background(), arch, RunOptions{Trials: 20000}) // two ranges of a third of a second each (seconds under -race)
	if err != nil {
		t.Fatal(err)
	}
	// One worker: the second range starts once the first is in.
	waitLog(t, logsA, "simulating trials 10000 to 20000", "run="+queued.ID)
	stopA()
	run, _ := a.store.Run(context.Background(), queued.ID)
	if run.Status != store.RunRunning || run.Done < 10000 {
		t.Fatalf("after the stop the run is %s with %d done; want it running, its parts kept", run.Status, run.Done)
	}
	waitLog(t, logsA, "this process is stopping; the job goes back to the queue", "run="+queued.ID)

	b, logsB := riverServer(t, dsn, Config{Workers: 1, TrialsPerJob: 10000})
	startQueue(t, b)
	done := waitRun(t, b, queued.ID, store.RunDone, store.RunFailed, store.RunInterrupted)
	if done.Status != store.RunDone || done.Done != 20000 {
		t.Fatalf("the run handed on: %s (%s), %d done", done.Status, done.Error, done.Done)
	}
	if strings.Contains(string(logsB.Bytes()), "run planned") {
		t.Error("the second server planned the run again")
	}
}

// Runs none of whose jobs is left are given up by the leader's sweep: one
// whose job is gone, and one whose job failed every attempt.
func TestRiverSweepInterruptsRunsWithoutJobs(t *testing.T) {
	t.Parallel()
	s, _ := riverServer(t, riverDSN(t), Config{})
	q := s.queue.(*RiverQueue)
	ctx := context.Background()
	arch := create(t, s.Handler(), loadExample(t, "single-provider"))
	orphan := store.Run{ArchitectureID: arch, Options: []byte(`{"trials":10}`), Total: 10}
	if err := s.store.CreateRun(ctx, &orphan); err != nil { // as a gatewise before River left it
		t.Fatal(err)
	}
	failing := store.Run{ArchitectureID: arch, Options: []byte(`{"trials":10}`), Total: 10}
	if err := s.store.CreateRun(ctx, &failing); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.StartRun(ctx, failing.ID); err != nil {
		t.Fatal(err)
	}
	if err := q.init(ctx); err != nil {
		t.Fatal(err)
	}
	// A merge with no parts to merge fails, and with one attempt is
	// discarded.
	if _, err := q.client.Insert(ctx, mergeArgs{RunID: failing.ID}, &river.InsertOpts{MaxAttempts: 1}); err != nil {
		t.Fatal(err)
	}
	startQueue(t, s)
	got := waitRun(t, s, orphan.ID, store.RunInterrupted)
	if got.Error != "its job is gone; restart it" {
		t.Errorf("the orphan's reason: %q", got.Error)
	}
	got = waitRun(t, s, failing.ID, store.RunInterrupted)
	if want := "the run was tried once and gave up: store: run " + `"` + failing.ID + `"` + " has no parts; restart it"; got.Error != want {
		t.Errorf("the failing run's reason:\n%q\nwant\n%q", got.Error, want)
	}
}

// The database's sweep is a periodic job: the leader inserts it once a
// round and one worker runs it, here on start.
func TestRiverSweepIsAPeriodicJob(t *testing.T) {
	t.Parallel()
	s, _ := riverServer(t, riverDSN(t), Config{})
	ctx := context.Background()
	if _, err := s.store.CreateSession(ctx, "alice", -time.Hour); err != nil { // expired an hour ago
		t.Fatal(err)
	}
	startQueue(t, s)
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := s.queue.(*RiverQueue).client.JobList(ctx, river.NewJobListParams().Kinds(sweepArgs{}.Kind()).States(rivertype.JobStateCompleted))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no sweep job completed within a minute of the start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n, err := s.store.DeleteExpiredSessions(ctx); err != nil || n != 0 {
		t.Errorf("after the sweep job %d expired sessions were left (%v)", n, err)
	}
}

// The lease is split between River's margin, the stop's grace and the job:
// these are the figures the flag's help and the README give.
func TestRiverLeaseBudget(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lease, rescue, timeout time.Duration
	}{
		{time.Minute, 20 * time.Second, 15 * time.Second},
		{DefaultJobLease, 4*time.Minute + 20*time.Second, 3*time.Minute + 54*time.Second},
		{time.Hour, 59*time.Minute + 20*time.Second, 53*time.Minute + 24*time.Second},
	} {
		if r, j := rescueAfter(c.lease), jobTimeout(c.lease); r != c.rescue || j != c.timeout {
			t.Errorf("a lease of %s: rescued after %s, jobs stop at %s; want %s and %s", c.lease, r, j, c.rescue, c.timeout)
		}
	}
	if takeUpMargin != 40*time.Second || MinJobLease != time.Minute {
		t.Errorf("River's margin is %s and the shortest lease %s, want 40s and 1m as documented", takeUpMargin, MinJobLease)
	}
	for lease := MinJobLease; lease <= MaxJobLease; lease += 7*time.Second + lease/3 {
		r, j := rescueAfter(lease), jobTimeout(lease)
		if r+takeUpMargin != lease || j < minJobTimeout || r-j < minStopGrace {
			t.Errorf("a lease of %s: rescued after %s, jobs stop at %s", lease, r, j)
		}
		if err := CheckJobLease(lease); err != nil {
			t.Errorf("a lease of %s is refused: %v", lease, err)
		}
	}
	// A rescued job's retry delay is inside the scheduler's look-ahead, and
	// the reconcile comes as often as the scheduler: neither adds to the
	// margin.
	retry := soonRetry{}.NextRetry(&rivertype.JobRow{Attempt: jobAttempts - 1})
	if d := time.Until(retry); d > riverScheduleEvery || reconcileEvery > riverScheduleEvery {
		t.Errorf("the last retry waits %s and the reconcile runs every %s; both must be within %s", d, reconcileEvery, riverScheduleEvery)
	}
	for lease, want := range map[time.Duration]string{
		59 * time.Second:        "59s is too short: River needs 40s of the lease to try a dead worker's job again, and a job 20s more to run and stop, so the lease is at least 1m",
		10 * time.Second:        "10s is too short: River needs 40s of the lease to try a dead worker's job again, and a job 20s more to run and stop, so the lease is at least 1m",
		MaxJobLease + time.Hour: "25h is too long: the lease is at most 24h; split the run into shorter jobs with --trials-per-job",
	} {
		if err := CheckJobLease(lease); err == nil || err.Error() != want {
			t.Errorf("a lease of %s: %v, want %q", lease, err, want)
		}
	}
	// A queue given a short lease by its caller refuses to start.
	q := NewRiverQueue(nil, nil, slog.New(slog.DiscardHandler), RiverOptions{Lease: 30 * time.Second})
	if err := q.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "(--job-lease): 30s is too short") {
		t.Errorf("a queue with a lease of 30s starts: %v", err)
	}
}

// River's intervals that the margin counts are not in river.Config; this
// reads them in River's source, so that an upgrade that moves one fails
// here rather than in production, a dead worker's job taken up late.
func TestRiverMarginMatchesRiver(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/riverqueue/river").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("River's source is not at hand (go list: %v)", err)
	}
	seconds := func(file, name string) time.Duration {
		t.Helper()
		src, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^\s*` + name + `\s*=\s*(\d+) \* time\.Second$`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("%s no longer sets %s in whole seconds: read it again and adjust takeUpMargin", file, name)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return time.Duration(n) * time.Second
	}
	if got := seconds("internal/maintenance/job_rescuer.go", "JobRescuerIntervalDefault"); got != riverRescueEvery {
		t.Errorf("River's rescuer runs every %s, the margin counts %s", got, riverRescueEvery)
	}
	if got := seconds("internal/maintenance/job_scheduler.go", "JobSchedulerIntervalDefault"); got != riverScheduleEvery {
		t.Errorf("River's scheduler runs every %s, the margin counts %s", got, riverScheduleEvery)
	}
	src, err := os.ReadFile(filepath.Join(dir, "internal/maintenance/job_scheduler.go"))
	if err != nil || !bytes.Contains(src, []byte("nowWithLookAhead := now.Add(s.config.Interval)")) {
		t.Errorf("River's scheduler no longer looks an interval ahead (%v): a rescued job's retry delay now adds to the margin", err)
	}
	// A dead leader's successor makes its first rescue round this long
	// after the death: its term's TTL, a bid's interval and jitter, and
	// the maintenance services' staggered start. That round must come
	// before the one a job still running up to its timeout would wait for.
	elect := seconds("internal/leadership/elector.go", "electIntervalDefault")
	lapse := elect + seconds("internal/leadership/elector.go", "electIntervalTTLPaddingDefault") +
		elect + seconds("internal/leadership/elector.go", "electIntervalJitterDefault") + time.Second
	if lapse > riverRescueEvery+minStopGrace {
		t.Errorf("a dead leader's successor first rescues %s after the death, more than a rescue round and the stop's grace (%s)", lapse, riverRescueEvery+minStopGrace)
	}
}

// A worker that died mid-job, as River's rows show it: its range is tried
// again within the lease of the attempt's start, and a run whose range dies
// on its last attempt is marked interrupted within the lease too, though
// another of its ranges is still being simulated here, which is cancelled.
// Both dead attempts started five seconds short of rescueAfter ago, so
// River's rescuer, whose first round comes within a few seconds of the
// start, most likely passes them over once and takes them on its next
// round, 30 s on: close to the worst case the margin is for.
func TestRiverDeadWorkersJobsWithinTheLease(t *testing.T) {
	t.Parallel()
	s, _ := riverServer(t, riverDSN(t), Config{Workers: 2, JobLease: MinJobLease})
	q := s.queue.(*RiverQueue)
	ctx := context.Background()
	if err := q.init(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := s.store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	// plan queues a run of the example, takes its planning job as done,
	// and plans its ranges, from each bound to the next.
	plan := func(example string, bounds ...int) (string, []int64) {
		t.Helper()
		arch := create(t, s.Handler(), loadExample(t, example))
		run, err := s.queueRun(ctx, arch, RunOptions{Trials: bounds[len(bounds)-1], Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'completed', attempt = 1, attempted_at = now(), finalized_at = now()
			WHERE kind = 'gatewise_run' AND args->>'run_id' = $1`, run.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.store.StartRun(ctx, run.ID); err != nil {
			t.Fatal(err)
		}
		var parts []store.PartRange
		var inserts []river.InsertManyParams
		for i := range len(bounds) - 1 {
			parts = append(parts, store.PartRange{From: bounds[i], To: bounds[i+1]})
			inserts = append(inserts, river.InsertManyParams{Args: trialsArgs{RunID: run.ID, Plan: "p" + run.ID, From: bounds[i], To: bounds[i+1]}})
		}
		var ids []int64
		if _, err := s.store.PlanRun(ctx, run.ID, "p"+run.ID, parts, func(ctx context.Context, tx *sql.Tx, _ string) error {
			res, err := q.inserter.InsertManyTx(ctx, tx, inserts)
			for _, r := range res {
				ids = append(ids, r.Job.ID)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return run.ID, ids
	}
	retried, retriedJobs := plan("single-provider", 0, 10)
	// The second range is minutes of the multi-region example's trials,
	// for this server's workers.
	given, givenJobs := plan("multi-region", 0, 10, 200_000)
	// Each run's first range was started by a worker that then died: the
	// one's on its first attempt, the other's on its last.
	began := time.Now().Add(-(rescueAfter(MinJobLease) - 5*time.Second))
	for id, attempt := range map[int64]int{retriedJobs[0]: 1, givenJobs[0]: jobAttempts} {
		if _, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = $2, attempted_at = $3, attempted_by = ARRAY['a-worker-that-died']
			WHERE id = $1`, id, attempt, began); err != nil {
			t.Fatal(err)
		}
	}
	startQueue(t, s)

	var takenUp, interrupted time.Duration
	deadline := began.Add(MinJobLease + time.Second) // a second for this loop's polling
	for takenUp == 0 || interrupted == 0 {
		if takenUp == 0 {
			if j, err := q.client.JobGet(ctx, retriedJobs[0]); err != nil {
				t.Fatal(err)
			} else if j.Attempt == 2 && j.AttemptedAt != nil {
				takenUp = j.AttemptedAt.Sub(began)
			}
		}
		if interrupted == 0 {
			if r, err := s.store.Run(ctx, given); err != nil {
				t.Fatal(err)
			} else if r.Status != store.RunRunning {
				interrupted = time.Since(began)
				if want := "the run was tried 3 times and gave up: its worker stopped answering (taken for dead after the job lease); restart it"; r.Status != store.RunInterrupted || r.Error != want {
					t.Fatalf("the run whose range died on its last try: %s (%q), want interrupted with %q", r.Status, r.Error, want)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after the attempts began (a lease of %s): the retried range was taken up after %s, the other run interrupted after %s (0: not yet)",
				time.Since(began).Round(time.Millisecond), MinJobLease, takenUp, interrupted)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("a lease of %s: the dead worker's range was taken up %s after its attempt began, the run out of attempts interrupted after %s",
		MinJobLease, takenUp.Round(time.Millisecond), interrupted.Round(time.Millisecond))
	if takenUp < rescueAfter(MinJobLease) {
		t.Errorf("the range was taken up %s after its attempt began, before River takes a job for dead (%s)", takenUp, rescueAfter(MinJobLease))
	}
	// The range still at work (stopped at its timeout, 15 s, and tried
	// again by now) was cancelled with its run: at once if it was waiting
	// for its next try, once its worker has heard if it was running.
	for stop := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		j, err := q.client.JobGet(ctx, givenJobs[1])
		if err != nil {
			t.Fatal(err)
		}
		if j.State == rivertype.JobStateCancelled {
			break
		}
		if time.Now().After(stop) {
			t.Fatalf("the interrupted run's other range is %s, 10 s after the run was interrupted", j.State)
		}
	}
	if r := waitRun(t, s, retried, store.RunDone, store.RunFailed, store.RunInterrupted); r.Status != store.RunDone || r.Done != 10 {
		t.Errorf("the run whose range was tried again: %s (%s), %d done", r.Status, r.Error, r.Done)
	}
}
