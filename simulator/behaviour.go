package simulator

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// gatewayBehaviourYAML is the one data file of gateway knobs, each with its
// source, kept as YAML so a reviewer can check it against the vendors' docs.
//
//go:embed data/gateway_behaviour.yaml
var gatewayBehaviourYAML []byte

// ErrorClass is how a failed request failed, as far as retry and failover
// rules can tell.
type ErrorClass uint8

const (
	RateLimited ErrorClass = 1 << iota // 429
	ServerError                        // 500, 502, 503, 504
	Timeout                            // no answer before the timeout (a gateway's own answers 408)
	Connection                         // reset or refused
	Overloaded                         // 529, Anthropic's "overloaded"
)

// ErrorClasses is a set of error classes.
type ErrorClasses uint8

// Has reports whether c is in the set.
func (s ErrorClasses) Has(c ErrorClass) bool { return s&ErrorClasses(c) != 0 }

// Paths says which other ways to serve a request a gateway may try.
type Paths struct {
	OtherHost      bool `yaml:"other_host"`      // the same model on another provider
	FallbackModels bool `yaml:"fallback_models"` // the route's next model
	OtherRegion    bool `yaml:"other_region"`    // another region of the same provider, within residency
	// MaxModels caps the models one request may try (0: no cap).
	MaxModels int `yaml:"max_models,omitempty"`
	// Providers lists the providers the gateway can send to (empty: all).
	Providers []string `yaml:"providers,omitempty"`
	// OneProviderOrder: one order of providers holds for every model of a
	// request (OpenRouter's provider.order), so each model's targets
	// follow it.
	OneProviderOrder bool `yaml:"one_provider_order,omitempty"`
}

// Cooldown kinds.
const (
	// CooldownTarget: a target that fails AfterFails times within
	// WindowSeconds is skipped for Seconds (LiteLLM's allowed_fails and
	// cooldown_time, Kong's max_fails and fail_timeout).
	CooldownTarget = "target"
	// CooldownProviderHealth: the gateway stops routing to a provider with
	// a significant outage, judged on all its customers' traffic
	// (OpenRouter skips providers that failed in the last 30 s).
	CooldownProviderHealth = "provider-health"
)

// Cooldown is how a gateway stops sending to a failing target.
type Cooldown struct {
	Kind          string  `yaml:"kind" json:"kind"`
	AfterFails    int     `yaml:"after_fails,omitempty" json:"after_fails,omitempty"`
	WindowSeconds float64 `yaml:"window_seconds,omitempty" json:"window_seconds,omitempty"`
	Seconds       float64 `yaml:"seconds,omitempty" json:"seconds,omitempty"`
	// FirstFailureOnly counts a request's first failed attempt only, as
	// LiteLLM's proxy does (one logging object per request).
	FirstFailureOnly bool `yaml:"first_failure_only,omitempty" json:"first_failure_only,omitempty"`
}

// Latency is a gateway's added latency per request.
type Latency struct {
	P50 float64 `yaml:"p50"`
	P95 float64 `yaml:"p95"`
}

// Behaviour is one option as gatewise ships it: its failure handling as
// documented by its vendor or measured independently, with the settings
// gatewise's rollout config chooses where the vendor's defaults would
// serve the team badly (each such choice says so in its source). Plans are
// built from it; the engine and the rollout both read the plan.
type Behaviour struct {
	ID     string `yaml:"id"`
	InPath bool   `yaml:"in_path"`
	Paths  Paths  `yaml:"paths"`
	// ClientRetries are the app's SDK retries around the option.
	ClientRetries  int       `yaml:"client_retries"`
	Retries        int       `yaml:"retries"`
	RetryOnRaw     []string  `yaml:"retry_on"`
	BackoffSeconds []float64 `yaml:"backoff_seconds"`
	FailoverOnRaw  []string  `yaml:"failover_on"`
	TimeoutSeconds float64   `yaml:"timeout_seconds"` // 0: none of its own, the client's applies
	// MaxTargets caps the targets one request may try (0: all of them).
	MaxTargets int `yaml:"max_targets"`
	// OneRegionPerProvider: the gateway picks the provider's endpoint
	// itself, so a model is one target per provider.
	OneRegionPerProvider bool              `yaml:"one_region_per_provider"`
	Cooldown             Cooldown          `yaml:"cooldown"`
	AddedLatencyMS       Latency           `yaml:"added_latency_ms"`
	Cache                string            `yaml:"cache"`
	DependsOn            []string          `yaml:"depends_on"`
	Unmodelled           []string          `yaml:"unmodelled"`
	Sources              map[string]string `yaml:"sources"`

	RetryOn    ErrorClasses `yaml:"-"`
	FailoverOn ErrorClasses `yaml:"-"`
	// ClientTimeoutSeconds is the SDK timeout of direct calls when the
	// architecture sets one (gateway_settings.direct.timeout_seconds).
	ClientTimeoutSeconds float64 `yaml:"-"`

	// Where a self-hosted gateway runs, from the architecture's
	// gateway_settings: that region's and platform's events take it down.
	HostingRegion, HostingPlatform string `yaml:"-"`
}

// behaviourKnobs are the knobs every gateway must give a source for.
func behaviourKnobs() []string {
	return []string{"paths", "client_retries", "retries", "retry_on", "backoff_seconds", "failover_on",
		"timeout_seconds", "max_targets", "cooldown", "added_latency_ms", "cache", "depends_on"}
}

type behaviourFile struct {
	AsOf     string      `yaml:"as_of"`
	Gateways []Behaviour `yaml:"gateways"`
}

// Behaviours is the gateway behaviour catalog and the date of its facts.
type Behaviours struct {
	AsOf string
	ByID map[string]Behaviour
}

// DefaultBehaviours reads the embedded behaviour file. A broken file fails
// the package's tests, so users never meet the error.
func DefaultBehaviours() (Behaviours, error) {
	return parseBehaviours(gatewayBehaviourYAML)
}

func parseBehaviours(data []byte) (Behaviours, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f behaviourFile
	if err := dec.Decode(&f); err != nil {
		return Behaviours{}, fmt.Errorf("gateway behaviour: %w", err)
	}
	if f.AsOf == "" {
		return Behaviours{}, fmt.Errorf("gateway behaviour: as_of is missing")
	}
	out := Behaviours{AsOf: f.AsOf, ByID: map[string]Behaviour{}}
	for _, b := range f.Gateways {
		if err := b.resolve(); err != nil {
			return Behaviours{}, fmt.Errorf("gateway behaviour: %s: %w", b.ID, err)
		}
		if _, dup := out.ByID[b.ID]; dup {
			return Behaviours{}, fmt.Errorf("gateway behaviour: %s is listed twice", b.ID)
		}
		out.ByID[b.ID] = b
	}
	for _, id := range GatewayIDs() {
		if _, ok := out.ByID[id]; !ok {
			return Behaviours{}, fmt.Errorf("gateway behaviour: %s is missing", id)
		}
	}
	return out, nil
}

// resolve parses the triggers and checks every value is usable and sourced.
func (b *Behaviour) resolve() error {
	if !slices.Contains(GatewayIDs(), b.ID) {
		return fmt.Errorf("unknown gateway")
	}
	var err error
	if b.RetryOn, err = conditionClasses(b.RetryOnRaw); err != nil {
		return fmt.Errorf("retry_on: %w", err)
	}
	if b.FailoverOn, err = conditionClasses(b.FailoverOnRaw); err != nil {
		return fmt.Errorf("failover_on: %w", err)
	}
	c := b.Cooldown
	switch {
	case b.Retries < 0 || b.Retries > 10 || b.ClientRetries < 0 || b.ClientRetries > 10:
		return fmt.Errorf("retries must be between 0 and 10")
	case b.TimeoutSeconds < 0 || b.TimeoutSeconds > 3600:
		return fmt.Errorf("timeout_seconds must be between 0 and 3600")
	case b.MaxTargets < 0:
		return fmt.Errorf("max_targets must not be negative")
	case c.Kind != "" && c.Kind != CooldownTarget && c.Kind != CooldownProviderHealth:
		return fmt.Errorf("cooldown kind must be %s or %s", CooldownTarget, CooldownProviderHealth)
	case c.Kind == CooldownTarget && (c.AfterFails < 1 || c.Seconds <= 0 || c.Seconds > 3600 || c.WindowSeconds < 0 || c.WindowSeconds > 3600):
		return fmt.Errorf("a target cooldown needs after_fails ≥ 1, 0 < seconds ≤ 3600 and a window of at most 3600 s")
	case c.Kind != CooldownTarget && (c.AfterFails != 0 || c.Seconds != 0 || c.WindowSeconds != 0 || c.FirstFailureOnly):
		return fmt.Errorf("cooldown values apply to a target cooldown only")
	case b.AddedLatencyMS.P50 < 0 || b.AddedLatencyMS.P95 < b.AddedLatencyMS.P50:
		return fmt.Errorf("added_latency_ms needs 0 ≤ p50 ≤ p95")
	case !slices.Contains([]string{"none", "exact", "semantic"}, b.Cache):
		return fmt.Errorf("cache must be none, exact or semantic")
	}
	for _, s := range b.BackoffSeconds {
		if s < 0 || s > 60 {
			return fmt.Errorf("backoff_seconds must be between 0 and 60")
		}
	}
	for _, d := range b.DependsOn {
		if !slices.Contains([]string{"cloudflare", "aws", "gcp", "azure"}, d) {
			return fmt.Errorf("depends_on: unknown platform %q", d)
		}
	}
	knobs := behaviourKnobs()
	var missing []string
	for _, k := range knobs {
		if strings.TrimSpace(b.Sources[k]) == "" {
			missing = append(missing, k)
		}
	}
	for k := range b.Sources {
		if !slices.Contains(knobs, k) {
			return fmt.Errorf("sources: unknown knob %q", k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no source for %s", strings.Join(missing, ", "))
	}
	return nil
}

// Backoff is the wait before retry n (0-based): the listed waits, the last
// one repeated when more retries than waits are configured.
func (b Behaviour) Backoff(n int) float64 { return backoffAt(b.BackoffSeconds, n) }
