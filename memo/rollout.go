package memo

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"gatewise/pricing"
	"gatewise/simulator"
)

// Bundle is what ships an option: its config in the gateway's native format
// (one per route plan where residency splits routes by origin), the SDK
// client settings, an .env.example naming each variable once, and a README
// with the confirmation drill. Every file renders the option's Plan, the
// one the simulation ran, and nothing else.
type Bundle struct {
	Gateway string
	Files   []File
	// Env lists each environment variable the files read, once, with what
	// it holds.
	Env []EnvVar
	// configs counts the native config files, for the memo's one line.
	configs int
	what    string
}

// File is one file of a bundle, by its path inside the bundle.
type File struct {
	Name    string
	Content []byte
}

// EnvVar is one variable a bundle's files read.
type EnvVar struct {
	Name, What string
}

// Summary lists what the bundle holds, for the memo's pointer to it.
func (b Bundle) Summary() []string {
	var out []string
	if b.configs > 0 {
		n := count(b.configs, b.what, b.what+"s")
		out = append(out, strings.ToLower(n[:1])+n[1:])
	}
	return append(out, "the SDK client settings", "an .env.example", "a README with the confirmation drill")
}

// File finds a file of the bundle by name.
func (b Bundle) File(name string) ([]byte, bool) {
	for _, f := range b.Files {
		if f.Name == name {
			return f.Content, true
		}
	}
	return nil, false
}

// Zip writes the bundle as a zip archive under a folder named for the
// gateway, with a fixed time on every entry so the same bundle gives the
// same bytes.
func (b Bundle) Zip(w io.Writer) error {
	z := zip.NewWriter(w)
	for _, f := range b.Files {
		h := &zip.FileHeader{Name: "gatewise-" + b.Gateway + "/" + f.Name, Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		fw, err := z.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Content); err != nil {
			return err
		}
	}
	return z.Close()
}

// Rollout renders an option's plan as its bundle.
func Rollout(spec simulator.Spec, plan simulator.Plan, cat *pricing.Catalog) (Bundle, error) {
	if cat == nil {
		cat = pricing.Default()
	}
	r := renderer{spec: spec, plan: plan, cat: cat, b: Bundle{Gateway: plan.Gateway}}
	var err error
	switch plan.Gateway {
	case "direct":
		err = nil
	case "portkey":
		err = r.portkey()
	case "litellm":
		err = r.litellm()
	case "kong":
		err = r.kong()
	case "openrouter":
		err = r.openRouter()
	case "helicone":
		err = r.helicone()
	case "cloudflare":
		err = r.cloudflare()
	default:
		return Bundle{}, fmt.Errorf("memo: unknown gateway %q", plan.Gateway)
	}
	if err != nil {
		return Bundle{}, err
	}
	if err := r.sdk(); err != nil {
		return Bundle{}, err
	}
	r.envExample()
	r.readme()
	return r.b, nil
}

// renderer builds one bundle.
type renderer struct {
	spec simulator.Spec
	plan simulator.Plan
	cat  *pricing.Catalog
	b    Bundle
	// gatewayEnv is how the app reaches the gateway: base URL and key.
	baseURL, appKey, appKeyWhat string
	notes                       []string
}

func (r *renderer) add(name string, content []byte) {
	r.b.Files = append(r.b.Files, File{Name: name, Content: content})
}

// env records a variable once and returns its name.
func (r *renderer) env(name, what string) string {
	if !slices.ContainsFunc(r.b.Env, func(e EnvVar) bool { return e.Name == name }) {
		r.b.Env = append(r.b.Env, EnvVar{Name: name, What: what})
	}
	return name
}

// slug is a route plan's file name: the route's name reduced to letters,
// digits and dashes, with the origin suffix; a name that reduces to
// nothing, or to another route's slug, takes its place instead.
func (r *renderer) slug(rp simulator.RoutePlan) string {
	i := slices.IndexFunc(r.spec.Routes, func(x simulator.Route) bool { return x.Name == rp.Route })
	var b strings.Builder
	for _, c := range strings.ToLower(rp.Route) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	for j, other := range r.spec.Routes {
		if j < i && r.slugOf(other.Name) == s {
			s = ""
		}
	}
	if s == "" {
		s = fmt.Sprintf("route-%d", i+1)
	}
	return s + rp.Suffix()
}

func (r *renderer) slugOf(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	return s
}

// regionsOf is the regions the file lists for a provider.
func (r *renderer) regionsOf(provider string) []string {
	for _, p := range r.spec.Providers {
		if p.ID == provider {
			return p.Regions
		}
	}
	return nil
}

// keyVar is the environment variable holding a provider's key for a
// region: one per provider, or one per region where the provider's
// regions are separate accounts or resources (OpenAI's data-residency
// projects when the file lists several, every Azure resource).
func (r *renderer) keyVar(t simulator.Target) string {
	switch t.Provider {
	case "azure-openai":
		return r.env(envName("AZURE", t.Region, "API_KEY"), "key of the Azure OpenAI resource in "+t.Region)
	case "openai":
		if len(r.regionsOf("openai")) > 1 {
			return r.env(envName("OPENAI", t.Region, "API_KEY"), "OpenAI key of the project with data residency in "+t.Region)
		}
		return r.env("OPENAI_API_KEY", "OpenAI key")
	case "anthropic":
		return r.env("ANTHROPIC_API_KEY", "Anthropic key")
	case "mistral":
		return r.env("MISTRAL_API_KEY", "Mistral key")
	case "google-gemini":
		return r.env("GEMINI_API_KEY", "Gemini API (AI Studio) key")
	case "google-vertex":
		return r.env("VERTEX_ACCESS_TOKEN", "an OAuth access token of the Vertex AI service account (expires hourly; refresh it where the gateway reads it)")
	case "aws-bedrock":
		r.env("AWS_SECRET_ACCESS_KEY", "secret of the Bedrock access key")
		return r.env("AWS_ACCESS_KEY_ID", "AWS access key allowed to call Bedrock")
	}
	return r.env(envName(t.Provider, "API_KEY"), t.Provider+" key")
}

// azureResource is the variable naming the Azure OpenAI resource of a
// region, whose deployments are named after the models.
func (r *renderer) azureResource(region string) string {
	return r.env(envName("AZURE", region, "RESOURCE"), "name of the Azure OpenAI resource in "+region+" (https://NAME.openai.azure.com), with one deployment per model named as the model")
}

func (r *renderer) vertexProject() string {
	return r.env("VERTEX_PROJECT_ID", "Google Cloud project that runs Vertex AI")
}

// openAIBase is OpenAI's API host for a region: the default host for the
// US, the data-residency host elsewhere (eu.api.openai.com), so an EU
// route plan never names the US host.
func openAIBase(region string) string {
	if region == "us" || region == "" {
		return "https://api.openai.com/v1"
	}
	return "https://" + region + ".api.openai.com/v1"
}

// bedrockRegion is the AWS region a Bedrock call goes to: the target's,
// or for a global inference profile the team's first Bedrock region.
func (r *renderer) bedrockRegion(region string) string {
	if region != "global" {
		return region
	}
	for _, reg := range r.regionsOf("aws-bedrock") {
		if reg != "global" {
			return reg
		}
	}
	return "us-east-1"
}

// vertexLocation is a Vertex target's location: "global" stays global.
func vertexLocation(region string) string { return region }

const azureAPIVersion = "2024-10-21"

func envName(parts ...string) string {
	s := strings.ToUpper(strings.Join(parts, "_"))
	return strings.Map(func(r rune) rune {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func jsonBytes(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func yamlBytes(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// statusCodes spells a plan's conditions as the HTTP statuses a gateway
// sees: 5xx as 500, 502, 503 and 504; a timeout as 408, which Portkey
// answers on its own request_timeout. A connection error has no code of
// its own: Portkey retries it whenever it retries at all and ends it as a
// 500, so it follows 5xx (the conformance test checks both).
func statusCodes(conds []string) []int {
	var out []int
	for _, c := range conds {
		switch c {
		case simulator.On429:
			out = append(out, 429)
		case simulator.On5xx:
			out = append(out, 500, 502, 503, 504)
		case simulator.On529:
			out = append(out, 529)
		case simulator.OnTimeout:
			out = append(out, 408)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// --- Portkey -------------------------------------------------------------

// portkeyProvider is Portkey's provider name (src/globals.ts).
func portkeyProvider(p string) string {
	switch p {
	case "azure-openai":
		return "azure-openai"
	case "aws-bedrock":
		return "bedrock"
	case "google-vertex":
		return "vertex-ai"
	case "google-gemini":
		return "google"
	case "mistral":
		return "mistral-ai"
	}
	return p
}

// portkey writes one config per route plan: a fallback strategy over the
// targets in order, each with the plan's retries, the statuses that move
// on and the per-try timeout. Targets name their provider and key in the
// form Portkey's open-source gateway and its hosted service both accept
// (provider plus api_key, with the region's host or parameters), the keys
// as ${VAR} for envsubst.
func (r *renderer) portkey() error {
	r.b.what = "Portkey config"
	r.baseURL = "https://api.portkey.ai/v1"
	r.appKey, r.appKeyWhat = "PORTKEY_API_KEY", "Portkey API key (x-portkey-api-key)"
	for _, rp := range r.plan.Routes {
		var targets []any
		for _, t := range rp.Targets {
			tg := map[string]any{"provider": portkeyProvider(t.Provider), "override_params": map[string]any{"model": t.ProviderModel}}
			switch t.Provider {
			case "aws-bedrock":
				tg["aws_access_key_id"] = "${" + r.keyVar(t) + "}"
				tg["aws_secret_access_key"] = "${AWS_SECRET_ACCESS_KEY}"
				tg["aws_region"] = r.bedrockRegion(t.Region)
			case "google-vertex":
				tg["api_key"] = "${" + r.keyVar(t) + "}"
				tg["vertex_project_id"] = "${" + r.vertexProject() + "}"
				tg["vertex_region"] = vertexLocation(t.Region)
			case "azure-openai":
				tg["api_key"] = "${" + r.keyVar(t) + "}"
				tg["resource_name"] = "${" + r.azureResource(t.Region) + "}"
				tg["deployment_id"] = t.ProviderModel
				tg["api_version"] = azureAPIVersion
			case "openai":
				tg["api_key"] = "${" + r.keyVar(t) + "}"
				if base := openAIBase(t.Region); base != openAIBase("us") {
					tg["custom_host"] = base
				}
			case "anthropic":
				tg["api_key"] = "${" + r.keyVar(t) + "}"
				if t.Region == "us" {
					// Anthropic's US-only inference is a request parameter.
					tg["override_params"].(map[string]any)["inference_geo"] = "us"
				}
			default:
				tg["api_key"] = "${" + r.keyVar(t) + "}"
			}
			targets = append(targets, tg)
		}
		cfg := map[string]any{
			"strategy": map[string]any{"mode": "fallback", "on_status_codes": statusCodes(r.plan.FailOverOn)},
			"targets":  targets,
		}
		if r.plan.Retries > 0 {
			cfg["retry"] = map[string]any{"attempts": r.plan.Retries, "on_status_codes": statusCodes(r.plan.RetryOn)}
		}
		if r.plan.TimeoutSeconds > 0 {
			cfg["request_timeout"] = int(r.plan.TimeoutSeconds * 1000)
		}
		data, err := jsonBytes(cfg)
		if err != nil {
			return err
		}
		r.add("portkey/"+r.slug(rp)+".json", data)
		r.b.configs++
	}
	r.notes = append(r.notes,
		"Send each route's requests with its config in the `x-portkey-config` header (after `envsubst`), or save it in Portkey and send its id; on hosted Portkey you may store the keys in the Model Catalog instead and name the provider `@your-slug` in each target.",
		"No circuit breaker is configured: Portkey's open-source gateway has none, so every request tries the targets in order, and hosted Portkey's `cb_config` is left out so both behave alike.",
		"`use_retry_after_header` is left off: the npm build of the open-source gateway turns an exhausted 429 into a 500 with it.")
	return nil
}

// --- LiteLLM -------------------------------------------------------------

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

// litellmGroup names a target's model group: one deployment each, named
// for its route plan and place, so LiteLLM's shuffle never picks the
// host and residency keeps each origin's traffic on its own groups.
func litellmGroup(slug string, i int) string {
	if i == 0 {
		return slug
	}
	return fmt.Sprintf("%s/%d", slug, i+1)
}

// litellm writes one config.yaml: a model group of one deployment per
// target, each route plan's groups chained by fallbacks in order, and the
// router's retries, timeout and cooldown as planned. The app calls the
// route plan's first group by name.
func (r *renderer) litellm() error {
	r.b.what = "LiteLLM config"
	r.baseURL = "http://LITELLM_HOST:4000"
	r.appKey, r.appKeyWhat = "LITELLM_MASTER_KEY", "the proxy's master key (starts with sk-), or a virtual key made from it"
	type params struct {
		Model        string `yaml:"model"`
		APIKey       string `yaml:"api_key,omitempty"`
		APIBase      string `yaml:"api_base,omitempty"`
		APIVersion   string `yaml:"api_version,omitempty"`
		AWSKey       string `yaml:"aws_access_key_id,omitempty"`
		AWSSecret    string `yaml:"aws_secret_access_key,omitempty"`
		AWSRegion    string `yaml:"aws_region_name,omitempty"`
		VertexProj   string `yaml:"vertex_project,omitempty"`
		VertexRegion string `yaml:"vertex_location,omitempty"`
		InferenceGeo string `yaml:"inference_geo,omitempty"`
	}
	type entry struct {
		ModelName string `yaml:"model_name"`
		Params    params `yaml:"litellm_params"`
	}
	var list []entry
	var fallbacks []map[string][]string
	for _, rp := range r.plan.Routes {
		slug := r.slug(rp)
		var chain []string
		for i, t := range rp.Targets {
			name := litellmGroup(slug, i)
			chain = append(chain, name)
			p := params{Model: litellmPrefix(t.Provider) + "/" + t.ProviderModel}
			switch t.Provider {
			case "aws-bedrock":
				p.AWSKey = "os.environ/" + r.keyVar(t)
				p.AWSSecret = "os.environ/AWS_SECRET_ACCESS_KEY"
				p.AWSRegion = r.bedrockRegion(t.Region)
			case "google-vertex":
				p.VertexProj = "os.environ/" + r.vertexProject()
				p.VertexRegion = vertexLocation(t.Region)
				r.env("GOOGLE_APPLICATION_CREDENTIALS", "path of the Vertex AI service account's JSON key on the proxy")
			case "azure-openai":
				p.Model = "azure/" + t.ProviderModel
				p.APIKey = "os.environ/" + r.keyVar(t)
				p.APIBase = "os.environ/" + r.env(envName("AZURE", t.Region, "API_BASE"), "https://RESOURCE.openai.azure.com of the Azure OpenAI resource in "+t.Region+", with one deployment per model named as the model")
				p.APIVersion = azureAPIVersion
			case "openai":
				p.APIKey = "os.environ/" + r.keyVar(t)
				if base := openAIBase(t.Region); base != openAIBase("us") {
					p.APIBase = base
				}
			case "anthropic":
				p.APIKey = "os.environ/" + r.keyVar(t)
				if t.Region == "us" {
					p.InferenceGeo = "us" // Anthropic's US-only inference, passed to the API
				}
			default:
				p.APIKey = "os.environ/" + r.keyVar(t)
			}
			list = append(list, entry{ModelName: name, Params: p})
		}
		if len(chain) > 1 {
			fallbacks = append(fallbacks, map[string][]string{chain[0]: chain[1:]})
		}
	}
	router := map[string]any{
		"num_retries": r.plan.Retries,
		"fallbacks":   fallbacks,
	}
	if r.plan.TimeoutSeconds > 0 {
		router["timeout"] = r.plan.TimeoutSeconds
	}
	if c := r.plan.Cooldown; c != nil {
		router["allowed_fails"] = c.AfterFails - 1
		router["cooldown_time"] = c.Seconds
	}
	data, err := yamlBytes(map[string]any{
		"model_list":       list,
		"router_settings":  router,
		"general_settings": map[string]any{"master_key": "os.environ/LITELLM_MASTER_KEY"},
	})
	if err != nil {
		return err
	}
	r.add("litellm/config.yaml", data)
	r.b.configs++
	r.notes = append(r.notes,
		"Each model group holds one deployment, so LiteLLM's shuffle never chooses the host: the fallbacks walk the targets in the order simulated. The app sends a route's requests with `model` set to the route's first group, named for the route (and its origins where residency splits it).",
		"Reliability settings sit under `router_settings`; under `litellm_settings` `allowed_fails` and `cooldown_time` do nothing.")
	if r.plan.Cooldown == nil {
		r.notes = append(r.notes, "No allowed_fails is set: LiteLLM then never cools a group of one deployment, so each request retries a dead target before falling back.")
	}
	return nil
}

// --- Kong ----------------------------------------------------------------

// kongProvider is ai-proxy-advanced's provider name for a gatewise
// provider (Vertex AI is `gemini` with its options).
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

// kongCriteria spells a plan's failover conditions as failover_criteria:
// error (connection), timeout, http_429 and the 5xx it lists, with
// non_idempotent so that a POST already sent upstream fails over at all.
func kongCriteria(conds []string) []string {
	out := []string{}
	for _, c := range conds {
		switch c {
		case simulator.OnConnection:
			out = append(out, "error")
		case simulator.OnTimeout:
			out = append(out, "timeout")
		case simulator.On429:
			out = append(out, "http_429")
		case simulator.On5xx:
			out = append(out, "http_500", "http_502", "http_503", "http_504")
		}
	}
	if slices.ContainsFunc(out, func(s string) bool { return strings.HasPrefix(s, "http_") }) {
		out = append(out, "non_idempotent")
	}
	return out
}

// vaultRef is a whole-value Kong vault reference to an environment
// variable: {vault://env/openai-auth} reads OPENAI_AUTH.
func vaultRef(name string) string {
	return "{vault://env/" + strings.ToLower(strings.ReplaceAll(name, "_", "-")) + "}"
}

// kong writes a decK file: a placeholder service, and per route plan a
// route with ai-proxy-advanced on it. The balancer's priority algorithm
// tries the heaviest weight first, so each target has its own weight, in
// the plan's order; retries are a total across targets, so they are the
// targets less one.
func (r *renderer) kong() error {
	r.b.what = "Kong decK file"
	r.baseURL = "https://KONG_PROXY/ROUTE"
	r.appKey, r.appKeyWhat = "", ""
	timeout := max(int(r.plan.TimeoutSeconds*1000), 1)
	var routes []any
	for _, rp := range r.plan.Routes {
		slug := r.slug(rp)
		var targets []any
		for i, t := range rp.Targets {
			model := map[string]any{"provider": kongProvider(t.Provider), "name": t.ProviderModel}
			var auth map[string]any
			switch t.Provider {
			case "openai":
				v := r.env(envName("OPENAI", t.Region, "AUTH"), "\"Bearer \" and the OpenAI key for "+t.Region+" (Kong reads a vault reference as the whole header value)")
				auth = map[string]any{"header_name": "Authorization", "header_value": vaultRef(v)}
				model["options"] = map[string]any{"upstream_url": openAIBase(t.Region) + "/chat/completions"}
			case "anthropic":
				auth = map[string]any{"header_name": "x-api-key", "header_value": vaultRef(r.keyVar(t))}
				model["options"] = map[string]any{"anthropic_version": "2023-06-01"}
			case "mistral":
				v := r.env("MISTRAL_AUTH", "\"Bearer \" and the Mistral key (Kong reads a vault reference as the whole header value)")
				auth = map[string]any{"header_name": "Authorization", "header_value": vaultRef(v)}
				model["options"] = map[string]any{"mistral_format": "openai", "upstream_url": "https://api.mistral.ai/v1/chat/completions"}
			case "azure-openai":
				auth = map[string]any{"header_name": "api-key", "header_value": vaultRef(r.keyVar(t))}
				model["options"] = map[string]any{"azure_instance": "AZURE_RESOURCE_" + envName(t.Region), "azure_deployment_id": t.ProviderModel, "azure_api_version": azureAPIVersion}
				r.notes = appendOnce(r.notes, "Kong cannot read model options from a vault: replace each `AZURE_RESOURCE_<REGION>` and `VERTEX_PROJECT_ID` in kong.yaml with the resource name or project id.")
			case "aws-bedrock":
				auth = map[string]any{"allow_override": false, "aws_access_key_id": vaultRef(r.keyVar(t)), "aws_secret_access_key": vaultRef("AWS_SECRET_ACCESS_KEY")}
				model["options"] = map[string]any{"bedrock": map[string]any{"aws_region": r.bedrockRegion(t.Region)}}
			case "google-vertex":
				v := r.env("GCP_SERVICE_ACCOUNT_JSON", "the Vertex AI service account's JSON key, whole")
				auth = map[string]any{"allow_override": false, "gcp_use_service_account": true, "gcp_service_account_json": vaultRef(v)}
				loc := vertexLocation(t.Region)
				host := loc + "-aiplatform.googleapis.com"
				if loc == "global" {
					host = "aiplatform.googleapis.com"
				}
				model["options"] = map[string]any{"gemini": map[string]any{"api_endpoint": host, "project_id": "VERTEX_PROJECT_ID", "location_id": loc}}
				r.notes = appendOnce(r.notes, "Kong cannot read model options from a vault: replace each `AZURE_RESOURCE_<REGION>` and `VERTEX_PROJECT_ID` in kong.yaml with the resource name or project id.")
			case "google-gemini":
				auth = map[string]any{"param_name": "key", "param_value": vaultRef(r.keyVar(t)), "param_location": "query"}
			}
			targets = append(targets, map[string]any{
				"route_type": "llm/v1/chat",
				"weight":     len(rp.Targets) - i, // priority: the heaviest group first
				"model":      model,
				"auth":       auth,
			})
		}
		balancer := map[string]any{
			"algorithm":         "priority",
			"retries":           len(rp.Targets) - 1,
			"failover_criteria": kongCriteria(r.plan.FailOverOn),
			"connect_timeout":   timeout,
			"read_timeout":      timeout,
			"write_timeout":     timeout,
		}
		if c := r.plan.Cooldown; c != nil {
			balancer["max_fails"] = c.AfterFails
			balancer["fail_timeout"] = int(c.Seconds * 1000)
		}
		routes = append(routes, map[string]any{
			"name":    slug,
			"paths":   []string{"/" + slug},
			"methods": []string{"POST"},
			"plugins": []any{map[string]any{
				"name": "ai-proxy-advanced",
				"config": map[string]any{
					"max_request_body_size": 10 << 20,
					"balancer":              balancer,
					"targets":               targets,
				},
			}},
		})
	}
	data, err := yamlBytes(map[string]any{
		"_format_version": "3.0",
		"services":        []any{map[string]any{"name": "gatewise-llm", "url": "http://localhost:32000", "routes": routes}},
	})
	if err != nil {
		return err
	}
	r.add("kong/kong.yaml", data)
	r.b.configs++
	r.notes = append(r.notes,
		"ai-proxy-advanced needs Kong's AI licence (Konnect Plus or Gateway Enterprise; the free ai-proxy has one target and cannot fail over) and Kong Gateway 3.13 or later for max_fails.",
		"Raise the data plane's body buffer for long prompts: KONG_NGINX_HTTP_CLIENT_BODY_BUFFER_SIZE=16m and KONG_NGINX_HTTP_CLIENT_MAX_BODY_SIZE=16m (kong.conf, not decK).")
	return nil
}

func appendOnce(xs []string, s string) []string {
	if slices.Contains(xs, s) {
		return xs
	}
	return append(xs, s)
}

// --- OpenRouter ------------------------------------------------------------

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

// openRouter writes the request fields per route plan: the models in
// order (at most three, as the API accepts) and the providers in order,
// limited to them; OpenRouter tries each model's providers in that order.
func (r *renderer) openRouter() error {
	r.b.what = "OpenRouter request"
	r.baseURL = "https://openrouter.ai/api/v1"
	if len(r.spec.Compliance.DataResidency) > 0 {
		r.baseURL = "https://eu.openrouter.ai/api/v1"
		r.notes = append(r.notes, "In-region routing (eu.openrouter.ai) needs OpenRouter's Business plan; a request with no eligible in-region endpoint fails rather than leave the region.")
	}
	r.appKey, r.appKeyWhat = "OPENROUTER_API_KEY", "OpenRouter key; provider keys go into OpenRouter's BYOK settings"
	for _, rp := range r.plan.Routes {
		var models, providers []string
		for _, t := range rp.Targets {
			if m := openRouterAuthor(t.Model) + "/" + t.Model; !slices.Contains(models, m) {
				models = append(models, m)
			}
			if p := openRouterProvider(t.Provider); !slices.Contains(providers, p) {
				providers = append(providers, p)
			}
		}
		prov := map[string]any{"order": providers, "only": providers, "allow_fallbacks": true}
		if r.spec.Compliance.ZeroDataRetention {
			prov["data_collection"] = "deny"
			prov["zdr"] = true
		}
		data, err := jsonBytes(map[string]any{"models": models, "provider": prov})
		if err != nil {
			return err
		}
		r.add("openrouter/"+r.slug(rp)+".json", data)
		r.b.configs++
	}
	r.notes = append(r.notes, "Merge each route's fields into its request body. Put the provider keys in OpenRouter's BYOK settings, one per provider; OpenRouter chooses each provider's endpoint itself.")
	return nil
}

// --- Helicone --------------------------------------------------------------

// heliconeProvider is Helicone's provider slug (packages/cost/models/providers).
func heliconeProvider(p string) string {
	switch p {
	case "aws-bedrock":
		return "bedrock"
	case "google-vertex":
		return "vertex"
	case "google-gemini":
		return "google-ai-studio"
	case "azure-openai":
		return "azure"
	}
	return p
}

// heliconeModel is the model id of Helicone's registry where it differs
// from gatewise's (packages/cost/models/authors), else the provider's own
// id, which Helicone passes through to the team's own key.
func heliconeModel(t simulator.Target) string {
	switch t.Model {
	case "claude-sonnet-4.5":
		return "claude-4.5-sonnet"
	case "mistral-large":
		return "mistral-large-2411"
	case "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gemini-2.5-pro", "gemini-2.5-flash":
		return t.Model
	}
	return t.ProviderModel
}

// heliconeKey names the provider key a Helicone chain entry pins: one key
// a provider and region, whose settings in Helicone hold the region.
func heliconeKey(t simulator.Target) string {
	return heliconeProvider(t.Provider) + "-" + strings.ReplaceAll(t.Region, "_", "-")
}

// helicone writes the model chain per route plan: model/provider/key for
// each target in order, so every attempt goes to the key (and region)
// simulated.
func (r *renderer) helicone() error {
	r.b.what = "Helicone model chain"
	r.baseURL = "https://ai-gateway.helicone.ai"
	r.appKey, r.appKeyWhat = "HELICONE_API_KEY", "Helicone API key; provider keys go into Helicone's provider keys"
	for _, rp := range r.plan.Routes {
		var chain []string
		for _, t := range rp.Targets {
			chain = append(chain, heliconeModel(t)+"/"+heliconeProvider(t.Provider)+"/"+heliconeKey(t))
		}
		data, err := jsonBytes(map[string]any{"model": strings.Join(chain, ",")})
		if err != nil {
			return err
		}
		r.add("helicone/"+r.slug(rp)+".json", data)
		r.b.configs++
	}
	r.notes = append(r.notes, "In Helicone, add one provider key per provider and region named as in the chains (`bedrock-eu-central-1`, …), with its region set, and replace each name in the chains with that key's id.")
	return nil
}

// --- Cloudflare ------------------------------------------------------------

// cloudflareProvider is the gateway's provider name.
func cloudflareProvider(p string) string {
	switch p {
	case "google-vertex":
		return "google-vertex-ai"
	case "google-gemini":
		return "google-ai-studio"
	}
	return p
}

// cloudflare writes a dynamic route per route plan (model nodes in order,
// each with the plan's retries and timeout, falling back to the next) and
// the provider keys each gateway needs, with their regions: a node takes
// its provider's key, so each group of origins gets a gateway of its own.
func (r *renderer) cloudflare() error {
	r.b.what = "Cloudflare dynamic route"
	r.baseURL = "https://gateway.ai.cloudflare.com/v1/CF_ACCOUNT_ID/GATEWAY/compat"
	r.appKey, r.appKeyWhat = "CF_AIG_TOKEN", "Cloudflare API token with AI Gateway Run (cf-aig-authorization)"
	type key struct {
		Gateway  string `json:"gateway"`
		Provider string `json:"provider_slug"`
		Alias    string `json:"alias"`
		Region   string `json:"region,omitempty"`
		Secret   string `json:"secret_env"`
	}
	var keys []key
	for _, rp := range r.plan.Routes {
		slug := r.slug(rp)
		gw := "gatewise" + rp.Suffix()
		var elements []any
		elements = append(elements, map[string]any{"id": "start", "type": "start", "outputs": map[string]any{"next": map[string]any{"elementId": "m1"}}})
		for i, t := range rp.Targets {
			next := "end"
			if i+1 < len(rp.Targets) {
				next = fmt.Sprintf("m%d", i+2)
			}
			elements = append(elements, map[string]any{
				"id": fmt.Sprintf("m%d", i+1), "type": "model",
				"properties": map[string]any{"provider": cloudflareProvider(t.Provider), "model": t.ProviderModel, "retries": r.plan.Retries, "timeout": int(r.plan.TimeoutSeconds * 1000)},
				"outputs":    map[string]any{"success": map[string]any{"elementId": "end"}, "fallback": map[string]any{"elementId": next}},
			})
			k := key{Gateway: gw, Provider: cloudflareProvider(t.Provider), Alias: "default", Secret: r.keyVar(t)}
			switch t.Provider {
			case "aws-bedrock":
				k.Region = r.bedrockRegion(t.Region)
			case "google-vertex":
				k.Region = vertexLocation(t.Region)
			}
			if i := slices.IndexFunc(keys, func(x key) bool { return x.Gateway == k.Gateway && x.Provider == k.Provider }); i < 0 {
				keys = append(keys, k)
			} else if keys[i].Region != k.Region {
				return fmt.Errorf("memo: cloudflare gateway %s would need %s keys in two regions", gw, t.Provider)
			}
		}
		elements = append(elements, map[string]any{"id": "end", "type": "end", "outputs": map[string]any{}})
		data, err := jsonBytes(map[string]any{"gateway": gw, "name": slug, "elements": elements})
		if err != nil {
			return err
		}
		r.add("cloudflare/"+slug+".json", data)
		r.b.configs++
	}
	data, err := jsonBytes(keys)
	if err != nil {
		return err
	}
	r.add("cloudflare/provider-keys.json", data)
	r.notes = append(r.notes,
		"Create each route with `POST /accounts/$CF_ACCOUNT_ID/ai-gateway/gateways/GATEWAY/routes` (its `name` and `elements`) on the gateway it names, store the provider keys of provider-keys.json in that gateway (BYOK; a Bedrock key holds its region), and call it with `model: \"dynamic/NAME\"`.")
	return nil
}

// --- SDK settings, .env.example, README -----------------------------------

// sdk writes the app's client settings: where each client points, its
// retries and timeout, as simulated.
func (r *renderer) sdk() error {
	c := r.plan.Client
	settings := map[string]any{"max_retries": c.Retries, "timeout_seconds": c.TimeoutSeconds}
	var doc map[string]any
	if r.plan.Gateway == "direct" {
		clients := map[string]any{}
		for _, rp := range r.plan.Routes {
			if len(rp.Targets) == 0 {
				continue
			}
			t := rp.Targets[0]
			entry := map[string]any{"provider": t.Provider, "region": t.Region, "model": t.ProviderModel, "api_key_env": r.keyVar(t)}
			for k, v := range settings {
				entry[k] = v
			}
			clients[r.slug(rp)] = entry
		}
		doc = map[string]any{"clients": clients}
		r.b.what = ""
	} else {
		client := map[string]any{"base_url": r.baseURL}
		if r.appKey != "" {
			client["api_key_env"] = r.env(r.appKey, r.appKeyWhat)
		}
		for k, v := range settings {
			client[k] = v
		}
		doc = map[string]any{"client": client}
	}
	data, err := yamlBytes(doc)
	if err != nil {
		return err
	}
	r.add("sdk.yaml", append([]byte("# OpenAI and Anthropic SDKs: max_retries and timeout (seconds), as simulated.\n"), data...))
	return nil
}

func (r *renderer) envExample() {
	var b strings.Builder
	b.WriteString("# Variables the files of this bundle read, each once. Fill in and keep out of git.\n")
	for _, e := range r.b.Env {
		fmt.Fprintf(&b, "\n# %s\n%s=\n", e.What, e.Name)
	}
	r.add(".env.example", []byte(b.String()))
}

// drill is the confirmation drill: a fault the shipped config fails over
// on, and what must happen.
func (r *renderer) drill() string {
	rp := r.plan.Routes[0]
	if len(rp.Targets) == 0 {
		return "No route has a target to drill."
	}
	t := rp.Targets[0]
	if r.plan.Gateway == "direct" {
		return fmt.Sprintf("In staging, point route %s's client at a host that answers 503 and check that the SDK tries %d times (%s apart) and then raises the error; alert when %s's error rate passes 1 %% for 5 minutes.",
			rp.Route, r.plan.Client.Retries+1, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(r.plan.Client.BackoffSeconds)), " s, "), "[]")+" s", t.Provider)
	}
	if len(rp.Targets) < 2 {
		return fmt.Sprintf("Route %s has one target, so nothing fails over; in staging, check that a 503 from %s reaches the app after the retries planned.", rp.Route, t.Provider)
	}
	next := rp.Targets[1]
	fault := "answers 503"
	if !slices.Contains(r.plan.FailOverOn, simulator.On5xx) {
		fault = "times out"
	}
	return fmt.Sprintf("In staging, point the first target of %s (%s on %s, %s) at a host that %s, a fault this config fails over on, and send traffic: %s on %s (%s) must serve it, as the gateway's logs show; then restore it, and alert when the share served by fallbacks passes 5 %% for 15 minutes.",
		rp.Label(), t.Model, t.Provider, t.Region, fault, next.Model, next.Provider, next.Region)
}

func (r *renderer) readme() {
	var b strings.Builder
	fmt.Fprintf(&b, "# Rollout: %s\n\nWhat gatewise simulated for this option, in the files that ship it.\n\n", r.plan.Gateway)
	b.WriteString("| file | what |\n|---|---|\n")
	for _, f := range r.b.Files {
		fmt.Fprintf(&b, "| `%s` | %s |\n", f.Name, fileWhat(f.Name))
	}
	fmt.Fprintf(&b, "| `README.md` | this file |\n\n")
	b.WriteString("## Routes\n\n")
	for _, rp := range r.plan.Routes {
		var ts []string
		for _, t := range rp.Targets {
			ts = append(ts, fmt.Sprintf("%s on %s (%s)", t.Model, t.Provider, t.Region))
		}
		fmt.Fprintf(&b, "- %s: %s\n", escapeMarkdown(rp.Label()), strings.Join(ts, " → "))
	}
	fmt.Fprintf(&b, "\nRetries: %s; failover on %s; %s; the app's SDK retries %d times around it.\n",
		retriesText(r.plan), orNone(r.plan.FailOverOn), timeoutText(r.plan.TimeoutSeconds), r.plan.Client.Retries)
	if len(r.notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	fmt.Fprintf(&b, "\n## Confirmation drill\n\n%s\n", r.drill())
	r.add("README.md", []byte(b.String()))
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "nothing"
	}
	return strings.Join(xs, ", ")
}

// retriesText is a plan's retries a target in words.
func retriesText(p simulator.Plan) string {
	if p.Retries == 0 || len(p.RetryOn) == 0 {
		return "none at the gateway"
	}
	return fmt.Sprintf("%d a target on %s", p.Retries, strings.Join(p.RetryOn, ", "))
}

// timeoutText is a plan's timeout a try in words.
func timeoutText(s float64) string {
	if s <= 0 {
		return "no timeout of its own (the client's applies)"
	}
	return fmt.Sprintf("timeout %g s a try", s)
}

func fileWhat(name string) string {
	switch {
	case name == "sdk.yaml":
		return "the app's SDK settings: where it points, retries, timeout"
	case name == ".env.example":
		return "every variable the files read, once"
	case name == "cloudflare/provider-keys.json":
		return "the provider keys (BYOK) each Cloudflare gateway needs, with their regions"
	case strings.HasSuffix(name, "kong.yaml"):
		return "decK file: `deck gateway sync kong/kong.yaml`"
	case strings.HasSuffix(name, "config.yaml"):
		return "LiteLLM proxy config: `litellm --config litellm/config.yaml`"
	}
	return "config of one route (and group of origins)"
}
