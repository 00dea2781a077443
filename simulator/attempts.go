package simulator

import (
	"math"
	"math/bits"

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
	// clientTimeoutSeconds applies when a gateway has no timeout of its own:
	// the official SDKs wait 600 s (gateways.md §7.1).
	clientTimeoutSeconds = 600
	// midStreamBilled is the share of a request's cost billed when it breaks
	// mid-stream: the prompt and part of the output (ESTIMATE: half).
	midStreamBilled = 0.5
	// breakerOpenAbove is the failure share above which a path with a
	// cooldown rule is out of rotation most of the time (ESTIMATE: a breaker
	// that trips after a few failures stays open while most requests fail).
	breakerOpenAbove = 0.5
)

// hop is one reachable path as the attempt model sees it.
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
	// skippable marks a path a cooldown rule can take out of rotation.
	skippable bool
	// throttle is the share of attempts refused with 429 because the
	// account's rate limit is reached, on top of fail.
	throttle float64
	// slow multiplies the path's response time (latency degradation); 0 or
	// 1 for normal. Slow answers that exceed the timeout count as hangs.
	slow float64
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
// gateway while failure rates are constant.
type outcome struct {
	success float64 // share of requests that succeed
	cost    float64 // expected USD per request (served, or partly billed)
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

// addCohort merges into a short list; the lists stay at a few dozen
// entries, where a linear scan beats a map and keeps a fixed order.
func addCohort(cs []cohort, ms int64, share float64) []cohort {
	if share <= 0 {
		return cs
	}
	for i := range cs {
		if cs[i].ms == ms {
			cs[i].share += share
			return cs
		}
	}
	return append(cs, cohort{ms: ms, share: share})
}

// attemptScratch holds the buffers attempts reuses, one per worker.
type attemptScratch struct {
	here, retry, moving, waits []cohort
	costs, loads               []float64
	// waitsAt finds a cohort of waits by its waiting time: with several
	// retries over six paths the list reaches hundreds of cohorts, too
	// many to scan for every addition.
	waitsAt cohortIndex
}

// cohortIndex is an open-addressing table from waiting time to 1 + the
// cohort's place in a list, 0 for a free slot. It only finds cohorts: the
// list keeps its order, so sums come out as a scan would give them.
type cohortIndex struct {
	slots []int32 // a power of two long
	shift uint    // 64 - log2(len(slots))
}

func (x *cohortIndex) reset() { clear(x.slots) }

// add is addCohort through the index; cs must be the list x indexes.
func (x *cohortIndex) add(cs []cohort, ms int64, share float64) []cohort {
	if share <= 0 {
		return cs
	}
	if 2*(len(cs)+1) > len(x.slots) {
		x.grow(cs)
	}
	mask := len(x.slots) - 1
	for h := int(uint64(ms) * 0x9e3779b97f4a7c15 >> x.shift); ; h = (h + 1) & mask {
		switch at := x.slots[h]; {
		case at == 0:
			x.slots[h] = int32(len(cs) + 1)
			return append(cs, cohort{ms: ms, share: share})
		case cs[at-1].ms == ms:
			cs[at-1].share += share
			return cs
		}
	}
}

// grow doubles the table (to 64 slots at least) and indexes cs again.
func (x *cohortIndex) grow(cs []cohort) {
	n := max(64, 2*len(x.slots))
	x.slots, x.shift = make([]int32, n), uint(64-bits.TrailingZeros(uint(n)))
	mask := n - 1
	for i, c := range cs {
		h := int(uint64(c.ms) * 0x9e3779b97f4a7c15 >> x.shift)
		for x.slots[h] != 0 {
			h = (h + 1) & mask
		}
		x.slots[h] = int32(i + 1)
	}
}

// attempts evaluates the retry and failover rules of b over hops in closed
// form. Each attempt on a path fails independently with the path's failure
// share. A failure is fast (a 5xx after fastErrorSeconds), a hang (the
// timeout), or a mid-stream break (final, partly billed). A fast failure or
// a hang is retried on the same path while retries last and the gateway
// retries that class, then moves to the next path if the gateway fails over
// on it; otherwise the request fails. Requests with the same waiting time
// are merged, so the work is about paths × attempts², whatever the traffic.
// The returned waits live in sc and are valid until its next use.
func attempts(b Behaviour, sc *attemptScratch, hops []hop) outcome {
	var out outcome
	timeout := b.TimeoutSeconds
	if timeout <= 0 {
		timeout = clientTimeoutSeconds
	}
	fastMS, hangMS := int64(fastErrorSeconds*1000), int64(timeout*1000)
	sc.waits = sc.waits[:0]
	sc.waitsAt.reset()
	sc.costs = append(sc.costs[:0], make([]float64, len(hops))...)
	sc.loads = append(sc.loads[:0], make([]float64, len(hops))...)
	sc.moving = append(sc.moving[:0], cohort{ms: 0, share: 1})
	for i, h := range hops {
		last := i == len(hops)-1
		sc.here, sc.moving = sc.moving, sc.here[:0]
		if h.skippable && h.fail >= breakerOpenAbove && !last {
			// The breaker is open for about the share of time the path
			// fails; those requests go straight to the next path.
			for k := range sc.here {
				sc.moving = addCohort(sc.moving, sc.here[k].ms, sc.here[k].share*h.fail)
				sc.here[k].share *= 1 - h.fail
			}
		}
		// An attempt is throttled (429) first; one that gets through fails
		// as the path's health says.
		open := 1 - h.throttle
		incident := max(h.fail-h.background, 0)
		tooSlow, slowMS := slowTimeouts(h.slow, timeout)
		fast := open * (h.background + incident*(1-hangShare-midStreamShare))
		hang := open * (incident*hangShare + (1-h.fail)*tooSlow)
		mid := open * incident * midStreamShare
		if h.down > 0 {
			// Only failures from incidents that let streams start can
			// break mid-stream; a refused request fails fast instead.
			streaming := max(incident-h.down, 0)
			fast = open * (h.background + incident*(1-hangShare) - streaming*midStreamShare)
			mid = open * streaming * midStreamShare
		}
		served := open * (1 - h.fail) * (1 - tooSlow)
		// Each way an attempt can fail: its share, how long it takes, and
		// whether the gateway retries it or fails over on it.
		failures := [3]struct {
			share       float64
			wait        int64
			retry, move bool
		}{
			{fast, fastMS, b.RetryOn.Has(ServerError), !last && b.FailoverOn.Has(ServerError)},
			{hang, hangMS, b.RetryOn.Has(Timeout), !last && b.FailoverOn.Has(Timeout)},
			{h.throttle, fastMS, b.RetryOn.Has(RateLimited), !last && b.FailoverOn.Has(RateLimited)},
		}
		for n := 0; n <= b.Retries && len(sc.here) > 0; n++ {
			sc.retry = sc.retry[:0]
			canRetry := n < b.Retries
			backoff := int64(b.Backoff(n) * 1000)
			for _, c := range sc.here {
				sc.loads[i] += c.share
				ok := c.share * served
				out.success += ok
				spent := ok*h.cost + c.share*mid*h.cost*midStreamBilled
				out.cost += spent
				sc.costs[i] += spent
				sc.waits = sc.waitsAt.add(sc.waits, c.ms+slowMS, ok)
				sc.waits = sc.waitsAt.add(sc.waits, c.ms, c.share*mid)
				for _, fl := range failures {
					f := c.share * fl.share
					if f <= 0 {
						continue
					}
					w := c.ms + fl.wait
					switch {
					case canRetry && fl.retry:
						sc.retry = addCohort(sc.retry, w+backoff, f)
					case fl.move:
						sc.moving = addCohort(sc.moving, w, f)
					default:
						sc.waits = sc.waitsAt.add(sc.waits, w, f)
					}
				}
			}
			sc.here, sc.retry = sc.retry, sc.here
		}
		if len(sc.moving) == 0 {
			break
		}
	}
	// Requests still moving when the paths ran out have failed.
	for _, c := range sc.moving {
		sc.waits = sc.waitsAt.add(sc.waits, c.ms, c.share)
	}
	sc.moving = sc.moving[:0]
	out.waits = sc.waits
	out.costs = sc.costs
	out.loads = sc.loads
	return out
}

// attemptLoads is attempts reduced to what a rate limit sees: the expected
// attempts per request on each hop. Waiting does not matter here, so each
// hop's requests are one share instead of cohorts; the rules are the same.
func attemptLoads(b Behaviour, hops []hop, loads []float64) {
	timeout := b.TimeoutSeconds
	if timeout <= 0 {
		timeout = clientTimeoutSeconds
	}
	moving := 1.0
	for i, h := range hops {
		loads[i] = 0
		last := i == len(hops)-1
		here := moving
		moving = 0
		if h.skippable && h.fail >= breakerOpenAbove && !last {
			moving += here * h.fail
			here *= 1 - h.fail
		}
		open := 1 - h.throttle
		incident := max(h.fail-h.background, 0)
		tooSlow, _ := slowTimeouts(h.slow, timeout)
		fast := open * (h.background + incident*(1-hangShare-midStreamShare))
		hang := open * (incident*hangShare + (1-h.fail)*tooSlow)
		if h.down > 0 { // as in attempts
			fast = open * (h.background + incident*(1-hangShare) - max(incident-h.down, 0)*midStreamShare)
		}
		failures := [3]struct {
			share       float64
			retry, move bool
		}{
			{fast, b.RetryOn.Has(ServerError), !last && b.FailoverOn.Has(ServerError)},
			{hang, b.RetryOn.Has(Timeout), !last && b.FailoverOn.Has(Timeout)},
			{h.throttle, b.RetryOn.Has(RateLimited), !last && b.FailoverOn.Has(RateLimited)},
		}
		for n := 0; n <= b.Retries && here > 0; n++ {
			loads[i] += here
			retry := 0.0
			for _, fl := range failures {
				f := here * fl.share
				switch {
				case n < b.Retries && fl.retry:
					retry += f
				case fl.move:
					moving += f
				}
			}
			here = retry
		}
	}
}
