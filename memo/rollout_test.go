package memo

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"gatewise/pricing"
	"gatewise/simulator"
)

// shipped is what a rendered bundle says it deploys, read back from its
// files: the rules and, per route plan file, the targets in order.
type shipped struct {
	Retries        int
	RetryOn        []string
	FailOverOn     []string
	TimeoutSeconds float64
	Cooldown       *simulator.Cooldown
	ClientRetries  int
	ClientTimeout  float64
	Routes         map[string][]simulator.Target // by the route plan's slug
}

// expected is the part of a plan each format can say, by slug.
func expected(t *testing.T, spec simulator.Spec, plan simulator.Plan) shipped {
	t.Helper()
	r := renderer{spec: spec, plan: plan}
	out := shipped{Retries: plan.Retries, RetryOn: plan.RetryOn, FailOverOn: plan.FailOverOn, TimeoutSeconds: plan.TimeoutSeconds,
		Cooldown: plan.Cooldown, ClientRetries: plan.Client.Retries, ClientTimeout: plan.Client.TimeoutSeconds, Routes: map[string][]simulator.Target{}}
	for _, rp := range plan.Routes {
		out.Routes[r.slug(rp)] = rp.Targets
	}
	return out
}

// modelOf maps a provider's own model id back to the catalog's model, over
// every model and region of the architecture.
func modelOf(t *testing.T, spec simulator.Spec, cat *pricing.Catalog) func(provider, id string) string {
	t.Helper()
	ids := map[[2]string]string{}
	for _, r := range spec.Routes {
		for _, m := range r.Models {
			for _, p := range spec.Providers {
				for _, reg := range append(slices.Clone(p.Regions), "global") {
					ids[[2]string{p.ID, simulator.ProviderModel(cat, m, p.ID, reg)}] = m
				}
			}
		}
	}
	return func(provider, id string) string {
		m, ok := ids[[2]string{provider, id}]
		if !ok {
			t.Errorf("%s model id %q is none of the architecture's models", provider, id)
		}
		return m
	}
}

// conditions reads statuses back into a plan's conditions: 408 is a
// timeout, 5xx needs all four of 500, 502, 503 and 504.
func conditions(t *testing.T, codes []int) []string {
	t.Helper()
	var out []string
	has := func(c int) bool { return slices.Contains(codes, c) }
	if has(429) {
		out = append(out, simulator.On429)
	}
	switch n := len(slices.DeleteFunc(slices.Clone(codes), func(c int) bool { return c != 500 && c != 502 && c != 503 && c != 504 })); n {
	case 4:
		out = append(out, simulator.On5xx)
	case 0:
	default:
		t.Errorf("codes %v list some of 500, 502, 503, 504 but not all: the engine cannot simulate that", codes)
	}
	if has(529) {
		out = append(out, simulator.On529)
	}
	if has(408) {
		out = append(out, simulator.OnTimeout)
	}
	return out
}

func sameConds(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func parseJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
}

func parseYAML(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
}

// regionOfEnv reads the region out of a variable named AZURE_<REGION>_….
func regionOfEnv(v string) string {
	v = strings.Trim(v, "${}")
	v = strings.TrimPrefix(strings.TrimPrefix(v, "os.environ/"), "AZURE_")
	for _, suffix := range []string{"_RESOURCE", "_API_BASE", "_API_KEY"} {
		v = strings.TrimSuffix(v, suffix)
	}
	v = strings.TrimPrefix(v, "RESOURCE_")
	return strings.ToLower(v)
}

// openAIRegion reads the region out of an OpenAI host.
func openAIRegion(base string) string {
	if base == "" {
		return "us"
	}
	u, _ := url.Parse(base)
	if u.Host == "api.openai.com" {
		return "us"
	}
	return strings.TrimSuffix(u.Host, ".api.openai.com")
}

// bedrockRegion reads a Bedrock target's region: a global inference
// profile is region global whichever region calls it.
func bedrockTargetRegion(model, region string) string {
	if strings.HasPrefix(model, "global.") {
		return "global"
	}
	return region
}

// readBack parses a bundle in its gateway's format.
func readBack(t *testing.T, spec simulator.Spec, cat *pricing.Catalog, b Bundle) shipped {
	t.Helper()
	model := modelOf(t, spec, cat)
	out := shipped{Routes: map[string][]simulator.Target{}}
	var sdk struct {
		Client struct {
			MaxRetries int     `yaml:"max_retries"`
			Timeout    float64 `yaml:"timeout_seconds"`
		} `yaml:"client"`
		Clients map[string]struct {
			Provider, Region, Model string
			MaxRetries              int     `yaml:"max_retries"`
			Timeout                 float64 `yaml:"timeout_seconds"`
		} `yaml:"clients"`
	}
	data, ok := b.File("sdk.yaml")
	if !ok {
		t.Fatal("no sdk.yaml")
	}
	parseYAML(t, data, &sdk)
	out.ClientRetries, out.ClientTimeout = sdk.Client.MaxRetries, sdk.Client.Timeout
	files := map[string][]byte{}
	for _, f := range b.Files {
		files[f.Name] = f.Content
	}
	slugOf := func(name, dir, ext string) string {
		return strings.TrimSuffix(strings.TrimPrefix(name, dir+"/"), ext)
	}
	switch b.Gateway {
	case "direct":
		for slug, c := range sdk.Clients {
			out.ClientRetries, out.ClientTimeout = c.MaxRetries, c.Timeout
			out.Routes[slug] = []simulator.Target{{Provider: c.Provider, Region: c.Region, Model: model(c.Provider, c.Model)}}
		}
	case "portkey":
		providers := map[string]string{"openai": "openai", "anthropic": "anthropic", "azure-openai": "azure-openai", "bedrock": "aws-bedrock", "vertex-ai": "google-vertex", "google": "google-gemini", "mistral-ai": "mistral"}
		for name, data := range files {
			if !strings.HasPrefix(name, "portkey/") {
				continue
			}
			var cfg struct {
				Strategy struct {
					Mode          string `json:"mode"`
					OnStatusCodes []int  `json:"on_status_codes"`
				} `json:"strategy"`
				Retry *struct {
					Attempts      int   `json:"attempts"`
					OnStatusCodes []int `json:"on_status_codes"`
				} `json:"retry"`
				RequestTimeout int `json:"request_timeout"`
				Targets        []struct {
					Provider       string            `json:"provider"`
					APIKey         string            `json:"api_key"`
					CustomHost     string            `json:"custom_host"`
					AWSRegion      string            `json:"aws_region"`
					AWSKey         string            `json:"aws_access_key_id"`
					VertexRegion   string            `json:"vertex_region"`
					Resource       string            `json:"resource_name"`
					Deployment     string            `json:"deployment_id"`
					OverrideParams map[string]string `json:"override_params"`
				} `json:"targets"`
			}
			parseJSON(t, data, &cfg)
			if cfg.Strategy.Mode != "fallback" {
				t.Errorf("%s: strategy mode %q", name, cfg.Strategy.Mode)
			}
			// Portkey retries a connection error whenever it retries, and
			// ends it as a 500: it follows 5xx.
			withConnection := func(c []string) []string {
				if slices.Contains(c, simulator.On5xx) {
					c = append(c, simulator.OnConnection)
				}
				return c
			}
			out.FailOverOn = withConnection(conditions(t, cfg.Strategy.OnStatusCodes))
			if cfg.Retry != nil {
				out.Retries, out.RetryOn = cfg.Retry.Attempts, withConnection(conditions(t, cfg.Retry.OnStatusCodes))
			}
			out.TimeoutSeconds = float64(cfg.RequestTimeout) / 1000
			var ts []simulator.Target
			for _, tg := range cfg.Targets {
				p := providers[tg.Provider]
				tr := simulator.Target{Provider: p, Model: model(p, tg.OverrideParams["model"]), ProviderModel: tg.OverrideParams["model"]}
				switch p {
				case "aws-bedrock":
					tr.Region = bedrockTargetRegion(tr.ProviderModel, tg.AWSRegion)
				case "google-vertex":
					tr.Region = tg.VertexRegion
				case "azure-openai":
					tr.Region = regionOfEnv(tg.Resource)
				case "openai":
					tr.Region = openAIRegion(tg.CustomHost)
				case "anthropic":
					tr.Region = "global"
					if tg.OverrideParams["inference_geo"] == "us" {
						tr.Region = "us"
					}
				case "mistral":
					tr.Region = "eu"
				case "google-gemini":
					tr.Region = "global"
				}
				if p != "aws-bedrock" && !strings.HasPrefix(tg.APIKey, "${") {
					t.Errorf("%s: a key that is not a variable: %q", name, tg.APIKey)
				}
				ts = append(ts, tr)
			}
			out.Routes[slugOf(name, "portkey", ".json")] = ts
		}
	case "litellm":
		var cfg struct {
			ModelList []struct {
				ModelName string            `yaml:"model_name"`
				Params    map[string]string `yaml:"litellm_params"`
			} `yaml:"model_list"`
			Router struct {
				NumRetries   int                   `yaml:"num_retries"`
				Timeout      float64               `yaml:"timeout"`
				AllowedFails *int                  `yaml:"allowed_fails"`
				CooldownTime float64               `yaml:"cooldown_time"`
				Fallbacks    []map[string][]string `yaml:"fallbacks"`
			} `yaml:"router_settings"`
		}
		parseYAML(t, files["litellm/config.yaml"], &cfg)
		prefixes := map[string]string{"openai": "openai", "anthropic": "anthropic", "azure": "azure-openai", "bedrock": "aws-bedrock", "vertex_ai": "google-vertex", "gemini": "google-gemini", "mistral": "mistral"}
		groups := map[string]simulator.Target{}
		for _, e := range cfg.ModelList {
			if _, dup := groups[e.ModelName]; dup {
				t.Errorf("model group %s has more than one deployment: LiteLLM would shuffle between them", e.ModelName)
			}
			prefix, id, _ := strings.Cut(e.Params["model"], "/")
			p := prefixes[prefix]
			tr := simulator.Target{Provider: p, Model: model(p, id), ProviderModel: id}
			switch p {
			case "aws-bedrock":
				tr.Region = bedrockTargetRegion(id, e.Params["aws_region_name"])
			case "google-vertex":
				tr.Region = e.Params["vertex_location"]
			case "azure-openai":
				tr.Region = regionOfEnv(e.Params["api_base"])
			case "openai":
				tr.Region = openAIRegion(e.Params["api_base"])
			case "anthropic":
				tr.Region = "global"
				if e.Params["inference_geo"] == "us" {
					tr.Region = "us"
				}
			case "mistral":
				tr.Region = "eu"
			case "google-gemini":
				tr.Region = "global"
			}
			groups[e.ModelName] = tr
		}
		for name := range groups {
			if strings.Contains(name, "/") {
				continue
			}
			ts := []simulator.Target{groups[name]}
			for _, f := range cfg.Router.Fallbacks {
				for _, g := range f[name] {
					ts = append(ts, groups[g])
				}
			}
			out.Routes[name] = ts
		}
		out.Retries, out.TimeoutSeconds = cfg.Router.NumRetries, cfg.Router.Timeout
		// The router's rule, as the plan states it (gateway_behaviour.yaml).
		out.RetryOn, out.FailOverOn = []string{simulator.On429, simulator.On5xx, simulator.On529, simulator.OnTimeout, simulator.OnConnection}, []string{simulator.On429, simulator.On5xx, simulator.On529, simulator.OnTimeout, simulator.OnConnection}
		if a := cfg.Router.AllowedFails; a != nil && *a != 3 {
			out.Cooldown = &simulator.Cooldown{Kind: simulator.CooldownTarget, AfterFails: *a + 1, WindowSeconds: cfg.Router.CooldownTime, Seconds: cfg.Router.CooldownTime, FirstFailureOnly: true}
		}
	case "kong":
		var deck struct {
			Format   string `yaml:"_format_version"`
			Services []struct {
				Routes []struct {
					Name    string `yaml:"name"`
					Plugins []struct {
						Config struct {
							Balancer struct {
								Algorithm        string   `yaml:"algorithm"`
								Retries          int      `yaml:"retries"`
								FailoverCriteria []string `yaml:"failover_criteria"`
								ReadTimeout      int      `yaml:"read_timeout"`
								MaxFails         int      `yaml:"max_fails"`
								FailTimeout      int      `yaml:"fail_timeout"`
							} `yaml:"balancer"`
							Targets []struct {
								Weight int `yaml:"weight"`
								Model  struct {
									Provider string         `yaml:"provider"`
									Name     string         `yaml:"name"`
									Options  map[string]any `yaml:"options"`
								} `yaml:"model"`
								Auth map[string]any `yaml:"auth"`
							} `yaml:"targets"`
						} `yaml:"config"`
					} `yaml:"plugins"`
				} `yaml:"routes"`
			} `yaml:"services"`
		}
		parseYAML(t, files["kong/kong.yaml"], &deck)
		if deck.Format != "3.0" || len(deck.Services) != 1 {
			t.Fatalf("kong.yaml: format %q with %d services", deck.Format, len(deck.Services))
		}
		for _, route := range deck.Services[0].Routes {
			cfg := route.Plugins[0].Config
			bal := cfg.Balancer
			if bal.Algorithm != "priority" {
				t.Errorf("%s: balancer %q", route.Name, bal.Algorithm)
			}
			if bal.Retries != len(cfg.Targets)-1 {
				t.Errorf("%s: %d balancer retries for %d targets: some target would not be tried", route.Name, bal.Retries, len(cfg.Targets))
			}
			var conds []string
			for _, c := range bal.FailoverCriteria {
				switch c {
				case "error":
					conds = append(conds, simulator.OnConnection)
				case "timeout":
					conds = append(conds, simulator.OnTimeout)
				case "http_429":
					conds = append(conds, simulator.On429)
				case "http_500":
					conds = append(conds, simulator.On5xx)
				}
			}
			if slices.Contains(conds, simulator.On429) && !slices.Contains(bal.FailoverCriteria, "non_idempotent") {
				t.Errorf("%s: HTTP statuses listed without non_idempotent: a POST would never fail over on them", route.Name)
			}
			out.FailOverOn, out.TimeoutSeconds = conds, float64(bal.ReadTimeout)/1000
			if bal.MaxFails > 0 {
				out.Cooldown = &simulator.Cooldown{Kind: simulator.CooldownTarget, AfterFails: bal.MaxFails, WindowSeconds: float64(bal.FailTimeout) / 1000, Seconds: float64(bal.FailTimeout) / 1000}
			}
			targets := slices.Clone(cfg.Targets)
			sort.SliceStable(targets, func(i, j int) bool { return targets[i].Weight > targets[j].Weight })
			var ts []simulator.Target
			for i, tg := range targets {
				if i > 0 && tg.Weight == targets[i-1].Weight {
					t.Errorf("%s: two targets share weight %d, so Kong balances between them", route.Name, tg.Weight)
				}
				var p, region string
				opts := tg.Model.Options
				switch tg.Model.Provider {
				case "openai":
					p, region = "openai", openAIRegion(strings.TrimSuffix(fmt.Sprint(opts["upstream_url"]), "/chat/completions"))
				case "anthropic":
					p, region = "anthropic", "global"
					if opts["anthropic_version"] == nil {
						t.Errorf("%s: an Anthropic target without anthropic_version", route.Name)
					}
				case "mistral":
					p, region = "mistral", "eu"
				case "azure":
					p, region = "azure-openai", regionOfEnv(fmt.Sprint(opts["azure_instance"]))
				case "bedrock":
					p = "aws-bedrock"
					region = bedrockTargetRegion(tg.Model.Name, fmt.Sprint(opts["bedrock"].(map[string]any)["aws_region"]))
				case "gemini":
					if g, ok := opts["gemini"].(map[string]any); ok {
						p, region = "google-vertex", fmt.Sprint(g["location_id"])
					} else {
						p, region = "google-gemini", "global"
					}
				}
				for k, v := range tg.Auth {
					if s, ok := v.(string); ok && strings.Contains(s, "{vault://") && !(strings.HasPrefix(s, "{vault://") && strings.HasSuffix(s, "}")) {
						t.Errorf("%s: auth %s %q: a vault reference must be the whole value", route.Name, k, s)
					}
				}
				ts = append(ts, simulator.Target{Provider: p, Region: region, Model: model(p, tg.Model.Name), ProviderModel: tg.Model.Name})
			}
			out.Routes[route.Name] = ts
		}
	case "openrouter":
		providers := map[string]string{"openai": "openai", "anthropic": "anthropic", "azure": "azure-openai", "amazon-bedrock": "aws-bedrock", "google-vertex": "google-vertex", "google-ai-studio": "google-gemini", "mistral": "mistral"}
		for name, data := range files {
			if !strings.HasPrefix(name, "openrouter/") {
				continue
			}
			var req struct {
				Models   []string `json:"models"`
				Provider struct {
					Order []string `json:"order"`
					Only  []string `json:"only"`
				} `json:"provider"`
			}
			parseJSON(t, data, &req)
			if len(req.Models) > 3 {
				t.Errorf("%s: %d models; OpenRouter refuses more than 3", name, len(req.Models))
			}
			if !slices.Equal(req.Provider.Order, req.Provider.Only) {
				t.Errorf("%s: order %v and only %v differ, so OpenRouter could leave them", name, req.Provider.Order, req.Provider.Only)
			}
			// OpenRouter tries each model on the ordered providers that
			// serve it; it picks the provider's endpoint.
			var ts []simulator.Target
			for _, m := range req.Models {
				_, id, _ := strings.Cut(m, "/")
				for _, slug := range req.Provider.Order {
					p := providers[slug]
					if cm, ok := cat.Model(id); ok && slices.Contains(cm.Hosts, p) {
						ts = append(ts, simulator.Target{Provider: p, Model: id})
					}
				}
			}
			out.Routes[slugOf(name, "openrouter", ".json")] = ts
		}
	case "helicone":
		providers := map[string]string{"openai": "openai", "anthropic": "anthropic", "azure": "azure-openai", "bedrock": "aws-bedrock", "vertex": "google-vertex", "google-ai-studio": "google-gemini", "mistral": "mistral"}
		for name, data := range files {
			if !strings.HasPrefix(name, "helicone/") {
				continue
			}
			var req struct{ Model string }
			parseJSON(t, data, &req)
			var ts []simulator.Target
			for _, entry := range strings.Split(req.Model, ",") {
				parts := strings.SplitN(entry, "/", 3)
				if len(parts) != 3 {
					t.Fatalf("%s: entry %q does not pin a provider key", name, entry)
				}
				p := providers[parts[1]]
				region := strings.TrimPrefix(parts[2], parts[1]+"-")
				ts = append(ts, simulator.Target{Provider: p, Region: region, Model: heliconeRegistry(t, spec, cat, p, region, parts[0])})
			}
			out.Routes[slugOf(name, "helicone", ".json")] = ts
		}
	case "cloudflare":
		providers := map[string]string{"openai": "openai", "anthropic": "anthropic", "aws-bedrock": "aws-bedrock", "google-vertex-ai": "google-vertex", "google-ai-studio": "google-gemini", "mistral": "mistral"}
		var keys []struct {
			Gateway  string `json:"gateway"`
			Provider string `json:"provider_slug"`
			Region   string `json:"region"`
		}
		parseJSON(t, files["cloudflare/provider-keys.json"], &keys)
		for name, data := range files {
			if !strings.HasPrefix(name, "cloudflare/") || name == "cloudflare/provider-keys.json" {
				continue
			}
			var route struct {
				Gateway  string `json:"gateway"`
				Elements []struct {
					ID         string         `json:"id"`
					Type       string         `json:"type"`
					Properties map[string]any `json:"properties"`
					Outputs    map[string]struct {
						ElementID string `json:"elementId"`
					} `json:"outputs"`
				} `json:"elements"`
			}
			parseJSON(t, data, &route)
			byID := map[string]int{}
			for i, e := range route.Elements {
				byID[e.ID] = i
			}
			var ts []simulator.Target
			for at := route.Elements[byID["start"]].Outputs["next"].ElementID; at != "end"; {
				e := route.Elements[byID[at]]
				if e.Type != "model" {
					t.Fatalf("%s: element %s is a %s", name, e.ID, e.Type)
				}
				p := providers[fmt.Sprint(e.Properties["provider"])]
				id := fmt.Sprint(e.Properties["model"])
				region := "global"
				for _, k := range keys {
					if k.Gateway == route.Gateway && providers[k.Provider] == p && k.Region != "" {
						region = k.Region
					}
				}
				switch p {
				case "aws-bedrock":
					region = bedrockTargetRegion(id, region)
				case "openai":
					region = "us"
				case "mistral":
					region = "eu"
				}
				out.Retries = int(e.Properties["retries"].(float64))
				out.TimeoutSeconds = e.Properties["timeout"].(float64) / 1000
				ts = append(ts, simulator.Target{Provider: p, Region: region, Model: model(p, id)})
				if e.Outputs["success"].ElementID != "end" {
					t.Errorf("%s: %s does not end on success", name, e.ID)
				}
				at = e.Outputs["fallback"].ElementID
			}
			out.Routes[slugOf(name, "cloudflare", ".json")] = ts
		}
	}
	return out
}

// heliconeRegistry maps a Helicone model id back to the catalog's model.
func heliconeRegistry(t *testing.T, spec simulator.Spec, cat *pricing.Catalog, provider, region, id string) string {
	t.Helper()
	for _, r := range spec.Routes {
		for _, m := range r.Models {
			if heliconeModel(simulator.Target{Model: m, ProviderModel: simulator.ProviderModel(cat, m, provider, region)}) == id {
				return m
			}
		}
	}
	t.Errorf("Helicone id %q (%s %s) is none of the architecture's models", id, provider, region)
	return ""
}

// bundleCases are the architectures whose bundles must read back: the
// examples and the decision table's.
func bundleCases(t *testing.T) map[string]simulator.Spec {
	t.Helper()
	cat := pricing.Default()
	out := map[string]simulator.Spec{}
	for _, name := range []string{"multi-region", "single-provider", "eu-regulated"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "examples", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		spec, err := simulator.Load(data, cat)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = spec
	}
	for _, c := range decisionTable() {
		spec, err := simulator.Load([]byte(c.file), cat)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out[c.name] = spec
	}
	return out
}

// What ships is what was simulated: every option's bundle, for every case,
// parses back into the plan the simulator runs: the same targets in the
// same order per route plan, the same retries, failover conditions,
// timeout, cooldown and client retries. Fields a format cannot say
// (OpenRouter picks each provider's endpoint; LiteLLM's rule which errors
// retry is the router's own) are compared as the plan states them.
func TestRolloutParsesBackToThePlan(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	for name, spec := range bundleCases(t) {
		for _, g := range simulator.GatewayIDs() {
			t.Run(name+"/"+g, func(t *testing.T) {
				t.Parallel()
				s := spec
				s.Gateways = []string{g}
				plan, err := s.PlanFor(cat, g)
				if err != nil {
					t.Fatal(err)
				}
				b, err := Rollout(s, plan, cat)
				if err != nil {
					t.Fatal(err)
				}
				got, want := readBack(t, s, cat, b), expected(t, s, plan)
				for slug, ts := range want.Routes {
					for i := range ts {
						ts[i].ProviderModel = ""
						if g == "openrouter" {
							ts[i].Region = "" // OpenRouter chooses the endpoint
						}
					}
					gt := got.Routes[slug]
					for i := range gt {
						gt[i].ProviderModel = ""
					}
					if !reflect.DeepEqual(gt, ts) {
						t.Errorf("route plan %s ships\n  %v\nsimulated\n  %v", slug, gt, ts)
					}
				}
				for slug := range got.Routes {
					if _, ok := want.Routes[slug]; !ok {
						t.Errorf("the bundle ships route %s, which the plan does not have", slug)
					}
				}
				if got.ClientRetries != want.ClientRetries || got.ClientTimeout != want.ClientTimeout {
					t.Errorf("SDK: %d retries, %g s; simulated %d, %g s", got.ClientRetries, got.ClientTimeout, want.ClientRetries, want.ClientTimeout)
				}
				switch g {
				case "direct", "openrouter", "helicone":
					return // no gateway rules a config states
				}
				if g != "kong" && got.Retries != want.Retries {
					t.Errorf("retries %d, simulated %d", got.Retries, want.Retries)
				}
				if g == "portkey" && !sameConds(got.RetryOn, want.RetryOn) {
					t.Errorf("retry on %v, simulated %v", got.RetryOn, want.RetryOn)
				}
				if g != "cloudflare" && !sameConds(got.FailOverOn, want.FailOverOn) {
					t.Errorf("fail over on %v, simulated %v", got.FailOverOn, want.FailOverOn)
				}
				if got.TimeoutSeconds != want.TimeoutSeconds {
					t.Errorf("timeout %g s, simulated %g s", got.TimeoutSeconds, want.TimeoutSeconds)
				}
				if (g == "litellm" || g == "kong") && !reflect.DeepEqual(got.Cooldown, want.Cooldown) {
					t.Errorf("cooldown %+v, simulated %+v", got.Cooldown, want.Cooldown)
				}
			})
		}
	}
}

// Residency holds in every file: in the multi-region example EU traffic
// must stay in the EU, so every EU route plan's targets are in the EU, and
// no file for EU traffic names a US host.
func TestRolloutKeepsResidency(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	spec := bundleCases(t)["multi-region"]
	for _, g := range []string{"portkey", "litellm", "kong", "helicone", "openrouter"} {
		plan, err := spec.PlanFor(cat, g)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, rp := range plan.Routes {
			if !slices.Contains(rp.Origins, "eu") {
				continue
			}
			seen++
			if !slices.Equal(rp.Origins, []string{"eu"}) {
				t.Errorf("%s: %s shares EU traffic with %v", g, rp.Label(), rp.Origins)
			}
			for _, tg := range rp.Targets {
				if j, _ := cat.Jurisdiction(tg.Provider, tg.Region); j != "eu" {
					t.Errorf("%s: %s sends EU traffic to %s %s (%s)", g, rp.Label(), tg.Provider, tg.Region, j)
				}
			}
		}
		if seen != len(spec.Routes) {
			t.Errorf("%s: %d route plans for EU traffic, want one per route", g, seen)
		}
		b, err := Rollout(spec, plan, cat)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range b.Files {
			if strings.HasSuffix(f.Name, "-eu.json") && (bytes.Contains(f.Content, []byte("//api.openai.com")) || bytes.Contains(f.Content, []byte("us-east-1"))) {
				t.Errorf("%s: %s names a US host:\n%s", g, f.Name, f.Content)
			}
		}
	}
}

// The .env.example names every variable the files read, each once, and
// the zip holds every file under one folder, byte for byte the same each
// time.
func TestRolloutEnvAndZip(t *testing.T) {
	t.Parallel()
	cat := pricing.Default()
	spec := bundleCases(t)["multi-region"]
	for _, g := range simulator.GatewayIDs() {
		plan, err := spec.PlanFor(cat, g)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Rollout(spec, plan, cat)
		if err != nil {
			t.Fatal(err)
		}
		env, _ := b.File(".env.example")
		var names []string
		for _, line := range strings.Split(string(env), "\n") {
			if name, ok := strings.CutSuffix(line, "="); ok {
				if slices.Contains(names, name) {
					t.Errorf("%s: %s listed twice", g, name)
				}
				names = append(names, name)
			}
		}
		for _, f := range b.Files {
			if f.Name == ".env.example" || f.Name == "README.md" {
				continue
			}
			for _, ref := range envRefs(string(f.Content)) {
				if !slices.Contains(names, ref) {
					t.Errorf("%s: %s reads %s, which .env.example does not name", g, f.Name, ref)
				}
			}
		}
		var z1, z2 bytes.Buffer
		if err := b.Zip(&z1); err != nil {
			t.Fatal(err)
		}
		b.Zip(&z2)
		if !bytes.Equal(z1.Bytes(), z2.Bytes()) {
			t.Errorf("%s: the zip differs between two writes", g)
		}
		zr, err := zip.NewReader(bytes.NewReader(z1.Bytes()), int64(z1.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if len(zr.File) != len(b.Files) || !strings.HasPrefix(zr.File[0].Name, "gatewise-"+g+"/") {
			t.Errorf("%s: zip has %d files, first %q", g, len(zr.File), zr.File[0].Name)
		}
	}
}

// envRefs finds the variables a file reads: ${VAR}, os.environ/VAR,
// {vault://env/var}, api_key_env and secret_env values.
func envRefs(s string) []string {
	var out []string
	for _, pat := range []struct{ open, close string }{{"${", "}"}, {"os.environ/", "\n"}, {"{vault://env/", "}"}, {"api_key_env: ", "\n"}, {`"secret_env": "`, `"`}} {
		rest := s
		for {
			i := strings.Index(rest, pat.open)
			if i < 0 {
				break
			}
			rest = rest[i+len(pat.open):]
			j := strings.Index(rest, pat.close)
			if j < 0 {
				j = len(rest)
			}
			v := strings.TrimSpace(rest[:j])
			if pat.open == "{vault://env/" {
				v = strings.ToUpper(strings.ReplaceAll(v, "-", "_"))
			}
			out = append(out, v)
			rest = rest[j:]
		}
	}
	return out
}
