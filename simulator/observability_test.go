package simulator

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"gatewise/pricing"
)

// planIDs is a gateway's plans in price-catalog order, as the engine passes them.
func planIDs(t *testing.T, gateway string) []string {
	t.Helper()
	g, ok := pricing.Default().Gateway(gateway)
	if !ok {
		t.Fatalf("pricing has no gateway %s", gateway)
	}
	var ids []string
	for _, p := range g.Plans {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestDefaultObservabilityLoads(t *testing.T) {
	t.Parallel()
	f, err := DefaultObservability()
	if err != nil {
		t.Fatal(err)
	}
	if f.AsOf != "2026-11-25" {
		t.Errorf("as_of = %q", f.AsOf)
	}
	for _, id := range GatewayIDs() {
		fs, ok := f.ByGateway[id]
		if !ok {
			t.Errorf("%s is missing", id)
		}
		for _, s := range fs {
			if !slices.Contains(ObservabilityNeeds(), s.Need) || (s.Level != LevelYes && s.Level != LevelPartial) ||
				s.Source == "" || !slices.Contains(planIDs(t, id), s.MinPlan) {
				t.Errorf("%s: bad entry %+v", id, s)
			}
		}
	}
	// gateways.md §9 Direct SDKs: provider dashboards only, nothing central.
	if d := f.ByGateway["direct"]; len(d) != 0 {
		t.Errorf("direct meets %v, want nothing", d)
	}
}

// The data file's plan lists must be the price catalog's, in its order, or
// min_plan would compare against plans the engine never passes.
func TestObservabilityPlansMatchPricing(t *testing.T) {
	t.Parallel()
	var f observabilityFile
	if err := yaml.Unmarshal(observabilityYAML, &f); err != nil {
		t.Fatal(err)
	}
	for _, g := range f.Gateways {
		if want := planIDs(t, g.ID); !slices.Equal(g.Plans, want) {
			t.Errorf("%s plans = %v, pricing has %v", g.ID, g.Plans, want)
		}
	}
}

// The audit log is also a hard constraint in pricing (Plan.AuditLog); both
// files must agree on which plans have one.
func TestObservabilityAuditLogMatchesPricing(t *testing.T) {
	t.Parallel()
	f, err := DefaultObservability()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range pricing.Default().Gateways() {
		order := planIDs(t, g.ID)
		for _, p := range g.Plans {
			_, ok := f.Support(g.ID, p.ID, order, "audit_log")
			if ok != p.AuditLog {
				t.Errorf("%s/%s: audit_log met %v here, %v in pricing", g.ID, p.ID, ok, p.AuditLog)
			}
		}
	}
}

func TestObservabilitySpotFacts(t *testing.T) {
	t.Parallel()
	f, err := DefaultObservability()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		gateway, plan, need string
		want                string // "" when missing
	}{
		// gateways.md §9 Cost tracking, Helicone: per request/user/property.
		{"helicone", "hobby", "per_user_cost", LevelYes},
		// §3 Plans: alerts come with Pro.
		{"helicone", "hobby", "alerts", ""},
		{"helicone", "pro", "alerts", LevelYes},
		// §4 Governance, LiteLLM: max_budget/budget_duration in OSS.
		{"litellm", "open-source", "budgets", LevelYes},
		// §4 Price: audit logs are Enterprise.
		{"litellm", "open-source", "audit_log", ""},
		{"litellm", "enterprise", "audit_log", LevelYes},
		// §4 Governance: Presidio PII in OSS, moderation/injection Enterprise.
		{"litellm", "open-source", "guardrails", LevelPartial},
		{"litellm", "enterprise", "guardrails", LevelYes},
		// §5 Observability, Kong: Konnect audit logs kept 7 days.
		{"kong", "open-source", "audit_log", ""},
		{"kong", "konnect-plus", "audit_log", LevelPartial},
		{"kong", "enterprise", "audit_log", LevelYes},
		// §5 Observability: gen_ai OTel spans are Enterprise 3.11+, export only.
		{"kong", "konnect-plus", "tracing", ""},
		{"kong", "enterprise", "tracing", LevelPartial},
		// §2 Budgets, Portkey: Enterprise.
		{"portkey", "production", "budgets", ""},
		{"portkey", "enterprise", "budgets", LevelYes},
		// §2 Plans: 3 prompt templates on Developer.
		{"portkey", "developer", "prompt_management", LevelPartial},
		{"portkey", "production", "prompt_management", LevelYes},
		// §1 Observability, OpenRouter: no admin-action audit log.
		{"openrouter", "enterprise", "audit_log", ""},
		// §1 Observability: Broadcast export only.
		{"openrouter", "pay-as-you-go", "tracing", LevelPartial},
		// §6 Governance, Cloudflare: audit logs on all plans, 18 months.
		{"cloudflare", "free", "audit_log", LevelYes},
		// §6 Rate & spend limits: spend limits by metadata.
		{"cloudflare", "free", "budgets", LevelYes},
	}
	for _, c := range cases {
		s, ok := f.Support(c.gateway, c.plan, planIDs(t, c.gateway), c.need)
		got := ""
		if ok {
			got = s.Level
		}
		if got != c.want {
			t.Errorf("%s/%s %s = %q, want %q", c.gateway, c.plan, c.need, got, c.want)
		}
	}
	// §9 Direct SDKs: nothing is met on its only plan.
	for _, n := range ObservabilityNeeds() {
		if _, ok := f.Support("direct", "none", []string{"none"}, n); ok {
			t.Errorf("direct meets %s", n)
		}
	}
}

func TestNeedsMet(t *testing.T) {
	t.Parallel()
	f, err := DefaultObservability()
	if err != nil {
		t.Fatal(err)
	}
	example := []string{"per_user_cost", "tracing", "replay", "alerts", "audit_log"}
	cases := []struct {
		name, gateway, plan   string
		order, needs          []string
		met, partial, missing []string
	}{
		{"portkey free lacks enterprise features", "portkey", "developer", []string{"developer", "production", "enterprise"}, example,
			[]string{"per_user_cost", "tracing", "replay"}, nil, []string{"alerts", "audit_log"}},
		{"portkey enterprise meets all, alerts partly", "portkey", "enterprise", []string{"developer", "production", "enterprise"}, example,
			example, []string{"alerts"}, nil},
		{"kong konnect: partial below yes, tracing above", "kong", "konnect-plus", []string{"open-source", "konnect-plus", "enterprise"},
			[]string{"audit_log", "tracing", "per_user_cost"},
			[]string{"audit_log", "per_user_cost"}, []string{"audit_log", "per_user_cost"}, []string{"tracing"}},
		{"repeats counted once", "helicone", "hobby", []string{"hobby", "pro", "team", "enterprise"},
			[]string{"alerts", "per_user_cost", "alerts"}, []string{"per_user_cost"}, nil, []string{"alerts"}},
		{"litellm oss lacks audit log", "litellm", "open-source", []string{"open-source", "enterprise"},
			[]string{"budgets", "audit_log"}, []string{"budgets"}, nil, []string{"audit_log"}},
		{"direct meets none", "direct", "none", []string{"none"}, ObservabilityNeeds(), nil, nil, ObservabilityNeeds()},
		{"unknown plan meets none", "litellm", "gold", []string{"open-source", "enterprise"}, []string{"budgets"}, nil, nil, []string{"budgets"}},
		{"no needs", "helicone", "team", []string{"hobby", "pro", "team", "enterprise"}, nil, nil, nil, nil},
	}
	for _, c := range cases {
		met, partial, missing := f.NeedsMet(c.gateway, c.plan, c.order, c.needs)
		if !slices.Equal(met, c.met) || !slices.Equal(partial, c.partial) || !slices.Equal(missing, c.missing) {
			t.Errorf("%s: met %v partial %v missing %v, want %v %v %v", c.name, met, partial, missing, c.met, c.partial, c.missing)
		}
	}
}

func TestCoverage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		gateway       string
		cap, requests float64
		want          float64
	}{
		{"portkey", 0, 1e6, 1},                  // uncapped
		{"cloudflare", 100000, 12e6, 1.0 / 120}, // 100,000 / 12,000,000
		{"portkey", 3e6, 12e6, 0.25},
		{"helicone", 10000, 5000, 1}, // cap above traffic
		{"direct", 0, 1e6, 0},        // nothing logged centrally
		{"direct", 100000, 0, 0},
		{"portkey", 10000, 0, 1}, // no traffic: nothing to lose
		{"portkey", 10000, -5, 1},
	}
	for _, c := range cases {
		if got := Coverage(c.gateway, c.cap, c.requests); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Coverage(%s, %g, %g) = %v, want %v", c.gateway, c.cap, c.requests, got, c.want)
		}
	}
}

func TestMonthlyLogCap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		plan      pricing.Plan
		retention int
		want      float64
	}{
		{"uncapped", pricing.Plan{}, 30, 0},
		{"per-month cap", pricing.Plan{RequestCap: 10000}, 0, 10000},
		{"store, a month", pricing.Plan{LogStoreCap: 100000}, 0, 100000},
		{"store, 90 days", pricing.Plan{LogStoreCap: 100000}, 90, 100000.0 / 3},
		{"store, 7 days", pricing.Plan{LogStoreCap: 100000}, 7, 3e6 / 7},
		{"tighter wins", pricing.Plan{RequestCap: 3000000, LogStoreCap: 100000}, 30, 100000},
	}
	for _, c := range cases {
		if got := MonthlyLogCap(c.plan, c.retention); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// The real plans: Cloudflare's free store and Portkey's free monthly cap.
	for _, c := range []struct {
		gateway, plan string
		want          float64
	}{{"cloudflare", "free", 100000}, {"cloudflare", "workers-paid", 0}, {"portkey", "developer", 10000}, {"helicone", "hobby", 10000}} {
		g, _ := pricing.Default().Gateway(c.gateway)
		i := slices.IndexFunc(g.Plans, func(p pricing.Plan) bool { return p.ID == c.plan })
		if i < 0 {
			t.Fatalf("no plan %s/%s", c.gateway, c.plan)
		}
		if got := MonthlyLogCap(g.Plans[i], 0); got != c.want {
			t.Errorf("%s/%s: %v, want %v", c.gateway, c.plan, got, c.want)
		}
	}
}

func TestObservabilityFileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, from, to, want string }{
		{"unknown key", "    plans: [none]\n", "    plans: [none]\n    tier: gold\n", "field tier not found"},
		{"unknown need", "      - need: per_user_cost\n        level: \"no\"\n", "      - need: per_user_costs\n        level: \"no\"\n", `unknown need "per_user_costs"`},
		{"missing source", "        source: \"LiteLLM governance: max_budget/budget_duration per key/team/user (litellm.vercel.app/docs/enterprise, 2026 copy)\"\n", "", "(budgets): no source"},
		{"bad level", "        level: partial\n        min_plan: pay-as-you-go\n", "        level: maybe\n        min_plan: pay-as-you-go\n", "must be yes, partial or no"},
		{"unknown plan", "        min_plan: konnect-plus\n", "        min_plan: konnect\n", `min_plan "konnect" is not one of`},
		{"not met with a plan", "      - need: per_user_cost\n        level: \"no\"\n", "      - need: per_user_cost\n        level: \"no\"\n        min_plan: none\n", "has no min_plan"},
		{"need left out", "      - need: prompt_management\n        level: \"no\"\n        source: \"Cloudflare AI Gateway: no prompt templates among its observability, governance or dynamic-routing features (github.com/cloudflare/cloudflare-docs ai-gateway pages, 2026 copies; github.com/cuihuan/awesome-ai-gateway data/identity_matrix.json, 2026-07-27)\"\n", "", "need prompt_management is not accounted for"},
		{"contradiction", "        level: \"yes\"\n        min_plan: enterprise\n        source: \"LiteLLM governance: built-in", "        level: partial\n        min_plan: enterprise\n        source: \"LiteLLM governance: built-in", "more than one entry"},
		{"duplicate", "  - id: kong\n", "  - id: litellm\n", "listed twice"},
		{"unknown gateway", "  - id: cloudflare\n", "  - id: cloudflair\n", `unknown gateway "cloudflair"`},
	}
	for _, c := range cases {
		if !bytes.Contains(observabilityYAML, []byte(c.from)) {
			t.Fatalf("%s: the data file no longer contains %q", c.name, c.from)
		}
		data := bytes.Replace(observabilityYAML, []byte(c.from), []byte(c.to), 1)
		_, err := parseObservability(data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
