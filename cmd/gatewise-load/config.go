package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"
)

// config is one load run, as the flags set it.
type config struct {
	users   int
	logMB   float64
	trials  int
	reads   int
	timeout time.Duration
	// addr is where the server listens: a loopback host and a port, 0 for
	// a free one.
	addr string
	// bin is a gatewise binary to run; empty builds ./cmd/gatewise.
	bin      string
	jsonPath string
	// poll is how often a user asks for its run's progress.
	poll time.Duration
	// grace is how long the server may take to stop after SIGINT before it
	// gets SIGKILL.
	grace time.Duration
	// memEvery is how often the server's memory is sampled.
	memEvery time.Duration
}

// usageError marks bad flags: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// parseFlags reads the command line into a config and checks it.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{poll: 250 * time.Millisecond, grace: 15 * time.Second, memEvery: 100 * time.Millisecond}
	fs := flag.NewFlagSet("gatewise-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.users, "users", 50, "users at once; each saves an architecture, uploads a log, runs a simulation and reads its results")
	fs.Float64Var(&cfg.logMB, "log-mb", 50, "size of each user's generated request log, in MiB")
	fs.IntVar(&cfg.trials, "trials", 2000, "trials per run")
	fs.IntVar(&cfg.reads, "reads", 20, "rounds of reads per user once its memo is fetched; a round is the run page, the runs list, the architecture page and the run's JSON")
	fs.DurationVar(&cfg.timeout, "timeout", 15*time.Minute, "upper bound on the whole run, server start and stop included")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:0", "loopback address for the server (127.0.0.1, ::1 or localhost); port 0 picks a free one")
	fs.StringVar(&cfg.bin, "bin", "", "gatewise binary to start (default: go build ./cmd/gatewise into a temporary folder)")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, &usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, &usageError{fmt.Errorf("gatewise-load takes no arguments, got %q", fs.Args())}
	}
	if err := cfg.check(); err != nil {
		return cfg, &usageError{err}
	}
	return cfg, nil
}

// Bounds keep a typo from turning the tool into a flood.
const (
	maxUsers  = 1000
	maxLogMB  = 1024
	maxTrials = 1_000_000
	maxReads  = 10_000
)

func (c config) check() error {
	switch {
	case c.users < 1 || c.users > maxUsers:
		return fmt.Errorf("--users %d: want 1 to %d", c.users, maxUsers)
	case !(c.logMB > 0 && c.logMB <= maxLogMB):
		return fmt.Errorf("--log-mb %g: want more than 0 and at most %d", c.logMB, maxLogMB)
	case c.trials < 1 || c.trials > maxTrials:
		return fmt.Errorf("--trials %d: want 1 to %d", c.trials, maxTrials)
	case c.reads < 0 || c.reads > maxReads:
		return fmt.Errorf("--reads %d: want 0 to %d", c.reads, maxReads)
	case c.timeout <= 0:
		return fmt.Errorf("--timeout %s: want a positive duration", c.timeout)
	}
	return checkLoopback(c.addr)
}

// checkLoopback refuses any address but this machine's loopback: the tool
// is meant to load a server it started, never someone else's.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	switch host {
	case "127.0.0.1", "::1", "localhost":
	default:
		return fmt.Errorf("--addr %q: only 127.0.0.1, ::1 or localhost; the load stays on this machine", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("--addr %q: bad port: %w", addr, err)
	}
	return nil
}

// freeAddr turns port 0 into a port nothing listens on right now.
func freeAddr(addr string) (string, error) {
	host, port, _ := net.SplitHostPort(addr)
	if port != "0" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
