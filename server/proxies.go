package server

import (
	"fmt"
	"net/netip"
	"strings"
)

// Behind a reverse proxy every connection comes from the proxy, so every
// client would share one rate limit and one sign-in throttle. The client's
// own address is then read from X-Forwarded-For, but only on connections
// from the proxies the configuration trusts (Config.TrustedProxies), walking
// the header from its right end past trusted hops: a client cannot name
// itself anyone else by sending the header. By default no proxy is trusted
// and the connection's address is the client's.

// ParseTrustedProxies reads a list of CIDRs (10.0.0.0/8, fd00::/8) or
// single addresses, separated by commas or spaces, for Config.TrustedProxies.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			if p != p.Masked() {
				return nil, fmt.Errorf("%q has bits set past its /%d; did you mean %s?", f, p.Bits(), p.Masked())
			}
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or fd00::/8, nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trustedProxies is the configuration's list as gin takes it; nil trusts
// no proxy.
func (s *Server) trustedProxies() []string {
	if len(s.cfg.TrustedProxies) == 0 {
		return nil
	}
	out := make([]string, len(s.cfg.TrustedProxies))
	for i, p := range s.cfg.TrustedProxies {
		out[i] = p.String()
	}
	return out
}
