package simulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
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
