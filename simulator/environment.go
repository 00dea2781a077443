package simulator

import (
	"fmt"
	"hash/fnv"
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
	// onlyModel is the one model a model-scoped stream's incidents hit;
	// "" for every model of the provider.
	onlyModel string
	// status is how much one of the source's incidents counts on the
	// provider's status page (a model's share of a posted incident).
	status   float64
	platform string   // common mode: cloudflare, gcp, aws, azure
	carries  []string // common mode: the provider APIs the platform carries
	scale    float64  // multiplies error rates (self-hosted replicas); 1 otherwise
	// key seeds the source's own random stream, from what it is rather
	// than where it sits in the list, so adding an option to a comparison
	// leaves every other source's draws, and so every other option's
	// results, as they were.
	key uint64
}

// event is one incident with what it hits resolved.
type event struct {
	src      int // index into the sources, -1 for a scenario's own incident
	inc      Incident
	model    string // "" for every model
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
		// Incidents scoped to one model come from a stream of each model
		// the team uses there, at the provider's model-scoped rate: the
		// provider's failure share on aggregate traffic (what FAILS and
		// Portkey measure) is what any one model's requests see, and
		// listing another fallback model must not thin out the incidents
		// of the primary. Provider-wide incidents hit every model.
		var models []string
		for _, r := range s.Routes {
			for _, id := range r.Models {
				if md, ok := cat.Model(id); ok && slices.Contains(md.Hosts, p.ID) && !slices.Contains(models, id) {
					models = append(models, id)
				}
			}
		}
		slices.Sort(models)
		streams := func(kind sourceKind, region string, base IncidentModel, share float64) {
			wide := base
			wide.PerMonth = base.PerMonth * share * (1 - base.ModelScopedShare)
			wide.ModelScopedShare = 0
			out = append(out, source{kind: kind, provider: p.ID, region: region, model: wide, scale: 1, status: 1})
			for _, id := range models {
				one := base
				one.PerMonth = base.PerMonth * share * base.ModelScopedShare
				one.ModelScopedShare = 0
				// The status page posts each model-scoped incident once,
				// whichever model: a team's N streams share it.
				out = append(out, source{kind: kind, provider: p.ID, region: region, onlyModel: id, model: one, scale: 1, status: 1 / float64(len(models))})
			}
		}
		streams(srcProvider, "", pm, 1-pm.RegionalShare)
		if pm.RegionalShare > 0 {
			for _, r := range p.Regions {
				if r != globalRegion {
					streams(srcRegion, r, pm, pm.RegionalShare)
				}
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
	for _, pl := range m.CommonMode {
		out = append(out, source{kind: srcCommon, platform: pl.Name, carries: pl.Providers, model: pl.Model, scale: 1})
	}
	for i := range out {
		out[i].key = sourceKey(out[i])
	}
	return out
}

// sourceKey hashes what a source is (FNV-1a).
func sourceKey(s source) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s|%s|%s|%s|%s", s.kind, s.provider, s.region, s.gateway, s.platform, s.onlyModel)
	return h.Sum64()
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
// Each source draws from its own stream, seeded by the run's seed, the
// source's key and the trial (common random numbers that hold whichever
// options are compared).
func sampleEnvironment(pcg *rand.PCG, r *rand.Rand, seed uint64, trial int, sources []source, horizon float64, out []event, incs *[]Incident) []event {
	out = out[:0]
	for i, src := range sources {
		pcg.Seed(seed^src.key, uint64(trial))
		*incs = src.model.sampleInto((*incs)[:0], r, horizon)
		for _, inc := range *incs {
			e := event{src: i, inc: inc}
			if src.scale != 1 {
				e.inc.PeakErrorRate *= src.scale
				e.inc.TailErrorRate *= src.scale
			}
			switch src.kind {
			case srcProvider, srcRegion:
				e.model = src.onlyModel
			case srcCommon:
				e.platform = src.platform
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
		if !slices.Contains(src.carries, p.Provider) {
			return false
		}
		// An AWS event is a us-east-1 event (outages.md §11.4: 38 % of
		// AWS entries, and the 2025-10-20 event).
		return p.Provider != "aws-bedrock" || p.Region == "us-east-1"
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
