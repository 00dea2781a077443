package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"gatewise/internal/resultcsv"
	"gatewise/memo"
	"gatewise/pricing"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
	"gatewise/version"
)

// scenarioFlags collects repeated --scenario names.
type scenarioFlags []string

func (s *scenarioFlags) String() string     { return strings.Join(*s, ",") }
func (s *scenarioFlags) Set(v string) error { *s = append(*s, v); return nil }

// simulateCmd runs the Monte Carlo simulation for an architecture file and
// prints a table per scenario, or the whole result as JSON.
func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "architecture `file` (YAML or JSON)")
	var logs logFiles
	fs.Var(&logs, "logs", "request log `file` to replay instead of the synthetic traffic (repeatable: several files are read as one log, as gatewise ingest reads them)")
	lf := logFlags{format: perFile{def: "auto"}}
	fs.Var(&lf.format, "format", "log `format` (see gatewise ingest); once for every log, or once per --logs")
	fs.Var(&lf.mapping, "map", "log column mapping `spec` (see gatewise ingest); once for every log, or once per --logs")
	fs.Var(&lf.start, "start", "start `time` of a log with relative timestamps; once for every log, or once per --logs")
	fs.Var(&lf.ids, "ids", "with several --logs: the request id `column` they are checked by (default: the format's), or none")
	fs.Var(&lf.overlap, "overlap", "with several --logs, `keep|drop` a later log's requests where it overlaps earlier ones and request ids cannot tell (default keep)")
	trials := fs.Int("trials", 0, "trials (default: the file's)")
	seed := fs.Uint64("seed", 0, "seed (default: the file's)")
	var scenarios scenarioFlags
	fs.Var(&scenarios, "scenario", "scenario `name` to run, with the file's parameters if it has any, or a label from the results (repeatable; default: the file's)")
	jsonOut := fs.String("json", "", "write the full result as JSON to `FILE`, or - for standard output")
	csvOut := fs.String("csv", "", "write the result as CSV to `FILE` (one row per option and scenario, the web's result.csv), or - for standard output")
	priceFile := fs.String("prices", "", "lay a price `FILE` (LiteLLM, OpenRouter, Portkey, genai-prices or Helicone) over the catalog")
	priceDate := fs.String("price-date", "", "with --prices: the `day` whose prices a file with a price history (genai-prices) answers: YYYY-MM-DD, log (the log's first day) or today (default)")
	memoOut := fs.String("memo", "", "write the decision memo as Markdown to `FILE`")
	memoHTML := fs.String("memo-html", "", "write the memo as a standalone HTML page to `FILE`")
	memoPDF := fs.String("memo-pdf", "", "write the memo as a one-page PDF to `FILE`")
	paperName := fs.String("paper", "a4", "paper of --memo-pdf: `a4` or letter")
	rollout := fs.String("rollout", "", "write the chosen option's rollout bundle into `DIR` (the runner-up's in DIR/runner-up)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gatewise simulate -f ARCH.yaml [--logs FILE]... [--format F] [--map SPEC] [--overlap keep|drop] [--trials N] [--seed S] [--scenario NAME]... [--prices FILE [--price-date YYYY-MM-DD|log|today]] [--json OUT|-] [--csv OUT|-] [--memo OUT.md] [--memo-html OUT.html] [--memo-pdf OUT.pdf [--paper a4|letter]] [--rollout DIR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if *file == "" || fs.NArg() > 0 {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("simulate needs an architecture file: gatewise simulate -f ARCH.yaml")}
	}
	paper, err := memo.ParsePaper(*paperName)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--paper: %w", err)}
	}
	if err := lf.check(max(len(logs), 1)); err != nil {
		return err
	}
	if *jsonOut == "-" && *csvOut == "-" {
		return &exitError{code: 2, err: errors.New("--json - and --csv - would both write to standard output; send one to a file")}
	}
	if err := checkPriceDate(*priceFile, *priceDate); err != nil {
		return err
	}
	cat := pricing.Default()
	spec, err := loadArchitecture(*file, cat, stderr)
	if err != nil {
		return err
	}
	var opts simulator.Options
	opts.Trials, opts.Seed = *trials, *seed
	if len(scenarios) > 0 {
		if opts.Scenarios, err = simulator.SelectScenarios(spec.Scenarios, scenarios); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--scenario: %w", err)}
		}
	}
	if opts.Seed == 0 {
		opts.Seed = spec.Simulation.Seed
	}

	logFiles := []string(logs)
	if len(logFiles) == 0 && spec.Traffic.Logs != "" {
		logFile := spec.Traffic.Logs
		if !filepath.IsAbs(logFile) && *file != "-" {
			logFile = filepath.Join(filepath.Dir(*file), logFile)
		}
		logFiles = []string{logFile}
	}
	var profile *traffic.Profile
	switch {
	case len(logFiles) == 1:
		profile, opts.Log, err = readLogProfile(ctx, spec, cat, logFiles[0], lf.format.at(0), lf.mapping.at(0), lf.start.at(0), stderr)
	case len(logFiles) > 1:
		profile, opts.Log, err = readLogProfiles(ctx, spec, cat, logFiles, &lf, stderr)
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
	default:
		profile, err = traffic.Synthesize(ctx, spec.SyntheticParams(), opts.Seed)
	}
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if *priceFile != "" {
		if cat, err = pricedCatalog(cat, *priceFile, *priceDate, opts.Log, stderr); err != nil {
			return err
		}
	}

	began := time.Now()
	lastPct := -1
	opts.Progress = func(done, total int) {
		if pct := done * 100 / total; pct/25 != lastPct/25 {
			lastPct = pct
			fmt.Fprintf(stderr, "simulating: %d %% of %d trials\n", pct, total)
		}
	}
	res, err := simulator.Run(ctx, spec, profile, cat, opts)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stderr, "%d trials in %s\n", res.Trials, time.Since(began).Round(time.Millisecond))
	if err := writeMemo(ctx, spec, profile, cat, res, memoFiles{md: *memoOut, html: *memoHTML, pdf: *memoPDF, paper: paper}); err != nil {
		return err
	}
	if *rollout != "" {
		if err := writeRollouts(spec, cat, res, *rollout, stderr); err != nil {
			return err
		}
	}

	// Files first, then at most one of them to standard output in place of
	// the table.
	var toStdout []byte
	if *csvOut != "" {
		var out bytes.Buffer
		if err := resultcsv.Write(&out, res); err != nil {
			return err
		}
		if *csvOut == "-" {
			toStdout = out.Bytes()
		} else if err := os.WriteFile(*csvOut, out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if *jsonOut != "" {
		out, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		out = append(out, '\n')
		if *jsonOut == "-" {
			toStdout = out
		} else if err := os.WriteFile(*jsonOut, out, 0o644); err != nil {
			return err
		}
	}
	if toStdout != nil {
		_, err = stdout.Write(toStdout)
		return err
	}
	return printSimulation(stdout, spec, res)
}

// checkPriceDate refuses --price-date without --prices, or a day that is
// neither YYYY-MM-DD, log nor today, before anything is read.
func checkPriceDate(file, day string) error {
	if day == "" {
		return nil
	}
	if file == "" {
		return &exitError{code: 2, err: errors.New("--price-date needs --prices FILE: it chooses the day whose prices the file answers")}
	}
	if day == "log" || day == "today" {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--price-date: %q is not YYYY-MM-DD, log or today", day)}
	}
	return nil
}

// pricedCatalog lays a price file over the catalog at the day asked for:
// today, a date, or the first day of the log the run replays. A file
// without dated prices answers the same whatever the day.
func pricedCatalog(cat *pricing.Catalog, file, day string, log *simulator.LogSource, stderr io.Writer) (*pricing.Catalog, error) {
	o, err := importFile(file, stderr)
	if err != nil {
		return nil, err
	}
	what := day
	switch day {
	case "", "today":
		day, what = pricing.Today(), "today"
	case "log":
		if log == nil || log.Start.IsZero() {
			return nil, &exitError{code: 2, err: errors.New("--price-date log needs a request log (--logs or traffic.logs) with timestamps")}
		}
		day = log.Start.UTC().Format(time.DateOnly)
		what = "the log's first day"
	}
	if !o.HasHistory() {
		if what != "today" {
			fmt.Fprintf(stderr, "%s: the file dates none of its prices, so --price-date changes nothing\n", file)
		}
		return cat.WithOverlay(o), nil
	}
	if o, err = o.At(day); err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("--price-date: %w", err)}
	}
	if what != day {
		what = day + ", " + what
	}
	fmt.Fprintf(stderr, "%s: prices in force on %s\n", file, what)
	return cat.WithOverlay(o), nil
}

// loadArchitecture reads and validates an architecture file for a command
// that runs it: every problem goes to stderr as FILE:LINE:COLUMN, and the
// command exits 1.
func loadArchitecture(file string, cat *pricing.Catalog, stderr io.Writer) (simulator.Spec, error) {
	data, err := readInput(file)
	if err != nil {
		return simulator.Spec{}, err
	}
	spec, err := simulator.Load(data, cat)
	var problems simulator.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(stderr, formatProblem(file, p))
		}
		return simulator.Spec{}, &exitError{code: 1, err: fmt.Errorf("%s has %d problems; gatewise check -f %s lists them", file, len(problems), file)}
	}
	return spec, err
}

// memoFiles are where simulate writes the memo, "" for a form not asked
// for, and the PDF's paper.
type memoFiles struct {
	md, html, pdf string
	paper         memo.Paper
}

// writeMemo writes the decision memo (Markdown, HTML, PDF) when asked. The
// incident-rate sensitivity re-runs the simulation on up to
// memo.OutageTrials trials with the same seed.
func writeMemo(ctx context.Context, spec simulator.Spec, profile *traffic.Profile, cat *pricing.Catalog, res simulator.Result, to memoFiles) error {
	mdPath, htmlPath, pdfPath := to.md, to.html, to.pdf
	if mdPath == "" && htmlPath == "" && pdfPath == "" {
		return nil
	}
	outages, err := memo.Outages(ctx, spec, profile, cat, res.Seed, min(memo.OutageTrials, res.Trials))
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	var md bytes.Buffer
	in := memo.Input{Spec: spec, Result: res, Catalog: cat, Now: time.Now().UTC(), Version: version.String(), Outages: outages}
	if err := memo.Write(&md, in); err != nil {
		return &exitError{code: 1, err: err}
	}
	if mdPath != "" {
		if err := os.WriteFile(mdPath, md.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if htmlPath != "" {
		page, err := memo.Page(md.Bytes())
		if err != nil {
			return err
		}
		if err := os.WriteFile(htmlPath, page, 0o644); err != nil {
			return err
		}
	}
	if pdfPath != "" {
		pdf, err := memo.PDF(md.Bytes(), to.paper)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		if err := os.WriteFile(pdfPath, pdf, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeRollouts writes the chosen option's bundle into dir and the
// runner-up's into dir/runner-up, from the plans the run simulated.
func writeRollouts(spec simulator.Spec, cat *pricing.Catalog, res simulator.Result, dir string, stderr io.Writer) error {
	d, err := memo.Score(spec, res, cat)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	ids := []string{d.Chosen}
	for _, o := range d.Options {
		if o.Gateway != d.Chosen {
			ids = append(ids, o.Gateway)
			break
		}
	}
	for i, id := range ids {
		plan, ok := res.PlanOf(id)
		if !ok {
			return fmt.Errorf("the result has no plan for %s", id)
		}
		b, err := memo.Rollout(spec, plan, cat)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		out := dir
		if i > 0 {
			out = filepath.Join(dir, "runner-up")
		}
		if err := writeBundle(b, out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "rollout bundle for %s: %s\n", id, out)
	}
	return nil
}

// writeBundle writes a bundle's files under dir, creating folders.
func writeBundle(b memo.Bundle, dir string) error {
	for _, f := range b.Files {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readLogProfile reads a request log with the architecture's routes (by
// model) and origin mix.
func readLogProfile(ctx context.Context, spec simulator.Spec, cat *pricing.Catalog, name, format, mapping, start string, stderr io.Writer) (*traffic.Profile, *simulator.LogSource, error) {
	opts := traffic.ReadOptions{Format: format, OriginMix: spec.Traffic.Origin, RouteBy: traffic.RouteByModel}
	for _, r := range spec.Routes {
		opts.Routes = append(opts.Routes, traffic.Route{Name: r.Name, Models: r.Models})
	}
	opts.Known = simulator.KnownModel(cat)
	if mapping != "" {
		mp, err := traffic.ParseMapping(mapping)
		if err != nil {
			return nil, nil, err
		}
		opts.Mapping = mp
	}
	if start != "" {
		t, err := parseStart(start)
		if err != nil {
			return nil, nil, err
		}
		opts.Start = t
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	profile, sum, err := traffic.Read(ctx, f, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(stderr, "%s: %d requests over %s (%s)\n", name, profile.Total.Requests, profile.End().Sub(profile.Start).Round(time.Minute), sum.Format)
	return profile, simulator.NewLogSource(filepath.Base(name), sum), nil
}

// readLogProfiles reads several request logs as one, as gatewise ingest
// does, and prints each file and what combining them found.
func readLogProfiles(ctx context.Context, spec simulator.Spec, cat *pricing.Catalog, names []string, lf *logFlags, stderr io.Writer) (*traffic.Profile, *simulator.LogSource, error) {
	base := traffic.ReadOptions{OriginMix: spec.Traffic.Origin, RouteBy: traffic.RouteByModel, Known: simulator.KnownModel(cat)}
	for _, r := range spec.Routes {
		base.Routes = append(base.Routes, traffic.Route{Name: r.Name, Models: r.Models})
	}
	opts := make([]traffic.ReadOptions, len(names))
	for i := range names {
		var err error
		if opts[i], err = lf.options(base, i); err != nil {
			return nil, nil, err
		}
	}
	profile, c, files, err := readLogs(ctx, names, opts, lf)
	var le *logError
	if errors.As(err, &le) {
		return nil, nil, fmt.Errorf("%w; no file was combined", le)
	}
	if err != nil {
		return nil, nil, err
	}
	writeFiles(stderr, c, files)
	fmt.Fprintf(stderr, "%d files: %d requests over %s (%s)\n", len(names), profile.Total.Requests, profile.End().Sub(profile.Start).Round(time.Minute), c.Format)
	bases := make([]string, len(names))
	for i, n := range names {
		bases[i] = filepath.Base(n)
	}
	src := simulator.NewLogSource(combinedName(bases), c.Summary)
	for i, f := range c.Files {
		l := simulator.LogSource{File: bases[i], Format: f.Format, RowsRead: f.RowsRead, RowsUsed: f.RowsUsed,
			Start: f.Start, End: f.End, RequestsPerDay: f.RequestsPerDay}
		for _, n := range f.RowsSkipped {
			l.RowsSkipped += n
		}
		src.Files = append(src.Files, l)
	}
	return profile, src, nil
}

// printSimulation writes a table per scenario.
func printSimulation(w io.Writer, spec simulator.Spec, res simulator.Result) error {
	fmt.Fprintf(w, "%s: %d trials, seed %d, prices as of %s\n", spec.Name, res.Trials, res.Seed, res.CatalogAsOf)
	var excluded []string
	scenario := ""
	var tw *tabwriter.Writer
	flush := func() error {
		if tw != nil {
			return tw.Flush()
		}
		return nil
	}
	for _, r := range res.Results {
		if r.Excluded != nil {
			if r.Scenario == res.Results[0].Scenario {
				excluded = append(excluded, r.Gateway+": "+*r.Excluded)
			}
			continue
		}
		if r.Scenario != scenario {
			if err := flush(); err != nil {
				return err
			}
			scenario = r.Scenario
			fmt.Fprintf(w, "\n%s\n", scenario)
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "OPTION\tSUCCESS\tFAILED/MONTH (p95)\tAVAILABLE\tADDED p95 ms\tCOST/MONTH p50 (p5–p95)\tLOGGED\tNEEDS MISSING\t")
		}
		missing := strings.Join(r.Observability.NeedsMissing, ",")
		if missing == "" {
			missing = "-"
		}
		fmt.Fprintf(tw, "%s\t%.4f %%\t%s (%s)\t%.3f %%\t%.0f\t$%s ($%s–$%s)\t%.0f %%\t%s\t\n",
			r.Gateway, r.SuccessRate.Mean*100, count(r.FailedRequests.Mean), count(r.FailedRequests.P95), r.Availability.Mean*100,
			r.LatencyAddedMS.P95, count(r.CostUSD.Total.P50), count(r.CostUSD.Total.P5), count(r.CostUSD.Total.P95),
			r.Observability.Coverage*100, missing)
	}
	if err := flush(); err != nil {
		return err
	}
	if len(excluded) > 0 {
		fmt.Fprintln(w, "\nExcluded by hard constraints:")
		for _, e := range excluded {
			fmt.Fprintln(w, "  -", e)
		}
	}
	if len(res.Providers) > 0 {
		// What the providers' status pages would show under the incident
		// model: the figure a team can hold against the real page.
		fmt.Fprintln(w, "\nProviders' status pages, as sampled (mean, p5–p95 month):")
		for _, p := range res.Providers {
			u, n := p.StatusPageUptime, p.IncidentsPerMonth
			fmt.Fprintf(w, "  - %s: uptime %.3f %% (%.3f–%.3f %%), %.1f incidents a month (%.0f–%.0f)\n",
				p.Provider, 100*u.Mean, 100*u.P5, 100*u.P95, n.Mean, n.P5, n.P95)
		}
	}
	if len(res.Assumptions) > 0 {
		fmt.Fprintln(w, "\nAssumptions:")
		for _, a := range res.Assumptions {
			fmt.Fprintln(w, "  -", a)
		}
	}
	return nil
}

// count writes a number with thousands separators and no decimals.
func count(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
