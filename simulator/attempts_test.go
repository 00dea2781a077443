package simulator

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
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

// Direct calls with the SDK's two retries on a path whose failures are all
// fast background errors: a request fails only if all three attempts fail.
func TestAttemptsRetriesOnOnePath(t *testing.T) {
	t.Parallel()
	b := Behaviour{Retries: 2, RetryOn: ErrorClasses(ServerError | Timeout), BackoffSeconds: []float64{0.5, 1}}
	o := attempts(b, new(attemptScratch), []hop{{fail: 0.1, background: 0.1, cost: 2}})
	// success = 1 − 0.1³ = 0.999; cost = 0.999 × 2
	if !scalar.EqualWithinAbs(o.success, 0.999, 1e-12) || !scalar.EqualWithinAbs(o.cost, 1.998, 1e-12) {
		t.Errorf("success %v cost %v", o.success, o.cost)
	}
	// Waits: first try 0.9 at 0; second 0.09 after 0.5 s error + 0.5 s
	// backoff = 1000 ms; third 0.009 after 1000 + 500 + 1000 = 2500 ms;
	// failures 0.001 after 2500 + 500 = 3000 ms.
	want := []cohort{{ms: 0, share: 0.9}, {ms: 1000, share: 0.09}, {ms: 2500, share: 0.009}, {ms: 3000, share: 0.001}}
	if len(o.waits) != len(want) {
		t.Fatalf("waits = %v", o.waits)
	}
	for i, w := range want {
		if o.waits[i].ms != w.ms || !scalar.EqualWithinAbs(o.waits[i].share, w.share, 1e-12) {
			t.Errorf("waits[%d] = %v, want %v", i, o.waits[i], w)
		}
	}
}

// A dead primary and a healthy fallback, with failover on every class and
// no retries: everything moves except mid-stream breaks, which no gateway
// rescues.
func TestAttemptsFailover(t *testing.T) {
	t.Parallel()
	b := Behaviour{FailoverOn: ErrorClasses(ServerError | Timeout | Connection), TimeoutSeconds: 30}
	o := attempts(b, new(attemptScratch), []hop{{fail: 1, cost: 1}, {fail: 0, cost: 3}})
	// success = 1 − midStreamShare = 0.95, all on the fallback at 3 USD;
	// the 0.05 that broke mid-stream are billed half of 1 USD.
	if !scalar.EqualWithinAbs(o.success, 0.95, 1e-12) {
		t.Errorf("success = %v", o.success)
	}
	if want := 0.95*3 + 0.05*0.5*1; !scalar.EqualWithinAbs(o.cost, want, 1e-12) {
		t.Errorf("cost = %v, want %v", o.cost, want)
	}
	// Fast failures (0.85) wait 0.5 s, hangs (0.1) the 30 s timeout.
	if w := waitsAt(o); !scalar.EqualWithinAbs(w[500], 0.85, 1e-12) || !scalar.EqualWithinAbs(w[30000], 0.1, 1e-12) {
		t.Errorf("waits = %v", o.waits)
	}

	// Kong by default fails over only on timeouts: fast 5xx errors reach
	// the app.
	kong := Behaviour{FailoverOn: ErrorClasses(Timeout | Connection), TimeoutSeconds: 60}
	o = attempts(kong, new(attemptScratch), []hop{{fail: 1, cost: 1}, {fail: 0, cost: 1}})
	if !scalar.EqualWithinAbs(o.success, 0.1, 1e-12) {
		t.Errorf("kong success = %v, want the hang share 0.1", o.success)
	}
}

// A primary that refuses every request (a named outage) and a healthy
// fallback: nothing breaks mid-stream, since no stream starts, so
// everything moves; the 0.95 that would have been fast or broken fail fast
// and the hang share waits for the timeout. LiteLLM's retries on the dead
// path (a group of one deployment is never cooled down) cost time, not
// requests.
func TestAttemptsRefusedRequestsMove(t *testing.T) {
	t.Parallel()
	b := Behaviour{FailoverOn: ErrorClasses(ServerError | Timeout | Connection), TimeoutSeconds: 30}
	o := attempts(b, new(attemptScratch), []hop{{fail: 1, down: 1, cost: 1}, {fail: 0, cost: 3}})
	if !scalar.EqualWithinAbs(o.success, 1, 1e-12) || !scalar.EqualWithinAbs(o.cost, 3, 1e-12) {
		t.Errorf("success = %v, cost = %v; want 1 and 3 (nothing billed on the refusing path)", o.success, o.cost)
	}
	if w := waitsAt(o); !scalar.EqualWithinAbs(w[500], 0.9, 1e-12) || !scalar.EqualWithinAbs(w[30000], 0.1, 1e-12) {
		t.Errorf("waits = %v, want 0.9 after a 0.5 s error and 0.1 after the 30 s timeout", o.waits)
	}
	litellm := Behaviour{Retries: 2, RetryOn: ErrorClasses(ServerError | Timeout), BackoffSeconds: []float64{0.9, 1.5},
		FailoverOn: ErrorClasses(ServerError | Timeout | Connection), TimeoutSeconds: 600}
	if o := attempts(litellm, new(attemptScratch), []hop{{fail: 1, down: 1}, {fail: 0}}); !scalar.EqualWithinAbs(o.success, 1, 1e-12) {
		t.Errorf("litellm retrying a refusing path: success %v, want 1", o.success)
	}
	// Half the failures refused, half from an incident that lets streams
	// start: only the second half can break mid-stream.
	o = attempts(b, new(attemptScratch), []hop{{fail: 0.5, down: 0.25, cost: 1}, {fail: 0, cost: 1}})
	if want := 1 - 0.25*midStreamShare; !scalar.EqualWithinAbs(o.success, want, 1e-12) {
		t.Errorf("half refused: success %v, want %v", o.success, want)
	}
}

// With two independent paths and perfect failover, a request fails only
// when both fail (mid-stream aside).
func TestAttemptsTwoPathsMultiply(t *testing.T) {
	t.Parallel()
	b := Behaviour{FailoverOn: ErrorClasses(ServerError | Timeout)}
	o := attempts(b, new(attemptScratch), []hop{{fail: 0.2, background: 0.2}, {fail: 0.3, background: 0.3}})
	if !scalar.EqualWithinAbs(o.success, 1-0.2*0.3, 1e-12) {
		t.Errorf("success = %v, want %v", o.success, 1-0.2*0.3)
	}
}

// An open breaker sends most requests straight to the fallback, so they do
// not wait for the dead primary's timeout.
func TestAttemptsCooldownSkipsDeadPath(t *testing.T) {
	t.Parallel()
	b := Behaviour{FailoverOn: ErrorClasses(ServerError | Timeout), TimeoutSeconds: 30}
	with := attempts(b, new(attemptScratch), []hop{{fail: 1, skippable: true}, {fail: 0}})
	without := attempts(b, new(attemptScratch), []hop{{fail: 1}, {fail: 0}})
	if w := waitsAt(with); w[0] != 1 {
		t.Errorf("skipped: waits %v", with.waits)
	}
	if w := waitsAt(without); !scalar.EqualWithinAbs(w[30000], 0.1, 1e-12) {
		t.Errorf("not skipped, hangs wait the timeout: %v", without.waits)
	}
	if with.success != 1 {
		t.Errorf("with the breaker open every request reaches the healthy path: %v", with.success)
	}
}

func TestAttemptsAccountsForEveryRequest(t *testing.T) {
	t.Parallel()
	bs, err := DefaultBehaviours()
	if err != nil {
		t.Fatal(err)
	}
	hops := []hop{{fail: 0.7, background: 0.01, cost: 1, skippable: true}, {fail: 0.3, background: 0.002, cost: 2}, {fail: 0.05, background: 0.05, cost: 0.5}}
	for id, b := range bs.ByID {
		o := attempts(b, new(attemptScratch), hops)
		if s := sumWaits(o); math.Abs(s-1) > 1e-12 {
			t.Errorf("%s: waits add up to %v, want 1", id, s)
		}
		if o.success < 0 || o.success > 1 {
			t.Errorf("%s: success %v", id, o.success)
		}
	}
	if o := attempts(bs.ByID["direct"], new(attemptScratch), nil); o.success != 0 || sumWaits(o) != 1 {
		t.Errorf("no path: %+v", o)
	}
}

func BenchmarkAttempts(b *testing.B) {
	bs, err := DefaultBehaviours()
	if err != nil {
		b.Fatal(err)
	}
	hops := []hop{{fail: 0.7, background: 0.01, cost: 1, skippable: true}, {fail: 0.3, background: 0.002, cost: 2}, {fail: 0.05, background: 0.05, cost: 0.5}, {fail: 0.01, cost: 1}}
	lit := bs.ByID["litellm"]
	sc := new(attemptScratch)
	for b.Loop() {
		attempts(lit, sc, hops)
	}
}

// The load-only version agrees with the full attempt model on every
// gateway's rules.
func TestAttemptLoadsMatchAttempts(t *testing.T) {
	t.Parallel()
	bs, err := DefaultBehaviours()
	if err != nil {
		t.Fatal(err)
	}
	hops := []hop{{fail: 0.7, background: 0.01, skippable: true, throttle: 0.3}, {fail: 0.3, background: 0.002, slow: 4}, {fail: 0.05, background: 0.05, throttle: 0.6}}
	for id, b := range bs.ByID {
		full := attempts(b, new(attemptScratch), hops)
		loads := make([]float64, len(hops))
		attemptLoads(b, hops, loads)
		for j := range hops {
			if math.Abs(loads[j]-full.loads[j]) > 1e-12 {
				t.Errorf("%s hop %d: load %v, attempts says %v", id, j, loads[j], full.loads[j])
			}
		}
	}
}
