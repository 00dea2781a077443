package simulator

import (
	"math"
	"time"

	"gatewise/simulator/traffic"
)

// Result is a simulation's answer: every option under every scenario, with
// what is needed to reproduce it bit for bit.
type Result struct {
	Seed        uint64         `json:"seed"`
	Trials      int            `json:"trials"`
	CatalogAsOf string         `json:"catalog_as_of"`
	Results     []OptionResult `json:"results"`
	// Assumptions lists the judgements behind the numbers, for the memo.
	Assumptions []string `json:"assumptions"`
	// Scenarios are the named scenarios simulated, by the label results
	// carry, with every parameter as simulated (defaults filled in: which
	// provider "provider-outage" took down, and for how long).
	Scenarios []ScenarioRun `json:"scenarios,omitempty"`
	// Providers is each provider's status-page uptime in the sampled
	// months, as its status page would show it, whatever any client does.
	Providers []ProviderStatus `json:"providers,omitempty"`
	// RequestsPerDay is the traffic as simulated: the synthetic volume, or
	// the log's as replayed over the horizon.
	RequestsPerDay float64 `json:"requests_per_day"`
	// Traffic says where the traffic came from and how it filled the
	// horizon, so every page that shows a result can name its input.
	Traffic TrafficSource `json:"traffic,omitzero"`
	// Plans are the options as simulated: what each would deploy, route
	// by route, which the rollout renders.
	Plans []Plan `json:"plans,omitempty"`
	// Covariance pairs the options' trials under the baseline.
	Covariance *Covariance `json:"covariance,omitempty"`
}

// TrafficSource is the traffic a run replayed: the architecture's
// synthetic shape or a request log, and what of the log the run uses.
type TrafficSource struct {
	// Kind is TrafficSynthetic or TrafficLog.
	Kind string `json:"kind"`
	// Log describes the request log; nil for synthetic traffic.
	Log *LogSource `json:"log,omitempty"`
	// SpanHours is the traffic's own span, before it fills the horizon.
	SpanHours float64 `json:"span_hours"`
	// Filled says how the traffic was repeated to fill the horizon; empty
	// when it spans the horizon.
	Filled string `json:"filled,omitempty"`
	// RequestsPerDay is the daily volume as replayed (Result.RequestsPerDay).
	RequestsPerDay float64 `json:"requests_per_day"`
	// Routes and Origins are the shares of requests by the architecture's
	// route and by region, as replayed.
	Routes  []Share `json:"routes"`
	Origins []Share `json:"origins"`
	// Uses and Ignores name the log's figures the run takes from it and
	// those it models instead; empty for synthetic traffic.
	Uses    []string `json:"uses,omitempty"`
	Ignores []string `json:"ignores,omitempty"`
}

// Share is a name's share of requests.
type Share struct {
	Name  string  `json:"name"`
	Share float64 `json:"share"`
}

// The kinds of traffic a run replays.
const (
	TrafficSynthetic = "synthetic"
	TrafficLog       = "log"
)

// LogSource is the request log a run replayed, as its reader summed it up.
type LogSource struct {
	File        string    `json:"file"`
	Format      string    `json:"format"`
	RowsRead    int64     `json:"rows_read"`
	RowsUsed    int64     `json:"rows_used"`
	RowsSkipped int64     `json:"rows_skipped"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	// RequestsPerDay is the log's own daily volume over its span.
	RequestsPerDay float64 `json:"requests_per_day"`
	// Files are the logs combined into this one, each as read, when it
	// combines several (an upload's SpendLogs and ErrorLogs, day files).
	Files []LogSource `json:"files,omitempty"`
}

// NewLogSource describes a log read as sum says.
func NewLogSource(file string, sum traffic.Summary) *LogSource {
	src := &LogSource{File: file, Format: sum.Format, RowsRead: sum.RowsRead, RowsUsed: sum.RowsUsed, Start: sum.Start, End: sum.End}
	for _, n := range sum.RowsSkipped {
		src.RowsSkipped += n
	}
	return src
}

// Covariance is the trial-by-trial covariance of each eligible option's
// success share and monthly cost (USD) under one scenario: Matrix rows
// and columns are, for each of Options in turn, its success share, then
// its cost. A mean's variance is the entry over Trials.
type Covariance struct {
	Scenario string      `json:"scenario"`
	Trials   int         `json:"trials"`
	Options  []string    `json:"options"`
	Matrix   [][]float64 `json:"matrix"`
}

// PlanOf finds an option's plan as simulated.
func (r Result) PlanOf(gateway string) (Plan, bool) {
	for _, p := range r.Plans {
		if p.Gateway == gateway {
			return p, true
		}
	}
	return Plan{}, false
}

// ProviderStatus is what a provider's status page would show over the
// sampled months: Statuspage's weighting, major outage minutes in full,
// partial outage minutes at 0.3, degraded minutes not at all (outages.md
// §5), from the provider's own incidents and their classes. Incidents of
// one region count for the share of the provider's regions they cover.
type ProviderStatus struct {
	Provider         string       `json:"provider"`
	StatusPageUptime Distribution `json:"status_page_uptime"`
	// IncidentsPerMonth is the incidents the status page would post.
	IncidentsPerMonth Distribution `json:"incidents_per_month"`
}

// ScenarioRun is one simulated scenario and its parameters.
type ScenarioRun struct {
	Label    string   `json:"label"`
	Scenario Scenario `json:"scenario"`
}

// OptionResult is one gateway under one scenario. Distributions are over
// trials; request counts are per month.
type OptionResult struct {
	Gateway        string       `json:"gateway"`
	Scenario       string       `json:"scenario"`
	SuccessRate    Distribution `json:"success_rate"`
	FailedRequests Distribution `json:"failed_requests"`
	// Availability is the share of the month the option's users see it
	// up: minutes in which at most 5 % of its requests fail (Google's ML
	// SLAs' definition of downtime), its retries and failover included.
	// Status-page uptime is a provider's, in Result.Providers.
	Availability   Distribution  `json:"availability"`
	LatencyAddedMS Percentiles   `json:"latency_added_ms"`
	CostUSD        CostBreakdown `json:"cost_usd"`
	Observability  Observability `json:"observability"`
	// Excluded says why the option cannot be used at all (a hard
	// constraint), or is nil.
	Excluded *string `json:"excluded"`
	// PricePlan is the gateway's price plan the option is priced and
	// scored on.
	PricePlan string `json:"price_plan,omitempty"`
	// FallbackShare is the mean share of requests served by a target other
	// than the first: what a team can watch in production.
	FallbackShare float64 `json:"fallback_share"`
	// FailedBy splits FailedRequests' mean by when requests fail, so a
	// reader can see why an option fails more than another.
	FailedBy FailedBy `json:"failed_by,omitzero"`
	// VersusBest is this option minus the most reliable one, trial by trial.
	VersusBest *Paired `json:"versus_best,omitempty"`
}

// FailedBy is an option's mean failed requests a month by when they fail.
type FailedBy struct {
	// Calm is what fails in a month without incidents: background errors
	// and the rate limits' calm throttling.
	Calm float64 `json:"calm"`
	// OwnIncidents is what fails while the option's own gateway (or its
	// hosting) has an incident; zero for direct calls.
	OwnIncidents float64 `json:"own_incidents"`
	// Incidents is the rest: what fails during providers' and platforms'
	// incidents, the throttling they cause included.
	Incidents float64 `json:"incidents"`
}

// Paired is a difference taken trial by trial against another option under
// the same sampled incidents (common random numbers).
type Paired struct {
	Best           string       `json:"best"`
	FailedRequests Distribution `json:"failed_requests"`
	CostUSD        Distribution `json:"cost_usd"`
}

// Distribution summarises one quantity over trials: the mean with a 95 %
// confidence interval of the mean, and percentiles of the trials.
type Distribution struct {
	Mean float64    `json:"mean"`
	CI95 [2]float64 `json:"ci95"`
	P5   float64    `json:"p5"`
	P50  float64    `json:"p50"`
	P95  float64    `json:"p95"`
}

// Percentiles of added latency in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// CostBreakdown is the monthly cost in USD: the total's distribution and the
// mean of each part.
type CostBreakdown struct {
	Total  Distribution `json:"total"`
	Tokens float64      `json:"tokens"`
	// TokensBy splits Tokens by provider and model, fallbacks at their own
	// prices.
	TokensBy       []TokenSpend `json:"tokens_by"`
	GatewayFees    float64      `json:"gateway_fees"`
	Infrastructure float64      `json:"infrastructure"`
	Operations     float64      `json:"operations"`
	// Estimated is the part of the monthly cost that is gatewise's
	// placeholder for a plan without a public price (a custom enterprise
	// quote), so the memo can say when such a figure decides the choice.
	Estimated float64 `json:"estimated,omitempty"`
}

// TokenSpend is the mean monthly spend on one model at one provider.
type TokenSpend struct {
	Provider string  `json:"provider"`
	Model    string  `json:"model"`
	USD      float64 `json:"usd"`
}

// Observability is the share of requests logged under the plan's limits and
// the architecture's needs the option meets.
type Observability struct {
	Coverage float64  `json:"coverage"`
	NeedsMet []string `json:"needs_met"`
	// NeedsPartial are the needs of NeedsMet met only in a weaker form
	// (export to the team's own tool, short retention, a narrower feature).
	NeedsPartial []string `json:"needs_partial,omitempty"`
	NeedsMissing []string `json:"needs_missing"`
	// CostTracking is what the option tells the team about its spend, on
	// the plan priced, whatever needs were stated: the seed's cost corner.
	CostTracking CostTracking `json:"cost_tracking"`
}

// CostTracking is how far an option answers "what does this feature
// cost?": dollars per request, attribution by user and feature, budgets
// and alerts. Levels are "yes", "partial" or "no".
type CostTracking struct {
	// PerRequest is the share of requests logged with their cost.
	PerRequest  float64 `json:"per_request"`
	Attribution string  `json:"attribution"`
	Budgets     string  `json:"budgets"`
	Alerts      string  `json:"alerts"`
}

// Score is the share of cost tracking met, 0–1: per-request cost,
// attribution, budgets and alerts weigh a quarter each, a partial level
// half of its quarter.
func (c CostTracking) Score() float64 {
	level := func(l string) float64 {
		switch l {
		case LevelYes:
			return 1
		case LevelPartial:
			return 0.5
		}
		return 0
	}
	return (c.PerRequest + level(c.Attribution) + level(c.Budgets) + level(c.Alerts)) / 4
}

// intervalOfMean is the 95 % interval of the mean of count trials with
// the given mean, sample standard deviation and sample skewness γ,
// corrected for skewness by Hall's transformation of the t statistic
// (Hall 1992, "On the removal of skewness by transformation", JRSS B 54):
// a month's failures are mostly none and now and then a long incident,
// and the normal interval then misses the mean on one side far more often
// than 2.5 % (TestIntervalCoversRareEvents). With g(t) = t + a·t² +
// a²·t³/3 + b, a = γ/(3√n), b = γ/(6√n), the interval is
// x̄ − s/√n · g⁻¹(±1.96); with no skew it is the normal one.
func intervalOfMean(count int, mean, sd, gamma float64) [2]float64 {
	n := float64(count)
	se := sd / math.Sqrt(n)
	if se == 0 || count < 3 {
		return [2]float64{mean - 1.96*se, mean + 1.96*se}
	}
	if math.IsNaN(gamma) || math.Abs(gamma) < 1e-9 {
		return [2]float64{mean - 1.96*se, mean + 1.96*se}
	}
	a, b := gamma/(3*math.Sqrt(n)), gamma/(6*math.Sqrt(n))
	inv := func(x float64) float64 { return (math.Cbrt(1+3*a*(x-b)) - 1) / a }
	return [2]float64{mean - se*inv(1.96), mean - se*inv(-1.96)}
}
