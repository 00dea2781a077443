package simulator

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultBehavioursLoad(t *testing.T) {
	t.Parallel()
	bs, err := DefaultBehaviours()
	if err != nil {
		t.Fatal(err)
	}
	if bs.AsOf != "2026-12-01" {
		t.Errorf("as_of = %q", bs.AsOf)
	}
	if len(bs.ByID) != len(GatewayIDs()) {
		t.Errorf("%d gateways, want %d", len(bs.ByID), len(GatewayIDs()))
	}
	// Facts the research states outright (gateways.md §7.1, §5, §4, §6)
	// and the settings gatewise ships.
	direct := bs.ByID["direct"]
	if direct.InPath || !reflect.DeepEqual(direct.Paths, Paths{}) || direct.ClientRetries != 2 || direct.Retries != 0 || direct.FailoverOn != 0 {
		t.Errorf("direct = %+v", direct)
	}
	for id, b := range bs.ByID {
		if b.ClientRetries != 2 {
			t.Errorf("%s: the app's SDK keeps its two retries around every option, not %d", id, b.ClientRetries)
		}
	}
	kong := bs.ByID["kong"]
	if !kong.FailoverOn.Has(RateLimited) || !kong.FailoverOn.Has(ServerError) || !kong.FailoverOn.Has(Timeout) || kong.FailoverOn.Has(Overloaded) {
		t.Errorf("kong ships failover on 429, 5xx and timeouts, and its schema has no 529: %b", kong.FailoverOn)
	}
	if kong.Retries != 0 || kong.MaxTargets != 6 || kong.TimeoutSeconds != 60 || kong.Cooldown != (Cooldown{Kind: CooldownTarget, AfterFails: 3, WindowSeconds: 10, Seconds: 10}) {
		t.Errorf("kong = %+v", kong)
	}
	portkey := bs.ByID["portkey"]
	if portkey.Retries != 3 || portkey.TimeoutSeconds != 30 || !portkey.FailoverOn.Has(Timeout) || !portkey.FailoverOn.Has(Overloaded) || portkey.Cooldown.Kind != "" || portkey.MaxTargets != 0 {
		t.Errorf("portkey = %+v", portkey)
	}
	litellm := bs.ByID["litellm"]
	if litellm.Cooldown != (Cooldown{Kind: CooldownTarget, AfterFails: 2, WindowSeconds: 30, Seconds: 30, FirstFailureOnly: true}) || litellm.Retries != 2 || litellm.MaxTargets != 6 {
		t.Errorf("litellm = %+v", litellm)
	}
	for _, id := range []string{"openrouter", "helicone", "cloudflare"} {
		if d := bs.ByID[id].DependsOn; len(d) != 1 || d[0] != "cloudflare" {
			t.Errorf("%s depends on %v, want cloudflare", id, d)
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
		{"unknown condition", "retry_on: [429, 5xx, connection]", "retry_on: [429, 599x]", `unknown condition "599x"`},
		{"missing source", "      cache: \"portkey.ai/docs/product/ai-gateway/cache-simple-and-semantic (2026 copy): simple cache on all plans\"\n", "", "no source for cache"},
		{"bad cache", "    cache: none\n    depends_on: []\n    unmodelled: []\n    sources:\n      paths: \"openai-python and anthropic-sdk-python", "    cache: lru\n    depends_on: []\n    unmodelled: []\n    sources:\n      paths: \"openai-python and anthropic-sdk-python", "cache must be"},
		{"duplicate", "  - id: kong\n", "  - id: litellm\n", "listed twice"},
		{"negative retries", "    retries: 3\n", "    retries: -1\n", "retries must be"},
		{"bad cooldown", "cooldown: {kind: target, after_fails: 3", "cooldown: {kind: target, after_fails: 0", "a target cooldown needs"},
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
