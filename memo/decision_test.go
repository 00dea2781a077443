package memo

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gatewise/pricing"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// decisionCase is an architecture and the choice the seed's rules call for
// (DESIGN.md, "The memo"): any option in want.
type decisionCase struct {
	name, file string
	want       []string
	// failover asks that the choice score above direct on failover.
	failover bool
}

// arch writes an architecture file from its parts.
func arch(name, providers, routes, traffic, compliance, priorities, team, needs string) string {
	return fmt.Sprintf(`name: %s
horizon_days: 30
providers: %s
routes: %s
traffic: %s
compliance: %s
priorities: %s
team: %s
observability_needs: %s
scenarios: [baseline, provider-outage]
simulation: {trials: 200, seed: 3}
`, name, providers, routes, traffic, compliance, priorities, team, needs)
}

const (
	openAIAnthropic = `[{id: openai, regions: [us]}, {id: anthropic, regions: [us]}]`
	chatRoute       = `[{name: chat, share: 1, models: [claude-sonnet-4.5, gpt-4.1], input_tokens: 1500, output_tokens: 300}]`
	noRules         = `{}`
)

// decisionTable is the seed's rules, one architecture each.
func decisionTable() []decisionCase {
	return []decisionCase{
		{name: "one low-volume provider, no compliance: no gateway yet",
			file: arch("one provider", `[{id: openai, regions: [us]}]`,
				`[{name: answer, share: 1, models: [gpt-4.1-mini, gpt-4.1-nano], input_tokens: 1000, output_tokens: 200}]`,
				`{requests_per_day: 3000, origin: {us: 1}}`, noRules, `{failover: 0.3, cost: 0.5, observability: 0.2}`,
				`{engineers: 3, ops_hourly_usd: 100}`, `[per_user_cost]`),
			want: []string{"direct"}},
		{name: "no third party in the path: self-hosted",
			file: arch("no third party", `[{id: azure-openai, regions: [swedencentral]}, {id: mistral, regions: [eu]}]`,
				`[{name: chat, share: 1, models: [gpt-4.1, mistral-large], input_tokens: 2000, output_tokens: 400}]`,
				`{requests_per_day: 50000, origin: {eu: 1}}`, `{no_third_party_in_path: true}`, `{failover: 0.5, cost: 0.3, observability: 0.2}`,
				`{engineers: 10, ops_hourly_usd: 100}`, `[tracing, alerts]`),
			want: []string{"litellm", "kong"}},
		{name: "observability the headline: Helicone or Portkey",
			file: arch("observability first", openAIAnthropic, chatRoute,
				`{requests_per_day: 30000, origin: {us: 1}}`, noRules, `{failover: 0.2, cost: 0.2, observability: 0.6}`,
				`{engineers: 6, ops_hourly_usd: 120}`, `[per_user_cost, tracing, replay, alerts, prompt_management]`),
			want: []string{"helicone", "portkey"}},
		{name: "governance for many engineers: Portkey or LiteLLM",
			file: arch("governance", openAIAnthropic, chatRoute,
				`{requests_per_day: 80000, origin: {us: 1}}`, `{soc2: true}`, `{failover: 0.3, cost: 0.2, observability: 0.5}`,
				`{engineers: 40, ops_hourly_usd: 120}`, `[sso, rbac, budgets, audit_log, prompt_management, guardrails]`),
			want: []string{"portkey", "litellm"}},
		{name: "failover the headline with several providers: a gateway that fails over",
			file: arch("failover first", `[{id: openai, regions: [us]}, {id: anthropic, regions: [us]}, {id: aws-bedrock, regions: [us-east-1, us-west-2]}]`,
				chatRoute, `{requests_per_day: 500000, origin: {us: 1}}`, noRules, `{failover: 0.7, cost: 0.2, observability: 0.1}`,
				`{engineers: 12, ops_hourly_usd: 120}`, `[]`),
			want: []string{"openrouter", "portkey", "helicone", "litellm", "kong", "cloudflare"}, failover: true},
		{name: "a small team wanting failover without operating anything: a hosted gateway",
			file: arch("small team", openAIAnthropic, chatRoute,
				`{requests_per_day: 20000, origin: {us: 1}}`, noRules, `{failover: 0.6, cost: 0.3, observability: 0.1}`,
				`{engineers: 2, ops_hourly_usd: 150}`, `[]`),
			want: []string{"openrouter", "portkey", "helicone", "cloudflare"}, failover: true},
		{name: "failover at low volume with two providers: a gateway that fails over",
			file: arch("two providers, low volume", openAIAnthropic, chatRoute,
				`{requests_per_day: 5000, origin: {us: 1}}`, noRules, `{failover: 0.6, cost: 0.2, observability: 0.2}`,
				`{engineers: 4, ops_hourly_usd: 120}`, `[per_user_cost]`),
			want: []string{"openrouter", "portkey", "helicone", "cloudflare", "litellm", "kong"}, failover: true},
		{name: "HIPAA: only options with a BAA",
			file: arch("clinical", `[{id: azure-openai, regions: [eastus, eastus2]}, {id: aws-bedrock, regions: [us-east-1]}]`,
				`[{name: notes, share: 1, models: [gpt-4.1, claude-sonnet-4.5], input_tokens: 3000, output_tokens: 500}]`,
				`{requests_per_day: 40000, origin: {us: 1}}`, `{hipaa: true, soc2: true}`, `{failover: 0.5, cost: 0.3, observability: 0.2}`,
				`{engineers: 8, ops_hourly_usd: 110}`, `[audit_log]`),
			want: []string{"portkey", "helicone", "litellm", "kong"}, failover: true},
		{name: "one provider at high volume with compliance: a gateway, the no-gateway rule does not apply",
			file: arch("one provider, regulated", `[{id: openai, regions: [us, eu]}]`,
				`[{name: chat, share: 1, models: [gpt-4.1, gpt-4.1-mini], input_tokens: 1200, output_tokens: 300}]`,
				`{requests_per_day: 300000, origin: {us: 0.6, eu: 0.4}}`, `{data_residency: {eu: eu}, soc2: true}`, `{failover: 0.4, cost: 0.3, observability: 0.3}`,
				`{engineers: 10, ops_hourly_usd: 120}`, `[per_user_cost, tracing, alerts]`),
			want: []string{"portkey", "helicone", "litellm", "kong"}},
		{name: "cost the headline at high volume: self-hosted",
			file: arch("high volume", openAIAnthropic,
				`[{name: classify, share: 1, models: [gpt-4.1-mini, claude-haiku-4.5], input_tokens: 400, output_tokens: 20}]`,
				`{requests_per_day: 20000000, origin: {us: 1}}`, noRules, `{failover: 0.2, cost: 0.7, observability: 0.1}`,
				`{engineers: 15, ops_hourly_usd: 100}`, `[per_user_cost, budgets]`),
			want: []string{"litellm", "kong"}},
	}
}

// decide simulates a case and scores it.
func decide(t *testing.T, c decisionCase) (simulator.Spec, simulator.Result, Decision) {
	t.Helper()
	cat := pricing.Default()
	spec, err := simulator.Load([]byte(c.file), cat)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prof, err := traffic.Synthesize(ctx, spec.SyntheticParams(), spec.Simulation.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := simulator.Run(ctx, spec, prof, cat, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Score(spec, res, cat)
	if err != nil {
		t.Fatal(err)
	}
	return spec, res, d
}

// TestDecisionTable checks that each architecture gets the choice the
// seed's rules call for, and that the memo's decision line says it.
func TestDecisionTable(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates ten architectures; run without -short")
	}
	t.Parallel()
	for _, c := range decisionTable() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			spec, res, d := decide(t, c)
			if !slices.Contains(c.want, d.Chosen) {
				var scores []string
				for _, o := range d.Options {
					scores = append(scores, fmt.Sprintf("%s %.1f (f %.0f c %.0f o %.0f)", o.Gateway, o.Overall, o.Failover, o.Cost, o.Observability))
				}
				t.Errorf("chose %s, want one of %v; %s", d.Chosen, c.want, strings.Join(scores, ", "))
			}
			if c.failover {
				chosen, _ := d.Option(d.Chosen)
				if direct, ok := d.Option("direct"); ok && !(chosen.Failover > direct.Failover) {
					t.Errorf("%s scores %.1f on failover, not above direct's %.1f", d.Chosen, chosen.Failover, direct.Failover)
				}
			}
			var md bytes.Buffer
			if err := Write(&md, Input{Spec: spec, Result: res, Catalog: pricing.Default(), Now: goldenNow, Version: goldenVersion}); err != nil {
				t.Fatal(err)
			}
			line := "**Chosen: " + d.Chosen + "**"
			if d.Tied != nil {
				line = "Leaning to **" + d.Chosen + "**"
			}
			if !strings.Contains(md.String(), line) {
				t.Errorf("the memo's decision line does not say %q:\n%s", line, md.String())
			}
		})
	}
}
