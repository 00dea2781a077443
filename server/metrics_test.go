package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"gatewise/server/store"
)

// scrape reads /metrics as Prometheus would and parses it.
func scrape(t *testing.T, h http.Handler, header http.Header) map[string]*dto.MetricFamily {
	t.Helper()
	rec := do(t, h, "GET", "/metrics", nil, header)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("/metrics is %q, want Prometheus's text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// sample finds the sample of family name whose labels are exactly labels.
func sample(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Fatalf("/metrics has no %s", name)
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if match {
			return m
		}
	}
	t.Fatalf("%s has no sample %v; it has %v", name, labels, f.GetMetric())
	return nil
}

// value is a counter's or gauge's value.
func value(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// A scrape after a few requests, an upload and a run counts each of them:
// requests by route pattern (never the path with its ids), the trials
// simulated, the log's bytes and rows, the run's duration, the runs by
// state and the queue, read from the database.
func TestMetricsCountRequestsRunsAndUploads(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	startRunner(t, s)
	id := create(t, h, loadExample(t, "single-provider"))
	for range 2 {
		wantStatus(t, do(t, h, "GET", "/architectures/"+id, nil, nil), http.StatusOK)
	}
	wantStatus(t, do(t, h, "GET", "/architectures/"+id+"nope", nil, nil), http.StatusNotFound)
	wantStatus(t, do(t, h, "GET", "/no/such/page", nil, nil), http.StatusNotFound)

	file := logCSV()
	rec := upload(t, h, "/architectures/"+id+"/uploads", map[string]string{"format": "csv", "map": logMap}, file)
	wantStatus(t, rec, http.StatusSeeOther)
	upID := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	rec = postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"30"}, "upload_id": {upID}})
	wantStatus(t, rec, http.StatusSeeOther)
	runID := strings.TrimPrefix(rec.Header().Get("Location"), "/runs/")
	waitFor(t, s, runID, store.RunDone)
	// The worker observes the run's duration just after recording its
	// end; wait for it (a bound on a background step, not a measurement).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var m dto.Metric
		if err := s.metrics.runDuration.Write(&m); err == nil && m.GetHistogram().GetSampleCount() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run's duration was never observed")
		}
	}

	f := scrape(t, h, nil)
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"route": "/architectures/:id", "method": "GET", "status": "200"}, 2},
		{map[string]string{"route": "/architectures/:id", "method": "GET", "status": "404"}, 1},
		{map[string]string{"route": unmatchedRoute, "method": "GET", "status": "404"}, 1},
		{map[string]string{"route": "/architectures", "method": "POST", "status": "303"}, 1},
		{map[string]string{"route": "/architectures/:id/uploads", "method": "POST", "status": "303"}, 1},
		{map[string]string{"route": "/architectures/:id/runs", "method": "POST", "status": "303"}, 1},
	} {
		if got := value(sample(t, f, "gatewise_http_requests_total", c.labels)); got != c.want {
			t.Errorf("gatewise_http_requests_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	for _, m := range f["gatewise_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && (strings.Contains(l.GetValue(), id) || strings.Contains(l.GetValue(), "/no/such")) {
				t.Errorf("a route label holds a path: %q", l.GetValue())
			}
		}
	}
	lat := sample(t, f, "gatewise_http_request_duration_seconds", map[string]string{"route": "/architectures/:id", "method": "GET"})
	if n := lat.GetHistogram().GetSampleCount(); n != 3 {
		t.Errorf("latency histogram of GET /architectures/:id counts %d requests, want 3", n)
	}
	if got := value(sample(t, f, "gatewise_trials_total", nil)); got != 30 {
		t.Errorf("gatewise_trials_total = %v, want the run's 30", got)
	}
	if got := value(sample(t, f, "gatewise_ingest_rows_total", nil)); got != 60 {
		t.Errorf("gatewise_ingest_rows_total = %v, want the log's 60 rows", got)
	}
	if got := value(sample(t, f, "gatewise_ingest_bytes_total", nil)); got != float64(len(file)) {
		t.Errorf("gatewise_ingest_bytes_total = %v, want the log's %d bytes", got, len(file))
	}
	if n := sample(t, f, "gatewise_run_duration_seconds", nil).GetHistogram().GetSampleCount(); n != 1 {
		t.Errorf("gatewise_run_duration_seconds counts %d runs, want 1", n)
	}
	for state, want := range map[string]float64{"done": 1, "queued": 0, "running": 0, "failed": 0, "cancelled": 0, "interrupted": 0} {
		if got := value(sample(t, f, "gatewise_runs", map[string]string{"state": state})); got != want {
			t.Errorf("gatewise_runs{state=%q} = %v, want %v", state, got, want)
		}
	}
	if got := value(sample(t, f, "gatewise_queue_depth", nil)); got != 0 {
		t.Errorf("gatewise_queue_depth = %v after the run, want 0", got)
	}
	if _, ok := f["go_goroutines"]; !ok {
		t.Error("/metrics lacks the Go runtime's metrics")
	}
	// Names, help and units follow Prometheus's conventions.
	problems, err := testutil.GatherAndLint(s.metrics.Registry(), "gatewise_http_requests_total", "gatewise_http_request_duration_seconds",
		"gatewise_runs", "gatewise_run_duration_seconds", "gatewise_trials_total", "gatewise_ingest_bytes_total", "gatewise_ingest_rows_total", "gatewise_queue_depth")
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", err, problems)
	}
}

// Queued runs are the queue's depth while no worker takes them.
func TestMetricsQueueDepth(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t) // no worker started
	id := create(t, h, loadExample(t, "single-provider"))
	for range 2 {
		wantStatus(t, postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"10"}}), http.StatusSeeOther)
	}
	f := scrape(t, h, nil)
	if got := value(sample(t, f, "gatewise_queue_depth", nil)); got != 2 {
		t.Errorf("gatewise_queue_depth = %v, want 2", got)
	}
	if got := value(sample(t, f, "gatewise_runs", map[string]string{"state": "queued"})); got != 2 {
		t.Errorf("gatewise_runs{state=queued} = %v, want 2", got)
	}
}

// Who may read /metrics: anyone when sign-in is off and no metrics token
// is set; with sign-in on, signed-in users and the API token; with a
// metrics token, whoever sends it too, and nobody else when sign-in is off.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	const metricsTok = "scraper-token-0123456789"
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

	_, open := newTestServer(t)
	wantStatus(t, do(t, open, "GET", "/metrics", nil, nil), http.StatusOK)

	_, signedIn := newAuthServer(t, nil)
	wantStatus(t, do(t, signedIn, "GET", "/metrics", nil, http.Header{"Accept": {"application/json"}}), http.StatusUnauthorized)
	wantStatus(t, do(t, signedIn, "GET", "/metrics", nil, bearer(testToken)), http.StatusOK)
	wantStatus(t, do(t, signedIn, "GET", "/metrics", nil, signIn(t, signedIn, "alice")), http.StatusOK)

	_, withToken := newAuthServer(t, func(c *Config) { c.MetricsToken = metricsTok })
	wantStatus(t, do(t, withToken, "GET", "/metrics", nil, bearer(metricsTok)), http.StatusOK)
	wantStatus(t, do(t, withToken, "GET", "/metrics", nil, bearer(testToken)), http.StatusOK)
	wantStatus(t, do(t, withToken, "GET", "/metrics", nil, bearer("wrong-token-0123456789")), http.StatusUnauthorized)
	// The metrics token opens /metrics and nothing else.
	wantStatus(t, do(t, withToken, "GET", "/api/v1/runs/x", nil, bearer(metricsTok)), http.StatusUnauthorized)

	s, _ := newTestServer(t)
	s.cfg.MetricsToken = metricsTok
	tokenOnly := s.Handler()
	wantStatus(t, do(t, tokenOnly, "GET", "/metrics", nil, nil), http.StatusUnauthorized)
	wantStatus(t, do(t, tokenOnly, "GET", "/metrics", nil, bearer("wrong-token-0123456789")), http.StatusUnauthorized)
	rec := do(t, tokenOnly, "GET", "/metrics", nil, bearer(metricsTok))
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "# TYPE gatewise_http_requests_total counter")
}

// A worker's metrics listener serves /metrics behind its token and
// /healthz to anyone, and nothing else.
func TestMetricsHandlerOfAWorker(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	m := NewMetrics(s.store, nil)
	m.trialCounter()(1234)
	srv := httptest.NewServer(MetricsHandler(m, "scraper-token-0123456789"))
	t.Cleanup(srv.Close)
	get := func(path, token string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if r := get("/metrics", ""); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d", r.StatusCode)
	}
	r := get("/metrics", "scraper-token-0123456789")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", r.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	f, err := p.TextToMetricFamilies(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := value(sample(t, f, "gatewise_trials_total", nil)); got != 1234 {
		t.Errorf("gatewise_trials_total = %v, want 1234", got)
	}
	if r := get("/healthz", ""); r.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", r.StatusCode)
	}
	if r := get("/", ""); r.StatusCode != http.StatusNotFound {
		t.Errorf("/: %d", r.StatusCode)
	}
}

// A progress callback's counts, in any order, add each trial once.
func TestTrialCounter(t *testing.T) {
	t.Parallel()
	m := NewMetrics(nil, nil)
	count := m.trialCounter()
	for _, done := range []int{10, 30, 20, 30, 50} {
		count(done)
	}
	m.trialCounter()(7) // another range
	if got := testutil.ToFloat64(m.trials); got != 57 {
		t.Errorf("trials = %v, want 57", got)
	}
	var nilMetrics *Metrics
	nilMetrics.trialCounter()(5) // a process without metrics counts nothing, and does not fail
	nilMetrics.runFinished(time.Second)
}

// Logs added to an upload count too: their bytes as received, their rows
// as read (a later export's repeated rows are read, then left out).
func TestMetricsCountAddedLogs(t *testing.T) {
	t.Parallel()
	_, h, _, _ := newUploadServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	spend, errs, later := spendCSV(0, 0, 120), errorLogsCSV(), spendCSV(60, 60, 120)
	rec := sendLog(t, h, "/architectures/"+arch+"/uploads", "spend.csv", nil, spend, nil)
	wantStatus(t, rec, http.StatusSeeOther)
	id := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	wantStatus(t, sendLog(t, h, "/uploads/"+id+"/logs", "errors.csv", nil, errs, nil), http.StatusSeeOther)
	wantStatus(t, sendLog(t, h, "/api/v1/uploads/"+id+"/logs", "spend-later.csv", nil, later, nil), http.StatusCreated)
	f := scrape(t, h, nil)
	if got := value(sample(t, f, "gatewise_ingest_rows_total", nil)); got != 120+20+120 {
		t.Errorf("gatewise_ingest_rows_total = %v, want 260", got)
	}
	if got, want := value(sample(t, f, "gatewise_ingest_bytes_total", nil)), float64(len(spend)+len(errs)+len(later)); got != want {
		t.Errorf("gatewise_ingest_bytes_total = %v, want %v", got, want)
	}
}
