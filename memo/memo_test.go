package memo

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

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
		p.Gateway, p.Plan = "litellm", r.Plan
		t := &p.CostUSD.Total
		t.Mean, t.P5, t.P50, t.P95 = t.Mean*1.001, t.P5*1.001, t.P50*1.001, t.P95*1.001
		t.CI95 = [2]float64{t.CI95[0] * 1.001, t.CI95[1] * 1.001}
		out.Results[i] = p
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

// proseWords counts the words outside the front matter, the table and the
// code blocks with their captions ("route chat (eu):"): the memo's budget.
// A caption belongs to its block, and the blocks grow with routes and
// residency, not with what the memo argues.
func proseWords(md string) int {
	lines := strings.Split(frontPart.ReplaceAllString(md, ""), "\n")
	n, inFence := 0, false
	for i, line := range lines {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if inFence || strings.HasPrefix(line, "|") || captions(lines, i) {
			continue
		}
		n += len(strings.Fields(line))
	}
	return n
}

// captions reports whether lines[i] captions the code block after it.
func captions(lines []string, i int) bool {
	if !strings.HasSuffix(lines[i], ":") {
		return false
	}
	for _, next := range lines[i+1:] {
		if strings.TrimSpace(next) != "" {
			return strings.HasPrefix(next, "```")
		}
	}
	return false
}

func TestWordBudget(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in, spec := loadCase(t, c.name)
			if n := proseWords(string(render(t, in, spec))); n > 700 {
				t.Errorf("%d words outside the table and config, want at most 700", n)
			}
		})
	}
}

// TestConfigsParse checks every gateway's snippet for every case: each
// block parses as its format and names only the architecture's models and
// providers.
func TestConfigsParse(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	for _, c := range goldenCases() {
		_, spec := loadCase(t, c.name)
		models, providers := allowedNames(spec, cat)
		for _, g := range simulator.GatewayIDs() {
			t.Run(c.name+"/"+g, func(t *testing.T) {
				t.Parallel()
				s, err := Config(spec, cat, g)
				if err != nil {
					t.Fatal(err)
				}
				if len(s.Blocks) == 0 {
					t.Fatal("no config block")
				}
				groups := routeGroups(spec, cat, g) // names split by residency end in their origins
				for _, b := range s.Blocks {
					var v any
					switch s.Lang {
					case "json":
						err = json.Unmarshal([]byte(b.Code), &v)
					case "yaml":
						err = yaml.Unmarshal([]byte(b.Code), &v)
					default:
						t.Fatalf("unknown format %q", s.Lang)
					}
					if err != nil {
						t.Fatalf("%s does not parse as %s: %v\n%s", b.Label, s.Lang, err, b.Code)
					}
					walk(v, "", func(key, val string) {
						switch key {
						case "model", "models", "name", "fallbacks":
							if key == "name" && val == "ai-proxy-advanced" {
								return
							}
							for _, m := range strings.Split(val, ",") {
								if !models[m] && !models[strings.TrimSuffix(m, suffixOf(groups, m))] {
									t.Errorf("%s: %s %q is not a model of the architecture", b.Label, key, m)
								}
							}
						case "provider", "order", "only":
							if !providers[val] {
								t.Errorf("%s: %s %q is not a provider of the architecture", b.Label, key, val)
							}
						}
					})
				}
			})
		}
	}
}

// What ships keeps data residency: in the multi-region example EU traffic
// must stay in the EU, so every route gets a config for eu whose every
// deployment is in the EU, and one for the other origins. One config per
// route used to list Anthropic's US API first for EU traffic too.
func TestConfigKeepsResidency(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	_, spec := loadCase(t, "multi-region")
	for _, gw := range []string{"portkey", "litellm", "kong", "helicone", "cloudflare", "openrouter"} {
		groups := routeGroups(spec, cat, gw)
		for r := range spec.Routes {
			var eu *routeGroup
			for i, g := range groups {
				if g.Route == r && slices.Equal(g.Origins, []string{"eu"}) {
					eu = &groups[i]
				}
			}
			if eu == nil {
				t.Errorf("%s: route %s has no config of its own for eu traffic", gw, spec.Routes[r].Name)
				continue
			}
			for _, d := range eu.Deps {
				if j, _ := cat.Jurisdiction(d.Provider, d.Region); j != "eu" {
					t.Errorf("%s: route %s's eu config sends traffic to %s %s (%s)", gw, spec.Routes[r].Name, d.Provider, d.Region, j)
				}
			}
		}
	}
	s, err := Config(spec, cat, "portkey")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range s.Blocks {
		if b.Label == "route chat (eu)" && (strings.Contains(b.Code, `"anthropic"`) || strings.Contains(b.Code, "openai-us")) {
			t.Errorf("the eu config of route chat names a US host:\n%s", b.Code)
		}
	}
	if !slices.ContainsFunc(s.Env, func(e string) bool { return strings.HasPrefix(e, "residency splits routes by origin") }) {
		t.Errorf("the environment does not say how the configs split: %q", s.Env)
	}
}

// suffixOf is the origin suffix a name split by residency ends in, or "".
func suffixOf(groups []routeGroup, name string) string {
	for _, g := range groups {
		if sfx := g.Suffix(); sfx != "" && strings.HasSuffix(name, sfx) {
			return sfx
		}
	}
	return ""
}

// allowedNames lists every spelling a snippet may use for the
// architecture's models and providers.
func allowedNames(spec simulator.Spec, cat *pricing.Catalog) (models, providers map[string]bool) {
	models, providers = map[string]bool{}, map[string]bool{}
	for _, p := range spec.Providers {
		for _, slug := range []string{p.ID, openRouterProvider(p.ID), heliconeProvider(p.ID), litellmPrefix(p.ID), kongProvider(p.ID), cloudflareProvider(p.ID)} {
			providers[slug] = true
		}
	}
	for _, m := range architectureModels(spec) {
		models[m] = true
		models[openRouterAuthor(m)+"/"+m] = true
		for _, p := range spec.Providers {
			for _, r := range append(slices.Clone(p.Regions), "global") {
				id := providerModel(cat, m, p.ID)
				if p.ID == "aws-bedrock" {
					id = bedrockProfile(cat, m, r) + id // a Bedrock inference profile
				}
				models[id] = true
				models[litellmPrefix(p.ID)+"/"+id] = true
				models[id+"/"+heliconeProvider(p.ID)] = true
			}
		}
	}
	return models, providers
}

// walk calls fn for every string in a decoded document with the key it
// sits under (map keys too, for LiteLLM's fallbacks).
func walk(v any, key string, fn func(key, val string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if key == "fallbacks" {
				fn("fallbacks", k)
			}
			walk(e, k, fn)
		}
	case []any:
		for _, e := range x {
			walk(e, key, fn)
		}
	case string:
		fn(key, x)
	}
}

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
			page, err := Page(tt.attack, md)
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
		return simulator.OptionResult{SuccessRate: simulator.Distribution{Mean: mean, CI95: [2]float64{lo, hi}}}
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
			got, _, _ := failoverScore(tt.base, tt.base)
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
		if got := noGatewayCase(tt.spec); got != tt.want {
			t.Errorf("%s: noGatewayCase = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain name", "plain name"},
		{"a*b_c", `a\*b\_c`},
		{"[x](y)", `\[x\]\(y\)`},
		{"line\nbreak", "line break"},
	}
	for _, tt := range tests {
		if got := escapeMarkdown(tt.in); got != tt.want {
			t.Errorf("escapeMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Route names are the user's text: in the Rollout section they can neither
// start a block of their own nor close the config's code fence, in the
// Markdown file or in its HTML.
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
	if want := "route fence ``` &lt;img src=x onerror=&quot;window.__xss=1&quot;&gt; (ap, us):"; !bytes.Contains(html, []byte(want)) {
		t.Errorf("the memo's HTML lacks %q", want)
	}
}

func TestBlockFence(t *testing.T) {
	for code, want := range map[string]string{
		"{}":                     "```",
		"a: |-\n  ```\n  b":      "````",
		"x: '`````'":             "``````",
		"`one` and ``two`` here": "```",
	} {
		if got := (Block{Code: code}).Fence(); got != want {
			t.Errorf("Fence of %q = %q, want %q", code, got, want)
		}
	}
}

// Newer Claude models run on Bedrock through inference profiles only (the
// catalog prices them through the geographic profile, providers.yaml), so
// a config calls them by profile id; other models by their id in the
// region.
func TestBedrockProfile(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	for _, c := range []struct{ model, region, want string }{
		{"claude-sonnet-4.5", "us-east-1", "us."},
		{"claude-sonnet-4.5", "eu-central-1", "eu."},
		{"claude-sonnet-4.5", "ap-northeast-1", "jp."},
		{"claude-sonnet-4.5", "ap-southeast-2", "au."},
		{"claude-sonnet-4.5", "ap-south-1", "apac."},
		{"claude-sonnet-4.5", "global", "global."},
		{"mistral-small", "us-east-1", ""},
	} {
		if got := bedrockProfile(cat, c.model, c.region); got != c.want {
			t.Errorf("bedrockProfile(%s, %s) = %q, want %q", c.model, c.region, got, c.want)
		}
	}
	spec := simulator.Spec{Providers: []simulator.Provider{{ID: "aws-bedrock", Regions: []string{"global", "eu-central-1"}}}}
	if got := bedrockRegion(spec, "global"); got != "eu-central-1" {
		t.Errorf("the global profile is called from %q, want the team's eu-central-1", got)
	}
}
