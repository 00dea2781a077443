package server

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// signInGuard slows down guessing at passwords and at the API token
// without handing anyone a way to lock a user out. Wrong passwords used to
// count per name, so five of them from anywhere locked alice out from
// everywhere, her right password included. Now:
//
//   - failures count per name and address: five a minute, then that
//     address waits before trying that name again;
//   - failures count per address over all names, so one address cannot
//     spray passwords across the users file;
//   - failures count per name over all addresses, and from the fifth on
//     the name backs off (a minute, doubling with each further failure, an
//     hour at most). The backoff holds back only the addresses that failed
//     for the name: a right password from anywhere else still signs in, so
//     an attacker slows himself and no one else.
//
// The API token counts as the name "api".
type signInGuard struct {
	now func() time.Time

	mu    sync.Mutex
	pairs map[string]*drain // name and address
	addrs map[string]*drain // address, all names
	names map[string]*backoff
	swept time.Time
}

// Limits of the guard.
const (
	// pairFailures a minute per name and address.
	pairFailures = 5
	// addrFailures at once per address over all names, draining at
	// pairFailures a minute: a colleague behind the same address mistyping
	// does not lock the others out at once.
	addrFailures = 10
	// backoffAfter failures of a name over all addresses start its backoff,
	// which lasts backoffFirst and doubles with each further failure up to
	// backoffMost.
	backoffAfter = 5
	backoffFirst = time.Minute
	backoffMost  = time.Hour
	// guardForget is how long a quiet name or address is remembered.
	guardForget = time.Hour
)

// drain counts failures that leak away at a steady rate.
type drain struct {
	level float64
	at    time.Time
}

// settle leaks what has drained since the last look, at perMinute.
func (d *drain) settle(now time.Time, perMinute float64) {
	d.level = max(0, d.level-now.Sub(d.at).Minutes()*perMinute)
	d.at = now
}

// wait is how long until one more failure fits under burst.
func (d *drain) wait(burst, perMinute float64) time.Duration {
	over := d.level - burst + 1
	if over <= 0 {
		return 0
	}
	return time.Duration(over / perMinute * float64(time.Minute))
}

// backoff is one name's failures over every address.
type backoff struct {
	failures int
	until    time.Time
	last     time.Time
	// failed holds each address that failed for the name, with when it
	// last did; only these wait out the backoff.
	failed map[string]time.Time
}

func newSignInGuard() *signInGuard {
	return &signInGuard{now: time.Now, pairs: map[string]*drain{}, addrs: map[string]*drain{}, names: map[string]*backoff{}}
}

// guardName is the name as the guard counts it: case does not make a
// new name to guess at.
func guardName(name string) string { return strings.ToLower(name) }

// guardAddr groups an IPv6 address by its /64, which one host usually
// holds whole, so hopping within it does not reset the count.
func guardAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// wait says how long the address must wait before trying name again, 0
// when it may try now. It spends nothing: only failures count.
func (g *signInGuard) wait(name, addr string) time.Duration {
	name, addr = guardName(name), guardAddr(addr)
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	var w time.Duration
	if d := g.addrs[addr]; d != nil {
		d.settle(now, pairFailures)
		w = max(w, d.wait(addrFailures, pairFailures))
	}
	if d := g.pairs[name+"\x00"+addr]; d != nil {
		d.settle(now, pairFailures)
		w = max(w, d.wait(pairFailures, pairFailures))
	}
	if b := g.names[name]; b != nil && now.Before(b.until) {
		if _, ok := b.failed[addr]; ok {
			w = max(w, b.until.Sub(now))
		}
	}
	return w
}

// failed counts a wrong password (or token) for name from addr.
func (g *signInGuard) failed(name, addr string) {
	name, addr = guardName(name), guardAddr(addr)
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range []*drain{g.drainOf(g.addrs, addr, now), g.drainOf(g.pairs, name+"\x00"+addr, now)} {
		d.settle(now, pairFailures)
		d.level++
	}
	b := g.names[name]
	if b == nil {
		b = &backoff{failed: map[string]time.Time{}}
		g.names[name] = b
	}
	b.failures++
	b.last = now
	b.failed[addr] = now
	if n := b.failures - backoffAfter; n >= 0 {
		d := backoffMost
		if n < 6 { // 1 min << 6 is past the hour
			d = min(backoffFirst<<n, backoffMost)
		}
		b.until = now.Add(d)
	}
}

// succeeded forgets addr's failures for name. The name's backoff ends
// only when no other address is failing for it, so a user signing in
// does not reset an attacker's wait.
func (g *signInGuard) succeeded(name, addr string) {
	name, addr = guardName(name), guardAddr(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pairs, name+"\x00"+addr)
	if b := g.names[name]; b != nil {
		delete(b.failed, addr)
		if len(b.failed) == 0 {
			delete(g.names, name)
		}
	}
}

func (g *signInGuard) drainOf(m map[string]*drain, key string, now time.Time) *drain {
	d := m[key]
	if d == nil {
		d = &drain{at: now}
		m[key] = d
	}
	return d
}

// sweep drops counts that have drained and names quiet for guardForget,
// so the maps stay as small as the set of recent failures. Called with
// g.mu held.
func (g *signInGuard) sweep(now time.Time) {
	if now.Sub(g.swept) < guardForget/6 {
		return
	}
	g.swept = now
	for _, m := range []map[string]*drain{g.pairs, g.addrs} {
		for k, d := range m {
			if d.settle(now, pairFailures); d.level == 0 {
				delete(m, k)
			}
		}
	}
	for k, b := range g.names {
		if now.Sub(b.last) > guardForget && now.After(b.until) {
			delete(g.names, k)
			continue
		}
		for a, at := range b.failed {
			if now.Sub(at) > guardForget && now.After(b.until) {
				delete(b.failed, a)
			}
		}
	}
}
