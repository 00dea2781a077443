package memo

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatewise/pricing"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// Use go test ./memo -update to re-simulate the inputs and rewrite the
// golden memos.
var update = flag.Bool("update", false, "re-simulate testdata/memo inputs and rewrite the golden memos")

// goldenInput is a case file: the architecture, its simulation result and
// the re-simulated outage variants.
type goldenInput struct {
	Architecture json.RawMessage  `json:"architecture"`
	Result       simulator.Result `json:"result"`
	Outages      []Variant        `json:"outages"`
}

const (
	goldenTrials  = 300
	outageTrials  = 150
	goldenVersion = "gatewise test"
)

var goldenNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// goldenCases name the inputs; example is the architecture they come from.
func goldenCases() []struct{ name, example string } {
	return []struct{ name, example string }{
		{"multi-region", "multi-region.yaml"},
		{"single-provider", "single-provider.yaml"},
		{"eu-regulated", "eu-regulated.yaml"},
		{"tie", "multi-region.yaml"},
	}
}

func dir() string { return filepath.Join("..", "testdata", "memo") }

// generate simulates an example with few trials so the case file stays small.
func generate(t *testing.T, name, example string) goldenInput {
	t.Helper()
	cat := pricing.Default()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "examples", example))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := simulator.Load(data, cat)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	profile, err := traffic.Synthesize(ctx, spec.SyntheticParams(), spec.Simulation.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := simulator.Run(ctx, spec, profile, cat, simulator.Options{Trials: goldenTrials, Seed: spec.Simulation.Seed, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	var outages []Variant
	if name == "tie" {
		res = makeTie(res)
	} else if outages, err = Outages(ctx, spec, profile, cat, spec.Simulation.Seed, outageTrials); err != nil {
		t.Fatal(err)
	}
	arch, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return goldenInput{Architecture: arch, Result: res, Outages: outages}
}

// makeTie gives litellm portkey's simulated outcomes with costs 0.1 % higher:
// two options the simulation cannot tell apart.
func makeTie(res simulator.Result) simulator.Result {
	out := res
	out.Results = slices.Clone(res.Results)
	for i, r := range out.Results {
		if r.Gateway != "litellm" {
			continue
		}
		p, _ := find(res, "portkey", r.Scenario)
		p.Gateway, p.PricePlan = "litellm", r.PricePlan
		t := &p.CostUSD.Total
		t.Mean, t.P5, t.P50, t.P95 = t.Mean*1.001, t.P5*1.001, t.P50*1.001, t.P95*1.001
		t.CI95 = [2]float64{t.CI95[0] * 1.001, t.CI95[1] * 1.001}
		out.Results[i] = p
	}
	// The trials pair as the outcomes do: litellm's are portkey's, its
	// costs 0.1 % higher.
	if c := res.Covariance; c != nil {
		pi, li := slices.Index(c.Options, "portkey"), slices.Index(c.Options, "litellm")
		if pi >= 0 && li >= 0 {
			cc := *c
			cc.Matrix = make([][]float64, len(c.Matrix))
			for i := range c.Matrix {
				cc.Matrix[i] = slices.Clone(c.Matrix[i])
			}
			scale := [2]float64{1, 1.001} // success share, cost
			from := func(i int) int {
				if i/2 == li {
					return 2*pi + i%2
				}
				return i
			}
			for i := range cc.Matrix {
				for j := range cc.Matrix[i] {
					v := c.Matrix[from(i)][from(j)]
					if i/2 == li {
						v *= scale[i%2]
					}
					if j/2 == li {
						v *= scale[j%2]
					}
					cc.Matrix[i][j] = v
				}
			}
			out.Covariance = &cc
		}
	}
	return out
}

func loadCase(t *testing.T, name string) (goldenInput, simulator.Spec) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir(), name+".input.json"))
	if err != nil {
		t.Fatalf("%v (run go test ./memo -update)", err)
	}
	var in goldenInput
	if err := json.Unmarshal(data, &in); err != nil {
		t.Fatal(err)
	}
	var spec simulator.Spec
	if err := json.Unmarshal(in.Architecture, &spec); err != nil {
		t.Fatal(err)
	}
	return in, spec
}

func render(t *testing.T, in goldenInput, spec simulator.Spec) []byte {
	t.Helper()
	var buf bytes.Buffer
	err := Write(&buf, Input{Spec: spec, Result: in.Result, Catalog: pricing.Default(), ArchitectureJSON: in.Architecture, Now: goldenNow, Version: goldenVersion, Outages: in.Outages})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			// Not parallel under -update: the simulations use every core.
			if *update {
				in := generate(t, c.name, c.example)
				data, err := json.Marshal(in)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir(), c.name+".input.json"), append(data, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			in, spec := loadCase(t, c.name)
			got := render(t, in, spec)
			golden := filepath.Join(dir(), c.name+".golden.md")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("%s differs at line %d:\ngot:  %s\nwant: %s\n(go test ./memo -update rewrites it)", golden, i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("%s differs in length: got %d lines, want %d", golden, len(gl), len(wl))
			}
		})
	}
}

// TestRecommendations pins what each case must decide, independently of
// the memo's wording.
func TestRecommendations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func(t *testing.T, d Decision)
	}{
		{"single-provider", func(t *testing.T, d Decision) {
			if d.Chosen != "direct" || !d.NoGatewayYet {
				t.Errorf("chose %s (no gateway yet %v), want direct by the no-gateway rule", d.Chosen, d.NoGatewayYet)
			}
		}},
		{"eu-regulated", func(t *testing.T, d Decision) {
			for _, o := range d.Options {
				if o.Hosting == "saas" {
					t.Errorf("hosted %s is eligible under no_third_party_in_path", o.Gateway)
				}
			}
		}},
		{"tie", func(t *testing.T, d Decision) {
			if !slices.Contains(d.Tied, "portkey") || !slices.Contains(d.Tied, "litellm") {
				t.Errorf("tied = %v, want portkey and litellm", d.Tied)
			}
		}},
		{"multi-region", func(t *testing.T, d Decision) {
			if !slices.ContainsFunc(d.Excluded, func(e Exclusion) bool { return e.Gateway == "cloudflare" }) {
				t.Errorf("cloudflare not excluded: it cannot keep EU traffic in the EU")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, spec := loadCase(t, tt.name)
			d, err := Score(spec, in.Result, pricing.Default())
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
		})
	}
}

var (
	// unescaped finds a tag opener or a link target not preceded by a
	// backslash: Markdown that a renderer would read as syntax.
	unescaped = regexp.MustCompile(`(^|[^\\])(<[a-zA-Z]|\]\()`)
	fence     = regexp.MustCompile("(?s)```.*?```")
	frontPart = regexp.MustCompile(`(?s)\A---\n.*?\n---\n`)
)

func TestHostileNameIsInert(t *testing.T) {
	t.Parallel()
	in, spec := loadCase(t, "single-provider")
	tests := []struct{ name, attack string }{
		{"script", "<script>alert(1)</script>"},
		{"link", "[x](javascript:alert(1))"},
		{"image", "![x](javascript:alert(1)) <img src=x onerror=alert(1)>"},
		{"newline", "ok\n# injected heading\n<script>alert(1)</script>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := spec
			s.Name = tt.attack
			s.Routes = slices.Clone(spec.Routes)
			s.Routes[0].Name = tt.attack
			md := render(t, in, s)
			body := frontPart.ReplaceAll(md, nil)
			if m := unescaped.Find(body); m != nil {
				t.Errorf("Markdown has live syntax %q from the name", m)
			}
			if bytes.Contains(body, []byte("\n# injected")) {
				t.Error("the name started a heading")
			}
			page, err := Page(md)
			if err != nil {
				t.Fatal(err)
			}
			lower := bytes.ToLower(page)
			for _, bad := range []string{"<script", "<img", `href="javascript`, `src="javascript`, "<h1>injected"} {
				if bytes.Contains(lower, []byte(bad)) {
					t.Errorf("HTML contains %q", bad)
				}
			}
		})
	}
}

func TestHTMLDropsRawHTML(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, md, absent string }{
		{"inline html", "a <b onclick=x>bold</b>", "<b onclick"},
		{"html block", "<div>\n<script>alert(1)</script>\n</div>", "<script"},
		{"javascript link", "[x](javascript:alert(1))", "javascript:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := HTML([]byte(tt.md))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte(tt.absent)) {
				t.Errorf("HTML(%q) = %q, contains %q", tt.md, out, tt.absent)
			}
		})
	}
}

func TestScoringRules(t *testing.T) {
	t.Parallel()
	success := func(mean, lo, hi float64) simulator.OptionResult {
		return simulator.OptionResult{SuccessRate: simulator.Distribution{Mean: mean, CI95: [2]float64{lo, hi}, P5: mean}}
	}
	tests := []struct {
		name string
		base simulator.OptionResult
		want float64
	}{
		{"99 % scores 0", success(0.99, 0.99, 0.99), 0},
		{"99.9 % scores a third", success(0.999, 0.999, 0.999), 100.0 / 3},
		{"99.999 % scores 100", success(0.99999, 0.99999, 0.99999), 100},
		{"perfect is capped", success(1, 1, 1), 100},
		{"worse than 99 % floors at 0", success(0.5, 0.5, 0.5), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, _ := failoverScore(tt.base)
			if d := got - tt.want; d > 1e-9 || d < -1e-9 {
				t.Errorf("failover score = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTiesAndNoGatewayRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b OptionScore
		tied bool
	}{
		{"within margins", OptionScore{Overall: 70, Margin: 1}, OptionScore{Overall: 71.5, Margin: 1}, true},
		{"beyond margins", OptionScore{Overall: 70, Margin: 0.2}, OptionScore{Overall: 71.5, Margin: 0.2}, false},
		{"equal without margins", OptionScore{Overall: 70}, OptionScore{Overall: 70}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tied(tt.a, tt.b); got != tt.tied {
				t.Errorf("tied = %v, want %v", got, tt.tied)
			}
		})
	}
	one := simulator.Spec{Providers: []simulator.Provider{{ID: "openai"}}, Traffic: simulator.Traffic{RequestsPerDay: 5000}}
	two := one
	two.Providers = append(slices.Clone(one.Providers), simulator.Provider{ID: "anthropic"})
	busy := one
	busy.Traffic.RequestsPerDay = NoGatewayMaxRequestsPerDay
	regulated := one
	regulated.Compliance.HIPAA = true
	for _, tt := range []struct {
		name string
		spec simulator.Spec
		want bool
	}{{"one provider, low volume", one, true}, {"two providers", two, false}, {"at the volume threshold", busy, false}, {"compliance", regulated, false}} {
		if got := noGatewayCase(tt.spec, tt.spec.Traffic.RequestsPerDay); got != tt.want {
			t.Errorf("%s: noGatewayCase = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain name", "plain name"},
		{"a*b_c", `a\*b_c`},
		{"per_user_cost", "per_user_cost"}, // inside a word, _ is no emphasis
		{"_lead and trail_", `\_lead and trail\_`},
		{"aws-bedrock > 2 & AT&T!", "aws-bedrock > 2 & AT\\&T!"},
		{"&amp; &#38;", `\&amp; \&#38;`},
		{"[x](y)", `\[x\](y)`},
		{"<b>~x~|", `\<b>\~x\~\|`},
		{"line\nbreak", "line break"},
	}
	for _, tt := range tests {
		if got := escapeMarkdown(tt.in); got != tt.want {
			t.Errorf("escapeMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Route names are the user's text: in the memo they can neither start a
// block of their own nor become markup, in the Markdown file or in its
// HTML.
func TestHostileRouteNamesStayText(t *testing.T) {
	in, spec := loadCase(t, "multi-region")
	hostile := []string{
		"fence\n```\n<img src=x onerror=\"window.__xss=1\">",
		"x\"\n---\n<script>alert(1)</script>",
		"  ```\nbreak",
	}
	for i := range spec.Routes {
		spec.Routes[i].Name = hostile[i%len(hostile)]
	}
	md := render(t, in, spec)
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "<script") || strings.HasPrefix(line, "<img") || line == "---" && !bytes.HasPrefix(md, []byte("---\n")) {
			t.Errorf("a route name made a line of its own: %q", line)
		}
	}
	html, err := HTML(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<img", "raw HTML omitted"} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("the memo's HTML holds %q", bad)
		}
	}
	// The name shows as the text it is.
	if want := "fence ``` &lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;"; !bytes.Contains(html, []byte(want)) {
		t.Errorf("the memo's HTML lacks %q", want)
	}
}

// Two options that met the same incidents are told apart by their paired
// difference, not by the sum of their separate margins: a steady gap
// between perfectly correlated trials is no tie, the same gap between
// independent ones is.
func TestPairedTies(t *testing.T) {
	t.Parallel()
	spec := simulator.Spec{
		Providers: []simulator.Provider{{ID: "openai", Regions: []string{"us"}}, {ID: "anthropic", Regions: []string{"us"}}},
		Traffic:   simulator.Traffic{RequestsPerDay: 200_000, Origin: map[string]float64{"us": 1}},
		Team:      simulator.Team{Engineers: 5, OpsHourlyUSD: 100},
		// Failover only, so the overall score is the failover score.
		Priorities: simulator.Priorities{Failover: 1},
	}
	const trials = 1000
	sd := 0.002 // per-trial success share
	option := func(id string, mean float64) simulator.OptionResult {
		half := 1.96 * sd / math.Sqrt(trials)
		return simulator.OptionResult{Gateway: id, Scenario: "baseline",
			SuccessRate: simulator.Distribution{Mean: mean, CI95: [2]float64{mean - half, mean + half}, P5: mean},
			CostUSD:     simulator.CostBreakdown{Total: simulator.Distribution{Mean: 1000, CI95: [2]float64{1000, 1000}}}}
	}
	// 99.900 % against 99.896 %: 0.56 points of failover, inside the
	// margins of independent trials (0.90 and 0.86, 1.25 paired) but far
	// outside the 0.04 of trials that move together.
	res := simulator.Result{Results: []simulator.OptionResult{option("portkey", 0.9990), option("helicone", 0.99896)}}
	v := sd * sd
	for _, tt := range []struct {
		name string
		corr float64
		tied bool
	}{{"independent trials", 0, true}, {"the same incidents", 1, false}} {
		t.Run(tt.name, func(t *testing.T) {
			r := res
			r.Covariance = &simulator.Covariance{Scenario: "baseline", Trials: trials, Options: []string{"portkey", "helicone"},
				Matrix: [][]float64{{v, 0, tt.corr * v, 0}, {0, 0, 0, 0}, {tt.corr * v, 0, v, 0}, {0, 0, 0, 0}}}
			d, err := Score(spec, r, pricing.Default())
			if err != nil {
				t.Fatal(err)
			}
			a, b := d.Options[0], d.Options[1]
			m, _ := d.pairedMargin(a, b)
			t.Logf("overall %.2f vs %.2f, margins %.2f + %.2f, paired %.3f", a.Overall, b.Overall, a.Margin, b.Margin, m)
			if got := d.tiedWith(a, b); got != tt.tied {
				t.Errorf("tied = %v, want %v (overall %.2f vs %.2f, margins %.2f + %.2f, paired %.3f)", got, tt.tied, a.Overall, b.Overall, a.Margin, b.Margin, m)
			}
		})
	}
}

// The decision line on the cases that would make a fixed sentence false:
// a tie whose leader leads nothing visible, a tie beside an option that
// leads the heaviest corner from outside it, a lone eligible option.
func TestReasonSentences(t *testing.T) {
	t.Parallel()
	opt := func(id string, overall, failover, cost float64) OptionScore {
		return OptionScore{Gateway: id, Overall: overall, Failover: failover, Cost: cost}
	}
	failoverFirst := simulator.Priorities{Failover: 0.5, Cost: 0.3, Observability: 0.2}
	tests := []struct {
		name string
		d    Decision
		want string
	}{
		{"tie, level on the heaviest corner", Decision{Weights: failoverFirst, Chosen: "portkey", Tied: []string{"portkey", "litellm"},
			Options: []OptionScore{opt("portkey", 58.6, 24.2, 92), opt("litellm", 58.5, 24.1, 92)}},
			"portkey and litellm are tied within the simulation's intervals and level on failover, the corner that weighs most; portkey is marginally ahead overall"},
		{"tie, led from outside", Decision{Weights: failoverFirst, Chosen: "kong", Tied: []string{"kong", "litellm"},
			Options: []OptionScore{opt("kong", 52.8, 20, 83), opt("litellm", 52.8, 17, 91), opt("direct", 20.9, 22, 50)}},
			"kong and litellm are tied within the simulation's intervals; kong leads them on failover, the corner that weighs most (direct scores higher on it, 22 against 20, at 20.9 overall against 52.8)"},
		{"one eligible of several", Decision{Weights: failoverFirst, Chosen: "litellm", Compared: 3, Options: []OptionScore{opt("litellm", 50, 20, 90)}},
			"it is the only option compared that meets the hard constraints (overall 50.0)"},
		{"the only option compared", Decision{Weights: failoverFirst, Chosen: "litellm", Compared: 1, Options: []OptionScore{opt("litellm", 50, 20, 90)}},
			"it is the only option compared (overall 50.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.reason(); got != tt.want {
				t.Errorf("reason:\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The lead is the decision paragraph alone, as the run page shows it first.
func TestLeadIsTheDecision(t *testing.T) {
	t.Parallel()
	md := []byte("---\nstatus: proposed\n---\n\n# Gateway decision: x\n\n**Chosen: portkey**, because best overall.\n\n**Context.** One provider.\n")
	got, err := Lead(md)
	if err != nil {
		t.Fatal(err)
	}
	if want := "<p><strong>Chosen: portkey</strong>, because best overall.</p>\n"; string(got) != want {
		t.Errorf("Lead = %q, want %q", got, want)
	}
}

// A run on a log names it in the context, with its mix as replayed rather
// than the traffic block's, and says what of the log the run takes.
func TestContextNamesTheLog(t *testing.T) {
	t.Parallel()
	in, spec := loadCase(t, "single-provider")
	in.Result.Traffic = simulator.TrafficSource{Kind: simulator.TrafficLog, SpanHours: 1, RequestsPerDay: 464784,
		Filled: "all 1 h of it repeated 720 times to fill the 30-day horizon",
		Log:    &simulator.LogSource{File: "AzureLLMInferenceTrace_conv.csv", Format: "azure-trace", RowsRead: 19366, RowsUsed: 19366},
		Routes: []simulator.Share{{Name: "answer", Share: 1}}, Origins: []simulator.Share{{Name: "us", Share: 1}}}
	in.Result.RequestsPerDay = 464784
	md := string(render(t, in, spec))
	want := "Traffic from the log AzureLLMInferenceTrace_conv.csv (azure-trace; 19,366 rows over 1 h), all 1 h of it repeated 720 times to fill the 30-day horizon: 464,800 requests a day as replayed from us 100 %. " +
		"The run takes the log's requests, their timing, tokens, routes and regions; failures, latency and prices come from the model and the catalog. " +
		"Two routes: answer 100 % (gpt-4.1-mini → gpt-4.1-nano); summarize-ticket 0 % (gpt-4.1-nano)."
	if !strings.Contains(md, want) {
		t.Errorf("the context does not name the log:\n%s", md)
	}
}
