package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is what a load run measured; its JSON form is --json's output.
type report struct {
	Settings struct {
		Users  int     `json:"users"`
		LogMB  float64 `json:"log_mb"`
		Trials int     `json:"trials"`
		Reads  int     `json:"reads"`
		CPUs   int     `json:"cpus"`
	} `json:"settings"`
	// LoadAverage is the machine's 1, 5 and 15-minute load before and
	// after the users: on a shared machine the figures depend on it.
	LoadAverage struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"load_average"`
	WallSeconds float64 `json:"wall_seconds"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	// PerSecond is all requests over the wall time.
	PerSecond float64 `json:"requests_per_second"`
	// UploadMB is what the server accepted: successful uploads × --log-mb.
	UploadMB  float64         `json:"uploaded_mb"`
	Endpoints []endpointStats `json:"endpoints"`
	Runs      runsReport      `json:"runs"`
	Memory    memoryReport    `json:"server_memory"`
	// ToolPeakBytes is this program's own VmHWM: the logs are generated as
	// they are sent, so it stays small whatever --log-mb is.
	ToolPeakBytes int64 `json:"tool_peak_bytes"`
	// ClientAddresses is how many loopback addresses the users came from.
	ClientAddresses int          `json:"client_addresses"`
	Server          serverReport `json:"server"`
	// Failures are the first failure messages, each naming its endpoint.
	Failures     []string `json:"failures,omitempty"`
	FailureCount int      `json:"failure_count"`
}

type runsReport struct {
	Users    int            `json:"users"`
	Queued   int            `json:"queued"`
	Done     int            `json:"done"`
	ByStatus map[string]int `json:"by_status"` // last status of each queued run
	// MaxQueuePosition is the deepest place in the queue any run reported:
	// runs wait instead of all running at once.
	MaxQueuePosition int `json:"max_queue_position"`
	// Unfinished counts users who did not get through their session.
	Unfinished int `json:"unfinished_sessions"`
}

type serverReport struct {
	Stop     stopResult `json:"stop"`
	Crashed  bool       `json:"crashed"`
	LogLines int        `json:"log_lines"`
	// Log holds the first lines the server wrote at --log-level warn.
	Log []string `json:"log,omitempty"`
}

func newReport(cfg config, wall time.Duration, rec *recorder, results []userResult, mem memoryReport) *report {
	r := &report{WallSeconds: wall.Seconds(), Memory: mem}
	r.Settings.Users, r.Settings.LogMB, r.Settings.Trials, r.Settings.Reads = cfg.users, cfg.logMB, cfg.trials, cfg.reads
	r.Settings.CPUs = runtime.NumCPU()
	r.Endpoints = rec.stats(wall)
	for _, e := range r.Endpoints {
		r.Requests += e.Count
		r.Errors += e.Errors
		if e.Endpoint == "POST /api/v1/uploads" {
			r.UploadMB = float64(e.Count-e.Errors) * cfg.logMB
		}
	}
	if wall > 0 {
		r.PerSecond = float64(r.Requests) / wall.Seconds()
	}
	r.Runs = runsReport{Users: len(results), ByStatus: map[string]int{}}
	for _, u := range results {
		if u.RunStatus != "" {
			r.Runs.Queued++
			r.Runs.ByStatus[u.RunStatus]++
			if u.RunStatus == "done" {
				r.Runs.Done++
			}
		}
		r.Runs.MaxQueuePosition = max(r.Runs.MaxQueuePosition, u.MaxQueue)
		if u.Err != nil {
			r.Runs.Unfinished++
		}
	}
	rec.mu.Lock()
	r.Failures, r.FailureCount = slices.Clone(rec.failures), rec.failed
	rec.mu.Unlock()
	return r
}

// failed reports whether anything went wrong: a failed request or check, a
// run that did not end done, a session cut short, a crashed server.
func (r *report) failed() bool {
	return r.FailureCount > 0 || r.Runs.Unfinished > 0 || r.Server.Crashed
}

// print writes the report as tables for people.
func (r *report) print(w io.Writer) {
	s := r.Settings
	fmt.Fprintf(w, "\ngatewise load: %d users, %g MiB log each, %d trials, %d read rounds, %d CPUs\n\n", s.Users, s.LogMB, s.Trials, s.Reads, s.CPUs)
	width := len("endpoint")
	for _, e := range r.Endpoints {
		width = max(width, len(e.Endpoint))
	}
	row := "%-*s %7s %9s %9s %9s %9s %9s %8s  %s\n"
	fmt.Fprintf(w, row, width, "endpoint", "count", "min ms", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s", "errors")
	for _, e := range r.Endpoints {
		fmt.Fprintf(w, row, width, e.Endpoint, fmt.Sprint(e.Count), fmtMs(e.Minms), fmtMs(e.P50ms), fmtMs(e.P95ms), fmtMs(e.P99ms), fmtMs(e.Maxms), fmt.Sprintf("%.2f", e.PerSec), errorCell(e))
	}
	fmt.Fprintf(w, row, width, "all", fmt.Sprint(r.Requests), "", "", "", "", "", fmt.Sprintf("%.2f", r.PerSecond), fmt.Sprint(r.Errors))
	fmt.Fprintf(w, "\nload average         %s before, %s after (1, 5, 15 min)\n", r.LoadAverage.Before, r.LoadAverage.After)
	fmt.Fprintf(w, "wall time            %s\n", (time.Duration(r.WallSeconds * float64(time.Second))).Round(time.Millisecond))
	fmt.Fprintf(w, "uploaded             %.0f MiB (%.1f MiB/s)\n", r.UploadMB, r.UploadMB/max(r.WallSeconds, 1e-9))
	fmt.Fprintf(w, "runs                 %d of %d done (%s), max queue position %d\n", r.Runs.Done, r.Runs.Users, statusList(r.Runs.ByStatus), r.Runs.MaxQueuePosition)
	m := r.Memory
	if m.Error != "" {
		fmt.Fprintf(w, "server memory        unknown: %s\n", m.Error)
	} else {
		fmt.Fprintf(w, "server memory        peak %s (VmHWM), largest sampled RSS %s, RSS at the end %s (%d samples)\n", mib(m.PeakBytes), mib(m.PeakSampledBytes), mib(m.LastBytes), m.Samples)
	}
	fmt.Fprintf(w, "load tool memory     peak %s (VmHWM); users came from %d loopback address(es)\n", mib(r.ToolPeakBytes), r.ClientAddresses)
	fmt.Fprintf(w, "server stop          %s, exit %s, in %s\n", r.Server.Stop.Signal, r.Server.Stop.Exit, r.Server.Stop.Took)
	if r.Server.Crashed {
		fmt.Fprintln(w, "server               CRASHED during the load")
	}
	fmt.Fprintf(w, "server log lines     %d (at warn)\n", r.Server.LogLines)
	if r.failed() {
		fmt.Fprintf(w, "\nfailures: %d (%d sessions cut short)\n", r.FailureCount, r.Runs.Unfinished)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s\n", f)
		}
		if r.FailureCount > len(r.Failures) {
			fmt.Fprintf(w, "  … and %d more\n", r.FailureCount-len(r.Failures))
		}
	} else {
		fmt.Fprintln(w, "\nno failures")
	}
}

func errorCell(e endpointStats) string {
	if e.Errors == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", e.Errors, statusList(e.ByStatus))
}

// statusList prints counts by key, in key order: "done 48, failed 2".
func statusList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none queued"
	}
	return strings.Join(parts, ", ")
}

func fmtMs(v float64) string { return fmt.Sprintf("%.1f", v) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// loadAverage reads /proc/loadavg's three averages, or says why not.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func (r *report) writeJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}
