package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"gatewise/pricing"
	"gatewise/server"
	"gatewise/version"
)

// workerSettings are the serve settings a worker takes: it serves nothing,
// so only the database, the log and the job queue's.
var workerSettings = []string{"db", "workers", "job-lease", "trials-per-job", "log-level", "log-format", "metrics-addr", "metrics-token"}

// worker works runs from a PostgreSQL database until ctx is cancelled
// (Ctrl-C), beside any number of gatewise serve and gatewise worker
// processes on other machines. A job cut short by the stop goes back to
// the queue for another process.
func worker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	setup, err := readSettings("worker", workerSettings, "Usage: gatewise worker --db postgres://...\n\n"+
		"Works simulation runs queued on a PostgreSQL database, beside the gatewise serve\n"+
		"processes that queue them and other workers, without serving HTTP. A large run is\n"+
		"split into jobs of --trials-per-job trials that several processes work at once.\n"+
		"Stops on Ctrl-C; the job it was working goes back to the queue. Each flag may be\n"+
		"set by its environment variable instead; a flag wins.\n\n",
		args, getenv, stderr)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(setup.db, "postgres://") && !strings.HasPrefix(setup.db, "postgresql://") {
		return &exitError{code: 2, err: errors.New("worker needs a PostgreSQL database (--db postgres://... or GATEWISE_DB): a SQLite file belongs to the one gatewise serve that opens it, which runs its simulations itself")}
	}
	logger := setup.logger
	cfg := setup.cfg
	st, stop, err := openTraced(ctx, getenv, logger, &cfg, setup.db)
	if err != nil {
		return err
	}
	defer stop()
	metrics := server.NewMetrics(st, logger)
	if cfg.MetricsAddr != "" {
		stop, err := server.ServeMetrics(ctx, cfg.MetricsAddr, server.MetricsHandler(metrics, cfg.MetricsToken), logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	q := server.NewRiverQueue(st, pricing.Default(), logger, server.RiverOptions{Workers: cfg.Workers, Lease: cfg.JobLease,
		TrialsPerJob: cfg.TrialsPerJob, Version: cfg.Version, Sweep: func(ctx context.Context) { server.SweepDatabase(ctx, st, logger) },
		Metrics: metrics, TracerProvider: cfg.TracerProvider})
	if err := q.Start(ctx); err != nil {
		return err
	}
	logger.Info("gatewise worker is working runs", "database", st.Kind(), "workers", cfg.Workers, "version", version.String())
	fmt.Fprintf(stdout, "gatewise worker is working runs with %d workers (press Ctrl-C to stop)\n", cfg.Workers)
	<-ctx.Done()
	logger.Info("stopping: jobs at work go back to the queue")
	q.Wait()
	return nil
}
