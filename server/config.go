package server

import (
	"net/netip"
	"runtime"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Config is everything the server needs to know; cmd/gatewise fills it from
// flags and environment and passes it in, so nothing reads globals.
type Config struct {
	// Addr is where the server listens, host:port.
	Addr string
	// Version is shown in the footer and by /healthz.
	Version string
	// MaxBodyBytes caps every request body (forms and imported files).
	MaxBodyBytes int64
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
	// ReadTimeout bounds how long a request may take to arrive, body
	// included, and its answer to leave. UploadTimeout replaces it for a
	// request log sent to an upload route by a signed-in user (or anyone,
	// without sign-in): a 2 GB log over a slow link takes longer. Nobody
	// else gets it, so a slow body sent by a stranger is cut at ReadTimeout.
	ReadTimeout, UploadTimeout time.Duration
	// MaxTrials caps a run's trials. A run keeps every trial's outcome per
	// option and scenario until it ends (about 6.6 KB a trial for seven
	// options and five scenarios), so this and Workers bound the memory
	// runs take.
	MaxTrials int
	// Workers is how many simulations run at once (default: one per core);
	// more wait in the queue. Each run may use every core, so one run alone
	// finishes as fast as the machine allows and several share it.
	Workers int
	// JobLease and TrialsPerJob are for PostgreSQL, where runs are River
	// jobs (river.go): the time from a job's start within which, if its
	// worker dies, it is tried again elsewhere (or its run is marked
	// interrupted), and how many trials make one job of a run.
	JobLease     time.Duration
	TrialsPerJob int
	// MaxUploadBytes caps an uploaded request log; UploadDir is where it
	// waits while it is read (then it is deleted).
	MaxUploadBytes int64
	UploadDir      string
	// LogReads is how many uploaded logs are read into profiles at once
	// (default: one per core); more wait, already on disk. Each read holds
	// a few tens of megabytes, so this bounds the memory uploads take.
	LogReads int

	// Users and AuthToken turn sign-in on (see auth.go): the people who may
	// sign in, and a token for the API (acting as the user "api").
	// SecureCookies marks the session cookie Secure even when TLS ends at a
	// proxy in front of gatewise.
	Users         Users
	AuthToken     string
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (see proxies.go); none by default, when the connection's
	// address is the client's.
	TrustedProxies []netip.Prefix
	// RunsPerMinute and UploadsPerMinute limit each client (a signed-in user,
	// or an address); 0 means no limit.
	RunsPerMinute    int
	UploadsPerMinute int

	// MetricsToken, when set, is what a Prometheus scraper sends
	// (Authorization: Bearer) to read /metrics; without it /metrics is as
	// open as the other pages (see metrics.go). MetricsAddr, when set, also
	// serves /metrics alone on that address, for a scraper on an internal
	// network.
	MetricsToken string
	MetricsAddr  string
	// TracerProvider traces every request and every stage of a run
	// (tracing.go); nil, nothing is traced.
	TracerProvider trace.TracerProvider
}

// Defaults for Config fields left at zero.
const (
	DefaultAddr            = "localhost:8080"
	DefaultMaxBodyBytes    = 2 << 20
	DefaultShutdownTimeout = 10 * time.Second
	DefaultReadTimeout     = 2 * time.Minute
	DefaultUploadTimeout   = time.Hour
	DefaultMaxUploadBytes  = 2 << 30
	// DefaultMaxTrials is the simulator's own limit: a run's memory no
	// longer grows with its trials, only its time does.
	DefaultMaxTrials = 1_000_000
	// Per client: plenty for a person, a stop for a runaway script.
	DefaultRunsPerMinute    = 30
	DefaultUploadsPerMinute = 20
)

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.UploadTimeout <= 0 {
		c.UploadTimeout = DefaultUploadTimeout
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.Workers <= 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.MaxTrials <= 0 {
		c.MaxTrials = DefaultMaxTrials
	}
	if c.LogReads <= 0 {
		c.LogReads = runtime.NumCPU()
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	return c
}
