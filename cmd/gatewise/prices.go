package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"gatewise/pricing"
)

const pricesUsage = `Usage:
  gatewise prices list [--provider P] [--json]
  gatewise prices cost --model M [--provider P] [--region R] --input N --output N
                       [--cached-input N] [--cache-write N] [--reasoning N]
                       [--usage-style openai|anthropic] [--prices FILE [--price-date DAY]] [--json]
  gatewise prices diff FILE [--threshold PCT] [--price-date DAY] [--json]
  gatewise prices gateways [--requests-per-month N] [--spend-usd N] [needs] [--json]

Prices are USD. FILE is a LiteLLM, OpenRouter, Portkey, genai-prices or
Helicone price file; its format is recognised from its content. DAY
(YYYY-MM-DD, default today) picks the prices in force that day in a file
that dates them (genai-prices start dates, Helicone date ranges).
`

// pricesCmd answers price questions from the catalog: what a model costs,
// how the catalog compares with another price file, and what each gateway
// would cost a month.
func pricesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, pricesUsage)
		return &exitError{code: 2, err: errors.New("prices needs a subcommand: list, cost, diff or gateways")}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list":
		return pricesList(args, stdout, stderr)
	case "cost":
		return pricesCost(args, stdout, stderr)
	case "diff":
		return pricesDiff(args, stdout, stderr)
	case "gateways":
		return pricesGateways(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, pricesUsage)
		return nil
	}
	fmt.Fprint(stderr, pricesUsage)
	return &exitError{code: 2, err: fmt.Errorf("unknown prices subcommand %q", sub)}
}

// parseAll parses flags wherever they sit among the positional arguments,
// so "diff FILE --threshold 10" works as well as "diff --threshold 10 FILE".
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError(err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("prices "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// notFound turns the catalog's unknown-id errors into exit status 1.
func notFound(err error) error {
	var ue *pricing.UnknownError
	if errors.As(err, &ue) {
		return &exitError{code: 1, err: err}
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type listedPrice struct {
	Model           string               `json:"model"`
	Name            string               `json:"name"`
	Provider        string               `json:"provider"`
	ProviderModelID string               `json:"provider_model_id"`
	Regions         []string             `json:"regions"`
	USDPerMillion   pricing.TokenPrices  `json:"usd_per_million"`
	LongContext     *listedLongContext   `json:"long_context,omitempty"`
	Uplifts         []listedRegionUplift `json:"regional_uplifts,omitempty"`
	AsOf            string               `json:"as_of"`
	Source          string               `json:"source"`
}

type listedLongContext struct {
	AboveTokens   int                 `json:"above_tokens"`
	USDPerMillion pricing.TokenPrices `json:"usd_per_million"`
}

type listedRegionUplift struct {
	Region     string  `json:"region"`
	Multiplier float64 `json:"multiplier"`
}

func pricesList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("list", "Usage: gatewise prices list [--provider P] [--json]\n\nLists every model's list price per million tokens on each host.", stderr)
	provider := fs.String("provider", "", "only hosts of this provider `id`")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("prices list takes no arguments, got %q", pos[0])}
	}
	cat := pricing.Default()
	if *provider != "" {
		if _, ok := cat.Provider(*provider); !ok {
			return &exitError{code: 1, err: &pricing.UnknownError{Kind: "provider", ID: *provider, Closest: pricing.Closest(providerIDs(cat), *provider, 3)}}
		}
	}
	var rows []listedPrice
	rt := cat.RateTable()
	for _, m := range cat.Models() {
		for _, o := range m.Offers {
			if *provider != "" && o.Provider != *provider {
				continue
			}
			row := listedPrice{
				Model: m.ID, Name: m.Name, Provider: o.Provider, ProviderModelID: o.ModelID, Regions: o.Regions,
				USDPerMillion: o.Prices, AsOf: o.AsOf, Source: o.Source,
			}
			if o.LongContextAbove > 0 {
				row.LongContext = &listedLongContext{AboveTokens: o.LongContextAbove, USDPerMillion: o.Long}
			}
			for _, r := range o.Regions {
				if i, ok := rt.Lookup(m.ID, o.Provider, r); ok && rt.Price(i).Multiplier != 1 {
					row.Uplifts = append(row.Uplifts, listedRegionUplift{Region: r, Multiplier: rt.Price(i).Multiplier})
				}
			}
			rows = append(rows, row)
		}
	}
	if *asJSON {
		return writeJSON(stdout, rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MODEL\tPROVIDER\tINPUT\tOUTPUT\tCACHE READ\tCACHE WRITE\tLONG CONTEXT\tUPLIFT\tAS OF\t")
	for _, r := range rows {
		long := "-"
		if r.LongContext != nil {
			long = fmt.Sprintf(">%dk: %s/%s", r.LongContext.AboveTokens/1000, money(r.LongContext.USDPerMillion.Input), money(r.LongContext.USDPerMillion.Output))
		}
		uplift := "-"
		if len(r.Uplifts) > 0 {
			uplift = fmt.Sprintf("×%g in %d regions", r.Uplifts[0].Multiplier, len(r.Uplifts))
		}
		p := r.USDPerMillion
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Model, r.Provider, money(p.Input), money(p.Output), money(p.CacheRead), money(p.CacheWrite), long, uplift, r.AsOf)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d prices, USD per million tokens; see `gatewise prices list --json` for sources.\n", len(rows))
	return nil
}

func providerIDs(cat *pricing.Catalog) []string {
	var ids []string
	for _, p := range cat.Providers() {
		ids = append(ids, p.ID)
	}
	return ids
}

// money prints a per-million price without trailing zeros: 2, 0.075, 3.75.
func money(v float64) string {
	s := strings.TrimRight(fmt.Sprintf("%.4f", v), "0")
	return "$" + strings.TrimSuffix(s, ".")
}

// costResult is the --json answer of prices cost; scripts rely on its names.
type costResult struct {
	USD             float64 `json:"usd"`
	Provider        string  `json:"provider"`
	Model           string  `json:"model"`
	Region          string  `json:"region"`
	ProviderModelID string  `json:"provider_model_id"`
	Multiplier      float64 `json:"regional_multiplier"`
	AsOf            string  `json:"as_of"`
	Source          string  `json:"source"`
}

func pricesCost(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cost", "Usage: gatewise prices cost --model M [--provider P] [--region R] --input N --output N [...]\n\nPrints the USD cost of one request.", stderr)
	model := fs.String("model", "", "canonical model `id` (gatewise prices list shows them)")
	provider := fs.String("provider", "", "host `id`; default the model's first host")
	region := fs.String("region", "", "provider region `id`; default the host's cheapest")
	input := fs.Float64("input", 0, "prompt tokens (with --usage-style openai they include cached reads and cache writes)")
	output := fs.Float64("output", 0, "output tokens, including reasoning tokens")
	cached := fs.Float64("cached-input", 0, "prompt tokens read from the provider's cache")
	write := fs.Float64("cache-write", 0, "prompt tokens written to the provider's cache")
	reasoning := fs.Float64("reasoning", 0, "reasoning tokens (counted inside --output)")
	style := fs.String("usage-style", "openai", "openai: cached tokens are inside --input; anthropic: they are not")
	pricesFile := fs.String("prices", "", "apply a LiteLLM, OpenRouter, Portkey, genai-prices or Helicone price `file` first")
	priceDate := fs.String("price-date", "", "with --prices: the `day` (YYYY-MM-DD) whose prices a dated file answers (default today)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return &exitError{code: 2, err: fmt.Errorf("prices cost takes flags only, got %q", pos[0])}
	case *priceDate != "" && *pricesFile == "":
		return &exitError{code: 2, err: errors.New("--price-date needs --prices FILE")}
	case *model == "":
		fs.Usage()
		return &exitError{code: 2, err: errors.New("prices cost needs --model")}
	case *style != "openai" && *style != "anthropic":
		return &exitError{code: 2, err: fmt.Errorf("--usage-style must be openai or anthropic, not %q", *style)}
	}
	for name, v := range map[string]float64{"input": *input, "output": *output, "cached-input": *cached, "cache-write": *write, "reasoning": *reasoning} {
		if v < 0 || v != v {
			return &exitError{code: 2, err: fmt.Errorf("--%s must be a non-negative token count", name)}
		}
	}
	cat := pricing.Default()
	if *pricesFile != "" {
		o, err := importFile(*pricesFile, stderr)
		if err != nil {
			return err
		}
		if o, err = overlayOn(o, *priceDate); err != nil {
			return err
		}
		cat = cat.WithOverlay(o)
	}
	p, err := cat.Price(*model, *provider, *region)
	if err != nil {
		return notFound(err)
	}
	u := pricing.Usage{Input: *input, CachedInput: *cached, CacheWrite: *write, Output: *output, Reasoning: *reasoning, CacheSeparate: *style == "anthropic"}
	usd := p.Rates.Cost(u)
	if *asJSON {
		return writeJSON(stdout, costResult{USD: usd, Provider: p.Provider, Model: p.Model, Region: p.Region, ProviderModelID: p.ProviderModelID, Multiplier: p.Multiplier, AsOf: p.AsOf, Source: p.Source})
	}
	fmt.Fprintf(stdout, "$%.6f for %s on %s (%s)", usd, p.Model, p.Provider, p.Region)
	if p.Multiplier != 1 {
		fmt.Fprintf(stdout, ", regional price ×%g", p.Multiplier)
	}
	fmt.Fprintf(stdout, "\nprices as of %s from %s\n", p.AsOf, p.Source)
	return nil
}

// openPriceFile reads a price file into an overlay. When its content
// carries no date, the date in its name (openrouter_2025-12-18.json) or else
// its modification time dates it, so a diff can show both dates.
func openPriceFile(name string) (*pricing.Overlay, pricing.ImportReport, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, pricing.ImportReport{}, &exitError{code: 1, err: err}
	}
	defer f.Close()
	o, rep, err := pricing.Import(f, name)
	if err != nil {
		return nil, rep, &exitError{code: 1, err: err}
	}
	if o.AsOf == "" {
		if d := datedName.FindString(filepath.Base(name)); d != "" {
			o.AsOf = d
		} else if st, err := f.Stat(); err == nil {
			o.AsOf = st.ModTime().UTC().Format("2006-01-02")
		}
	}
	return o, rep, nil
}

var datedName = regexp.MustCompile(`20\d\d-[01]\d-[0-3]\d`)

// importFile reads a price file for --prices and says on stderr what was used.
func importFile(name string, stderr io.Writer) (*pricing.Overlay, error) {
	o, rep, err := openPriceFile(name)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "%s: %s file, %d entries: %d catalog prices imported, %d skipped\n", name, rep.Format, rep.Entries, rep.Imported, rep.SkippedTotal())
	if rep.Imported == 0 {
		fmt.Fprintf(stderr, "%s: warning: no entry matches a catalog model\n", name)
	}
	return o, nil
}

// overlayOn answers a dated file's prices on day (YYYY-MM-DD; "" is
// today, as imported).
func overlayOn(o *pricing.Overlay, day string) (*pricing.Overlay, error) {
	if day == "" || day == "today" {
		return o, nil
	}
	at, err := o.At(day)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("--price-date: %w", err)}
	}
	return at, nil
}

type diffResult struct {
	File         string              `json:"file"`
	Format       string              `json:"format"`
	FileAsOf     string              `json:"file_as_of"`
	PriceDate    string              `json:"price_date"`
	ThresholdPct float64             `json:"threshold_pct"`
	Entries      int                 `json:"entries"`
	Imported     int                 `json:"imported"`
	Skipped      map[string]int      `json:"skipped"`
	History      []historyRow        `json:"history"`
	Diffs        []pricing.PriceDiff `json:"diffs"`
}

// historyRow is one dated price of a host, for prices diff.
type historyRow struct {
	Model      string  `json:"model"`
	Provider   string  `json:"provider"`
	From       string  `json:"from"`
	Until      string  `json:"until"`
	Input      float64 `json:"input_usd_per_million"`
	Output     float64 `json:"output_usd_per_million"`
	InForce    bool    `json:"in_force"`
	Key        string  `json:"file_key"`
	Line       int     `json:"file_line"`
	LongAbove  int     `json:"long_context_above,omitempty"`
	LongInput  float64 `json:"long_input_usd_per_million,omitempty"`
	LongOutput float64 `json:"long_output_usd_per_million,omitempty"`
	CacheRead  float64 `json:"cache_read_usd_per_million,omitempty"`
	CacheWrite float64 `json:"cache_write_usd_per_million,omitempty"`
}

func historyRows(o *pricing.Overlay) []historyRow {
	out := []historyRow{}
	for _, h := range o.History() {
		for _, p := range h.Periods {
			out = append(out, historyRow{Model: h.Model, Provider: h.Provider, From: p.From, Until: p.Until, Input: p.Input, Output: p.Output,
				InForce: p.InForce, Key: p.Key, Line: p.Line, LongAbove: p.LongAbove, LongInput: p.LongInput, LongOutput: p.LongOutput,
				CacheRead: p.CacheRead, CacheWrite: p.CacheWrite})
		}
	}
	return out
}

func pricesDiff(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("diff", "Usage: gatewise prices diff FILE [--threshold PCT] [--price-date DAY] [--json]\n\nLists catalog prices that FILE contradicts by more than PCT percent, what of FILE was left out and why, and the dated prices of a file with a price history.", stderr)
	threshold := fs.Float64("threshold", 5, "report differences above this `percent`")
	priceDate := fs.String("price-date", "", "compare the prices in force on this `day` (YYYY-MM-DD) in a file that dates them (default today)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitError{code: 2, err: errors.New("prices diff needs one file")}
	}
	if *threshold < 0 || *threshold != *threshold {
		return &exitError{code: 2, err: errors.New("--threshold must be a non-negative percentage")}
	}
	o, rep, err := openPriceFile(pos[0])
	if err != nil {
		return err
	}
	if o, err = overlayOn(o, *priceDate); err != nil {
		return err
	}
	day := o.Day
	if day == "" {
		day = pricing.Today()
	}
	diffs := pricing.Default().Diff(o, *threshold/100)
	if *asJSON {
		if diffs == nil {
			diffs = []pricing.PriceDiff{}
		}
		return writeJSON(stdout, diffResult{File: pos[0], Format: rep.Format, FileAsOf: o.AsOf, PriceDate: day, ThresholdPct: *threshold,
			Entries: rep.Entries, Imported: rep.Imported, Skipped: rep.Skipped, History: historyRows(o), Diffs: diffs})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if len(diffs) > 0 {
		fmt.Fprintln(tw, "MODEL\tPROVIDER\tPRICE\tCATALOG\tFILE\tCHANGE\tFILE KEY")
	}
	for _, d := range diffs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s (%s)\t%s (%s)\t%+.1f%%\t%s:%d %s\n", d.Model, d.Provider, d.Field,
			money(d.Catalog), d.CatalogAsOf, money(d.File), d.FileAsOf, d.Change*100, pos[0], d.Line, d.Key)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d prices differ by more than %g%% across %d catalog hosts found in %s (%s, as of %s).\n",
		len(diffs), *threshold, rep.Imported, pos[0], rep.Format, o.AsOf)
	if reasons := rep.SortedReasons(); len(reasons) > 0 {
		fmt.Fprintf(stdout, "Of its %d entries, left out: %s.\n", rep.Entries, strings.Join(reasons, ", "))
	}
	if hist := o.History(); len(hist) > 0 {
		fmt.Fprintf(stdout, "\nDated prices (USD per million tokens, input/output; * in force on %s):\n", day)
		for _, h := range hist {
			for _, p := range h.Periods {
				mark := " "
				if p.InForce {
					mark = "*"
				}
				long := ""
				if p.LongAbove > 0 {
					long = fmt.Sprintf(", prompts over %s tokens %s / %s", count(float64(p.LongAbove)), money(p.LongInput), money(p.LongOutput))
				}
				fmt.Fprintf(stdout, "%s %s on %s, %s: %s / %s%s (%s:%d %s)\n", mark, h.Model, h.Provider, p.When(),
					money(p.Input), money(p.Output), long, pos[0], p.Line, p.Key)
			}
		}
	}
	return nil
}

// listFlag collects a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

type gatewayRow struct {
	pricing.GatewayQuote
	Error string `json:"error,omitempty"`
}

func pricesGateways(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gateways", "Usage: gatewise prices gateways [--requests-per-month N] [--spend-usd N] [needs] [--json]\n\nPrints every gateway's cheapest fitting plan and its monthly cost.", stderr)
	var need pricing.GatewayNeed
	var residency listFlag
	fs.Float64Var(&need.RequestsPerMonth, "requests-per-month", 1e6, "requests a month")
	fs.Float64Var(&need.SpendUSDPerMonth, "spend-usd", 10000, "provider token spend a month, USD")
	fs.Float64Var(&need.PeakRPS, "peak-rps", 0, "peak requests per second (default: average × the gateway's peak-to-average)")
	fs.BoolVar(&need.LogAll, "log-all", false, "every request must be logged")
	fs.IntVar(&need.LogRetentionDays, "retention-days", 0, "days logs must be kept")
	fs.BoolVar(&need.SSO, "sso", false, "SSO required")
	fs.BoolVar(&need.HIPAA, "hipaa", false, "HIPAA BAA required")
	fs.BoolVar(&need.AuditLog, "audit-log", false, "audit log required")
	fs.Var(&residency, "residency", "jurisdictions traffic must stay in, comma-separated (eu,us)")
	fs.IntVar(&need.Seats, "seats", 1, "people using the gateway console")
	fs.IntVar(&need.Models, "models", 1, "models routed (some plans charge per model)")
	fs.BoolVar(&need.BYOK, "byok", false, "pay providers with your own keys instead of gateway credits")
	fs.Float64Var(&need.OpsHourlyUSD, "ops-hourly-usd", 100, "cost of an hour of the team's operations work, USD")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("prices gateways takes flags only, got %q", pos[0])}
	}
	if need.RequestsPerMonth < 0 || need.SpendUSDPerMonth < 0 || need.OpsHourlyUSD < 0 || need.LogRetentionDays < 0 {
		return &exitError{code: 2, err: errors.New("volumes, spend, rates and days must be non-negative")}
	}
	cat := pricing.Default()
	known := cat.Jurisdictions()
	for _, j := range residency {
		if !slices.Contains(known, j) {
			return &exitError{code: 2, err: fmt.Errorf("--residency: unknown jurisdiction %q (known: %s)", j, strings.Join(known, ", "))}
		}
	}
	need.Residency = residency
	var rows []gatewayRow
	for _, id := range pricing.GatewayIDs() {
		q, err := cat.GatewayCost(id, need)
		row := gatewayRow{GatewayQuote: q}
		if err != nil {
			row.Gateway, row.Error = id, err.Error()
		}
		rows = append(rows, row)
	}
	if *asJSON {
		return writeJSON(stdout, rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "GATEWAY\tPLAN\tMONTHLY\tFEES\tBASE\tOVERAGE\tINFRA\tOPS\t")
	var notes []string
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t\n", r.Gateway)
			notes = append(notes, r.Error)
			continue
		}
		plan := r.Plan
		if r.Estimate {
			plan += "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Gateway, plan, dollars(r.Total), dollars(r.Fees), dollars(r.Base), dollars(r.Overage), dollars(r.Infrastructure), dollars(r.Operations))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nUSD a month for %s requests and $%.0f provider spend. * = no public price; our placeholder.\n", trimNumber(need.RequestsPerMonth), need.SpendUSDPerMonth)
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	return nil
}

func dollars(v float64) string { return fmt.Sprintf("$%.2f", v) }

func trimNumber(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.0f", v), "."), ".")
}
