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
	"sync"
	"time"
)

// errFailed marks a load run in which something failed: the report has
// already said what.
var errFailed = errors.New("the load run had failures")

// run is the whole program: flags in, report out. main only wires it to the
// process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	rep, err := drive(ctx, cfg, log, stderr)
	if rep != nil {
		rep.print(stdout)
		if cfg.jsonPath != "" {
			if werr := rep.writeJSON(cfg.jsonPath); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}
	if err != nil {
		return err
	}
	if rep.failed() {
		return fmt.Errorf("%w: %d failures, %d of %d sessions cut short", errFailed, rep.FailureCount, rep.Runs.Unfinished, rep.Runs.Users)
	}
	return nil
}

// exitCode prints err and picks the status: 0 success, 1 failure, 2 bad
// usage.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "gatewise-load:", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// drive starts the server, lets the users loose, stops the server and
// returns the report. The report is there (possibly partial) whenever the
// server started, even when err is not nil.
func drive(ctx context.Context, cfg config, log *slog.Logger, stderr io.Writer) (*report, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.timeout, fmt.Errorf("--timeout %s reached", cfg.timeout))
	defer cancel()

	dir, err := os.MkdirTemp("", "gatewise-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	bin := cfg.bin
	if bin == "" {
		log.Info("building the server", "package", serverPackage)
		if bin, err = buildServer(ctx, dir); err != nil {
			return nil, err
		}
	}
	addr, err := freeAddr(cfg.addr)
	if err != nil {
		return nil, err
	}
	logs := &lineLog{out: stderr}
	srv, err := startServer(ctx, bin, addr, dir, logs)
	if err != nil {
		return nil, err
	}
	log.Info("server up", "url", srv.url, "pid", srv.pid(), "users", cfg.users, "log_mb", cfg.logMB, "trials", cfg.trials, "reads", cfg.reads)

	memCtx, stopMem := context.WithCancel(context.Background())
	memDone := make(chan memoryReport, 1)
	go func() { memDone <- sampleMemory(memCtx, srv.pid(), cfg.memEvery) }()

	// A crashed server ends the load at once rather than through a pile of
	// connection errors.
	loadCtx, stopLoad := context.WithCancelCause(ctx)
	defer stopLoad(nil)
	go func() {
		select {
		case <-srv.exited:
			if srv.crashed() {
				stopLoad(fmt.Errorf("server exited during the load: %v", srv.waitErr))
			}
		case <-loadCtx.Done():
		}
	}()

	// Each user connects from its own loopback address, as fifty people
	// would from fifty machines; where that cannot be done they share one,
	// and the server's per-client limits may answer 429.
	perUser := canBind(loadCtx, srv.url, userAddr(cfg.users-1))
	if !perUser {
		log.Warn("users share one client address: the server's per-client upload and run limits apply to all of them together")
	}
	rec := newRecorder()
	clients := make([]*client, cfg.users)
	for i := range clients {
		var from net.IP
		if perUser {
			from = userAddr(i)
		}
		clients[i] = newClient(srv.url, from, rec)
	}
	results := make([]userResult, cfg.users)
	loadBefore := loadAverage()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.users {
		u := &user{n: i + 1, c: clients[i], logMB: cfg.logMB, trials: cfg.trials, reads: cfg.reads, poll: cfg.poll}
		wg.Go(func() { results[i] = u.session(loadCtx) })
	}
	wg.Wait()
	wall := time.Since(start)
	loadAfter := loadAverage()
	for _, c := range clients {
		c.close()
	}

	crashed := srv.crashed()
	stopMem()
	mem := <-memDone
	stopped := srv.stop(cfg.grace)
	lines, total := logs.lines()

	rep := newReport(cfg, wall, rec, results, mem)
	rep.LoadAverage.Before, rep.LoadAverage.After = loadBefore, loadAfter
	rep.ClientAddresses = 1
	if perUser {
		rep.ClientAddresses = cfg.users
	}
	if hwm, _, err := readMemory(os.Getpid()); err == nil {
		rep.ToolPeakBytes = hwm
	}
	rep.Server = serverReport{Stop: stopped, Crashed: crashed, LogLines: total, Log: lines}
	log.Info("server stopped", "signal", stopped.Signal, "exit", stopped.Exit, "took", stopped.Took)
	if cause := context.Cause(loadCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return rep, cause
	}
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted")
		}
		return rep, err
	}
	return rep, nil
}
