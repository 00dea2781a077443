package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"gatewise/pricing"
	"gatewise/simulator/traffic"
)

// runFile loads an architecture, synthesises its traffic and runs it.
func runFile(t testing.TB, yaml string, opts Options) (Result, Spec, *traffic.Profile) {
	t.Helper()
	cat := pricing.Default()
	spec, err := Load([]byte(yaml), cat)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := traffic.Synthesize(context.Background(), spec.SyntheticParams(), spec.Simulation.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), spec, prof, cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res, spec, prof
}

func find(t testing.TB, res Result, gateway, scenario string) OptionResult {
	t.Helper()
	for _, r := range res.Results {
		if r.Gateway == gateway && r.Scenario == scenario {
			return r
		}
	}
	t.Fatalf("no result for %s under %s", gateway, scenario)
	return OptionResult{}
}

// One provider, direct calls, every incident failing every request for its
// whole duration, no background errors: the failed share is the share of
// time in incidents, λ·E[D]/H to first order (E[D] of the truncated
// lognormal). The exact reference integrates the occupancy of the
// modulated Poisson process numerically (see occupancy).
const oneProvider = `
name: one provider
horizon_days: 28
providers: [{id: openai, regions: [us]}]
routes: [{name: chat, share: 1, models: [gpt-4.1-mini], input_tokens: 1000, output_tokens: 200}]
traffic: {requests_per_day: 14400, origin: {us: 1}, diurnal_amplitude: 0}
team: {engineers: 2, ops_hourly_usd: 100}
gateways: [direct]
scenarios: [baseline]
simulation: {trials: 12000, seed: 7}
outage_model:
  providers:
    openai: {incidents_per_month: 3, incident_error_rate: 1, background_error_rate: 0, arrival: poisson}
  common_mode: {events_per_year: 0}
`

func TestFailedShareMatchesIncidentTime(t *testing.T) {
	t.Parallel()
	res, spec, _ := runFile(t, oneProvider, Options{})
	got := find(t, res, "direct", "baseline")
	m := spec.IncidentModels().Providers["openai"]
	rho := m.PerMonth / HoursPerMonth * m.MeanDuration()
	occ := occupancy(m, 28*24)
	want := 0.0
	for _, p := range occ {
		want += p
	}
	want /= float64(len(occ))
	mean := 1 - got.SuccessRate.Mean
	half := (got.SuccessRate.CI95[1] - got.SuccessRate.CI95[0]) / 2
	t.Logf("one provider: failed share %.6f ± %.6f, reference %.6f, λE[D]/H %.6f", mean, half, want, rho)
	if math.Abs(mean-want) > half+0.005*want {
		t.Errorf("failed share %.5f ± %.5f, want %.5f", mean, half, want)
	}
	// The closed form λ·E[D]/H agrees within the overlap and start-up
	// effects (a few per cent at this rate).
	if math.Abs(mean-rho) > 0.05*rho {
		t.Errorf("failed share %.5f, λE[D]/H = %.5f", mean, rho)
	}
	// Every incident is a full outage of flat traffic: the minutes down
	// for users, and the provider's status page, are the failed share.
	if math.Abs((1-got.Availability.Mean)-mean) > 0.02*mean {
		t.Errorf("availability %.5f, want 1 − the failed share %.5f", got.Availability.Mean, mean)
	}
	if st := res.Providers[0].StatusPageUptime.Mean; math.Abs((1-st)-mean) > 0.02*mean {
		t.Errorf("status-page uptime %.5f, want 1 − the failed share %.5f", st, mean)
	}
}

// Two providers failing independently, and a gateway that skips a dead
// path and fails over: a request fails only while both are down. Both
// incident rates follow the same time-of-week shape, so the reference is
// the time average of the product of the two occupancies, not the product
// of their averages (which is 18 % lower: E[m²] = 1.225 for m = 1.3 on
// weekdays, 0.25 at weekends).
const twoProviders = `
name: two providers
horizon_days: 28
providers: [{id: openai, regions: [us]}, {id: mistral, regions: [eu]}]
routes: [{name: chat, share: 1, models: [gpt-4.1-mini, mistral-small], input_tokens: 1000, output_tokens: 200}]
traffic: {requests_per_day: 14400, origin: {us: 1}, diurnal_amplitude: 0}
team: {engineers: 2, ops_hourly_usd: 100}
gateways: [portkey]
scenarios: [baseline]
simulation: {trials: 6000, seed: 11}
outage_model:
  providers:
    openai: {incidents_per_month: 10, incident_error_rate: 1, background_error_rate: 0, arrival: poisson}
    mistral: {incidents_per_month: 10, incident_error_rate: 1, background_error_rate: 0, arrival: poisson}
  gateways:
    portkey: {incidents_per_month: 0}
  common_mode: {events_per_year: 0}
`

func TestPerfectFailoverMultipliesDowntime(t *testing.T) {
	t.Parallel()
	res, spec, _ := runFile(t, twoProviders, Options{})
	got := find(t, res, "portkey", "baseline")
	ms := spec.IncidentModels().Providers
	a, b := occupancy(ms["openai"], 28*24), occupancy(ms["mistral"], 28*24)
	want := 0.0
	for i := range a {
		want += a[i] * b[i]
	}
	want /= float64(len(a))
	mean := 1 - got.SuccessRate.Mean
	half := (got.SuccessRate.CI95[1] - got.SuccessRate.CI95[0]) / 2
	t.Logf("two providers: failed share %.6f ± %.6f, reference %.6f", mean, half, want)
	if math.Abs(mean-want) > half+0.01*want {
		t.Errorf("failed share %.6f ± %.6f, want %.6f", mean, half, want)
	}
}

// occupancy is the probability that a source with Poisson incidents is in
// an incident, every 0.05 h of a horizon that starts with none under way:
// 1 − exp(−∫₀ᵗ λ(s)·P(D > t−s) ds), with λ(s) the time-of-week-modulated
// rate and D the truncated lognormal duration (the M(t)/G/∞ occupancy).
func occupancy(m IncidentModel, horizon float64) []float64 {
	const dt = 0.05
	n := int(horizon / dt)
	ln := distuv.LogNormal{Mu: m.DurationMu, Sigma: m.DurationSigma}
	top := ln.CDF(m.MaxHours)
	survive := make([]float64, n)
	for k := range survive {
		u := (float64(k) + 0.5) * dt
		if u < m.MaxHours {
			survive[k] = (top - ln.CDF(u)) / top
		}
	}
	lambda := make([]float64, n)
	for i := range lambda {
		// The sampler scales the rate so the horizon holds a mean month's
		// share of incidents (exactly 1 for whole weeks).
		lambda[i] = m.PerMonth / HoursPerMonth * weekModulation((float64(i)+0.5)*dt) * dt * horizon / operationalHours(horizon)
	}
	out := make([]float64, n)
	for i := range out {
		mass := 0.0
		for j := 0; j <= i; j++ {
			mass += lambda[j] * survive[i-j]
		}
		out[i] = 1 - math.Exp(-mass)
	}
	return out
}

// With no incident and no background error, every request succeeds and the
// token cost is the priced traffic exactly.
func TestNoIncidentsCostIsTokensTimesPrice(t *testing.T) {
	t.Parallel()
	yaml := oneProvider[:len(oneProvider)-len("    openai: {incidents_per_month: 3, incident_error_rate: 1, background_error_rate: 0, arrival: poisson}\n  common_mode: {events_per_year: 0}\n")] +
		"    openai: {incidents_per_month: 0, background_error_rate: 0}\n  common_mode: {events_per_year: 0}\n"
	res, _, prof := runFile(t, yaml, Options{Trials: 10})
	got := find(t, res, "direct", "baseline")
	if got.SuccessRate.Mean != 1 || got.FailedRequests.P95 != 0 {
		t.Errorf("success %v, failed p95 %v", got.SuccessRate.Mean, got.FailedRequests.P95)
	}
	p, err := pricing.Default().Price("gpt-4.1-mini", "openai", "us")
	if err != nil {
		t.Fatal(err)
	}
	tot := prof.Total
	hours := float64(prof.Bins) * prof.BinWidth.Hours()
	want := p.Rates.Cost(pricing.Usage{Input: float64(tot.Input), CachedInput: float64(tot.CachedInput), Output: float64(tot.Output)}) * HoursPerMonth / hours
	if math.Abs(got.CostUSD.Tokens-want) > 1e-9*want {
		t.Errorf("token cost %.6f, want %.6f", got.CostUSD.Tokens, want)
	}
	if math.Abs(got.CostUSD.Total.Mean-got.CostUSD.Tokens) > 1e-9*want {
		t.Errorf("direct calls cost only tokens: total %v, tokens %v", got.CostUSD.Total.Mean, got.CostUSD.Tokens)
	}
}

// Failing over to a pricier model costs the price difference on the moved
// requests: here the primary provider is down for the scenario's 4 hours.
func TestFailoverCostsThePriceDifference(t *testing.T) {
	t.Parallel()
	yaml := `
name: failover cost
horizon_days: 28
providers: [{id: openai, regions: [us]}, {id: anthropic, regions: [us]}]
routes: [{name: chat, share: 1, models: [gpt-4.1-mini, claude-sonnet-4.5], input_tokens: 1000, output_tokens: 200}]
traffic: {requests_per_day: 14400, origin: {us: 1}, diurnal_amplitude: 0}
team: {engineers: 2, ops_hourly_usd: 100}
gateways: [portkey]
scenarios: [baseline, {name: provider-outage, provider: openai}]
simulation: {trials: 5, seed: 3}
outage_model:
  providers:
    openai: {incidents_per_month: 0, background_error_rate: 0}
    anthropic: {incidents_per_month: 0, background_error_rate: 0}
  gateways:
    portkey: {incidents_per_month: 0}
  common_mode: {events_per_year: 0}
`
	res, spec, prof := runFile(t, yaml, Options{})
	base := find(t, res, "portkey", "baseline")
	out := find(t, res, "portkey", "provider-outage")
	cat := pricing.Default()
	paths := spec.RoutePaths(cat, 0, "us")
	tot := prof.Total
	n := float64(tot.Requests)
	u := pricing.Usage{Input: float64(tot.Input) / n, CachedInput: float64(tot.CachedInput) / n, Output: float64(tot.Output) / n}
	rates := cat.RateTable()
	diff := rates.Rates(paths[1].Rate).Cost(u) - rates.Rates(paths[0].Rate).Cost(u)
	// Requests in the 4 h window from Wednesday 14:00 (hours 62 to 66).
	var moved float64
	for _, c := range prof.Cells {
		if h := float64(c.Bin) * prof.BinWidth.Hours(); h >= 62 && h < 66 {
			moved += float64(c.Demand.Requests)
		}
	}
	hours := float64(prof.Bins) * prof.BinWidth.Hours()
	want := moved * diff * HoursPerMonth / hours
	if got := out.CostUSD.Tokens - base.CostUSD.Tokens; math.Abs(got-want) > 1e-6*want {
		t.Errorf("failover raised token cost by %.4f, want %.4f (%v requests × %.6f)", got, want, moved, diff)
	}
	if out.SuccessRate.Mean != 1 {
		t.Errorf("an open breaker moves every request to the healthy fallback: success %v", out.SuccessRate.Mean)
	}
	// The spend split shows the fallback's share at its own price, and adds
	// up to the token cost (to the cent rounding of each line).
	var sum, fallback float64
	for _, ts := range out.CostUSD.TokensBy {
		sum += ts.USD
		if ts.Model == "claude-sonnet-4.5" {
			fallback = ts.USD
		}
	}
	if math.Abs(sum-out.CostUSD.Tokens) > 0.01*float64(len(out.CostUSD.TokensBy)) {
		t.Errorf("spend by model adds up to %.2f, tokens %.2f", sum, out.CostUSD.Tokens)
	}
	if wantFB := moved * rates.Rates(paths[1].Rate).Cost(u) * HoursPerMonth / hours; math.Abs(fallback-wantFB) > 0.01 {
		t.Errorf("fallback spend %.2f, want %.2f", fallback, wantFB)
	}
}

// The same seed gives the same bytes whatever the number of workers.
func TestRunIsDeterministic(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/examples/multi-region.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out [3][]byte
	for i, workers := range []int{1, 2, 2} {
		res, _, _ := runFile(t, string(data), Options{Trials: 40, Workers: workers})
		out[i], _ = json.Marshal(res)
	}
	if !bytes.Equal(out[0], out[1]) || !bytes.Equal(out[1], out[2]) {
		t.Error("results differ between runs with the same seed")
	}
}

// A rate limit at half the demand, flat traffic, no incidents: the account
// accepts 5 requests a minute out of 10, so half the requests fail however
// the SDK retries (its retries only spread the refusals: with refusal share
// θ and two retries, 10·(1 − θ³) = 5 accepted a minute).
const limited = `
name: rate limited
horizon_days: 7
providers: [{id: openai, regions: [us], rate_limits: {rpm: 5}}, {id: mistral, regions: [eu], rate_limits: {rpm: 5}}]
routes: [{name: chat, share: 1, models: [gpt-4.1-mini, mistral-small], input_tokens: 1000, output_tokens: 200}]
traffic: {requests_per_day: 14400, origin: {us: 1}, diurnal_amplitude: 0}
team: {engineers: 2, ops_hourly_usd: 100}
gateways: [direct, litellm]
scenarios: [baseline, rate-limit-storm]
simulation: {trials: 3, seed: 5}
outage_model:
  providers:
    openai: {incidents_per_month: 0, background_error_rate: 0}
    mistral: {incidents_per_month: 0, background_error_rate: 0}
  gateways:
    litellm: {incidents_per_month: 0}
  common_mode: {events_per_year: 0}
`

func TestRateLimitsThrottle(t *testing.T) {
	t.Parallel()
	res, _, prof := runFile(t, limited, Options{})
	direct := find(t, res, "direct", "baseline")
	// Synthetic traffic is Poisson per minute around 10, so a minute with
	// fewer than 5 requests loses none: the success share is
	// Σ min(n, 5) / Σ n over the profile's minutes.
	var accepted, offered float64
	for _, c := range prof.Cells {
		n := float64(c.Demand.Requests)
		offered += n
		accepted += math.Min(n, 5)
	}
	want := accepted / offered
	// The refusal share is solved to 1e-4 and its outcome kept to 1e-4:
	// the success share 1 − θ³ is then within 3·θ²·1.5e-4 < 5e-4.
	if math.Abs(direct.SuccessRate.Mean-want) > 5e-4 {
		t.Errorf("direct success %.6f, want the capacity share %.6f", direct.SuccessRate.Mean, want)
	}
	for _, p := range res.Providers {
		if p.StatusPageUptime.Mean != 1 {
			t.Errorf("rate limits are not outages on %s's status page: uptime %v", p.Provider, p.StatusPageUptime.Mean)
		}
	}
	// LiteLLM fails over on 429 to the second account, doubling capacity
	// to 10 a minute: what is lost is the Poisson excess over 10.
	var within10 float64
	for _, c := range prof.Cells {
		within10 += math.Min(float64(c.Demand.Requests), 10)
	}
	if lit := find(t, res, "litellm", "baseline"); math.Abs(lit.SuccessRate.Mean-within10/offered) > 0.005 {
		t.Errorf("litellm success %.4f, want about the two accounts' capacity share %.4f", lit.SuccessRate.Mean, within10/offered)
	}
	// A storm triples demand for two hours: more requests, more refused.
	storm := find(t, res, "direct", "rate-limit-storm")
	if storm.FailedRequests.Mean <= direct.FailedRequests.Mean {
		t.Errorf("storm failed %.0f, baseline %.0f", storm.FailedRequests.Mean, direct.FailedRequests.Mean)
	}
}

// The primary four times slower for three hours of a week: direct calls
// (600 s timeout) all wait, about 2 s × 3 = 6 s more; Portkey's 30 s
// timeout cuts the slowest answers, P(4·D > 30 s) = 1 − Φ((ln 7.5 − ln 2)/0.7)
// ≈ 2.95 % of those three hours, which fail over to the healthy fallback.
func TestLatencyDegradation(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(limited, "[{id: openai, regions: [us], rate_limits: {rpm: 5}}, {id: mistral, regions: [eu], rate_limits: {rpm: 5}}]",
		"[{id: openai, regions: [us]}, {id: mistral, regions: [eu]}]", 1)
	yaml = strings.Replace(yaml, "gateways: [direct, litellm]", "gateways: [direct, portkey]", 1)
	yaml = strings.Replace(yaml, "scenarios: [baseline, rate-limit-storm]", "scenarios: [baseline, {name: latency-degradation, provider: openai}]", 1)
	yaml = strings.Replace(yaml, "    litellm: {incidents_per_month: 0}", "    portkey: {incidents_per_month: 0}", 1)
	res, _, _ := runFile(t, yaml, Options{})
	direct := find(t, res, "direct", "latency-degradation")
	if direct.SuccessRate.Mean < 1-1e-9 {
		t.Errorf("slow is not failed with a 600 s timeout: success %v", direct.SuccessRate.Mean)
	}
	// 3 h of 168 h is 1.8 % of requests, so p99 is a slowed request.
	if p := direct.LatencyAddedMS; p.P50 != 0 || math.Abs(p.P99-6000) > 0.012*6000 {
		t.Errorf("direct added latency %+v, want p50 0 and p99 ≈ 6000 ms", p)
	}
	if base := find(t, res, "direct", "baseline"); base.LatencyAddedMS.P99 != 0 {
		t.Errorf("baseline added latency %+v", base.LatencyAddedMS)
	}
	pk := find(t, res, "portkey", "latency-degradation")
	if pk.SuccessRate.Mean < 1-1e-9 {
		t.Errorf("timed-out answers fail over to the healthy fallback: success %v", pk.SuccessRate.Mean)
	}
	tooSlow, _ := slowTimeouts(4, 30)
	if math.Abs(tooSlow-0.0295) > 0.0005 {
		t.Errorf("share over the timeout %v, want ≈ 0.0295", tooSlow)
	}
}

// Half the requests answered by Portkey's cache cost no tokens; Helicone
// logging asynchronously is out of the path, so its own outage fails
// nothing and it adds no latency.
func TestCacheAndAsyncLogging(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(limited, "[{id: openai, regions: [us], rate_limits: {rpm: 5}}, {id: mistral, regions: [eu], rate_limits: {rpm: 5}}]",
		"[{id: openai, regions: [us]}, {id: mistral, regions: [eu]}]", 1)
	yaml = strings.Replace(yaml, "gateways: [direct, litellm]", "gateways: [direct, portkey, helicone]", 1)
	yaml = strings.Replace(yaml, "scenarios: [baseline, rate-limit-storm]", "scenarios: [baseline, gateway-outage]", 1)
	yaml = strings.Replace(yaml, "    litellm: {incidents_per_month: 0}", "    portkey: {incidents_per_month: 0}\n    helicone: {incidents_per_month: 0}", 1)
	yaml += "gateway_settings:\n  portkey: {cache_hit_rate: 0.5}\n  helicone: {async_logging: true}\n"
	res, _, _ := runFile(t, yaml, Options{})
	direct := find(t, res, "direct", "baseline")
	pk := find(t, res, "portkey", "baseline")
	if math.Abs(pk.CostUSD.Tokens-direct.CostUSD.Tokens/2) > 1e-6*direct.CostUSD.Tokens {
		t.Errorf("portkey tokens %.4f, want half of direct's %.4f", pk.CostUSD.Tokens, direct.CostUSD.Tokens)
	}
	hel := find(t, res, "helicone", "gateway-outage")
	if hel.SuccessRate.Mean != 1 || hel.LatencyAddedMS.P99 != 0 {
		t.Errorf("async helicone under its own outage: success %v, latency %+v", hel.SuccessRate.Mean, hel.LatencyAddedMS)
	}
	if d := find(t, res, "direct", "gateway-outage"); d.SuccessRate.Mean != 1 {
		t.Errorf("a gateway outage leaves direct calls alone: success %v", d.SuccessRate.Mean)
	}
	if out := find(t, res, "portkey", "gateway-outage"); out.SuccessRate.Mean >= 1 {
		t.Errorf("portkey in the path fails during its own outage: success %v", out.SuccessRate.Mean)
	}
}

// A self-hosted gateway in us-east-1 goes down with the region (the
// region-outage scenario: us-east-1 for 6 h of a 168 h week, 3.57 % of
// flat traffic); the same gateway hosted elsewhere rides it out, the
// region's Bedrock fallback down but never needed.
func TestHostingRegionOutage(t *testing.T) {
	t.Parallel()
	base := strings.Replace(limited, "[{id: openai, regions: [us], rate_limits: {rpm: 5}}, {id: mistral, regions: [eu], rate_limits: {rpm: 5}}]",
		"[{id: openai, regions: [us]}, {id: mistral, regions: [eu]}, {id: aws-bedrock, regions: [us-east-1]}]", 1)
	base = strings.Replace(base, "scenarios: [baseline, rate-limit-storm]", "scenarios: [baseline, region-outage]", 1)
	for _, tc := range []struct {
		region string
		want   float64
	}{{"us-east-1", 6.0 / 168}, {"europe-west4", 0}} {
		res, _, prof := runFile(t, base+"gateway_settings:\n  litellm: {hosting_region: "+tc.region+"}\n", Options{})
		var window, all float64
		for _, c := range prof.Cells {
			n := float64(c.Demand.Requests)
			all += n
			if h := float64(c.Bin) * prof.BinWidth.Hours(); h >= 62 && h < 68 {
				window += n
			}
		}
		want := tc.want
		if want > 0 {
			want = window / all // the same 6 h, counted on the synthetic traffic
		}
		got := 1 - find(t, res, "litellm", "region-outage").SuccessRate.Mean
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("litellm hosted in %s: failed share %.6f, want %.6f", tc.region, got, want)
		}
		if d := find(t, res, "direct", "region-outage"); d.SuccessRate.Mean != 1 {
			t.Errorf("direct calls do not depend on the gateway's region: %v", d.SuccessRate.Mean)
		}
	}
	if _, err := Load([]byte(base+"gateway_settings:\n  litellm: {hosting_region: mars-1}\n"), nil); err == nil || !strings.Contains(err.Error(), "hosting_region") {
		t.Errorf("unknown hosting region: %v", err)
	}
}

func TestTiling(t *testing.T) {
	t.Parallel()
	const minute = 1.0 / 60
	for _, c := range []struct {
		name               string
		profileBins        int
		bins, period, days int
	}{
		{"an hour repeats whole", 60, 30 * 1440, 60, 30},
		{"2.5 days repeat two whole days", 3600, 30 * 1440, 2 * 1440, 30},
		{"10 days repeat one whole week", 14400, 30 * 1440, 7 * 1440, 30},
		{"a synthetic month missing its last minutes is used as it is", 30*1440 - 7, 30*1440 - 7, 30*1440 - 7, 30},
		{"45 days are used as they are", 45 * 1440, 45 * 1440, 45 * 1440, 30},
		{"a 7-day horizon is filled by a day", 1440, 7 * 1440, 1440, 7},
	} {
		bins, period := tiling(c.profileBins, minute, c.days)
		if bins != c.bins || period != c.period {
			t.Errorf("%s: tiling = %d bins repeating %d, want %d repeating %d", c.name, bins, period, c.bins, c.period)
		}
	}
}

// A day of logged traffic with a 4 h outage: the outage counts once in the
// month, as it would in a month of traffic, not 30 times as a day's log
// scaled to a month would make it. One request a minute, no other failure:
// the month loses exactly 240 of 43,200 minutes' requests.
func TestShortLogRepeatsToTheHorizon(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	// Nothing fails but the named outage: no incidents of OpenAI's own,
	// and no Cloudflare events, which reach its API too.
	spec, err := Load([]byte(publishedFile("openai", "gpt-4.1-mini", "{incidents_per_month: 0, background_error_rate: 0}")+"  common_mode: {events_per_year: 0}\n"), cat)
	if err != nil {
		t.Fatal(err)
	}
	spec.Scenarios = []Scenario{{Name: "baseline"}, {Name: "provider-outage", DurationHours: 4}}
	spec.Simulation.Trials = 10
	day := &traffic.Profile{BinWidth: time.Minute, Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Bins: 1440,
		Routes: []string{"chat"}, Origins: []string{"us"}}
	for b := range 1440 {
		d := traffic.Demand{Requests: 1, Input: 1000, Output: 200}
		day.Cells = append(day.Cells, traffic.Cell{Bin: int32(b), Demand: d})
		day.Total.Requests++
	}
	log := &LogSource{File: "day.csv", Format: "csv", RowsRead: 1441, RowsUsed: 1440, RowsSkipped: 1}
	res, err := Run(context.Background(), spec, day, cat, Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	// The result names the log, its own volume (1,440 rows over a day) and
	// how it was replayed; the volume as replayed is the same a day.
	want := TrafficSource{Kind: TrafficLog, Log: &LogSource{File: "day.csv", Format: "csv", RowsRead: 1441, RowsUsed: 1440, RowsSkipped: 1, RequestsPerDay: 1440},
		SpanHours: 24, Filled: "all 24 h of it repeated 30 times to fill the 30-day horizon", RequestsPerDay: 1440,
		Routes: []Share{{"chat", 1}}, Origins: []Share{{"us", 1}}, Uses: logUses(), Ignores: logIgnores()}
	if !reflect.DeepEqual(res.Traffic, want) {
		t.Errorf("traffic source\n got %+v\nwant %+v", res.Traffic, want)
	}
	got := find(t, res, "direct", "provider-outage")
	if want := 240.0 / 43200; math.Abs((1-got.SuccessRate.Mean)-want) > 1e-12 {
		t.Errorf("failed share %.9f, want %.9f (4 h of a 30-day month)", 1-got.SuccessRate.Mean, want)
	}
	if want := 1 - 4.0/720; math.Abs(got.Availability.Mean-want) > 1e-12 {
		t.Errorf("availability %.9f, want %.9f", got.Availability.Mean, want)
	}
	if !slices.ContainsFunc(res.Assumptions, func(a string) bool {
		return strings.HasPrefix(a, "the traffic covers 24 h; it repeats to fill the 30-day horizon")
	}) {
		t.Errorf("the assumptions do not say the log repeats: %q", res.Assumptions)
	}
}

// The result records each scenario as simulated, defaults filled in, so a
// reader learns which provider "provider-outage" took down and for how
// long; a label keeps two outages of one name apart.
func TestResultRecordsScenarios(t *testing.T) {
	t.Parallel()
	file := strings.Replace(oneProvider, "scenarios: [baseline]",
		"scenarios: [baseline, provider-outage, {name: provider-outage, duration_hours: 1, error_rate: 0.5}, rate-limit-storm, latency-degradation]", 1)
	file = strings.Replace(file, "trials: 4000", "trials: 5", 1)
	res, _, _ := runFile(t, file, Options{})
	want := []ScenarioRun{
		{Label: "baseline", Scenario: Scenario{Name: "baseline"}},
		{Label: "provider-outage", Scenario: Scenario{Name: "provider-outage", Provider: "openai", DurationHours: 4, ErrorRate: 1}},
		{Label: "provider-outage (1 h, 50 % of requests fail)", Scenario: Scenario{Name: "provider-outage", Provider: "openai", DurationHours: 1, ErrorRate: 0.5}},
		{Label: "rate-limit-storm", Scenario: Scenario{Name: "rate-limit-storm", DurationHours: 2, Multiplier: 3}},
		{Label: "latency-degradation", Scenario: Scenario{Name: "latency-degradation", Provider: "openai", DurationHours: 3, Multiplier: 4}},
	}
	if !slices.Equal(res.Scenarios, want) {
		t.Errorf("scenarios:\n got %+v\nwant %+v", res.Scenarios, want)
	}
}

// A named scenario is one incident in the simulated period; with a week's
// horizon the monthly figures count it 4.35 times, and the assumptions say
// so. A month's horizon needs no word.
func TestShortHorizonSaysHowOftenScenariosCount(t *testing.T) {
	t.Parallel()
	const note = "a named scenario adds one incident to the simulated 7 days, so the monthly figures count it 4.35 times a month"
	week := strings.Replace(strings.Replace(oneProvider, "horizon_days: 28", "horizon_days: 7", 1), "scenarios: [baseline]", "scenarios: [baseline, provider-outage]", 1)
	week = strings.Replace(week, "trials: 4000", "trials: 5", 1)
	res, _, _ := runFile(t, week, Options{})
	if !slices.Contains(res.Assumptions, note) {
		t.Errorf("a week's horizon: assumptions %q lack %q", res.Assumptions, note)
	}
	month := strings.Replace(strings.Replace(week, "horizon_days: 7", "horizon_days: 30", 1), "trials: 5", "trials: 2", 1)
	res, _, _ = runFile(t, month, Options{})
	if slices.ContainsFunc(res.Assumptions, func(a string) bool { return strings.HasPrefix(a, "a named scenario adds") }) {
		t.Errorf("a month's horizon: %q", res.Assumptions)
	}
}

// Common random numbers that hold: every source draws from a stream of
// its own, so adding options to a comparison leaves every other option's
// results the same to the bit (but for the pairing with the most
// reliable option, which may change).
func TestAddingAnOptionChangesNoOtherOption(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/examples/multi-region.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Each added option brings incidents of its own (kong's deploys,
	// OpenRouter's platform, Helicone's Cloudflare) that split the month
	// into more stretches.
	addingChangesNothing(t, string(data), "[direct, litellm]", "[direct, litellm, kong]", "[direct, openrouter, litellm]", "[direct, portkey, litellm, helicone]", "[direct, openrouter, portkey, helicone, litellm, kong, cloudflare]")
	// With openai limited to 120 requests a minute a region, Anthropic's
	// incidents move chat onto a limit that then binds: throttling within
	// the trials must not depend on the others either.
	limited := strings.Replace(string(data), "rate_limits: {rpm: 10000, tpm: 2000000}", "rate_limits: {rpm: 120}", 1)
	addingChangesNothing(t, limited, "[direct, portkey, litellm]", "[direct, openrouter, portkey, helicone, litellm, kong, cloudflare]")
}

// addingChangesNothing runs file with the gateways of base and of each of
// more, and checks that every option of base has the same results.
func addingChangesNothing(t *testing.T, file, base string, more ...string) {
	t.Helper()
	all := "gateways: [direct, openrouter, portkey, helicone, litellm, kong, cloudflare]"
	a, _, _ := runFile(t, strings.Replace(file, all, "gateways: "+base, 1), Options{Trials: 200})
	for _, more := range more {
		b, _, _ := runFile(t, strings.Replace(file, all, "gateways: "+more, 1), Options{Trials: 200})
		for _, r := range a.Results {
			got := find(t, b, r.Gateway, r.Scenario)
			r.VersusBest, got.VersusBest = nil, nil
			if !reflect.DeepEqual(r, got) {
				t.Errorf("%s under %s changed when comparing %s:\n%+v\n%+v", r.Gateway, r.Scenario, more, r, got)
			}
		}
	}
}

// failoverIntoALimit is openai failing over onto an azure-openai account
// that takes 30 requests a minute, with nothing else failing.
const failoverIntoALimit = `
name: failover into a limit
horizon_days: 30
providers: [{id: openai, regions: [us]}, {id: azure-openai, regions: [eastus], rate_limits: {rpm: 30}}]
routes: [{name: chat, share: 1, models: [gpt-4.1-mini], input_tokens: 1000, output_tokens: 200}]
traffic: {requests_per_day: 99360, origin: {us: 1}, diurnal_amplitude: 0}
compliance: {data_residency: {us: us}}
team: {engineers: 2, ops_hourly_usd: 100}
gateways: [portkey]
scenarios: [baseline, {name: provider-outage, provider: openai, duration_hours: 4}]
simulation: {trials: 20, seed: 1}
outage_model:
  providers:
    openai: {incidents_per_month: 0, background_error_rate: 0}
    azure-openai: {incidents_per_month: 0, background_error_rate: 0}
  gateways:
    portkey: {incidents_per_month: 0}
  common_mode: {events_per_year: 0}
`

// A named outage that moves 69 requests a minute onto a fallback whose
// account takes 30 a minute: the fallback serves its 30 and the rest
// fail, 39 a minute for the outage's 4 h, retries and the SDK's passes
// included (they only queue more attempts at the same limit). Nothing else
// fails in this file, so the stress test's failed requests a month are
// (69 − 30) × 240 scaled from the 30-day horizon to a month, within 2 %
// (the limit is applied to each minute's attempts; a few accepted
// attempts still time out or break).
func TestOutageLoadCountsAgainstTheFallbacksLimit(t *testing.T) {
	t.Parallel()
	file := failoverIntoALimit
	res, _, _ := runFile(t, file, Options{})
	base := find(t, res, "portkey", "baseline")
	out := find(t, res, "portkey", "provider-outage")
	got := out.FailedRequests.Mean - base.FailedRequests.Mean
	want := (69.0 - 30) * 240 * HoursPerMonth / 720
	t.Logf("outage adds %.0f failed requests a month (want %.0f); baseline %.0f", got, want, base.FailedRequests.Mean)
	if math.Abs(got-want) > 0.02*want {
		t.Errorf("the outage adds %.0f failed requests a month, want %.0f ± 2 %%: the fallback's limit must hold during the outage", got, want)
	}
}

// The same failover into a 30-a-minute limit, under sampled incidents
// instead of a named one: openai's incidents (two a month, about 4 h,
// failing every request) move its 69 requests a minute onto azure-openai,
// which serves 30 and refuses the rest. Every failed request is one of
// those 39 a minute, so the month's failed requests are 39 × 60 times the
// hours openai's status page shows down (each incident is major, weight
// 1, and the provider has one region), trial by trial; the means agree
// within 2 % (the limit applies to each minute's attempts, and the
// minute an incident starts or ends is throttled at the incident's full
// load). Arrivals are Poisson: the default's clustering makes incidents
// overlap, which the status page counts twice and the traffic once.
// Without the limit nothing fails.
func TestIncidentLoadCountsAgainstTheFallbacksLimit(t *testing.T) {
	t.Parallel()
	file := strings.NewReplacer(
		"scenarios: [baseline, {name: provider-outage, provider: openai, duration_hours: 4}]", "scenarios: [baseline]",
		"trials: 20", "trials: 200",
		"\n    openai: {incidents_per_month: 0,", "\n    openai: {incidents_per_month: 2, duration_median_hours: 4, duration_sigma: 0.3, incident_error_rate: 1, model_scoped_share: 0, arrival: poisson,",
	).Replace(failoverIntoALimit)
	res, _, _ := runFile(t, file, Options{})
	base := find(t, res, "portkey", "baseline")
	var down float64
	for _, p := range res.Providers {
		if p.Provider == "openai" {
			down = (1 - p.StatusPageUptime.Mean) * HoursPerMonth
		}
	}
	want := 39.0 * 60 * down
	got := base.FailedRequests.Mean
	t.Logf("incidents fail %.0f requests a month (want %.0f from %.2f h down a month)", got, want, down)
	if down < 4 || math.Abs(got-want) > 0.02*want {
		t.Errorf("sampled incidents fail %.0f requests a month, want %.0f ± 2 %%: the fallback's limit must hold during them", got, want)
	}
	free, _, _ := runFile(t, strings.Replace(file, ", rate_limits: {rpm: 30}", "", 1), Options{})
	if f := find(t, free, "portkey", "baseline").FailedRequests.Mean; f > 1 {
		t.Errorf("without the limit %.0f requests fail a month, want none", f)
	}
}
