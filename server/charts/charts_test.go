package charts

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gatewise/memo"
	"gatewise/pricing"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// update regenerates testdata: the fixture from a fresh simulation of the
// multi-region example, then the golden SVGs from the fixture.
var update = flag.Bool("update", false, "regenerate testdata/multi-region.json and the golden SVGs")

const (
	fixture      = "testdata/multi-region.json"
	exampleSpec  = "../../testdata/examples/multi-region.yaml"
	fixtureRuns  = 300
	goldenPrefix = "testdata/multi-region-"
)

// fixtureData is what the golden charts are drawn from: a Result trimmed to
// the fields charts read, and the memo's scores for it.
type fixtureData struct {
	Result simulator.Result `json:"result"`
	Scores []Scores         `json:"scores"`
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		if err := regenerateFixture(); err != nil {
			fmt.Fprintln(os.Stderr, "regenerating fixture:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// regenerateFixture runs the pipeline the way `gatewise simulate` does, so
// the goldens show a real run, and keeps only what charts needs, so the
// fixture stays small enough to review.
func regenerateFixture() error {
	ctx := context.Background()
	cat := pricing.Default()
	data, err := os.ReadFile(exampleSpec)
	if err != nil {
		return err
	}
	spec, err := simulator.Load(data, cat)
	if err != nil {
		return err
	}
	opts := simulator.Options{Trials: fixtureRuns, Seed: spec.Simulation.Seed}
	profile, err := traffic.Synthesize(ctx, spec.SyntheticParams(), opts.Seed)
	if err != nil {
		return err
	}
	res, err := simulator.Run(ctx, spec, profile, cat, opts)
	if err != nil {
		return err
	}
	dec, err := memo.Score(spec, res, cat)
	if err != nil {
		return err
	}
	fx := fixtureData{Result: res}
	fx.Result.Assumptions, fx.Result.Plans, fx.Result.Providers, fx.Result.Covariance = nil, nil, nil, nil
	fx.Result.Traffic, fx.Result.Scenarios = simulator.TrafficSource{}, nil
	for i := range fx.Result.Results {
		o := &fx.Result.Results[i]
		o.CostUSD.TokensBy, o.VersusBest, o.Observability, o.PricePlan = nil, nil, simulator.Observability{}, ""
		o.Availability, o.FailedBy = simulator.Distribution{}, simulator.FailedBy{} // not charted
	}
	for _, o := range dec.Options {
		fx.Scores = append(fx.Scores, Scores{Gateway: o.Gateway, Failover: o.Failover, Cost: o.Cost, Observability: o.Observability})
	}
	out, err := json.MarshalIndent(fx, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(fixture, append(out, '\n'), 0o644)
}

func loadFixture(t testing.TB) fixtureData {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var fx fixtureData
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Result.Results) == 0 || len(fx.Scores) == 0 {
		t.Fatalf("%s has no results or no scores", fixture)
	}
	return fx
}

func TestFixtureIsSmall(t *testing.T) {
	t.Parallel()
	fi, err := os.Stat(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() >= 50<<10 {
		t.Errorf("%s is %d bytes; keep it under 50 KB", fixture, fi.Size())
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t)
	charts, err := ForRun(fx.Result, fx.Scores)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"cost", "failed-requests", "scores", "latency"}
	if len(charts) != len(names) {
		t.Fatalf("got %d charts, want %d", len(charts), len(names))
	}
	for i, c := range charts {
		path := goldenPrefix + names[i] + ".svg"
		checkSafe(t, c.SVG)
		if *update {
			if err := os.WriteFile(path, c.SVG, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(c.SVG, want) {
			t.Errorf("%s: SVG differs from %s (%d vs %d bytes); if the change is intended, run go test ./server/charts -update and look at the result", c.Title, path, len(c.SVG), len(want))
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t)
	first, err := ForRun(fx.Result, fx.Scores)
	if err != nil {
		t.Fatal(err)
	}
	// Render concurrently too: the font cache and text handler are
	// package-level state in gonum, and the server renders pages in
	// parallel (run with -race).
	var wg sync.WaitGroup
	again := make([][]Chart, 4)
	errs := make([]error, len(again))
	for i := range again {
		wg.Go(func() { again[i], errs[i] = ForRun(fx.Result, fx.Scores) })
	}
	wg.Wait()
	for i, cs := range again {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for j := range cs {
			if !bytes.Equal(first[j].SVG, cs[j].SVG) || first[j].Alt != cs[j].Alt {
				t.Errorf("render %d of %q differs from the first", i, first[j].Title)
			}
		}
	}
}

// num reads a formatted table cell back as a number.
func num(t *testing.T, cell string) float64 {
	t.Helper()
	s := strings.NewReplacer("$", "", ",", "", " ms", "", " %", "").Replace(cell)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("cell %q is not a number: %v", cell, err)
	}
	return v
}

// near says a cell shows want to within the rounding of its last digit.
func near(t *testing.T, cell string, want, unit float64) {
	t.Helper()
	if got := num(t, cell); math.Abs(got-want) > unit/2+1e-9 {
		t.Errorf("cell %q = %v, want %v (±%v)", cell, got, want, unit/2)
	}
}

func TestTablesMatchResult(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t)
	charts, err := ForRun(fx.Result, fx.Scores)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[[2]string]simulator.OptionResult{}
	excluded := map[string]bool{}
	var eligible, scenarios []string
	for _, o := range fx.Result.Results {
		rows[[2]string{o.Gateway, o.Scenario}] = o
		if o.Excluded != nil {
			excluded[o.Gateway] = true
		}
	}
	for _, o := range fx.Result.Results {
		if !excluded[o.Gateway] && !contains(eligible, o.Gateway) {
			eligible = append(eligible, o.Gateway)
		}
		if !contains(scenarios, o.Scenario) {
			scenarios = append(scenarios, o.Scenario)
		}
	}
	if len(excluded) == 0 {
		t.Fatal("the fixture should exclude some option, to test skipping")
	}

	cost := charts[0].Table
	if len(cost.Rows) != len(eligible) {
		t.Fatalf("cost table has %d rows, want %d", len(cost.Rows), len(eligible))
	}
	for i, row := range cost.Rows {
		if row[0] != eligible[i] {
			t.Errorf("cost row %d is %s, want %s", i, row[0], eligible[i])
		}
		c := rows[[2]string{row[0], "baseline"}].CostUSD
		for j, want := range []float64{c.Total.P50, c.Total.P5, c.Total.P95, c.Total.Mean, c.Tokens, c.GatewayFees, c.Infrastructure, c.Operations} {
			if !strings.HasPrefix(row[j+1], "$") {
				t.Errorf("cost cell %q has no $", row[j+1])
			}
			near(t, row[j+1], want, 1)
		}
	}

	fail := charts[1].Table
	if len(fail.Rows) != len(eligible)*len(scenarios) {
		t.Fatalf("failure table has %d rows, want %d", len(fail.Rows), len(eligible)*len(scenarios))
	}
	for _, row := range fail.Rows {
		if excluded[row[0]] {
			t.Errorf("excluded option %s in the failure table", row[0])
		}
		o := rows[[2]string{row[0], row[1]}]
		near(t, row[2], o.FailedRequests.Mean, 1)
		lo, hi, ok := strings.Cut(row[3], " to ")
		if !ok {
			t.Fatalf("interval cell %q", row[3])
		}
		near(t, lo, o.FailedRequests.CI95[0], 1)
		near(t, hi, o.FailedRequests.CI95[1], 1)
		if !strings.HasSuffix(row[4], " %") {
			t.Errorf("success rate %q is not a percentage", row[4])
		}
		near(t, row[4], 100*o.SuccessRate.Mean, 0.01)
	}
	if mean := rows[[2]string{"kong", "gateway-outage"}].FailedRequests.Mean; mean >= 1000 {
		var cell string
		for _, row := range fail.Rows {
			if row[0] == "kong" && row[1] == "gateway-outage" {
				cell = row[2]
			}
		}
		if !strings.Contains(cell, ",") {
			t.Errorf("%v failed requests shown as %q, without a thousands separator", mean, cell)
		}
	}

	sc := charts[2].Table
	if len(sc.Rows) != len(fx.Scores) {
		t.Fatalf("score table has %d rows, want %d", len(sc.Rows), len(fx.Scores))
	}
	for i, row := range sc.Rows {
		s := fx.Scores[i]
		if row[0] != s.Gateway {
			t.Errorf("score row %d is %s, want %s", i, row[0], s.Gateway)
		}
		near(t, row[1], s.Failover, 1)
		near(t, row[2], s.Cost, 1)
		near(t, row[3], s.Observability, 1)
	}

	lat := charts[3].Table
	for i, row := range lat.Rows {
		l := rows[[2]string{eligible[i], "baseline"}].LatencyAddedMS
		for j, want := range []float64{l.P50, l.P95, l.P99} {
			if !strings.HasSuffix(row[j+1], " ms") {
				t.Errorf("latency %q has no unit", row[j+1])
			}
			near(t, row[j+1], want, 0.1)
		}
	}

	for _, c := range charts {
		if c.Title == "" || c.Alt == "" || len(c.Table.Header) == 0 {
			t.Errorf("chart %q lacks a title, alt text or header", c.Title)
		}
		for _, row := range c.Table.Rows {
			if len(row) != len(c.Table.Header) {
				t.Errorf("%s: row %v does not match header %v", c.Title, row, c.Table.Header)
			}
		}
	}
	// The alt text states the main finding with the table's numbers.
	if !strings.Contains(charts[0].Alt, "Cheapest at the median is ") || !strings.Contains(charts[0].Alt, "$") {
		t.Errorf("cost alt %q does not name the cheapest option", charts[0].Alt)
	}
	// The cost axis starts at zero, so a small spread looks small.
	if !strings.Contains(charts[0].Alt, "from zero") {
		t.Errorf("cost alt %q does not say the axis starts at zero", charts[0].Alt)
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ got, want string }{
		{usd(80129.4), "$80,129"},
		{usd(999.5), "$1,000"},
		{usd(0), "$0"},
		{usd(-1234567), "-$1,234,567"},
		{usd(-0.2), "$0"},
		{count(108365.2), "108,365"},
		{count(12), "12"},
		{count(math.NaN()), "—"},
		{ms(81.5), "81.5 ms"},
		{ms(2), "2 ms"},
		{ms(1502.04), "1,502 ms"},
		{percent(0.9995020122), "99.95 %"},
		{percent(1), "100 %"},
		{percent(math.Inf(1)), "—"},
		{score(87.6), "88"},
		{usdTick(79500, 0), "$79,500"},
		{countTick(2.5, 1), "2.5"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func excludedRow(o simulator.OptionResult) simulator.OptionResult {
	why := "SOC 2 is required"
	o.Excluded = &why
	return o
}

func row(gateway, scenario string, failed, cost, p95 float64) simulator.OptionResult {
	return simulator.OptionResult{
		Gateway: gateway, Scenario: scenario,
		SuccessRate:    simulator.Distribution{Mean: 0.999},
		FailedRequests: simulator.Distribution{Mean: failed, CI95: [2]float64{failed * 0.9, failed * 1.1}, P50: failed},
		LatencyAddedMS: simulator.Percentiles{P50: p95 / 3, P95: p95, P99: p95 * 2},
		CostUSD:        simulator.CostBreakdown{Total: simulator.Distribution{Mean: cost, P5: cost * 0.99, P50: cost, P95: cost * 1.01}, Tokens: cost},
	}
}

func TestDegenerate(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	for _, c := range []struct {
		name   string
		res    simulator.Result
		scores []Scores
		empty  []bool // which of the four charts have nothing to show
	}{
		{"no results", simulator.Result{}, nil, []bool{true, true, true, true}},
		{"one option", simulator.Result{Results: []simulator.OptionResult{row("direct", "baseline", 10, 100, 0)}},
			[]Scores{{"direct", 50, 100, 0}}, []bool{false, false, false, false}},
		{"all excluded", simulator.Result{Results: []simulator.OptionResult{
			excludedRow(row("openrouter", "baseline", 10, 100, 5)), excludedRow(row("openrouter", "gateway-outage", 90, 100, 5)),
		}}, nil, []bool{true, true, true, true}},
		{"no baseline, missing scenario row, zeros and NaN", simulator.Result{Results: []simulator.OptionResult{
			row("direct", "gateway-outage", 0, 0, 0), row("kong", "gateway-outage", nan, nan, nan),
			row("kong", "region-outage", 5, 5, 5),
		}}, []Scores{{"kong", nan, 0, 0}}, []bool{false, false, false, false}},
		{"identical options", simulator.Result{Results: []simulator.OptionResult{
			row("a", "baseline", 7, 7, 7), row("b", "baseline", 7, 7, 7),
		}}, []Scores{{"a", 1, 1, 1}, {"b", 1, 1, 1}}, []bool{false, false, false, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			charts, err := ForRun(c.res, c.scores)
			if err != nil {
				t.Fatal(err)
			}
			if len(charts) != 4 {
				t.Fatalf("got %d charts, want 4", len(charts))
			}
			for i, ch := range charts {
				checkSafe(t, ch.SVG)
				if ch.Alt == "" || len(ch.Table.Header) == 0 {
					t.Errorf("%s: no alt text or header", ch.Title)
				}
				empty := strings.HasPrefix(ch.Alt, "No options to chart")
				if empty != c.empty[i] {
					t.Errorf("%s: empty = %v, want %v (alt %q)", ch.Title, empty, c.empty[i], ch.Alt)
				}
				if empty && (len(ch.Table.Rows) != 0 || !bytes.Contains(ch.SVG, []byte("No options to chart"))) {
					t.Errorf("%s: an empty chart should say so and have no rows", ch.Title)
				}
				if bytes.Contains(ch.SVG, []byte("NaN")) {
					t.Errorf("%s: NaN in the SVG", ch.Title)
				}
			}
			if c.name == "all excluded" && !strings.Contains(charts[0].Alt, "hard constraints") {
				t.Errorf("alt %q should say the options are excluded", charts[0].Alt)
			}
		})
	}
}

func TestEscapesText(t *testing.T) {
	t.Parallel()
	evil := `<b>x</b>`
	scenario := `"><script>alert(1)</script><g onload="x`
	res := simulator.Result{Results: []simulator.OptionResult{
		row(evil, "baseline", 10, 100, 5), row(evil, scenario, 20, 100, 5), row("kong", "baseline", 1, 1, 1), row("kong", scenario, 1, 1, 1),
	}}
	charts, err := ForRun(res, []Scores{{evil, 1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range charts {
		checkSafe(t, c.SVG)
		for _, raw := range []string{evil, "<script", "<b>", "<g onload"} {
			if bytes.Contains(c.SVG, []byte(raw)) {
				t.Errorf("%s: %q appears raw in the SVG", c.Title, raw)
			}
		}
		if !bytes.Contains(c.SVG, []byte("&lt;b&gt;x&lt;/b&gt;")) {
			t.Errorf("%s: the escaped name is missing", c.Title)
		}
	}
}

// checkSafe parses the SVG and rejects anything that could run code or
// fetch something when the markup is written into a page: elements other
// than the few vgsvg draws, event-handler attributes, links, CSS url() and
// imports, and style attributes, which the app's CSP ignores. Attributes
// are checked after parsing, since an escaped name in the aria-label may
// legitimately read "onload=". It also requires one root <svg> with
// nothing before it.
func checkSafe(t *testing.T, svg []byte) {
	t.Helper()
	if !bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.HasSuffix(bytes.TrimSpace(svg), []byte("</svg>")) {
		t.Fatalf("not a bare <svg> element: %.60q…", svg)
	}
	low := bytes.ToLower(svg)
	for _, bad := range []string{"<script", "<?xml", "<!--", "<!doctype", "href", "url(", "@import", "javascript:", "<foreignobject", "<image", "xlink"} {
		if bytes.Contains(low, []byte(bad)) {
			t.Errorf("SVG contains %q", bad)
		}
	}
	allowed := map[string]bool{"svg": true, "g": true, "path": true, "text": true}
	d := xml.NewDecoder(bytes.NewReader(svg))
	roots := 0
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			if !allowed[e.Name.Local] {
				t.Errorf("unexpected element <%s>", e.Name.Local)
			}
			for _, a := range e.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") {
					t.Errorf("event attribute %s", a.Name.Local)
				}
				if a.Name.Local == "style" {
					// The app's Content-Security-Policy ignores style
					// attributes; the shape would be painted black.
					t.Errorf("<%s> has a style attribute %q; the CSP ignores it", e.Name.Local, a.Value)
				}
				if a.Name.Local == "xmlns" && a.Value != "http://www.w3.org/2000/svg" {
					t.Errorf("unexpected namespace %q", a.Value)
				}
			}
		case xml.EndElement:
			depth--
		case xml.ProcInst, xml.Directive, xml.Comment:
			t.Errorf("unexpected %T", e)
		}
	}
	if roots != 1 {
		t.Errorf("%d root elements, want 1", roots)
	}
}

func TestGoldenFilesExist(t *testing.T) {
	t.Parallel()
	m, err := filepath.Glob(goldenPrefix + "*.svg")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 4 && !*update {
		t.Errorf("found %d golden SVGs, want 4", len(m))
	}
}

func BenchmarkForRun(b *testing.B) {
	fx := loadFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ForRun(fx.Result, fx.Scores); err != nil {
			b.Fatal(err)
		}
	}
}
