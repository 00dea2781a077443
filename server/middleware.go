package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// logRequests writes one line per request: method, path without its query
// (queries may carry data a user would not want logged), status and latency.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	s.log.Log(c.Request.Context(), level, "request",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Int("bytes", c.Writer.Size()),
		slog.Duration("latency", time.Since(start)),
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
			s.log.Error("panic", slog.String("path", c.Request.URL.Path), slog.Any("value", v), slog.String("stack", string(debug.Stack())))
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

// uploadTimeout bounds how long one log upload may take to arrive.
const uploadTimeout = time.Hour

// limitBodies refuses a declared oversize body at once and caps the rest
// while they are read; handlers see *http.MaxBytesError, which fail maps to 413.
func (s *Server) limitBodies(c *gin.Context) {
	limit := s.cfg.MaxBodyBytes
	if strings.HasSuffix(c.Request.URL.Path, "/uploads") {
		limit = s.cfg.MaxUploadBytes // request logs are large; they stream to disk
		// The server's read and write timeouts suit pages; a 2 GB log over
		// a slow link takes longer, so an upload gets deadlines of its own.
		rc := http.NewResponseController(c.Writer)
		_ = rc.SetReadDeadline(time.Now().Add(uploadTimeout))
		_ = rc.SetWriteDeadline(time.Now().Add(uploadTimeout + time.Minute))
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
