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
	ServerError                        // 5xx, 529 overloaded
	Timeout                            // no answer before the timeout (or 408)
	Connection                         // reset or refused
	BadRequest                         // 400 for context length or content policy
)

// ErrorClasses is a set of error classes.
type ErrorClasses uint8

// Has reports whether c is in the set.
func (s ErrorClasses) Has(c ErrorClass) bool { return s&ErrorClasses(c) != 0 }

// parseTrigger reads one entry of retry_on or failover_on.
func parseTrigger(s string) (ErrorClass, error) {
	switch s {
	case "429":
		return RateLimited, nil
	case "5xx", "500", "502", "503", "504", "529", "409":
		return ServerError, nil
	case "408", "timeout":
		return Timeout, nil
	case "connection":
		return Connection, nil
	case "400-context", "400-content":
		return BadRequest, nil
	}
	return 0, fmt.Errorf("unknown trigger %q (use 429, 5xx, a 5xx code, 408, timeout, connection, 400-context or 400-content)", s)
}

// Paths says which other ways to serve a request a gateway may try.
type Paths struct {
	OtherHost      bool `yaml:"other_host"`      // the same model on another provider
	FallbackModels bool `yaml:"fallback_models"` // the route's next model
	OtherRegion    bool `yaml:"other_region"`    // another region of the same provider, within residency
}

// Cooldown is how a gateway remembers a failing path: after AfterFails
// failures it skips the path for Seconds. SingleDeploymentNever marks
// LiteLLM's rule that a group with one deployment is never cooled down.
type Cooldown struct {
	AfterFails            int     `yaml:"after_fails"`
	Seconds               float64 `yaml:"seconds"`
	SingleDeploymentNever bool    `yaml:"single_deployment_never,omitempty"`
}

// Latency is a gateway's added latency per request.
type Latency struct {
	P50 float64 `yaml:"p50"`
	P95 float64 `yaml:"p95"`
}

// Behaviour is one option's failure handling, as documented by its vendor
// or measured independently.
type Behaviour struct {
	ID                string            `yaml:"id"`
	InPath            bool              `yaml:"in_path"`
	Paths             Paths             `yaml:"paths"`
	Retries           int               `yaml:"retries"`
	RetryOnRaw        []string          `yaml:"retry_on"`
	BackoffSeconds    []float64         `yaml:"backoff_seconds"`
	HonoursRetryAfter bool              `yaml:"honours_retry_after"`
	FailoverOnRaw     []string          `yaml:"failover_on"`
	TimeoutSeconds    float64           `yaml:"timeout_seconds"` // 0: none of its own, the client's applies
	Cooldown          Cooldown          `yaml:"cooldown"`
	AddedLatencyMS    Latency           `yaml:"added_latency_ms"`
	Cache             string            `yaml:"cache"`
	DependsOn         []string          `yaml:"depends_on"`
	RescuesMidStream  bool              `yaml:"rescues_mid_stream"`
	Sources           map[string]string `yaml:"sources"`

	RetryOn    ErrorClasses `yaml:"-"`
	FailoverOn ErrorClasses `yaml:"-"`

	// Where a self-hosted gateway runs, from the architecture's
	// gateway_settings: that region's and platform's events take it down.
	HostingRegion, HostingPlatform string `yaml:"-"`
}

// behaviourKnobs are the knobs every gateway must give a source for.
func behaviourKnobs() []string {
	return []string{"paths", "retries", "retry_on", "backoff_seconds", "honours_retry_after", "failover_on",
		"timeout_seconds", "cooldown", "added_latency_ms", "cache", "depends_on", "rescues_mid_stream"}
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
	for _, t := range b.RetryOnRaw {
		c, err := parseTrigger(t)
		if err != nil {
			return fmt.Errorf("retry_on: %w", err)
		}
		b.RetryOn |= ErrorClasses(c)
	}
	for _, t := range b.FailoverOnRaw {
		c, err := parseTrigger(t)
		if err != nil {
			return fmt.Errorf("failover_on: %w", err)
		}
		b.FailoverOn |= ErrorClasses(c)
	}
	switch {
	case b.Retries < 0 || b.Retries > 10:
		return fmt.Errorf("retries must be between 0 and 10")
	case b.TimeoutSeconds < 0 || b.TimeoutSeconds > 3600:
		return fmt.Errorf("timeout_seconds must be between 0 and 3600")
	case b.Cooldown.AfterFails < 0 || b.Cooldown.Seconds < 0 || b.Cooldown.Seconds > 3600:
		return fmt.Errorf("cooldown values out of range")
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
func (b Behaviour) Backoff(n int) float64 {
	if len(b.BackoffSeconds) == 0 {
		return 0
	}
	return b.BackoffSeconds[min(n, len(b.BackoffSeconds)-1)]
}
