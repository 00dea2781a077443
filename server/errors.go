package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
)

// Error is an error with the status and the message a user may see; the
// wrapped error is logged, never shown.
type Error struct {
	Status  int
	Message string
	Err     error
	// Fields names what is wrong where, by architecture-file path, for API
	// clients; pages show problems beside their fields instead.
	Fields map[string]string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func newError(status int, msg string, err error) *Error {
	return &Error{Status: status, Message: msg, Err: err}
}

// statusClientClosed is logged when the client went away before the answer.
const statusClientClosed = 499

// fail is the one place an error becomes a response: it picks the status and
// the safe message, logs what the user does not see, and answers in HTML or
// JSON depending on where the request went.
func (s *Server) fail(c *gin.Context, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on our side; it has been logged."
	var fields map[string]string
	var e *Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, store.ErrUnavailable):
		// Checked first: a handler may have wrapped it in a 4xx it meant
		// for a missing row.
		status, msg = http.StatusServiceUnavailable, "The database is busy or cannot be reached; try again in a moment."
		c.Header("Retry-After", "5")
	case noSpace(err):
		// Before *Error too: the form and upload readers wrap a failed
		// write in a 400 meant for a garbled form.
		status, msg = http.StatusInsufficientStorage, "The server is out of disk space, so it cannot take this now. Nothing was saved; tell whoever runs gatewise, and try again once they have made room."
	case errors.As(err, &e):
		status, msg, fields = e.Status, e.Message, e.Fields
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "There is nothing here: it may have been deleted."
	case errors.As(err, &tooBig):
		status, msg = http.StatusRequestEntityTooLarge, "The request is too large: the limit is "+formatBytes(tooBig.Limit)+"."
	case errors.Is(err, context.Canceled):
		status, msg = statusClientClosed, "The request was cancelled."
	case errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, "The server took too long to answer; please try again."
	}

	attrs := []any{
		slog.Group("request", slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path)),
		slog.Int("status", status),
		slog.Any("error", err),
	}
	if status == http.StatusInsufficientStorage {
		s.log.ErrorContext(c.Request.Context(), "request failed: out of disk space (free some, or point --upload-dir or --db at a larger disk)", attrs...)
	} else if status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", attrs...)
	} else {
		s.log.DebugContext(c.Request.Context(), "request refused", attrs...)
	}
	if status == statusClientClosed {
		c.Abort()
		return
	}

	c.Header("Cache-Control", "no-store")
	if wantsJSON(c.Request) {
		body := gin.H{"message": msg}
		if len(fields) > 0 {
			body["fields"] = fields
		}
		c.AbortWithStatusJSON(status, gin.H{"error": body})
		return
	}
	page := ErrorPage{Layout: Layout{Title: http.StatusText(status)}, Status: status, Message: msg}
	s.render(c, status, "error", page)
	c.Abort()
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz" ||
		strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// noSpace reports whether err means a disk (the upload folder's, or the
// database's) is full or over its quota: the server's problem, which
// retrying the same request will not mend until someone makes room.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, store.ErrNoSpace)
}
