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

const ingestUsage = `Usage: gatewise ingest FILE [FILE...] [--format auto|NAME] [--map SPEC] [--start TIME] [--ids COLUMN|none] [--overlap keep|drop] [--json]

Reads a request log (CSV, JSON or JSONL, optionally gzip-compressed; - for
standard input) and prints what gatewise would simulate from it. Exit status
0 when the file is usable, 1 when it is not, 2 for bad usage.

Several files are read as one log, as an upload on the web combines them
(LiteLLM's SpendLogs beside its ErrorLogs, one export a day): a file with
the same bytes as an earlier one is refused, rows whose request id an
earlier file has are skipped, and where two files cover the same hours the
report says so with each file's requests in them. Where request ids cannot
tell repeated requests from different ones, --overlap keep (the default)
keeps both files' requests there and --overlap drop leaves out the later
file's. If any file is missing, unreadable or refused, nothing is combined.

--format, --map, --start, --ids and --overlap apply to every file when
given once; given once per file, the n-th applies to the n-th file (an
empty value, '', for a file read as detected).

Formats: auto, %s.
A mapping names columns per field: --map 'timestamp=Time:unix_ms,model=Model,input_tokens=In'.

`

// ingestCmd reads a log into a traffic profile and prints its summary.
func ingestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lf := logFlags{format: perFile{def: "auto"}}
	fs.Var(&lf.format, "format", "`name` of the log format, or auto to detect it")
	fs.Var(&lf.mapping, "map", "column mapping `spec`: field=column[:unit],...")
	fs.Var(&lf.start, "start", "start `time` for traces whose clock counts from zero (RFC 3339 or YYYY-MM-DD; default Monday 2026-01-05 00:00 UTC)")
	fs.Var(&lf.ids, "ids", "with several files: the request id `column` they are checked by (default: the format's), or none")
	fs.Var(&lf.overlap, "overlap", "with several files, `keep|drop` a later file's requests where it overlaps earlier files and request ids cannot tell (default keep)")
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
	if len(files) == 0 {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("ingest needs one file or more: gatewise ingest FILE [FILE...]")}
	}
	if err := lf.check(len(files)); err != nil {
		return err
	}
	// The catalog is read only for a log that names models: a trace that
	// names none (Azure's) is summarised without it.
	known := sync.OnceValue(func() func(string) bool { return simulator.KnownModel(pricing.Default()) })
	base := traffic.ReadOptions{BinWidth: *bin, MaxBadFraction: *maxBad, Known: func(m string) bool { return known()(m) }}
	opts := make([]traffic.ReadOptions, len(files))
	for i := range files {
		var err error
		if opts[i], err = lf.options(base, i); err != nil {
			return err
		}
	}
	if len(files) > 1 {
		return ingestSeveral(ctx, files, opts, &lf, *asJSON, stdout)
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
	_, sum, readErr := traffic.Read(ctx, r, opts[0])
	if errors.Is(readErr, context.Canceled) {
		return readErr
	}
	if *asJSON {
		if err := writeFileJSON(stdout, name, sum, readErr); err != nil {
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

// writeFileJSON prints one file's summary as JSON, with the error that
// made it unusable.
func writeFileJSON(w io.Writer, name string, sum traffic.Summary, readErr error) error {
	out := struct {
		File string `json:"file"`
		traffic.Summary
		Error string `json:"error,omitempty"`
	}{File: name, Summary: sum}
	if readErr != nil {
		out.Error = readErr.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// ingestSeveral reads several files as one log and prints each file, what
// combining them found and the summary of the whole; as JSON, the
// combination's summary with every file's. A file that cannot be used is
// printed alone, and nothing is combined.
func ingestSeveral(ctx context.Context, names []string, opts []traffic.ReadOptions, lf *logFlags, asJSON bool, stdout io.Writer) error {
	_, c, files, err := readLogs(ctx, names, opts, lf)
	var le *logError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &le):
		if asJSON {
			if jerr := writeFileJSON(stdout, le.file.Name, le.file.Summary, le.err); jerr != nil {
				return jerr
			}
		} else if le.file.Summary.Format != "" {
			writeSummary(stdout, le.file.Name, le.file.Summary)
		}
		return &exitError{code: 1, err: fmt.Errorf("%w; no file was combined", le)}
	case err != nil:
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return &exitError{code: 1, err: err}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	writeFiles(stdout, c, files)
	fmt.Fprintln(stdout)
	whole := c.Summary
	if whole.Mapping == "" {
		whole.Mapping = "each file's own (above)"
	}
	writeSummary(stdout, combinedName(names), whole)
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
