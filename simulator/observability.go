package simulator

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"gatewise/pricing"
)

// observabilityYAML says which observability needs each option meets and on
// which plan, each fact with its source, so a reviewer can check the memo's
// "features matched to needs" against the research.
//
//go:embed data/observability.yaml
var observabilityYAML []byte

// Support levels. A need that is not met has no FeatureSupport at all.
const (
	LevelYes     = "yes"
	LevelPartial = "partial"
	levelNo      = "no" // only in the data file, to give the absence a source
)

// FeatureSupport is how well an option meets one observability need.
type FeatureSupport struct {
	Need    string
	Level   string // LevelYes or LevelPartial
	MinPlan string // the lowest plan (pricing/data/gateways.yaml order) it comes with
	Source  string
	Note    string
}

// ObservabilityFacts is the feature catalog and the date of its facts.
// ByGateway lists, per gateway, the needs it meets in ObservabilityNeeds()
// order; a need may appear twice, partial on a lower plan and yes on a
// higher one.
type ObservabilityFacts struct {
	AsOf      string
	ByGateway map[string][]FeatureSupport
}

type observabilityFile struct {
	AsOf     string                 `yaml:"as_of"`
	Gateways []observabilityGateway `yaml:"gateways"`
}

type observabilityGateway struct {
	ID       string           `yaml:"id"`
	Plans    []string         `yaml:"plans"`
	Features []featureSupport `yaml:"features"`
}

type featureSupport struct {
	Need    string `yaml:"need"`
	Level   string `yaml:"level"`
	MinPlan string `yaml:"min_plan"`
	Source  string `yaml:"source"`
	Note    string `yaml:"note"`
}

// DefaultObservability reads the embedded feature file. A broken file fails
// the package's tests, so users never meet the error.
func DefaultObservability() (ObservabilityFacts, error) {
	return parseObservability(observabilityYAML)
}

func parseObservability(data []byte) (ObservabilityFacts, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f observabilityFile
	if err := dec.Decode(&f); err != nil {
		return ObservabilityFacts{}, fmt.Errorf("observability: %w", err)
	}
	if f.AsOf == "" {
		return ObservabilityFacts{}, fmt.Errorf("observability: as_of is missing")
	}
	out := ObservabilityFacts{AsOf: f.AsOf, ByGateway: map[string][]FeatureSupport{}}
	for _, g := range f.Gateways {
		if !slices.Contains(GatewayIDs(), g.ID) {
			return ObservabilityFacts{}, fmt.Errorf("observability: unknown gateway %q", g.ID)
		}
		if _, dup := out.ByGateway[g.ID]; dup {
			return ObservabilityFacts{}, fmt.Errorf("observability: %s is listed twice", g.ID)
		}
		fs, err := g.resolve()
		if err != nil {
			return ObservabilityFacts{}, fmt.Errorf("observability: %s: %w", g.ID, err)
		}
		out.ByGateway[g.ID] = fs
	}
	for _, id := range GatewayIDs() {
		if _, ok := out.ByGateway[id]; !ok {
			return ObservabilityFacts{}, fmt.Errorf("observability: %s is missing", id)
		}
	}
	return out, nil
}

// resolve checks one gateway's entries and returns the met ones in need,
// then plan, order. Every need must be accounted for, so a missing need is a
// sourced fact rather than an oversight.
func (g observabilityGateway) resolve() ([]FeatureSupport, error) {
	if len(g.Plans) == 0 {
		return nil, fmt.Errorf("plans is empty")
	}
	for i, p := range g.Plans {
		if p == "" || slices.Contains(g.Plans[:i], p) {
			return nil, fmt.Errorf("plans: %q is empty or listed twice", p)
		}
	}
	byNeed := map[string][]featureSupport{}
	for i, e := range g.Features {
		where := fmt.Sprintf("features[%d] (%s)", i, e.Need)
		switch {
		case !slices.Contains(ObservabilityNeeds(), e.Need):
			return nil, fmt.Errorf("%s: unknown need %q (use one of %s)", where, e.Need, strings.Join(ObservabilityNeeds(), ", "))
		case !slices.Contains([]string{LevelYes, LevelPartial, levelNo}, e.Level):
			return nil, fmt.Errorf("%s: level %q must be yes, partial or no", where, e.Level)
		case strings.TrimSpace(e.Source) == "":
			return nil, fmt.Errorf("%s: no source", where)
		case (strings.Contains(e.Source, "[I]") || strings.Contains(e.Source, "[?]")) && strings.TrimSpace(e.Note) == "":
			return nil, fmt.Errorf("%s: a tagged source needs a note saying what is unsure", where)
		case e.Level == levelNo && e.MinPlan != "":
			return nil, fmt.Errorf("%s: a need that is not met has no min_plan", where)
		case e.Level != levelNo && !slices.Contains(g.Plans, e.MinPlan):
			return nil, fmt.Errorf("%s: min_plan %q is not one of %s", where, e.MinPlan, strings.Join(g.Plans, ", "))
		}
		byNeed[e.Need] = append(byNeed[e.Need], e)
	}
	var out []FeatureSupport
	for _, need := range ObservabilityNeeds() {
		if need == "sso" {
			if len(byNeed[need]) > 0 {
				return nil, fmt.Errorf("sso is a plan fact in pricing/data/gateways.yaml, not listed here")
			}
			continue
		}
		es := byNeed[need]
		if len(es) == 0 {
			return nil, fmt.Errorf("need %s is not accounted for (give level no with a source if it is not met)", need)
		}
		slices.SortStableFunc(es, func(a, b featureSupport) int {
			return slices.Index(g.Plans, a.MinPlan) - slices.Index(g.Plans, b.MinPlan)
		})
		// At most partial on one plan then yes on a higher one: anything
		// else would be a contradiction or a redundant entry.
		switch {
		case len(es) == 1 && es[0].Level == levelNo:
			continue
		case len(es) == 1:
		case len(es) == 2 && es[0].Level == LevelPartial && es[1].Level == LevelYes && es[0].MinPlan != es[1].MinPlan:
		default:
			return nil, fmt.Errorf("need %s: more than one entry must be partial on a lower plan then yes on a higher one", need)
		}
		for _, e := range es {
			out = append(out, FeatureSupport{Need: e.Need, Level: e.Level, MinPlan: e.MinPlan, Source: e.Source, Note: e.Note})
		}
	}
	return out, nil
}

// Support is the best level at which a gateway on a plan meets a need, with
// its source for the memo. planOrder is the gateway's plans as ordered in the
// price catalog; a plan not in it meets nothing.
func (f ObservabilityFacts) Support(gateway, plan string, planOrder []string, need string) (FeatureSupport, bool) {
	at := slices.Index(planOrder, plan)
	var best FeatureSupport
	found := false
	if at < 0 {
		return best, false
	}
	for _, s := range f.ByGateway[gateway] {
		if s.Need != need {
			continue
		}
		if i := slices.Index(planOrder, s.MinPlan); i < 0 || i > at {
			continue
		}
		if !found || s.Level == LevelYes {
			best, found = s, true
		}
	}
	return best, found
}

// NeedsMet splits the architecture's needs into met and missing for a
// gateway on a plan. A need met only on a plan above plan in planOrder (the
// gateway's plans in pricing/data/gateways.yaml order, passed in so this
// package need not read the price catalog) is missing. A partly met need is
// in met and also in partial, so len(met)+len(missing) is the number of
// distinct needs. Order follows needs; repeats are counted once.
func (f ObservabilityFacts) NeedsMet(gateway, plan string, planOrder []string, needs []string) (met, partial, missing []string) {
	seen := map[string]bool{}
	for _, n := range needs {
		if seen[n] {
			continue
		}
		seen[n] = true
		s, ok := f.Support(gateway, plan, planOrder, n)
		switch {
		case !ok:
			missing = append(missing, n)
		case s.Level == LevelPartial:
			met = append(met, n)
			partial = append(partial, n)
		default:
			met = append(met, n)
		}
	}
	return met, partial, missing
}

// Coverage is the share of requests whose log is kept under the plan's log
// cap: 1 when uncapped (cap 0) or when there is no traffic to log, otherwise
// min(1, cap/requestsPerMonth). Direct is 0: nothing is logged centrally.
// Pass MonthlyLogCap of the plan as logCapPerMonth.
func Coverage(gateway string, logCapPerMonth float64, requestsPerMonth float64) float64 {
	if gateway == "direct" {
		return 0
	}
	if !(requestsPerMonth > 0) || !(logCapPerMonth > 0) {
		return 1
	}
	return math.Min(1, logCapPerMonth/requestsPerMonth)
}

// MonthlyLogCap turns a plan's log limits into the per-month cap Coverage
// takes (0 = uncapped). RequestCap is already logs per month. LogStoreCap
// is a total store (Cloudflare's 100,000 logs), which must hold every log of
// the retention window, so it is worth LogStoreCap·30/retentionDays logs a
// month; retentionDays ≤ 0 means the team needs a month. The tighter of the
// two limits wins.
func MonthlyLogCap(p pricing.Plan, retentionDays int) float64 {
	var caps []float64
	if p.RequestCap > 0 {
		caps = append(caps, float64(p.RequestCap))
	}
	if p.LogStoreCap > 0 {
		days := 30.0
		if retentionDays > 0 {
			days = float64(retentionDays)
		}
		caps = append(caps, float64(p.LogStoreCap)*30/days)
	}
	if len(caps) == 0 {
		return 0
	}
	return slices.Min(caps)
}

// NeedsOnPlan is NeedsMet for a plan of the price catalog: single sign-on
// is judged from the plan itself (sso, and sso_seat_limit against the
// team's console seats), every other need from the feature facts.
func (f ObservabilityFacts) NeedsOnPlan(g pricing.Gateway, plan pricing.Plan, needs []string, seats int) (met, partial, missing []string) {
	order := make([]string, len(g.Plans))
	for i, p := range g.Plans {
		order[i] = p.ID
	}
	rest := slices.DeleteFunc(slices.Clone(needs), func(n string) bool { return n == "sso" })
	m, p, x := f.NeedsMet(g.ID, plan.ID, order, rest)
	if !slices.Contains(needs, "sso") {
		return m, p, x
	}
	sso := plan.SSO && (plan.SSOSeatLimit == 0 || seats <= plan.SSOSeatLimit)
	// Keep the needs' order: put sso back where the team listed it.
	for _, n := range needs {
		switch {
		case n == "sso" && sso && !slices.Contains(met, n):
			met = append(met, n)
		case n == "sso" && !sso && !slices.Contains(missing, n):
			missing = append(missing, n)
		case slices.Contains(m, n) && !slices.Contains(met, n):
			met = append(met, n)
		case slices.Contains(x, n) && !slices.Contains(missing, n):
			missing = append(missing, n)
		}
	}
	return met, p, missing
}

// NeedScore weighs met needs for choosing a plan: a need met in full
// counts 1, a partly met one a half.
func NeedScore(met, partial []string) float64 {
	return float64(len(met)) - float64(len(partial))/2
}
