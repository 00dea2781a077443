package server

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"gatewise/pricing"
	"gatewise/simulator"
)

// ArchitectureForm is the architecture as the browser sends it: every value is
// kept as typed, so a form that fails validation comes back exactly as the
// user left it. Field names in the HTML are the architecture file's paths
// (routes[1].share), which lets validation problems land next to their input.
type ArchitectureForm struct {
	Name        string
	HorizonDays string
	Providers   []ProviderRow
	Routes      []RouteRow
	Scenarios   []ScenarioRow

	RequestsPerDay   string
	DiurnalAmplitude string
	Logs             string
	Origin           map[string]string // jurisdiction → share as typed
	Residency        map[string]string // origin jurisdiction → required jurisdiction, "" for anywhere

	SOC2               bool
	HIPAA              bool
	ZeroDataRetention  bool
	NoThirdPartyInPath bool

	PriorityFailover      string
	PriorityCost          string
	PriorityObservability string

	Engineers    string
	OpsHourlyUSD string
	Seats        string // console seats; empty for one per engineer

	Needs    map[string]bool
	Gateways map[string]bool

	Trials string
	Seed   string

	// Advanced holds the optional outage_model and gateway_settings blocks as
	// YAML: overrides for power users, kept verbatim so nothing is lost.
	Advanced string

	// notText names the fields whose value is not UTF-8 text: a browser
	// never sends such a value, and a file could not hold it.
	notText []string
}

// ProviderRow is one provider line of the form.
type ProviderRow struct {
	ID      string
	Regions string // comma- or space-separated
	RPM     string
	TPM     string
}

// RouteRow is one route line of the form.
type RouteRow struct {
	Name             string
	Share            string
	Models           string // comma-separated, in preference order
	InputTokens      string
	OutputTokens     string
	CachedInputShare string
}

// ScenarioRow is one scenario line of the form; empty parameters take the
// scenario's defaults.
type ScenarioRow struct {
	Name          string
	Provider      string
	Region        string
	DurationHours string
	Multiplier    string
	ErrorRate     string
}

// maxFormRows bounds every repeated section, so a crafted form cannot make
// the server allocate rows without end.
const maxFormRows = 50

var rowField = regexp.MustCompile(`^(providers|routes|scenarios)\[(\d{1,3})\]\.([a-z_.]+)$`)

// formAction is what the pressed button asks for: save, or edit the rows.
type formAction struct {
	kind    string // "save", "add", "remove"
	section string // "providers", "routes", "scenarios"
	index   int
}

func parseFormAction(v string) formAction {
	switch {
	case v == "" || v == "save":
		return formAction{kind: "save"}
	case strings.HasPrefix(v, "add-"):
		return formAction{kind: "add", section: strings.TrimPrefix(v, "add-")}
	case strings.HasPrefix(v, "remove-"):
		rest := strings.TrimPrefix(v, "remove-")
		section, idx, ok := strings.Cut(rest, "-")
		if n, err := strconv.Atoi(idx); ok && err == nil {
			return formAction{kind: "remove", section: section, index: n}
		}
	}
	return formAction{kind: "save"}
}

// apply adds or removes a row. It reports whether the form changed shape.
func (f *ArchitectureForm) apply(a formAction) bool {
	switch a.kind {
	case "add":
		switch a.section {
		case "providers":
			if len(f.Providers) < maxFormRows {
				f.Providers = append(f.Providers, ProviderRow{})
			}
		case "routes":
			if len(f.Routes) < maxFormRows {
				f.Routes = append(f.Routes, RouteRow{})
			}
		case "scenarios":
			if len(f.Scenarios) < maxFormRows {
				f.Scenarios = append(f.Scenarios, ScenarioRow{Name: "baseline"})
			}
		}
		return true
	case "remove":
		switch a.section {
		case "providers":
			if a.index >= 0 && a.index < len(f.Providers) {
				f.Providers = slices.Delete(f.Providers, a.index, a.index+1)
			}
		case "routes":
			if a.index >= 0 && a.index < len(f.Routes) {
				f.Routes = slices.Delete(f.Routes, a.index, a.index+1)
			}
		case "scenarios":
			if a.index >= 0 && a.index < len(f.Scenarios) {
				f.Scenarios = slices.Delete(f.Scenarios, a.index, a.index+1)
			}
		}
		return true
	}
	return false
}

// readArchitectureForm reads a posted form. Rows keep the order of their
// indices; gaps (a row removed by hand-crafted input) simply close up.
func readArchitectureForm(v url.Values) ArchitectureForm {
	// Only the fields the form reads are checked: any other key is ignored
	// like every unknown key, and a made-up one would be no path to report.
	var notText []string
	for _, key := range slices.Sorted(maps.Keys(v)) {
		if !utf8.ValidString(key) {
			for _, section := range []string{"traffic.origin", "compliance.data_residency"} {
				if strings.HasPrefix(key, section+".") && !slices.Contains(notText, section) {
					notText = append(notText, section) // a jurisdiction no file could name
				}
			}
			continue
		}
		if !formReads(key) {
			continue
		}
		for _, val := range v[key] {
			if !utf8.ValidString(val) {
				notText = append(notText, key)
				break
			}
		}
	}
	f := ArchitectureForm{
		notText:               notText,
		Name:                  v.Get("name"),
		HorizonDays:           v.Get("horizon_days"),
		RequestsPerDay:        v.Get("traffic.requests_per_day"),
		DiurnalAmplitude:      v.Get("traffic.diurnal_amplitude"),
		Logs:                  v.Get("traffic.logs"),
		Origin:                map[string]string{},
		Residency:             map[string]string{},
		SOC2:                  v.Get("compliance.soc2") != "",
		HIPAA:                 v.Get("compliance.hipaa") != "",
		ZeroDataRetention:     v.Get("compliance.zero_data_retention") != "",
		NoThirdPartyInPath:    v.Get("compliance.no_third_party_in_path") != "",
		PriorityFailover:      v.Get("priorities.failover"),
		PriorityCost:          v.Get("priorities.cost"),
		PriorityObservability: v.Get("priorities.observability"),
		Engineers:             v.Get("team.engineers"),
		OpsHourlyUSD:          v.Get("team.ops_hourly_usd"),
		Seats:                 v.Get("team.seats"),
		Needs:                 map[string]bool{},
		Gateways:              map[string]bool{},
		Trials:                v.Get("simulation.trials"),
		Seed:                  v.Get("simulation.seed"),
		Advanced:              v.Get("advanced"),
	}
	for _, n := range v["observability_needs"] {
		f.Needs[n] = true
	}
	for _, g := range v["gateways"] {
		f.Gateways[g] = true
	}

	providers := map[int]*ProviderRow{}
	routes := map[int]*RouteRow{}
	scenarios := map[int]*ScenarioRow{}
	for key, vals := range v {
		if !utf8.ValidString(key) {
			continue // reported above, or a key the form has no field for
		}
		val := ""
		if len(vals) > 0 {
			val = vals[0]
		}
		if j, ok := strings.CutPrefix(key, "traffic.origin."); ok {
			f.Origin[j] = val
			continue
		}
		if j, ok := strings.CutPrefix(key, "compliance.data_residency."); ok {
			f.Residency[j] = val
			continue
		}
		m := rowField.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[2])
		if i >= maxFormRows {
			continue
		}
		switch m[1] {
		case "providers":
			r := rowAt(providers, i)
			switch m[3] {
			case "id":
				r.ID = val
			case "regions":
				r.Regions = val
			case "rate_limits.rpm":
				r.RPM = val
			case "rate_limits.tpm":
				r.TPM = val
			}
		case "routes":
			r := rowAt(routes, i)
			switch m[3] {
			case "name":
				r.Name = val
			case "share":
				r.Share = val
			case "models":
				r.Models = val
			case "input_tokens":
				r.InputTokens = val
			case "output_tokens":
				r.OutputTokens = val
			case "cached_input_share":
				r.CachedInputShare = val
			}
		case "scenarios":
			r := rowAt(scenarios, i)
			switch m[3] {
			case "name":
				r.Name = val
			case "provider":
				r.Provider = val
			case "region":
				r.Region = val
			case "duration_hours":
				r.DurationHours = val
			case "multiplier":
				r.Multiplier = val
			case "error_rate":
				r.ErrorRate = val
			}
		}
	}
	f.Providers = collectRows(providers)
	f.Routes = collectRows(routes)
	f.Scenarios = collectRows(scenarios)
	return f
}

// formFields are the keys the form reads besides the rows and the origin
// and residency tables.
var formFields = []string{"name", "horizon_days", "traffic.requests_per_day", "traffic.diurnal_amplitude", "traffic.logs",
	"compliance.soc2", "compliance.hipaa", "compliance.zero_data_retention", "compliance.no_third_party_in_path",
	"priorities.failover", "priorities.cost", "priorities.observability", "team.engineers", "team.ops_hourly_usd", "team.seats",
	"observability_needs", "gateways", "simulation.trials", "simulation.seed", "advanced"}

// formReads reports whether readArchitectureForm takes a value from key.
func formReads(key string) bool {
	if slices.Contains(formFields, key) || rowField.MatchString(key) {
		return true
	}
	for _, prefix := range []string{"traffic.origin.", "compliance.data_residency."} {
		if rest, ok := strings.CutPrefix(key, prefix); ok && rest != "" {
			return true
		}
	}
	return false
}

func rowAt[T any](rows map[int]*T, i int) *T {
	r, ok := rows[i]
	if !ok {
		r = new(T)
		rows[i] = r
	}
	return r
}

func collectRows[T any](rows map[int]*T) []T {
	idx := make([]int, 0, len(rows))
	for i := range rows {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	out := make([]T, 0, len(idx))
	for _, i := range idx {
		out = append(out, *rows[i])
	}
	return out
}

// formFromSpec fills the form from a saved or example architecture.
func formFromSpec(s simulator.Spec) ArchitectureForm {
	f := ArchitectureForm{
		Name:                  s.Name,
		HorizonDays:           formatInt(s.HorizonDays),
		RequestsPerDay:        formatFloat(s.Traffic.RequestsPerDay),
		DiurnalAmplitude:      formatFloat(s.Traffic.DiurnalAmplitude),
		Logs:                  s.Traffic.Logs,
		Origin:                map[string]string{},
		Residency:             map[string]string{},
		SOC2:                  s.Compliance.SOC2,
		HIPAA:                 s.Compliance.HIPAA,
		ZeroDataRetention:     s.Compliance.ZeroDataRetention,
		NoThirdPartyInPath:    s.Compliance.NoThirdPartyInPath,
		PriorityFailover:      formatFloat(s.Priorities.Failover),
		PriorityCost:          formatFloat(s.Priorities.Cost),
		PriorityObservability: formatFloat(s.Priorities.Observability),
		Engineers:             formatInt(s.Team.Engineers),
		OpsHourlyUSD:          formatFloat(s.Team.OpsHourlyUSD),
		Seats:                 formatOptionalInt(s.Team.Seats),
		Needs:                 map[string]bool{},
		Gateways:              map[string]bool{},
		Trials:                formatInt(s.Simulation.Trials),
		Seed:                  strconv.FormatUint(s.Simulation.Seed, 10),
		Advanced:              advancedYAML(s),
	}
	for j, share := range s.Traffic.Origin {
		f.Origin[j] = formatFloat(share)
	}
	for from, to := range s.Compliance.DataResidency {
		f.Residency[from] = to
	}
	for _, n := range s.ObservabilityNeeds {
		f.Needs[n] = true
	}
	for _, g := range s.Gateways {
		f.Gateways[g] = true
	}
	for _, p := range s.Providers {
		row := ProviderRow{ID: p.ID, Regions: strings.Join(p.Regions, ", ")}
		if p.RateLimits != nil {
			row.RPM = formatOptionalInt(p.RateLimits.RPM)
			row.TPM = formatOptionalInt(p.RateLimits.TPM)
		}
		f.Providers = append(f.Providers, row)
	}
	for _, r := range s.Routes {
		f.Routes = append(f.Routes, RouteRow{
			Name:             r.Name,
			Share:            formatFloat(r.Share),
			Models:           strings.Join(r.Models, ", "),
			InputTokens:      formatInt(r.InputTokens),
			OutputTokens:     formatInt(r.OutputTokens),
			CachedInputShare: formatOptionalFloat(r.CachedInputShare),
		})
	}
	for _, sc := range s.Scenarios {
		f.Scenarios = append(f.Scenarios, ScenarioRow{
			Name:          sc.Name,
			Provider:      sc.Provider,
			Region:        sc.Region,
			DurationHours: formatOptionalFloat(sc.DurationHours),
			Multiplier:    formatOptionalFloat(sc.Multiplier),
			ErrorRate:     formatOptionalFloat(sc.ErrorRate),
		})
	}
	return f
}

// blankRequestsPerDay is the volume a blank form starts with, since 0 is
// not a valid volume. 100,000 requests a day is a little over one a second
// on average: a single production feature of a mid-sized app, the scale at
// which a team starts weighing a gateway. It is a round number, so it reads
// as a placeholder to replace, and far enough from "low volume" that the
// default alone does not decide for calling the provider directly.
const blankRequestsPerDay = 100_000

// blankForm is what "New architecture" shows: one empty provider and route,
// and the defaults a team would otherwise have to look up.
func blankForm() ArchitectureForm {
	s := simulator.Spec{
		Traffic:   simulator.Traffic{RequestsPerDay: blankRequestsPerDay, DiurnalAmplitude: 0.5, Origin: map[string]float64{"us": 1}},
		Team:      simulator.Team{Engineers: 4, OpsHourlyUSD: 100},
		Scenarios: []simulator.Scenario{{Name: "baseline"}, {Name: "provider-outage"}},
	}
	s.ApplyDefaults()
	f := formFromSpec(s)
	f.Providers = []ProviderRow{{}}
	f.Routes = []RouteRow{{Share: "1"}}
	return f
}

// spec converts the form into an architecture. Values that are not numbers
// come back as problems at their path; the rest is left to Spec.Validate.
func (f ArchitectureForm) spec() (simulator.Spec, simulator.Problems) {
	var c converter
	for _, key := range f.notText {
		c.problem(key, "is not UTF-8 text")
	}
	s := simulator.Spec{
		Name:        strings.TrimSpace(f.Name),
		HorizonDays: c.positive("horizon_days", f.HorizonDays),
		Traffic: simulator.Traffic{
			RequestsPerDay:   c.float("traffic.requests_per_day", f.RequestsPerDay, true),
			DiurnalAmplitude: c.float("traffic.diurnal_amplitude", f.DiurnalAmplitude, false),
			Logs:             strings.TrimSpace(f.Logs),
			Origin:           map[string]float64{},
		},
		Compliance: simulator.Compliance{
			SOC2:               f.SOC2,
			HIPAA:              f.HIPAA,
			ZeroDataRetention:  f.ZeroDataRetention,
			NoThirdPartyInPath: f.NoThirdPartyInPath,
		},
		Priorities: simulator.Priorities{
			Failover:      c.float("priorities.failover", f.PriorityFailover, true),
			Cost:          c.float("priorities.cost", f.PriorityCost, true),
			Observability: c.float("priorities.observability", f.PriorityObservability, true),
		},
		Team: simulator.Team{
			Engineers:    c.int("team.engineers", f.Engineers, true),
			OpsHourlyUSD: c.float("team.ops_hourly_usd", f.OpsHourlyUSD, true),
			Seats:        c.int("team.seats", f.Seats, false),
		},
		Simulation: simulator.Simulation{
			Trials: c.positive("simulation.trials", f.Trials),
			Seed:   c.uint("simulation.seed", f.Seed),
		},
	}
	for _, j := range slices.Sorted(maps.Keys(f.Origin)) {
		if strings.TrimSpace(f.Origin[j]) == "" {
			continue // an empty origin row means no traffic from there
		}
		s.Traffic.Origin[j] = c.float("traffic.origin."+j, f.Origin[j], false)
	}
	for _, from := range slices.Sorted(maps.Keys(f.Residency)) {
		if to := strings.TrimSpace(f.Residency[from]); to != "" {
			if s.Compliance.DataResidency == nil {
				s.Compliance.DataResidency = map[string]string{}
			}
			s.Compliance.DataResidency[from] = to
		}
	}
	for _, n := range simulator.ObservabilityNeeds() {
		if f.Needs[n] {
			s.ObservabilityNeeds = append(s.ObservabilityNeeds, n)
		}
	}
	for _, g := range simulator.GatewayIDs() {
		if f.Gateways[g] {
			s.Gateways = append(s.Gateways, g)
		}
	}
	if len(s.Gateways) == 0 {
		c.problem("gateways", "choose at least one option to compare")
	}
	for i, p := range f.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		prov := simulator.Provider{ID: strings.TrimSpace(p.ID), Regions: splitList(p.Regions)}
		rpm := c.int(path+".rate_limits.rpm", p.RPM, false)
		tpm := c.int(path+".rate_limits.tpm", p.TPM, false)
		if rpm != 0 || tpm != 0 {
			prov.RateLimits = &simulator.RateLimits{RPM: rpm, TPM: tpm}
		}
		s.Providers = append(s.Providers, prov)
	}
	for i, r := range f.Routes {
		path := fmt.Sprintf("routes[%d]", i)
		s.Routes = append(s.Routes, simulator.Route{
			Name:             strings.TrimSpace(r.Name),
			Share:            c.float(path+".share", r.Share, true),
			Models:           splitList(r.Models),
			InputTokens:      c.int(path+".input_tokens", r.InputTokens, true),
			OutputTokens:     c.int(path+".output_tokens", r.OutputTokens, true),
			CachedInputShare: c.float(path+".cached_input_share", r.CachedInputShare, false),
		})
	}
	for i, sc := range f.Scenarios {
		path := fmt.Sprintf("scenarios[%d]", i)
		s.Scenarios = append(s.Scenarios, simulator.Scenario{
			Name:          strings.TrimSpace(sc.Name),
			Provider:      strings.TrimSpace(sc.Provider),
			Region:        strings.TrimSpace(sc.Region),
			DurationHours: c.float(path+".duration_hours", sc.DurationHours, false),
			Multiplier:    c.float(path+".multiplier", sc.Multiplier, false),
			ErrorRate:     c.float(path+".error_rate", sc.ErrorRate, false),
		})
	}
	c.advanced(&s, f.Advanced)
	s.ApplyDefaults()
	return s, c.problems
}

// advancedBlock is the part of the file the Advanced box edits.
type advancedBlock struct {
	OutageModel     *simulator.OutageModel               `yaml:"outage_model,omitempty"`
	GatewaySettings map[string]simulator.GatewaySettings `yaml:"gateway_settings,omitempty"`
}

// advancedYAML writes a spec's overrides for the Advanced box, "" when it
// has none.
func advancedYAML(s simulator.Spec) string {
	if s.OutageModel == nil && len(s.GatewaySettings) == 0 {
		return ""
	}
	only := simulator.Spec{OutageModel: s.OutageModel, GatewaySettings: s.GatewaySettings}
	data, err := only.YAML()
	if err != nil {
		return ""
	}
	// The canonical writer emits every top-level key; keep the two blocks.
	var out strings.Builder
	keep := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line != "" && line[0] != ' ' && line[0] != '#' {
			keep = strings.HasPrefix(line, "outage_model:") || strings.HasPrefix(line, "gateway_settings:")
		}
		if keep {
			out.WriteString(line)
		}
	}
	return out.String()
}

// advanced reads the Advanced box with the file parser, so its problems name
// the line and column inside the box, and refuses keys that have their own
// fields in the form.
func (c *converter) advanced(s *simulator.Spec, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	var keys map[string]any
	if err := yaml.Unmarshal([]byte(text), &keys); err == nil {
		for k := range keys {
			if k != "outage_model" && k != "gateway_settings" {
				c.problem("advanced", fmt.Sprintf("only outage_model and gateway_settings go here; %q has its own field in the form", k))
				return
			}
		}
	}
	parsed, err := simulator.Parse([]byte(text))
	var ps simulator.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			c.problem("advanced", p.String())
		}
		return
	}
	if err != nil {
		c.problem("advanced", err.Error())
		return
	}
	s.OutageModel, s.GatewaySettings = parsed.OutageModel, parsed.GatewaySettings
}

// converter turns typed text into numbers, collecting a problem per field.
type converter struct{ problems simulator.Problems }

func (c *converter) problem(path, msg string) {
	c.problems = append(c.problems, simulator.Problem{Path: path, Message: msg})
}

func (c *converter) float(path, v string, required bool) float64 {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			c.problem(path, "is required")
		}
		return 0
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		c.problem(path, fmt.Sprintf("must be a number, not %q", truncate(v, 40)))
		return 0
	}
	return x
}

func (c *converter) int(path, v string, required bool) int {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			c.problem(path, "is required")
		}
		return 0
	}
	x, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
	if err != nil {
		c.problem(path, fmt.Sprintf("must be a whole number, not %q", truncate(v, 40)))
		return 0
	}
	return x
}

// positive reads an optional whole number that, when typed, must be at least
// 1: left empty it takes the default, but a typed 0 is a mistake to report.
func (c *converter) positive(path, v string) int {
	x := c.int(path, v, false)
	if x < 1 && strings.TrimSpace(v) != "" && !c.has(path) {
		c.problem(path, "must be at least 1")
	}
	return x
}

func (c *converter) has(path string) bool {
	for _, p := range c.problems {
		if p.Path == path {
			return true
		}
	}
	return false
}

func (c *converter) uint(path, v string) uint64 {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	x, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		c.problem(path, fmt.Sprintf("must be a whole number from 0 to %d, not %q", uint64(math.MaxUint64), truncate(v, 40)))
		return 0
	}
	return x
}

// splitList reads "a, b c" as [a b c]; order is kept because it is the
// preference order of models.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

func formatInt(v int) string { return strconv.Itoa(v) }

func formatOptionalInt(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func formatOptionalFloat(v float64) string {
	if v == 0 {
		return ""
	}
	return formatFloat(v)
}

// truncate shortens s to at most n runes, never cutting a character in two.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// originJurisdictions are the rows of the origin and residency tables: every
// jurisdiction the catalog knows except "global", which is not a place.
func originJurisdictions(cat *pricing.Catalog) []string {
	var out []string
	for _, j := range cat.Jurisdictions() {
		if j != "global" {
			out = append(out, j)
		}
	}
	return out
}

// The error summary and the messages beside the fields. Problems carry the
// architecture file's paths (providers[0].regions[1]); the form shows each
// under a name people read ("Provider 1, region 2") and links it to the
// element its message sits beside, whose id is that element's key.

// ProblemLine is one line of the form's error summary.
type ProblemLine struct {
	Label   string // the field as the form names it; "" for a problem of the whole file
	Anchor  string // id of the element the message sits beside; "" when none
	Message string
}

// FieldMessages are one field's messages and the id that the field's
// aria-describedby points at.
type FieldMessages struct {
	ID       string
	Messages []string
}

// Of returns a field's messages for the template beside it.
func (fe FieldErrors) Of(field string) FieldMessages {
	return FieldMessages{ID: field + "-error", Messages: fe[field]}
}

// formSections are the form's fieldsets (and the origin table), where a
// problem of a whole section, or of a key the form has no input for, is
// shown.
var formSections = []string{"providers", "routes", "traffic", "traffic.origin", "compliance", "compliance.data_residency",
	"priorities", "team", "observability_needs", "gateways", "scenarios", "simulation"}

// fieldKeys lists every key the form shows messages at; each is the id of
// an element on the page.
func (f ArchitectureForm) fieldKeys(jurisdictions []string) map[string]bool {
	keys := map[string]bool{}
	for _, k := range formSections {
		keys[k] = true
	}
	for _, k := range []string{"name", "horizon_days", "traffic.requests_per_day", "traffic.diurnal_amplitude", "traffic.logs",
		"priorities.failover", "priorities.cost", "priorities.observability", "team.engineers", "team.ops_hourly_usd", "team.seats",
		"simulation.trials", "simulation.seed", "advanced"} {
		keys[k] = true
	}
	for _, j := range jurisdictions {
		keys["traffic.origin."+j] = true
		keys["compliance.data_residency."+j] = true
	}
	for i := range f.Providers {
		for _, k := range []string{"id", "regions", "rate_limits.rpm", "rate_limits.tpm"} {
			keys[fmt.Sprintf("providers[%d].%s", i, k)] = true
		}
	}
	for i := range f.Routes {
		for _, k := range []string{"name", "share", "models", "input_tokens", "output_tokens", "cached_input_share"} {
			keys[fmt.Sprintf("routes[%d].%s", i, k)] = true
		}
	}
	for i := range f.Scenarios {
		for _, k := range []string{"name", "provider", "region", "duration_hours", "multiplier", "error_rate"} {
			keys[fmt.Sprintf("scenarios[%d].%s", i, k)] = true
		}
	}
	return keys
}

var (
	rowPath     = regexp.MustCompile(`^(providers|routes|scenarios)\[(\d+)\](?:\.(.*))?$`)
	listItem    = regexp.MustCompile(`^(.*?)\[(\d+)\]$`)
	pathInText  = regexp.MustCompile(`\b(providers|routes|scenarios|regions|models)\[(\d+)\]`)
	singularOf  = map[string]string{"providers": "provider", "routes": "route", "scenarios": "scenario", "regions": "region", "models": "model"}
	rowFirstKey = map[string]string{"providers": "id", "routes": "name", "scenarios": "name"}
)

// problemKey is the key (and element id) a problem's message is shown at:
// the input it is about, else the closest section, else "" (the summary
// alone, for a problem of the whole file).
func problemKey(path string, keys map[string]bool) string {
	if strings.HasPrefix(path, "outage_model") || strings.HasPrefix(path, "gateway_settings") || path == "advanced" {
		return "advanced" // both blocks are edited in the Advanced box
	}
	if keys[path] {
		return path
	}
	if m := listElement.FindStringSubmatch(path); m != nil && keys[m[1]] {
		return m[1] // routes[0].models[2] is shown at the models input
	}
	if m := rowPath.FindStringSubmatch(path); m != nil {
		row := m[1] + "[" + m[2] + "]."
		k := row + rowFirstKey[m[1]] // the row itself, or a key it has no input for: its first input
		if m[3] == "rate_limits" {
			k = row + "rate_limits.rpm"
		}
		if keys[k] {
			return k
		}
		return m[1]
	}
	for _, section := range slices.Backward(formSections) {
		if strings.HasPrefix(path, section+".") || strings.HasPrefix(path, section+"[") {
			return section
		}
	}
	return ""
}

// formErrors files each problem's message under the key of the element it
// is shown beside, worded for the form.
func formErrors(problems []simulator.Problem, keys map[string]bool) FieldErrors {
	fe := FieldErrors{}
	for _, p := range problems {
		if k := problemKey(p.Path, keys); k != "" {
			fe[k] = append(fe[k], formMessage(p, k))
		}
	}
	return fe
}

// formMessage words a problem for the form: paths inside it become the
// form's names, except in the Advanced box, which is YAML and keeps them.
func formMessage(p simulator.Problem, key string) string {
	if key == "advanced" {
		if p.Path != "" && p.Path != "advanced" {
			return p.Path + ": " + p.Message
		}
		return p.Message
	}
	msg := pathInText.ReplaceAllStringFunc(p.Message, func(s string) string {
		m := pathInText.FindStringSubmatch(s)
		n, _ := strconv.Atoi(m[2])
		return singularOf[m[1]] + " " + strconv.Itoa(n+1)
	})
	return strings.ReplaceAll(msg, "an origin in traffic.origin", "an origin with a share of requests")
}

// Summary is the error summary: every problem, in the order of the form,
// named as the form names its field and linked to it.
func (p ArchitectureFormPage) Summary() []ProblemLine {
	keys := p.Form.fieldKeys(p.Jurisdictions)
	var out []ProblemLine
	for _, pr := range p.Problems {
		k := problemKey(pr.Path, keys)
		line := ProblemLine{Anchor: k, Message: formMessage(pr, k)}
		if pr.Path != "" {
			line.Label = fieldLabel(pr.Path)
		}
		out = append(out, line)
	}
	return out
}

// fieldLabels name the form's fields outside the repeated rows.
var fieldLabels = map[string]string{
	"name":                              "Name",
	"horizon_days":                      "Horizon (days)",
	"providers":                         "Providers",
	"routes":                            "Routes",
	"scenarios":                         "Scenarios",
	"traffic":                           "Traffic",
	"traffic.requests_per_day":          "Requests per day",
	"traffic.diurnal_amplitude":         "Diurnal amplitude",
	"traffic.logs":                      "Log file",
	"traffic.origin":                    "Origin shares",
	"compliance":                        "Compliance",
	"compliance.data_residency":         "Data residency",
	"compliance.soc2":                   "SOC 2",
	"compliance.hipaa":                  "HIPAA",
	"compliance.zero_data_retention":    "Zero data retention",
	"compliance.no_third_party_in_path": "No third party in the request path",
	"priorities":                        "Priorities",
	"priorities.failover":               "Failover weight",
	"priorities.cost":                   "Cost weight",
	"priorities.observability":          "Observability weight",
	"team":                              "Team",
	"team.engineers":                    "Engineers",
	"team.ops_hourly_usd":               "Ops cost per hour",
	"team.seats":                        "Console seats",
	"observability_needs":               "Observability needs",
	"gateways":                          "Options to compare",
	"simulation":                        "Simulation",
	"simulation.trials":                 "Trials",
	"simulation.seed":                   "Seed",
	"advanced":                          "Advanced overrides",
}

// rowFieldLabels name the inputs of a provider, route or scenario row.
var rowFieldLabels = map[string]string{
	"id":                 "",
	"regions":            "regions",
	"rate_limits":        "rate limits",
	"rate_limits.rpm":    "requests per minute",
	"rate_limits.tpm":    "tokens per minute",
	"name":               "",
	"share":              "share",
	"models":             "models",
	"input_tokens":       "input tokens",
	"output_tokens":      "output tokens",
	"cached_input_share": "cached input share",
	"provider":           "provider",
	"region":             "region",
	"duration_hours":     "duration",
	"multiplier":         "multiplier",
	"error_rate":         "error share",
}

// fieldLabel names a problem's path as the form labels it:
// providers[0].regions[1] is "Provider 1, region 2".
func fieldLabel(path string) string {
	if strings.HasPrefix(path, "outage_model") || strings.HasPrefix(path, "gateway_settings") {
		return "Advanced overrides"
	}
	if l, ok := fieldLabels[path]; ok {
		return l
	}
	if m := rowPath.FindStringSubmatch(path); m != nil {
		n, _ := strconv.Atoi(m[2])
		row := strings.ToUpper(singularOf[m[1]][:1]) + singularOf[m[1]][1:] + " " + strconv.Itoa(n+1)
		rest := m[3]
		if rest == "" {
			return row
		}
		if im := listItem.FindStringSubmatch(rest); im != nil && (im[1] == "regions" || im[1] == "models") {
			i, _ := strconv.Atoi(im[2])
			return row + ", " + singularOf[im[1]] + " " + strconv.Itoa(i+1)
		}
		if l, ok := rowFieldLabels[rest]; ok {
			if l == "" {
				return row
			}
			return row + ", " + l
		}
		return row + ", " + strings.ReplaceAll(rest, "_", " ")
	}
	if j, ok := strings.CutPrefix(path, "traffic.origin."); ok {
		return "Share of requests from " + j
	}
	if j, ok := strings.CutPrefix(path, "compliance.data_residency."); ok {
		return "Where traffic from " + j + " must be served"
	}
	if m := listItem.FindStringSubmatch(path); m != nil {
		i, _ := strconv.Atoi(m[2])
		switch m[1] {
		case "observability_needs":
			return "Observability need " + strconv.Itoa(i+1)
		case "gateways":
			return "Option " + strconv.Itoa(i+1)
		}
	}
	return path
}

// What the form's terms mean in gatewise, shown beside them on the form and
// on the architecture's page.

// Term is a value the form offers with what it means.
type Term struct {
	Value   string
	Meaning string
}

// needMeanings say what each observability or governance need asks of an
// option (the definitions simulator/data/observability.yaml scores by).
var needMeanings = map[string]string{
	"per_user_cost":     "cost attributed to each user, team or tagged feature",
	"tracing":           "multi-step requests grouped into traces or sessions",
	"replay":            "request and response bodies kept, to inspect a request and send it again",
	"alerts":            "a notice when cost, errors or usage cross a threshold",
	"audit_log":         "a record of who changed keys, routes and settings",
	"budgets":           "spend limits that stop or slow traffic",
	"prompt_management": "versioned prompt templates served by the gateway",
	"guardrails":        "content checks in the request path (personal data, prompt injection, moderation)",
	"sso":               "sign-in to the gateway's console through your identity provider, for every seat",
	"rbac":              "roles that limit who may change keys, routes and budgets",
}

// gatewayMeanings say in a line what each option is.
var gatewayMeanings = map[string]string{
	"direct":     "no gateway: your app calls each provider with its SDK and the SDK's retries; nothing in the path, nothing to pay, no failover to another provider, no central log",
	"openrouter": "hosted router: one API and one bill for many providers' models, with a fee on the credits you buy",
	"portkey":    "hosted gateway with configured fallbacks, retries, logs and budgets",
	"helicone":   "hosted gateway built around request logs and cost tracking",
	"litellm":    "open-source proxy you run yourself: your servers and your team's hours, and a fee only for the enterprise plan",
	"kong":       "Kong's AI Gateway plugins on a Kong gateway you run yourself: your servers and your team's hours, and a fee for Kong's paid plans",
	"cloudflare": "hosted gateway on Cloudflare's network with caching, retries, fallbacks and logs",
}

// scenarioMeanings say what each named scenario injects, with the defaults
// the simulator gives parameters left empty.
var scenarioMeanings = map[string]string{
	"baseline":            "the sampled month alone: random incidents at their measured rates, nothing added",
	"provider-outage":     "a provider is down: the one your busiest route tries first unless named, for 4 hours unless set",
	"region-outage":       "a cloud region is down for every provider in it, for 6 hours unless set",
	"gateway-outage":      "the gateway itself is down, for 3 hours unless set (direct calls have none to lose)",
	"rate-limit-storm":    "demand rises into your rate limits (429 responses): 3 times normal for 2 hours unless set",
	"latency-degradation": "a provider answers slowly: the one your busiest route tries first unless named, 4 times slower for 3 hours unless set",
}

func terms(values []string, meanings map[string]string) []Term {
	out := make([]Term, 0, len(values))
	for _, v := range values {
		out = append(out, Term{Value: v, Meaning: meanings[v]})
	}
	return out
}

// NeedTerms are the observability needs to tick, with their meaning.
func (p ArchitectureFormPage) NeedTerms() []Term { return terms(p.Needs, needMeanings) }

// GatewayTerms are the options to tick, with what each is.
func (p ArchitectureFormPage) GatewayTerms() []Term { return terms(p.Gateways, gatewayMeanings) }

// ScenarioTerms are the named scenarios with what each injects.
func (p ArchitectureFormPage) ScenarioTerms() []Term { return terms(p.ScenarioNames, scenarioMeanings) }

// NeedTerms are the architecture's needs with their meaning.
func (p ArchitectureShowPage) NeedTerms() []Term {
	return terms(p.Spec.ObservabilityNeeds, needMeanings)
}

// GatewayTerms are the options the architecture compares.
func (p ArchitectureShowPage) GatewayTerms() []Term { return terms(p.Spec.Gateways, gatewayMeanings) }

// ScenarioMeaning says what a named scenario injects.
func (p ArchitectureShowPage) ScenarioMeaning(name string) string { return scenarioMeanings[name] }
