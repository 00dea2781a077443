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

// The attack itself, end to end: a log uploaded while the upload folder's
// disk is full. The file the upload is received into is /dev/full (behind
// a link in the upload folder), where every write fails with ENOSPC from
// the kernel.
func TestUploadToAFullDiskIs507(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("needs /dev/full (Linux)")
	}
	s, logs := newLoggedServer(t)
	s.createTemp = func(dir, pattern string) (*os.File, error) {
		link := filepath.Join(dir, strings.ReplaceAll(pattern, "*", "full"))
		if err := os.Symlink("/dev/full", link); err != nil {
			return nil, err
		}
		return os.OpenFile(link, os.O_RDWR, 0)
	}
	h := s.Handler()
	id := create(t, h, loadExample(t, "single-provider"))
	for _, target := range []string{"/architectures/" + id + "/uploads", "/api/v1/uploads"} {
		rec := upload(t, h, target, map[string]string{"architecture_id": id, "map": logMap}, logCSV())
		wantStatus(t, rec, http.StatusInsufficientStorage)
		wantBody(t, rec, "The server is out of disk space")
	}
	if l := logs.String(); strings.Count(l, "level=ERROR msg=\"request failed: out of disk space") != 2 || !strings.Contains(l, "no space left on device") {
		t.Errorf("the log at the default level:\n%s", l)
	}
	if ups, err := s.store.ListUploads(context.Background(), id); err != nil || len(ups) != 0 {
		t.Errorf("the failed uploads left %d rows (%v)", len(ups), err)
	}
	if left, _ := os.ReadDir(s.uploadDir()); len(left) != 0 {
		t.Errorf("the upload folder keeps %d entries", len(left))
	}
}
