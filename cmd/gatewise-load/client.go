package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxResponse bounds what the tool reads of one answer; a run's JSON with
// its result and a result page are well under it.
const maxResponse = 64 << 20

// client sends the load's requests and records each one under its
// endpoint: the method and the path with ids left as {id}.
type client struct {
	base string
	http *http.Client
	rec  *recorder
}

// newClient makes one user's client. from, when set, is the loopback
// address its connections come from: the server limits uploads and runs
// per client address, and fifty users are fifty clients, not one.
func newClient(base string, from net.IP, rec *recorder) *client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if from != nil {
		dialer.LocalAddr = &net.TCPAddr{IP: from}
	}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
	}
	return &client{base: base, rec: rec, http: &http.Client{
		Transport: tr,
		// A redirect is an answer worth seeing, not following.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// userAddr is user n's source address, 127.0.0.2 on: Linux answers on all
// of 127.0.0.0/8.
func userAddr(n int) net.IP {
	v := 2 + n
	return net.IPv4(127, byte(v>>16), byte(v>>8), byte(v))
}

// canBind reports whether a connection to the server can come from from:
// only where the whole loopback block is up (Linux), and only to an IPv4
// server.
func canBind(ctx context.Context, base string, from net.IP) bool {
	c := newClient(base, from, newRecorder())
	defer c.close()
	_, err := c.do(ctx, request{method: http.MethodGet, pattern: "/healthz", want: http.StatusOK})
	return err == nil
}

func (c *client) close() { c.http.CloseIdleConnections() }

// request is one call: pattern is the endpoint's path with {id} where id
// goes, want the status that means success.
type request struct {
	method, pattern, id string
	body                io.Reader
	contentType         string
	want                int
}

func (r request) endpoint() string { return r.method + " " + r.pattern }

// errRequest is a request that failed: a transport error or an unexpected
// status. It is already recorded.
type errRequest struct {
	endpoint string
	status   int // 0 for a transport error
	message  string
}

func (e *errRequest) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("%s: %s", e.endpoint, e.message)
	}
	return fmt.Sprintf("%s: status %d: %s", e.endpoint, e.status, e.message)
}

// do sends r and returns the body of a successful answer. Every outcome is
// recorded; the latency runs until the whole answer is read.
func (c *client) do(ctx context.Context, r request) ([]byte, error) {
	path := strings.Replace(r.pattern, "{id}", r.id, 1)
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+path, r.body)
	if err != nil {
		return nil, err
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		resp.Body.Close()
	}
	took := time.Since(start)
	if err != nil {
		kind := "transport"
		if ctx.Err() != nil {
			kind = "cancelled"
		}
		c.rec.add(r.endpoint(), took, kind)
		return nil, c.rec.fail(&errRequest{endpoint: r.endpoint(), message: err.Error()})
	}
	if resp.StatusCode != r.want {
		c.rec.add(r.endpoint(), took, strconv.Itoa(resp.StatusCode))
		return nil, c.rec.fail(&errRequest{endpoint: r.endpoint(), status: resp.StatusCode, message: snippet(body)})
	}
	c.rec.add(r.endpoint(), took, "")
	return body, nil
}

// invalid records a successful status whose body was wrong.
func (c *client) invalid(r request, format string, args ...any) error {
	c.rec.mark(r.endpoint(), "bad body")
	return c.rec.fail(&errRequest{endpoint: r.endpoint(), status: r.want, message: "bad body: " + fmt.Sprintf(format, args...)})
}

// snippet is the start of an error answer, on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// recorder collects every request's latency and outcome; users share it.
type recorder struct {
	mu        sync.Mutex
	endpoints map[string]*endpointLog
	failures  []string
	failed    int
}

type endpointLog struct {
	took   []time.Duration
	errors map[string]int // by status, "transport", "cancelled" or "bad body"
}

// keptFailures bounds the failure messages kept for the report.
const keptFailures = 50

func newRecorder() *recorder { return &recorder{endpoints: map[string]*endpointLog{}} }

func (r *recorder) log(endpoint string) *endpointLog {
	e := r.endpoints[endpoint]
	if e == nil {
		e = &endpointLog{errors: map[string]int{}}
		r.endpoints[endpoint] = e
	}
	return e
}

// add records one request; kind is empty for a success.
func (r *recorder) add(endpoint string, took time.Duration, kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.log(endpoint)
	e.took = append(e.took, took)
	if kind != "" {
		e.errors[kind]++
	}
}

// mark counts an error against a request already added.
func (r *recorder) mark(endpoint, kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log(endpoint).errors[kind]++
}

// fail keeps the message of a failure and returns err.
func (r *recorder) fail(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed++
	if len(r.failures) < keptFailures {
		r.failures = append(r.failures, err.Error())
	}
	return err
}

// endpointStats is one endpoint's line of the report.
type endpointStats struct {
	Endpoint string         `json:"endpoint"`
	Count    int            `json:"count"`
	Errors   int            `json:"errors"`
	ByStatus map[string]int `json:"errors_by_status,omitempty"`
	Minms    float64        `json:"min_ms"`
	P50ms    float64        `json:"p50_ms"`
	P95ms    float64        `json:"p95_ms"`
	P99ms    float64        `json:"p99_ms"`
	Maxms    float64        `json:"max_ms"`
	PerSec   float64        `json:"requests_per_second"`
}

// stats summarises every endpoint over wall, in a stable order.
func (r *recorder) stats(wall time.Duration) []endpointStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]endpointStats, 0, len(r.endpoints))
	for name, e := range r.endpoints {
		took := slices.Clone(e.took)
		slices.Sort(took)
		s := endpointStats{
			Endpoint: name, Count: len(took),
			P50ms: ms(quantile(took, 0.50)), P95ms: ms(quantile(took, 0.95)), P99ms: ms(quantile(took, 0.99)),
		}
		if len(took) > 0 {
			s.Minms, s.Maxms = ms(took[0]), ms(took[len(took)-1])
		}
		if wall > 0 {
			s.PerSec = float64(len(took)) / wall.Seconds()
		}
		for kind, n := range e.errors {
			s.Errors += n
			if s.ByStatus == nil {
				s.ByStatus = map[string]int{}
			}
			s.ByStatus[kind] = n
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b endpointStats) int {
		return strings.Compare(endpointOrder(a.Endpoint), endpointOrder(b.Endpoint))
	})
	return out
}

// endpointOrder lists the API's writes first, in the order a user makes
// them, then the reads.
func endpointOrder(e string) string {
	for i, first := range []string{"POST /api/v1/architectures", "POST /api/v1/uploads", "POST /api/v1/runs"} {
		if e == first {
			return strconv.Itoa(i) + e
		}
	}
	return "9" + e
}

// quantile is the nearest-rank quantile of sorted durations: exact, one of
// the recorded values.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*q)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
