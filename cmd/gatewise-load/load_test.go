package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewise/simulator/traffic"
)

// TestLoadReduced is the CI form of the load run: 10 users at once against
// a real server built from this tree, with small logs and short runs. Every
// request must succeed and every run must finish; timings are reported, not
// asserted.
func TestLoadReduced(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds gatewise and loads a real server with 10 users for about 20 s")
	}
	reportPath := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{
		"--users", "10", "--log-mb", "2", "--trials", "300", "--reads", "3",
		"--timeout", "3m", "--json", reportPath,
	}, &stdout, &stderr)
	t.Log(stdout.String())
	if err != nil {
		t.Fatalf("load run: %v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.FailureCount != 0 {
		t.Errorf("errors %d, failures %d: %q", rep.Errors, rep.FailureCount, rep.Failures)
	}
	if rep.Runs.Done != 10 || rep.Runs.Unfinished != 0 {
		t.Errorf("runs done %d of 10, sessions cut short %d", rep.Runs.Done, rep.Runs.Unfinished)
	}
	if rep.Server.Crashed || rep.Server.Stop.Exit != "0" {
		t.Errorf("server crashed %v, stopped with %+v", rep.Server.Crashed, rep.Server.Stop)
	}
	want := map[string]int{
		"POST /api/v1/architectures": 10, "POST /api/v1/uploads": 10, "POST /api/v1/runs": 10,
		"GET /api/v1/runs/{id}/memo.md": 10, "GET /runs/{id}": 30, "GET /runs": 30, "GET /architectures/{id}": 30,
	}
	for _, e := range rep.Endpoints {
		if n, ok := want[e.Endpoint]; ok && e.Count != n {
			t.Errorf("%s: %d requests, want %d", e.Endpoint, e.Count, n)
		}
		delete(want, e.Endpoint)
	}
	if len(want) > 0 {
		t.Errorf("endpoints never called: %v", want)
	}
	if rep.Memory.PeakBytes <= 0 {
		t.Errorf("no server memory measured: %s", rep.Memory.Error)
	}
}

// The generated log must be what gatewise reads without help: every row
// used, as LiteLLM SpendLogs, on the architecture's two routes.
func TestSpendLogIsRead(t *testing.T) {
	const size = 1 << 20
	data, err := io.ReadAll(newSpendLog(size, 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < size || len(data) > size+approxRowBytes*2 || data[len(data)-1] != '\n' {
		t.Fatalf("log of %d bytes, want just over %d ending in a newline", len(data), size)
	}
	again, _ := io.ReadAll(newSpendLog(size, 3))
	if !bytes.Equal(data, again) {
		t.Error("the same user's log differs between two reads")
	}
	routes := []traffic.Route{
		{Name: "answer", Models: []string{"gpt-4.1-mini", "gpt-4.1-nano"}},
		{Name: "summarize-ticket", Models: []string{"gpt-4.1-nano"}},
	}
	_, sum, err := traffic.Read(context.Background(), bytes.NewReader(data), traffic.ReadOptions{Routes: routes, RouteBy: traffic.RouteByModel})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Format != "litellm-spendlogs" || sum.RowsUsed == 0 || sum.RowsUsed != sum.RowsRead {
		t.Errorf("read as %q, %d of %d rows used, skipped %v", sum.Format, sum.RowsUsed, sum.RowsRead, sum.RowsSkipped)
	}
	for _, r := range sum.Routes {
		if r.Name != "answer" && r.Name != "summarize-ticket" {
			t.Errorf("rows on route %q", r.Name)
		}
	}
	if span := sum.End.Sub(sum.Start); span < 25*24*time.Hour || span > 35*24*time.Hour {
		t.Errorf("log spans %s, want about 30 days", span)
	}
}

func TestAppendStampMatchesTimeFormat(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2025, 4, 1, 9, 5, 7, 42_000_000, time.UTC),
	} {
		if got, want := string(appendStamp(nil, tm)), tm.Format("2006-01-02 15:04:05.000+00"); got != want {
			t.Errorf("appendStamp(%v) = %q, want %q", tm, got, want)
		}
	}
}

func TestFlagsRefuseAnythingButLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:0": true, "[::1]:8080": true, "localhost:9000": true,
		"0.0.0.0:8080": false, "192.168.1.10:80": false, "example.com:80": false, "[::]:8080": false,
		"127.0.0.1": false,
	} {
		_, err := parseFlags([]string{"--addr", addr}, io.Discard)
		var ue *usageError
		if ok != (err == nil) || (err != nil && !errors.As(err, &ue)) {
			t.Errorf("--addr %s: err %v, want ok %v", addr, err, ok)
		}
	}
	for _, args := range [][]string{{"--users", "0"}, {"--log-mb", "0"}, {"--trials", "0"}, {"--timeout", "0s"}, {"extra"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%s: accepted", strings.Join(args, " "))
		}
	}
}

func TestQuantileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for q, want := range map[float64]time.Duration{0.5: 50, 0.95: 95, 0.99: 99, 1: 100} {
		if got := quantile(d, q); got != want {
			t.Errorf("quantile(1..100, %g) = %d, want %d", q, got, want)
		}
	}
	if got := quantile(d[:1], 0.99); got != 1 {
		t.Errorf("quantile of one value = %d", got)
	}
}
