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
	"strconv"
	"strings"

	"gatewise/pricing"
	"gatewise/server"
	"gatewise/server/store"
	"gatewise/version"
)

// option is one setting: a flag, the environment variable behind it, and its
// default. The README's configuration table lists the same rows.
type option struct {
	flag, env, def, help string
}

var serveOptions = []option{
	{"addr", "GATEWISE_ADDR", server.DefaultAddr, "address to listen on, host:port"},
	{"db", "GATEWISE_DB", "gatewise.db", "SQLite file path, or a postgres:// URL for PostgreSQL"},
	{"max-body", "GATEWISE_MAX_BODY", "2MiB", "largest request body accepted (bytes, or with KiB, MiB, GiB)"},
	{"log-level", "GATEWISE_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"log-format", "GATEWISE_LOG_FORMAT", "text", "text or json"},
	{"workers", "GATEWISE_WORKERS", strconv.Itoa(runtime.NumCPU()), "simulations run at once; more wait in the queue (default: one per core)"},
	{"max-upload", "GATEWISE_MAX_UPLOAD", "2GiB", "largest request log accepted (bytes, or with KiB, MiB, GiB)"},
	{"max-trials", "GATEWISE_MAX_TRIALS", strconv.Itoa(server.DefaultMaxTrials), "most trials a run may have (1 to 1000000); a run holds each trial's outcomes in memory until it ends"},
	{"log-reads", "GATEWISE_LOG_READS", strconv.Itoa(runtime.NumCPU()), "uploaded logs read into profiles at once; more wait on disk (default: one per core)"},
	{"upload-dir", "GATEWISE_UPLOAD_DIR", "", "where an uploaded log waits while it is read (default: the system's temporary folder)"},
	{"users", "GATEWISE_USERS", "", "file of NAME:BCRYPT_HASH lines; turns sign-in on (see gatewise hash-password)"},
	{"auth-token", "GATEWISE_AUTH_TOKEN", "", "token for the API (Authorization: Bearer), acting as the user api; turns sign-in on. Prefer the environment variable: flags show in process lists"},
	{"secure-cookies", "GATEWISE_SECURE_COOKIES", "false", "mark the session cookie Secure even without TLS here (TLS ends at a proxy)"},
	{"runs-per-minute", "GATEWISE_RUNS_PER_MINUTE", strconv.Itoa(server.DefaultRunsPerMinute), "runs each client may start a minute (0: no limit)"},
	{"uploads-per-minute", "GATEWISE_UPLOADS_PER_MINUTE", strconv.Itoa(server.DefaultUploadsPerMinute), "logs each client may upload a minute (0: no limit)"},
}

// serve runs the web app until ctx is cancelled (Ctrl-C), then shuts down:
// in-flight requests finish, then the database is closed.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals := map[string]*string{}
	for _, o := range serveOptions {
		def := o.def
		if v := getenv(o.env); v != "" {
			def = v
		}
		vals[o.flag] = fs.String(o.flag, def, fmt.Sprintf("%s (env %s)", o.help, o.env))
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("serve takes no arguments, got %q", fs.Args())}
	}

	logger, err := newLogger(*vals["log-level"], *vals["log-format"], stderr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	maxBody, err := parseSize(*vals["max-body"])
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("-max-body: %w", err)}
	}
	maxUpload, err := parseSize(*vals["max-upload"])
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("-max-upload: %w", err)}
	}
	maxTrials, err := strconv.Atoi(*vals["max-trials"])
	if err != nil || maxTrials < 1 || maxTrials > 1_000_000 {
		return &exitError{code: 2, err: fmt.Errorf("-max-trials: %q is not a number from 1 to 1000000", *vals["max-trials"])}
	}
	logReads, err := strconv.Atoi(*vals["log-reads"])
	if err != nil || logReads < 1 || logReads > 64 {
		return &exitError{code: 2, err: fmt.Errorf("-log-reads: %q is not a number from 1 to 64", *vals["log-reads"])}
	}
	workers, err := strconv.Atoi(*vals["workers"])
	if err != nil || workers < 1 || workers > 64 {
		return &exitError{code: 2, err: fmt.Errorf("-workers: %q is not a number from 1 to 64", *vals["workers"])}
	}

	cfg := server.Config{
		Addr:           *vals["addr"],
		Version:        version.String(),
		MaxBodyBytes:   maxBody,
		Workers:        workers,
		MaxUploadBytes: maxUpload,
		UploadDir:      *vals["upload-dir"],
		LogReads:       logReads,
		MaxTrials:      maxTrials,
		AuthToken:      *vals["auth-token"],
	}
	if cfg.RunsPerMinute, err = perMinute(*vals["runs-per-minute"], "runs-per-minute"); err != nil {
		return err
	}
	if cfg.UploadsPerMinute, err = perMinute(*vals["uploads-per-minute"], "uploads-per-minute"); err != nil {
		return err
	}
	if cfg.SecureCookies, err = strconv.ParseBool(*vals["secure-cookies"]); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("-secure-cookies: %q is not true or false", *vals["secure-cookies"])}
	}
	if cfg.AuthToken != "" && len(cfg.AuthToken) < 16 {
		return &exitError{code: 2, err: errors.New("-auth-token: use at least 16 characters (for example: openssl rand -hex 32)")}
	}
	if path := *vals["users"]; path != "" {
		f, err := os.Open(path)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("-users: %w", err)}
		}
		cfg.Users, err = server.ReadUsers(f, path)
		f.Close()
		if err != nil {
			return &exitError{code: 2, err: err}
		}
	}

	st, err := store.Open(ctx, *vals["db"], logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("closing the database", "error", err)
		}
	}()

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

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format: %q is not text or json", format)
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

// perMinute reads a per-minute limit.
func perMinute(v, name string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 100000 {
		return 0, &exitError{code: 2, err: fmt.Errorf("-%s: %q is not a number from 0 to 100000", name, v)}
	}
	return n, nil
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
