package simulator

import (
	"os"
	"testing"

	"gatewise/pricing"
)

func loadExampleSpec(t *testing.T, name string) Spec {
	t.Helper()
	data, err := os.ReadFile("../testdata/examples/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Load(data, pricing.Default())
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

type place struct{ model, provider, region string }

func places(ps []Path) []place {
	out := make([]place, len(ps))
	for i, p := range ps {
		out[i] = place{p.Model, p.Provider, p.Region}
	}
	return out
}

func TestRoutePathsRespectResidencyAndOrder(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	spec := loadExampleSpec(t, "multi-region")

	// EU-origin chat traffic must stay in the EU ({eu: eu}): Anthropic's
	// global endpoint is out; Bedrock eu-central-1, Vertex europe-west4,
	// OpenAI's eu region remain, in the route's model order.
	eu := spec.RoutePaths(cat, 0, "eu")
	if len(eu) == 0 {
		t.Fatal("no EU paths for chat")
	}
	for _, p := range eu {
		if p.Jurisdiction != "eu" {
			t.Errorf("EU-origin path %v leaves the EU", place{p.Model, p.Provider, p.Region})
		}
	}
	if got := places(eu)[0]; got != (place{"claude-sonnet-4.5", "aws-bedrock", "eu-central-1"}) {
		t.Errorf("first EU path = %v", got)
	}
	for i := 1; i < len(eu); i++ {
		if eu[i].ModelRank < eu[i-1].ModelRank {
			t.Errorf("paths out of preference order: %v", places(eu))
		}
	}

	// US-origin traffic has no residency rule: the US regions come first,
	// Anthropic's global endpoint is usable, and EU regions follow as
	// further options for the same model.
	us := places(spec.RoutePaths(cat, 0, "us"))
	want := []place{
		{"claude-sonnet-4.5", "anthropic", "global"},
		{"claude-sonnet-4.5", "aws-bedrock", "us-east-1"},
		{"claude-sonnet-4.5", "aws-bedrock", "eu-central-1"},
	}
	for i, w := range want {
		if i >= len(us) || us[i] != w {
			t.Fatalf("US paths start %v, want %v", us[:min(len(us), len(want))], want)
		}
	}

	// Every path resolves to its own rate.
	rates := cat.RateTable()
	for _, p := range spec.RoutePaths(cat, 1, "ap") {
		if pr := rates.Price(p.Rate); pr.Model != p.Model || pr.Provider != p.Provider || pr.Region != p.Region {
			t.Errorf("path %v has the rate of %s/%s/%s", place{p.Model, p.Provider, p.Region}, pr.Model, pr.Provider, pr.Region)
		}
	}
}

func TestReachableFollowsGatewayBehaviour(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	bs, err := DefaultBehaviours()
	if err != nil {
		t.Fatal(err)
	}
	spec := loadExampleSpec(t, "multi-region")
	paths := spec.RoutePaths(cat, 0, "us")

	if got := bs.ByID["direct"].Reachable(paths); len(got) != 1 || got[0] != paths[0] {
		t.Errorf("direct reaches %v, want only the first path", places(got))
	}
	// LiteLLM may take every path: other hosts, other regions, fallback models.
	if got := bs.ByID["litellm"].Reachable(paths); len(got) != len(paths) {
		t.Errorf("litellm reaches %d of %d paths", len(got), len(paths))
	}
	// Helicone does not route to other regions of the same provider.
	for _, p := range bs.ByID["helicone"].Reachable(paths) {
		if p.Provider == paths[0].Provider && p.Region != paths[0].Region {
			t.Errorf("helicone reaches %v", place{p.Model, p.Provider, p.Region})
		}
	}
	if bs.ByID["kong"].Reachable(nil) != nil {
		t.Error("no paths in, no paths out")
	}
}

func TestRoutePathsEURegulated(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	spec := loadExampleSpec(t, "eu-regulated")
	for r := range spec.Routes {
		ps := spec.RoutePaths(cat, r, "eu")
		if len(ps) == 0 {
			t.Errorf("route %s has no EU path", spec.Routes[r].Name)
		}
		for _, p := range ps {
			if p.Jurisdiction != "eu" {
				t.Errorf("route %s: %v is outside the EU", spec.Routes[r].Name, place{p.Model, p.Provider, p.Region})
			}
		}
	}
	if spec.RoutePaths(cat, 9, "eu") != nil {
		t.Error("a route out of range has no paths")
	}
}
