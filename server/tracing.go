package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: then every request is a span
// (named by its method and route, as OpenTelemetry's HTTP conventions have
// it), and every stage of a run is a span too, in the trace of the request
// that queued it. Off, no tracing middleware is installed and the run
// stages use a no-op tracer, so nothing is recorded, sent or slowed.

// tracerName names gatewise's spans' instrumentation scope.
const tracerName = "gatewise/server"

// propagator reads a caller's trace from traceparent (and baggage) on a
// request, and carries a run's trace from job to job on PostgreSQL.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// NewTracerProvider builds the tracer provider that exports over OTLP/HTTP
// when getenv names an endpoint, and returns nil when it names none or
// OTEL_SDK_DISABLED is true. The exporter reads the rest of the standard
// OTEL_EXPORTER_OTLP_* variables itself (headers, timeout, compression,
// certificates), the SDK reads OTEL_TRACES_SAMPLER; the service is named
// by OTEL_SERVICE_NAME, "gatewise" by default. Those are read from the
// process's environment; getenv only decides whether tracing is on. The caller shuts the
// provider down when it stops, which sends the spans still buffered.
func NewTracerProvider(ctx context.Context, getenv func(string) string, version string) (*sdktrace.TracerProvider, error) {
	endpoint := TracesEndpoint(getenv)
	if endpoint == "" || strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter for %s: %w", endpoint, err)
	}
	res, err := traceResource(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// TracesEndpoint is the URL spans are sent to: the traces endpoint as
// given, or /v1/traces under the general one, as the OTLP specification
// has it; "" when neither is set.
func TracesEndpoint(getenv func(string) string) string {
	if u := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); u != "" {
		return u
	}
	if u := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); u != "" {
		return strings.TrimRight(u, "/") + "/v1/traces"
	}
	return ""
}

// traceResource says which service and version the spans come from:
// "gatewise" and this build, unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES (read by the SDK) say otherwise.
func traceResource(ctx context.Context, version string) (*resource.Resource, error) {
	return resource.New(ctx, resource.WithAttributes(semconv.ServiceName("gatewise"), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), resource.WithSchemaURL(semconv.SchemaURL))
}

// telemetry is what the run pipeline reports its work to: the process's
// metrics (nil: none) and its tracer.
type telemetry struct {
	metrics *Metrics
	tracer  trace.Tracer
}

func newTelemetry(m *Metrics, tp trace.TracerProvider) telemetry {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return telemetry{metrics: m, tracer: tp.Tracer(tracerName)}
}

// span starts a span of a run's stage, a child of ctx's.
func (t telemetry) span(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	tr := t.tracer
	if tr == nil {
		tr = noop.NewTracerProvider().Tracer(tracerName)
	}
	return tr.Start(ctx, name, trace.WithAttributes(attrs...))
}

// jobSpan starts the span of one job of a run, in the trace its
// arguments carry.
func (t telemetry) jobSpan(ctx context.Context, c traceCarrier, kind, runID string, attempt int) (context.Context, trace.Span) {
	ctx = c.resume(ctx)
	tr := t.tracer
	if tr == nil {
		tr = noop.NewTracerProvider().Tracer(tracerName)
	}
	return tr.Start(ctx, "job "+kind, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(runIDAttr(runID), attribute.String("gatewise.job.kind", kind), attribute.Int("gatewise.job.attempt", attempt)))
}

// endSpan ends a span, marked failed when err is a failure (a cancelled
// run is not one).
func endSpan(span trace.Span, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Attributes of run spans.
func runIDAttr(id string) attribute.KeyValue { return attribute.String("gatewise.run.id", id) }

func trialRangeAttrs(from, to int) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.Int("gatewise.trials.from", from), attribute.Int("gatewise.trials.to", to)}
}

// traceCarrier is a trace written down for a job's arguments, so the job's
// spans join the trace that queued it, on whichever process works it.
type traceCarrier map[string]string

// carry writes ctx's trace down; nil when ctx has none.
func carry(ctx context.Context) traceCarrier {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return traceCarrier(c)
}

// resume returns ctx in the trace c carries.
func (c traceCarrier) resume(ctx context.Context) context.Context {
	if len(c) == 0 {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier(c))
}

// traceRequests makes a server span of every request, in the caller's
// trace when it sent one (traceparent). It is installed only when tracing
// is on.
func (s *Server) traceRequests(c *gin.Context) {
	ctx := propagator.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
	route, method := c.FullPath(), c.Request.Method
	name := method
	if route != "" {
		name += " " + route
	}
	attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method), semconv.URLPath(c.Request.URL.Path),
		attribute.String("gatewise.request_id", RequestID(ctx))}
	if route != "" {
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	ctx, span := s.tel.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	defer span.End()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	status := c.Writer.Status()
	span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if status >= 500 {
		span.SetStatus(codes.Error, fmt.Sprintf("answered %d", status))
	}
	if u := userOf(c); u != "" {
		span.SetAttributes(attribute.String("gatewise.user", u))
	}
}
