package server

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/crypto/bcrypt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/static"
	"gatewise/templates"
)

// Server holds what the handlers need; handlers are its methods.
type Server struct {
	cfg     Config
	store   *store.Store
	catalog *pricing.Catalog
	log     *slog.Logger
	views   *views
	assets  *assets
	queue   Queue // where runs wait for a worker: in-process (SQLite) or River (PostgreSQL)
	// metrics are served at /metrics; tel carries them and the tracer to
	// the runs' pipeline.
	metrics *Metrics
	tel     telemetry

	// signins throttles wrong passwords and API tokens; runLimits and
	// uploadLimits are token buckets per client.
	signins                 *signInGuard
	runLimits, uploadLimits *clientLimits
	// reading holds a token per log being read into a profile.
	reading chan struct{}
	// createTemp makes the file an upload is received into (os.CreateTemp;
	// a test swaps it for a full disk).
	createTemp func(dir, pattern string) (*os.File, error)
	// compareHash is bcrypt's password check; every sign-in makes exactly
	// one, whatever the name, so timing tells no name apart.
	compareHash func(hash, password []byte) error
}

// New builds the server. It parses every template and hashes every static
// file now, so a broken one fails start-up.
func New(cfg Config, st *store.Store, cat *pricing.Catalog, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	logger = slog.New(NewLogHandler(logger.Handler())) // request ids, durations in seconds
	s := &Server{cfg: cfg.withDefaults(), store: st, catalog: cat, log: logger, compareHash: bcrypt.CompareHashAndPassword, createTemp: os.CreateTemp}
	s.metrics = NewMetrics(st, logger)
	s.tel = newTelemetry(s.metrics, s.cfg.TracerProvider)
	s.queue = newQueue(s.cfg, st, cat, logger, func(ctx context.Context) { SweepDatabase(ctx, st, logger) }, s.tel)
	s.signins = newSignInGuard()
	s.runLimits = newClientLimits(s.cfg.RunsPerMinute)
	s.uploadLimits = newClientLimits(s.cfg.UploadsPerMinute)
	s.reading = make(chan struct{}, s.cfg.LogReads)
	var err error
	if s.assets, err = loadAssets(static.FS); err != nil {
		return nil, fmt.Errorf("server: static files: %w", err)
	}
	if s.views, err = parseViews(templates.FS, s.templateFuncs()); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return s, nil
}

// Handler is the route table.
func (s *Server) Handler() http.Handler { return s.engine() }

// routes lists the registered routes, for the test that keeps the API
// description complete.
func (s *Server) routes() gin.RoutesInfo { return s.engine().Routes() }

func (s *Server) engine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = true
	// Rate limits and sign-in throttles count per client address: behind a
	// trusted proxy, the one X-Forwarded-For names (proxies.go).
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	_ = r.SetTrustedProxies(s.trustedProxies()) // parsed already: cannot fail
	// Every request gets its id first, then its span and its count, so a
	// panic's 500 is counted, traced and logged with the id too.
	r.Use(s.requestID)
	if s.cfg.TracerProvider != nil {
		r.Use(s.traceRequests)
	}
	r.Use(s.countRequests, s.logRequests, s.recoverPanics, securityHeaders, s.refuseCrossOrigin(), s.limitBodies, s.metricsToken, s.authenticate)
	runs, uploads := s.limit(s.runLimits, "runs"), s.limit(s.uploadLimits, "uploads")
	r.NoRoute(func(c *gin.Context) { s.fail(c, newError(http.StatusNotFound, "There is no such page.", nil)) })
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, newError(http.StatusMethodNotAllowed, "That action is not available here.", nil))
	})

	r.GET("/", s.showHome)
	r.GET("/signin", s.showSignIn)
	r.POST("/signin", s.signIn)
	r.POST("/signout", s.signOut)
	r.GET("/healthz", s.health)
	r.GET("/metrics", s.serveMetrics)
	r.GET("/static/:hash/*file", s.serveStatic)
	r.GET("/favicon.ico", s.serveFavicon)
	r.GET("/catalog", s.showCatalog)
	r.GET("/catalog/prices", s.showPriceFileForm)
	r.POST("/catalog/prices", s.checkPriceFile)

	r.GET("/architectures", s.listArchitectures)
	r.POST("/architectures", s.createArchitecture)
	r.GET("/architectures/new", s.showNewArchitecture)
	r.POST("/architectures/import", s.importArchitecture)
	r.GET("/architectures/:id", s.showArchitecture)
	r.POST("/architectures/:id", s.updateArchitecture)
	r.GET("/architectures/:id/edit", s.showEditArchitecture)
	r.GET("/architectures/:id/delete", s.showDeleteArchitecture)
	r.POST("/architectures/:id/delete", s.deleteArchitecture)
	r.GET("/architectures/:id/download", s.downloadArchitecture)
	r.POST("/architectures/:id/runs", runs, s.createRun)
	r.POST("/architectures/:id/uploads", uploads, s.uploadDeadline, s.createUpload)
	r.GET("/uploads/:id", s.showUpload)
	r.GET("/uploads/:id/map", s.showUploadMap)
	r.POST("/uploads/:id/map", uploads, s.mapUpload)
	r.POST("/uploads/:id/discard", s.discardUpload)
	r.POST("/uploads/:id/raw/delete", s.deleteRawFile)
	r.POST("/uploads/:id/reread", uploads, s.rereadUpload)
	r.POST("/uploads/:id/logs", uploads, s.uploadDeadline, s.addUploadLog)
	r.POST("/uploads/:id/logs/:n/overlap", s.setUploadLogOverlap)

	r.POST("/architectures/:id/shares", s.createShare(store.ShareArchitecture))
	r.POST("/runs/:id/shares", s.createShare(store.ShareRun))
	r.POST("/shares/:token/revoke", s.revokeShare)
	r.GET("/s/:token", s.showShared)
	r.GET("/s/:token/download", s.shared(store.ShareArchitecture, s.downloadArchitecture))
	r.GET("/s/:token/memo.md", s.shared(store.ShareRun, s.downloadMemo))
	r.GET("/s/:token/memo.html", s.shared(store.ShareRun, s.downloadMemo))
	r.GET("/s/:token/memo.pdf", s.shared(store.ShareRun, s.downloadMemo))
	r.GET("/s/:token/rollout.zip", s.shared(store.ShareRun, s.downloadRollout))
	r.GET("/s/:token/result.json", s.shared(store.ShareRun, s.downloadResult))
	r.GET("/s/:token/result.csv", s.shared(store.ShareRun, s.downloadResultCSV))

	r.GET("/runs", s.listRuns)
	r.GET("/runs/compare", s.compareRuns)
	r.GET("/runs/:id", s.showRun)
	r.GET("/runs/:id/events", s.runEvents)
	r.POST("/runs/:id/cancel", s.cancelRun)
	r.POST("/runs/:id/restart", runs, s.restartRun)
	r.GET("/runs/:id/memo.md", s.downloadMemo)
	r.GET("/runs/:id/memo.html", s.downloadMemo)
	r.GET("/runs/:id/memo.pdf", s.downloadMemo)
	r.GET("/runs/:id/rollout.zip", s.downloadRollout)
	r.GET("/runs/:id/result.json", s.downloadResult)
	r.GET("/runs/:id/result.csv", s.downloadResultCSV)

	r.GET("/api/openapi.yaml", s.serveOpenAPI)
	r.POST("/api/v1/architectures", s.apiCreateArchitecture)
	r.GET("/api/v1/architectures/:id", s.apiShowArchitecture)
	r.POST("/api/v1/uploads", uploads, s.uploadDeadline, s.apiCreateUpload)
	r.GET("/api/v1/uploads/:id", s.apiShowUpload)
	r.POST("/api/v1/uploads/:id/logs", uploads, s.uploadDeadline, s.apiAddUploadLog)
	r.PATCH("/api/v1/uploads/:id/logs/:n", s.apiSetUploadLog)
	r.POST("/api/v1/runs", runs, s.apiCreateRun)
	r.GET("/api/v1/runs/:id", s.apiShowRun)
	r.DELETE("/api/v1/runs/:id", s.apiCancelRun)
	r.GET("/api/v1/runs/:id/memo.md", s.downloadMemo)
	r.GET("/api/v1/runs/:id/memo.html", s.downloadMemo)
	r.GET("/api/v1/runs/:id/memo.pdf", s.downloadMemo)
	r.GET("/api/v1/runs/:id/rollout.zip", s.downloadRollout)

	return r
}

// ListenAndServe serves until ctx is cancelled, then lets in-flight requests
// finish within the shutdown timeout. ready is called with the URL once the
// listener is open.
func (s *Server) ListenAndServe(ctx context.Context, ready func(url string)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.MetricsAddr != "" {
		stop, err := ServeMetrics(ctx, s.cfg.MetricsAddr, MetricsHandler(s.metrics, s.cfg.MetricsToken), s.log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	s.sweepUploads(ctx)
	go s.housekeep(ctx)
	if err := s.queue.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	defer s.queue.Wait() // runs still going are marked interrupted (SQLite) or go back to the queue (PostgreSQL) as ctx ends
	return s.serve(ctx, ln, s.Handler(), ready)
}

// housekeepEvery is how often the server tidies up after itself.
const housekeepEvery = 10 * time.Minute

// housekeep removes, until ctx ends, what time leaves behind: uploads that
// waited too long for a mapping, logs half received when a client or the
// server went away, and expired sessions.
func (s *Server) housekeep(ctx context.Context) {
	t := time.NewTicker(housekeepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.store.Kind() == store.KindPostgres {
			// The database's rows are swept by a periodic job of the queue,
			// once for the whole deployment; this server's folder is its own.
			s.importRawFiles(ctx)
			s.removeStaleReceived(ctx)
			continue
		}
		s.sweepUploads(ctx)
		if _, err := s.store.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("removing expired sessions", "error", err)
		}
	}
}

// serve runs h on ln until ctx is cancelled, then shuts down gracefully.
func (s *Server) serve(ctx context.Context, ln net.Listener, h http.Handler, ready func(url string)) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.ReadTimeout, // signed-in uploads get longer (uploadDeadline)
		WriteTimeout:      s.cfg.ReadTimeout, // counted from the request's start, so its body's time too
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if ready != nil {
		ready("http://" + displayAddr(ln.Addr()))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: letting requests finish", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// displayAddr prints a wildcard listener as localhost, the address a user
// can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP.IsUnspecified() || tcp.IP.IsLoopback() {
		return net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
	}
	return tcp.String()
}
