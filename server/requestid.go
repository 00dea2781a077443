package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
)

// RequestIDHeader carries a request's id, in and out: a proxy or client may
// send one, and every answer says which id its log lines carry.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an id taken from a client; longer ones are
// replaced, as are ids with characters other than letters, digits and
// "-_.:", so nothing a client sends can forge a log line or a header.
const maxRequestIDLen = 128

type requestIDKey struct{}

// WithRequestID returns ctx carrying a request id, which every log line
// written with it shows (see NewLogHandler).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, "" when none.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// validRequestID reports whether a client's id may be used as it is.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// newRequestID makes an id of 130 random bits, 26 letters and digits.
func newRequestID() string { return rand.Text() }

// requestID gives every request an id: the one the client or proxy sent in
// X-Request-ID when it is valid, else a new one. The answer carries it in
// the same header and the request's context carries it to every log line
// written under the request, the store's and the queue's included.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader(RequestIDHeader)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Header(RequestIDHeader, id)
	c.Request = c.Request.WithContext(WithRequestID(c.Request.Context(), id))
	c.Next()
}

// NewLogHandler wraps a slog handler so that every line written with a
// request's context names the request (request_id) and, when the request
// is traced, its trace and span (trace_id, span_id), and so that every
// duration is written as seconds, a float (took=0.0123), where slog's
// JSON handler writes whole nanoseconds and its text handler "12.3ms".
// cmd/gatewise wraps the one handler all of a process's loggers share;
// server.New wraps the logger it is given when that was not done.
func NewLogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*logHandler); ok {
		return h
	}
	return &logHandler{h: h}
}

type logHandler struct{ h slog.Handler }

func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(inSeconds(a))
		return true
	})
	if id := RequestID(ctx); id != "" {
		out.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		out.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.h.Handle(ctx, out)
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	conv := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		conv[i] = inSeconds(a)
	}
	return &logHandler{h: l.h.WithAttrs(conv)}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{h: l.h.WithGroup(name)}
}

// inSeconds writes a duration, also one inside a group, as float seconds.
func inSeconds(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindDuration:
		return slog.Float64(a.Key, seconds(v.Duration()))
	case slog.KindGroup:
		g := v.Group()
		conv := make([]slog.Attr, len(g))
		for i, m := range g {
			conv[i] = inSeconds(m)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(conv...)}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// seconds is d in seconds, to the microsecond: enough for any latency
// gatewise logs, and short to read.
func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Second)
}
