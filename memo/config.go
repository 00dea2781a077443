package memo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"gatewise/pricing"
	"gatewise/simulator"
)

// Snippet is a ready-to-paste configuration: one or more code blocks of one
// format, the environment variables to change, and how to prove failover.
type Snippet struct {
	Lang   string // "json" or "yaml", the fence's info string
	Blocks []Block
	Env    []string
}

// Block is one code block, labelled with what it configures.
type Block struct {
	Label string
	Code  string
}

// Fence is the code fence for the block: three backticks, or one more than
// the longest run of backticks in the code, so that nothing in it (a route
// name in a YAML value, say) can close the block early.
func (b Block) Fence() string {
	longest, run := 0, 0
	for i := 0; i < len(b.Code); i++ {
		if b.Code[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// deployment is one (model, provider, region) the architecture allows, with
// the provider's own id for the model.
type deployment struct {
	Model, Provider, Region, ProviderModel string
}

// routeGroup is the deployments one route may use for a set of origins.
// Data residency gives origins different sets (EU traffic only on EU
// hosts), and one config per route would send some traffic where it must
// not go; so a route gets one config per group of origins that may use the
// same deployments, and a single one when residency changes nothing.
type routeGroup struct {
	Route   int
	Origins []string // the origins it serves, sorted; nil when it serves all
	Deps    []deployment
}

// Label names the group's config: "route chat", or "route chat (eu)" for
// the traffic from eu when the route is split by origin.
func (g routeGroup) Label(spec simulator.Spec) string {
	l := "route " + escapeMarkdown(spec.Routes[g.Route].Name)
	if g.Origins != nil {
		l += " (" + escapeMarkdown(strings.Join(g.Origins, ", ")) + ")"
	}
	return l
}

// Suffix tells the group's names apart in configs that share one namespace
// (LiteLLM model groups, Kong routes): "" for an unsplit route, "-eu".
func (g routeGroup) Suffix() string {
	if g.Origins == nil {
		return ""
	}
	return "-" + strings.Join(g.Origins, "-")
}

// routeGroups lists, per route, the deployments the gateway can reach for
// each group of origins, best first (in the order of the group's origins,
// sorted), so that residency rules hold in what ships.
func routeGroups(spec simulator.Spec, cat *pricing.Catalog, gateway string) []routeGroup {
	bs, err := simulator.DefaultBehaviours()
	var b simulator.Behaviour
	if err == nil {
		b = bs.ByID[gateway]
	}
	origins := make([]string, 0, len(spec.Traffic.Origin))
	for o := range spec.Traffic.Origin {
		origins = append(origins, o)
	}
	slices.Sort(origins)
	var out []routeGroup
	for r := range spec.Routes {
		reach := map[string][]deployment{}
		for _, origin := range origins {
			paths := spec.RoutePaths(cat, r, origin)
			if b.ID != "" {
				paths = b.Reachable(paths)
			}
			for _, p := range paths {
				d := deployment{Model: p.Model, Provider: p.Provider, Region: p.Region, ProviderModel: providerModel(cat, p.Model, p.Provider)}
				if p.Provider == "aws-bedrock" {
					d.ProviderModel = bedrockProfile(cat, p.Model, p.Region) + d.ProviderModel
				}
				if !slices.Contains(reach[origin], d) {
					reach[origin] = append(reach[origin], d)
				}
			}
		}
		// Origins may share a config when they may use the same deployments.
		var groups []routeGroup
		for _, origin := range origins {
			i := slices.IndexFunc(groups, func(g routeGroup) bool { return sameSet(reach[g.Origins[0]], reach[origin]) })
			if i < 0 {
				groups = append(groups, routeGroup{Route: r})
				i = len(groups) - 1
			}
			groups[i].Origins = append(groups[i].Origins, origin)
			for _, d := range reach[origin] {
				if !slices.Contains(groups[i].Deps, d) {
					groups[i].Deps = append(groups[i].Deps, d)
				}
			}
		}
		if len(groups) == 1 {
			groups[0].Origins = nil
		}
		for _, g := range groups {
			if len(g.Deps) > 0 {
				out = append(out, g)
			}
		}
	}
	return out
}

// sameSet reports whether a and b hold the same deployments, in any order.
func sameSet(a, b []deployment) bool {
	if len(a) != len(b) {
		return false
	}
	for _, d := range a {
		if !slices.Contains(b, d) {
			return false
		}
	}
	return true
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
		if region == "global" {
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

// bedrockRegion is the AWS region a Bedrock client calls from: the
// deployment's own, or for the global profile the team's first Bedrock
// region (us-east-1 when it lists none).
func bedrockRegion(spec simulator.Spec, region string) string {
	if region != "global" {
		return region
	}
	for _, p := range spec.Providers {
		if p.ID == "aws-bedrock" {
			for _, r := range p.Regions {
				if r != "global" {
					return r
				}
			}
		}
	}
	return "us-east-1"
}

func providerModel(cat *pricing.Catalog, model, provider string) string {
	m, ok := cat.Model(model)
	if !ok {
		return model
	}
	for _, o := range m.Offers {
		if o.Provider == provider && o.ModelID != "" {
			return o.ModelID
		}
	}
	return model
}

// Config builds the rollout configuration of a gateway from the
// architecture's routes and fallbacks, with the gateway's simulated retry,
// timeout and cooldown settings, so what ships is what was simulated.
func Config(spec simulator.Spec, cat *pricing.Catalog, gateway string) (Snippet, error) {
	if cat == nil {
		cat = pricing.Default()
	}
	bs, err := simulator.DefaultBehaviours()
	if err != nil {
		return Snippet{}, err
	}
	b, ok := bs.ByID[gateway]
	if !ok {
		return Snippet{}, fmt.Errorf("memo: unknown gateway %q", gateway)
	}
	b.Apply(spec.GatewaySettings[gateway])
	deps := routeGroups(spec, cat, gateway)
	switch gateway {
	case "openrouter":
		return openRouter(spec, deps)
	case "portkey":
		return portkey(spec, deps, b)
	case "helicone":
		return helicone(spec, deps)
	case "litellm":
		return litellm(spec, deps, b)
	case "kong":
		return kong(spec, deps, b)
	case "cloudflare":
		return cloudflare(spec, deps, b)
	}
	return direct(spec, b)
}

func jsonBlock(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func yamlBlock(v any) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// perRoute builds one JSON block per route, or per group of origins of a
// route that residency splits.
func perRoute(spec simulator.Spec, groups []routeGroup, build func(r int, ds []deployment) any) ([]Block, error) {
	var out []Block
	for _, g := range groups {
		code, err := jsonBlock(build(g.Route, g.Deps))
		if err != nil {
			return nil, err
		}
		out = append(out, Block{Label: g.Label(spec), Code: code})
	}
	return out, nil
}

// splitNote tells the team which config serves which traffic when
// residency splits a route, or says nothing.
func splitNote(groups []routeGroup, what string) []string {
	for _, g := range groups {
		if g.Origins != nil {
			return []string{"residency splits routes by origin: send each origin's traffic with " + what + " marked for it"}
		}
	}
	return nil
}

// openRouterAuthor is the model-author prefix of OpenRouter's model slugs.
func openRouterAuthor(model string) string {
	switch {
	case strings.HasPrefix(model, "claude"):
		return "anthropic"
	case strings.HasPrefix(model, "gemini"), strings.HasPrefix(model, "gemma"):
		return "google"
	case strings.HasPrefix(model, "mistral"), strings.HasPrefix(model, "codestral"), strings.HasPrefix(model, "magistral"):
		return "mistralai"
	case strings.HasPrefix(model, "llama"):
		return "meta-llama"
	case strings.HasPrefix(model, "nova"):
		return "amazon"
	case strings.HasPrefix(model, "deepseek"):
		return "deepseek"
	}
	return "openai"
}

// openRouterProvider is OpenRouter's slug for a gatewise provider.
func openRouterProvider(p string) string {
	switch p {
	case "aws-bedrock":
		return "amazon-bedrock"
	case "google-gemini":
		return "google-ai-studio"
	case "azure-openai":
		return "azure"
	}
	return p
}

func providerOrder(ds []deployment, slug func(string) string) []string {
	var out []string
	for _, d := range ds {
		if s := slug(d.Provider); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func openRouter(spec simulator.Spec, deps []routeGroup) (Snippet, error) {
	blocks, err := perRoute(spec, deps, func(r int, ds []deployment) any {
		var models []string
		for _, m := range spec.Routes[r].Models {
			if slices.ContainsFunc(ds, func(d deployment) bool { return d.Model == m }) {
				models = append(models, openRouterAuthor(m)+"/"+m)
			}
		}
		prov := map[string]any{"order": providerOrder(ds, openRouterProvider), "only": providerOrder(ds, openRouterProvider), "allow_fallbacks": true}
		if spec.Compliance.ZeroDataRetention {
			prov["data_collection"] = "deny"
			prov["zdr"] = true
		}
		return map[string]any{"models": models, "provider": prov}
	})
	env := []string{"OPENAI_BASE_URL=https://openrouter.ai/api/v1", "OPENAI_API_KEY=$OPENROUTER_API_KEY (provider keys go into OpenRouter's BYOK settings)"}
	if len(spec.Compliance.DataResidency) > 0 {
		env[0] = "OPENAI_BASE_URL=https://eu.openrouter.ai/api/v1 (in-region routing, Business plan)"
	}
	return Snippet{Lang: "json", Blocks: blocks, Env: append(env, splitNote(deps, "the request body")...)}, err
}

func virtualKey(d deployment) string {
	if d.Region == "" || d.Region == "global" {
		return d.Provider
	}
	return d.Provider + "-" + d.Region
}

func portkey(spec simulator.Spec, deps []routeGroup, b simulator.Behaviour) (Snippet, error) {
	codes := []int{429, 500, 502, 503, 504}
	blocks, err := perRoute(spec, deps, func(r int, ds []deployment) any {
		var targets []any
		for _, d := range ds {
			targets = append(targets, map[string]any{"virtual_key": virtualKey(d), "override_params": map[string]any{"model": d.ProviderModel}})
		}
		cfg := map[string]any{
			"strategy": map[string]any{"mode": "fallback", "on_status_codes": codes},
			"retry":    map[string]any{"attempts": b.Retries, "on_status_codes": codes, "use_retry_after_headers": b.HonoursRetryAfter},
			"targets":  targets,
		}
		if b.TimeoutSeconds > 0 {
			cfg["request_timeout"] = int(b.TimeoutSeconds * 1000)
		}
		return cfg
	})
	return Snippet{Lang: "json", Blocks: blocks, Env: append([]string{
		"OPENAI_BASE_URL=https://api.portkey.ai/v1",
		"PORTKEY_API_KEY (plus one virtual key per provider and region, named as in virtual_key)",
		"x-portkey-config: <saved config id> (a header, one config per route)",
	}, splitNote(deps, "the config")...)}, err
}

func heliconeProvider(p string) string {
	switch p {
	case "aws-bedrock":
		return "bedrock"
	case "google-vertex":
		return "vertex"
	case "google-gemini":
		return "google"
	case "azure-openai":
		return "azure"
	}
	return p
}

func helicone(spec simulator.Spec, deps []routeGroup) (Snippet, error) {
	blocks, err := perRoute(spec, deps, func(r int, ds []deployment) any {
		var chain []string
		for _, d := range ds {
			if s := d.ProviderModel + "/" + heliconeProvider(d.Provider); !slices.Contains(chain, s) {
				chain = append(chain, s)
			}
		}
		return map[string]any{"model": strings.Join(chain, ",")}
	})
	return Snippet{Lang: "json", Blocks: blocks, Env: append([]string{"OPENAI_BASE_URL=https://ai-gateway.helicone.ai", "OPENAI_API_KEY=$HELICONE_API_KEY (provider keys go into Helicone's key vault)"},
		splitNote(deps, "the model chain")...)}, err
}

// litellmPrefix is LiteLLM's provider prefix for a gatewise provider.
func litellmPrefix(p string) string {
	switch p {
	case "aws-bedrock":
		return "bedrock"
	case "google-vertex":
		return "vertex_ai"
	case "google-gemini":
		return "gemini"
	case "azure-openai":
		return "azure"
	}
	return p
}

func envName(parts ...string) string {
	s := strings.ToUpper(strings.Join(parts, "_"))
	return strings.Map(func(r rune) rune {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func litellm(spec simulator.Spec, deps []routeGroup, b simulator.Behaviour) (Snippet, error) {
	type params struct {
		Model        string `yaml:"model"`
		APIKey       string `yaml:"api_key,omitempty"`
		APIBase      string `yaml:"api_base,omitempty"`
		AWSRegion    string `yaml:"aws_region_name,omitempty"`
		VertexRegion string `yaml:"vertex_location,omitempty"`
	}
	type entry struct {
		ModelName string `yaml:"model_name"`
		Params    params `yaml:"litellm_params"`
	}
	var list []entry
	var env []string
	type named struct {
		name string
		d    deployment
	}
	seen := map[named]bool{}
	var fallbacks []map[string][]string
	for _, g := range deps {
		route := spec.Routes[g.Route]
		for _, d := range g.Deps {
			// A route split by residency gets model groups of its own
			// ("gpt-4.1-eu"), so the router never balances EU traffic
			// onto a US deployment of the same model.
			name := d.Model + g.Suffix()
			if seen[named{name, d}] {
				continue
			}
			seen[named{name, d}] = true
			p := params{Model: litellmPrefix(d.Provider) + "/" + d.ProviderModel}
			switch d.Provider {
			case "aws-bedrock":
				p.AWSRegion = bedrockRegion(spec, d.Region)
			case "google-vertex":
				p.VertexRegion = d.Region
			default:
				key := envName(d.Provider, "API_KEY")
				p.APIKey = "os.environ/" + key
				if !slices.Contains(env, key) {
					env = append(env, key)
				}
				if d.Region != "global" && (d.Provider == "azure-openai" || len(spec.Providers) > 0 && hasManyRegions(spec, d.Provider)) {
					base := envName(d.Provider, d.Region, "API_BASE")
					p.APIBase = "os.environ/" + base
					if !slices.Contains(env, base) {
						env = append(env, base)
					}
				}
			}
			list = append(list, entry{ModelName: name, Params: p})
		}
		// The first of the route's models the group can reach is called;
		// the rest are its fallbacks.
		var chain []string
		for _, m := range route.Models {
			if slices.ContainsFunc(g.Deps, func(d deployment) bool { return d.Model == m }) {
				chain = append(chain, m+g.Suffix())
			}
		}
		if len(chain) > 1 && !slices.ContainsFunc(fallbacks, func(f map[string][]string) bool { _, ok := f[chain[0]]; return ok }) {
			fallbacks = append(fallbacks, map[string][]string{chain[0]: chain[1:]})
		}
	}
	router := map[string]any{
		"num_retries":   b.Retries,
		"allowed_fails": b.Cooldown.AfterFails,
		"cooldown_time": b.Cooldown.Seconds,
		"fallbacks":     fallbacks,
	}
	if b.TimeoutSeconds > 0 {
		router["timeout"] = b.TimeoutSeconds
	}
	code, err := yamlBlock(map[string]any{"model_list": list, "router_settings": router})
	env = append(append([]string{"OPENAI_BASE_URL=http://<litellm-host>:4000", "OPENAI_API_KEY=$LITELLM_MASTER_KEY (provider keys below live only on the proxy)"},
		splitNote(deps, "the model names")...), env...)
	return Snippet{Lang: "yaml", Blocks: []Block{{Label: "config.yaml", Code: code}}, Env: env}, err
}

func hasManyRegions(spec simulator.Spec, provider string) bool {
	for _, p := range spec.Providers {
		if p.ID == provider {
			return len(p.Regions) > 1
		}
	}
	return false
}

// kongProvider is ai-proxy-advanced's provider name for a gatewise provider.
func kongProvider(p string) string {
	switch p {
	case "aws-bedrock":
		return "bedrock"
	case "google-vertex", "google-gemini":
		return "gemini"
	case "azure-openai":
		return "azure"
	}
	return p
}

func kong(spec simulator.Spec, deps []routeGroup, b simulator.Behaviour) (Snippet, error) {
	timeout := int(b.TimeoutSeconds * 1000)
	var plugins []any
	var env []string
	for _, g := range deps {
		route := spec.Routes[g.Route]
		var targets []any
		for i, d := range g.Deps {
			key := envName(d.Provider, "API_KEY")
			if !slices.Contains(env, key) {
				env = append(env, key)
			}
			model := map[string]any{"provider": kongProvider(d.Provider), "name": d.ProviderModel}
			switch d.Provider {
			case "aws-bedrock":
				model["options"] = map[string]any{"bedrock": map[string]any{"aws_region": bedrockRegion(spec, d.Region)}}
			case "google-vertex":
				model["options"] = map[string]any{"gemini": map[string]any{"location_id": d.Region}}
			}
			targets = append(targets, map[string]any{
				"route_type": "llm/v1/chat",
				"model":      model,
				"auth":       map[string]any{"header_name": "Authorization", "header_value": "Bearer {vault://env/" + strings.ToLower(strings.ReplaceAll(key, "_", "-")) + "}"},
				"weight":     max(100-10*i, 1),
			})
		}
		plugins = append(plugins, map[string]any{
			"name":  "ai-proxy-advanced",
			"route": route.Name + g.Suffix(),
			"config": map[string]any{
				"balancer": map[string]any{
					"algorithm":         "priority",
					"retries":           b.Retries,
					"failover_criteria": []string{"error", "timeout", "http_429", "http_500", "http_502", "http_503", "http_504"},
					"connect_timeout":   timeout,
					"read_timeout":      timeout,
					"write_timeout":     timeout,
				},
				"targets": targets,
			},
		})
	}
	code, err := yamlBlock(map[string]any{"_format_version": "3.0", "plugins": plugins})
	env = append(append([]string{"OPENAI_BASE_URL=https://<kong-proxy>/<route>"}, splitNote(deps, "the Kong routes")...), env...)
	return Snippet{Lang: "yaml", Blocks: []Block{{Label: "kong.yaml (decK)", Code: code}}, Env: env}, err
}

// cloudflareProvider is the universal endpoint's provider name.
func cloudflareProvider(p string) string {
	switch p {
	case "google-vertex":
		return "google-vertex-ai"
	case "google-gemini":
		return "google-ai-studio"
	case "azure-openai":
		return "azure-openai"
	}
	return p
}

func cloudflare(spec simulator.Spec, deps []routeGroup, b simulator.Behaviour) (Snippet, error) {
	blocks, err := perRoute(spec, deps, func(r int, ds []deployment) any {
		var steps []any
		for _, d := range ds {
			step := map[string]any{
				"provider": cloudflareProvider(d.Provider),
				"endpoint": "chat/completions",
				"headers":  map[string]any{"Authorization": "Bearer $" + envName(d.Provider, "API_KEY")},
				"query":    map[string]any{"model": d.ProviderModel, "messages": []any{}},
			}
			cfg := map[string]any{"maxAttempts": b.Retries + 1, "backoff": "exponential", "retryDelay": int(b.Backoff(0) * 1000)}
			if b.TimeoutSeconds > 0 {
				cfg["requestTimeout"] = int(b.TimeoutSeconds * 1000)
			}
			step["config"] = cfg
			steps = append(steps, step)
		}
		return steps
	})
	return Snippet{Lang: "json", Blocks: blocks, Env: append([]string{"POST https://gateway.ai.cloudflare.com/v1/$CF_ACCOUNT_ID/$CF_GATEWAY_ID (universal endpoint)", "cf-aig-authorization: Bearer $CF_AIG_TOKEN"},
		splitNote(deps, "the request body")...)}, err
}

func direct(spec simulator.Spec, b simulator.Behaviour) (Snippet, error) {
	clients := map[string]any{}
	for _, p := range spec.Providers {
		clients[p.ID] = map[string]any{"max_retries": b.Retries, "timeout_seconds": b.TimeoutSeconds, "primary_region": p.Regions[0]}
	}
	code, err := yamlBlock(map[string]any{"sdk_clients": clients})
	return Snippet{Lang: "yaml", Blocks: []Block{{Label: "SDK client settings (OpenAI/Anthropic SDK `max_retries`, `timeout`)", Code: code}}, Env: []string{"none: keep the provider keys and base URLs you use today"}}, err
}
