package simulator

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// internalCitation matches what a reader of the memo or the run page cannot
// open: a section sign, the research folder, a bare note file name
// (gateways.md, outages.md; a public page ending in .md keeps its path, as
// in results/full/SCORECARD.md) or the notes' shorthand for their sources.
var internalCitation = regexp.MustCompile(`§|shared/research|(?:^|[^\w./-])[\w-]+\.md\b|\b(?:AAG|APIEV(?:-[\w-]+)?|FOB|LGB)\b`)

func TestInternalCitationPatternSimulator(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"outages.md §11.4: AWS", "gateways.md §4 FOB: gaps", "(gateways.md §7.2)", "pingoru; via outages.md"} {
		if !internalCitation.MatchString(s) {
			t.Errorf("%q is not caught", s)
		}
	}
	for _, s := range []string{"github.com/failoverbench/failoverbench results/full/SCORECARD.md (run 2026-09-12)", "docs.litellm.ai/docs/proxy/caching.md (2026-10-06)", "request-handling.mdx"} {
		if internalCitation.MatchString(s) {
			t.Errorf("%q is a public source but is caught", s)
		}
	}
}

// Every source, note and unmodelled remark the simulator's defaults hand
// out (behaviours, observability facts, incident models of providers,
// gateways and the cloud layer) names a public source.
func TestDefaultsCitePublicSources(t *testing.T) {
	t.Parallel()
	behaviours, err := DefaultBehaviours()
	if err != nil {
		t.Fatal(err)
	}
	obs, err := DefaultObservability()
	if err != nil {
		t.Fatal(err)
	}
	check := func(path, s string) {
		if internalCitation.MatchString(s) {
			t.Errorf("%s cites an internal file: %q", path, s)
		}
	}
	n := 0
	count := func(path, s string) { n++; check(path, s) }
	walkStrings(reflect.ValueOf(behaviours), "behaviours", count)
	walkStrings(reflect.ValueOf(obs), "observability", count)
	walkStrings(reflect.ValueOf(DefaultProviderIncidents()), "provider incidents", count)
	walkStrings(reflect.ValueOf(DefaultGatewayIncidents()), "gateway incidents", count)
	walkStrings(reflect.ValueOf(DefaultCommonMode()), "common mode", count)
	if n < 100 {
		t.Errorf("walked %d strings; the defaults were not reached", n)
	}
}

// The data files too, comments aside: "no" entries of the observability
// file are not handed out but are still the reviewer's sources.
func TestDataFilesCitePublicSourcesSimulator(t *testing.T) {
	t.Parallel()
	for name, data := range map[string][]byte{"gateway_behaviour.yaml": gatewayBehaviourYAML, "observability.yaml": observabilityYAML} {
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
