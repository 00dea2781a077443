package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
)

// logRequests writes one line per request: method, route and path without
// its query (queries may carry data a user would not want logged), status,
// bytes and how long it took in seconds. A server error is an ERROR; a
// client's mistake (4xx) is the client's, an INFO like any answer; a
// successful health check or metrics scrape, which come every few seconds,
// is a DEBUG. The request id comes with the context (see NewLogHandler).
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	switch route := c.FullPath(); {
	case status >= 500:
		level = slog.LevelError
	case status < 400 && (route == "/healthz" || route == "/metrics"):
		level = slog.LevelDebug
	}
	s.log.Log(c.Request.Context(), level, "request",
		slog.String("method", c.Request.Method),
		slog.String("route", c.FullPath()),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Int("bytes", c.Writer.Size()),
		slog.Float64("took", seconds(time.Since(start))),
	)
}

// recoverPanics turns a panic into a logged 500 instead of a dropped
// connection; it is a last resort, since inputs are validated before use.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "panic", slog.String("path", c.Request.URL.Path), slog.Any("value", v), slog.String("stack", string(debug.Stack())))
			if !c.Writer.Written() {
				s.fail(c, fmt.Errorf("panic: %v", v))
			}
			c.Abort()
		}
	}()
	c.Next()
}

// contentSecurityPolicy allows only our own scripts, styles and forms.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if c.Request.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// uploadRoutes are the routes that receive request logs: their bodies may
// be as large as the upload limit and take as long as the upload deadline.
var uploadRoutes = map[string]bool{
	"/architectures/:id/uploads": true,
	"/api/v1/uploads":            true,
	"/uploads/:id/logs":          true, // another log added to an upload
	"/api/v1/uploads/:id/logs":   true,
}

// isUpload reports whether a request went to a real upload route (gin has
// routed it before any middleware runs), not merely to a path that ends
// like one.
func isUpload(c *gin.Context) bool {
	return c.Request.Method == http.MethodPost && uploadRoutes[c.FullPath()]
}

// limitBodies refuses a declared oversize body at once and caps the rest
// while they are read; handlers see *http.MaxBytesError, which fail maps to 413.
func (s *Server) limitBodies(c *gin.Context) {
	limit := s.cfg.MaxBodyBytes
	if isUpload(c) {
		limit = s.cfg.MaxUploadBytes // request logs are large; they stream to disk
	}
	if c.Request.URL.Path == "/catalog/prices" {
		limit = max(limit, maxPriceFileBody) // LiteLLM's file alone is 1.5 MB
	}
	if c.Request.ContentLength > limit {
		s.fail(c, &http.MaxBytesError{Limit: limit})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	c.Next()
}

// uploadDeadline gives an upload the time a large log over a slow link
// needs, past the server's read timeout. It sits on the upload routes
// behind sign-in and the upload rate limit: granted any earlier, a
// stranger trickling a body to any path ending in /uploads held a
// connection for the hour.
func (s *Server) uploadDeadline(c *gin.Context) {
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.UploadTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.UploadTimeout + time.Minute))
	c.Next()
}

// refuseCrossOrigin rejects state-changing requests that a browser marks as
// coming from another site (Sec-Fetch-Site or Origin), which is what stops a
// page elsewhere from posting forms to a user's gatewise.
func (s *Server) refuseCrossOrigin() gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		if err := cop.Check(c.Request); err != nil {
			s.fail(c, newError(http.StatusForbidden, "Cross-site requests are refused: submit the form from gatewise itself.", err))
			return
		}
		c.Next()
	}
}
