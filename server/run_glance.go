package server

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"gatewise/memo"
	"gatewise/simulator"
)

// Glance is the answer at the top of a finished run's page: the decision
// and why, the scores, and how every option fares in each stress test,
// with the cause beside each figure a reader would not expect.
type Glance struct {
	Lead   template.HTML // the memo's decision paragraph, rendered without raw HTML
	Scores *ChartView
	Stress StressTable
	Causes []string
}

// StressTable is failed requests a month by option and scenario, the
// chosen option first as the memo orders them.
type StressTable struct {
	Scenarios []string
	Rows      []StressRow
}

// StressRow is one option across the scenarios.
type StressRow struct {
	Gateway string
	Chosen  bool
	Overall string
	Failed  []string // per scenario, as Scenarios
}

// glanceOf builds the top of the page from the run's decision and result.
func glanceOf(md []byte, spec simulator.Spec, res simulator.Result, d memo.Decision, scores *ChartView) (Glance, error) {
	lead, err := memo.Lead(md)
	if err != nil {
		return Glance{}, err
	}
	g := Glance{Lead: template.HTML(lead), Scores: scores, Causes: failureCauses(spec, res, d)} // memo escapes user text; goldmark renders no raw HTML
	rows := map[[2]string]simulator.OptionResult{}
	for _, r := range res.Results {
		if r.Excluded != nil {
			continue
		}
		rows[[2]string{r.Gateway, r.Scenario}] = r
		if !slices.Contains(g.Stress.Scenarios, r.Scenario) {
			g.Stress.Scenarios = append(g.Stress.Scenarios, r.Scenario)
		}
	}
	for _, o := range d.Options {
		row := StressRow{Gateway: o.Gateway, Chosen: o.Gateway == d.Chosen, Overall: strconv.FormatFloat(math.Round(o.Overall*10)/10, 'f', 1, 64)}
		for _, sc := range g.Stress.Scenarios {
			cell := "—"
			if r, ok := rows[[2]string{o.Gateway, sc}]; ok {
				cell = formatNumber(roundTo(r.FailedRequests.Mean))
			}
			row.Failed = append(row.Failed, cell)
		}
		g.Stress.Rows = append(g.Stress.Rows, row)
	}
	return g, nil
}

// surprising is how many times direct calls' failures an option must fail
// before the page explains why: a gateway is bought to fail less, so
// failing half as much again calls for a reason.
const surprising = 1.5

// failureCauses says, for each option that fails at least surprising times
// as many requests a month as direct calls in the sampled months, when its
// failures happen, from the result's split of them, and what in its
// configuration goes with it.
func failureCauses(spec simulator.Spec, res simulator.Result, d memo.Decision) []string {
	direct, ok := d.Option("direct")
	if !ok {
		return nil
	}
	base := direct.Base.FailedRequests.Mean
	incidents := spec.IncidentModels()
	var out []string
	for _, o := range d.Options {
		f := o.Base.FailedRequests.Mean
		if o.Gateway == "direct" || f < surprising*base || f-base < 1 {
			continue
		}
		by := o.Base.FailedBy
		times := "more requests than direct calls"
		if base > 0 {
			times = strconv.FormatFloat(math.Round(f/base*10)/10, 'f', -1, 64) + "× as many requests as direct calls"
		}
		line := fmt.Sprintf("%s fails %s (%s against %s a month): ", o.Gateway, times, formatNumber(roundTo(f)), formatNumber(roundTo(base)))
		plan, _ := planOf(res, o.Gateway)
		switch share := func(x float64) string { return fmt.Sprintf("%.0f %%", 100*x/f) }; {
		case by.OwnIncidents >= by.Incidents && by.OwnIncidents >= by.Calm:
			line += share(by.OwnIncidents) + " of its failures come while " + o.Gateway + " itself is down"
			if im, ok := incidents.Gateways[o.Gateway]; ok {
				line += fmt.Sprintf(" (its own incidents, %s a month modelled)", strconv.FormatFloat(im.PerMonth, 'f', -1, 64))
			}
			line += ", which no failover behind it can route around"
		case by.Incidents >= by.Calm:
			line += share(by.Incidents) + " of its failures come during provider incidents; " + failoverText(plan)
		default:
			line += share(by.Calm) + " of its failures come in calm months, from background errors and rate limits; " + retryText(plan)
		}
		out = append(out, line+".")
	}
	return out
}

// planOf finds the option's deployed behaviour in the result.
func planOf(res simulator.Result, gateway string) (simulator.Plan, bool) {
	i := slices.IndexFunc(res.Plans, func(p simulator.Plan) bool { return p.Gateway == gateway })
	if i < 0 {
		return simulator.Plan{}, false
	}
	return res.Plans[i], true
}

// failoverText says on what the option moves to the next target, and
// when it stops sending to a failing one.
func failoverText(p simulator.Plan) string {
	out := "it fails over only on " + strings.Join(p.FailOverOn, ", ") + ", and passes any other failure back to the app"
	if len(p.FailOverOn) == 0 {
		out = "as configured it does not fail over, so those failures reach the app"
	}
	if c := p.Cooldown; c != nil && c.AfterFails > 0 && c.Seconds > 0 {
		out += fmt.Sprintf("; after %d failures within %s s it cools a target down for %s s, and requests meant for it fail over or fail until then",
			c.AfterFails, strconv.FormatFloat(c.WindowSeconds, 'f', -1, 64), strconv.FormatFloat(c.Seconds, 'f', -1, 64))
	}
	return out
}

// retryText says what the option retries itself.
func retryText(p simulator.Plan) string {
	if p.Retries == 0 || len(p.RetryOn) == 0 {
		return "it does not retry a target itself, leaving that to the app's SDK"
	}
	return fmt.Sprintf("it retries a target %d times on %s", p.Retries, strings.Join(p.RetryOn, ", "))
}

// TrafficView names the traffic a run replayed, and for a log what of it
// the run uses.
type TrafficView struct {
	Line          string
	Uses, Ignores []string
}

// trafficOf names a result's traffic for its page.
func trafficOf(t simulator.TrafficSource) TrafficView {
	line := t.Describe()
	return TrafficView{Line: strings.ToUpper(line[:1]) + line[1:], Uses: t.Uses, Ignores: t.Ignores}
}

// trafficShort is the runs list's column: the log's file name, or
// "synthetic"; empty when not recorded.
func trafficShort(t simulator.TrafficSource) string {
	switch {
	case t.Kind == simulator.TrafficLog && t.Log != nil:
		return "log " + t.Log.File
	case t.Kind == simulator.TrafficSynthetic:
		return "synthetic"
	}
	return ""
}
