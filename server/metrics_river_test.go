package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"gatewise/server/store"
)

// On PostgreSQL, a run split into River jobs counts its trials and its
// duration, the queue's depth is the jobs waiting, and every job and stage
// is a span in the trace of the request that queued the run: the request,
// then the planning job, the trial ranges it inserted, and the merge the
// last range inserted.
func TestRiverMetricsAndTraces(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	s, _ := riverServer(t, riverDSN(t), Config{Workers: 2, TrialsPerJob: 40, TracerProvider: tp})
	h := s.Handler()
	arch := create(t, h, loadExample(t, "single-provider"))
	rec := postForm(t, h, "/architectures/"+arch+"/runs", url.Values{"trials": {"120"}})
	wantStatus(t, rec, http.StatusSeeOther)
	runID := strings.TrimPrefix(rec.Header().Get("Location"), "/runs/")

	// No worker yet: the run's planning job waits.
	f := scrape(t, h, nil)
	if got := value(sample(t, f, "gatewise_queue_depth", nil)); got != 1 {
		t.Errorf("gatewise_queue_depth = %v before any worker, want the planning job", got)
	}
	if got := value(sample(t, f, "gatewise_runs", map[string]string{"state": "queued"})); got != 1 {
		t.Errorf("gatewise_runs{state=queued} = %v, want 1", got)
	}

	startQueue(t, s)
	waitRun(t, s, runID, store.RunDone)
	// The merge job's span ends, and the duration is observed, just after
	// the result is stored: wait for both (a bound, not a measurement).
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var m dto.Metric
		s.metrics.runDuration.Write(&m)
		if m.GetHistogram().GetSampleCount() == 1 && slicesContainName(exp.GetSpans(), "job gatewise_merge") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the merge never ended")
		}
	}
	f = scrape(t, h, nil)
	if got := value(sample(t, f, "gatewise_trials_total", nil)); got != 120 {
		t.Errorf("gatewise_trials_total = %v, want the run's 120", got)
	}
	if got := value(sample(t, f, "gatewise_queue_depth", nil)); got != 0 {
		t.Errorf("gatewise_queue_depth = %v after the run, want 0", got)
	}
	if got := value(sample(t, f, "gatewise_runs", map[string]string{"state": "done"})); got != 1 {
		t.Errorf("gatewise_runs{state=done} = %v, want 1", got)
	}

	spans := exp.GetSpans()
	post := spanNamed(t, spans, "POST /architectures/:id/runs")
	plan := spanNamed(t, spans, "job gatewise_run")
	merge := spanNamed(t, spans, "job gatewise_merge")
	if plan.Parent.SpanID() != post.SpanContext.SpanID() {
		t.Error("the planning job's span is not a child of the request that queued the run")
	}
	ranges := map[int64]bool{}
	trialJobs := map[string]bool{}
	for _, sp := range spans {
		if (strings.HasPrefix(sp.Name, "job ") || strings.HasPrefix(sp.Name, "run.")) && sp.SpanContext.TraceID() != post.SpanContext.TraceID() {
			t.Errorf("span %s is in another trace", sp.Name)
		}
		switch sp.Name {
		case "job gatewise_trials":
			if sp.Parent.SpanID() != plan.SpanContext.SpanID() {
				t.Error("a trials job's span is not a child of the planning job's")
			}
			if attrs(sp)["gatewise.run.id"].AsString() != runID {
				t.Errorf("trials job attributes %v", attrs(sp))
			}
			trialJobs[sp.SpanContext.SpanID().String()] = true
		case "run.simulate_range":
			ranges[attrs(sp)["gatewise.trials.from"].AsInt64()] = true
		}
	}
	if len(trialJobs) != 3 || len(ranges) != 3 || !ranges[0] || !ranges[40] || !ranges[80] {
		t.Errorf("%d trials jobs simulating ranges from %v; want 3, from 0, 40 and 80", len(trialJobs), ranges)
	}
	if !trialJobs[merge.Parent.SpanID().String()] {
		t.Error("the merge job's span is not a child of a trials job's")
	}
	if got := attrs(spanNamed(t, spans, "run.merge"))["gatewise.run.ranges"].AsInt64(); got != 3 {
		t.Errorf("run.merge merged %d ranges, want 3", got)
	}
	if memo := spanNamed(t, spans, "run.memo"); memo.Parent.SpanID() != merge.SpanContext.SpanID() {
		t.Error("run.memo is not a child of the merge job's span")
	}
}
