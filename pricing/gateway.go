package pricing

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// GatewayIDs lists the options gatewise compares, in the order it shows them.
func GatewayIDs() []string {
	return []string{"direct", "openrouter", "portkey", "helicone", "litellm", "kong", "cloudflare"}
}

// Gateway is one option for the request path and the plans it is sold under.
type Gateway struct {
	ID      string
	Name    string
	Hosting string // "none", "saas" or "self-hosted"
	Note    string
	Plans   []Plan
	// SelfHost is what running it yourself takes; nil for SaaS.
	SelfHost *SelfHost
	// SOC2 and ZeroDataRetention are the hosted service's own facts; empty
	// for options where no third party holds request data.
	SOC2, ZeroDataRetention Fact
}

// Plan is one way to buy a gateway. See data/gateways.yaml for each field's
// meaning; the zero value of a limit means "no limit".
type Plan struct {
	ID                   string
	Name                 string
	BaseUSDMonth         float64
	Estimate             bool
	PerModelUSDMonth     float64
	IncludedRequests     int64
	OverageUSDPerMillion float64
	RequestCap           int64
	CreditFeePct         float64
	BYOKFeePct           float64
	BYOKFreeRequests     int64
	Seats                int
	SSOSeatLimit         int
	LogRetentionDays     int
	LogStoreCap          int64
	SSO                  bool
	HIPAA                bool
	AuditLog             bool
	// NoFailover marks a plan that cannot move a request to another
	// target (Kong's free ai-proxy has one target per plugin).
	NoFailover bool
	Residency  []string
	SelfHosted bool
	Provenance
}

// SelfHost sizes and prices running a gateway yourself.
type SelfHost struct {
	RPSPerInstance       Quantity
	MinInstances         Quantity
	InstanceUSDMonth     Quantity
	PostgresUSDMonth     Quantity
	RedisUSDMonth        Quantity
	LogBytesPerRequest   Quantity
	StorageUSDPerGBMonth Quantity
	DefaultRetentionDays Quantity
	PeakToAverage        Quantity
	OpsHoursMonth        Quantity
}

// Quantity is a number with its provenance.
type Quantity struct {
	Value float64
	Provenance
}

// Gateways lists every gateway in the order of GatewayIDs.
func (c *Catalog) Gateways() []Gateway {
	out := make([]Gateway, len(c.gateways))
	for i, g := range c.gateways {
		out[i] = cloneGateway(g)
	}
	return out
}

// Gateway looks a gateway up by id.
func (c *Catalog) Gateway(id string) (Gateway, bool) {
	for _, g := range c.gateways {
		if g.ID == id {
			return cloneGateway(g), true
		}
	}
	return Gateway{}, false
}

func cloneGateway(g Gateway) Gateway {
	g.Plans = slices.Clone(g.Plans)
	for i := range g.Plans {
		g.Plans[i].Residency = slices.Clone(g.Plans[i].Residency)
	}
	if g.SelfHost != nil {
		s := *g.SelfHost
		g.SelfHost = &s
	}
	return g
}

// GatewayNeed is what a team asks of a gateway for a month.
type GatewayNeed struct {
	RequestsPerMonth float64
	// SpendUSDPerMonth is the provider token spend routed through the gateway.
	SpendUSDPerMonth float64
	// PeakRPS sizes self-hosted instances; 0 means the average rate times the
	// gateway's peak_to_average.
	PeakRPS float64
	// LogAll asks that every request be logged (plans that stop logging at a
	// cap do not fit).
	LogAll bool
	// LogRetentionDays is how long logs must be kept; 0 means no requirement
	// (self-hosting then sizes storage for its default retention).
	LogRetentionDays int
	SSO              bool
	HIPAA            bool
	AuditLog         bool
	// Residency lists jurisdictions ("eu") traffic must be processed in.
	Residency []string
	// Seats is how many people use the console; Models how many models are
	// routed (some plans charge per model; 0 counts as 1).
	Seats  int
	Models int
	// BYOK means the team pays providers with its own keys rather than
	// buying credits from the gateway.
	BYOK bool
	// OpsHourlyUSD prices the team's operations hours.
	OpsHourlyUSD float64
	// Failover asks for a plan that can move a request to another target,
	// as every plan gatewise ships does.
	Failover bool
	// OnlyPlans, when set, limits the choice to these plan ids, so a caller
	// that ranks plans on more than price (the needs they meet) can price
	// each one.
	OnlyPlans []string
}

// GatewayQuote is a gateway's cheapest fitting plan and what it costs a month.
type GatewayQuote struct {
	Gateway  string
	Plan     string
	PlanName string
	// Estimate is true when the plan has no public price and Base is our
	// placeholder.
	Estimate bool
	// Monthly USD: percentage fees on spend, plan base, usage beyond the
	// plan's allowance, self-hosted infrastructure and operations.
	Fees, Base, Overage, Infrastructure, Operations, Total float64
	// Instances and LogStorageGB detail a self-hosted quote.
	Instances    int
	LogStorageGB float64
	// Detail says how each part was computed, for the memo's assumptions.
	Detail []string
	// RuledOut lists every other plan and why it was not chosen.
	RuledOut []RuledOut
	Provenance
}

// RuledOut is a plan that was not chosen and the reason.
type RuledOut struct {
	Plan   string
	Reason string
}

// NoPlanError says no plan of a gateway meets the need.
type NoPlanError struct {
	Gateway  string
	RuledOut []RuledOut
}

func (e *NoPlanError) Error() string {
	reasons := make([]string, len(e.RuledOut))
	for i, r := range e.RuledOut {
		reasons[i] = r.Plan + ": " + r.Reason
	}
	return fmt.Sprintf("no %s plan meets the need (%s)", e.Gateway, strings.Join(reasons, "; "))
}

const secondsPerMonth = 30 * 24 * 3600

// GatewayCost picks the cheapest plan of a gateway that meets the need and
// prices a month of it. It is pure: the same catalog and need give the same
// quote. When no plan fits it returns the quote's RuledOut inside a
// *NoPlanError.
func (c *Catalog) GatewayCost(gatewayID string, need GatewayNeed) (GatewayQuote, error) {
	g, ok := c.Gateway(gatewayID)
	if !ok {
		ids := make([]string, len(c.gateways))
		for i, g := range c.gateways {
			ids[i] = g.ID
		}
		return GatewayQuote{}, &UnknownError{Kind: "gateway", ID: gatewayID, Closest: Closest(ids, gatewayID, 3)}
	}
	if need.RequestsPerMonth < 0 || need.SpendUSDPerMonth < 0 || math.IsNaN(need.RequestsPerMonth+need.SpendUSDPerMonth) {
		return GatewayQuote{}, fmt.Errorf("requests and spend must be non-negative numbers")
	}
	type candidate struct {
		q   GatewayQuote
		why string
	}
	var fits, misfits []candidate
	for _, p := range g.Plans {
		if len(need.OnlyPlans) > 0 && !slices.Contains(need.OnlyPlans, p.ID) {
			continue
		}
		q := quotePlan(g, p, need)
		if why := planMisfit(p, need); why != "" {
			misfits = append(misfits, candidate{q, why})
			continue
		}
		fits = append(fits, candidate{q, ""})
	}
	if len(fits) == 0 {
		var out []RuledOut
		for _, m := range misfits {
			out = append(out, RuledOut{Plan: m.q.Plan, Reason: m.why})
		}
		return GatewayQuote{Gateway: g.ID, RuledOut: out}, &NoPlanError{Gateway: g.ID, RuledOut: out}
	}
	// Cheapest total; a published price beats an estimate of the same total.
	slices.SortStableFunc(fits, func(a, b candidate) int {
		if a.q.Total != b.q.Total {
			if a.q.Total < b.q.Total {
				return -1
			}
			return 1
		}
		if a.q.Estimate != b.q.Estimate {
			if !a.q.Estimate {
				return -1
			}
			return 1
		}
		return 0
	})
	best := fits[0].q
	for _, p := range g.Plans {
		if len(need.OnlyPlans) > 0 && !slices.Contains(need.OnlyPlans, p.ID) {
			continue
		}
		if p.ID == best.Plan {
			continue
		}
		for _, m := range misfits {
			if m.q.Plan == p.ID {
				best.RuledOut = append(best.RuledOut, RuledOut{Plan: p.ID, Reason: m.why})
			}
		}
		for _, f := range fits[1:] {
			if f.q.Plan == p.ID {
				best.RuledOut = append(best.RuledOut, RuledOut{Plan: p.ID, Reason: fmt.Sprintf("fits but costs $%.2f a month, more than %s at $%.2f", f.q.Total, best.Plan, best.Total)})
			}
		}
	}
	return best, nil
}

// planMisfit says why a plan cannot serve the need, or "" when it can.
func planMisfit(p Plan, n GatewayNeed) string {
	var why []string
	for _, j := range n.Residency {
		if !slices.Contains(p.Residency, "any") && !slices.Contains(p.Residency, j) {
			why = append(why, fmt.Sprintf("cannot keep traffic in %s", j))
		}
	}
	if n.SSO && !p.SSO {
		why = append(why, "no SSO")
	}
	if n.SSO && p.SSO && p.SSOSeatLimit > 0 && n.Seats > p.SSOSeatLimit {
		why = append(why, fmt.Sprintf("SSO only for up to %d users, the team has %d", p.SSOSeatLimit, n.Seats))
	}
	if n.Failover && p.NoFailover {
		why = append(why, "cannot fail over to another target")
	}
	if n.HIPAA && !p.HIPAA {
		why = append(why, "no HIPAA BAA")
	}
	if n.AuditLog && !p.AuditLog {
		why = append(why, "no audit log")
	}
	if p.Seats > 0 && n.Seats > p.Seats {
		why = append(why, fmt.Sprintf("%d seats, the team needs %d", p.Seats, n.Seats))
	}
	if n.LogAll {
		switch {
		case p.LogRetentionDays == 0:
			why = append(why, "keeps no request logs")
		case p.RequestCap > 0 && n.RequestsPerMonth > float64(p.RequestCap):
			why = append(why, fmt.Sprintf("logs at most %s requests a month, the team sends %s", count(float64(p.RequestCap)), count(n.RequestsPerMonth)))
		}
	}
	if n.LogRetentionDays > 0 {
		if ret := retentionDays(p, n); ret < float64(n.LogRetentionDays) {
			why = append(why, fmt.Sprintf("keeps logs %s days, %d needed", trimFloat(ret), n.LogRetentionDays))
		}
	}
	return strings.Join(why, "; ")
}

// retentionDays is how long a plan keeps logs at the need's volume: a cap on
// stored logs shortens a time-based retention once volume is high.
func retentionDays(p Plan, n GatewayNeed) float64 {
	ret := float64(p.LogRetentionDays)
	if p.LogStoreCap > 0 && n.RequestsPerMonth > 0 {
		ret = min(ret, float64(p.LogStoreCap)/(n.RequestsPerMonth/30))
	}
	return ret
}

// quotePlan prices a month of one plan, whether or not it fits.
func quotePlan(g Gateway, p Plan, n GatewayNeed) GatewayQuote {
	q := GatewayQuote{Gateway: g.ID, Plan: p.ID, PlanName: p.Name, Estimate: p.Estimate, Provenance: p.Provenance}
	models := float64(max(n.Models, 1))
	q.Base = p.BaseUSDMonth + p.PerModelUSDMonth*models
	if p.BaseUSDMonth > 0 {
		est := ""
		if p.Estimate {
			est = " (estimate: no public price)"
		}
		q.Detail = append(q.Detail, fmt.Sprintf("base $%.2f a month%s", p.BaseUSDMonth, est))
	}
	if p.PerModelUSDMonth > 0 {
		q.Detail = append(q.Detail, fmt.Sprintf("$%.2f a month per model × %g models", p.PerModelUSDMonth, models))
	}
	billable := n.RequestsPerMonth
	if p.RequestCap > 0 {
		billable = min(billable, float64(p.RequestCap))
	}
	if extra := billable - float64(p.IncludedRequests); extra > 0 && p.OverageUSDPerMillion > 0 {
		q.Overage = extra / 1e6 * p.OverageUSDPerMillion
		q.Detail = append(q.Detail, fmt.Sprintf("%s requests beyond the %s included × $%g per million", count(extra), count(float64(p.IncludedRequests)), p.OverageUSDPerMillion))
	}
	if n.BYOK {
		if p.BYOKFeePct > 0 && n.RequestsPerMonth > float64(p.BYOKFreeRequests) {
			share := (n.RequestsPerMonth - float64(p.BYOKFreeRequests)) / n.RequestsPerMonth
			q.Fees = n.SpendUSDPerMonth * share * p.BYOKFeePct / 100
			q.Detail = append(q.Detail, fmt.Sprintf("BYOK fee %g%% of the spend on requests beyond the first %s", p.BYOKFeePct, count(float64(p.BYOKFreeRequests))))
		}
	} else if p.CreditFeePct > 0 {
		q.Fees = n.SpendUSDPerMonth * p.CreditFeePct / 100
		q.Detail = append(q.Detail, fmt.Sprintf("credit fee %g%% of $%.2f provider spend", p.CreditFeePct, n.SpendUSDPerMonth))
	}
	if p.SelfHosted && g.SelfHost != nil {
		selfHostCost(g.SelfHost, n, &q)
	}
	q.Total = q.Fees + q.Base + q.Overage + q.Infrastructure + q.Operations
	return q
}

// selfHostCost adds infrastructure (proxy instances sized for the peak,
// Postgres, Redis, log storage) and operations to a quote.
func selfHostCost(s *SelfHost, n GatewayNeed, q *GatewayQuote) {
	peak := n.PeakRPS
	if peak <= 0 {
		peak = n.RequestsPerMonth / secondsPerMonth * s.PeakToAverage.Value
	}
	q.Instances = int(max(s.MinInstances.Value, math.Ceil(peak/s.RPSPerInstance.Value)))
	retention := float64(n.LogRetentionDays)
	if retention <= 0 {
		retention = s.DefaultRetentionDays.Value
	}
	// Steady state: a month of rows times how many months are kept.
	q.LogStorageGB = n.RequestsPerMonth * s.LogBytesPerRequest.Value * retention / 30 / 1e9
	instances := float64(q.Instances) * s.InstanceUSDMonth.Value
	storage := q.LogStorageGB * s.StorageUSDPerGBMonth.Value
	q.Infrastructure = instances + s.PostgresUSDMonth.Value + s.RedisUSDMonth.Value + storage
	q.Operations = s.OpsHoursMonth.Value * n.OpsHourlyUSD
	q.Detail = append(q.Detail,
		fmt.Sprintf("%d instances × $%.2f for a peak of %s req/s at %g req/s each", q.Instances, s.InstanceUSDMonth.Value, trimFloat(peak), s.RPSPerInstance.Value),
		fmt.Sprintf("Postgres $%.2f, Redis $%.2f", s.PostgresUSDMonth.Value, s.RedisUSDMonth.Value),
		fmt.Sprintf("log storage %.1f GB (%g bytes × %s requests × %g days kept) × $%g per GB-month", q.LogStorageGB, s.LogBytesPerRequest.Value, count(n.RequestsPerMonth), retention, s.StorageUSDPerGBMonth.Value),
		fmt.Sprintf("operations %g h × $%g/h", s.OpsHoursMonth.Value, n.OpsHourlyUSD))
}

// count writes a request count compactly: 1.5M, 120k, 900.
func count(v float64) string {
	switch {
	case v >= 1e6:
		return trimFloat(v/1e6) + "M"
	case v >= 1e3:
		return trimFloat(v/1e3) + "k"
	}
	return trimFloat(v)
}

func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
