package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatewise/pricing"
	"gatewise/server"
	"gatewise/server/store"
	"gatewise/version"
)

// serveFlags are serve's settings once read: a flag wins over its
// environment variable, which wins over the default.
type serveFlags struct {
	addr, db, logLevel, logFormat, uploadDir, users, authToken    string
	maxBody, maxUpload                                            size
	workers, maxTrials, logReads, runsPerMinute, uploadsPerMinute int
	secureCookies                                                 bool
	trustedProxies                                                string
	jobLease                                                      time.Duration
	trialsPerJob                                                  int
	metricsToken, metricsAddr                                     string
}

// option is one setting: a flag, the environment variable behind it, and
// what it means. The README's configuration table lists the same rows.
type option struct {
	flag, env, help string
	define          func(fs *flag.FlagSet, name, usage string)
}

// options binds every setting to its field of f, with its default, in the
// order -h lists them.
func (f *serveFlags) options() []option {
	str := func(p *string, def string) func(*flag.FlagSet, string, string) {
		return func(fs *flag.FlagSet, name, usage string) { fs.StringVar(p, name, def, usage) }
	}
	num := func(p *int, def int) func(*flag.FlagSet, string, string) {
		return func(fs *flag.FlagSet, name, usage string) { fs.IntVar(p, name, def, usage) }
	}
	bytes := func(p *size, def int64) func(*flag.FlagSet, string, string) {
		return func(fs *flag.FlagSet, name, usage string) { *p = size(def); fs.Var(p, name, usage) }
	}
	return []option{
		{"addr", "GATEWISE_ADDR", "`address` to listen on, host:port", str(&f.addr, server.DefaultAddr)},
		{"db", "GATEWISE_DB", "SQLite file `path`, or a postgres:// URL for PostgreSQL", str(&f.db, "gatewise.db")},
		{"max-body", "GATEWISE_MAX_BODY", "largest request body accepted (`bytes`, or with KiB, MiB, GiB)", bytes(&f.maxBody, 2<<20)},
		{"log-level", "GATEWISE_LOG_LEVEL", "`level`: debug, info, warn or error", str(&f.logLevel, "info")},
		{"log-format", "GATEWISE_LOG_FORMAT", "`format`: text or json", str(&f.logFormat, "text")},
		{"workers", "GATEWISE_WORKERS", "simulations run at once, 1 to 64, by default one per core; more wait in the queue", num(&f.workers, runtime.NumCPU())},
		{"max-upload", "GATEWISE_MAX_UPLOAD", "largest request log accepted (`bytes`, or with KiB, MiB, GiB)", bytes(&f.maxUpload, 2<<30)},
		{"max-trials", "GATEWISE_MAX_TRIALS", "most trials a run may have (1 to 1000000); a run's memory does not grow with its trials, its time does", num(&f.maxTrials, server.DefaultMaxTrials)},
		{"log-reads", "GATEWISE_LOG_READS", "uploaded logs read into profiles at once, 1 to 64, by default one per core; more wait on disk", num(&f.logReads, runtime.NumCPU())},
		{"upload-dir", "GATEWISE_UPLOAD_DIR", "`folder` where an uploaded log waits while it is read (default: the system's temporary folder)", str(&f.uploadDir, "")},
		{"users", "GATEWISE_USERS", "`file` of NAME:BCRYPT_HASH lines; turns sign-in on (see gatewise hash-password)", str(&f.users, "")},
		{"auth-token", "GATEWISE_AUTH_TOKEN", "`token` for the API (Authorization: Bearer), acting as the user api; turns sign-in on. Prefer the environment variable: flags show in process lists", str(&f.authToken, "")},
		{"secure-cookies", "GATEWISE_SECURE_COOKIES", "mark the session cookie Secure even without TLS here (TLS ends at a proxy); the variable takes true or false", func(fs *flag.FlagSet, name, usage string) {
			fs.BoolVar(&f.secureCookies, name, false, usage)
		}},
		{"trusted-proxies", "GATEWISE_TRUSTED_PROXIES", "reverse proxies (`CIDRs` or addresses, comma-separated) whose X-Forwarded-For names the client for rate limits and sign-in throttles; none by default", str(&f.trustedProxies, "")},
		{"runs-per-minute", "GATEWISE_RUNS_PER_MINUTE", "runs each client may start a minute (0: no limit)", num(&f.runsPerMinute, server.DefaultRunsPerMinute)},
		{"uploads-per-minute", "GATEWISE_UPLOADS_PER_MINUTE", "logs each client may upload a minute (0: no limit)", num(&f.uploadsPerMinute, server.DefaultUploadsPerMinute)},
		{"job-lease", "GATEWISE_JOB_LEASE", "PostgreSQL: a job of a run (a range of trials, or the merge) whose process dies is tried again on another within this long of its start, or after three tries its run is marked interrupted, 1m to 24h. River needs 40s of it to notice and hand the job on, and a job may run for the rest less a tenth of it (at least 5s): 3m54s of 5m, 15s of 1m", func(fs *flag.FlagSet, name, usage string) {
			fs.DurationVar(&f.jobLease, name, server.DefaultJobLease, usage)
		}},
		{"trials-per-job", "GATEWISE_TRIALS_PER_JOB", "PostgreSQL: trials in one job of a run, 100 to 1000000; a larger run is split into jobs that several processes work at once", num(&f.trialsPerJob, server.DefaultTrialsPerJob)},
		{"metrics-token", "GATEWISE_METRICS_TOKEN", "`token` a Prometheus scraper sends (Authorization: Bearer) to read /metrics, at least 16 characters; without it /metrics is as open as the other pages", str(&f.metricsToken, "")},
		{"metrics-addr", "GATEWISE_METRICS_ADDR", "`address` (host:port) to serve /metrics alone on too, for a scraper on an internal network; the only HTTP a worker serves. None by default", str(&f.metricsAddr, "")},
	}
}

// size is a byte count read as "2097152", "512KiB" or "2MiB".
type size int64

func (s *size) String() string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n := int64(*s); n > 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*s), 10)
}

func (s *size) Set(v string) error {
	n, err := parseSize(v)
	*s = size(n)
	return err
}

// serve runs the web app until ctx is cancelled (Ctrl-C), then shuts down:
// in-flight requests finish, then the database is closed.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	setup, err := readServeFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg, logger := setup.cfg, setup.logger
	st, stop, err := openTraced(ctx, getenv, logger, &cfg, setup.db)
	if err != nil {
		return err
	}
	defer stop()

	srv, err := server.New(cfg, st, pricing.Default(), logger)
	if err != nil {
		return err
	}
	if srv.SignInOn() {
		// Work made before sign-in was turned on is seen by no one until it
		// is claimed; say so rather than let it look lost.
		if c, err := st.Unowned(ctx); err != nil {
			logger.Warn("counting rows made without sign-in", "error", err)
		} else if c.Total() > 0 {
			logger.Warn(fmt.Sprintf("%d architectures, %d runs and %d uploads were made without sign-in and are visible to no one; give them to a user with: gatewise claim -user NAME",
				c.Architectures, c.Runs, c.Uploads))
		}
	}
	return srv.ListenAndServe(ctx, func(url string) {
		logger.Info("gatewise is serving", "url", url, "database", st.Kind(), "version", version.String(), "sign_in", srv.SignInOn())
		if !srv.SignInOn() && !loopback(cfg.Addr) {
			logger.Warn("gatewise is open to anyone who can reach " + cfg.Addr + ": nothing asks who they are; set GATEWISE_USERS (and GATEWISE_AUTH_TOKEN for the API) to require sign-in")
		}
		fmt.Fprintf(stdout, "gatewise is running at %s (press Ctrl-C to stop)\n", url)
	})
}

// startTracing turns tracing on when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, into cfg; the returned stop
// sends the spans still buffered, for up to five seconds.
func startTracing(ctx context.Context, getenv func(string) string, logger *slog.Logger, cfg *server.Config) (stop func(), err error) {
	tp, err := server.NewTracerProvider(ctx, getenv, version.String())
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if tp == nil {
		return func() {}, nil
	}
	cfg.TracerProvider = tp
	logger.Info("tracing: sending spans over OTLP/HTTP", "endpoint", server.TracesEndpoint(getenv))
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			logger.Warn("tracing: sending the last spans", "error", err)
		}
	}, nil
}

// serveSetup is what serve reads from its flags and the environment
// before it opens anything.
type serveSetup struct {
	cfg    server.Config
	db     string
	logger *slog.Logger
}

// readServeFlags reads serve's flags, then the environment for those the
// command line left unset, and checks every value, naming the flag or the
// variable it came from.
func readServeFlags(args []string, getenv func(string) string, stderr io.Writer) (serveSetup, error) {
	return readSettings("serve", nil, "Usage: gatewise [serve] [flags]\n\n"+
		"Serves the web app until Ctrl-C; in-flight requests finish, then the database is\n"+
		"closed. Each flag may be set by its environment variable instead; a flag wins.\n\n",
		args, getenv, stderr)
}

// readSettings reads the settings of command cmd (those of serve named in
// only, or all of them when only is nil) from args and then the
// environment, and checks them; usage heads -h.
func readSettings(cmd string, only []string, usage string, args []string, getenv func(string) string, stderr io.Writer) (serveSetup, error) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	var opts []option
	for _, o := range f.options() {
		if only == nil || slices.Contains(only, o.flag) {
			opts = append(opts, o)
		}
	}
	for _, o := range opts {
		o.define(fs, o.flag, fmt.Sprintf("%s (env %s)", o.help, o.env))
	}
	// Settings the command does not take keep their defaults.
	for _, o := range f.options() {
		if fs.Lookup(o.flag) == nil {
			o.define(flag.NewFlagSet("", flag.ContinueOnError), o.flag, "")
		}
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return serveSetup{}, usageError(err)
	}
	if fs.NArg() > 0 {
		return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s takes no arguments, got %q", cmd, fs.Args())}
	}
	// The environment fills what the command line left unset, read by the
	// same parser as the flag so "GATEWISE_WORKERS=two" fails as -workers two would.
	onCommandLine := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { onCommandLine[fl.Name] = true })
	from := map[string]string{} // the name to blame for a bad value
	for _, o := range opts {
		from[o.flag] = "-" + o.flag
		v := getenv(o.env)
		if onCommandLine[o.flag] || v == "" {
			continue
		}
		from[o.flag] = o.env
		if err := fs.Set(o.flag, v); err != nil {
			return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s: %q %s", o.env, v, envProblem(fs.Lookup(o.flag), err))}
		}
	}

	logger, err := newLogger(f.logLevel, f.logFormat, stderr, from)
	if err != nil {
		return serveSetup{}, &exitError{code: 2, err: err}
	}
	for _, r := range []struct {
		name     string
		n        *int
		min, max int
	}{{"max-trials", &f.maxTrials, 1, 1_000_000}, {"log-reads", &f.logReads, 1, 64}, {"workers", &f.workers, 1, 64},
		{"runs-per-minute", &f.runsPerMinute, 0, 100000}, {"uploads-per-minute", &f.uploadsPerMinute, 0, 100000},
		{"trials-per-job", &f.trialsPerJob, 100, 1_000_000}} {
		if *r.n < r.min || *r.n > r.max {
			return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s: %d is not a number from %d to %d", from[r.name], *r.n, r.min, r.max)}
		}
	}
	// River's margin and a job's time must fit in the lease (see server.RiverOptions).
	if err := server.CheckJobLease(f.jobLease); err != nil {
		return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s: %w", from["job-lease"], err)}
	}

	cfg := server.Config{
		Addr:             f.addr,
		Version:          version.String(),
		MaxBodyBytes:     int64(f.maxBody),
		Workers:          f.workers,
		JobLease:         f.jobLease,
		TrialsPerJob:     f.trialsPerJob,
		MaxUploadBytes:   int64(f.maxUpload),
		UploadDir:        f.uploadDir,
		LogReads:         f.logReads,
		MaxTrials:        f.maxTrials,
		AuthToken:        f.authToken,
		RunsPerMinute:    f.runsPerMinute,
		UploadsPerMinute: f.uploadsPerMinute,
		SecureCookies:    f.secureCookies,
		MetricsToken:     f.metricsToken,
		MetricsAddr:      f.metricsAddr,
	}
	proxies, perr := server.ParseTrustedProxies(f.trustedProxies)
	if perr != nil {
		return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s: %w", from["trusted-proxies"], perr)}
	}
	cfg.TrustedProxies = proxies
	if cfg.AuthToken != "" && len(cfg.AuthToken) < 16 {
		return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s: use at least 16 characters (for example: openssl rand -hex 32)", from["auth-token"])}
	}
	if cfg.MetricsToken != "" && len(cfg.MetricsToken) < 16 {
		return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s: use at least 16 characters (for example: openssl rand -hex 32)", from["metrics-token"])}
	}
	if cfg.MetricsToken != "" && cfg.MetricsToken == cfg.AuthToken {
		return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s: use a token of its own, not the API token: a scraper needs to read metrics, not to act as the user api", from["metrics-token"])}
	}
	if path := f.users; path != "" {
		file, err := os.Open(path)
		if err != nil {
			return serveSetup{}, &exitError{code: 2, err: fmt.Errorf("%s: %w", from["users"], err)}
		}
		cfg.Users, err = server.ReadUsers(file, path)
		file.Close()
		if err != nil {
			return serveSetup{}, &exitError{code: 2, err: err}
		}
	}
	return serveSetup{cfg: cfg, db: f.db, logger: logger}, nil
}

// newLogger builds the log handler; from names where each setting came from
// (flag or environment variable), so a bad value is blamed on the right one.
func newLogger(level, format string, w io.Writer, from map[string]string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%s: %q is not one of debug, info, warn, error", from["log-level"], level)
	}
	opts := &slog.HandlerOptions{Level: l}
	// Every line under a request carries its id, and durations are seconds.
	switch format {
	case "text":
		return slog.New(server.NewLogHandler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(server.NewLogHandler(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("%s: %q is not text or json", from["log-format"], format)
}

// envProblem says what an environment variable's value should have been,
// in the words of the flag it stands for.
func envProblem(fl *flag.Flag, err error) string {
	if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "is not true or false"
	}
	if _, ok := fl.Value.(*size); ok {
		return err.Error()
	}
	if g, ok := fl.Value.(flag.Getter); ok {
		if _, ok := g.Get().(time.Duration); ok {
			return "is not a duration such as 5m or 90s"
		}
	}
	return "is not a whole number"
}

// parseSize reads "2097152", "512KiB", "2MiB" or "1GiB" (KB, MB, GB and K, M, G
// are read as the same binary units).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("must be a positive size such as 2MiB")
	}
	if n > (1<<62)/mult {
		return 0, errors.New("is too large")
	}
	return n * mult, nil
}

// loopback reports whether addr listens only on this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// openTraced starts tracing when the environment asks for it and opens the
// database, for serve and worker alike; stop closes both, the database
// first.
func openTraced(ctx context.Context, getenv func(string) string, logger *slog.Logger, cfg *server.Config, db string) (*store.Store, func(), error) {
	stopTracing, err := startTracing(ctx, getenv, logger, cfg)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, db, logger)
	if err != nil {
		stopTracing()
		return nil, nil, err
	}
	return st, func() {
		if err := st.Close(); err != nil {
			logger.Error("closing the database", "error", err)
		}
		stopTracing()
	}, nil
}
