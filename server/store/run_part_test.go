package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"gatewise/server/store/storetest"
)

func TestRunPartsSQLite(t *testing.T) {
	testRunParts(t, openStore(t, filepath.Join(t.TempDir(), "gatewise.db")))
}

func TestRunPartsPostgres(t *testing.T) {
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run the run-part tests on PostgreSQL")
	}
	testRunParts(t, openStore(t, storetest.Schema(t, base)))
}

// runningRun stores an architecture and a run of it, and starts the run.
func runningRun(t *testing.T, s *Store, total int) Run {
	t.Helper()
	ctx := t.Context()
	a := Architecture{Name: "a", Spec: []byte("{}")}
	if err := s.CreateArchitecture(ctx, &a); err != nil {
		t.Fatal(err)
	}
	r := Run{ArchitectureID: a.ID, Options: []byte("{}"), Total: total}
	if err := s.CreateRun(ctx, &r); err != nil {
		t.Fatal(err)
	}
	started, err := s.StartRun(ctx, r.ID)
	if err != nil || started.Status != RunRunning || started.StartedAt.IsZero() {
		t.Fatalf("StartRun = %+v, %v", started, err)
	}
	return started
}

// A run's plan is written once; its parts come in once each, in any order,
// with the last one running the hook exactly once; progress adds up across
// ranges; parts of another plan, or after the run ended, are dropped; the
// run's end removes them.
func testRunParts(t *testing.T, s *Store) {
	ctx := t.Context()
	run := runningRun(t, s, 90)
	ranges := []PartRange{{0, 40}, {40, 80}, {80, 90}}
	hooked := 0
	count := func(context.Context, *sql.Tx, string) error { hooked++; return nil }

	boom := errors.New("the job insert failed")
	if _, err := s.PlanRun(ctx, run.ID, "p0", ranges, func(context.Context, *sql.Tx, string) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("PlanRun with a failing hook: %v", err)
	}
	if planned, err := s.PlanRun(ctx, run.ID, "p1", ranges, count); err != nil || !planned || hooked != 1 {
		t.Fatalf("PlanRun after a rolled-back one = %v, %v (hook ran %d times); want planned", planned, err, hooked)
	}
	if planned, err := s.PlanRun(ctx, run.ID, "p2", ranges[:1], count); err != nil || planned || hooked != 1 {
		t.Fatalf("second PlanRun = %v, %v (hook ran %d times); want the first plan kept", planned, err, hooked)
	}
	if _, err := s.PlanRun(ctx, run.ID, "p3", []PartRange{{0, 10}, {20, 30}}, nil); err == nil {
		t.Error("a plan with a gap was accepted")
	}

	if err := s.PartProgress(ctx, run.ID, "p1", 0, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.PartProgress(ctx, run.ID, "p1", 80, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.PartProgress(ctx, run.ID, "p2", 40, 30); err != nil { // another plan's: ignored
		t.Fatal(err)
	}
	if r, _ := s.Run(ctx, run.ID); r.Done != 15 || r.Total != 90 {
		t.Fatalf("progress across ranges = %d of %d, want 15 of 90", r.Done, r.Total)
	}

	hooked = 0
	save := func(plan string, r PartRange, data string) bool {
		t.Helper()
		ok, err := s.SavePart(ctx, run.ID, plan, r, []byte(data), count)
		if err != nil {
			t.Fatalf("SavePart %v: %v", r, err)
		}
		return ok
	}
	if !save("p1", ranges[2], "c") || save("p1", ranges[2], "c again") {
		t.Fatal("a range's part is kept once")
	}
	if save("p2", ranges[0], "old plan") {
		t.Fatal("a part of another plan was kept")
	}
	if _, err := s.RunParts(ctx, run.ID); err == nil {
		t.Error("RunParts with ranges still out")
	}
	// The two last ranges at once: exactly one of them runs the hook.
	var wg sync.WaitGroup
	for i, data := range []string{"a", "b"} {
		wg.Go(func() {
			if ok, err := s.SavePart(ctx, run.ID, "p1", ranges[i], []byte(data), count); err != nil || !ok {
				t.Errorf("SavePart %v = %v, %v", ranges[i], ok, err)
			}
		})
	}
	wg.Wait()
	if hooked != 1 {
		t.Fatalf("the last part's hook ran %d times, want once", hooked)
	}
	parts, err := s.RunParts(ctx, run.ID)
	if err != nil || len(parts) != 3 || string(parts[0]) != "a" || string(parts[1]) != "b" || string(parts[2]) != "c" {
		t.Fatalf("RunParts = %q, %v; want a, b, c in trial order", parts, err)
	}
	if r, _ := s.Run(ctx, run.ID); r.Done != 90 {
		t.Fatalf("done after every part = %d, want 90", r.Done)
	}
	if err := s.FinishRun(ctx, run.ID, []byte(`{}`), "# memo", RunSummary{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunParts(ctx, run.ID); err == nil {
		t.Error("a finished run keeps its parts")
	}
	if _, err := s.StartRun(ctx, run.ID); !errors.Is(err, ErrRunEnded) {
		t.Errorf("StartRun of a done run: %v, want ErrRunEnded", err)
	}

	// A cancelled run drops what comes in after, and its plan goes.
	other := runningRun(t, s, 10)
	if _, err := s.PlanRun(ctx, other.ID, "q", []PartRange{{0, 5}, {5, 10}}, nil); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.SavePart(ctx, other.ID, "q", PartRange{0, 5}, []byte("x"), nil); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.EndRun(ctx, other.ID, RunCancelled, "cancelled", func(context.Context, *sql.Tx, string) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("EndRun with a failing hook: %v", err)
	}
	if r, _ := s.Run(ctx, other.ID); r.Status != RunRunning {
		t.Fatalf("a failed hook left the run %s", r.Status)
	}
	if err := s.EndRun(ctx, other.ID, RunCancelled, "cancelled"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.SavePart(ctx, other.ID, "q", PartRange{5, 10}, []byte("y"), count); err != nil || ok {
		t.Fatalf("a part after the cancel = %v, %v; want dropped", ok, err)
	}
	if err := s.EndRun(ctx, other.ID, RunCancelled, "again"); !errors.Is(err, ErrRunEnded) {
		t.Errorf("ending an ended run: %v, want ErrRunEnded", err)
	}
	if _, err := s.PlanRun(ctx, other.ID, "r", []PartRange{{0, 10}}, nil); !errors.Is(err, ErrRunEnded) {
		t.Errorf("planning a cancelled run: %v, want ErrRunEnded", err)
	}
	// Restarted, it plans afresh: the old plan's parts are gone.
	if err := s.RequeueRun(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartRun(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if planned, err := s.PlanRun(ctx, other.ID, "r", []PartRange{{0, 10}}, nil); err != nil || !planned {
		t.Fatalf("planning the restarted run = %v, %v", planned, err)
	}
	if ok, _ := s.SavePart(ctx, other.ID, "q", PartRange{0, 5}, []byte("x"), nil); ok {
		t.Error("a part of the plan before the restart was kept")
	}

	if ids, err := s.RunsInFlight(ctx); err != nil || len(ids) != 1 || ids[0] != other.ID {
		t.Errorf("RunsInFlight = %v, %v; want only the restarted run", ids, err)
	}
}

// A run and the work done with it in its transaction are stored together
// or not at all.
func TestCreateRunHookRollsBack(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "gatewise.db"))
	ctx := t.Context()
	a := Architecture{Name: "a", Spec: []byte("{}")}
	if err := s.CreateArchitecture(ctx, &a); err != nil {
		t.Fatal(err)
	}
	var seen string
	boom := errors.New("no job")
	r := Run{ArchitectureID: a.ID, Options: []byte("{}")}
	err := s.CreateRun(ctx, &r, func(_ context.Context, _ *sql.Tx, id string) error { seen = id; return boom })
	if !errors.Is(err, boom) || seen == "" || r.ID != "" {
		t.Fatalf("CreateRun with a failing hook = %v (hook saw %q, run %+v)", err, seen, r)
	}
	if _, err := s.Run(ctx, seen); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the run whose hook failed was stored: %v", err)
	}
}
