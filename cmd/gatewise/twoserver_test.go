package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewise/server/store/storetest"
)

// Two gatewise serve processes on one PostgreSQL, as a team that outgrew
// one machine runs them: a run started on A survives B's start-up and its
// result is saved; a cancel sent to B stops A's work; and when A is killed
// mid-run, B takes the run up once the job's lease has run out. (A log
// mapping started on one server and finished on another is
// TestMappingStartedOnOneServerFinishesOnAnother in package server.)
func TestTwoServersOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("two-server test: builds and starts the real binary twice; skipped with -short")
	}
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run two servers on one PostgreSQL")
	}
	t.Parallel()
	dsn := storetest.Schema(t, base)
	bin := buildGatewise(t)
	// A short lease, so a dead worker's job is taken up within seconds;
	// ranges of the single-provider example's trials take well under a
	// second, its merge a few.
	flags := []string{"--job-lease", "10s", "--trials-per-job", "20000", "--max-trials", "200000"}
	a := startGatewise(t, bin, dsn, t.TempDir(), flags...)

	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "single-provider.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var arch struct{ ID string }
	a.json(t, "POST", "/api/v1/architectures", "application/yaml", bytes.NewReader(data), http.StatusCreated, &arch)

	// 1. B's start-up leaves A's run alone; A and B finish it together.
	first := a.startRun(t, arch.ID, 100_000)
	a.waitRun(t, first, func(r apiRunState) bool { return r.Status == "running" && r.Progress.Done > 0 })
	b := startGatewise(t, bin, dsn, t.TempDir(), flags...)
	b.waitRun(t, first, func(r apiRunState) bool { return r.Status == "done" })
	var result struct {
		Trials int `json:"trials"`
		Seed   uint64
	}
	if err := json.Unmarshal(b.get(t, "/runs/"+first+"/result.json"), &result); err != nil || result.Trials != 100_000 {
		t.Fatalf("the result saved: %+v, %v", result, err)
	}
	if memo := b.get(t, "/api/v1/runs/"+first+"/memo.md"); !bytes.Contains(memo, []byte("# Gateway decision: ")) {
		t.Fatalf("the memo saved:\n%.300s", memo)
	}
	for name, p := range map[string]*gatewiseProcess{"A": a, "B": b} {
		if log := p.stderr.String(); strings.Contains(log, "interrupted") {
			t.Errorf("%s interrupted something:\n%s", name, log)
		}
	}

	// 2. A cancel sent to B stops A's work.
	second := a.startRun(t, arch.ID, 200_000)
	a.waitLog(t, `" run=`+second+" attempt=1")
	var cancelled apiRunState
	b.json(t, "DELETE", "/api/v1/runs/"+second, "", nil, http.StatusOK, &cancelled)
	if cancelled.Status != "cancelled" {
		t.Fatalf("the cancel through B answered %+v", cancelled)
	}
	a.waitLog(t, `: the run was cancelled" run=`+second)
	if r := a.run(t, second); r.Status != "cancelled" || r.Error != "cancelled" {
		t.Errorf("the cancelled run after A stopped: %+v", r)
	}

	// 3. A killed mid-run: B retries A's range once its lease is out, and
	// finishes the run.
	third := a.startRun(t, arch.ID, 100_000)
	a.waitLog(t, `" run=`+third+" attempt=1")
	a.kill(t)
	deadline := time.Now().Add(90 * time.Second) // the lease, plus a leader's term to lapse, plus the rescue round
	for {
		r := b.run(t, third)
		if r.Status == "done" {
			break
		}
		if r.Status != "running" || time.Now().After(deadline) {
			t.Fatalf("the run A was working when killed: %+v\n%s", r, b.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(b.stderr.String(), `" run=`+third+" attempt=2") {
		t.Errorf("B did not take up A's range again:\n%s", b.stderr)
	}
}
