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
// mid-run, B takes A's range up again within the job lease. (A log
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
	// The shortest lease there is, so a dead worker's job is taken up within
	// a minute; its jobs may run 15 s, and ranges of the single-provider
	// example's trials take well under a second, its merge a few.
	const lease = time.Minute
	flags := []string{"--job-lease", lease.String(), "--trials-per-job", "20000", "--max-trials", "200000"}
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

	// 3. A killed mid-run: B takes A's range up again within the lease,
	// and finishes the run. The lease counts from the range's start, which
	// came before the kill; A, started first, is River's leader, so its
	// term has to lapse too, within the same rescue round. The 5 s are for
	// B building the model before it logs the range, and for this loop's
	// polling.
	third := a.startRun(t, arch.ID, 100_000)
	a.waitLog(t, `" run=`+third+" attempt=1")
	a.kill(t)
	killed := time.Now()
	deadline := killed.Add(lease + 5*time.Second)
	for !strings.Contains(b.stderr.String(), `" run=`+third+" attempt=2") {
		if r := b.run(t, third); r.Status != "running" || time.Now().After(deadline) {
			t.Fatalf("%s after A was killed, B has not taken A's range up again (a lease of %s); the run: %+v\n%s",
				time.Since(killed).Round(time.Millisecond), lease, r, b.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("B took A's range up again %s after the kill (a lease of %s)", time.Since(killed).Round(time.Millisecond), lease)
	b.waitRun(t, third, func(r apiRunState) bool { return r.Status == "done" })
}
