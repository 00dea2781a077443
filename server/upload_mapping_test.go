package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewise/server/store"
)

// oddCSV is a log in no known format: 40 requests a minute apart from
// 2026-11-03 10:00 UTC, with prompt text, and no model column.
func oddCSV() string {
	var b strings.Builder
	b.WriteString("sent_at,prompt_tokens_used,completion_tokens_used,prompt_text\n")
	for i := range 40 {
		fmt.Fprintf(&b, "2026-11-03T10:%02d:00Z,%d,%d,\"%s question %d\"\n", i, 800+i, 90, marker, i)
	}
	return b.String()
}

// mapForm is the mapping form as a user fills it for oddCSV.
func mapForm(action string) url.Values {
	v := url.Values{"action": {action}, "format": {"auto"}}
	v.Set("col_timestamp", "sent_at")
	v.Set("unit_timestamp", "auto")
	v.Set("const_model", "gpt-4.1-mini")
	v.Set("col_input_tokens", "prompt_tokens_used")
	v.Set("col_output_tokens", "completion_tokens_used")
	return v
}

func TestUploadMapUnknownCSV(t *testing.T) {
	t.Parallel()
	s, h, db, uploads := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))

	// An unknown log opens the mapping page instead of an error, with the
	// file's columns, the first row's values and a first guess.
	rec := upload(t, h, "/architectures/"+id+"/uploads", nil, oddCSV())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "Map the columns of spend.csv", "match no known format",
		`<option value="sent_at" selected>sent_at (2026-11-03T10:00:00Z)</option>`,
		`<option value="prompt_tokens_used" selected>prompt_tokens_used (800)</option>`,
		`<option value="completion_tokens_used" selected>completion_tokens_used (90)</option>`,
		`<label for="col_failed_requests">failed_requests</label><br><span class="hint">how many of the requests a row counts failed (LiteLLM daily spend); on a row of one request, 1 marks it failed</span>`)
	ups, _ := s.store.ListUploads(context.Background(), id)
	if len(ups) != 1 || ups[0].Status != store.UploadMapping {
		t.Fatalf("uploads = %+v, want one waiting for its mapping", ups)
	}
	upID := ups[0].ID
	// The log waits in the database, where every server sees it; the
	// upload folder only held it while it was received.
	if left, _ := os.ReadDir(uploads); len(left) != 0 {
		t.Errorf("the upload folder keeps %d files while the log waits for its mapping", len(left))
	}
	if ups[0].RawBytes != int64(len(oddCSV())) {
		t.Errorf("the waiting upload keeps %d raw bytes, want %d", ups[0].RawBytes, len(oddCSV()))
	}
	wantBody(t, do(t, h, "GET", "/architectures/"+id, nil, nil), "/uploads/"+upID+"/map", "waits for its column mapping")
	wantStatus(t, do(t, h, "GET", "/uploads/"+upID, nil, nil), http.StatusSeeOther)

	// A waiting log cannot be run.
	rec = postForm(t, h, "/architectures/"+id+"/runs", url.Values{"upload_id": {upID}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "waits for its column mapping")

	// Without a time column the page says so and keeps the user's choices.
	bad := mapForm("preview")
	bad.Del("col_timestamp")
	rec = postForm(t, h, "/uploads/"+upID+"/map", bad)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "timestamp", `value="gpt-4.1-mini"`, `<option value="prompt_tokens_used" selected>`)
	// A fixed value with a comma cannot be written in a mapping.
	comma := mapForm("preview")
	comma.Set("const_model", "a,b")
	rec = postForm(t, h, "/uploads/"+upID+"/map", comma)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "cannot hold a comma")

	// Preview: the summary updates, nothing is stored yet.
	rec = postForm(t, h, "/uploads/"+upID+"/map", mapForm("preview"))
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "What this mapping reads", "40 read, 40 used", "gpt-4.1-mini", "Use this traffic",
		// The mapping as a table, field by field, not a mapping string.
		`<th scope="row">timestamp<br><span class="hint">when each request started (required)</span></th><td><code class="wrap">sent_at</code></td>`,
		`<th scope="row">model<br><span class="hint">the model; a fixed value if the log has none</span></th><td>fixed value <code>gpt-4.1-mini</code></td>`)
	if strings.Contains(rec.Body.String(), "timestamp=sent_at,") {
		t.Error("the page shows the mapping as a mapping string")
	}
	if up, _ := s.store.Upload(context.Background(), upID); up.Status != store.UploadMapping {
		t.Errorf("a preview completed the upload")
	}

	// Save: the upload is ready, its raw log is gone, and the page is the
	// ordinary summary.
	rec = postForm(t, h, "/uploads/"+upID+"/map", mapForm("save"))
	wantStatus(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != "/uploads/"+upID {
		t.Fatalf("saved to %q", loc)
	}
	wantBody(t, do(t, h, "GET", "/uploads/"+upID, nil, nil), "40 read, 40 used", "Run with this traffic")
	wantStatus(t, postForm(t, h, "/uploads/"+upID+"/map", mapForm("save")), http.StatusConflict)
	if _, err := s.store.OpenRaw(context.Background(), upID); !errors.Is(err, store.ErrRawGone) {
		t.Errorf("the raw log after the mapping was saved: %v, want ErrRawGone", err)
	}
	if left, _ := os.ReadDir(uploads); len(left) != 0 {
		t.Errorf("the upload folder keeps %d files after the mapping was saved", len(left))
	}
	s.store.Close()
	for _, f := range []string{db, db + "-wal"} {
		if data, err := os.ReadFile(f); err == nil && bytes.Contains(data, []byte(marker)) {
			t.Errorf("%s holds prompt text", filepath.Base(f))
		}
	}
}

func TestUploadKeepAndReread(t *testing.T) {
	t.Parallel()
	s, h, _, uploads := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	rec := upload(t, h, "/architectures/"+id+"/uploads", map[string]string{"map": logMap, "keep": "1"}, logCSV())
	wantStatus(t, rec, http.StatusSeeOther)
	upID := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	if data, err := readRaw(s, upID); err != nil || string(data) != logCSV() {
		t.Fatalf("kept raw log: %v (%d bytes)", err, len(data))
	}
	if left, _ := os.ReadDir(uploads); len(left) != 0 {
		t.Errorf("the upload folder keeps %d files: a kept log is in the database", len(left))
	}
	wantBody(t, do(t, h, "GET", "/uploads/"+upID, nil, nil), "The raw log is kept on the server", "Read it again with another mapping")

	// Reading it again starts a new upload from the same bytes.
	rec = postForm(t, h, "/uploads/"+upID+"/reread", url.Values{})
	wantStatus(t, rec, http.StatusSeeOther)
	next := strings.TrimSuffix(strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/"), "/map")
	wantBody(t, do(t, h, "GET", "/uploads/"+next+"/map", nil, nil), "Map the columns of spend.csv", `<option value="ts"`)
	// Discarding it removes it and its copy, not the first.
	wantStatus(t, postForm(t, h, "/uploads/"+next+"/discard", url.Values{}), http.StatusSeeOther)
	wantStatus(t, do(t, h, "GET", "/uploads/"+next+"/map", nil, nil), http.StatusNotFound)
	if _, err := s.store.OpenRaw(context.Background(), next); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a discarded log stays: %v", err)
	}
	if data, err := readRaw(s, upID); err != nil || string(data) != logCSV() {
		t.Errorf("discarding the copy changed the first: %v (%d bytes)", err, len(data))
	}

	// Deleting the raw log keeps the profile.
	wantStatus(t, postForm(t, h, "/uploads/"+upID+"/raw/delete", url.Values{}), http.StatusSeeOther)
	if _, err := s.store.OpenRaw(context.Background(), upID); !errors.Is(err, store.ErrRawGone) {
		t.Errorf("the raw log is still there: %v", err)
	}
	page := do(t, h, "GET", "/uploads/"+upID, nil, nil)
	wantBody(t, page, "60 read, 60 used")
	if strings.Contains(page.Body.String(), "raw log is kept") {
		t.Error("the page still says the raw log is kept")
	}
	wantStatus(t, postForm(t, h, "/uploads/"+upID+"/reread", url.Values{}), http.StatusConflict)
	if up, _ := s.store.Upload(context.Background(), upID); up.RawBytes != 0 {
		t.Errorf("raw bytes = %d after deleting the raw log", up.RawBytes)
	}
}

// readRaw reads the raw log an upload keeps.
func readRaw(s *Server, id string) ([]byte, error) {
	r, err := s.store.OpenRaw(context.Background(), id)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// The sweep removes the logs this deployment was receiving when a server
// stopped (untouched for an hour), and nothing else in the folder: not a
// log still arriving, not another deployment's, not files of a gatewise
// that named them otherwise.
func TestSweepUploads(t *testing.T) {
	t.Parallel()
	s, h, _, uploads := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	rec := upload(t, h, "/architectures/"+id+"/uploads", map[string]string{"map": logMap, "keep": "1"}, logCSV())
	upID := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	prefix, err := s.receivingPrefix(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(uploads, prefix+"123")
	fresh := filepath.Join(uploads, prefix+"456")
	others := []string{
		filepath.Join(uploads, tempUploadPrefix+"abcdefghijkl-789"), // another deployment's
		filepath.Join(uploads, tempUploadPrefix+"123"),              // a gatewise before deployment ids
		filepath.Join(uploads, legacyRawPrefix+"gone"),              // a raw file of an upload this database never had
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, f := range append([]string{partial, fresh}, others...) {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if f != fresh {
			os.Chtimes(f, old, old)
		}
	}
	s.sweepUploads(context.Background())
	for _, f := range append([]string{fresh}, others...) {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: %v, want it left alone", filepath.Base(f), err)
		}
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("%s: %v, want it swept", filepath.Base(partial), err)
	}
	if data, err := readRaw(s, upID); err != nil || string(data) != logCSV() {
		t.Errorf("the kept log after the sweep: %v (%d bytes)", err, len(data))
	}
	// Deleting the architecture takes its kept logs too.
	wantStatus(t, postForm(t, h, "/architectures/"+id+"/delete", url.Values{}), http.StatusSeeOther)
	if _, err := s.store.OpenRaw(context.Background(), upID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted architecture's kept log stays: %v", err)
	}
}

// TestMappingHelpForEveryField: every field the form lists says what it
// means.
func TestMappingHelpForEveryField(t *testing.T) {
	t.Parallel()
	for _, r := range mappingRows(nil) {
		if r.Help == "" {
			t.Errorf("field %s has no help on the mapping form", r.Field)
		}
	}
}
