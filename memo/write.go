package memo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"gatewise/pricing"
	"gatewise/simulator"
)

//go:embed templates/memo.md.tmpl
var templatesFS embed.FS

// Input is everything a memo depends on. Now and Version are explicit so the
// same input always gives the same memo.
type Input struct {
	Spec    simulator.Spec
	Result  simulator.Result
	Catalog *pricing.Catalog
	// ArchitectureJSON is the architecture as submitted, hashed into the
	// front matter; when nil the Spec's JSON encoding is hashed.
	ArchitectureJSON []byte
	Now              time.Time
	Version          string
	// Outages are the re-simulated outage-rate variants from Outages;
	// optional, the memo says when they were not computed.
	Outages []Variant
}

// InputHash identifies a memo's inputs: the architecture, the price
// catalog's date, the seed, the trial count and the gatewise version.
func InputHash(in Input) (string, error) {
	arch := in.ArchitectureJSON
	if arch == nil {
		var err error
		if arch, err = json.Marshal(in.Spec); err != nil {
			return "", err
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%s", arch, in.Result.CatalogAsOf, in.Result.Seed, in.Result.Trials, in.Version)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Write renders the memo as Markdown: one printed page.
func Write(w io.Writer, in Input) error {
	if in.Catalog == nil {
		in.Catalog = pricing.Default()
	}
	d, err := Score(in.Spec, in.Result, in.Catalog)
	if err != nil {
		return err
	}
	view, err := newView(in, d)
	if err != nil {
		return err
	}
	t, err := template.New("memo.md.tmpl").Funcs(template.FuncMap{"md": escapeMarkdown, "json": jsonString, "join": joinAnd, "semi": func(xs []string) string { return strings.Join(xs, "; ") }}).ParseFS(templatesFS, "templates/memo.md.tmpl")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, view); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// view is the template's data: every number already formatted, every piece
// of user text already escaped where it sits in prose.
type view struct {
	Name, Date, Hash, Version, Status string
	Trials                            int
	Seed                              uint64
	Chosen, Reason                    string
	Tied                              []string
	NoGatewayYet                      bool
	Context                           string
	Rows                              []row
	Excluded                          []Exclusion
	RunnersUp                         []string
	Constraints                       []string
	Needs                             []string
	FailureMode                       string
	Revisit                           []string
	// Steady are the tested changes that leave the choice as it is;
	// IncidentNote says when the incident-rate variants say nothing.
	Steady       []string
	IncidentNote string
	// Volume is how the cheapest hosted and self-hosted options compare
	// as traffic changes, when it is no trigger.
	Volume      string
	ReviewBy    string
	Assumptions string
	Rollout     string
}

type row struct {
	Gateway, Overall, Failover, Cost, Observability, Monthly, Failed, Stress, P95 string
}

func newView(in Input, d Decision) (view, error) {
	spec, res := in.Spec, in.Result
	hash, err := InputHash(in)
	if err != nil {
		return view{}, err
	}
	v := view{
		Name: spec.Name, Date: in.Now.Format(time.DateOnly), Hash: hash, Version: in.Version, Status: "proposed",
		Trials: res.Trials, Seed: res.Seed,
		Chosen: d.Chosen, Reason: d.Reason, NoGatewayYet: d.NoGatewayYet, Excluded: d.Excluded,
		ReviewBy: in.Now.AddDate(0, 6, 0).Format(time.DateOnly),
	}
	if len(d.Tied) > 1 {
		v.Tied = d.Tied
	}
	v.Context = contextText(spec, res.Traffic, d)
	for _, o := range d.Options {
		r := row{
			Gateway: o.Gateway, Overall: fmt.Sprintf("%.1f ± %.1f", o.Overall, o.Margin),
			Failover: fmt.Sprintf("%.0f", o.Failover), Cost: fmt.Sprintf("%.0f", o.Cost), Observability: fmt.Sprintf("%.0f", o.Observability),
			Monthly: fmt.Sprintf("$%s ($%s–$%s)", thousands(o.Base.CostUSD.Total.P50), thousands(o.Base.CostUSD.Total.P5), thousands(o.Base.CostUSD.Total.P95)),
			Failed:  fmt.Sprintf("%s (%s)", thousands(o.Base.FailedRequests.Mean), thousands(o.Base.FailedRequests.P95)),
			Stress:  "–",
			P95:     fmt.Sprintf("%.0f", o.Base.LatencyAddedMS.P95),
		}
		if o.Worst.Scenario != d.Baseline {
			r.Stress = fmt.Sprintf("%s %s", thousands(o.Worst.FailedRequests.Mean), escapeMarkdown(o.Worst.Scenario))
		}
		if o.Base.CostUSD.Estimated > 0 {
			r.Monthly += "\\*"
		}
		v.Rows = append(v.Rows, r)
	}
	chosen, _ := d.Option(d.Chosen)
	for _, o := range d.Options {
		if o.Gateway == d.Chosen || len(v.RunnersUp) == 3 {
			continue
		}
		v.RunnersUp = append(v.RunnersUp, runnerUp(chosen, o, d))
	}
	for _, e := range d.Excluded {
		v.Constraints = append(v.Constraints, fmt.Sprintf("%s excluded: %s", e.Gateway, escapeMarkdown(e.Reason)))
	}
	for _, c := range d.Checks {
		v.Constraints = append(v.Constraints, "to verify: "+escapeMarkdown(c))
	}
	estimates := estimatedPrices(in, d)
	v.Needs = append(needsText(spec, chosen), estimates.sentences...)
	v.FailureMode = failureMode(chosen, d, res)
	v.Revisit, v.Steady, v.Volume, v.IncidentNote = revisit(in, d)
	v.Revisit = append(v.Revisit, estimates.triggers...)
	v.Assumptions = assumptionsText(spec, res, d)
	if v.Rollout, err = rolloutPointer(spec, res, in.Catalog, d.Chosen); err != nil {
		return view{}, err
	}
	return v, nil
}

// contextText is the architecture in a few clauses: providers and
// regions, volume and origins, routes, compliance, and the corner that
// weighs most with why.
func contextText(spec simulator.Spec, tr simulator.TrafficSource, d Decision) string {
	var provs []string
	for _, p := range spec.Providers {
		provs = append(provs, fmt.Sprintf("%s (%s)", escapeMarkdown(p.ID), escapeMarkdown(strings.Join(p.Regions, ", "))))
	}
	originShare, routeShare := spec.Traffic.Origin, map[string]float64{}
	for _, r := range spec.Routes {
		routeShare[r.Name] = r.Share
	}
	if tr.Kind == simulator.TrafficLog {
		// A log's mix is what was replayed, not the file's traffic block.
		originShare, routeShare = sharesOf(tr.Origins), sharesOf(tr.Routes)
	}
	origins := slices.Sorted(maps.Keys(originShare))
	var mix []string
	for _, o := range origins {
		mix = append(mix, fmt.Sprintf("%s %.0f %%", escapeMarkdown(o), 100*originShare[o]))
	}
	var routes []string
	for _, r := range spec.Routes {
		routes = append(routes, fmt.Sprintf("%s %.0f %% (%s)", escapeMarkdown(r.Name), 100*routeShare[r.Name], escapeMarkdown(strings.Join(r.Models, " → "))))
	}
	dom := dominant(d.Weights)
	weights := fmt.Sprintf("failover %.0f %%, cost %.0f %%, observability %.0f %%", 100*d.Weights.Failover, 100*d.Weights.Cost, 100*d.Weights.Observability)
	lead := capitalise(dom.name) + " weighs most"
	var tiedWith []string
	for _, k := range corners() {
		if k.name != dom.name && math.Abs(k.weight(d.Weights)-dom.weight(d.Weights)) < 1e-9 {
			tiedWith = append(tiedWith, k.name)
		}
	}
	if len(tiedWith) > 0 {
		lead = capitalise(joinAnd(append([]string{dom.name}, tiedWith...))) + " weigh most, equally, and " + dom.name + " breaks the tie"
	}
	volume := thousands(shownVolume(spec, d)) + " requests a day"
	if tr.Kind == simulator.TrafficLog && tr.Log != nil {
		volume = "Traffic from " + escapeMarkdown(tr.Describe())
	} else if shownVolume(spec, d) != spec.Traffic.RequestsPerDay {
		volume += " as replayed"
	}
	from := strings.Join(mix, ", ")
	if tr.Kind == simulator.TrafficLog {
		from += ". The run takes the log's requests, their timing, tokens, routes and regions; failures, latency and prices come from the model and the catalog"
	}
	return fmt.Sprintf("%s: %s. %s from %s. %s: %s. Compliance: %s. %s (%s): %s.",
		count(len(spec.Providers), "provider", "providers"), strings.Join(provs, "; "),
		volume, from,
		count(len(spec.Routes), "route", "routes"), strings.Join(routes, "; "),
		complianceText(spec.Compliance), lead, weights, why(dom.name, spec))
}

// sharesOf indexes shares by name.
func sharesOf(xs []simulator.Share) map[string]float64 {
	out := make(map[string]float64, len(xs))
	for _, x := range xs {
		out[x.Name] += x.Share
	}
	return out
}

// shownVolume is the daily volume the memo quotes: the file's, unless the
// simulated traffic (a replayed log) is more than 2 % away from it. A
// synthetic month samples within a fraction of a percent of the file's
// figure, and quoting two numbers for one volume reads as a mistake.
func shownVolume(spec simulator.Spec, d Decision) float64 {
	if math.Abs(d.RequestsPerDay-spec.Traffic.RequestsPerDay) > 0.02*spec.Traffic.RequestsPerDay {
		return d.RequestsPerDay
	}
	return spec.Traffic.RequestsPerDay
}

// count writes "one provider", "3 routes".
func count(n int, one, many string) string {
	words := []string{"no", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"}
	if n < len(words) {
		if n == 1 {
			return words[n] + " " + one
		}
		return words[n] + " " + many
	}
	return fmt.Sprintf("%d %s", n, many)
}

// variantValue finds where a variant's name gives its value: the first
// word that is a number, a factor or a signed change.
var variantValue = regexp.MustCompile(` ([×+\-]?[0-9].*)$`)

// sameKind writes variants of one kind once: "provider incident rates
// ×0.5", "provider incident rates ×2" become "provider incident rates
// ×0.5 or ×2".
func sameKind(names []string) []string {
	var out []string
	last := ""
	for _, n := range names {
		kind, value := n, ""
		if m := variantValue.FindStringSubmatchIndex(n); m != nil {
			kind, value = n[:m[2]], n[m[2]:]
		}
		if kind == last && value != "" && len(out) > 0 {
			out[len(out)-1] += " or " + value
			continue
		}
		out, last = append(out, n), kind
	}
	return out
}

// scenariosText lists the stress tests the run simulated with their
// parameters, so a reader knows which outage "provider-outage" was. A
// result from before results recorded them is read against the file.
func scenariosText(spec simulator.Spec, res simulator.Result) string {
	var ran []simulator.Scenario
	if len(res.Scenarios) > 0 { // as simulated, defaults filled in
		for _, s := range res.Scenarios {
			ran = append(ran, s.Scenario)
		}
	} else {
		var labels []string
		for _, r := range res.Results {
			if !slices.Contains(labels, r.Scenario) {
				labels = append(labels, r.Scenario)
			}
		}
		var err error
		if ran, err = simulator.SelectScenarios(spec.Scenarios, labels); err != nil {
			ran = nil // a result not made from this file: its labels say enough
			for _, l := range labels {
				ran = append(ran, simulator.Scenario{Name: l})
			}
		}
	}
	var out []string
	for _, sc := range ran {
		if sc.Name == "baseline" {
			continue
		}
		t := escapeMarkdown(sc.Name)
		if p := sc.Params(); p != "" {
			t += " (" + escapeMarkdown(p) + ")"
		}
		out = append(out, t)
	}
	return strings.Join(out, "; ")
}

func complianceText(c simulator.Compliance) string {
	var out []string
	for _, o := range slices.Sorted(maps.Keys(c.DataResidency)) {
		out = append(out, fmt.Sprintf("%s traffic stays in %s", escapeMarkdown(o), escapeMarkdown(c.DataResidency[o])))
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{c.SOC2, "SOC 2"}, {c.HIPAA, "HIPAA"}, {c.ZeroDataRetention, "zero data retention"}, {c.NoThirdPartyInPath, "no third party in the request path"}} {
		if f.on {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// why the dominant corner matters for this architecture, in words that
// hold for it.
func why(corner string, spec simulator.Spec) string {
	switch corner {
	case "cost":
		return "the team pays for every request, and the cost corner counts both the bill and what an option tells the team about it (cost per request, per user and feature, budgets, alerts)"
	case "observability":
		if len(spec.ObservabilityNeeds) == 0 {
			return "no needs are stated, so it scores the share of requests logged"
		}
		return fmt.Sprintf("the team needs %s, which only a logging gateway provides in one place", joinAnd(spec.ObservabilityNeeds))
	}
	switch n := len(spec.Providers); {
	case n >= 2:
		return fmt.Sprintf("failed requests are what users see, and with %s there is somewhere to fail over to", strings.ToLower(count(n, "provider", "providers")))
	case len(spec.Providers[0].Regions) > 1 || slices.ContainsFunc(spec.Routes, func(r simulator.Route) bool { return len(r.Models) > 1 }):
		return "failed requests are what users see; with one provider, failover can only move between its models and regions, which its provider-wide incidents take down together"
	}
	return "failed requests are what users see; with one provider, one region and one model a route there is nowhere to fail over to"
}

func runnerUp(c, o OptionScore, d Decision) string {
	var parts []string
	for _, cn := range corners() {
		if diff := cn.of(c) - cn.of(o); math.Abs(diff) >= 1 {
			parts = append(parts, fmt.Sprintf("%s %.0f vs %.0f", cn.name, cn.of(o), cn.of(c)))
		}
	}
	gap := fmt.Sprintf("%.1f points behind", c.Overall-o.Overall)
	if d.tiedWith(c, o) {
		gap = "tied within the intervals"
	}
	if c.Overall < o.Overall && !d.NoGatewayYet {
		gap = fmt.Sprintf("%.1f points ahead but within the intervals", o.Overall-c.Overall)
	}
	if d.NoGatewayYet && o.Overall > c.Overall {
		gap = fmt.Sprintf("%.1f points ahead on paper, without failing fewer requests than direct by enough to justify a gateway", o.Overall-c.Overall)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s: %s", o.Gateway, gap)
	}
	return fmt.Sprintf("%s: %s (%s)", o.Gateway, gap, strings.Join(parts, ", "))
}

// needsText names every stated need the chosen option misses or only
// partly meets.
func needsText(spec simulator.Spec, c OptionScore) []string {
	if len(spec.ObservabilityNeeds) == 0 {
		return nil
	}
	obs := c.Base.Observability
	var partial []string
	for _, n := range obs.NeedsPartial {
		partial = append(partial, n)
	}
	switch {
	case len(obs.NeedsMissing) == 0 && len(partial) == 0:
		return []string{fmt.Sprintf("%s meets every stated need (%s) on its %s plan", c.Gateway, joinAnd(spec.ObservabilityNeeds), c.Base.PricePlan)}
	case len(obs.NeedsMissing) == 0:
		return []string{fmt.Sprintf("%s meets %s only in part on its %s plan", c.Gateway, joinAnd(partial), c.Base.PricePlan)}
	}
	out := fmt.Sprintf("%s misses %s on every plan it offers", c.Gateway, joinAnd(obs.NeedsMissing))
	if c.Hosting == "none" {
		out = fmt.Sprintf("Calling providers directly gives the team no %s", joinAnd(obs.NeedsMissing))
	}
	if c.Base.PricePlan != "" && c.Base.PricePlan != "none" {
		out = fmt.Sprintf("%s on its %s plan misses %s", c.Gateway, c.Base.PricePlan, joinAnd(obs.NeedsMissing))
	}
	if len(partial) > 0 {
		out += " and meets " + joinAnd(partial) + " only in part"
	}
	return []string{out}
}

// failureMode is how the decision goes wrong and what to do about it:
// for an option in the path its own outage (the gateway-outage stress test
// when one was simulated), for direct calls the provider's.
func failureMode(c OptionScore, d Decision, res simulator.Result) string {
	hurt := "no stress test was simulated"
	if c.Worst.Scenario != d.Baseline {
		hurt = fmt.Sprintf("the worst stress test, %s, fails %s requests, against %s in a mean month", escapeMarkdown(c.Worst.Scenario), thousands(c.Worst.FailedRequests.Mean), thousands(c.Base.FailedRequests.Mean))
	}
	if c.Hosting != "none" {
		if g, ok := find(res, c.Gateway, "gateway-outage"); ok {
			hurt = fmt.Sprintf("the gateway-outage stress test fails %s requests, against %s in a mean month", thousands(g.FailedRequests.Mean), thousands(c.Base.FailedRequests.Mean))
		} else {
			hurt = "its own incidents are in the sampled months (no gateway-outage stress test was run)"
		}
	}
	runner := ""
	for _, o := range d.Options {
		if o.Gateway != c.Gateway {
			runner = o.Gateway
			break
		}
	}
	switch c.Hosting {
	case "none":
		m := "add a second provider and a gateway that fails over"
		if runner != "" {
			m = fmt.Sprintf("%s, the runner-up, is a base-URL change away", runner)
		}
		return fmt.Sprintf("If the provider has a long outage, requests fail for its whole length: %s. Mitigation: %s.", hurt, m)
	case "self-hosted":
		return fmt.Sprintf("If the proxy is the weak link (a bad deploy, an on-call gap), every provider looks down at once: %s. Mitigation: run its replicas in two zones and keep the SDK's direct endpoint behind a flag.", hurt)
	}
	return fmt.Sprintf("If %s goes down, every route fails with it: %s. Mitigation: keep the SDK's direct endpoint behind a flag to bypass it, and watch its status page.", c.Gateway, hurt)
}

// revisit lists what a team can watch in production that would change the
// choice: volume crossing a break-even, the fallback share when incidents
// come more or less often than modelled, token prices.
func revisit(in Input, d Decision) (out, steady []string, volume, note string) {
	if be := breakEven(in.Spec, in.Catalog, d); be != nil {
		other := be.SaaS
		if be.CheaperAfter == be.SaaS {
			other = be.SelfHosted
		}
		switch {
		case be.Found && be.CheaperAfter == d.Chosen:
			// A crossing that makes the chosen option cheaper still is
			// no reason to revisit it.
			dir := "past"
			if !be.Rising {
				dir = "below"
			}
			volume = fmt.Sprintf("%s %s requests a day (now %s) %s would cost less than %s too", dir, thousands(roundSignificant(be.RequestsPerDay, 3)), thousands(shownVolume(in.Spec, d)), be.CheaperAfter, other)
		case be.Found && be.Rising:
			out = append(out, fmt.Sprintf("traffic rises past %s requests a day (now %s): %s then costs less than %s", thousands(roundSignificant(be.RequestsPerDay, 3)), thousands(shownVolume(in.Spec, d)), be.CheaperAfter, other))
		case be.Found:
			out = append(out, fmt.Sprintf("traffic falls below %s requests a day (now %s): %s then costs less than %s", thousands(roundSignificant(be.RequestsPerDay, 3)), thousands(shownVolume(in.Spec, d)), be.CheaperAfter, other))
		case be.CheaperSaaS:
			volume = fmt.Sprintf("%s stays cheaper than %s (self-hosted) from 1/100 to 100 times today's traffic", be.SaaS, be.SelfHosted)
		default:
			volume = fmt.Sprintf("%s (self-hosted) stays cheaper than %s from 1/100 to 100 times today's traffic", be.SelfHosted, be.SaaS)
		}
	}
	if d.NoGatewayYet {
		out = append(out, fmt.Sprintf("a second provider is added, traffic passes %s requests a day, or a compliance rule appears", thousands(NoGatewayMaxRequestsPerDay)))
	}
	chosen, _ := d.Option(d.Chosen)
	for _, v := range in.Outages {
		if v.Control != "" && v.Control != d.Chosen {
			// On the variants' fewer trials the modelled rates already
			// choose another option: the two are too close for them.
			note = fmt.Sprintf("The sensitivity runs (incident rates ×0.5 and ×2, retries failing together 0 %% and 100 %%) were re-simulated on %d trials, too few to separate %s from %s: on them the modelled rates already put %s first.", v.Trials, d.Chosen, v.Control, v.Control)
			continue
		}
		if v.Chosen == d.Chosen {
			steady = append(steady, v.Name)
			continue
		}
		if v.Of == OfRetries {
			watch := "the SDK's retries of failed requests almost never succeed"
			if v.Factor < 0.5 {
				watch = "the SDK's retries succeed as often as first attempts"
			}
			out = append(out, fmt.Sprintf("%s (gatewise assumes half of a failed request's retries fail with it, an estimate; %.0f %% here): %s would be chosen", watch, 100*v.Factor, v.Chosen))
			continue
		}
		how := "twice as often"
		if v.Factor < 1 {
			how = "half as often"
		}
		if v.Of == OfGateways {
			// The gateway a team would watch: the one it runs, or the
			// one it would switch to.
			g := d.Chosen
			if chosen.Hosting == "none" {
				g = v.Chosen
			}
			out = append(out, fmt.Sprintf("gateways' own incidents come %s as modelled (%s %s): %s would be chosen", how, g, gatewayWatch(in.Spec, g, v.Factor), v.Chosen))
			continue
		}
		watch := incidentWatch(in.Spec, v.Factor)
		if fb, ok := v.FallbackShares[d.Chosen]; ok && chosen.Hosting != "none" {
			dir := "passes"
			if v.Factor < 1 {
				dir = "stays under"
			}
			watch += fmt.Sprintf(", or %s's fallback share %s %s (simulated %s)", d.Chosen, dir, percent(fb), percent(chosen.Base.FallbackShare))
		}
		out = append(out, fmt.Sprintf("provider incidents come %s as modelled (%s): %s would be chosen", how, watch, v.Chosen))
	}
	for _, v := range priceVariants(in.Spec, in.Result, in.Catalog) {
		if v.Chosen == d.Chosen {
			steady = append(steady, v.Name)
			continue
		}
		dir := "rise"
		if v.Factor < 1 {
			dir = "fall"
		}
		out = append(out, fmt.Sprintf("token prices %s %.0f %%: %s would be chosen", dir, math.Abs(v.Factor-1)*100, v.Chosen))
	}
	if len(in.Outages) == 0 {
		note = "Incident rates ×0.5 and ×2 and retries failing together were not re-simulated for this memo."
	}
	return out, sameKind(steady), volume, note
}

// roundSignificant rounds v to n significant digits: a break-even volume
// found by bisection over a modelled bill is not known to the request.
func roundSignificant(v float64, n int) float64 {
	if v == 0 {
		return 0
	}
	scale := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*scale) / scale
}

// incidentWatch says what "incidents come f times as often" looks like:
// the primary providers' incidents a month at that rate.
func incidentWatch(spec simulator.Spec, f float64) string {
	im := spec.IncidentModels()
	var parts []string
	for _, p := range spec.Providers {
		if m, ok := im.Providers[p.ID]; ok && len(parts) < 2 {
			parts = append(parts, fmt.Sprintf("%s %s incidents a month against %s modelled", escapeMarkdown(p.ID), trimNumber(m.PerMonth*f), trimNumber(m.PerMonth)))
		}
	}
	return strings.Join(parts, ", ")
}

// gatewayWatch is a gateway's own incidents a month at f times the
// modelled rate, with the source's caveat for a self-hosted one.
func gatewayWatch(spec simulator.Spec, g string, f float64) string {
	m, ok := spec.IncidentModels().Gateways[g]
	if !ok {
		return "its incident rate"
	}
	s := fmt.Sprintf("%s a month against %s modelled", trimNumber(m.PerMonth*f), trimNumber(m.PerMonth))
	if g == "litellm" || g == "kong" {
		s += ", counting the team's own bad deploys and config changes"
	}
	return s
}

func percent(x float64) string {
	switch {
	case x == 0:
		return "0 %"
	case x < 0.0001:
		return "under 0.01 %"
	}
	return strconv.FormatFloat(100*x, 'g', 2, 64) + " %"
}

func trimNumber(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// estimates are what the memo says of placeholder prices: which options
// are priced on one, and where one decides the choice.
type estimates struct {
	sentences, triggers []string
}

// estimatedPrices names every estimated plan price among the eligible
// options and, for each, whether the choice would change were the real
// quote half or twice the placeholder.
func estimatedPrices(in Input, d Decision) estimates {
	var out estimates
	for _, o := range d.Options {
		est := o.Base.CostUSD.Estimated
		if est <= 0 {
			continue
		}
		name := o.Base.PricePlan
		if g, ok := in.Catalog.Gateway(o.Gateway); ok {
			for _, p := range g.Plans {
				if p.ID == o.Base.PricePlan {
					name = p.Name
				}
			}
		}
		var flips []string
		for _, f := range []float64{0.5, 2} {
			if alt := withEstimate(in, o.Gateway, f); alt != "" && alt != d.Chosen {
				word := "half"
				if f > 1 {
					word = "twice"
				}
				flips = append(flips, fmt.Sprintf("at %s it ($%s) %s would be chosen", word, thousands(est*f), alt))
				out.triggers = append(out.triggers, fmt.Sprintf("%s's %s quote comes in at $%s a month or %s: %s would be chosen", o.Gateway, escapeMarkdown(name), thousands(est*f), map[bool]string{true: "more", false: "less"}[f > 1], alt))
			}
		}
		s := fmt.Sprintf("%s's %s plan has no public price; it is priced at gatewise's $%s a month placeholder (\\*)", o.Gateway, escapeMarkdown(name), thousands(est))
		if len(flips) > 0 {
			s += ", which decides the choice: " + strings.Join(flips, ", ")
		} else if o.Gateway == d.Chosen {
			s += "; at half or twice it the choice stands"
		}
		if len(flips) > 0 || o.Gateway == d.Chosen {
			out.sentences = append(out.sentences, s)
		}
	}
	return out
}

// withEstimate is the choice when one option's placeholder price is f
// times what the catalog assumes, "" when it cannot be scored.
func withEstimate(in Input, gateway string, f float64) string {
	r := in.Result
	r.Results = slices.Clone(in.Result.Results)
	for i, o := range r.Results {
		if o.Gateway != gateway || o.CostUSD.Estimated <= 0 {
			continue
		}
		delta := o.CostUSD.Estimated * (f - 1)
		t := &o.CostUSD.Total
		t.Mean, t.P5, t.P50, t.P95 = t.Mean+delta, t.P5+delta, t.P50+delta, t.P95+delta
		t.CI95 = [2]float64{t.CI95[0] + delta, t.CI95[1] + delta}
		r.Results[i] = o
	}
	d, err := Score(in.Spec, r, in.Catalog)
	if err != nil {
		return ""
	}
	return d.Chosen
}

// assumptionsText is the run's judgements in a line or two.
func assumptionsText(spec simulator.Spec, res simulator.Result, d Decision) string {
	out := fmt.Sprintf("Prices as of %s; %d trials, seed %d; scores from the sampled months (every option's own incidents at their sourced rates), stress tests beside them, never weighted as monthly", res.CatalogAsOf, res.Trials, res.Seed)
	if st := scenariosText(spec, res); st != "" {
		out += " (" + st + ")"
	}
	// The run's own notes (a log repeated to fill the horizon, requests
	// no route took) come first; of the standing judgements the memo
	// keeps the three that move failures most.
	standing := simulator.ModelAssumptions()
	var notes []string
	for _, a := range res.Assumptions {
		if !slices.Contains(standing, a) {
			notes = append(notes, escapeMarkdown(a))
		}
	}
	out += "; " + strings.Join(append(notes, standing[:3]...), "; ") + "; the rest with the result."
	if p, ok := res.PlanOf(d.Chosen); ok && len(p.Unmodelled) > 0 {
		out += " Not simulated: " + escapeMarkdown(strings.Join(p.Unmodelled, "; ")) + "."
	}
	return out
}

// rolloutPointer is the memo's one line about the rollout bundle.
func rolloutPointer(spec simulator.Spec, res simulator.Result, cat *pricing.Catalog, gateway string) (string, error) {
	plan, ok := res.PlanOf(gateway)
	if !ok {
		var err error
		if plan, err = spec.PlanFor(cat, gateway); err != nil {
			return "", err
		}
	}
	b, err := Rollout(spec, plan, cat)
	if err != nil {
		return "", err
	}
	confirms := "failover"
	if gateway == "direct" {
		confirms = "the SDK's retries"
	}
	return fmt.Sprintf("The bundle for %s holds %s (`gatewise rollout -f FILE --gateway %s --out DIR`, or the run page's download); its README's drill confirms %s in staging.", gateway, joinAnd(b.Summary()), gateway, confirms), nil
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// escapeMarkdown makes user text literal in Markdown where it sits inside
// a line: every character that can open an inline construct (emphasis,
// code, links, autolinks, HTML, entities, table cells, strikethrough) is
// backslash-escaped, and line breaks become spaces so text cannot start a
// new block. Characters that cannot open one where they stand are left
// alone, so the raw file reads as written: an underscore inside a word
// (per_user_cost), an ampersand not starting an entity, a > or ! with no <
// or [ to pair with, and what only means something at the start of a line
// (-, +, #, digits and a dot).
func escapeMarkdown(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*[]<|~", r),
			r == '_' && !(i > 0 && isWordRune(rs[i-1]) && i+1 < len(rs) && isWordRune(rs[i+1])),
			r == '&' && i+1 < len(rs) && (unicode.IsLetter(rs[i+1]) || rs[i+1] == '#'):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isWordRune is a letter or digit: an underscore between two of them
// cannot open or close emphasis, so it needs no backslash.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// jsonString quotes a string for the YAML front matter: a JSON string is a
// valid YAML scalar whatever the user typed.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
