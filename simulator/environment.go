package simulator

import (
	"math/rand/v2"
	"slices"

	"gatewise/pricing"
)

// sourceKind says what an incident hits.
type sourceKind uint8

const (
	srcProvider sourceKind = iota // every region of a provider (or one model there)
	srcRegion                     // one region of a regional provider
	srcGateway                    // a gateway's own platform
	srcCommon                     // a cloud or CDN platform (common mode)
	srcScenario                   // a named scenario's injected incident
)

// source is one stream of incidents in a trial's environment.
type source struct {
	kind     sourceKind
	provider string
	region   string
	gateway  string
	model    IncidentModel
	models   []string // the architecture's models at this provider, for model-scoped incidents
	scale    float64  // multiplies error rates (self-hosted replicas); 1 otherwise
}

// event is one incident with what it hits resolved.
type event struct {
	src      int // index into the sources, -1 for a scenario's own incident
	inc      Incident
	model    string // "" for every model
	scope    int    // 0 for every model, k+1 for the source's models[k]
	platform string // common mode: cloudflare, aws, gcp, azure
	// Scenario incidents name their target directly.
	provider, region string
	allGateways      bool
	// slow is a latency multiplier on the paths hit (latency degradation);
	// such an event fails nothing by itself.
	slow float64
	// down marks an outage that refuses requests outright (a named
	// provider or region outage): its failures come before the first
	// token, so none of them breaks mid-stream.
	down bool
	// hit indexes the model's hit sets: the run-wide paths and the
	// options the event hits, resolved once so the evaluation only reads
	// them.
	hit int32
}

// commonPlatforms is how 2025's six hyperscaler and CDN events split
// (outages.md §11.4: Cloudflare Jun 12, Nov 18, Dec 5; GCP Jun 12; AWS Oct
// 20; Azure Oct 29), as cumulative shares for a uniform pick.
var commonPlatforms = []struct {
	name  string
	upTo  float64
	hitsP []string // providers whose API the platform carries
}{
	{"cloudflare", 3.0 / 6, nil},
	{"gcp", 4.0 / 6, []string{"google-vertex", "google-gemini"}},
	{"aws", 5.0 / 6, []string{"aws-bedrock"}},
	{"azure", 1, []string{"azure-openai"}},
}

func platformFor(pick float64) int {
	for i, p := range commonPlatforms {
		if pick < p.upTo {
			return i
		}
	}
	return len(commonPlatforms) - 1
}

// environmentSources lists the incident streams of an architecture: each of
// its providers (regional providers split into a provider-wide stream and
// one per region), each compared gateway's platform, and the common-mode
// layer. The order is fixed, so a seed always draws the same environment.
func environmentSources(s Spec, m IncidentModels, cat *pricing.Catalog) []source {
	var out []source
	for _, p := range s.Providers {
		pm, ok := m.Providers[p.ID]
		if !ok {
			continue
		}
		// A model-scoped incident hits one of the models this provider
		// serves the architecture.
		var models []string
		for _, r := range s.Routes {
			for _, id := range r.Models {
				if md, ok := cat.Model(id); ok && slices.Contains(md.Hosts, p.ID) && !slices.Contains(models, id) {
					models = append(models, id)
				}
			}
		}
		slices.Sort(models)
		wide := pm
		if pm.RegionalShare > 0 {
			wide.PerMonth = pm.PerMonth * (1 - pm.RegionalShare)
		}
		out = append(out, source{kind: srcProvider, provider: p.ID, model: wide, models: models, scale: 1})
		if pm.RegionalShare > 0 {
			regional := pm
			regional.PerMonth = pm.PerMonth * pm.RegionalShare
			for _, r := range p.Regions {
				if r == globalRegion {
					continue
				}
				out = append(out, source{kind: srcRegion, provider: p.ID, region: r, model: regional, models: models, scale: 1})
			}
		}
	}
	for _, g := range s.Gateways {
		gm, ok := m.Gateways[g]
		if !ok {
			continue
		}
		scale := 1.0
		if selfHosted(g) && replicas(s, g) > 1 {
			// With several replicas a bad deploy or config still takes all
			// of them down about half the time; a lost instance is absorbed
			// (ESTIMATE).
			scale = 0.5
		}
		out = append(out, source{kind: srcGateway, gateway: g, model: gm, scale: scale})
	}
	out = append(out, source{kind: srcCommon, model: m.CommonMode, scale: 1})
	return out
}

// replicas is how many instances of a self-hosted gateway run: the
// architecture's setting, or two (the smallest highly available setup, as
// the price catalog sizes it).
func replicas(s Spec, g string) int {
	if st, ok := s.GatewaySettings[g]; ok && st.Replicas != nil {
		return *st.Replicas
	}
	return 2
}

// sampleEnvironment draws one trial's incidents from every source,
// appending them to out[:0]; incs is scratch space for one source's draws.
func sampleEnvironment(r *rand.Rand, sources []source, horizon float64, out []event, incs *[]Incident) []event {
	out = out[:0]
	for i, src := range sources {
		*incs = src.model.sampleInto((*incs)[:0], r, horizon)
		for _, inc := range *incs {
			e := event{src: i, inc: inc}
			if src.scale != 1 {
				e.inc.PeakErrorRate *= src.scale
				e.inc.TailErrorRate *= src.scale
			}
			switch src.kind {
			case srcProvider, srcRegion:
				if inc.ModelScoped && len(src.models) > 0 {
					k := min(int(inc.Pick*float64(len(src.models))), len(src.models)-1)
					e.model, e.scope = src.models[k], k+1
				}
			case srcCommon:
				e.platform = commonPlatforms[platformFor(inc.Pick)].name
			}
			out = append(out, e)
		}
	}
	return out
}

// rate is the share of requests an event fails at time t (within it).
func (e event) rate(t float64) float64 {
	if t < e.inc.PeakEnd {
		return e.inc.PeakErrorRate
	}
	return e.inc.TailErrorRate
}

// hitsPath reports whether the event fails requests on path p.
func (e event) hitsPath(sources []source, p Path) bool {
	if e.src < 0 {
		if e.allGateways {
			return false // a gateway outage leaves the providers alone
		}
		if e.provider != "" && e.provider != p.Provider {
			return false
		}
		return e.region == "" || e.region == p.Region
	}
	src := sources[e.src]
	switch src.kind {
	case srcProvider:
		return src.provider == p.Provider && (e.model == "" || e.model == p.Model)
	case srcRegion:
		return src.provider == p.Provider && src.region == p.Region && (e.model == "" || e.model == p.Model)
	case srcCommon:
		for _, pl := range commonPlatforms {
			if pl.name == e.platform {
				if !slices.Contains(pl.hitsP, p.Provider) {
					return false
				}
				// An AWS event is a us-east-1 event (outages.md §11.4:
				// 38 % of AWS entries, and the 2025-10-20 event).
				return p.Provider != "aws-bedrock" || p.Region == "us-east-1"
			}
		}
	}
	return false
}

// hitsGateway reports whether the event takes down gateway g's platform.
func (e event) hitsGateway(sources []source, b Behaviour) bool {
	if !b.InPath {
		return false // nothing of the gateway's own can fail a request
	}
	if e.src < 0 {
		// A region outage takes down a gateway hosted in that region.
		hosted := e.region != "" && e.region == b.HostingRegion && e.provider == ""
		return e.allGateways && b.InPath || hosted
	}
	src := sources[e.src]
	switch src.kind {
	case srcGateway:
		return src.gateway == b.ID
	case srcCommon:
		if slices.Contains(b.DependsOn, e.platform) {
			return true
		}
		// AWS events are us-east-1 events, as for Bedrock's paths.
		return b.HostingPlatform == e.platform && (e.platform != "aws" || b.HostingRegion == "us-east-1")
	}
	return false
}
