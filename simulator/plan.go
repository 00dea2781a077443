package simulator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"gatewise/pricing"
)

// Plan is one option as it would be deployed: for every route (and group of
// origins where data residency gives them different hosts), the ordered
// targets, and the retry, failover, timeout and cooldown rules around them,
// down to the app's own SDK retries. The simulator runs a Plan and the
// rollout renders the same Plan, so what ships is what was simulated; the
// result carries each option's Plan as simulated.
type Plan struct {
	Gateway string `json:"gateway"`
	// Client is the app's SDK around the option: its retries apply to
	// whatever the gateway (or, for direct calls, the provider) answers.
	Client ClientPlan `json:"client"`
	// Retries is how many times the gateway retries one target before
	// moving on, on the conditions in RetryOn, waiting BackoffSeconds[n]
	// before retry n (the last wait repeats).
	Retries        int       `json:"retries"`
	RetryOn        []string  `json:"retry_on,omitempty"`
	BackoffSeconds []float64 `json:"backoff_seconds,omitempty"`
	// FailOverOn lists the conditions on which the gateway moves to the
	// next target; any other failure goes back to the client.
	FailOverOn []string `json:"fail_over_on,omitempty"`
	// TimeoutSeconds is how long the gateway waits for one attempt before
	// giving it up as a timeout; 0 when it has no timeout of its own and
	// the client's applies.
	TimeoutSeconds float64 `json:"timeout_seconds"`
	// Cooldown is how the gateway stops sending to a failing target, or nil.
	Cooldown *Cooldown   `json:"cooldown,omitempty"`
	Routes   []RoutePlan `json:"routes"`
	// Unmodelled names what the shipped configuration sets that the
	// simulation does not model, for the memo's assumptions.
	Unmodelled []string `json:"unmodelled,omitempty"`
}

// ClientPlan is the SDK's retry rule around the option.
type ClientPlan struct {
	Retries        int       `json:"retries"`
	RetryOn        []string  `json:"retry_on"`
	BackoffSeconds []float64 `json:"backoff_seconds"`
	TimeoutSeconds float64   `json:"timeout_seconds"`
}

// RoutePlan is the targets one route's requests try, in order, for the
// origins listed (nil: every origin).
type RoutePlan struct {
	Route   string   `json:"route"`
	Origins []string `json:"origins,omitempty"`
	Targets []Target `json:"targets"`
}

// Target is one place a request can be sent: a model on a provider in a
// region, with the provider's own id for the model.
type Target struct {
	Model    string `json:"model"`
	Provider string `json:"provider"`
	Region   string `json:"region"`
	// ProviderModel is what the provider calls the model (a Bedrock
	// inference profile included).
	ProviderModel string `json:"provider_model"`
}

// Label names a route plan's config: "route chat", or "route chat (eu)"
// when residency splits the route by origin.
func (r RoutePlan) Label() string {
	if r.Origins == nil {
		return "route " + r.Route
	}
	return "route " + r.Route + " (" + strings.Join(r.Origins, ", ") + ")"
}

// Suffix tells a split route's groups apart in names that share one
// namespace (LiteLLM model groups, Kong routes): "" or "-eu".
func (r RoutePlan) Suffix() string {
	if r.Origins == nil {
		return ""
	}
	return "-" + strings.Join(r.Origins, "-")
}

// For finds the route plan serving a route's traffic from an origin.
func (p Plan) For(route, origin string) (RoutePlan, bool) {
	for _, r := range p.Routes {
		if r.Route == route && (r.Origins == nil || slices.Contains(r.Origins, origin)) {
			return r, true
		}
	}
	return RoutePlan{}, false
}

// Conditions a plan retries or fails over on. They name what a caller can
// see; each gateway's config spells them its own way (Portkey's status
// codes, Kong's failover criteria).
const (
	On429        = "429"        // rate limited
	On5xx        = "5xx"        // 500, 502, 503 and 504
	On529        = "529"        // Anthropic's "overloaded"
	OnTimeout    = "timeout"    // no answer in time (a gateway's own timeout answers 408)
	OnConnection = "connection" // refused or reset
)

// conditionClasses turns a plan's conditions into the engine's classes.
func conditionClasses(conds []string) (ErrorClasses, error) {
	var out ErrorClasses
	for _, c := range conds {
		switch c {
		case On429:
			out |= ErrorClasses(RateLimited)
		case On5xx:
			out |= ErrorClasses(ServerError)
		case On529:
			out |= ErrorClasses(Overloaded)
		case OnTimeout:
			out |= ErrorClasses(Timeout)
		case OnConnection:
			out |= ErrorClasses(Connection)
		default:
			return 0, fmt.Errorf("unknown condition %q (use 429, 5xx, 529, timeout or connection)", c)
		}
	}
	return out, nil
}

// Plans builds the plan of every option the architecture compares, in its
// order: the documented behaviour of each gateway as gatewise ships it
// (simulator/data/gateway_behaviour.yaml), with the file's gateway_settings
// on top, over the paths its routes allow.
func (s Spec) Plans(cat *pricing.Catalog) ([]Plan, error) {
	if cat == nil {
		cat = pricing.Default()
	}
	bs, err := DefaultBehaviours()
	if err != nil {
		return nil, err
	}
	out := make([]Plan, 0, len(s.Gateways))
	for _, id := range s.Gateways {
		out = append(out, s.plan(cat, s.behaviour(bs, id)))
	}
	return out, nil
}

// PlanFor builds one option's plan.
func (s Spec) PlanFor(cat *pricing.Catalog, gateway string) (Plan, error) {
	if cat == nil {
		cat = pricing.Default()
	}
	bs, err := DefaultBehaviours()
	if err != nil {
		return Plan{}, err
	}
	if _, ok := bs.ByID[gateway]; !ok {
		return Plan{}, fmt.Errorf("unknown gateway %q", gateway)
	}
	return s.plan(cat, s.behaviour(bs, gateway)), nil
}

// behaviour is a gateway's documented behaviour with the file's tuning.
func (s Spec) behaviour(bs Behaviours, id string) Behaviour {
	b := bs.ByID[id]
	st := s.GatewaySettings[id]
	if st.AsyncLogging != nil && *st.AsyncLogging {
		// Out of the path, Helicone leaves requests to the app's SDK.
		d := bs.ByID["direct"]
		d.ID, d.Sources = id, b.Sources
		b = d
	}
	b.Apply(st)
	return b
}

// Apply puts an architecture's tuned knobs over the shipped defaults, as
// each gateway's config spells them: for direct calls num_retries and
// timeout_seconds are the SDK's; LiteLLM cools a target after more than
// allowed_fails failures within cooldown_time and keeps it out for
// cooldown_time (allowed_fails 3 is LiteLLM's own default, which it reads
// as unset: single-deployment groups are then never cooled); Kong marks a
// target unhealthy after max_fails failures within fail_timeout, for
// fail_timeout.
func (b *Behaviour) Apply(s GatewaySettings) {
	if s.ClientRetries != nil {
		b.ClientRetries = *s.ClientRetries
	}
	if b.ID == "direct" {
		if s.NumRetries != nil {
			b.ClientRetries = *s.NumRetries
		}
		if s.TimeoutSeconds != nil {
			b.ClientTimeoutSeconds = *s.TimeoutSeconds
		}
		return
	}
	if s.NumRetries != nil {
		b.Retries = *s.NumRetries
	}
	if s.TimeoutSeconds != nil {
		b.TimeoutSeconds = *s.TimeoutSeconds
	}
	c := &b.Cooldown
	switch b.ID {
	case "litellm":
		if s.CooldownSeconds != nil {
			c.Seconds, c.WindowSeconds = *s.CooldownSeconds, *s.CooldownSeconds
		}
		if s.AllowedFails != nil {
			c.AfterFails = *s.AllowedFails + 1
			if *s.AllowedFails == litellmDefaultAllowedFails {
				*c = Cooldown{}
			}
		}
		if c.Kind != "" && c.Seconds <= 0 {
			*c = Cooldown{}
		}
	case "kong":
		if s.AllowedFails != nil {
			c.AfterFails = *s.AllowedFails
		}
		if s.CooldownSeconds != nil {
			c.Seconds, c.WindowSeconds = *s.CooldownSeconds, *s.CooldownSeconds
		}
		if c.Kind != "" && (c.AfterFails < 1 || c.Seconds <= 0) {
			*c = Cooldown{}
		}
	}
}

// litellmDefaultAllowedFails is LiteLLM's DEFAULT_ALLOWED_FAILS: a router
// allowed_fails equal to it counts as unset (cooldown_handlers.py
// _is_allowed_fails_set_on_router), so the counter that cools
// single-deployment groups never runs.
const litellmDefaultAllowedFails = 3

// plan lays a behaviour over the architecture's routes.
func (s Spec) plan(cat *pricing.Catalog, b Behaviour) Plan {
	p := Plan{
		Gateway: b.ID,
		Client: ClientPlan{
			Retries: b.ClientRetries, RetryOn: slices.Clone(sdkRetryOn), BackoffSeconds: slices.Clone(sdkBackoff),
			TimeoutSeconds: cmp.Or(b.ClientTimeoutSeconds, clientTimeoutSeconds),
		},
		Retries: b.Retries, RetryOn: slices.Clone(b.RetryOnRaw), BackoffSeconds: slices.Clone(b.BackoffSeconds),
		FailOverOn: slices.Clone(b.FailoverOnRaw), TimeoutSeconds: b.TimeoutSeconds,
		Unmodelled: slices.Clone(b.Unmodelled),
	}
	if b.Cooldown.Kind != "" {
		c := b.Cooldown
		p.Cooldown = &c
	}
	origins := sortedKeys(s.Traffic.Origin)
	for r, route := range s.Routes {
		var groups []RoutePlan
		for _, o := range origins {
			targets := s.targets(cat, b, r, o)
			if len(targets) == 0 {
				continue
			}
			i := slices.IndexFunc(groups, func(g RoutePlan) bool { return slices.Equal(g.Targets, targets) })
			if i < 0 {
				groups = append(groups, RoutePlan{Route: route.Name, Targets: targets})
				i = len(groups) - 1
			}
			groups[i].Origins = append(groups[i].Origins, o)
		}
		if len(groups) == 1 && len(groups[0].Origins) == len(origins) {
			groups[0].Origins = nil
		}
		p.Routes = append(p.Routes, groups...)
	}
	return p
}

// targets are the paths an option sends one route's requests from one
// origin to, in order: the paths the gateway can reach (Behaviour.Reachable),
// one per model and provider where the gateway picks the provider's
// endpoint itself, at most MaxTargets.
func (s Spec) targets(cat *pricing.Catalog, b Behaviour, route int, origin string) []Target {
	var out []Target
	for _, p := range b.Reachable(s.RoutePaths(cat, route, origin)) {
		if b.MaxTargets > 0 && len(out) == b.MaxTargets {
			break
		}
		if b.OneRegionPerProvider && slices.ContainsFunc(out, func(t Target) bool { return t.Model == p.Model && t.Provider == p.Provider }) {
			continue
		}
		if !canPin(b.ID, p) {
			continue
		}
		out = append(out, Target{Model: p.Model, Provider: p.Provider, Region: p.Region, ProviderModel: ProviderModel(cat, p.Model, p.Provider, p.Region)})
	}
	if b.Paths.OneProviderOrder {
		// Providers in the order they first appear; each model's targets
		// follow it, models keeping their own order.
		var order []string
		for _, t := range out {
			if !slices.Contains(order, t.Provider) {
				order = append(order, t.Provider)
			}
		}
		slices.SortStableFunc(out, func(a, b Target) int {
			ma := slices.IndexFunc(out, func(t Target) bool { return t.Model == a.Model })
			mb := slices.IndexFunc(out, func(t Target) bool { return t.Model == b.Model })
			if ma != mb {
				return ma - mb
			}
			return slices.Index(order, a.Provider) - slices.Index(order, b.Provider)
		})
	}
	return out
}

// canPin reports whether a gateway's config can send a request to a path's
// region. Anthropic's US-only inference is a request parameter,
// inference_geo (gateways.md §7.2): the SDK sends it for direct calls,
// Portkey's override_params and LiteLLM's litellm_params carry it; no
// other gateway documents a way to set it, so they use Anthropic's global
// endpoint instead.
func canPin(gateway string, p Path) bool {
	switch {
	case p.Provider == "anthropic" && p.Region == "us":
		return gateway == "direct" || gateway == "portkey" || gateway == "litellm"
	case p.Provider == "openai" && p.Region != "us":
		// OpenAI's data-residency regions are hosts of their own
		// (eu.api.openai.com): the SDK's base URL, Portkey's custom_host,
		// LiteLLM's api_base and Kong's upstream_url name them, and
		// OpenRouter's in-region routing keeps EU traffic on EU hosts;
		// Helicone and Cloudflare document no way to pick the host.
		return gateway != "helicone" && gateway != "cloudflare"
	}
	return true
}

// ProviderModel is the id a provider calls a model by in a region: the
// catalog's provider id, with Bedrock's inference-profile prefix where
// Bedrock serves the model through geographic profiles only.
func ProviderModel(cat *pricing.Catalog, model, provider, region string) string {
	id := model
	if m, ok := cat.Model(model); ok {
		for _, o := range m.Offers {
			if o.Provider == provider && o.ModelID != "" {
				id = o.ModelID
			}
		}
	}
	if provider == "aws-bedrock" {
		id = bedrockProfile(cat, model, region) + id
	}
	return id
}

// bedrockProfile is the inference-profile prefix a Bedrock model needs in
// a region. The models the catalog prices through Bedrock's geographic
// profiles (newer Claude models, which Bedrock serves through inference
// profiles only) are called as "us.<id>", "eu.<id>", "jp.<id>", "au.<id>"
// or "apac.<id>" from a region of that geography, and as "global.<id>" in
// region global; other models are called by their id in the region.
func bedrockProfile(cat *pricing.Catalog, model, region string) string {
	p, ok := cat.Provider("aws-bedrock")
	if !ok {
		return ""
	}
	for _, r := range p.Residency {
		if !slices.Contains(r.Models, model) {
			continue
		}
		if region == globalRegion {
			return "global."
		}
		if !slices.Contains(r.Regions, region) {
			continue
		}
		switch j, _ := cat.Jurisdiction("aws-bedrock", region); {
		case j == "us":
			return "us."
		case j == "eu":
			return "eu."
		case region == "ap-northeast-1":
			return "jp."
		case region == "ap-southeast-2":
			return "au."
		case j == "ap":
			return "apac."
		}
	}
	return ""
}

// The official SDKs' retry rule (gateways.md §7.1: openai-python and
// anthropic-sdk-python): retry connection errors, timeouts, 408, 409, 429
// and every 5xx, waiting about 0.5 s then 1 s.
var (
	sdkRetryOn = []string{On429, On5xx, On529, OnTimeout, OnConnection}
	sdkBackoff = []float64{0.5, 1}
)
