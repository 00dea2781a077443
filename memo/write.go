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
	"slices"
	"strings"
	"text/template"
	"time"

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

// Write renders the memo as Markdown.
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
	t, err := template.New("memo.md.tmpl").Funcs(template.FuncMap{"md": escapeMarkdown, "json": jsonString, "join": joinAnd, "env": envLine}).ParseFS(templatesFS, "templates/memo.md.tmpl")
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
// of user text still raw (the template escapes it with md).
type view struct {
	Name, Date, Hash, Version, Status string
	Chosen, Reason                    string
	Tied                              []string
	NoGatewayYet                      bool
	Context                           []string
	Dominant                          string
	Rows                              []row
	RunnersUp                         []string
	Excluded                          []Exclusion
	Checks                            []string
	Consequences                      []string
	FailureMode                       string
	Revisit                           []string
	ReviewBy                          string
	Config                            Snippet
	Confirm                           string
	Assumptions                       []string
}

type row struct {
	Gateway, Overall, Failover, Cost, Observability, Monthly, Failed, P95, Logged string
}

func newView(in Input, d Decision) (view, error) {
	spec, res := in.Spec, in.Result
	hash, err := InputHash(in)
	if err != nil {
		return view{}, err
	}
	v := view{
		Name: spec.Name, Date: in.Now.Format(time.DateOnly), Hash: hash, Version: in.Version, Status: "proposed",
		Chosen: d.Chosen, Reason: d.Reason, NoGatewayYet: d.NoGatewayYet, Excluded: d.Excluded, Checks: d.Checks,
		ReviewBy: in.Now.AddDate(0, 6, 0).Format(time.DateOnly),
	}
	if len(d.Tied) > 1 {
		v.Tied = d.Tied
	}
	v.Context = contextLines(spec, res)
	dom := dominant(d.Weights)
	v.Dominant = fmt.Sprintf("%s weighs %.0f %% (failover %.0f %%, cost %.0f %%, observability %.0f %%). %s",
		capitalise(dom.name), 100*weightOf(d.Weights, dom.name), 100*d.Weights.Failover, 100*d.Weights.Cost, 100*d.Weights.Observability, why(dom.name, spec))
	for _, o := range d.Options {
		v.Rows = append(v.Rows, row{
			Gateway: o.Gateway, Overall: fmt.Sprintf("%.1f ± %.1f", o.Overall, o.Margin),
			Failover: fmt.Sprintf("%.0f", o.Failover), Cost: fmt.Sprintf("%.0f", o.Cost), Observability: fmt.Sprintf("%.0f", o.Observability),
			Monthly: fmt.Sprintf("$%s ($%s–$%s)", thousands(o.Base.CostUSD.Total.P50), thousands(o.Base.CostUSD.Total.P5), thousands(o.Base.CostUSD.Total.P95)),
			Failed:  fmt.Sprintf("%s / %s", thousands(o.Base.FailedRequests.Mean), thousands(o.Worst.FailedRequests.Mean)),
			P95:     fmt.Sprintf("%.0f", o.Base.LatencyAddedMS.P95),
			Logged:  fmt.Sprintf("%.0f %%", 100*o.Base.Observability.Coverage),
		})
	}
	chosen, _ := d.Option(d.Chosen)
	for _, o := range d.Options {
		if o.Gateway == d.Chosen || len(v.RunnersUp) == 3 {
			continue
		}
		v.RunnersUp = append(v.RunnersUp, runnerUp(chosen, o, d))
	}
	v.Consequences = consequences(chosen)
	v.FailureMode = failureMode(chosen, d)
	v.Revisit = revisit(in, d)
	if v.Config, err = Config(spec, in.Catalog, d.Chosen); err != nil {
		return view{}, err
	}
	v.Confirm = confirmation(spec, in.Catalog, d.Chosen)
	v.Assumptions = append([]string{
		fmt.Sprintf("Prices as of %s; %d trials, seed %d; scores from the %s scenario, failover also from each option's worst named scenario.", res.CatalogAsOf, res.Trials, res.Seed, d.Baseline),
	}, res.Assumptions...)
	return v, nil
}

func contextLines(spec simulator.Spec, res simulator.Result) []string {
	var provs []string
	for _, p := range spec.Providers {
		regions := make([]string, len(p.Regions))
		for i, r := range p.Regions {
			regions[i] = escapeMarkdown(r)
		}
		provs = append(provs, fmt.Sprintf("%s (%s)", escapeMarkdown(p.ID), strings.Join(regions, ", ")))
	}
	origins := slices.Sorted(maps.Keys(spec.Traffic.Origin))
	var mix []string
	for _, o := range origins {
		mix = append(mix, fmt.Sprintf("%s %.0f %%", escapeMarkdown(o), 100*spec.Traffic.Origin[o]))
	}
	var routes []string
	for _, r := range spec.Routes {
		models := make([]string, len(r.Models))
		for i, m := range r.Models {
			models[i] = escapeMarkdown(m)
		}
		routes = append(routes, fmt.Sprintf("%s (%.0f %%: %s)", escapeMarkdown(r.Name), 100*r.Share, strings.Join(models, " → ")))
	}
	return []string{
		"Providers: " + strings.Join(provs, "; ") + ".",
		fmt.Sprintf("Volume: %s requests a day from %s.", thousands(spec.Traffic.RequestsPerDay), strings.Join(mix, ", ")),
		"Routes: " + strings.Join(routes, "; ") + ".",
		"Compliance: " + complianceText(spec.Compliance) + ".",
		"Scenarios: " + scenariosText(spec, res) + ".",
	}
}

// sameKind writes variants of one kind once: "outage rates ×0.5",
// "outage rates ×2" become "outage rates ×0.5 or ×2".
func sameKind(names []string) []string {
	var out []string
	last := ""
	for _, n := range names {
		kind, value := n, ""
		if i := strings.IndexAny(n, "×+-"); i > 0 && n[i-1] == ' ' {
			kind, value = n[:i], n[i:]
		}
		if kind == last && value != "" && len(out) > 0 {
			out[len(out)-1] += " or " + value
			continue
		}
		out, last = append(out, n), kind
	}
	return out
}

// scenariosText lists the scenarios the run simulated with their
// parameters, so a reader knows which outage "provider-outage" was. A
// result from before results recorded them is read against the file.
func scenariosText(spec simulator.Spec, res simulator.Result) string {
	if len(res.Scenarios) > 0 { // as simulated, defaults filled in
		out := make([]string, len(res.Scenarios))
		for i, s := range res.Scenarios {
			out[i] = escapeMarkdown(s.Scenario.Name)
			if p := s.Scenario.Params(); p != "" {
				out[i] += " (" + escapeMarkdown(p) + ")"
			}
		}
		return strings.Join(out, "; ")
	}
	var labels []string
	for _, r := range res.Results {
		if !slices.Contains(labels, r.Scenario) {
			labels = append(labels, r.Scenario)
		}
	}
	ran, err := simulator.SelectScenarios(spec.Scenarios, labels)
	if err != nil { // a result not made from this file: its labels say enough
		ran = nil
		for _, l := range labels {
			ran = append(ran, simulator.Scenario{Name: l})
		}
	}
	out := make([]string, len(ran))
	for i, sc := range ran {
		out[i] = escapeMarkdown(sc.Name)
		if p := sc.Params(); p != "" {
			out[i] += " (" + escapeMarkdown(p) + ")"
		}
	}
	return strings.Join(out, "; ")
}

func complianceText(c simulator.Compliance) string {
	var out []string
	for _, o := range slices.Sorted(maps.Keys(c.DataResidency)) {
		out = append(out, fmt.Sprintf("%s traffic stays in %s", o, c.DataResidency[o]))
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

func weightOf(w simulator.Priorities, name string) float64 {
	switch name {
	case "cost":
		return w.Cost
	case "observability":
		return w.Observability
	}
	return w.Failover
}

func why(corner string, spec simulator.Spec) string {
	switch corner {
	case "cost":
		return "The team pays for every request, so the gateway's own fees and infrastructure must earn their keep."
	case "observability":
		return fmt.Sprintf("The team needs %s, which only a logging gateway provides centrally.", strings.Join(spec.ObservabilityNeeds, ", "))
	}
	return fmt.Sprintf("Failed requests are what users see; with %d providers there is somewhere to fail over to.", len(spec.Providers))
}

func runnerUp(c, o OptionScore, d Decision) string {
	var parts []string
	for _, cn := range corners() {
		if diff := cn.of(c) - cn.of(o); math.Abs(diff) >= 1 {
			parts = append(parts, fmt.Sprintf("%s %.0f vs %.0f", cn.name, cn.of(o), cn.of(c)))
		}
	}
	gap := fmt.Sprintf("%.1f points behind", c.Overall-o.Overall)
	if tied(c, o) {
		gap = "tied within the intervals"
	}
	if c.Overall < o.Overall {
		gap = fmt.Sprintf("%.1f points ahead but within the intervals", o.Overall-c.Overall)
	}
	if d.NoGatewayYet && o.Overall > c.Overall {
		gap = fmt.Sprintf("%.1f points ahead on paper, but without failing fewer requests than direct beyond the intervals, which is what would justify adding a gateway", o.Overall-c.Overall)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s: %s.", o.Gateway, gap)
	}
	return fmt.Sprintf("%s: %s (%s).", o.Gateway, gap, strings.Join(parts, ", "))
}

func consequences(c OptionScore) []string {
	switch c.Hosting {
	case "none":
		return []string{
			"Good: nothing new in the request path, no fee, no latency added.",
			"Bad: no cross-provider failover and no central request log; each service keeps its own retry code.",
			"Exit ramp: adding a gateway later is a base-URL change per client, since the SDKs already speak the OpenAI-style API most gateways accept.",
		}
	case "self-hosted":
		return []string{
			"Good: traffic and logs stay in infrastructure the team controls; no per-request fee.",
			"Bad: the team runs, patches and pages for the proxy; its replicas are a new dependency.",
			"Exit ramp: clients use the proxy's OpenAI-style endpoint, so leaving is a base-URL change; the fallback lists move with this memo's config.",
		}
	}
	return []string{
		"Good: failover, logging and keys in one place without running anything.",
		fmt.Sprintf("Bad: a vendor in every request (p95 +%.0f ms) and its fee; its outages are now yours.", c.Base.LatencyAddedMS.P95),
		"Exit ramp: provider keys stay in your accounts (BYOK) and the config in the repo, so leaving is a base-URL change and a rebuilt fallback config; export logs first.",
	}
}

func failureMode(c OptionScore, d Decision) string {
	switch c.Hosting {
	case "none":
		return fmt.Sprintf("If the provider has a long outage, requests fail for its whole length: the worst simulated scenario (%s) costs %s failed requests a month. Watch the provider's error rate; a second incident in a quarter is the signal.", c.Worst.Scenario, thousands(c.Worst.FailedRequests.Mean))
	case "self-hosted":
		return fmt.Sprintf("If the proxy itself is the weak link, every provider looks down at once: %s's worst simulated scenario (%s) costs %s failed requests a month. An on-call gap is the realistic way this goes wrong.", c.Gateway, c.Worst.Scenario, thousands(c.Worst.FailedRequests.Mean))
	}
	return fmt.Sprintf("If %s has an outage, every route fails with it: its worst simulated scenario (%s) costs %s failed requests a month. A fee rise is the other way this goes wrong.", c.Gateway, c.Worst.Scenario, thousands(c.Worst.FailedRequests.Mean))
}

func revisit(in Input, d Decision) []string {
	var out []string
	if be := breakEven(in.Spec, in.Catalog, d); be != nil {
		switch {
		case be.Found && be.SelfHostedCheaperAbove:
			out = append(out, fmt.Sprintf("traffic passes %s requests a day: %s (self-hosted) then costs less than %s.", thousands(be.RequestsPerDay), be.SelfHosted, be.SaaS))
		case be.Found:
			out = append(out, fmt.Sprintf("traffic falls below %s requests a day: %s (self-hosted) then costs less than %s.", thousands(be.RequestsPerDay), be.SelfHosted, be.SaaS))
		case be.CheaperSaaS:
			out = append(out, fmt.Sprintf("never on volume alone: %s stays cheaper than %s (self-hosted) from 1/100 to 100× today's traffic.", be.SaaS, be.SelfHosted))
		default:
			out = append(out, fmt.Sprintf("never on volume alone: %s (self-hosted) stays cheaper than %s from 1/100 to 100× today's traffic.", be.SelfHosted, be.SaaS))
		}
	}
	if d.NoGatewayYet {
		out = append(out, fmt.Sprintf("a second provider is added, traffic passes %s requests a day, or a compliance rule appears.", thousands(NoGatewayMaxRequestsPerDay)))
	}
	for _, f := range flips(in.Spec, d) {
		dir := "rises to"
		if f.To < f.From {
			dir = "falls to"
		}
		out = append(out, fmt.Sprintf("the %s weight %s %.2f (now %.2f): %s would be chosen.", f.Corner, dir, f.To, f.From, f.Chosen))
	}
	variants := append(slices.Clone(in.Outages), priceVariants(in.Spec, in.Result, in.Catalog)...)
	var steady []string
	for _, v := range variants {
		if v.Chosen != d.Chosen {
			out = append(out, fmt.Sprintf("%s (%s): %s would be chosen.", v.Name, v.Method, v.Chosen))
		} else {
			steady = append(steady, v.Name)
		}
	}
	if len(steady) > 0 {
		out = append(out, fmt.Sprintf("Not a trigger: %s leave the choice unchanged.", strings.Join(sameKind(steady), "; ")))
	}
	if len(in.Outages) == 0 {
		out = append(out, "Outage rates ×0.5 and ×2 were not re-simulated for this memo.")
	}
	return out
}

func confirmation(spec simulator.Spec, cat *pricing.Catalog, chosen string) string {
	r := spec.Routes[0]
	r.Name = escapeMarkdown(r.Name)
	p := spec.Providers[0].ID
	origins := slices.Sorted(maps.Keys(spec.Traffic.Origin))
	if len(origins) > 0 {
		if paths := spec.RoutePaths(cat, 0, origins[0]); len(paths) > 0 {
			p = paths[0].Provider
		}
	}
	if chosen == "direct" {
		return fmt.Sprintf("In staging, point the %s client for route %s at an unroutable address and check that it retries twice, then surfaces the error within the timeout; alert when the provider's error rate passes 1 %% for 5 minutes.", p, r.Name)
	}
	next := "its fallback"
	if len(r.Models) > 1 {
		next = r.Models[1]
	}
	return fmt.Sprintf("In staging, revoke or block %s's key for route %s's primary (%s) and send traffic: %s (or the same model on another host) must serve it, visible in the gateway's logs; then restore the key and alert when the fallback share passes 5 %% for 15 minutes.", p, r.Name, r.Models[0], next)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// escapeMarkdown makes user text literal in Markdown: every punctuation
// character CommonMark could read as syntax is backslash-escaped, and line
// breaks become spaces so text cannot start a new block.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_{}[]()<>#+-.!|~&\"'=:", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// jsonString quotes a string for the YAML front matter: a JSON string is a
// valid YAML scalar whatever the user typed.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// envLine sets an environment entry's setting in code and its note, the
// part in parentheses, as prose.
func envLine(s string) string {
	code, note, ok := strings.Cut(s, " (")
	if !ok {
		return "`" + s + "`"
	}
	return "`" + code + "` (" + note
}
