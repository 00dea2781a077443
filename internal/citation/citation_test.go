package citation

import (
	"reflect"
	"testing"
)

func TestInternal(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"shared/research/gateways.md §7.2",
		"AAG identity_matrix, via gateways.md §5",
		"github.com/BerriAI/litellm/issues/41499, via peers.md",
		"gateways.md",
		"(outages.md)",
		"outages.md §11.4: AWS",
		"gateways.md §4 FOB: gaps",
		"pingoru; via outages.md",
		"APIEV-helicone plans",
		"FOB's tuned config",
	} {
		if !Internal(s) {
			t.Errorf("%q is not caught", s)
		}
	}
	for _, s := range []string{
		"openrouter.ai/docs/faq.md (fee constants, 2026 copy)",
		"github.com/failoverbench/failoverbench results/full/SCORECARD.md (run 2026-09-12)",
		"docs.litellm.ai/docs/proxy/caching.md (2026-10-06)",
		"github.com/cloudflare/cloudflare-docs src/content/docs/ai-gateway/reference/pricing.mdx",
		"request-handling.mdx",
		"gatewise estimate, 2026-11-25",
	} {
		if Internal(s) {
			t.Errorf("%q is a public source but is caught", s)
		}
	}
}

func TestInternalLines(t *testing.T) {
	t.Parallel()
	data := []byte("# see gateways.md §1\na: {source: \"openai.com/pricing\"}\nb: {source: \"gateways.md §2\"}\n")
	if got := InternalLines(data); !reflect.DeepEqual(got, []int{3}) {
		t.Errorf("InternalLines = %v, want [3]: comments aside", got)
	}
}

func TestWalk(t *testing.T) {
	t.Parallel()
	type fact struct {
		Source string
		Notes  []string
		By     map[string]*fact
	}
	v := fact{Source: "a", Notes: []string{"b"}, By: map[string]*fact{"k": {Source: "c"}}}
	var got []string
	Walk(v, "f", func(path, s string) { got = append(got, path+"="+s) })
	if want := []string{"f.Source=a", "f.Notes[0]=b", "f.By[k].Source=c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Walk = %q, want %q", got, want)
	}
}
