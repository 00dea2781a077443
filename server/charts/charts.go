package charts

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"gatewise/simulator"
)

// Chart is one server-rendered chart: the SVG, a text alternative for screen
// readers, and the numbers as a table.
type Chart struct {
	Title string
	// Alt is one or two sentences saying what the chart shows and its main
	// finding; the SVG's aria-label carries the same text.
	Alt string
	// SVG is standalone <svg> markup (no XML declaration, no scripts), 640×300
	// CSS pixels, safe to write into an HTML page unescaped.
	SVG   []byte
	Table Table
}

// Table is a chart's numbers, formatted for people. Rows may be empty when
// there is nothing to chart; Header never is.
type Table struct {
	Header []string
	Rows   [][]string
}

// Scores are one option's triangle scores, 0–100. They are a parameter rather
// than computed here so charts does not import memo (memo renders HTML too,
// and the server owns the order in which it shows options).
type Scores struct {
	Gateway                       string
	Failover, Cost, Observability float64
}

// The canvas is 480×225 pt, which the root element maps to 640×300 CSS px:
// gonum measures in points, browsers lay out in pixels (1 pt = 4/3 px).
const (
	canvasW  vg.Length = 480
	canvasH  vg.Length = 225
	pixelW             = 640
	pixelH             = 300
	legendH  vg.Length = 16 // one line of legend above the plot
	fontSize vg.Length = 9
)

// palette is Okabe and Ito's colour-blind-safe set, without its yellow, which
// is too light on white.
var palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0x00, 0x00, 0x00, 0xff}, // black
}

var (
	ink  = color.NRGBA{0x22, 0x22, 0x22, 0xff}
	grid = color.NRGBA{0xdd, 0xdd, 0xdd, 0xff}
)

// sans is the font every text uses. Liberation Sans is compiled into gonum
// (go-fonts/liberation) and registered by package plot's init, so nothing is
// read from disk or the network; the SVG names it with Arial as the fallback,
// which has the same metrics, so the layout gonum computed holds in browsers.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// ForRun builds the run page's charts from a result, skipping excluded
// options. It always returns the same four charts in the same order, so the
// page layout does not depend on the data:
//
//  1. monthly cost per option in the baseline scenario: the median with the
//     5th–95th percentile range;
//  2. mean failed requests per month per option and scenario (grouped bars);
//  3. the triangle scores per option (grouped bars), in the order given;
//  4. added latency p50/p95/p99 per option in the baseline scenario.
//
// A chart with nothing to show says so in its SVG and Alt, and has a table
// with a header and no rows. The only errors are gonum's drawing errors.
func ForRun(res simulator.Result, scores []Scores) ([]Chart, error) {
	r := index(res)
	builders := []func() (Chart, error){r.costChart, r.failureChart, func() (Chart, error) { return scoreChart(scores) }, r.latencyChart}
	out := make([]Chart, 0, len(builders))
	for _, build := range builders {
		c, err := build()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// run is a Result indexed for charting: the eligible gateways and the
// scenarios, each in the order the simulator produced them (the
// architecture's order), so charts match the memo's tables.
type run struct {
	baseline  string
	gateways  []string
	scenarios []string
	rows      map[[2]string]simulator.OptionResult
	excluded  int // gateways ruled out by a hard constraint
}

// index keeps the options no hard constraint excludes. Exclusion is a
// property of the gateway, so a gateway excluded in any scenario is left out
// of every chart, as the memo leaves it out of its scores.
func index(res simulator.Result) run {
	r := run{rows: make(map[[2]string]simulator.OptionResult, len(res.Results))}
	var all []string
	out := map[string]bool{}
	for _, o := range res.Results {
		if !contains(all, o.Gateway) {
			all = append(all, o.Gateway)
		}
		if o.Excluded != nil {
			out[o.Gateway] = true
		}
	}
	for _, g := range all {
		if !out[g] {
			r.gateways = append(r.gateways, g)
		}
	}
	r.excluded = len(out)
	for _, o := range res.Results {
		if out[o.Gateway] {
			continue
		}
		if !contains(r.scenarios, o.Scenario) {
			r.scenarios = append(r.scenarios, o.Scenario)
		}
		r.rows[[2]string{o.Gateway, o.Scenario}] = o
	}
	// The baseline is the scenario the memo takes cost and observability
	// from: "baseline" when it ran, else the first scenario.
	if contains(r.scenarios, "baseline") {
		r.baseline = "baseline"
	} else if len(r.scenarios) > 0 {
		r.baseline = r.scenarios[0]
	}
	return r
}

// base returns the baseline rows of the eligible gateways that have one.
func (r run) base() []simulator.OptionResult {
	var out []simulator.OptionResult
	for _, g := range r.gateways {
		if o, ok := r.rows[[2]string{g, r.baseline}]; ok {
			out = append(out, o)
		}
	}
	return out
}

// emptyReason explains a chart with no options on it.
func (r run) emptyReason() string {
	if r.excluded > 0 {
		return "No options to chart: hard constraints exclude every option."
	}
	return "No options to chart: the run has no results."
}

func (r run) costChart() (Chart, error) {
	const title = "Monthly cost"
	c := Chart{Title: title, Table: Table{Header: []string{"Option", "Median", "5th percentile", "95th percentile", "Mean", "Tokens", "Gateway fees", "Infrastructure", "Operations"}}}
	rows := r.base()
	if len(rows) == 0 {
		return emptyChart(c, r.emptyReason())
	}
	names := make([]string, len(rows))
	pts := make(plotter.XYs, len(rows))
	errs := make(plotter.YErrors, len(rows))
	for i, o := range rows {
		t := o.CostUSD.Total
		names[i] = o.Gateway
		c.Table.Rows = append(c.Table.Rows, []string{o.Gateway, usd(t.P50), usd(t.P5), usd(t.P95), usd(t.Mean),
			usd(o.CostUSD.Tokens), usd(o.CostUSD.GatewayFees), usd(o.CostUSD.Infrastructure), usd(o.CostUSD.Operations)})
	}

	// Stacked bars from zero: a zero-based axis shows a 4 % spread as 4 %,
	// and the stack shows where the options differ (fees, infrastructure,
	// operations) beside what they share (tokens). The range is the
	// 5th–95th percentile of the total, drawn about the mean the stack
	// adds up to.
	p := newPlot("USD per month", usdTick)
	p.NominalX(names...)
	parts := [][]float64{make([]float64, len(rows)), make([]float64, len(rows)), make([]float64, len(rows)), make([]float64, len(rows))}
	for i, o := range rows {
		parts[0][i], parts[1][i], parts[2][i], parts[3][i] = finite(o.CostUSD.Tokens), finite(o.CostUSD.GatewayFees), finite(o.CostUSD.Infrastructure), finite(o.CostUSD.Operations)
		mean := parts[0][i] + parts[1][i] + parts[2][i] + parts[3][i]
		pts[i] = plotter.XY{X: float64(i), Y: mean}
		errs[i].Low = math.Max(0, mean-finite(o.CostUSD.Total.P5))
		errs[i].High = math.Max(0, finite(o.CostUSD.Total.P95)-mean)
	}
	const plotW = 400 // as groupedBars
	w := min(vg.Length(plotW/float64(len(rows)))*0.6, 48)
	var legend []legendEntry
	var below *plotter.BarChart
	top := 0.0
	for j, name := range []string{"tokens", "gateway fees", "infrastructure", "operations"} {
		b, err := plotter.NewBarChart(plotter.Values(parts[j]), w)
		if err != nil {
			return Chart{}, fmt.Errorf("charts: cost %s: %w", name, err)
		}
		b.Color, b.LineStyle.Width = palette[j], 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		legend = append(legend, legendEntry{name, palette[j], barKey})
	}
	bars, err := plotter.NewYErrorBars(struct {
		plotter.XYs
		plotter.YErrors
	}{pts, errs})
	if err != nil {
		return Chart{}, fmt.Errorf("charts: cost ranges: %w", err)
	}
	bars.LineStyle = draw.LineStyle{Color: ink, Width: vg.Points(1)}
	bars.CapWidth = vg.Points(8)
	p.Add(bars)
	for i := range pts {
		top = math.Max(top, pts[i].Y+errs[i].High)
	}
	nominalRange(p, len(rows))
	p.Y.Min, p.Y.Max = 0, math.Max(top*1.05, 1)
	legend = append(legend, legendEntry{"5th–95th percentile", ink, rangeKey})

	lo, hi := rows[0], rows[0]
	for _, o := range rows[1:] {
		if o.CostUSD.Total.P50 < lo.CostUSD.Total.P50 {
			lo = o
		}
		if o.CostUSD.Total.P50 > hi.CostUSD.Total.P50 {
			hi = o
		}
	}
	c.Alt = fmt.Sprintf("Mean monthly cost of %s in the %s scenario from zero, split into tokens, gateway fees, infrastructure and operations, with the 5th to 95th percentile range of the total.", options(len(rows)), r.baseline)
	if len(rows) == 1 {
		c.Alt += fmt.Sprintf(" %s costs a median %s (%s to %s).", lo.Gateway, usd(lo.CostUSD.Total.P50), usd(lo.CostUSD.Total.P5), usd(lo.CostUSD.Total.P95))
	} else {
		c.Alt += fmt.Sprintf(" Cheapest at the median is %s at %s; dearest is %s at %s, %s (%s) more.", lo.Gateway, usd(lo.CostUSD.Total.P50), hi.Gateway, usd(hi.CostUSD.Total.P50),
			usd(hi.CostUSD.Total.P50-lo.CostUSD.Total.P50), percent((hi.CostUSD.Total.P50-lo.CostUSD.Total.P50)/lo.CostUSD.Total.P50))
	}
	return finish(c, p, legend)
}

func (r run) failureChart() (Chart, error) {
	const title = "Failed requests per month"
	c := Chart{Title: title, Table: Table{Header: []string{"Option", "Scenario", "Failed requests (mean)", "95 % interval of the mean", "Success rate (mean)"}}}
	if len(r.gateways) == 0 || len(r.scenarios) == 0 {
		return emptyChart(c, r.emptyReason())
	}
	groups := make([][]float64, len(r.scenarios))
	for j := range groups {
		groups[j] = make([]float64, len(r.gateways))
	}
	type extreme struct {
		gateway, scenario string
		v                 float64
	}
	var worstOf []extreme // each gateway's worst scenario
	for i, g := range r.gateways {
		w := extreme{v: math.Inf(-1)}
		for j, s := range r.scenarios {
			o, ok := r.rows[[2]string{g, s}]
			if !ok {
				// The simulator runs every option under every scenario;
				// a hand-made Result may not.
				c.Table.Rows = append(c.Table.Rows, []string{g, s, "—", "—", "—"})
				continue
			}
			f := o.FailedRequests
			groups[j][i] = finite(f.Mean)
			c.Table.Rows = append(c.Table.Rows, []string{g, s, count(f.Mean), count(f.CI95[0]) + " to " + count(f.CI95[1]), percent(o.SuccessRate.Mean)})
			if f.Mean > w.v {
				w = extreme{g, s, f.Mean}
			}
		}
		if w.gateway != "" {
			worstOf = append(worstOf, w)
		}
	}

	p := newPlot("failed requests per month", countTick)
	p.NominalX(r.gateways...)
	legend, err := groupedBars(p, groups, r.scenarios)
	if err != nil {
		return Chart{}, fmt.Errorf("charts: failed requests: %w", err)
	}

	c.Alt = fmt.Sprintf("Mean failed requests per month for %s under %s.", options(len(r.gateways)), plural(len(r.scenarios), "scenario"))
	if len(worstOf) > 0 {
		best, worst := worstOf[0], worstOf[0]
		for _, w := range worstOf[1:] {
			if w.v < best.v {
				best = w
			}
			if w.v > worst.v {
				worst = w
			}
		}
		if len(worstOf) == 1 {
			c.Alt += fmt.Sprintf(" Its worst case is %s failed requests under %s.", count(worst.v), worst.scenario)
		} else {
			c.Alt += fmt.Sprintf(" %s holds up best, failing at most %s (under %s); the most is %s's %s under %s.", best.gateway, count(best.v), best.scenario, worst.gateway, count(worst.v), worst.scenario)
		}
	}
	return finish(c, p, legend)
}

// ScoresTitle is the title of the scores chart, which a page may show
// apart from the others.
const ScoresTitle = "Triangle scores"

func scoreChart(scores []Scores) (Chart, error) {
	const title = ScoresTitle
	c := Chart{Title: title, Table: Table{Header: []string{"Option", "Failover", "Cost", "Observability"}}}
	if len(scores) == 0 {
		return emptyChart(c, "No options to chart: no option was scored.")
	}
	names := make([]string, len(scores))
	groups := [][]float64{make([]float64, len(scores)), make([]float64, len(scores)), make([]float64, len(scores))}
	for i, s := range scores {
		names[i] = s.Gateway
		groups[0][i], groups[1][i], groups[2][i] = finite(s.Failover), finite(s.Cost), finite(s.Observability)
		c.Table.Rows = append(c.Table.Rows, []string{s.Gateway, score(s.Failover), score(s.Cost), score(s.Observability)})
	}
	p := newPlot("score (0–100)", countTick)
	p.NominalX(names...)
	legend, err := groupedBars(p, groups, []string{"failover", "cost", "observability"})
	if err != nil {
		return Chart{}, fmt.Errorf("charts: scores: %w", err)
	}
	// Scores are on a fixed scale; a fixed axis keeps runs comparable.
	p.Y.Min, p.Y.Max = 0, 105

	c.Alt = fmt.Sprintf("Failover, cost and observability scores from 0 to 100 for %s.", options(len(scores)))
	if len(scores) == 1 {
		s := scores[0]
		c.Alt += fmt.Sprintf(" %s scores %s on failover, %s on cost and %s on observability.", s.Gateway, score(s.Failover), score(s.Cost), score(s.Observability))
		return finish(c, p, legend)
	}
	var best []string
	for k, name := range []string{"failover", "cost", "observability"} {
		top := 0
		for i := range scores {
			if groups[k][i] > groups[k][top] {
				top = i
			}
		}
		best = append(best, fmt.Sprintf("%s %s (%s)", name, names[top], score(groups[k][top])))
	}
	c.Alt += " Highest on " + best[0] + ", " + best[1] + " and " + best[2] + "."
	return finish(c, p, legend)
}

func (r run) latencyChart() (Chart, error) {
	const title = "Added latency"
	c := Chart{Title: title, Table: Table{Header: []string{"Option", "p50", "p95", "p99"}}}
	rows := r.base()
	if len(rows) == 0 {
		return emptyChart(c, r.emptyReason())
	}
	names := make([]string, len(rows))
	groups := [][]float64{make([]float64, len(rows)), make([]float64, len(rows)), make([]float64, len(rows))}
	lo, hi := rows[0], rows[0]
	for i, o := range rows {
		l := o.LatencyAddedMS
		names[i] = o.Gateway
		groups[0][i], groups[1][i], groups[2][i] = finite(l.P50), finite(l.P95), finite(l.P99)
		c.Table.Rows = append(c.Table.Rows, []string{o.Gateway, ms(l.P50), ms(l.P95), ms(l.P99)})
		if l.P95 < lo.LatencyAddedMS.P95 {
			lo = o
		}
		if l.P95 > hi.LatencyAddedMS.P95 {
			hi = o
		}
	}
	p := newPlot("added latency (ms)", countTick)
	p.NominalX(names...)
	legend, err := groupedBars(p, groups, []string{"p50", "p95", "p99"})
	if err != nil {
		return Chart{}, fmt.Errorf("charts: latency: %w", err)
	}
	c.Alt = fmt.Sprintf("Latency each of %s adds in the %s scenario, at the 50th, 95th and 99th percentiles.", options(len(rows)), r.baseline)
	if len(rows) == 1 {
		c.Alt = fmt.Sprintf("Latency %s adds in the %s scenario, at the 50th, 95th and 99th percentiles.", lo.Gateway, r.baseline)
	}
	if len(rows) == 1 {
		c.Alt += fmt.Sprintf(" At p95 it adds %s.", ms(lo.LatencyAddedMS.P95))
	} else {
		c.Alt += fmt.Sprintf(" At p95 %s adds least (%s) and %s most (%s).", lo.Gateway, ms(lo.LatencyAddedMS.P95), hi.Gateway, ms(hi.LatencyAddedMS.P95))
	}
	return finish(c, p, legend)
}

// newPlot sets up a plot the way every chart here wants it: sans-serif text,
// no title (the page shows Chart.Title as a heading), light horizontal grid
// lines, and y tick labels formatted like the table.
func newPlot(ylabel string, tick func(float64, int) string) *plot.Plot {
	p := plot.New()
	for _, s := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle, &p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		s.Font = sans
		s.Font.Size = fontSize
		s.Color = ink
	}
	p.X.Tick.Label.Font.Size = fontSize + 1
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.LineStyle.Color = ink
		a.Tick.LineStyle.Color = ink
	}
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = ticker(tick)
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	g.Horizontal.Color = grid
	g.Horizontal.Width = vg.Points(0.5)
	p.Add(g)
	return p
}

// nominalRange gives each of n categories an equal slot, half a slot of
// margin at either end, so bar widths can be computed before drawing.
func nominalRange(p *plot.Plot, n int) {
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
}

// groupedBars adds one bar chart per series, side by side within each
// category, with bars starting at zero. Bar widths are in points, so they
// are derived from the slot a category gets on the canvas.
func groupedBars(p *plot.Plot, series [][]float64, names []string) ([]legendEntry, error) {
	n := len(series[0])
	const plotW = 400 // the canvas less the y axis, tick labels and margins
	slot := vg.Length(plotW / float64(n))
	w := min(slot*0.8/vg.Length(len(series)), 28)
	var legend []legendEntry
	top := 0.0
	for j, vs := range series {
		b, err := plotter.NewBarChart(plotter.Values(vs), w)
		if err != nil {
			return nil, err
		}
		col := palette[j%len(palette)]
		b.Color = col
		b.LineStyle.Width = 0
		b.Offset = (vg.Length(j) - vg.Length(len(series)-1)/2) * w
		p.Add(b)
		legend = append(legend, legendEntry{names[j], col, barKey})
		for _, v := range vs {
			top = math.Max(top, v)
		}
	}
	nominalRange(p, n)
	// Bars start at zero, with headroom so the tallest does not touch the
	// legend; all-zero series (direct adds no latency) would otherwise give
	// an axis from -1 to 1.
	p.Y.Min, p.Y.Max = 0, math.Max(top*1.05, 1)
	return legend, nil
}

// ticker keeps gonum's choice of tick positions and formats the labels like
// the tables, with as many decimals as the tick step needs.
func ticker(format func(float64, int) string) plot.TickerFunc {
	return func(lo, hi float64) []plot.Tick {
		ts := plot.DefaultTicks{}.Ticks(lo, hi)
		var major []float64
		for _, t := range ts {
			if t.Label != "" {
				major = append(major, t.Value)
			}
		}
		dec := 0
		if len(major) > 1 {
			step := major[1] - major[0]
			dec = max(0, min(2, int(-math.Floor(math.Log10(step)))))
		}
		for i := range ts {
			if ts[i].Label != "" {
				ts[i].Label = format(ts[i].Value, dec)
			}
		}
		return ts
	}
}

func usdTick(v float64, dec int) string   { return signed(v, dec, "$") }
func countTick(v float64, dec int) string { return signed(v, dec, "") }

// legendKey is how a legend entry's sample is drawn.
type legendKey int

const (
	barKey legendKey = iota
	dotKey
	rangeKey
)

type legendEntry struct {
	label string
	color color.Color
	key   legendKey
}

// finish draws the plot with its legend in a strip above it — gonum's own
// legend sits inside the data area, over the tallest bars — and completes
// the chart.
func finish(c Chart, p *plot.Plot, legend []legendEntry) (Chart, error) {
	canvas := vgsvg.New(canvasW, canvasH)
	dc := draw.New(canvas)
	drawLegend(draw.Crop(dc, 0, 0, canvasH-legendH, 0), legend)
	p.Draw(draw.Crop(dc, 0, 0, 0, -legendH))
	return done(c, canvas)
}

// drawLegend writes the entries in one centred row.
func drawLegend(dc draw.Canvas, legend []legendEntry) {
	sty := textStyle()
	sty.YAlign = text.YCenter
	const sw, gap, pad = 8, 14, 4 // swatch size, gap between entries, swatch to label
	total := vg.Length(0)
	for i, e := range legend {
		if i > 0 {
			total += gap
		}
		total += sw + pad + sty.Width(e.label)
	}
	x := dc.Center().X - total/2
	y := dc.Center().Y
	for _, e := range legend {
		switch e.key {
		case barKey:
			dc.FillPolygon(e.color, []vg.Point{{X: x, Y: y - sw/2}, {X: x + sw, Y: y - sw/2}, {X: x + sw, Y: y + sw/2}, {X: x, Y: y + sw/2}})
		case dotKey:
			dc.DrawGlyph(draw.GlyphStyle{Color: e.color, Radius: 3.5, Shape: draw.CircleGlyph{}}, vg.Point{X: x + sw/2, Y: y})
		case rangeKey:
			ls := draw.LineStyle{Color: e.color, Width: 1.5}
			dc.StrokeLine2(ls, x+sw/2, y-sw/2-1, x+sw/2, y+sw/2+1)
			dc.StrokeLine2(ls, x, y-sw/2-1, x+sw, y-sw/2-1)
			dc.StrokeLine2(ls, x, y+sw/2+1, x+sw, y+sw/2+1)
		}
		dc.FillText(sty, vg.Point{X: x + sw + pad, Y: y}, e.label)
		x += sw + pad + sty.Width(e.label) + gap
	}
}

func textStyle() draw.TextStyle {
	return draw.TextStyle{Color: ink, Font: font.Font{Typeface: sans.Typeface, Variant: sans.Variant, Size: fontSize + 1}, Handler: plot.DefaultTextHandler}
}

// emptyChart completes a chart that has nothing to plot: the SVG keeps its
// size, so the page does not jump, and says why in words.
func emptyChart(c Chart, why string) (Chart, error) {
	c.Alt = why
	canvas := vgsvg.New(canvasW, canvasH)
	dc := draw.New(canvas)
	sty := textStyle()
	sty.XAlign, sty.YAlign = text.XCenter, text.YCenter
	dc.FillText(sty, dc.Center(), why)
	return done(c, canvas)
}

// done serialises the canvas and makes it fit for inline HTML.
func done(c Chart, canvas *vgsvg.Canvas) (Chart, error) {
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return Chart{}, fmt.Errorf("charts: %s: %w", c.Title, err)
	}
	svg, err := inline(buf.Bytes(), c.Alt)
	if err != nil {
		return Chart{}, fmt.Errorf("charts: %s: %w", c.Title, err)
	}
	c.SVG = svg
	return c, nil
}

// vgsvg names the font family without quotes or a fallback.
var (
	vgFamily = []byte("font-family:Liberation Sans;")
	ourFont  = []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
)

// inline rewrites vgsvg's document into an element for an HTML page: it
// drops everything before <svg (the XML declaration is an error in HTML and
// the comment is noise), replaces the root's attributes — pixel size for
// layout, the viewBox in points for drawing, no xlink namespace since no
// image is drawn, and a role and label so screen readers announce the chart
// as one image instead of reading out every tick — and gives the font a
// fallback.
func inline(doc []byte, alt string) ([]byte, error) {
	start := bytes.Index(doc, []byte("<svg"))
	if start < 0 {
		return nil, errors.New("vgsvg wrote no <svg> element")
	}
	doc = doc[start:]
	end := bytes.IndexByte(doc, '>')
	if end < 0 {
		return nil, errors.New("vgsvg wrote an unterminated <svg> tag")
	}
	var out bytes.Buffer
	out.Grow(len(doc) + len(alt) + 256)
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %s %s" role="img" aria-label="%s">`,
		pixelW, pixelH, strconv.FormatFloat(canvasW.Points(), 'f', -1, 64), strconv.FormatFloat(canvasH.Points(), 'f', -1, 64), html.EscapeString(alt))
	body, err := presentation(bytes.ReplaceAll(doc[end+1:], vgFamily, ourFont))
	if err != nil {
		return nil, err
	}
	out.Write(body)
	return out.Bytes(), nil
}

// styleAttr is one style attribute as vgsvg writes it.
var styleAttr = regexp.MustCompile(`\s+style="([^"]*)"`)

// presentation turns vgsvg's style attributes into SVG presentation
// attributes (fill="…" rather than style="fill:…"). The app's
// Content-Security-Policy forbids inline styles, so a browser ignores
// style attributes and paints every shape black; presentation attributes
// are not styles and are drawn. A property not on the list is an error,
// so a new vgsvg output is noticed rather than drawn wrong.
func presentation(body []byte) ([]byte, error) {
	var bad error
	out := styleAttr.ReplaceAllFunc(body, func(m []byte) []byte {
		decls := styleAttr.FindSubmatch(m)[1]
		var b bytes.Buffer
		for d := range bytes.SplitSeq(decls, []byte{';'}) {
			k, v, ok := bytes.Cut(bytes.TrimSpace(d), []byte{':'})
			if !ok {
				continue
			}
			switch string(k) {
			case "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray", "stroke-dashoffset",
				"stroke-linecap", "stroke-linejoin", "opacity", "font-family", "font-variant", "font-weight", "font-style", "font-size":
			default:
				bad = fmt.Errorf("vgsvg wrote the style property %q, which has no presentation attribute here", k)
				return m
			}
			if bytes.ContainsAny(v, "\"<&") {
				bad = fmt.Errorf("vgsvg wrote the style value %q, which cannot be an attribute as it is", v)
				return m
			}
			fmt.Fprintf(&b, ` %s="%s"`, k, v)
		}
		return b.Bytes()
	})
	return out, bad
}

// finite maps NaN and infinities, which gonum refuses to plot, to zero; the
// tables show them as they are.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// signed writes v with thousands separators, dec decimals and a unit prefix
// after the sign: -$1,234.5.
func signed(v float64, dec int, prefix string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', dec, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	b.WriteString(prefix)
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// usd is whole dollars: the simulation's spread is far wider than a cent.
func usd(v float64) string { return signed(v, 0, "$") }

// count is a number of requests, which the simulation estimates as a mean,
// rounded to whole requests.
func count(v float64) string { return signed(v, 0, "") }

// score is a 0–100 score, shown to the point the memo reasons in.
func score(v float64) string { return signed(v, 0, "") }

// ms is milliseconds to a tenth, without a trailing ".0".
func ms(v float64) string {
	return strings.TrimSuffix(signed(v, 1, ""), ".0") + " ms"
}

// percent writes a share as a percentage with at most two decimals, like the
// server's templates: 0.9995 reads "99.95 %".
func percent(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(math.Round(v*10000)/100, 'f', -1, 64) + " %"
}

func options(n int) string { return plural(n, "option") }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
