package simulator

import (
	"slices"

	"gatewise/pricing"
)

// globalRegion is the catalog's region for a provider's worldwide endpoint
// (Anthropic's and Gemini's APIs, Bedrock's global profiles): it needs no
// region choice, and it guarantees no jurisdiction.
const globalRegion = "global"

// Path is one way to serve a route's request: a model on a provider in a
// region. Rate indexes the catalog's rate table, so pricing a path in the
// trial loop is a slice read.
type Path struct {
	Model        string
	Provider     string
	Region       string
	Jurisdiction string
	ModelRank    int // position of the model in the route's list; 0 is the primary
	Rate         int
}

// RoutePaths lists every path the architecture allows for one route and one
// origin, best first: models in the route's preference order; for each, the
// team's providers in the order the file lists them; for each provider, the
// regions in the origin's own jurisdiction first (nearest), then the others
// in the file's order, then the provider's global endpoint. A residency rule
// for the origin keeps only regions in the required jurisdiction, which
// rules out global endpoints.
//
// A region is usable when the team lists it for the provider and the catalog
// serves the model there; a global endpoint is usable whenever the team has
// an account with the provider, since it needs no region choice.
func (s Spec) RoutePaths(cat *pricing.Catalog, route int, origin string) []Path {
	if route < 0 || route >= len(s.Routes) {
		return nil
	}
	required, restricted := s.Compliance.DataResidency[origin]
	rates := cat.RateTable()
	var out []Path
	for rank, modelID := range s.Routes[route].Models {
		m, ok := cat.Model(modelID)
		if !ok {
			continue
		}
		for _, p := range s.Providers {
			k := slices.IndexFunc(m.Offers, func(o pricing.Offer) bool { return o.Provider == p.ID })
			if k < 0 {
				continue
			}
			offer := m.Offers[k]
			var near, far []Path
			for _, region := range p.Regions {
				if region == globalRegion || !slices.Contains(offer.Regions, region) {
					continue
				}
				j, _ := cat.Jurisdiction(p.ID, region)
				if restricted && j != required {
					continue
				}
				rate, ok := rates.Lookup(modelID, p.ID, region)
				if !ok {
					continue
				}
				path := Path{Model: modelID, Provider: p.ID, Region: region, Jurisdiction: j, ModelRank: rank, Rate: rate}
				if j == origin {
					near = append(near, path)
				} else {
					far = append(far, path)
				}
			}
			out = append(out, near...)
			out = append(out, far...)
			if !restricted && slices.Contains(offer.Regions, globalRegion) {
				if rate, ok := rates.Lookup(modelID, p.ID, globalRegion); ok {
					out = append(out, Path{Model: modelID, Provider: p.ID, Region: globalRegion, Jurisdiction: globalRegion, ModelRank: rank, Rate: rate})
				}
			}
		}
	}
	return out
}

// Reachable keeps the paths a gateway can take, in order. The first path is
// where the team's code points today; direct calls stay there (an SDK has one
// endpoint), and a gateway moves away from it only in the ways its behaviour
// allows: the same model on another host, the route's fallback models, or
// another region of the same provider.
func (b Behaviour) Reachable(paths []Path) []Path {
	if len(paths) == 0 {
		return nil
	}
	if len(b.Paths.Providers) > 0 {
		paths = slices.DeleteFunc(slices.Clone(paths), func(p Path) bool { return !slices.Contains(b.Paths.Providers, p.Provider) })
		if len(paths) == 0 {
			return nil
		}
	}
	first := paths[0]
	if b.ID == "direct" {
		return paths[:1]
	}
	out := []Path{first}
	models := []string{first.Model}
	for _, p := range paths[1:] {
		if !slices.Contains(models, p.Model) {
			if b.Paths.MaxModels > 0 && len(models) == b.Paths.MaxModels {
				continue
			}
			if b.Paths.FallbackModels {
				models = append(models, p.Model)
			}
		}
		switch {
		case p.Model != first.Model && !b.Paths.FallbackModels:
		case p.Model == first.Model && p.Provider != first.Provider && !b.Paths.OtherHost:
		case p.Provider == first.Provider && p.Region != first.Region && !b.Paths.OtherRegion:
		default:
			out = append(out, p)
		}
	}
	return out
}
