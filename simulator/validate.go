package simulator

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gatewise/pricing"

	"github.com/go-playground/validator/v10"
)

// shareTolerance absorbs float rounding in shares written as decimals
// (0.6 + 0.3 + 0.1 is not exactly 1 in binary).
const shareTolerance = 1e-6

// Validate checks the spec's values: ranges and required fields from the
// struct tags, then what only the catalog knows (providers, regions, models,
// jurisdictions) and what spans several fields (shares add up to 1, names are
// unique). It returns nil or Problems, every one, in the order of the
// fields, so the same spec always gives the same report. A nil catalog means
// pricing.Default().
func (s Spec) Validate(cat *pricing.Catalog) error {
	if cat == nil {
		cat = pricing.Default()
	}
	v := validation{cat: cat}
	v.finite(reflect.ValueOf(s), "")
	v.tags(s)
	v.shares(s)
	v.volume(s)
	// The cross-checks compare lists with one another; the tags already
	// reject lists this long, so a hostile file cannot make them quadratic.
	if len(s.Providers) <= 20 && len(s.Routes) <= 50 && len(s.Scenarios) <= 50 {
		v.providers(s)
		v.routes(s)
		v.origins(s)
		v.residency(s)
		v.servable(s)
		v.scenarios(s)
		v.scenarioReach(s)
		v.overrides(s)
	}
	v.unique("gateways", s.Gateways)
	v.unique("observability_needs", s.ObservabilityNeeds)
	if len(v.problems) == 0 {
		return nil
	}
	type keyed struct {
		p   Problem
		key []pathPart
	}
	all := make([]keyed, len(v.problems))
	for i, p := range v.problems {
		_, key := resolvePath(p.Path, false)
		all[i] = keyed{p, key}
	}
	slices.SortStableFunc(all, func(a, b keyed) int { return comparePaths(a.key, b.key) })
	ps := make(Problems, 0, min(len(all), maxProblems+1))
	for _, k := range all {
		if len(ps) == maxProblems {
			ps = append(ps, Problem{Message: fmt.Sprintf("and %d more problems", len(all)-maxProblems)})
			break
		}
		ps = append(ps, k.p)
	}
	return ps
}

// validation collects problems; nonFinite remembers paths already reported
// as NaN or infinite, whose tag errors would only repeat the point.
type validation struct {
	cat       *pricing.Catalog
	problems  Problems
	nonFinite map[string]bool
}

func (v *validation) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// finite reports NaN and infinities, which pass or fail range tags by
// accident and would poison every sum downstream.
func (v *validation) finite(val reflect.Value, path string) {
	switch val.Kind() {
	case reflect.Float64:
		if f := val.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			v.add(path, "must be a finite number")
			if v.nonFinite == nil {
				v.nonFinite = map[string]bool{}
			}
			v.nonFinite[path] = true
		}
	case reflect.Pointer:
		if !val.IsNil() {
			v.finite(val.Elem(), path)
		}
	case reflect.Struct:
		for i := range val.NumField() {
			if name := yamlName(val.Type().Field(i)); name != "" {
				v.finite(val.Field(i), keyPath(path, name))
			}
		}
	case reflect.Slice:
		for i := range val.Len() {
			v.finite(val.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		for _, k := range val.MapKeys() {
			if k.Kind() == reflect.String {
				v.finite(val.MapIndex(k), keyPath(path, k.String()))
			}
		}
	}
}

// tags runs the struct tags through the validator and words each failure
// for people, with the file's key names.
func (v *validation) tags(s Spec) {
	val := validator.New(validator.WithRequiredStructEnabled())
	val.RegisterTagNameFunc(yamlName)
	err := val.Struct(s)
	var errs validator.ValidationErrors
	if !errors.As(err, &errs) {
		if err != nil {
			v.add("", "%v", err)
		}
		return
	}
	for _, fe := range errs {
		ns := fe.Namespace()
		if _, rest, ok := strings.Cut(ns, "."); ok {
			ns = rest
		}
		path, _ := resolvePath(ns, true)
		if v.nonFinite[path] {
			continue
		}
		v.add(path, "%s", tagMessage(fe))
	}
}

func tagMessage(fe validator.FieldError) string {
	param := fe.Param()
	collection := fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min":
		switch {
		case collection && param == "1":
			return "must have at least one item"
		case collection:
			return "must have at least " + param + " items"
		case fe.Kind() == reflect.String:
			return "must be at least " + param + " characters long"
		}
		return "must be at least " + param
	case "max":
		switch {
		case collection:
			return "must have at most " + param + " items"
		case fe.Kind() == reflect.String:
			return "must be at most " + param + " characters long"
		}
		return "must be at most " + param
	case "gt":
		return "must be greater than " + param
	case "gte":
		if param == "0" {
			return "must not be negative"
		}
		return "must be at least " + param
	case "lt":
		return "must be less than " + param
	case "lte":
		return "must be at most " + param
	case "oneof":
		options := strings.Fields(param)
		msg := "must be one of: " + strings.Join(options, ", ")
		if s, ok := fe.Value().(string); ok {
			if hint := new(pricing.Catalog).Suggest(options, s); hint != "" {
				msg = fmt.Sprintf("%q is not an option (did you mean %q?); ", s, hint) + msg
			}
		}
		return msg
	}
	return "fails the " + fe.Tag() + " check"
}

// shares checks the three sets of weights that must add up to 1.
// volume refuses traffic of less than one request in the horizon, which
// would pass the tags and then leave the run nothing to simulate.
func (v *validation) volume(s Spec) {
	if d := s.Traffic.RequestsPerDay; d > 0 && s.HorizonDays > 0 && d*float64(s.HorizonDays) < 1 {
		v.add("traffic.requests_per_day", "must be at least one request in the %d-day horizon (%s a day)", s.HorizonDays, strconv.FormatFloat(1/float64(s.HorizonDays), 'g', 4, 64))
	}
}

func (v *validation) shares(s Spec) {
	if len(s.Routes) > 0 {
		var sum float64
		for _, r := range s.Routes {
			sum += r.Share
		}
		v.sumToOne("routes", "route shares", sum)
	}
	if len(s.Traffic.Origin) > 0 {
		var sum float64
		for _, f := range s.Traffic.Origin {
			sum += f
		}
		v.sumToOne("traffic.origin", "origin shares", sum)
	}
	p := s.Priorities
	v.sumToOne("priorities", "the weights", p.Failover+p.Cost+p.Observability)
}

func (v *validation) sumToOne(path, what string, sum float64) {
	if math.IsNaN(sum) || math.IsInf(sum, 0) || math.Abs(sum-1) <= shareTolerance {
		return
	}
	v.add(path, "%s add up to %s, they must add up to 1", what, strconv.FormatFloat(sum, 'g', 6, 64))
}

// providers checks each provider and its regions against the catalog.
func (v *validation) providers(s Spec) {
	known := providerIDs(v.cat)
	first := map[string]int{}
	for i, p := range s.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		if p.ID == "" {
			continue
		}
		if j, dup := first[p.ID]; dup {
			v.add(path+".id", "%s is listed twice (also providers[%d]); list its regions once", p.ID, j)
			continue
		}
		first[p.ID] = i
		cp, ok := v.cat.Provider(p.ID)
		if !ok {
			v.add(path+".id", "unknown provider %q%s", p.ID, hint(v.cat, known, p.ID))
			continue
		}
		regions := make([]string, len(cp.Regions))
		for k, r := range cp.Regions {
			regions[k] = r.ID
		}
		seen := map[string]int{}
		for k, r := range p.Regions {
			rpath := fmt.Sprintf("%s.regions[%d]", path, k)
			if r == "" {
				continue
			}
			if j, dup := seen[r]; dup {
				v.add(rpath, "region %q is listed twice (also regions[%d])", r, j)
				continue
			}
			seen[r] = k
			if !slices.Contains(regions, r) {
				v.add(rpath, "%s has no region %q%s", p.ID, r, hint(v.cat, regions, r))
			}
		}
	}
}

// hint is " (did you mean "x"?)" when a close match exists, else the list of
// valid values, so every "unknown" message says what would work.
func hint(cat *pricing.Catalog, known []string, s string) string {
	if h := cat.Suggest(known, s); h != "" {
		return fmt.Sprintf(" (did you mean %q?)", h)
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

func providerIDs(cat *pricing.Catalog) []string {
	var ids []string
	for _, p := range cat.Providers() {
		ids = append(ids, p.ID)
	}
	return ids
}

// listedProviders is the spec's providers the catalog knows, by id.
func (v *validation) listedProviders(s Spec) map[string]bool {
	listed := map[string]bool{}
	for _, p := range s.Providers {
		if _, ok := v.cat.Provider(p.ID); ok {
			listed[p.ID] = true
		}
	}
	return listed
}

// routes checks route names and that every model exists and can be reached
// through one of the team's providers.
func (v *validation) routes(s Spec) {
	var models []string
	for _, m := range v.cat.Models() {
		models = append(models, m.ID)
	}
	listed := v.listedProviders(s)
	names := map[string]int{}
	for i, r := range s.Routes {
		path := fmt.Sprintf("routes[%d]", i)
		if r.Name != "" {
			if j, dup := names[r.Name]; dup {
				v.add(path+".name", "%q is already the name of routes[%d]", r.Name, j)
			} else {
				names[r.Name] = i
			}
		}
		seen := map[string]int{}
		for k, id := range r.Models {
			mpath := fmt.Sprintf("%s.models[%d]", path, k)
			if id == "" {
				continue
			}
			if j, dup := seen[id]; dup {
				v.add(mpath, "%s is listed twice (also models[%d])", id, j)
				continue
			}
			seen[id] = k
			m, ok := v.cat.Model(id)
			if !ok {
				v.add(mpath, "unknown model %q%s", id, hint(v.cat, models, id))
				continue
			}
			if len(listed) > 0 && !slices.ContainsFunc(m.Hosts, func(h string) bool { return listed[h] }) {
				v.add(mpath, "%s is not served by any of your providers; it is served by %s", id, strings.Join(m.Hosts, ", "))
			}
		}
	}
}

// originJurisdictions are the places traffic can come from; "global" is a
// lack of residency, not a place.
func originJurisdictions(cat *pricing.Catalog) []string {
	return slices.DeleteFunc(cat.Jurisdictions(), func(j string) bool { return j == "global" })
}

func (v *validation) origins(s Spec) {
	known := originJurisdictions(v.cat)
	for _, k := range slices.Sorted(maps.Keys(s.Traffic.Origin)) {
		if !slices.Contains(known, k) {
			v.add("traffic.origin."+k, "unknown origin %q%s", k, hint(v.cat, known, k))
		}
	}
}

// residency checks each rule maps a real origin to a jurisdiction that at
// least one of the team's provider regions is in; otherwise no option could
// ever comply and the run would be pointless.
func (v *validation) residency(s Spec) {
	known := originJurisdictions(v.cat)
	rules := s.Compliance.DataResidency
	for _, origin := range slices.Sorted(maps.Keys(rules)) {
		path := "compliance.data_residency." + origin
		if _, ok := s.Traffic.Origin[origin]; !ok {
			v.add(path, "%q is not an origin in traffic.origin", origin)
			continue
		}
		target := rules[origin]
		if !slices.Contains(known, target) {
			v.add(path, "unknown jurisdiction %q%s", target, hint(v.cat, known, target))
			continue
		}
		found := false
		var offers []string
		offered := map[string]bool{}
		for _, p := range s.Providers {
			cp, ok := v.cat.Provider(p.ID)
			if !ok {
				continue
			}
			for _, r := range cp.Regions {
				if r.Jurisdiction != target {
					continue
				}
				if slices.Contains(p.Regions, r.ID) {
					found = true
				} else if !offered[p.ID] {
					offered[p.ID] = true
					offers = append(offers, p.ID+" "+r.ID)
				}
			}
		}
		if found {
			continue
		}
		msg := fmt.Sprintf("none of your provider regions is in %s", target)
		if len(offers) > 0 {
			msg += "; add one, for example " + strings.Join(offers[:min(len(offers), 3)], " or ")
		}
		v.add(path, "%s", msg)
	}
}

// scenarios checks each scenario once, with parameters naming the team's
// own providers and regions.
func (v *validation) scenarios(s Spec) {
	regions := map[string][]string{}
	var ids, all []string
	for _, p := range s.Providers {
		if !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
		regions[p.ID] = append(regions[p.ID], p.Regions...)
		all = append(all, p.Regions...)
	}
	first := map[Scenario]int{}
	for i, sc := range s.Scenarios {
		path := fmt.Sprintf("scenarios[%d]", i)
		if j, dup := first[sc]; dup {
			v.add(path, "repeats scenarios[%d]", j)
			continue
		}
		first[sc] = i
		if sc.ErrorRate > 0 && !sc.takesDown() {
			v.add(path+".error_rate", "applies to provider-outage, region-outage and gateway-outage only: %s fails no requests of its own", sc.Name)
		}
		if sc.Multiplier > 0 && !sc.multiplies() {
			v.add(path+".multiplier", "applies to rate-limit-storm and latency-degradation only (demand or latency times the multiplier)")
		}
		if sc.Provider != "" && !slices.Contains(ids, sc.Provider) {
			v.add(path+".provider", "%q is not one of your providers%s", sc.Provider, hint(v.cat, ids, sc.Provider))
		}
		if sc.Region == "" {
			continue
		}
		if own, ok := regions[sc.Provider]; ok && sc.Provider != "" {
			if !slices.Contains(own, sc.Region) {
				v.add(path+".region", "%q is not one of your %s regions%s", sc.Region, sc.Provider, hint(v.cat, own, sc.Region))
			}
		} else if !slices.Contains(all, sc.Region) {
			v.add(path+".region", "%q is not a region of your providers%s", sc.Region, hint(v.cat, slices.Compact(slices.Sorted(slices.Values(all))), sc.Region))
		}
	}
}

// servable checks that every route can be served for every origin that
// sends it traffic: a route whose models no allowed host serves for an
// origin would fail that origin's requests under every option, and a memo
// would still pick one. Origins whose residency rule is itself a problem
// are left to that problem.
func (v *validation) servable(s Spec) {
	if v.problemUnder("providers") {
		return
	}
	for _, origin := range slices.Sorted(maps.Keys(s.Traffic.Origin)) {
		if s.Traffic.Origin[origin] <= 0 || slices.ContainsFunc(v.problems, func(p Problem) bool {
			return p.Path == "compliance.data_residency."+origin || p.Path == "traffic.origin."+origin
		}) {
			continue
		}
		for r, route := range s.Routes {
			if len(s.RoutePaths(v.cat, r, origin)) > 0 || !v.knownModels(route) {
				continue
			}
			msg := fmt.Sprintf("no host you listed serves %s for traffic from %s", modelList(route.Models), origin)
			if j, ok := s.Compliance.DataResidency[origin]; ok {
				msg = fmt.Sprintf("traffic from %s must be served in %s, and no region you listed there serves %s", origin, j, modelList(route.Models))
			}
			v.add(fmt.Sprintf("routes[%d].models", r), "route %q cannot serve its %s traffic: %s; add a model or a provider region that can", route.Name, origin, msg)
		}
	}
}

// scenarioReach checks that every named scenario touches the
// architecture: an outage of a region none of its paths runs in would be
// quoted as an option's worst case while nothing happened. Scenarios with a
// problem of their own are left to it.
func (v *validation) scenarioReach(s Spec) {
	if v.problemUnder("providers") || v.problemUnder("routes") || v.problemUnder("traffic") {
		return
	}
	for i, sc := range s.Scenarios {
		path := fmt.Sprintf("scenarios[%d]", i)
		if slices.ContainsFunc(v.problems, func(p Problem) bool { return p.Path == path || strings.HasPrefix(p.Path, path+".") }) {
			continue
		}
		if where, msg := s.untouched(v.cat, sc); msg != "" {
			v.add(path+where, "%s", msg)
		}
	}
}

// problemUnder reports whether a problem was found at path or below it.
func (v *validation) problemUnder(path string) bool {
	return slices.ContainsFunc(v.problems, func(p Problem) bool {
		return p.Path == path || strings.HasPrefix(p.Path, path+".") || strings.HasPrefix(p.Path, path+"[")
	})
}

// knownModels reports whether every model of a route is in the catalog,
// so that a route with an unknown model is reported once, for that model.
func (v *validation) knownModels(r Route) bool {
	for _, id := range r.Models {
		if _, ok := v.cat.Model(id); !ok {
			return false
		}
	}
	return len(r.Models) > 0
}

func modelList(models []string) string {
	if len(models) == 1 {
		return models[0]
	}
	return "any of " + strings.Join(models, ", ")
}

func (v *validation) unique(path string, items []string) {
	first := map[string]int{}
	for i, it := range items {
		if j, dup := first[it]; dup && it != "" {
			v.add(fmt.Sprintf("%s[%d]", path, i), "%q is listed twice (also %s[%d])", it, path, j)
		} else if !dup {
			first[it] = i
		}
	}
}

// pathPart is one step of a path: a field's position in its struct, a list
// index, or a mapping key. Sorting by parts puts problems in field order.
type pathPart struct {
	index int
	key   string
}

// resolvePath walks a path through the Spec type. It renders the path the
// way problems show it (mapping keys after a dot, whether the input wrote
// them in brackets, as the validator does, or not) and returns its parts
// for sorting. A path that leaves the type is kept as it is, sorted last.
func resolvePath(path string, bracketKeys bool) (string, []pathPart) {
	t := reflect.TypeFor[Spec]()
	var out strings.Builder
	var parts []pathPart
	rest := path
	for rest != "" {
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
			continue
		case reflect.Struct:
			rest = strings.TrimPrefix(rest, ".")
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			i, ft := fieldByYAML(t, rest[:end])
			if i < 0 {
				return path, append(parts, pathPart{index: math.MaxInt, key: rest})
			}
			if out.Len() > 0 {
				out.WriteByte('.')
			}
			out.WriteString(rest[:end])
			parts = append(parts, pathPart{index: i})
			rest, t = rest[end:], ft
		case reflect.Slice:
			end := strings.IndexByte(rest, ']')
			n, err := strconv.Atoi(rest[min(1, len(rest)):max(end, 0)])
			if !strings.HasPrefix(rest, "[") || end < 0 || err != nil {
				return path, append(parts, pathPart{index: math.MaxInt, key: rest})
			}
			out.WriteString(rest[:end+1])
			parts = append(parts, pathPart{index: n})
			rest, t = rest[end+1:], t.Elem()
		case reflect.Map:
			// A mapping of plain values takes the rest of the path as its
			// key, dots included; a mapping of objects (outage_model's
			// providers) ends its key where the object's fields begin.
			var key string
			if bracketKeys && strings.HasPrefix(rest, "[") {
				end := strings.Index(rest, "]")
				if t.Elem().Kind() != reflect.Struct || end < 0 {
					end = len(rest) - 1
				}
				key, rest = rest[1:end], rest[min(end+1, len(rest)):]
			} else {
				key = strings.TrimPrefix(rest, ".")
				rest = ""
				if t.Elem().Kind() == reflect.Struct {
					if end := strings.IndexAny(key, ".["); end >= 0 {
						key, rest = key[:end], key[end:]
					}
				}
			}
			out.WriteString("." + key)
			parts = append(parts, pathPart{key: key})
			t = t.Elem()
		default:
			return path, append(parts, pathPart{index: math.MaxInt, key: rest})
		}
	}
	return out.String(), parts
}

func fieldByYAML(t reflect.Type, name string) (int, reflect.Type) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlName(f) == name {
			return i, f.Type
		}
	}
	return -1, nil
}

func comparePaths(a, b []pathPart) int {
	for i := range min(len(a), len(b)) {
		if c := cmp.Compare(a[i].index, b[i].index); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].key, b[i].key); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}
