package main

import (
	"io"
	"net/netip"
	"testing"
)

// --trusted-proxies (or GATEWISE_TRUSTED_PROXIES) names the proxies whose
// X-Forwarded-For is believed; none by default. A bad entry stops serve
// with exit status 2, naming the flag or the variable and the entry.
func TestServeTrustedProxies(t *testing.T) {
	t.Parallel()
	s, msg, err := readServe(t, nil)
	if err != nil || s.cfg.TrustedProxies != nil {
		t.Fatalf("by default: %v (%v %s), want no proxy trusted", s.cfg.TrustedProxies, err, msg)
	}
	s, msg, err = readServe(t, map[string]string{"GATEWISE_TRUSTED_PROXIES": "192.0.2.9"}, "--trusted-proxies", "10.0.0.0/8,fd00::/8")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	if err != nil || len(s.cfg.TrustedProxies) != 2 || s.cfg.TrustedProxies[0] != want[0] || s.cfg.TrustedProxies[1] != want[1] {
		t.Errorf("the flag over the variable: %v (%v %s), want %v", s.cfg.TrustedProxies, err, msg, want)
	}
	s, _, _ = readServe(t, map[string]string{"GATEWISE_TRUSTED_PROXIES": "192.0.2.9"})
	if len(s.cfg.TrustedProxies) != 1 || s.cfg.TrustedProxies[0] != netip.MustParsePrefix("192.0.2.9/32") {
		t.Errorf("the variable: %v, want 192.0.2.9/32", s.cfg.TrustedProxies)
	}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--trusted-proxies", "10.0.0.0/33"}, `gatewise: -trusted-proxies: "10.0.0.0/33" is not a CIDR such as 10.0.0.0/8 or fd00::/8, nor an address` + "\n"},
		{map[string]string{"GATEWISE_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, nil, `gatewise: GATEWISE_TRUSTED_PROXIES: "proxy.internal" is not a CIDR such as 10.0.0.0/8 or fd00::/8, nor an address` + "\n"},
		{nil, []string{"--trusted-proxies", "10.1.2.3/8"}, `gatewise: -trusted-proxies: "10.1.2.3/8" has bits set past its /8; did you mean 10.0.0.0/8?` + "\n"},
	} {
		_, msg, err := readServe(t, c.env, c.args...)
		if err == nil || msg != c.want || exitCode(err, io.Discard) != 2 {
			t.Errorf("env %v, args %v: %q; want exit 2 with %q", c.env, c.args, msg, c.want)
		}
	}
}
