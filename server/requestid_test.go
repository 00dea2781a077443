package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewise/pricing"
	"gatewise/server/store"
)

// jsonLines are the JSON log lines written to b so far.
func jsonLines(t *testing.T, b *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b.Bytes())), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// newJSONLoggedServer is a test server whose store and server log as JSON,
// at debug, into the returned buffer, through the handler cmd/gatewise
// uses.
func newJSONLoggedServer(t *testing.T) (*Server, http.Handler, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	logger := slog.New(NewLogHandler(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatewise.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test"}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Handler(), buf
}

// withID is a request header that sends id as X-Request-ID.
func withID(id string) http.Header {
	h := http.Header{}
	h.Set(RequestIDHeader, id)
	return h
}

// linesOf are the log lines that carry request id id.
func linesOf(lines []map[string]any, id string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["request_id"] == id {
			out = append(out, l)
		}
	}
	return out
}

// A request keeps the id a client sends and answers with it; its log line
// carries it, the route, and the time taken in seconds; a 4xx is INFO.
func TestRequestIDFromTheClient(t *testing.T) {
	t.Parallel()
	_, h, logs := newJSONLoggedServer(t)
	rec := do(t, h, "GET", "/runs/nosuchrun", nil, withID("edge-7f3a.2:1"))
	wantStatus(t, rec, http.StatusNotFound)
	if got := rec.Header().Get(RequestIDHeader); got != "edge-7f3a.2:1" {
		t.Errorf("X-Request-ID = %q, want the client's", got)
	}
	// Both the refusal's own line and the request line carry the id.
	var l map[string]any
	msgs := []string{}
	for _, m := range linesOf(jsonLines(t, logs), "edge-7f3a.2:1") {
		msgs = append(msgs, m["msg"].(string))
		if m["msg"] == "request" {
			l = m
		}
	}
	if strings.Join(msgs, ",") != "request refused,request" {
		t.Fatalf("lines with the id: %v, want the refusal and the request", msgs)
	}
	if l["level"] != "INFO" || l["status"] != 404.0 || l["route"] != "/runs/:id" || l["path"] != "/runs/nosuchrun" {
		t.Errorf("request line %v; want an INFO line for the 404 with route and path", l)
	}
	took, ok := l["took"].(float64)
	if !ok || took < 0 || took > 60 {
		t.Errorf("took = %#v, want seconds as a number", l["took"])
	}
}

// An id a client sends that could forge a log line or is too long is
// replaced by a new one, which the answer and the log both carry.
func TestRequestIDMadeWhenMissingOrInvalid(t *testing.T) {
	t.Parallel()
	_, h, logs := newJSONLoggedServer(t)
	seen := map[string]bool{}
	for _, sent := range []string{"", "two words", "a\"quote", strings.Repeat("x", maxRequestIDLen+1), "ünïcode"} {
		rec := do(t, h, "GET", "/healthz", nil, withID(sent))
		wantStatus(t, rec, http.StatusOK)
		id := rec.Header().Get(RequestIDHeader)
		if id == sent || !validRequestID(id) || len(id) != 26 || seen[id] {
			t.Errorf("sent %q, answered with id %q; want a new, valid one", sent, id)
		}
		seen[id] = true
		mine := linesOf(jsonLines(t, logs), id)
		// A health check that succeeds is logged at DEBUG: they come every
		// few seconds.
		if len(mine) != 1 || mine[0]["level"] != "DEBUG" || mine[0]["route"] != "/healthz" {
			t.Errorf("lines with id %q: %v", id, mine)
		}
	}
	if !validRequestID(strings.Repeat("x", maxRequestIDLen)) {
		t.Error("an id of the longest length is refused")
	}
}

// A server error is logged at ERROR, the failure's own line and the
// request line both with the request's id.
func TestRequestIDOnEveryLineOfAFailedRequest(t *testing.T) {
	t.Parallel()
	s, h, logs := newJSONLoggedServer(t)
	s.store.Close() // the database is gone: the list cannot be read
	rec := do(t, h, "GET", "/architectures", nil, withID("req-500"))
	if rec.Code < 500 {
		t.Fatalf("status %d, want a server error", rec.Code)
	}
	mine := linesOf(jsonLines(t, logs), "req-500")
	msgs := map[string]string{}
	for _, l := range mine {
		msgs[l["msg"].(string)] = l["level"].(string)
	}
	if msgs["request failed"] != "ERROR" || msgs["request"] != "ERROR" {
		t.Errorf("lines of the request: %v; want its failure and its request line, both ERROR", mine)
	}
}

// The handler writes durations as seconds, in groups and in a logger's
// own attributes too, and names the request of the context.
func TestLogHandlerSecondsAndRequestID(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(NewLogHandler(slog.NewJSONHandler(&buf, nil))).With(slog.Duration("lease", 5*time.Minute))
	ctx := WithRequestID(context.Background(), "r1")
	logger.InfoContext(ctx, "done", slog.Duration("took", 1234567*time.Microsecond),
		slog.Group("db", slog.Duration("elapsed", 1500*time.Microsecond), slog.Int("rows", 3)), "n", 7)
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	db, _ := got["db"].(map[string]any)
	if got["took"] != 1.234567 || got["lease"] != 300.0 || db["elapsed"] != 0.0015 || db["rows"] != 3.0 || got["n"] != 7.0 || got["request_id"] != "r1" {
		t.Errorf("line %s", buf.String())
	}
	// Wrapping twice adds nothing twice.
	buf.Reset()
	twice := slog.New(NewLogHandler(NewLogHandler(slog.NewTextHandler(&buf, nil))))
	twice.InfoContext(ctx, "x", "took", 2*time.Second)
	if line := buf.String(); strings.Count(line, "request_id=r1") != 1 || !strings.Contains(line, "took=2 ") && !strings.HasSuffix(strings.TrimSpace(line), "took=2") {
		t.Errorf("text line %q", line)
	}
	// Without a request, no id.
	buf.Reset()
	twice.Info("y")
	if strings.Contains(buf.String(), "request_id") {
		t.Errorf("line without a request: %q", buf.String())
	}
}
