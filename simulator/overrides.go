package simulator

import (
	"gatewise/pricing"
	"maps"
	"math"
	"slices"
	"strings"
)

// apply returns m with the override's fields in place of the calibrated ones.
func (o IncidentOverride) apply(m IncidentModel) IncidentModel {
	if o.IncidentsPerMonth != nil {
		m.PerMonth = *o.IncidentsPerMonth
	}
	if o.DurationMedianHours != nil {
		m.DurationMu = math.Log(*o.DurationMedianHours)
	}
	if o.DurationSigma != nil {
		m.DurationSigma = *o.DurationSigma
	}
	if o.IncidentErrorRate != nil {
		rate := *o.IncidentErrorRate
		m.FixedErrorRate = &rate
	}
	if o.ModelScopedShare != nil {
		m.ModelScopedShare = *o.ModelScopedShare
	}
	if o.BackgroundErrorRate != nil {
		m.BackgroundErrorRate = *o.BackgroundErrorRate
	}
	switch o.Arrival {
	case "weibull":
		m.Arrival = Weibull
		if m.WeibullShape == 0 {
			m.WeibullShape = weibullShape
		}
	case "poisson":
		m.Arrival = Poisson
	}
	if m.Source != "" && o != (IncidentOverride{}) {
		m.Source += "; overridden in the architecture file"
	}
	return m
}

// IncidentModels is the spec's outage model: the calibrated defaults with
// the architecture file's overrides applied.
type IncidentModels struct {
	Providers  map[string]IncidentModel
	Gateways   map[string]IncidentModel
	CommonMode []CommonPlatform
}

// IncidentModels resolves the outage model for this architecture.
func (s Spec) IncidentModels() IncidentModels {
	out := IncidentModels{
		Providers:  DefaultProviderIncidents(),
		Gateways:   DefaultGatewayIncidents(),
		CommonMode: DefaultCommonMode(),
	}
	m := s.OutageModel
	if m == nil {
		return out
	}
	for id, o := range m.Providers {
		if base, ok := out.Providers[id]; ok {
			out.Providers[id] = o.apply(base)
		}
	}
	for id, o := range m.Gateways {
		if base, ok := out.Gateways[id]; ok {
			out.Gateways[id] = o.apply(base)
		}
	}
	if m.CommonMode != nil && m.CommonMode.EventsPerYear != nil {
		// The override scales every platform alike, keeping their split.
		for i := range out.CommonMode {
			pm := &out.CommonMode[i].Model
			pm.PerMonth *= *m.CommonMode.EventsPerYear / commonEventsPerYear
			pm.Source += "; overridden in the architecture file"
		}
	}
	return out
}

// selfHosted are the options whose replicas the team runs.
func selfHosted(id string) bool { return id == "litellm" || id == "kong" }

// overrides checks the outage model and gateway settings against what the
// architecture uses, and the resolved incident models for consistency.
func (v *validation) overrides(s Spec) {
	listed := v.listedProviders(s)
	if m := s.OutageModel; m != nil {
		resolved := s.IncidentModels()
		for _, id := range slices.Sorted(maps.Keys(m.Providers)) {
			path := "outage_model.providers." + id
			if !listed[id] {
				v.add(path, "%q is not one of your providers%s", id, hint(v.cat, slices.Sorted(maps.Keys(listed)), id))
				continue
			}
			if err := resolved.Providers[id].Validate(); err != nil && !v.reported(path) {
				v.add(path, "%v", err)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(m.Gateways)) {
			path := "outage_model.gateways." + id
			if id == "direct" {
				v.add(path, "direct calls have no gateway of their own to fail; override the providers instead")
				continue
			}
			if !slices.Contains(GatewayIDs(), id) {
				v.add(path, "unknown gateway %q%s", id, hint(v.cat, GatewayIDs(), id))
				continue
			}
			if err := resolved.Gateways[id].Validate(); err != nil && !v.reported(path) {
				v.add(path, "%v", err)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.GatewaySettings)) {
		path := "gateway_settings." + id
		if !slices.Contains(GatewayIDs(), id) {
			v.add(path, "unknown gateway %q%s", id, hint(v.cat, GatewayIDs(), id))
			continue
		}
		st := s.GatewaySettings[id]
		for _, k := range []struct {
			set  bool
			name string
			ok   bool
			why  string
		}{
			{st.NumRetries != nil, "num_retries", id != "openrouter" && id != "kong", map[string]string{
				"openrouter": "openrouter exposes no retry count: it moves along the models and providers instead",
				"kong":       "kong's balancer retries move to the next target, one try each, which its plan already does"}[id]},
			{st.TimeoutSeconds != nil, "timeout_seconds", id != "openrouter" && id != "helicone", id + " documents no timeout of its own to set; the client's applies"},
			{st.AllowedFails != nil, "allowed_fails", id == "litellm" || id == "kong", "only litellm (allowed_fails) and kong (max_fails) cool a failing target down by a count"},
			{st.CooldownSeconds != nil, "cooldown_seconds", id == "litellm" || id == "kong", "only litellm (cooldown_time) and kong (fail_timeout) cool a failing target down for a time"},
		} {
			if k.set && !k.ok {
				v.add(path+"."+k.name, "%s", k.why)
			}
		}
		if id == "portkey" && st.NumRetries != nil && *st.NumRetries > 5 {
			v.add(path+".num_retries", "Portkey allows at most 5 retry attempts")
		}
		if id == "cloudflare" && st.NumRetries != nil && *st.NumRetries > 4 {
			v.add(path+".num_retries", "Cloudflare allows at most 5 attempts a step, 4 retries")
		}
		if s.GatewaySettings[id].Replicas != nil && !selfHosted(id) {
			v.add(path+".replicas", "only self-hosted gateways (litellm, kong) have replicas you run")
		}
		if s.GatewaySettings[id].AsyncLogging != nil && id != "helicone" {
			v.add(path+".async_logging", "only helicone logs asynchronously outside the request path")
		}
		if s.GatewaySettings[id].CacheHitRate != nil {
			// The behaviour file says which options cache (its cache knob).
			if bs, err := DefaultBehaviours(); err == nil && bs.ByID[id].Cache == "none" {
				v.add(path+".cache_hit_rate", "%s has no exact-match cache by default", id)
			}
		}
		if r := s.GatewaySettings[id].HostingRegion; r != "" {
			if !selfHosted(id) {
				v.add(path+".hosting_region", "only self-hosted gateways (litellm, kong) run in a region of yours")
			} else if _, ok := cloudOfRegion(v.cat, r); !ok {
				v.add(path+".hosting_region", "%q is not an AWS, GCP or Azure region the catalog knows (for example us-east-1, europe-west4, swedencentral)", r)
			}
		}
	}
}

// reported says whether a problem was already found at or below path, so a
// cross-check does not repeat what a field rule said.
func (v *validation) reported(path string) bool {
	for _, p := range v.problems {
		if p.Path == path || strings.HasPrefix(p.Path, path+".") {
			return true
		}
	}
	return false
}

// cloudOfRegion names the cloud platform a region id belongs to, from the
// catalog's regions of the cloud providers.
func cloudOfRegion(cat *pricing.Catalog, region string) (string, bool) {
	for _, pp := range [][2]string{{"aws-bedrock", "aws"}, {"google-vertex", "gcp"}, {"azure-openai", "azure"}} {
		provider, platform := pp[0], pp[1]
		if p, ok := cat.Provider(provider); ok {
			for _, r := range p.Regions {
				if r.ID == region && r.ID != globalRegion && r.Jurisdiction != globalRegion {
					return platform, true
				}
			}
		}
	}
	return "", false
}
