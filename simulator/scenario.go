package simulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gatewise/pricing"
)

// Params describes the scenario's parameters for people, "" when it has
// none: "anthropic, 8 h, 25 % of requests fail".
func (s Scenario) Params() string {
	var parts []string
	for _, p := range []string{s.Provider, s.Region} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if s.DurationHours > 0 {
		parts = append(parts, strconv.FormatFloat(s.DurationHours, 'g', -1, 64)+" h")
	}
	if s.Multiplier > 0 {
		parts = append(parts, "×"+strconv.FormatFloat(s.Multiplier, 'g', -1, 64))
	}
	if s.ErrorRate > 0 && s.ErrorRate < 1 { // 1, every request, is what an outage is
		parts = append(parts, strconv.FormatFloat(100*s.ErrorRate, 'g', 4, 64)+" % of requests fail")
	}
	return strings.Join(parts, ", ")
}

// ScenarioLabels names each scenario of a list as results show it: its
// name, followed by its parameters when another scenario of the list has
// the same name, so that an OpenAI outage and an Anthropic outage stay
// apart in tables, charts and the memo.
func ScenarioLabels(list []Scenario) []string {
	count := map[string]int{}
	for _, sc := range list {
		count[sc.Name]++
	}
	out := make([]string, len(list))
	for i, sc := range list {
		out[i] = sc.Name
		if p := sc.Params(); count[sc.Name] > 1 && p != "" {
			out[i] += " (" + p + ")"
		}
		// Parameters that read alike (error_rate 1 and none) still get
		// labels apart: by their place in the list.
		if slices.Contains(out[:i], out[i]) {
			out[i] += fmt.Sprintf(" [%d]", i+1)
		}
	}
	return out
}

// SelectScenarios picks scenarios for one run. A pick is a label from
// ScenarioLabels(file), or a scenario name: every scenario of the file with
// that name, with the file's parameters, or the named scenario with its
// defaults when the file has none. Picks may repeat; each scenario is run
// once, in the order first picked.
func SelectScenarios(file []Scenario, picks []string) ([]Scenario, error) {
	labels := ScenarioLabels(file)
	var out []Scenario
	add := func(sc Scenario) {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	for _, p := range picks {
		if i := slices.Index(labels, p); i >= 0 {
			add(file[i])
			continue
		}
		if !slices.Contains(ScenarioNames(), p) {
			choices := slices.Clone(labels)
			for _, n := range ScenarioNames() {
				if !slices.Contains(choices, n) {
					choices = append(choices, n)
				}
			}
			return nil, fmt.Errorf("%q is not a scenario: use one of %s", p, strings.Join(choices, ", "))
		}
		found := false
		for _, sc := range file {
			if sc.Name == p {
				add(sc)
				found = true
			}
		}
		if !found {
			add(Scenario{Name: p})
		}
	}
	return out, nil
}

// takesDown reports whether the scenario fails requests of its own, so
// that error_rate can make it partial.
func (s Scenario) takesDown() bool {
	switch s.Name {
	case "provider-outage", "region-outage", "gateway-outage":
		return true
	}
	return false
}

// multiplies reports whether the scenario multiplies something: demand in
// a rate-limit storm, latency in a degradation.
func (s Scenario) multiplies() bool {
	return s.Name == "rate-limit-storm" || s.Name == "latency-degradation"
}

// allPaths lists every path any route may take for any origin that sends
// traffic, and the share of requests each route and origin carries.
func (s Spec) allPaths(cat *pricing.Catalog) (paths [][]Path, weight []float64) {
	for r, route := range s.Routes {
		for _, o := range sortedKeys(s.Traffic.Origin) {
			if w := route.Share * s.Traffic.Origin[o]; w > 0 {
				paths = append(paths, s.RoutePaths(cat, r, o))
				weight = append(weight, w)
			}
		}
	}
	return paths, weight
}

// DefaultOutageRegion is the cloud region a region-outage without one takes
// down: us-east-1 (the region behind 38 % of AWS's events, outages.md §11.4)
// when any path or self-hosted gateway runs there, else the cloud region carrying most primary
// traffic, else the first cloud region any path uses; "" when no path runs
// in a cloud region.
func (s Spec) DefaultOutageRegion(cat *pricing.Catalog) string {
	paths, weight := s.allPaths(cat)
	byRegion := map[string]float64{}
	var first string
	for _, g := range s.Gateways {
		if s.GatewaySettings[g].HostingRegion == "us-east-1" {
			return "us-east-1"
		}
	}
	for i, ps := range paths {
		for k, p := range ps {
			if !inCloudRegion(p) {
				continue
			}
			if p.Region == "us-east-1" {
				return p.Region
			}
			if first == "" {
				first = p.Region
			}
			if k == 0 {
				byRegion[p.Region] += weight[i]
			}
		}
	}
	best := first
	for _, r := range sortedKeys(byRegion) {
		if best == first && byRegion[first] == 0 || byRegion[r] > byRegion[best] {
			best = r
		}
	}
	return best
}

// untouched says why a scenario would touch nothing in the architecture
// (and the field to point at), or "" when it touches something.
func (s Spec) untouched(cat *pricing.Catalog, sc Scenario) (field, msg string) {
	paths, _ := s.allPaths(cat)
	uses := func(match func(Path) bool) bool {
		for _, ps := range paths {
			if slices.ContainsFunc(ps, match) {
				return true
			}
		}
		return false
	}
	switch sc.Name {
	case "provider-outage", "latency-degradation":
		if sc.Provider != "" && !uses(func(p Path) bool {
			return p.Provider == sc.Provider && (sc.Region == "" || p.Region == sc.Region)
		}) {
			if sc.Region != "" {
				return ".region", fmt.Sprintf("%s %s %s: none of your routes is served there, so it would touch nothing", sc.Name, sc.Provider, sc.Region)
			}
			return ".provider", fmt.Sprintf("%s %s: none of your routes uses %s, so it would touch nothing", sc.Name, sc.Provider, sc.Provider)
		}
	case "region-outage":
		region := sc.Region
		if region == "" {
			if region = s.DefaultOutageRegion(cat); region == "" {
				return ".name", "region-outage: none of your providers runs in a cloud region (AWS, GCP or Azure), so there is no region to take down; name a provider and region"
			}
			return "", ""
		}
		hosts := false
		for _, g := range s.Gateways {
			hosts = hosts || s.GatewaySettings[g].HostingRegion == region && sc.Provider == ""
		}
		if !hosts && !uses(func(p Path) bool { return p.Region == region && (sc.Provider == "" || p.Provider == sc.Provider) }) {
			return ".region", fmt.Sprintf("region-outage %s: no provider of this architecture runs there", region)
		}
	case "gateway-outage":
		if !slices.ContainsFunc(s.Gateways, s.inPath) {
			return ".name", "gateway-outage: none of the options compared puts a gateway in the request path, so it would touch nothing"
		}
	}
	return "", ""
}

// inPath reports whether an option puts a service of its own between the
// app and its providers: every gateway but direct calls and Helicone with
// async logging.
func (s Spec) inPath(gateway string) bool {
	if gateway == "direct" {
		return false
	}
	st := s.GatewaySettings[gateway]
	return !(gateway == "helicone" && st.AsyncLogging != nil && *st.AsyncLogging)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// inCloudRegion reports whether a path runs in a region of AWS, GCP or
// Azure, which a region outage can take down.
func inCloudRegion(p Path) bool {
	switch p.Provider {
	case "aws-bedrock", "google-vertex", "azure-openai":
		return p.Region != globalRegion
	}
	return false
}

// HostingRegion is the cloud region a self-hosted gateway runs in, whose
// events take it down: gateway_settings' hosting_region, or by default the
// first cloud region the team lists in the jurisdiction most of its
// traffic comes from (where a team would run its proxy), else its first
// cloud region, else us-east-1. "" for options the team does not host.
func (s Spec) HostingRegion(cat *pricing.Catalog, gateway string) string {
	if !selfHosted(gateway) {
		return ""
	}
	if r := s.GatewaySettings[gateway].HostingRegion; r != "" {
		return r
	}
	main := ""
	for _, o := range sortedKeys(s.Traffic.Origin) {
		if main == "" || s.Traffic.Origin[o] > s.Traffic.Origin[main] {
			main = o
		}
	}
	first := ""
	for _, p := range s.Providers {
		for _, r := range p.Regions {
			// A multi-region id (Vertex's us, Azure's eu data zone) is not
			// a place to run a proxy.
			if !inCloudRegion(Path{Provider: p.ID, Region: r}) || r == "us" || r == "eu" {
				continue
			}
			if j, _ := cat.Jurisdiction(p.ID, r); j == main {
				return r
			}
			if first == "" {
				first = r
			}
		}
	}
	if first != "" {
		return first
	}
	return "us-east-1"
}
