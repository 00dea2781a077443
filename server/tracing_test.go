package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"gatewise/pricing"
	"gatewise/server/store"
)

// newTracedServer is a test server that traces into an in-memory exporter.
func newTracedServer(t *testing.T) (*Server, http.Handler, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatewise.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test", TracerProvider: tp}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Handler(), exp
}

// attrs are a span's attributes by key.
func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// spanNamed is the one span of that name, or fails.
func spanNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		names := []string{}
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("%d spans named %q among %v, want 1", len(found), name, names)
	}
	return found[0]
}

// A request is a server span named by its method and route, in the trace
// the caller sent, with the route, path, status and request id.
func TestTracingARequest(t *testing.T) {
	t.Parallel()
	_, h, exp := newTracedServer(t)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	hdr := http.Header{}
	hdr.Set("Traceparent", "00-"+traceID+"-"+parentID+"-01")
	hdr.Set(RequestIDHeader, "traced-1")
	wantStatus(t, do(t, h, "GET", "/runs/nosuchrun", nil, hdr), http.StatusNotFound)

	span := spanNamed(t, exp.GetSpans(), "GET /runs/:id")
	if span.SpanKind != trace.SpanKindServer || span.SpanContext.TraceID().String() != traceID || span.Parent.SpanID().String() != parentID {
		t.Errorf("span kind %v, trace %s, parent %s; want a server span in the caller's trace", span.SpanKind, span.SpanContext.TraceID(), span.Parent.SpanID())
	}
	a := attrs(span)
	for k, want := range map[attribute.Key]string{"http.request.method": "GET", "http.route": "/runs/:id", "url.path": "/runs/nosuchrun", "gatewise.request_id": "traced-1"} {
		if got := a[k].AsString(); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := a["http.response.status_code"].AsInt64(); got != 404 {
		t.Errorf("http.response.status_code = %d, want 404", got)
	}
}

// A run's stages are spans in the trace of the request that queued it:
// the run, its inputs loaded, its range simulated, merged, its memo.
func TestTracingARun(t *testing.T) {
	t.Parallel()
	s, h, exp := newTracedServer(t)
	startRunner(t, s)
	id := create(t, h, loadExample(t, "single-provider"))
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"20"}})
	wantStatus(t, rec, http.StatusSeeOther)
	runID := strings.TrimPrefix(rec.Header().Get("Location"), "/runs/")
	waitFor(t, s, runID, store.RunDone)
	// The run's span ends once its end is recorded; wait for it (a bound
	// on a background step, not a measurement).
	var spans tracetest.SpanStubs
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		spans = exp.GetSpans()
		if slicesContainName(spans, "run") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run's span never ended")
		}
	}
	post := spanNamed(t, spans, "POST /architectures/:id/runs")
	run := spanNamed(t, spans, "run")
	if run.Parent.SpanID() != post.SpanContext.SpanID() || run.SpanContext.TraceID() != post.SpanContext.TraceID() {
		t.Errorf("the run's span is not a child of the request that queued it")
	}
	if got := attrs(run)["gatewise.run.id"].AsString(); got != runID {
		t.Errorf("run span's gatewise.run.id = %q, want %q", got, runID)
	}
	for _, stage := range []string{"run.load_inputs", "run.simulate_range", "run.merge", "run.memo"} {
		sp := spanNamed(t, spans, stage)
		if sp.Parent.SpanID() != run.SpanContext.SpanID() {
			t.Errorf("%s is not a child of the run's span", stage)
		}
		if sp.Status.Code != codes.Unset {
			t.Errorf("%s ended %v", stage, sp.Status)
		}
	}
	sim := attrs(spanNamed(t, spans, "run.simulate_range"))
	if sim["gatewise.trials.from"].AsInt64() != 0 || sim["gatewise.trials.to"].AsInt64() != 20 {
		t.Errorf("simulate_range attributes %v, want trials 0 to 20", sim)
	}
	if got := attrs(spanNamed(t, spans, "run.load_inputs"))["gatewise.run.id"].AsString(); got != runID {
		t.Errorf("load_inputs gatewise.run.id = %q", got)
	}
}

func slicesContainName(spans tracetest.SpanStubs, name string) bool {
	for _, s := range spans {
		if s.Name == name {
			return true
		}
	}
	return false
}

// handlerNames are the names of the engine's middleware.
func handlerNames(chain gin.HandlersChain) []string {
	var out []string
	for _, h := range chain {
		out = append(out, runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name())
	}
	return out
}

// With no endpoint set, there is no tracer provider, no tracing middleware
// in the chain, and the runs' stages start spans that record nothing.
func TestTracingOffByDefault(t *testing.T) {
	t.Parallel()
	tp, err := NewTracerProvider(context.Background(), func(string) string { return "" }, "test")
	if err != nil || tp != nil {
		t.Fatalf("provider %v, %v; want none without OTEL_EXPORTER_OTLP_ENDPOINT", tp, err)
	}
	disabled, err := NewTracerProvider(context.Background(), func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}[k]
	}, "test")
	if err != nil || disabled != nil {
		t.Fatalf("provider %v, %v; want none with OTEL_SDK_DISABLED=true", disabled, err)
	}
	s, _ := newTestServer(t)
	for _, name := range handlerNames(s.engine().Handlers) {
		if strings.Contains(name, "traceRequests") {
			t.Errorf("the chain has %s with tracing off", name)
		}
	}
	ts, _, _ := newTracedServer(t)
	if !strings.Contains(strings.Join(handlerNames(ts.engine().Handlers), " "), "traceRequests") {
		t.Error("the chain lacks traceRequests with tracing on")
	}
	_, span := s.tel.span(context.Background(), "run.load_inputs")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("a run stage records a span with tracing off")
	}
	span.End()
}

// otlpCollector is an OTLP/HTTP receiver that keeps the span names sent.
type otlpCollector struct {
	mu    sync.Mutex
	posts int
	names []string
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.posts++
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				c.names = append(c.names, sp.GetName())
			}
		}
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				c.names = append(c.names, "service:"+kv.GetValue().GetStringValue())
			}
		}
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Write(out)
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, the provider sends the spans of a
// request over OTLP/HTTP to that endpoint's /v1/traces; unset, a server
// sends nothing there.
func TestTracingExportsOverOTLP(t *testing.T) {
	t.Parallel()
	col := &otlpCollector{}
	srv := httptest.NewServer(col)
	t.Cleanup(srv.Close)
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL + "/"}
	tp, err := NewTracerProvider(context.Background(), func(k string) string { return env[k] }, "test")
	if err != nil || tp == nil {
		t.Fatalf("provider %v, %v", tp, err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatewise.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test", TracerProvider: tp}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, do(t, s.Handler(), "GET", "/healthz", nil, nil), http.StatusOK)
	if err := tp.Shutdown(context.Background()); err != nil { // sends what is buffered
		t.Fatal(err)
	}
	col.mu.Lock()
	got := strings.Join(col.names, ",")
	col.mu.Unlock()
	if got != "GET /healthz,service:gatewise" {
		t.Errorf("the collector got %q, want the request's span from service gatewise", got)
	}

	// Tracing off: requests reach no collector.
	before := col.posts
	_, h := newTestServer(t)
	wantStatus(t, do(t, h, "GET", "/healthz", nil, nil), http.StatusOK)
	col.mu.Lock()
	defer col.mu.Unlock()
	if col.posts != before {
		t.Errorf("%d exports with tracing off", col.posts-before)
	}
}

// The traces endpoint is the signal's own variable, else /v1/traces under
// the general one.
func TestTracesEndpoint(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http://collector:4318/v1/traces"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example/otlp/"}, "https://otel.example/otlp/v1/traces"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/traces"}, "http://b:4318/traces"},
	} {
		if got := TracesEndpoint(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %q, want %q", c.env, got, c.want)
		}
	}
}
