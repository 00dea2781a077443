package server

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gatewise/server/store"
	"gatewise/simulator/traffic"
)

// Metrics is what a gatewise process tells Prometheus, on a registry of its
// own (never the global default one, so two servers in one test or one
// process do not mix their counts). A server serves it at /metrics; a
// worker at --metrics-addr. Counters count what this process did; the
// runs and queue gauges are read from the database at each scrape, so
// every process of a deployment reports the same figures for them.
type Metrics struct {
	reg   *prometheus.Registry
	store *store.Store // nil in a process without a database

	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	runDuration prometheus.Histogram
	trials      prometheus.Counter
	ingestBytes prometheus.Counter
	ingestRows  prometheus.Counter
}

// unmatchedRoute labels requests no route matched (404s), so stray paths
// all fall in one series.
const unmatchedRoute = "unmatched"

// NewMetrics builds a process's metrics. st, when set, is read at each
// scrape for the runs in each state and the queue's depth; log hears a
// scrape that could not read them.
func NewMetrics(st *store.Store, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{
		reg:   prometheus.NewRegistry(),
		store: st,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatewise_http_requests_total",
			Help: "HTTP requests answered, by route (the route's pattern, not the path asked for), method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatewise_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by route and method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"route", "method"}),
		runDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gatewise_run_duration_seconds",
			Help:    "Time from a run's start to its result, of the runs this process finished.",
			Buckets: []float64{1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200},
		}),
		trials: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatewise_trials_total",
			Help: "Monte Carlo trials this process simulated; its rate is trials a second.",
		}),
		ingestBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatewise_ingest_bytes_total",
			Help: "Bytes of request logs received by uploads, as sent (compressed when gzip).",
		}),
		ingestRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatewise_ingest_rows_total",
			Help: "Rows of request logs read into the traffic profiles of uploads.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.runDuration, m.trials, m.ingestBytes, m.ingestRows,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.reg.MustRegister(&dbCollector{store: st, log: log})
	}
	return m
}

// Handler serves the metrics in Prometheus's text format (or OpenMetrics,
// when the scraper asks for it). A gauge the database could not answer is
// left out of the scrape and logged; the rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, EnableOpenMetrics: true})
}

// Registry is where the metrics are, for tests that gather them.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// observeRequest counts an answered request.
func (m *Metrics) observeRequest(route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
}

// runFinished records how long a finished run took, start to result.
func (m *Metrics) runFinished(took time.Duration) {
	if m != nil {
		m.runDuration.Observe(took.Seconds())
	}
}

// trialCounter returns a progress callback's counting half: given the
// trials done so far of one range (reported in any order), it adds the
// new ones to gatewise_trials_total.
func (m *Metrics) trialCounter() func(done int) {
	last := 0
	return func(done int) {
		if m == nil || done <= last {
			return
		}
		m.trials.Add(float64(done - last))
		last = done
	}
}

// logReceived counts the bytes of a request log an upload received.
func (m *Metrics) logReceived(n int64) {
	if m != nil && n > 0 {
		m.ingestBytes.Add(float64(n))
	}
}

// logRead counts the rows of a request log read into a traffic profile.
func (m *Metrics) logRead(sum traffic.Summary) {
	if m != nil && sum.RowsRead > 0 {
		m.ingestRows.Add(float64(sum.RowsRead))
	}
}

// countRequests observes every request for /metrics, by the route gin
// matched: the pattern (/runs/:id), never the path, so run ids do not
// each make a series.
func (s *Server) countRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = unmatchedRoute
	}
	s.metrics.observeRequest(route, c.Request.Method, c.Writer.Status(), time.Since(start))
}

// metricsReaderKey marks in gin's context a request that showed the
// metrics token.
const metricsReaderKey = "gatewise.metrics_reader"

// metricsToken lets a scraper holding --metrics-token through to /metrics
// before sign-in looks at the request: that token is not the API's, and
// the API's check would count it as a wrong one. Any other request goes
// on as it came.
func (s *Server) metricsToken(c *gin.Context) {
	if s.cfg.MetricsToken != "" && c.FullPath() == "/metrics" {
		if token, ok := bearerToken(c.GetHeader("Authorization")); ok &&
			subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.MetricsToken)) == 1 {
			c.Set(metricsReaderKey, true)
			s.serveMetrics(c)
			c.Abort()
			return
		}
	}
	c.Next()
}

// serveMetrics answers /metrics. Who may read it: with --metrics-token,
// whoever sends that token, or a signed-in user (or the API token) when
// sign-in is on; without it, whoever may read the other pages, that is
// anyone when sign-in is off and signed-in users and the API token when
// it is on. Sign-in has already let the request this far.
func (s *Server) serveMetrics(c *gin.Context) {
	if s.cfg.MetricsToken != "" && !c.GetBool(metricsReaderKey) && userOf(c) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="gatewise metrics"`)
		c.String(http.StatusUnauthorized, "Send Authorization: Bearer with the metrics token (--metrics-token).\n")
		return
	}
	s.metrics.Handler().ServeHTTP(c.Writer, c.Request)
}

// MetricsHandler serves m at /metrics, behind token when it is set, and
// /healthz, for a process that serves nothing else (gatewise worker) or
// for a scraper on an internal network (--metrics-addr). /healthz answers
// 200 while the database answers, 503 otherwise, as a server's does.
func MetricsHandler(m *Metrics, token string) http.Handler {
	h := m.Handler()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		status, body := http.StatusOK, `{"status":"ok"}`
		if m.store != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := m.store.Ping(ctx); err != nil {
				status, body = http.StatusServiceUnavailable, `{"status":"unavailable"}`
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		io.WriteString(w, body+"\n")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, ok := bearerToken(r.Header.Get("Authorization"))
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatewise metrics"`)
				http.Error(w, "Send Authorization: Bearer with the metrics token (--metrics-token).", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
	return mux
}

// dbCollector reads at each scrape what the database knows for the whole
// deployment: how many runs are in each state, and how many jobs wait for
// a worker. Both are counts over an index (runs_status_idx; River's
// job-fetching index), cheap at any scrape interval.
type dbCollector struct {
	store *store.Store
	log   *slog.Logger
}

var (
	runsDesc = prometheus.NewDesc("gatewise_runs",
		"Runs in each state (queued, running, done, failed, cancelled, interrupted), over the whole database.", []string{"state"}, nil)
	queueDepthDesc = prometheus.NewDesc("gatewise_queue_depth",
		"Work waiting for a worker: queued runs on SQLite; on PostgreSQL, River jobs of runs (plans, trial ranges, merges) not yet taken.", nil, nil)
)

// runStates are the states gatewise_runs always reports, at 0 when no run
// is in one, so a rate or an alert on a state has a series to work on.
var runStates = []string{store.RunQueued, store.RunRunning, store.RunDone, store.RunFailed, store.RunCancelled, store.RunInterrupted}

func (d *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- runsDesc
	ch <- queueDepthDesc
}

func (d *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	db, err := d.store.SQL()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(runsDesc, err)
		return
	}
	counts, err := runsByState(ctx, db)
	if err != nil {
		d.log.Warn("metrics: counting runs", "error", err)
		ch <- prometheus.NewInvalidMetric(runsDesc, err)
		return
	}
	for _, state := range runStates {
		ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(counts[state]), state)
	}
	depth := counts[store.RunQueued]
	if d.store.Kind() == store.KindPostgres {
		if depth, err = waitingJobs(ctx, db); err != nil {
			d.log.Warn("metrics: counting waiting jobs", "error", err)
			ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
			return
		}
	}
	ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(depth))
}

// runsByState counts every owner's runs by state.
func runsByState(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, "SELECT status, COUNT(*) FROM runs GROUP BY status")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		counts[state] = n
	}
	return counts, rows.Err()
}

// waitingJobs counts the River jobs of runs that wait for a worker:
// available now, or waiting to be tried again.
func waitingJobs(ctx context.Context, db *sql.DB) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM river_job WHERE state IN ('available', 'retryable', 'scheduled', 'pending') AND kind IN ($1, $2, $3)",
		runArgs{}.Kind(), trialsArgs{}.Kind(), mergeArgs{}.Kind()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// ServeMetrics serves h (MetricsHandler) on addr until ctx ends or stop is
// called; it fails at once when addr cannot be listened on.
func ServeMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics: serving", "addr", addr, "error", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		srv.Close()
	}()
	log.Info("serving metrics", "url", "http://"+displayAddr(ln.Addr())+"/metrics")
	return func() { srv.Close(); <-done }, nil
}
