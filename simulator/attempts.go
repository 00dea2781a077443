package simulator

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// How a failed request failed, and what it costs the caller. These shares
// are not published anywhere; they are judgements, stated with the run's
// assumptions.
const (
	// hangShare of incident failures hang until a timeout instead of
	// erroring fast (ESTIMATE: FOB's "no response" and "slow TTFT" cases are
	// 2 of its 16 fault scenarios; incidents mostly return 5xx/529).
	hangShare = 0.1
	// midStreamShare of incident failures break after the first token; no
	// gateway in the evidence rescues those (gateways.md §8.2, §10).
	midStreamShare = 0.05
	// fastErrorSeconds is how long a fast 5xx takes to come back (ESTIMATE).
	fastErrorSeconds = 0.5
	// clientTimeoutSeconds is the official SDKs' timeout: 600 s
	// (gateways.md §7.1). It ends an attempt no gateway timeout ends first.
	clientTimeoutSeconds = 600
	// midStreamBilled is the share of a request's cost billed when it breaks
	// mid-stream: the prompt and part of the output (ESTIMATE: half).
	midStreamBilled = 0.5
	// overloadedShare of Anthropic's fast failures answer 529 "overloaded"
	// rather than another 5xx (ESTIMATE: Anthropic's ~12 h outage was a 529
	// spike and its 2026-03-02 incident answered 500 and 529, outages.md
	// §12 rows 15 and 17; Portkey's customers who lost requests had not
	// listed 529 for fallback). A gateway that cannot fail over on 529 lets
	// these through.
	overloadedShare = 0.5
	// significantOutage is the failure share at which a gateway that
	// routes on provider health (OpenRouter skips providers with
	// significant outages in the last 30 s, gateways.md §1) stops sending
	// to a provider (ESTIMATE: most requests failing).
	significantOutage = 0.5
	// retryCorrelation is the share of a failed attempt's retries that fail
	// together with it, whatever the path's failure share: a request whose
	// problem persists (an overloaded shard, a poisoned prompt, a dead
	// connection pool) meets it again half a second later. The rest fail
	// independently, at the path's share (ESTIMATE: nothing published
	// measures it; with 0 two SDK retries would make a direct call ~7×
	// more reliable on their own, outages.md §8's telemetry shows no such
	// gap; the memo's assumptions name it).
	retryCorrelation = 0.5
)

// correlated scales a retry's outcome shares for the failures it shares
// with the attempt before it, ρ of them: of the attempts a rate limit lets
// through (open), served becomes (1 − ρ)·s and every health failure
// (fast, hang, mid-stream) grows by ρ/F + 1 − ρ, with F = 1 − s, so the
// shares still add up to one. A 429 from the account's limit stays
// independent: it is the minute's capacity, not the request's fate.
func correlated(rho, served, open float64) (servedScale, failScale float64) {
	if open <= 0 || served >= open || rho == 0 {
		return 1, 1
	}
	s := served / open
	return 1 - rho, rho/(1-s) + 1 - rho
}

// policy is a Plan's rules in the form the attempt model reads them.
type policy struct {
	retries             int
	retryOn, failoverOn ErrorClasses
	backoff             []float64
	// timeout is how long a hung attempt waits; ownTimeout says the
	// gateway ends it itself (and may retry or fail over), rather than the
	// client giving up on the whole request.
	timeout    float64
	ownTimeout bool
	cooldown   *Cooldown
	// rho is the share of a failed attempt's retries that fail with it.
	rho float64
	// The client's retries around each pass through the gateway.
	clientRetries int
	clientRetryOn ErrorClasses
	clientBackoff []float64
}

// newPolicy reads a plan's rules.
func newPolicy(p Plan) (policy, error) {
	pol := policy{retries: p.Retries, backoff: p.BackoffSeconds, cooldown: p.Cooldown, rho: retryCorrelation,
		clientRetries: p.Client.Retries, clientBackoff: p.Client.BackoffSeconds}
	var err error
	if pol.retryOn, err = conditionClasses(p.RetryOn); err != nil {
		return policy{}, fmt.Errorf("%s: retry_on: %w", p.Gateway, err)
	}
	if pol.failoverOn, err = conditionClasses(p.FailOverOn); err != nil {
		return policy{}, fmt.Errorf("%s: fail_over_on: %w", p.Gateway, err)
	}
	if pol.clientRetryOn, err = conditionClasses(p.Client.RetryOn); err != nil {
		return policy{}, fmt.Errorf("%s: client retry_on: %w", p.Gateway, err)
	}
	pol.timeout, pol.ownTimeout = p.Client.TimeoutSeconds, false
	if pol.timeout <= 0 {
		pol.timeout = clientTimeoutSeconds
	}
	if p.TimeoutSeconds > 0 && p.TimeoutSeconds < pol.timeout {
		pol.timeout, pol.ownTimeout = p.TimeoutSeconds, true
	}
	return pol, nil
}

// backoffAt is the wait before retry n (0-based): the listed waits, the last
// one repeated.
func backoffAt(waits []float64, n int) float64 {
	if len(waits) == 0 {
		return 0
	}
	return waits[min(n, len(waits)-1)]
}

// hop is one target as the attempt model sees it.
type hop struct {
	fail float64 // share of attempts on this path that fail
	// background is the part of fail that is transient and fast (no hangs,
	// no mid-stream breaks); the rest comes from incidents.
	background float64
	cost       float64 // USD of a request served here
	// down is the part of fail from outages that refuse requests before
	// the first token (named outages): it hangs or fails fast, never
	// mid-stream.
	down float64
	// throttle is the share of attempts refused with 429 because the
	// account's rate limit is reached, on top of fail.
	throttle float64
	// slow multiplies the path's response time (latency degradation); 0 or
	// 1 for normal. Slow answers that exceed the timeout count as hangs.
	slow float64
	// overloaded is the share of the path's fast failures that answer 529.
	overloaded float64
	// rate is the requests a second the route plan's traffic brings to the
	// gateway, which is what makes a cooldown trip in time.
	rate float64
}

// Response times of a healthy path, for latency degradation: lognormal
// with a 2 s median and σ 0.7 (p95 ≈ 6 s), a typical chat completion
// (ESTIMATE; logs with latencies would refine it).
const (
	responseMedianSeconds = 2.0
	responseSigma         = 0.7
)

// slowTimeouts is the share of answers slowed by factor slow that exceed
// timeout seconds, and the extra wait of the others.
func slowTimeouts(slow, timeout float64) (share float64, extraMS int64) {
	if slow <= 1 {
		return 0, 0
	}
	z := (math.Log(timeout/slow) - math.Log(responseMedianSeconds)) / responseSigma
	return 1 - distuv.UnitNormal.CDF(z), int64((slow - 1) * responseMedianSeconds * 1000)
}

// outcome is what happens to requests of one route and origin through one
// option while failure rates are constant.
type outcome struct {
	success float64 // share of requests that succeed
	cost    float64 // expected USD per request (served, or partly billed)
	// fallback is the share of requests served by a target other than the
	// first.
	fallback float64
	// waits lists extra waiting (over a first-try success) by share of
	// requests, failed or not; shares add up to 1.
	waits []cohort
	// costs splits cost by hop, so spend can be reported by provider and
	// model, fallbacks at their own prices.
	costs []float64
	// loads is the expected attempts per request on each hop, which is what
	// counts against the hop's rate limit.
	loads []float64
}

// cohort is a share of requests that have waited the same time.
type cohort struct {
	ms     int64
	share  float64
	bucket int32 // latency bucket of ms, filled in where needed
}

// attemptScratch holds the buffers attempts reuses, one per worker.
type attemptScratch struct {
	here, retry, moving, waits, again []cohort
	// terminal, repeat and next hold the client's retries: what ends a
	// pass, what the client sends again, and the requests starting the
	// next pass, merged by latency bucket.
	terminal, repeat, next, start []cohort
	costs, loads, served          []float64
	// waitsAt finds a cohort of waits by its waiting time: with several
	// retries over six paths the list reaches hundreds of cohorts, too
	// many to scan for every addition.
	waitsAt, againAt, movingAt, retryAt cohortIndex
	byBucket                            []int32
}

// cohortIndex maps a latency bucket to the place in a list of the cohort
// that holds it. Waits that fall in one bucket (±1.2 %) merge into its
// first cohort, whose waiting time stands for all of them: the lists stay
// short however many targets and retries a request goes through, and every
// figure read from them is read by bucket anyway. It only finds cohorts:
// the list keeps its order, so sums come out as a scan would give them.
// There are few buckets, so it indexes them directly, and a reset is a new
// generation rather than a clear.
type cohortIndex struct {
	slots []uint64 // by bucket: the generation that set it << 32 | the cohort's place
	cur   uint64   // the generation, shifted into place
}

func (x *cohortIndex) reset() {
	if x.slots == nil {
		x.slots = make([]uint64, latencyBuckets)
	}
	x.cur += 1 << 32
	if x.cur == 0 { // wrapped: every stamp is stale again
		clear(x.slots)
		x.cur = 1 << 32
	}
}

// add merges share into the cohort of ms's bucket, or appends one; cs must
// be the list x indexes, since its last reset. Shares under tinyShare are
// dropped.
func (x *cohortIndex) add(cs []cohort, ms int64, share float64) []cohort {
	if share < tinyShare {
		return cs
	}
	b := latencyBucket(ms)
	if v := x.slots[b]; v&^(1<<32-1) == x.cur {
		cs[uint32(v)].share += share
		return cs
	}
	x.slots[b] = x.cur | uint64(len(cs))
	return append(cs, cohort{ms: ms, share: share, bucket: b})
}

// tinyShare is a share of requests that no figure can show: a month's
// requests at 1e10 a day make 3e-7 of a request from it. Retries into a
// refusing target split requests into ever smaller cohorts, down to 1e-80
// and below, and following them cost a third of a calm trial's attempt
// model; dropping them moves the examples' figures by under 3e-12 of
// themselves. The bound is far below negligible, which compacted drops
// from an outcome once worked out, so the shares kept add up as before.
const tinyShare = 1e-18

// failureKind is one way an attempt can fail, with its share, how long it
// takes, and the class the rules see.
type failureKind struct {
	share float64
	wait  int64
	class ErrorClass
}

// attemptShares splits one attempt on a hop into its outcomes: served, and
// each way of failing (fast 5xx, 529, hang, 429), with mid-stream breaks
// apart (final: nothing retries a stream that already started).
func attemptShares(pol *policy, h hop, fastMS, hangMS int64) (served, mid float64, slowMS int64, kinds [4]failureKind) {
	open := 1 - h.throttle
	incident := max(h.fail-h.background, 0)
	tooSlow, slowMS := slowTimeouts(h.slow, pol.timeout)
	fast := open * (h.background + incident*(1-hangShare-midStreamShare))
	hang := open * (incident*hangShare + (1-h.fail)*tooSlow)
	mid = open * incident * midStreamShare
	if h.down > 0 {
		// Only failures from incidents that let streams start can break
		// mid-stream; a refused request fails fast instead.
		streaming := max(incident-h.down, 0)
		fast = open * (h.background + incident*(1-hangShare) - streaming*midStreamShare)
		mid = open * streaming * midStreamShare
	}
	served = open * (1 - h.fail) * (1 - tooSlow)
	kinds = [4]failureKind{
		{fast * (1 - h.overloaded), fastMS, ServerError},
		{fast * h.overloaded, fastMS, Overloaded},
		{hang, hangMS, Timeout},
		{h.throttle, fastMS, RateLimited},
	}
	return served, mid, slowMS, kinds
}

// reaction is what the option does with a failed attempt: retry it on the
// same target, move to the next, or give up (the client may then retry the
// whole request).
type reaction uint8

const (
	giveUp reaction = iota
	retryHere
	moveOn
)

func (pol *policy) react(class ErrorClass, canRetry, last bool) reaction {
	if class == Timeout && !pol.ownTimeout {
		return giveUp // the client's timeout ended the request, not the gateway
	}
	switch {
	case canRetry && pol.retryOn.Has(class):
		return retryHere
	case !last && pol.failoverOn.Has(class):
		return moveOn
	}
	return giveUp
}

// attemptsPerArrival is how many attempts a request arriving at a hop
// makes there while it is open (each retried failure brings one more, up
// to the retries), and the share of attempts that fail, from the hop's
// outcome shares: what a cooldown counts.
func (pol *policy) attemptsPerArrival(kinds *[4]failureKind, last bool) (perArrival, failing float64) {
	retried := 0.0
	for _, k := range kinds {
		failing += k.share
		if pol.react(k.class, true, last) == retryHere {
			retried += k.share
		}
	}
	perArrival = 1.0
	for n, x := 0, 1.0; n < pol.retries; n++ {
		x *= retried
		perArrival += x
	}
	return perArrival, failing
}

// skipShare is the share of requests arriving at hop h that its cooldown
// sends past it. A target cools down after AfterFails failures within
// WindowSeconds and stays out for Seconds. Failures reach it at μ a second
// (arrivals × attempts per arrival × failure share, or, where only a
// request's first failure counts, arrivals × the share with at least one
// failed attempt); while it is open it
// trips at μ·P(N ≥ AfterFails−1), N the other failures in the window
// (Poisson), and it then stays out for Seconds: the share of time out, and
// so of requests skipped, is τC/(1+τC). A gateway that routes on provider
// health stops sending to a provider most of whose requests fail.
func (pol *policy) skipShare(h hop, arriving, attemptsPerArrival, failing float64) float64 {
	c := pol.cooldown
	switch {
	case c == nil:
		return 0
	case c.Kind == CooldownProviderHealth:
		if h.fail+h.throttle >= significantOutage {
			return 1
		}
		return 0
	}
	mu := h.rate * arriving * attemptsPerArrival * failing
	if c.FirstFailureOnly {
		// Only a request's first failure on the target counts, however
		// many of its attempts fail there.
		mu = h.rate * arriving * (1 - math.Pow(1-failing, math.Max(attemptsPerArrival, 1)))
	}
	if mu <= 0 || c.Seconds <= 0 {
		return 0
	}
	tau := mu
	if c.AfterFails > 1 {
		tau *= 1 - poissonCDF(c.AfterFails-2, mu*c.WindowSeconds)
	}
	return tau * c.Seconds / (1 + tau*c.Seconds)
}

// poissonCDF is P(N ≤ k) for N Poisson with mean lambda, summed term by
// term: k is a cooldown's allowed failures, a handful, and the hot loops
// of throttling ask for it at every step, where the incomplete gamma
// function that answers any k costs ten times as much.
func poissonCDF(k int, lambda float64) float64 {
	if k < 0 {
		return 0
	}
	if k > 100 || lambda > 500 {
		// Where the terms could overflow, the library's general form.
		return distuv.Poisson{Lambda: math.Max(lambda, 1e-300)}.CDF(float64(k))
	}
	term, sum := 1.0, 1.0
	for j := 1; j <= k; j++ {
		term *= lambda / float64(j)
		sum += term
	}
	return math.Min(sum*math.Exp(-lambda), 1)
}

// evaluatePlan works out one option on one route and origin while failure
// shares are constant, in closed form: each pass through the gateway walks
// the targets in order with its retries, failover and cooldown rules (a
// gateway whose own platform fails a share gate of requests answers them
// with a fast 5xx, and its exact-match cache answers hit of the rest at
// once); the client then retries what its rule retries, each pass failing
// with the one before at retryCorrelation and otherwise independently (a
// rate limit's 429s always independently). Requests with the same waiting time are
// merged, so the work is about targets × attempts², whatever the traffic.
// The returned slices live in sc and are valid until its next use.
func evaluatePlan(pol *policy, sc *attemptScratch, hops []hop, hit, gate float64) outcome {
	out, retryShare, limited := gatewayPass(pol, sc, hops, hit, gate)
	fresh, all := 1.0, 1.0
	if pol.clientRetries > 0 && retryShare > 0 {
		// Retries of what a rate limit refused are independent; the
		// rest fail with the pass before at ρ.
		fresh, all = sc.clientRetries(pol, retryShare, pol.rho*(1-limited/retryShare))
	} else {
		for _, c := range sc.again {
			sc.waits = sc.waitsAt.add(sc.waits, c.ms, c.share)
		}
	}
	// Passes that fail with the one before make attempts but serve and
	// spend nothing: success and spend scale with the fresh passes, load
	// with all of them.
	out.success *= fresh
	out.cost *= fresh
	out.fallback *= fresh
	for j := range sc.costs {
		sc.costs[j] *= fresh
		sc.loads[j] *= all
	}
	out.waits, out.costs, out.loads = sc.waits, sc.costs, sc.loads
	return out
}

// gatewayPass is one pass through the option. Its waits (sc.waits) hold
// the requests the pass ends for good, served or failed; sc.again holds
// those the client may retry, with their share retryShare, of which
// limited gave up on a rate limit.
func gatewayPass(pol *policy, sc *attemptScratch, hops []hop, hit, gate float64) (outcome, float64, float64) {
	var out outcome
	limited := 0.0
	fastMS, hangMS := int64(fastErrorSeconds*1000), int64(pol.timeout*1000)
	sc.waits, sc.again = sc.waits[:0], sc.again[:0]
	sc.waitsAt.reset()
	sc.againAt.reset()
	sc.costs = append(sc.costs[:0], make([]float64, len(hops))...)
	sc.loads = append(sc.loads[:0], make([]float64, len(hops))...)
	// A down gateway answers a fast 5xx, which the client may retry.
	through := 1 - gate
	giveUpAs := func(class ErrorClass, ms int64, share float64) {
		if pol.clientRetryOn.Has(class) {
			sc.again = sc.againAt.add(sc.again, ms, share)
			if class == RateLimited {
				limited += share
			}
		} else {
			sc.waits = sc.waitsAt.add(sc.waits, ms, share)
		}
	}
	giveUpAs(ServerError, fastMS, gate)
	// The cache answers at once, at no token cost.
	out.success = through * hit
	sc.waits = sc.waitsAt.add(sc.waits, 0, through*hit)
	sc.moving = append(sc.moving[:0], cohort{ms: 0, share: through * (1 - hit), bucket: 0})
	if through*(1-hit) <= 0 {
		sc.moving = sc.moving[:0]
	}
	for i, h := range hops {
		if len(sc.moving) == 0 {
			break
		}
		last := i == len(hops)-1
		sc.here, sc.moving = sc.moving, sc.here[:0]
		sc.movingAt.reset()
		served, mid, slowMS, kinds := attemptShares(pol, h, fastMS, hangMS)
		if pol.cooldown != nil {
			arriving := 0.0
			for _, c := range sc.here {
				arriving += c.share
			}
			perArrival, failing := pol.attemptsPerArrival(&kinds, last)
			if q := pol.skipShare(h, arriving, perArrival, failing); q > 0 && !(last && pol.cooldown.Kind == CooldownProviderHealth) {
				for k := range sc.here {
					skipped := sc.here[k].share * q
					if last {
						// Nothing left to try: the gateway answers that no
						// target is available, as a rate limit.
						giveUpAs(RateLimited, sc.here[k].ms, skipped)
					} else {
						sc.moving = sc.movingAt.add(sc.moving, sc.here[k].ms, skipped)
					}
					sc.here[k].share -= skipped
				}
			}
		}
		for n := 0; n <= pol.retries && len(sc.here) > 0; n++ {
			sc.retry = sc.retry[:0]
			sc.retryAt.reset()
			canRetry := n < pol.retries
			backoff := int64(backoffAt(pol.backoff, n) * 1000)
			sv, fs := 1.0, 1.0
			if n > 0 {
				sv, fs = correlated(pol.rho, served, 1-h.throttle)
			}
			for _, c := range sc.here {
				if c.share <= 0 {
					continue
				}
				sc.loads[i] += c.share
				ok := c.share * served * sv
				out.success += ok
				if i > 0 {
					out.fallback += ok
				}
				spent := ok*h.cost + c.share*mid*fs*h.cost*midStreamBilled
				out.cost += spent
				sc.costs[i] += spent
				sc.waits = sc.waitsAt.add(sc.waits, c.ms+slowMS, ok)
				sc.waits = sc.waitsAt.add(sc.waits, c.ms, c.share*mid*fs)
				for _, k := range kinds {
					f := c.share * k.share
					if k.class != RateLimited {
						f *= fs
					}
					if f <= 0 {
						continue
					}
					w := c.ms + k.wait
					switch pol.react(k.class, canRetry, last) {
					case retryHere:
						sc.retry = sc.retryAt.add(sc.retry, w+backoff, f)
					case moveOn:
						sc.moving = sc.movingAt.add(sc.moving, w, f)
					default:
						giveUpAs(k.class, w, f)
					}
				}
			}
			sc.here, sc.retry = sc.retry, sc.here
		}
	}
	// Requests still moving when the targets ran out give up with the
	// last failure, which is fast.
	for _, c := range sc.moving {
		giveUpAs(ServerError, c.ms, c.share)
	}
	sc.moving = sc.moving[:0]
	retryShare := 0.0
	for _, c := range sc.again {
		retryShare += c.share
	}
	return out, retryShare, min(limited, retryShare)
}

// clientRetries applies the client's retries to one pass's outcome, which
// the scratch holds: each retried request waits its failure and the
// backoff, then meets the same pass again. It leaves every request's
// final waiting in sc.waits and returns the expected passes per request,
// which scale success, cost and load. Waits of the retried requests are
// merged by latency bucket (±1.2 %) so the work stays small.
func (sc *attemptScratch) clientRetries(pol *policy, retryShare, rho float64) (fresh, all float64) {
	sc.terminal = bucketed(sc.terminal[:0], sc.waits, &sc.byBucket)
	sc.repeat = representatives(bucketed(sc.repeat[:0], sc.again, &sc.byBucket))
	sc.start = append(sc.start[:0], sc.repeat...)
	// A retried request fails with the pass before it (rho), else meets a
	// fresh pass, which fails again at retryShare.
	fresh, all = 1, 1
	starting := retryShare
	for k := 1; k <= pol.clientRetries; k++ {
		all += starting
		fresh += starting * (1 - rho)
		starting *= rho + (1-rho)*retryShare
		shift := int64(backoffAt(pol.clientBackoff, k-1) * 1000)
		sc.next = sc.next[:0]
		for _, s := range sc.start {
			newPass, sticky := s.share*(1-rho), s.share*rho/retryShare
			for _, t := range sc.terminal {
				sc.waits = sc.waitsAt.add(sc.waits, s.ms+shift+t.ms, newPass*t.share)
			}
			for _, r := range sc.repeat {
				share := (newPass + sticky) * r.share
				if k < pol.clientRetries {
					sc.next = append(sc.next, cohort{ms: s.ms + shift + r.ms, share: share})
				} else {
					sc.waits = sc.waitsAt.add(sc.waits, s.ms+shift+r.ms, share)
				}
			}
		}
		sc.start = representatives(bucketed(sc.start[:0], sc.next, &sc.byBucket))
	}
	// The first pass's retried requests are not final: their waits moved
	// into the later passes above.
	return fresh, all
}

// maxRetried is how many waiting times the requests a client retries are
// kept at: at most four (each the mean of a quarter of them by share), so
// the client's retries cost a few passes' work, not the square of a pass.
// Up to four the waits are exact, as for direct calls (fast errors,
// timeouts and rate limits).
const maxRetried = 4

// representatives merges a list of cohorts into at most maxRetried, in
// order of waiting time, each at the share-weighted mean wait of its
// group; shares add up as before.
func representatives(cs []cohort) []cohort {
	if len(cs) <= maxRetried {
		return cs
	}
	slices.SortFunc(cs, func(a, b cohort) int { return cmp.Compare(a.ms, b.ms) })
	total := 0.0
	for _, c := range cs {
		total += c.share
	}
	var out [maxRetried]cohort
	n, acc, weighted := 0, 0.0, 0.0
	for i, c := range cs {
		out[n].share += c.share
		weighted += c.share * float64(c.ms)
		acc += c.share
		if (acc >= total*float64(n+1)/maxRetried && n < maxRetried-1) || i == len(cs)-1 {
			out[n].ms = int64(math.Round(weighted / out[n].share))
			out[n].bucket = latencyBucket(out[n].ms)
			n, weighted = n+1, 0
		}
	}
	return append(cs[:0], out[:n]...)
}

// bucketed merges cohorts that fall in the same latency bucket, keeping
// the first waiting time seen as the bucket's, in the order they appear.
func bucketed(out, cs []cohort, at *[]int32) []cohort {
	if len(*at) < latencyBuckets {
		*at = make([]int32, latencyBuckets)
	}
	idx := *at
	for _, c := range cs {
		if c.share <= 0 {
			continue
		}
		b := latencyBucket(c.ms)
		if k := idx[b]; k > 0 {
			out[k-1].share += c.share
			continue
		}
		out = append(out, cohort{ms: c.ms, share: c.share, bucket: b})
		idx[b] = int32(len(out))
	}
	for _, c := range out {
		idx[c.bucket] = 0
	}
	return out
}

// planLoads is evaluatePlan reduced to what a rate limit sees: the
// expected attempts per request on each hop. Waiting does not matter here,
// so each hop's requests are one share instead of cohorts; the rules are
// the same.
func planLoads(pol *policy, hops []hop, hit, gate float64, loads []float64) {
	fastMS, hangMS := int64(fastErrorSeconds*1000), int64(pol.timeout*1000)
	moving := (1 - gate) * (1 - hit)
	again, limited := gate, 0.0
	if !pol.clientRetryOn.Has(ServerError) {
		again = 0
	}
	for i, h := range hops {
		loads[i] = 0
		last := i == len(hops)-1
		here := moving
		moving = 0
		served, _, _, kinds := attemptShares(pol, h, fastMS, hangMS)
		if pol.cooldown != nil && here > 0 {
			perArrival, failing := pol.attemptsPerArrival(&kinds, last)
			if q := pol.skipShare(h, here, perArrival, failing); q > 0 && !(last && pol.cooldown.Kind == CooldownProviderHealth) {
				if last {
					if pol.clientRetryOn.Has(RateLimited) {
						again += here * q
						limited += here * q
					}
				} else {
					moving += here * q
				}
				here *= 1 - q
			}
		}
		for n := 0; n <= pol.retries && here > 0; n++ {
			loads[i] += here
			retry, fs := 0.0, 1.0
			if n > 0 {
				_, fs = correlated(pol.rho, served, 1-h.throttle)
			}
			for _, k := range kinds {
				f := here * k.share
				if k.class != RateLimited {
					f *= fs
				}
				switch pol.react(k.class, n < pol.retries, last) {
				case retryHere:
					retry += f
				case moveOn:
					moving += f
				default:
					if pol.clientRetryOn.Has(k.class) {
						again += f
						if k.class == RateLimited {
							limited += f
						}
					}
				}
			}
			here = retry
		}
	}
	if pol.clientRetryOn.Has(ServerError) {
		again += moving
	}
	rho := 0.0
	if again > 0 {
		rho = pol.rho * (1 - min(limited, again)/again)
	}
	passes, starting := 1.0, again
	for range pol.clientRetries {
		passes += starting
		starting *= rho + (1-rho)*again
	}
	for i := range hops {
		loads[i] *= passes
	}
}
