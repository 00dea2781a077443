package simulator

// Spec is the architecture file: what a team runs today and what it wants to
// compare. It is the pipeline's only input besides the traffic profile and the
// catalog. Field names follow the file's keys; see DESIGN.md for the contract.
type Spec struct {
	Name               string     `yaml:"name" json:"name" validate:"required,max=200"`
	HorizonDays        int        `yaml:"horizon_days" json:"horizon_days" validate:"gte=1,lte=366"`
	Providers          []Provider `yaml:"providers" json:"providers" validate:"required,min=1,max=20,dive"`
	Routes             []Route    `yaml:"routes" json:"routes" validate:"required,min=1,max=50,dive"`
	Traffic            Traffic    `yaml:"traffic" json:"traffic"`
	Compliance         Compliance `yaml:"compliance" json:"compliance"`
	Priorities         Priorities `yaml:"priorities" json:"priorities"`
	Team               Team       `yaml:"team" json:"team"`
	ObservabilityNeeds []string   `yaml:"observability_needs" json:"observability_needs" validate:"dive,oneof=per_user_cost tracing replay alerts audit_log budgets prompt_management guardrails sso rbac"`
	Gateways           []string   `yaml:"gateways" json:"gateways" validate:"dive,oneof=direct openrouter portkey helicone litellm kong cloudflare"`
	Scenarios          []Scenario `yaml:"scenarios" json:"scenarios" validate:"max=50,dive"`
	Simulation         Simulation `yaml:"simulation" json:"simulation"`

	// OutageModel overrides the calibrated incident parameters; GatewaySettings
	// overrides gateways' failover knobs, so a tuned configuration can be
	// compared with the defaults. Both are optional.
	OutageModel     *OutageModel               `yaml:"outage_model,omitempty" json:"outage_model,omitempty"`
	GatewaySettings map[string]GatewaySettings `yaml:"gateway_settings,omitempty" json:"gateway_settings,omitempty" validate:"max=7,dive"`
}

// Provider is a host the team has an account with, and the regions it may use.
type Provider struct {
	ID         string      `yaml:"id" json:"id" validate:"required"`
	Regions    []string    `yaml:"regions" json:"regions" validate:"required,min=1,dive,required"`
	RateLimits *RateLimits `yaml:"rate_limits,omitempty" json:"rate_limits,omitempty"`
}

// RateLimits are the account's limits per region; zero means not stated.
type RateLimits struct {
	RPM int `yaml:"rpm,omitempty" json:"rpm,omitempty" validate:"gte=0,lte=100000000"`
	TPM int `yaml:"tpm,omitempty" json:"tpm,omitempty" validate:"gte=0,lte=100000000000"`
}

// Route is one feature of the app: a share of the traffic, its models in
// preference order (the first is the primary, the rest are fallbacks) and the
// typical size of its requests.
type Route struct {
	Name             string   `yaml:"name" json:"name" validate:"required,max=100"`
	Share            float64  `yaml:"share" json:"share" validate:"gt=0,lte=1"`
	Models           []string `yaml:"models" json:"models" validate:"required,min=1,max=10,dive,required"`
	InputTokens      int      `yaml:"input_tokens" json:"input_tokens" validate:"gte=0,lte=2000000"`
	OutputTokens     int      `yaml:"output_tokens" json:"output_tokens" validate:"gte=0,lte=1000000"`
	CachedInputShare float64  `yaml:"cached_input_share,omitempty" json:"cached_input_share,omitempty" validate:"gte=0,lte=1"`
}

// Traffic is the synthetic shape of demand, used when no log is uploaded.
type Traffic struct {
	RequestsPerDay   float64            `yaml:"requests_per_day" json:"requests_per_day" validate:"gt=0,lte=10000000000"`
	Origin           map[string]float64 `yaml:"origin" json:"origin" validate:"required,min=1,dive,gte=0,lte=1"`
	DiurnalAmplitude float64            `yaml:"diurnal_amplitude" json:"diurnal_amplitude" validate:"gte=0,lte=1"`
	Logs             string             `yaml:"logs,omitempty" json:"logs,omitempty" validate:"max=1024"`
}

// Compliance holds the hard constraints every option must meet.
// DataResidency maps an origin jurisdiction to the jurisdiction its traffic
// must be served in ({eu: eu}: EU-origin traffic stays in the EU).
type Compliance struct {
	DataResidency      map[string]string `yaml:"data_residency,omitempty" json:"data_residency,omitempty"`
	SOC2               bool              `yaml:"soc2" json:"soc2"`
	HIPAA              bool              `yaml:"hipaa" json:"hipaa"`
	ZeroDataRetention  bool              `yaml:"zero_data_retention" json:"zero_data_retention"`
	NoThirdPartyInPath bool              `yaml:"no_third_party_in_path" json:"no_third_party_in_path"`
}

// Priorities weigh the corners of the triangle; they sum to 1.
type Priorities struct {
	Failover      float64 `yaml:"failover" json:"failover" validate:"gte=0,lte=1"`
	Cost          float64 `yaml:"cost" json:"cost" validate:"gte=0,lte=1"`
	Observability float64 `yaml:"observability" json:"observability" validate:"gte=0,lte=1"`
}

// Team prices the operations work a self-hosted gateway needs and says how
// many people need a seat in a gateway's console.
type Team struct {
	Engineers    int     `yaml:"engineers" json:"engineers" validate:"gte=1,lte=100000"`
	OpsHourlyUSD float64 `yaml:"ops_hourly_usd" json:"ops_hourly_usd" validate:"gte=0,lte=10000"`
	// Seats is how many people sign in to the gateway's console; 0 means
	// every engineer.
	Seats int `yaml:"seats,omitempty" json:"seats,omitempty" validate:"gte=0,lte=100000"`
}

// ConsoleSeats is the number of console seats a plan must offer.
func (t Team) ConsoleSeats() int {
	if t.Seats > 0 {
		return t.Seats
	}
	return t.Engineers
}

// Simulation fixes the size and seed of a run, so it reproduces bit for bit.
type Simulation struct {
	Trials int    `yaml:"trials" json:"trials" validate:"gte=1,lte=1000000"`
	Seed   uint64 `yaml:"seed" json:"seed"`
}

// Scenario is a named outage scenario, written either as its name alone
// ("provider-outage") or as an object that overrides its parameters.
// Zero-valued parameters take the scenario's defaults.
type Scenario struct {
	Name          string  `yaml:"name" json:"name" validate:"required,oneof=baseline provider-outage region-outage gateway-outage rate-limit-storm latency-degradation"`
	Provider      string  `yaml:"provider,omitempty" json:"provider,omitempty"`
	Region        string  `yaml:"region,omitempty" json:"region,omitempty"`
	DurationHours float64 `yaml:"duration_hours,omitempty" json:"duration_hours,omitempty" validate:"gte=0,lte=720"`
	Multiplier    float64 `yaml:"multiplier,omitempty" json:"multiplier,omitempty" validate:"gte=0,lte=100"`
	// ErrorRate makes an outage partial: the share of requests that fail
	// while it lasts (OpenAI's API ran at 75 % for 15 h on 2025-06-10).
	// 0 means the default, every request.
	ErrorRate float64 `yaml:"error_rate,omitempty" json:"error_rate,omitempty" validate:"gte=0,lte=1"`
}

// OutageModel overrides incident parameters per provider, per gateway and for
// the common-mode cloud layer. Every field is optional and defaults to the
// calibrated value; 0 turns a source of failure off.
type OutageModel struct {
	Providers  map[string]IncidentOverride `yaml:"providers,omitempty" json:"providers,omitempty" validate:"max=20,dive"`
	Gateways   map[string]IncidentOverride `yaml:"gateways,omitempty" json:"gateways,omitempty" validate:"max=7,dive"`
	CommonMode *CommonModeOverride         `yaml:"common_mode,omitempty" json:"common_mode,omitempty"`
}

// IncidentOverride replaces some parameters of one source's incident model.
type IncidentOverride struct {
	IncidentsPerMonth   *float64 `yaml:"incidents_per_month,omitempty" json:"incidents_per_month,omitempty" validate:"omitempty,gte=0,lte=1000"`
	DurationMedianHours *float64 `yaml:"duration_median_hours,omitempty" json:"duration_median_hours,omitempty" validate:"omitempty,gt=0,lte=720"`
	DurationSigma       *float64 `yaml:"duration_sigma,omitempty" json:"duration_sigma,omitempty" validate:"omitempty,gte=0,lte=4"`
	// IncidentErrorRate, when set, makes every incident fail this share of
	// requests for its whole duration (replacing the severity classes).
	IncidentErrorRate   *float64 `yaml:"incident_error_rate,omitempty" json:"incident_error_rate,omitempty" validate:"omitempty,gte=0,lte=1"`
	ModelScopedShare    *float64 `yaml:"model_scoped_share,omitempty" json:"model_scoped_share,omitempty" validate:"omitempty,gte=0,lte=1"`
	BackgroundErrorRate *float64 `yaml:"background_error_rate,omitempty" json:"background_error_rate,omitempty" validate:"omitempty,gte=0,lte=1"`
	Arrival             string   `yaml:"arrival,omitempty" json:"arrival,omitempty" validate:"omitempty,oneof=weibull poisson"`
}

// CommonModeOverride replaces the rate of cloud and CDN events.
type CommonModeOverride struct {
	EventsPerYear *float64 `yaml:"events_per_year,omitempty" json:"events_per_year,omitempty" validate:"omitempty,gte=0,lte=1000"`
}

// GatewaySettings overrides one gateway's failover knobs.
type GatewaySettings struct {
	// ClientRetries are the app's SDK retries around the option (2 in the
	// OpenAI and Anthropic SDKs); 0 turns them off.
	ClientRetries   *int     `yaml:"client_retries,omitempty" json:"client_retries,omitempty" validate:"omitempty,gte=0,lte=10"`
	NumRetries      *int     `yaml:"num_retries,omitempty" json:"num_retries,omitempty" validate:"omitempty,gte=0,lte=10"`
	TimeoutSeconds  *float64 `yaml:"timeout_seconds,omitempty" json:"timeout_seconds,omitempty" validate:"omitempty,gte=0,lte=3600"`
	AllowedFails    *int     `yaml:"allowed_fails,omitempty" json:"allowed_fails,omitempty" validate:"omitempty,gte=0,lte=1000"`
	CooldownSeconds *float64 `yaml:"cooldown_seconds,omitempty" json:"cooldown_seconds,omitempty" validate:"omitempty,gte=0,lte=3600"`
	// Replicas is how many instances of a self-hosted gateway run.
	Replicas *int `yaml:"replicas,omitempty" json:"replicas,omitempty" validate:"omitempty,gte=1,lte=1000"`
	// CacheHitRate is the share of requests the gateway's exact-match cache
	// answers (repeated identical prompts); 0 by default, since it depends
	// on the app.
	CacheHitRate *float64 `yaml:"cache_hit_rate,omitempty" json:"cache_hit_rate,omitempty" validate:"omitempty,gte=0,lte=1"`
	// AsyncLogging takes Helicone out of the request path: the app calls
	// providers itself and logs asynchronously.
	AsyncLogging *bool `yaml:"async_logging,omitempty" json:"async_logging,omitempty"`
	// HostingRegion is the cloud region a self-hosted gateway runs in (an
	// AWS, GCP or Azure region id), so that region's events take it down.
	HostingRegion string `yaml:"hosting_region,omitempty" json:"hosting_region,omitempty" validate:"max=64"`
}

// Simple reports whether the scenario has no parameters and can be written as its name.
func (s Scenario) Simple() bool {
	return s.Provider == "" && s.Region == "" && s.DurationHours == 0 && s.Multiplier == 0 && s.ErrorRate == 0
}

// GatewayIDs lists every option gatewise compares, in the order the app shows them.
func GatewayIDs() []string {
	return []string{"direct", "openrouter", "portkey", "helicone", "litellm", "kong", "cloudflare"}
}

// ScenarioNames lists the named outage scenarios.
func ScenarioNames() []string {
	return []string{"baseline", "provider-outage", "region-outage", "gateway-outage", "rate-limit-storm", "latency-degradation"}
}

// ObservabilityNeeds lists the observability and governance features a
// team can ask for (the file's observability_needs).
func ObservabilityNeeds() []string {
	return []string{"per_user_cost", "tracing", "replay", "alerts", "audit_log", "budgets", "prompt_management", "guardrails", "sso", "rbac"}
}

// Defaults used when the file leaves a field out.
const (
	DefaultHorizonDays = 30
	DefaultTrials      = 10000
	DefaultSeed        = 1
)
