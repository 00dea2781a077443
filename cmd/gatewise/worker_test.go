package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"gatewise/server"
)

// A worker refuses SQLite, which one gatewise serve owns, before opening
// anything; its settings are serve's, read the same way.
func TestWorkerRefusesSQLiteAndBadSettings(t *testing.T) {
	t.Parallel()
	refusal := "gatewise: worker needs a PostgreSQL database (--db postgres://... or GATEWISE_DB): a SQLite file belongs to the one gatewise serve that opens it, which runs its simulations itself\n"
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, refusal},
		{nil, []string{"--db", "team.db"}, refusal},
		{map[string]string{"GATEWISE_DB": "sqlite://team.db"}, nil, refusal},
		{nil, []string{"--db", "postgres://db/gatewise", "--job-lease", "1s"}, "gatewise: -job-lease: 1s is too short: River needs 40s of the lease to try a dead worker's job again, and a job 20s more to run and stop, so the lease is at least 1m\n"},
		{map[string]string{"GATEWISE_JOB_LEASE": "soon"}, []string{"--db", "postgres://db/gatewise"}, `gatewise: GATEWISE_JOB_LEASE: "soon" is not a duration such as 5m or 90s` + "\n"},
		{map[string]string{"GATEWISE_TRIALS_PER_JOB": "10"}, []string{"--db", "postgres://db/gatewise"}, "gatewise: GATEWISE_TRIALS_PER_JOB: 10 is not a number from 100 to 1000000\n"},
		{nil, []string{"--db", "postgres://db/gatewise", "--addr", ":1"}, "gatewise: flag provided but not defined: -addr\n"},
		{nil, []string{"--db", "postgres://db/gatewise", "extra"}, "gatewise: worker takes no arguments, got [\"extra\"]\n"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"worker"}, c.args...), env(c.env), strings.NewReader(""), &out, &errb)
		code := exitCode(err, &errb)
		// flag's own complaint comes with the usage; the last line is ours.
		lines := strings.SplitAfter(errb.String(), "\n")
		last := lines[len(lines)-2]
		if code != 2 || last != c.want {
			t.Errorf("env %v, args %v: exit %d, %q; want exit 2 with %q", c.env, c.args, code, last, c.want)
		}
	}
}

// serve reads the job queue's settings too, with their defaults.
func TestServeJobQueueSettings(t *testing.T) {
	t.Parallel()
	s, msg, err := readServe(t, nil)
	if err != nil || s.cfg.JobLease != server.DefaultJobLease || s.cfg.TrialsPerJob != server.DefaultTrialsPerJob {
		t.Fatalf("defaults: lease %s, trials per job %d (%v %s)", s.cfg.JobLease, s.cfg.TrialsPerJob, err, msg)
	}
	s, msg, err = readServe(t, map[string]string{"GATEWISE_JOB_LEASE": "90s"}, "--trials-per-job", "2000")
	if err != nil || s.cfg.JobLease != 90*time.Second || s.cfg.TrialsPerJob != 2000 {
		t.Fatalf("lease %s, trials per job %d (%v %s); want 90s and 2000", s.cfg.JobLease, s.cfg.TrialsPerJob, err, msg)
	}
}
