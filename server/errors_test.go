package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gin-gonic/gin"

	"gatewise/pricing"
	"gatewise/server/store"
)

// newLoggedServer is a test server whose log, at the default level, the
// test reads.
func newLoggedServer(t *testing.T) (*Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatewise.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test", UploadDir: t.TempDir()}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

// A full disk answered 400 "The form could not be read; please submit it
// again." and logged nothing at the default level: the upload reader
// wraps a failed write in that 400. However it is wrapped, a full disk
// or an exhausted quota, in the upload folder or under the database, is
// 507 saying the server is out of space, logged as an error.
func TestFullDiskIs507(t *testing.T) {
	t.Parallel()
	full := &os.PathError{Op: "write", Path: "/var/tmp/gatewise-upload-1", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		name string
		err  error
		path string
		json bool
	}{
		{"upload form", formReadError(full), "/architectures/abc/uploads", false},
		{"api upload", formReadError(full), "/api/v1/uploads", true},
		{"quota", &os.PathError{Op: "write", Path: "/var/tmp/x", Err: syscall.EDQUOT}, "/architectures/abc/uploads", false},
		{"database", newError(http.StatusNotFound, "There is no such upload.", store.ErrNoSpace), "/uploads/abc/map", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := newLoggedServer(t)
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest("POST", tc.path, nil)
			s.fail(c, tc.err)
			wantStatus(t, rec, http.StatusInsufficientStorage)
			if tc.json {
				wantBody(t, rec, `{"error":{"message":"The server is out of disk space`)
			} else {
				wantBody(t, rec, "The server is out of disk space, so it cannot take this now.")
			}
			if strings.Contains(rec.Body.String(), "could not be read") {
				t.Errorf("a full disk still blames the form:\n%s", rec.Body.String())
			}
			if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "out of disk space") || !strings.Contains(l, "path="+tc.path) {
				t.Errorf("logged at the default level:\n%s", l)
			}
		})
	}
}
