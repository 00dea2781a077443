package simulator

import (
	"bytes"
	"strings"
	"testing"
)

func TestDefaultBehavioursLoad(t *testing.T) {
	t.Parallel()
	bs, err := DefaultBehaviours()
	if err != nil {
		t.Fatal(err)
	}
	if bs.AsOf != "2026-11-25" {
		t.Errorf("as_of = %q", bs.AsOf)
	}
	if len(bs.ByID) != len(GatewayIDs()) {
		t.Errorf("%d gateways, want %d", len(bs.ByID), len(GatewayIDs()))
	}
	// Facts the research states outright (gateways.md §7.1, §5, §4, §6).
	direct := bs.ByID["direct"]
	if direct.InPath || direct.Paths != (Paths{}) || direct.Retries != 2 || direct.TimeoutSeconds != 600 ||
		!direct.RetryOn.Has(RateLimited) || !direct.RetryOn.Has(ServerError) || direct.FailoverOn != 0 {
		t.Errorf("direct = %+v", direct)
	}
	kong := bs.ByID["kong"]
	if kong.FailoverOn.Has(RateLimited) || kong.FailoverOn.Has(ServerError) || !kong.FailoverOn.Has(Timeout) || !kong.FailoverOn.Has(Connection) {
		t.Errorf("kong fails over on %b, want only timeouts and connection errors", kong.FailoverOn)
	}
	if kong.Retries != 5 || kong.TimeoutSeconds != 60 || kong.Cooldown != (Cooldown{AfterFails: 3, Seconds: 10}) {
		t.Errorf("kong = %+v", kong)
	}
	litellm := bs.ByID["litellm"]
	if !litellm.Cooldown.SingleDeploymentNever || litellm.Cooldown.Seconds != 5 || litellm.Retries != 2 {
		t.Errorf("litellm cooldown = %+v", litellm.Cooldown)
	}
	for _, id := range []string{"openrouter", "helicone", "cloudflare"} {
		if d := bs.ByID[id].DependsOn; len(d) != 1 || d[0] != "cloudflare" {
			t.Errorf("%s depends on %v, want cloudflare", id, d)
		}
	}
	for id, b := range bs.ByID {
		if b.RescuesMidStream {
			t.Errorf("%s rescues mid-stream failures; no evidence says any gateway does (gateways.md §8.2)", id)
		}
	}
}

func TestBackoffRepeatsLastWait(t *testing.T) {
	t.Parallel()
	b := Behaviour{BackoffSeconds: []float64{0.5, 1}}
	for n, want := range []float64{0.5, 1, 1, 1} {
		if got := b.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
	if (Behaviour{}).Backoff(3) != 0 {
		t.Error("no waits must mean no wait")
	}
}

func TestBehaviourFileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, from, to, want string }{
		{"unknown key", "    in_path: true\n", "    in_path: true\n    retries_max: 3\n", "field retries_max not found"},
		{"unknown trigger", "retry_on: [429, 500, 502, 503, 504]", "retry_on: [429, 599x]", `unknown trigger "599x"`},
		{"missing source", "      cache: \"gateways.md §2: simple cache on all plans\"\n", "", "no source for cache"},
		{"bad cache", "    cache: none\n    depends_on: []\n    rescues_mid_stream: false\n    sources:\n      paths: \"gateways.md §9 Direct", "    cache: lru\n    depends_on: []\n    rescues_mid_stream: false\n    sources:\n      paths: \"gateways.md §9 Direct", "cache must be"},
		{"duplicate", "  - id: kong\n", "  - id: litellm\n", "listed twice"},
		{"negative retries", "    retries: 5\n", "    retries: -1\n", "retries must be"},
	}
	for _, c := range cases {
		if !bytes.Contains(gatewayBehaviourYAML, []byte(c.from)) {
			t.Fatalf("%s: the data file no longer contains %q", c.name, c.from)
		}
		data := bytes.Replace(gatewayBehaviourYAML, []byte(c.from), []byte(c.to), 1)
		_, err := parseBehaviours(data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
