package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"gatewise/pricing"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

const ingestUsage = `Usage: gatewise ingest FILE [--format auto|NAME] [--map SPEC] [--start TIME] [--json]

Reads a request log (CSV, JSON or JSONL, optionally gzip-compressed; - for
standard input) and prints what gatewise would simulate from it. Exit status
0 when the file is usable, 1 when it is not, 2 for bad usage.

Formats: auto, %s.
A mapping names columns per field: --map 'timestamp=Time:unix_ms,model=Model,input_tokens=In'.

`

// ingestCmd reads a log into a traffic profile and prints its summary.
func ingestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "auto", "`name` of the log format, or auto to detect it")
	mapSpec := fs.String("map", "", "column mapping `spec`: field=column[:unit],...")
	start := fs.String("start", "", "start `time` for traces whose clock counts from zero (RFC 3339 or YYYY-MM-DD; default Monday 2026-01-05 00:00 UTC)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	bin := fs.Duration("bin", traffic.DefaultBinWidth, "time bin `width` of the profile")
	maxBad := fs.Float64("max-bad", traffic.DefaultMaxBadFraction, "refuse the file when more than this `fraction` of rows is bad")
	fs.Usage = func() {
		fmt.Fprintf(stderr, ingestUsage, strings.Join(traffic.FormatNames(), ", "))
		fs.PrintDefaults()
	}
	// Flags may follow the file (gatewise ingest FILE --json): the flag
	// package stops at the first non-flag, so parse again after each one.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return usageError(err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("ingest needs one file: gatewise ingest FILE")}
	}
	// The catalog is read only for a log that names models: a trace that
	// names none (Azure's) is summarised without it.
	known := sync.OnceValue(func() func(string) bool { return simulator.KnownModel(pricing.Default()) })
	opts := traffic.ReadOptions{Format: *format, BinWidth: *bin, MaxBadFraction: *maxBad, Known: func(m string) bool { return known()(m) }}
	var err error
	if opts.Mapping, err = traffic.ParseMapping(*mapSpec); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--map: %w", err)}
	}
	if *start != "" {
		if opts.Start, err = parseStart(*start); err != nil {
			return &exitError{code: 2, err: err}
		}
	}

	if err := opts.Validate(); err != nil {
		return &exitError{code: 2, err: err}
	}

	name := files[0]
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		defer f.Close()
		r = f
	}
	_, sum, readErr := traffic.Read(ctx, r, opts)
	if errors.Is(readErr, context.Canceled) {
		return readErr
	}
	if *asJSON {
		out := struct {
			File string `json:"file"`
			traffic.Summary
			Error string `json:"error,omitempty"`
		}{File: name, Summary: sum}
		if readErr != nil {
			out.Error = readErr.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if sum.Format != "" {
		writeSummary(stdout, name, sum)
	}
	if readErr != nil {
		return &exitError{code: 1, err: fmt.Errorf("%s: %w", name, readErr)}
	}
	return nil
}

func parseStart(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--start %q: want a time such as 2024-01-01T00:00:00Z or 2024-01-01", s)
}

// writeSummary prints the summary the way the upload page shows it.
func writeSummary(w io.Writer, name string, s traffic.Summary) {
	gz := ""
	if s.Gzip {
		gz = ", gzip"
	}
	fmt.Fprintf(w, "%s: %s (%s), %s%s, %s\n", name, s.Format, s.FormatTitle, s.Container, gz, bytesHuman(s.Bytes))
	fmt.Fprintf(w, "mapping: %s\n", s.Mapping)
	skipped := s.RowsRead - s.RowsUsed
	fmt.Fprintf(w, "rows: %d read, %d used, %d skipped\n", s.RowsRead, s.RowsUsed, skipped)
	for reason, n := range sortedCounts(s.RowsSkipped) {
		fmt.Fprintf(w, "  %-24s %d\n", reason, n)
	}
	for _, p := range s.Examples {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if s.RowsSkipped[traffic.ReasonOldTime] > 0 {
		fmt.Fprintln(w, "  hint: set the timestamp's unit with --map timestamp=COLUMN:unix_ms (epoch milliseconds), or :offset_s for a clock counting from zero")
	}
	if s.Clock.Text != "" {
		fmt.Fprintf(w, "clock: %s", s.Clock.Text)
		if s.Clock.Relative {
			fmt.Fprint(w, "; --start sets another start")
		}
		fmt.Fprintln(w)
	}
	if s.RowsUsed == 0 {
		return
	}
	rate, noun := traffic.FormatRate(s.RequestsPerDay), "requests"
	if rate == "1" {
		noun = "request"
	}
	fmt.Fprintf(w, "span: %s to %s (%s), %s %s a day\n",
		s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339), traffic.DurationWords(s.End.Sub(s.Start)), rate, noun)
	fmt.Fprintf(w, "requests: %d  input tokens: %d (cached %d)  output tokens: %d\n",
		s.Requests, s.InputTokens, s.CachedInputTokens, s.OutputTokens)
	var failed int64
	var parts []string
	for class, n := range sortedCounts(s.Errors) {
		failed += n
		parts = append(parts, fmt.Sprintf("%s %d", class, n))
	}
	fmt.Fprintf(w, "errors: %d (%.2f%%): %s\n", failed, 100*float64(failed)/float64(max(s.Requests, 1)), strings.Join(parts, ", "))
	if l := s.Latency; l != nil {
		fmt.Fprintf(w, "latency: %d requests, mean %.0f ms, p50 ~%.0f ms, p95 ~%.0f ms, p99 ~%.0f ms, max %.0f ms\n",
			l.Count, l.MeanMs, l.P50Ms, l.P95Ms, l.P99Ms, l.MaxMs)
	}
	if s.CostRows > 0 {
		fmt.Fprintf(w, "cost reported: $%.4f on %s (the log's own figure; simulations price requests from the catalog)\n", s.CostUSD, traffic.Plural(s.CostRows, "row"))
	}
	if s.Users > 0 {
		at := ""
		if s.UsersAtLeast {
			at = "at least "
		}
		fmt.Fprintf(w, "users: %s%s distinct\n", at, traffic.FormatCount(s.Users))
	}
	fmt.Fprintf(w, "models (%d):\n", len(s.Models))
	for i, m := range s.Models {
		if i == 20 {
			fmt.Fprintf(w, "  … %d more\n", len(s.Models)-20)
			break
		}
		note := ""
		if m.Known != nil && !*m.Known {
			note = "  (not in the price catalog)"
		}
		fmt.Fprintf(w, "  %-40s %d%s\n", m.Name, m.Requests, note)
	}
	if len(s.Routes) > 1 {
		fmt.Fprintln(w, "routes:")
		for _, r := range s.Routes {
			fmt.Fprintf(w, "  %-40s %d\n", r.Name, r.Requests)
		}
	}
	for _, x := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
	for _, x := range s.Notes {
		fmt.Fprintf(w, "note: %s\n", x)
	}
}

// sortedCounts iterates a count map in key order.
func sortedCounts(m map[string]int64) func(func(string, int64) bool) {
	return func(yield func(string, int64) bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

func bytesHuman(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
