package server

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"slices"
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
	s, _ := riverServer(t, riverDSN(t), Config{JobLease: 5 * time.Second})
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
