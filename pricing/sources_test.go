package pricing

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// internalCitation matches what a reader of the memo or the catalog page
// cannot open: a section sign, the research folder, a bare note file name
// (gateways.md, outages.md; a public page ending in .md keeps its path, as
// in openrouter.ai/docs/faq.md) or the notes' shorthand for their sources.
var internalCitation = regexp.MustCompile(`§|shared/research|(?:^|[^\w./-])[\w-]+\.md\b|\b(?:AAG|APIEV(?:-[\w-]+)?|FOB|LGB)\b`)

func TestInternalCitationPattern(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"shared/research/gateways.md §7.2",
		"AAG identity_matrix, via gateways.md §5",
		"github.com/BerriAI/litellm/issues/41499, via peers.md",
		"gateways.md",
		"(outages.md)",
		"APIEV-helicone plans",
		"FOB's tuned config",
	} {
		if !internalCitation.MatchString(s) {
			t.Errorf("%q is not caught", s)
		}
	}
	for _, s := range []string{
		"openrouter.ai/docs/faq.md (fee constants, 2026 copy)",
		"github.com/failoverbench/failoverbench results/full/SCORECARD.md (run 2026-09-12)",
		"github.com/cloudflare/cloudflare-docs src/content/docs/ai-gateway/reference/pricing.mdx",
		"gatewise estimate, 2026-11-25",
	} {
		if internalCitation.MatchString(s) {
			t.Errorf("%q is a public source but is caught", s)
		}
	}
}

// Every source and note the catalog hands out names a public source.
func TestCatalogCitesPublicSources(t *testing.T) {
	t.Parallel()
	c := Default()
	walkStrings(reflect.ValueOf(c.Providers()), "providers", func(path, s string) {
		if internalCitation.MatchString(s) {
			t.Errorf("%s cites an internal file: %q", path, s)
		}
	})
	walkStrings(reflect.ValueOf(c.Models()), "models", func(path, s string) {
		if internalCitation.MatchString(s) {
			t.Errorf("%s cites an internal file: %q", path, s)
		}
	})
	walkStrings(reflect.ValueOf(c.Gateways()), "gateways", func(path, s string) {
		if internalCitation.MatchString(s) {
			t.Errorf("%s cites an internal file: %q", path, s)
		}
	})
}

// The data files too, comments aside, so a string the loader does not
// hand out yet cannot bring an internal reference back either.
func TestDataFilesCitePublicSources(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"providers.yaml", "models.yaml", "gateways.yaml"} {
		data, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if internalCitation.MatchString(line) {
				t.Errorf("%s:%d cites an internal file: %s", name, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// walkStrings calls f with every string reachable from v and its path.
func walkStrings(v reflect.Value, path string, f func(path, s string)) {
	switch v.Kind() {
	case reflect.String:
		f(path, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, f)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			walkStrings(v.Field(i), path+"."+v.Type().Field(i).Name, f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), f)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			walkStrings(iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key()), f)
		}
	}
}
