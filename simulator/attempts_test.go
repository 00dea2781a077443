package simulator

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat/distuv"
)

func waitsAt(o outcome) map[int64]float64 {
	m := map[int64]float64{}
	for _, c := range o.waits {
		m[c.ms] += c.share
	}
	return m
}

func sumWaits(o outcome) float64 {
	s := 0.0
	for _, c := range o.waits {
		s += c.share
	}
	return s
}

// mustPolicy reads a plan's rules or fails the test.
func mustPolicy(t testing.TB, p Plan) *policy {
	t.Helper()
	pol, err := newPolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	return &pol
}

// sdk is the official SDKs' client rule with n retries.
func sdk(n int) ClientPlan {
	return ClientPlan{Retries: n, RetryOn: sdkRetryOn, BackoffSeconds: sdkBackoff, TimeoutSeconds: clientTimeoutSeconds}
}

// shippedPolicies are the rules of every option as gatewise ships it.
func shippedPolicies(t testing.TB) map[string]*policy {
	t.Helper()
	bs, err := DefaultBehaviours()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*policy{}
	for id := range bs.ByID {
		out[id] = mustPolicy(t, (Spec{}).plan(nil, bs.ByID[id]))
	}
	return out
}

// Direct calls with the SDK's two retries on a path whose failures are all
// fast background errors, with retries failing independently: a request
// fails only if all three attempts fail, and the client's retries wait the
// error and the SDK's backoff.
func TestClientRetriesOnOnePath(t *testing.T) {
	t.Parallel()
	pol := mustPolicy(t, Plan{Gateway: "direct", Client: sdk(2)})
	pol.rho = 0
	o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 0.1, background: 0.1, cost: 2}}, 0, 0)
	// success = 1 − 0.1³ = 0.999; cost = 0.999 × 2
	if !scalar.EqualWithinAbs(o.success, 0.999, 1e-12) || !scalar.EqualWithinAbs(o.cost, 1.998, 1e-12) {
		t.Errorf("success %v cost %v", o.success, o.cost)
	}
	// Waits: first try 0.9 at 0; second 0.09 after a 0.5 s error + 0.5 s
	// backoff = 1000 ms; third 0.009 after 1000 + 500 + 1000 = 2500 ms;
	// failures 0.001 after 2500 + 500 = 3000 ms.
	want := map[int64]float64{0: 0.9, 1000: 0.09, 2500: 0.009, 3000: 0.001}
	got := waitsAt(o)
	if len(got) != len(want) {
		t.Fatalf("waits = %v", o.waits)
	}
	for ms, share := range want {
		if !scalar.EqualWithinAbs(got[ms], share, 1e-12) {
			t.Errorf("waits at %d ms = %v, want %v", ms, got[ms], share)
		}
	}
	// Three attempts a failing request: the load is 1 + 0.1 + 0.01.
	if !scalar.EqualWithinAbs(o.loads[0], 1.11, 1e-12) {
		t.Errorf("load %v, want 1.11", o.loads[0])
	}
}

// A dead primary and a healthy fallback, with failover on every class and
// no retries: everything moves except mid-stream breaks, which neither the
// gateway nor the client can retry.
func TestFailoverMovesAllButMidStream(t *testing.T) {
	t.Parallel()
	pol := mustPolicy(t, Plan{Gateway: "g", FailOverOn: []string{On5xx, On529, OnTimeout}, TimeoutSeconds: 30, Client: sdk(2)})
	o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 1, cost: 1}, {fail: 0, cost: 3}}, 0, 0)
	// success = 1 − midStreamShare = 0.95, all on the fallback at 3 USD;
	// the 0.05 that broke mid-stream are billed half of 1 USD.
	if !scalar.EqualWithinAbs(o.success, 0.95, 1e-12) || !scalar.EqualWithinAbs(o.fallback, 0.95, 1e-12) {
		t.Errorf("success = %v, fallback = %v", o.success, o.fallback)
	}
	if want := 0.95*3 + 0.05*0.5*1; !scalar.EqualWithinAbs(o.cost, want, 1e-12) {
		t.Errorf("cost = %v, want %v", o.cost, want)
	}
	// Fast failures (0.85) wait 0.5 s, hangs (0.1) the 30 s timeout.
	if w := waitsAt(o); !scalar.EqualWithinAbs(w[500], 0.85, 1e-12) || !scalar.EqualWithinAbs(w[30000], 0.1, 1e-12) {
		t.Errorf("waits = %v", o.waits)
	}
}

// Retries fail with the attempt before at ρ: on a path failing a tenth of
// attempts, each retry fails at ρ + (1 − ρ)·0.1, so three attempts fail
// 0.1·q² of requests; the same holds for the client's passes, and a
// request a rate limit refused retries independently.
func TestRetriesFailTogether(t *testing.T) {
	t.Parallel()
	q := retryCorrelation + (1-retryCorrelation)*0.1
	want := 0.1 * q * q
	gateway := mustPolicy(t, Plan{Gateway: "g", Retries: 2, RetryOn: []string{On5xx}, TimeoutSeconds: 30})
	client := mustPolicy(t, Plan{Gateway: "direct", Client: sdk(2)})
	for name, pol := range map[string]*policy{"gateway retries": gateway, "client retries": client} {
		o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 0.1, background: 0.1, cost: 1}}, 0, 0)
		if !scalar.EqualWithinAbs(1-o.success, want, 1e-12) {
			t.Errorf("%s: failed share %v, want 0.1·q² = %v", name, 1-o.success, want)
		}
		if s := sumWaits(o); !scalar.EqualWithinAbs(s, 1, 1e-12) {
			t.Errorf("%s: waits add up to %v", name, s)
		}
	}
	// A rate limit's refusals: each retry meets the minute's share again.
	o := evaluatePlan(client, new(attemptScratch), []hop{{throttle: 0.4, cost: 1}}, 0, 0)
	if !scalar.EqualWithinAbs(1-o.success, 0.4*0.4*0.4, 1e-12) {
		t.Errorf("throttled: failed share %v, want 0.4³", 1-o.success)
	}
}

// A plan that does not fail over on 5xx hands them to the app, whose SDK
// retries them: each pass serves the hang share on the fallback, so with
// two client retries success is 0.1·(1 + 0.85 + 0.85²).
func TestClientRetriesAroundTheGateway(t *testing.T) {
	t.Parallel()
	pol := mustPolicy(t, Plan{Gateway: "g", FailOverOn: []string{OnTimeout}, TimeoutSeconds: 60, Client: sdk(2)})
	pol.rho = 0
	o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 1, cost: 1}, {fail: 0, cost: 1}}, 0, 0)
	if want := 0.1 * (1 + 0.85 + 0.85*0.85); !scalar.EqualWithinAbs(o.success, want, 1e-12) {
		t.Errorf("success = %v, want %v", o.success, want)
	}
	if s := sumWaits(o); !scalar.EqualWithinAbs(s, 1, 1e-12) {
		t.Errorf("waits add up to %v", s)
	}
	// Without client retries only the first pass counts.
	pol.clientRetries = 0
	if o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 1, cost: 1}, {fail: 0, cost: 1}}, 0, 0); !scalar.EqualWithinAbs(o.success, 0.1, 1e-12) {
		t.Errorf("no client retries: success = %v, want 0.1", o.success)
	}
}

// Anthropic's 529s move on only where the plan lists 529: Kong's
// failover criteria cannot, so half of a dead Anthropic primary's fast
// failures reach the app (and its retries meet them again).
func TestOverloadedNeeds529(t *testing.T) {
	t.Parallel()
	hops := []hop{{fail: 1, overloaded: 0.5, cost: 1}, {fail: 0, cost: 1}}
	with := mustPolicy(t, Plan{Gateway: "g", FailOverOn: []string{On5xx, On529, OnTimeout}, TimeoutSeconds: 30})
	without := mustPolicy(t, Plan{Gateway: "g", FailOverOn: []string{On5xx, OnTimeout}, TimeoutSeconds: 30})
	a := evaluatePlan(with, new(attemptScratch), hops, 0, 0)
	b := evaluatePlan(without, new(attemptScratch), hops, 0, 0)
	if !scalar.EqualWithinAbs(a.success, 0.95, 1e-12) {
		t.Errorf("with 529: success %v, want 0.95", a.success)
	}
	if want := 0.95 - 0.85*0.5; !scalar.EqualWithinAbs(b.success, want, 1e-12) {
		t.Errorf("without 529: success %v, want %v", b.success, want)
	}
}

// A hung attempt on a gateway without a timeout of its own is ended by the
// client's timeout: the gateway never fails over, the client retries.
func TestNoGatewayTimeoutLeavesHangsToTheClient(t *testing.T) {
	t.Parallel()
	pol := mustPolicy(t, Plan{Gateway: "g", FailOverOn: []string{On5xx, OnTimeout}, Client: sdk(0)})
	o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 1, cost: 1}, {fail: 0, cost: 1}}, 0, 0)
	if want := 1 - hangShare - midStreamShare; !scalar.EqualWithinAbs(o.success, want, 1e-12) {
		t.Errorf("success %v, want %v", o.success, want)
	}
	if w := waitsAt(o); !scalar.EqualWithinAbs(w[600000], hangShare, 1e-12) {
		t.Errorf("hangs wait the client's 600 s: %v", o.waits)
	}
}

// A primary that refuses every request (a named outage) and a healthy
// fallback: nothing breaks mid-stream, since no stream starts, so
// everything moves; the 0.95 that would have been fast or broken fail fast
// and the hang share waits for the timeout.
func TestRefusedRequestsMove(t *testing.T) {
	t.Parallel()
	pol := mustPolicy(t, Plan{Gateway: "g", FailOverOn: []string{On5xx, On529, OnTimeout}, TimeoutSeconds: 30})
	o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 1, down: 1, cost: 1}, {fail: 0, cost: 3}}, 0, 0)
	if !scalar.EqualWithinAbs(o.success, 1, 1e-12) || !scalar.EqualWithinAbs(o.cost, 3, 1e-12) {
		t.Errorf("success = %v, cost = %v; want 1 and 3 (nothing billed on the refusing path)", o.success, o.cost)
	}
	if w := waitsAt(o); !scalar.EqualWithinAbs(w[500], 0.9, 1e-12) || !scalar.EqualWithinAbs(w[30000], 0.1, 1e-12) {
		t.Errorf("waits = %v, want 0.9 after a 0.5 s error and 0.1 after the 30 s timeout", o.waits)
	}
	// Half the failures refused, half from an incident that lets streams
	// start: only the second half can break mid-stream.
	o = evaluatePlan(pol, new(attemptScratch), []hop{{fail: 0.5, down: 0.25, cost: 1}, {fail: 0, cost: 1}}, 0, 0)
	if want := 1 - 0.25*midStreamShare; !scalar.EqualWithinAbs(o.success, want, 1e-12) {
		t.Errorf("half refused: success %v, want %v", o.success, want)
	}
}

// With two independent paths and perfect failover, a request fails only
// when both fail.
func TestTwoPathsMultiply(t *testing.T) {
	t.Parallel()
	pol := mustPolicy(t, Plan{Gateway: "g", FailOverOn: []string{On5xx, OnTimeout}, TimeoutSeconds: 30})
	o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 0.2, background: 0.2}, {fail: 0.3, background: 0.3}}, 0, 0)
	if !scalar.EqualWithinAbs(o.success, 1-0.2*0.3, 1e-12) {
		t.Errorf("success = %v, want %v", o.success, 1-0.2*0.3)
	}
}

// A down gateway answers a fast 5xx, which the client retries against the
// same gateway: with half its requests failing, success is
// 0.5·(1 + 0.5 + 0.25) with two retries.
func TestClientRetriesADownGateway(t *testing.T) {
	t.Parallel()
	pol := mustPolicy(t, Plan{Gateway: "g", FailOverOn: []string{On5xx}, TimeoutSeconds: 30, Client: sdk(2)})
	pol.rho = 0
	o := evaluatePlan(pol, new(attemptScratch), []hop{{fail: 0, cost: 1}}, 0, 0.5)
	if !scalar.EqualWithinAbs(o.success, 0.875, 1e-12) {
		t.Errorf("success = %v, want 0.875", o.success)
	}
	// A cache answers a share of what reaches the gateway at no cost.
	o = evaluatePlan(pol, new(attemptScratch), []hop{{fail: 0, cost: 1}}, 0.4, 0)
	if !scalar.EqualWithinAbs(o.success, 1, 1e-12) || !scalar.EqualWithinAbs(o.cost, 0.6, 1e-12) {
		t.Errorf("cache: success %v cost %v, want 1 and 0.6", o.success, o.cost)
	}
}

// The cooldown trips in time: with a threshold of one failure, a target
// failing μ times a second is out for C seconds after each, so a share
// μC/(1+μC) of requests skip it (renewal argument); with two failures in
// a window W it also needs another failure within W, P = 1 − e^{−μW}.
func TestCooldownSkipShare(t *testing.T) {
	t.Parallel()
	one := &policy{cooldown: &Cooldown{Kind: CooldownTarget, AfterFails: 1, Seconds: 5}}
	h := hop{rate: 2}
	mu := 2 * 0.1 // 2 requests a second, a tenth failing
	if got, want := one.skipShare(h, 1, 1, 0.1), mu*5/(1+mu*5); !scalar.EqualWithinAbs(got, want, 1e-12) {
		t.Errorf("after one failure: skip %v, want %v", got, want)
	}
	two := &policy{cooldown: &Cooldown{Kind: CooldownTarget, AfterFails: 2, WindowSeconds: 30, Seconds: 30}}
	tau := mu * (1 - math.Exp(-mu*30))
	if got, want := two.skipShare(h, 1, 1, 0.1), tau*30/(1+tau*30); !scalar.EqualWithinAbs(got, want, 1e-12) {
		t.Errorf("after two failures in 30 s: skip %v, want %v", got, want)
	}
	// Provider health: out once most requests fail, else not at all.
	health := &policy{cooldown: &Cooldown{Kind: CooldownProviderHealth}}
	if health.skipShare(hop{fail: 0.6}, 1, 1, 0.6) != 1 || health.skipShare(hop{fail: 0.2}, 1, 1, 0.2) != 0 {
		t.Error("provider health: skip a provider most of whose requests fail, and only that")
	}
}

// A cooled target sends requests straight on, so they do not wait for the
// dead primary's retries; with nothing left to try the gateway answers as
// a rate limit, which the client retries.
func TestCooldownSkipsDeadTarget(t *testing.T) {
	t.Parallel()
	plan := Plan{Gateway: "litellm", Retries: 2, RetryOn: []string{On5xx, OnTimeout}, BackoffSeconds: []float64{0.9, 1.5},
		FailOverOn: []string{On5xx, OnTimeout}, TimeoutSeconds: 30,
		Cooldown: &Cooldown{Kind: CooldownTarget, AfterFails: 2, WindowSeconds: 30, Seconds: 30, FirstFailureOnly: true}}
	with := evaluatePlan(mustPolicy(t, plan), new(attemptScratch), []hop{{fail: 1, down: 1, rate: 50}, {fail: 0, rate: 50}}, 0, 0)
	plan.Cooldown = nil
	without := evaluatePlan(mustPolicy(t, plan), new(attemptScratch), []hop{{fail: 1, down: 1, rate: 50}, {fail: 0, rate: 50}}, 0, 0)
	if w := waitsAt(with); w[0] < 0.99 {
		t.Errorf("cooled: %v of requests go straight to the fallback, want nearly all: %v", w[0], with.waits)
	}
	if without.loads[0] < 2.9 || with.loads[0] > 0.05 {
		t.Errorf("attempts on the dead primary: %v without a cooldown (want 3), %v with", without.loads[0], with.loads[0])
	}
	if !scalar.EqualWithinAbs(with.success, 1, 1e-12) || !scalar.EqualWithinAbs(without.success, 1, 1e-12) {
		t.Errorf("either way every request reaches the healthy path: %v, %v", with.success, without.success)
	}
}

func TestEveryShippedPlanAccountsForEveryRequest(t *testing.T) {
	t.Parallel()
	hops := []hop{{fail: 0.7, background: 0.01, cost: 1, rate: 3, overloaded: 0.5}, {fail: 0.3, background: 0.002, cost: 2, rate: 3}, {fail: 0.05, background: 0.05, cost: 0.5, rate: 3}}
	for id, pol := range shippedPolicies(t) {
		for _, gate := range []float64{0, 0.3} {
			o := evaluatePlan(pol, new(attemptScratch), hops, 0.1, gate)
			if s := sumWaits(o); math.Abs(s-1) > 1e-12 {
				t.Errorf("%s: waits add up to %v, want 1", id, s)
			}
			if o.success < 0 || o.success > 1 || o.fallback > o.success {
				t.Errorf("%s: success %v, fallback %v", id, o.success, o.fallback)
			}
		}
		if o := evaluatePlan(pol, new(attemptScratch), nil, 0, 0); o.success != 0 || math.Abs(sumWaits(o)-1) > 1e-12 {
			t.Errorf("%s: no target: %+v", id, o)
		}
	}
}

func BenchmarkEvaluatePlan(b *testing.B) {
	hops := []hop{{fail: 0.7, background: 0.01, cost: 1, rate: 3}, {fail: 0.3, background: 0.002, cost: 2, rate: 3}, {fail: 0.05, background: 0.05, cost: 0.5, rate: 3}, {fail: 0.01, cost: 1, rate: 3}}
	pol := shippedPolicies(b)["litellm"]
	sc := new(attemptScratch)
	for b.Loop() {
		evaluatePlan(pol, sc, hops, 0, 0)
	}
}

// The load-only version agrees with the full attempt model on every
// shipped plan's rules.
func TestPlanLoadsMatchEvaluatePlan(t *testing.T) {
	t.Parallel()
	hops := []hop{{fail: 0.7, background: 0.01, throttle: 0.3, rate: 5, overloaded: 0.5}, {fail: 0.3, background: 0.002, slow: 4, rate: 5}, {fail: 0.05, background: 0.05, throttle: 0.6, rate: 5}}
	for id, pol := range shippedPolicies(t) {
		for _, gate := range []float64{0, 0.25} {
			full := evaluatePlan(pol, new(attemptScratch), hops, 0.1, gate)
			loads := make([]float64, len(hops))
			planLoads(pol, hops, 0.1, gate, loads)
			for j := range hops {
				if math.Abs(loads[j]-full.loads[j]) > 1e-12 {
					t.Errorf("%s gate %v hop %d: load %v, evaluatePlan says %v", id, gate, j, loads[j], full.loads[j])
				}
			}
		}
	}
}

// The term-by-term Poisson CDF agrees with gonum's incomplete-gamma form
// to 1e-12 (relative, or absolute below 1e-300) over the allowed
// failures and failure rates cooldowns meet, and past them.
func TestPoissonCDF(t *testing.T) {
	t.Parallel()
	for _, k := range []int{0, 1, 2, 4, 9, 30, 100, 150} {
		for _, lambda := range []float64{1e-9, 0.01, 0.5, 1, 3.7, 20, 120, 499, 800, 5000} {
			want := distuv.Poisson{Lambda: lambda}.CDF(float64(k))
			got := poissonCDF(k, lambda)
			if math.Abs(got-want) > 1e-12*math.Max(want, 1e-300/1e-12) {
				t.Errorf("poissonCDF(%d, %g) = %g, want %g", k, lambda, got, want)
			}
		}
	}
}
