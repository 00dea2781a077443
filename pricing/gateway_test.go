package pricing

import (
	"errors"
	"strings"
	"testing"
)

func TestGatewayCost(t *testing.T) {
	t.Parallel()
	cat := Default()
	tests := []struct {
		name     string
		gateway  string
		need     GatewayNeed
		plan     string
		total    float64
		ruledOut string // a plan that must be ruled out, with a word of its reason
		reason   string
	}{
		{"direct costs nothing", "direct", GatewayNeed{RequestsPerMonth: 1e7, SpendUSDPerMonth: 50000}, "none", 0, "", ""},
		// 5.5 % of $10,000 credit purchases.
		{"openrouter credit fee", "openrouter", GatewayNeed{RequestsPerMonth: 2e6, SpendUSDPerMonth: 10000}, "pay-as-you-go", 550, "business", "more than"},
		// BYOK: 5 % of the spend on the 1M requests beyond the free 1M: 10,000 * 1/2 * 0.05.
		{"openrouter byok", "openrouter", GatewayNeed{RequestsPerMonth: 2e6, SpendUSDPerMonth: 10000, BYOK: true}, "pay-as-you-go", 250, "", ""},
		// EU residency needs Business: 8 % of $10,000.
		{"openrouter eu residency", "openrouter", GatewayNeed{RequestsPerMonth: 2e6, SpendUSDPerMonth: 10000, Residency: []string{"eu"}}, "business", 800, "pay-as-you-go", "cannot keep traffic in eu"},
		// Without a logging need the free tier fits (requests pass beyond its log cap).
		{"portkey free without logging need", "portkey", GatewayNeed{RequestsPerMonth: 5e5}, "developer", 0, "", ""},
		// Every request logged: $49 + (500,000 - 100,000) / 1M * $90 = 49 + 36.
		{"portkey production", "portkey", GatewayNeed{RequestsPerMonth: 5e5, LogAll: true}, "production", 85, "developer", "logs at most 10k"},
		// 5M requests exceed Production's 3M cap: Enterprise, our $2,000 placeholder.
		{"portkey beyond production cap", "portkey", GatewayNeed{RequestsPerMonth: 5e6, LogAll: true}, "enterprise", 2000, "production", "logs at most 3M"},
		// HIPAA needs Team: $799 + (1,000,000 - 10,000) / 1M * $100 = 799 + 99.
		{"helicone hipaa", "helicone", GatewayNeed{RequestsPerMonth: 1e6, HIPAA: true}, "team", 898, "pro", "no HIPAA"},
		{"helicone seats", "helicone", GatewayNeed{RequestsPerMonth: 5000, Seats: 3}, "pro", 79, "hobby", "1 seats"},
		// 10M requests: average 10e6 / 2,592,000 s = 3.86 req/s, peak ×3 = 11.6, so
		// the 2-instance minimum: 2 * 124.1 = 248.2; Postgres 47.45; Redis 23.36;
		// logs 10e6 * 6,300 B * 30/30 = 63 GB * 0.115 = 7.245; infra 326.255;
		// operations 10 h * $120 = 1,200; total 1,526.255.
		{"litellm tco", "litellm", GatewayNeed{RequestsPerMonth: 1e7, OpsHourlyUSD: 120}, "open-source", 1526.255, "enterprise", "more than"},
		// SSO for 8 people exceeds the free SSO's 5 users: Enterprise $250 + the same.
		{"litellm sso for 8", "litellm", GatewayNeed{RequestsPerMonth: 1e7, OpsHourlyUSD: 120, SSO: true, Seats: 8}, "enterprise", 1776.255, "open-source", "up to 5 users"},
		// Audit log: Konnect Plus $25 + 3 models * $100 + (2M - 1M) / 1M * $200 = 525;
		// Kong infra 2 * 124.1 + 0 + 23.36 + 2e6 * 2,000 B / 1e9 = 4 GB * 0.115 = 0.46
		// → 272.02; ops 6 h * $100 = 600; total 1,397.02.
		{"kong audit log", "kong", GatewayNeed{RequestsPerMonth: 2e6, Models: 3, AuditLog: true, OpsHourlyUSD: 100}, "konnect-plus", 1397.02, "open-source", "no audit log"},
		// 3M logs a month against a 100k store: 100,000 / 100,000 a day = 1 day kept.
		// Workers Paid: $5 + 5 % Unified Billing fee on $1,000 = 55.
		{"cloudflare retention", "cloudflare", GatewayNeed{RequestsPerMonth: 3e6, SpendUSDPerMonth: 1000, LogRetentionDays: 30}, "workers-paid", 55, "free", "keeps logs 1 days"},
		{"cloudflare byok", "cloudflare", GatewayNeed{RequestsPerMonth: 3e6, SpendUSDPerMonth: 1000, LogRetentionDays: 30, BYOK: true}, "workers-paid", 5, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := cat.GatewayCost(tt.gateway, tt.need)
			if err != nil {
				t.Fatal(err)
			}
			if q.Plan != tt.plan || !near(q.Total, tt.total) {
				t.Errorf("quote = %s $%.4f, want %s $%.4f\n%s", q.Plan, q.Total, tt.plan, tt.total, strings.Join(q.Detail, "\n"))
			}
			if sum := q.Fees + q.Base + q.Overage + q.Infrastructure + q.Operations; !near(sum, q.Total) {
				t.Errorf("parts sum to %v, total %v", sum, q.Total)
			}
			if tt.ruledOut == "" {
				return
			}
			for _, r := range q.RuledOut {
				if r.Plan == tt.ruledOut {
					if !strings.Contains(r.Reason, tt.reason) {
						t.Errorf("%s ruled out for %q, want %q in the reason", r.Plan, r.Reason, tt.reason)
					}
					return
				}
			}
			t.Errorf("%s not among ruled out plans %+v", tt.ruledOut, q.RuledOut)
		})
	}
}

func TestGatewayCostSizesInstancesFromPeak(t *testing.T) {
	t.Parallel()
	// 1,000 req/s at 290 per instance: ceil(3.45) = 4 instances.
	q, err := Default().GatewayCost("litellm", GatewayNeed{RequestsPerMonth: 1e8, PeakRPS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if q.Instances != 4 {
		t.Errorf("instances = %d, want 4", q.Instances)
	}
}

func TestGatewayCostErrors(t *testing.T) {
	t.Parallel()
	cat := Default()
	_, err := cat.GatewayCost("portky", GatewayNeed{})
	var ue *UnknownError
	if !errors.As(err, &ue) || ue.Closest[0] != "portkey" {
		t.Errorf("unknown gateway error = %v", err)
	}
	q, err := cat.GatewayCost("direct", GatewayNeed{LogAll: true})
	var np *NoPlanError
	if !errors.As(err, &np) || len(q.RuledOut) != 1 || !strings.Contains(q.RuledOut[0].Reason, "no request logs") {
		t.Errorf("direct with LogAll: %v, %+v", err, q.RuledOut)
	}
	if _, err := cat.GatewayCost("openrouter", GatewayNeed{RequestsPerMonth: -1}); err == nil {
		t.Error("negative requests accepted")
	}
}

// Hosted gateways carry their own compliance facts (gateways.md §9
// certifications row; OpenRouter's SOC 2 is not verified by the curated
// dataset of 2026-07-28).
func TestGatewayComplianceFacts(t *testing.T) {
	t.Parallel()
	c := Default()
	want := map[string]string{"openrouter": "unknown", "portkey": "yes", "helicone": "yes", "cloudflare": "yes"}
	for id, soc2 := range want {
		g, ok := c.Gateway(id)
		if !ok || g.SOC2.Value != soc2 || g.SOC2.Source == "" || g.ZeroDataRetention.Value == "" {
			t.Errorf("%s: SOC 2 %+v, ZDR %+v", id, g.SOC2, g.ZeroDataRetention)
		}
	}
	if g, _ := c.Gateway("cloudflare"); g.ZeroDataRetention.Value != "partial" {
		t.Errorf("cloudflare ZDR = %q, want partial (Unified Billing only)", g.ZeroDataRetention.Value)
	}
	if g, _ := c.Gateway("litellm"); g.SOC2.Value != "" {
		t.Errorf("a self-hosted gateway holds no data of its own: %+v", g.SOC2)
	}
}
