package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewise/pricing"
	"gatewise/server/store"
)

// forwarded is a handler whose requests arrive from peer with the
// X-Forwarded-For header xff, as a proxy sends them.
func forwarded(h http.Handler, peer, xff string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		h.ServeHTTP(w, r)
	})
}

// The attack: behind a proxy every client shares the proxy's address, so
// one client's rate limit is everyone's. With the proxy trusted, each
// client counts by the address the proxy forwards; a peer that is not
// trusted counts by its own address whatever header it sends.
func TestTrustedProxyNamesTheClient(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatewise.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	proxies, err := ParseTrustedProxies("10.0.0.0/8, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Version: "test", RunsPerMinute: 1, TrustedProxies: proxies}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	id := create(t, h, loadExample(t, "single-provider"))
	run := func(h http.Handler) int {
		return do(t, h, "POST", "/architectures/"+id+"/runs", strings.NewReader("trials=10"), formHeader).Code
	}
	alice := forwarded(h, "10.1.2.3:5000", "198.51.100.7")
	bob := forwarded(h, "10.1.2.3:5001", "203.0.113.9")
	if got := run(alice); got != http.StatusSeeOther {
		t.Fatalf("alice's first run: %d", got)
	}
	if got := run(alice); got != http.StatusTooManyRequests {
		t.Errorf("alice's second run within the minute: %d, want 429", got)
	}
	if got := run(bob); got != http.StatusSeeOther {
		t.Errorf("bob, behind the same proxy, got %d: alice's limit was his", got)
	}
	// A client's own X-Forwarded-For entry, to the left of what the proxy
	// appended, is not believed.
	if got := run(forwarded(h, "10.1.2.3:5002", "203.0.113.50, 198.51.100.7")); got != http.StatusTooManyRequests {
		t.Errorf("alice naming herself 203.0.113.50 got %d, want 429", got)
	}
	// Over IPv6, and through two trusted hops.
	if got := run(forwarded(h, "[fd00::1]:443", "192.0.2.77, 10.9.9.9")); got != http.StatusSeeOther {
		t.Errorf("a client through two trusted hops: %d", got)
	}
	// A peer not in the list is the client, whatever it forwards.
	stranger := func(xff string) http.Handler { return forwarded(h, "192.0.2.200:7000", xff) }
	if got := run(stranger("198.51.100.99")); got != http.StatusSeeOther {
		t.Fatalf("the stranger's first run: %d", got)
	}
	if got := run(stranger("198.51.100.100")); got != http.StatusTooManyRequests {
		t.Errorf("an untrusted peer got a fresh limit by sending X-Forwarded-For: %d", got)
	}
}

// The sign-in throttle counts by the forwarded address too: one client
// behind the proxy spraying guesses is held back, the others are not.
func TestTrustedProxySignInThrottle(t *testing.T) {
	t.Parallel()
	proxies, _ := ParseTrustedProxies("10.0.0.0/8")
	s, h := newAuthServer(t, func(c *Config) { c.TrustedProxies = proxies })
	clock := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	s.signins.now = clock.now // the failures must not drain while the test runs
	spray := forwarded(h, "10.1.2.3:5000", "198.51.100.7")
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10"} {
		wantStatus(t, postForm(t, spray, "/signin", url.Values{"name": {name}, "password": {"wrong"}}), http.StatusUnauthorized)
	}
	wantStatus(t, postForm(t, spray, "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}}), http.StatusTooManyRequests)
	wantStatus(t, postForm(t, forwarded(h, "10.1.2.3:5001", "203.0.113.9"), "/signin", url.Values{"name": {"alice"}, "password": {"alice-password"}}), http.StatusSeeOther)
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := ParseTrustedProxies(" 10.0.0.0/8,192.0.2.1 fd00::/8,,::1")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("::1/128")}
	if err != nil || len(got) != len(want) {
		t.Fatalf("ParseTrustedProxies = %v, %v; want %v", got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %v, want %v", i, got[i], want[i])
		}
	}
	for in, msg := range map[string]string{
		"10.0.0.0/33":  `"10.0.0.0/33" is not a CIDR such as 10.0.0.0/8 or fd00::/8, nor an address`,
		"proxy.local":  `"proxy.local" is not a CIDR`,
		"10.1.2.3/8":   `"10.1.2.3/8" has bits set past its /8; did you mean 10.0.0.0/8?`,
		"10.0.0.0/8;x": `"10.0.0.0/8;x" is not a CIDR`,
	} {
		if _, err := ParseTrustedProxies(in); err == nil || err.Error() != msg && !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("ParseTrustedProxies(%q) = %v, want %q", in, err, msg)
		}
	}
	if got, err := ParseTrustedProxies(""); err != nil || got != nil {
		t.Errorf("an empty list: %v, %v", got, err)
	}
}
