package server

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/server/store/storetest"
)

// serverOn builds a server on the database dsn with its own upload folder,
// or the one given.
func serverOn(t *testing.T, dsn, uploads string) *Server {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), dsn, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if uploads == "" {
		uploads = t.TempDir()
	}
	s, err := New(Config{Version: "test", MaxUploadBytes: 64 << 10, UploadDir: uploads}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitingUpload uploads oddCSV to a new architecture on h and returns the
// architecture and the upload waiting for its mapping.
func waitingUpload(t *testing.T, h http.Handler) (arch, up string) {
	t.Helper()
	arch = create(t, h, loadExample(t, "single-provider"))
	rec := upload(t, h, "/architectures/"+arch+"/uploads", nil, oddCSV())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	m := regexp.MustCompile(`action="/uploads/([a-z2-7]{12})/map"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no mapping page:\n%.1500s", rec.Body)
	}
	return arch, m[1]
}

// Several gatewise serve on one PostgreSQL, each with its own disk: a log
// uploaded to A waits in the database, so B shows its mapping page, reads
// it, saves it and runs it; a log kept on A is read again on B.
func TestMappingStartedOnOneServerFinishesOnAnother(t *testing.T) {
	base := os.Getenv("GATEWISE_TEST_POSTGRES")
	if base == "" {
		t.Skip("set GATEWISE_TEST_POSTGRES=postgres://... to run two servers on one PostgreSQL")
	}
	dsn := storetest.Schema(t, base)
	a, b := serverOn(t, dsn, ""), serverOn(t, dsn, "")
	ha, hb := a.Handler(), b.Handler()
	startRunner(t, b)

	arch, up := waitingUpload(t, ha)
	wantBody(t, do(t, hb, "GET", "/uploads/"+up+"/map", nil, nil), "Map the columns of spend.csv",
		`<option value="sent_at" selected>sent_at (2026-11-03T10:00:00Z)</option>`)
	wantBody(t, postForm(t, hb, "/uploads/"+up+"/map", mapForm("preview")), "40 read, 40 used")
	rec := postForm(t, hb, "/uploads/"+up+"/map", mapForm("save"))
	wantStatus(t, rec, http.StatusSeeOther)
	// A sees it saved: its summary, and no second save.
	wantBody(t, do(t, ha, "GET", "/uploads/"+up, nil, nil), "40 read, 40 used", "Run with this traffic")
	wantStatus(t, postForm(t, ha, "/uploads/"+up+"/map", mapForm("save")), http.StatusConflict)

	rec = postForm(t, hb, "/architectures/"+arch+"/runs", url.Values{"trials": {"20"}, "upload_id": {up}})
	wantStatus(t, rec, http.StatusSeeOther)
	run := waitFor(t, b, strings.TrimPrefix(rec.Header().Get("Location"), "/runs/"), store.RunDone, store.RunFailed)
	if run.Status != store.RunDone {
		t.Fatalf("the run of the log mapped on B: %s %s", run.Status, run.Error)
	}
	if run.Traffic != "log spend.csv" {
		t.Errorf("the run replayed %q, want the log mapped on B (log spend.csv)", run.Traffic)
	}

	// Kept on A, read again on B.
	rec = upload(t, ha, "/architectures/"+arch+"/uploads", map[string]string{"map": logMap, "keep": "1"}, logCSV())
	wantStatus(t, rec, http.StatusSeeOther)
	kept := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	rec = postForm(t, hb, "/uploads/"+kept+"/reread", url.Values{})
	wantStatus(t, rec, http.StatusSeeOther)
	wantBody(t, do(t, hb, "GET", rec.Header().Get("Location"), nil, nil), "Map the columns of spend.csv", `<option value="ts"`)

	for name, s := range map[string]*Server{"A": a, "B": b} {
		if left, _ := os.ReadDir(s.uploadDir()); len(left) != 0 {
			t.Errorf("%s's upload folder keeps %d files", name, len(left))
		}
	}
}

// Two gatewise with two SQLite databases share one upload folder (the
// system's temporary folder, by default). Each one's sweep removes its own
// stale logs and never the other's: neither what it was receiving nor a
// log waiting for its mapping.
func TestSweepSparesAnotherDeployment(t *testing.T) {
	t.Parallel()
	dir, shared := t.TempDir(), t.TempDir()
	a := serverOn(t, filepath.Join(dir, "a.db"), shared)
	b := serverOn(t, filepath.Join(dir, "b.db"), shared)
	ha, hb := a.Handler(), b.Handler()
	_, upA := waitingUpload(t, ha)
	_, upB := waitingUpload(t, hb)

	ctx := context.Background()
	prefixA, err := a.receivingPrefix(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prefixB, err := b.receivingPrefix(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if prefixA == prefixB {
		t.Fatalf("two databases, one prefix %q", prefixA)
	}
	old := time.Now().Add(-2 * time.Hour)
	file := func(name string, stale bool) string {
		p := filepath.Join(shared, name)
		if err := os.WriteFile(p, []byte("ts,model\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if stale {
			os.Chtimes(p, old, old)
		}
		return p
	}
	staleA, stillA := file(prefixA+"1", true), file(prefixA+"2", false)
	staleB, stillB := file(prefixB+"1", true), file(prefixB+"2", false)

	b.sweepUploads(ctx)
	for _, f := range []string{staleA, stillA, stillB} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("B's sweep removed %s: %v", filepath.Base(f), err)
		}
	}
	if _, err := os.Stat(staleB); !os.IsNotExist(err) {
		t.Errorf("B's sweep left its own stale %s: %v", filepath.Base(staleB), err)
	}
	a.sweepUploads(ctx)
	if _, err := os.Stat(staleA); !os.IsNotExist(err) {
		t.Errorf("A's sweep left its own stale %s: %v", filepath.Base(staleA), err)
	}
	if _, err := os.Stat(stillB); err != nil {
		t.Errorf("A's sweep removed %s: %v", filepath.Base(stillB), err)
	}
	// Both waiting logs are whole after both sweeps.
	wantBody(t, postForm(t, ha, "/uploads/"+upA+"/map", mapForm("preview")), "40 read, 40 used")
	wantBody(t, postForm(t, hb, "/uploads/"+upB+"/map", mapForm("preview")), "40 read, 40 used")
}

// A log an earlier gatewise kept on disk for an upload waiting for its
// mapping is moved into the database by the sweep (which runs at start-up)
// and removed from the folder; the mapping then works as for any other. A
// raw file whose size is not the upload's stays where it is.
func TestSweepImportsRawFilesKeptOnDisk(t *testing.T) {
	t.Parallel()
	s, h, db, uploads := newUploadServer(t)
	_, up := waitingUpload(t, h)
	_, odd := waitingUpload(t, h)
	// What an upgraded database looks like: the rows say the raw logs are
	// kept, the chunks are not there, the files are.
	conn, err := sql.Open("sqlite", db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec(`DELETE FROM upload_chunks`); err != nil {
		t.Fatal(err)
	}
	legacy := filepath.Join(uploads, legacyRawPrefix+up)
	if err := os.WriteFile(legacy, []byte(oddCSV()), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(uploads, legacyRawPrefix+odd)
	if err := os.WriteFile(wrong, []byte(oddCSV()[:100]), 0o600); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, do(t, h, "GET", "/uploads/"+up+"/map", nil, nil), http.StatusGone)

	s.sweepUploads(context.Background())
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Errorf("the imported file is still in the folder: %v", err)
	}
	if _, err := os.Stat(wrong); err != nil {
		t.Errorf("a raw file of the wrong size was removed: %v", err)
	}
	if data, err := readRaw(s, up); err != nil || string(data) != oddCSV() {
		t.Fatalf("the imported log: %v (%d bytes)", err, len(data))
	}
	wantBody(t, postForm(t, h, "/uploads/"+up+"/map", mapForm("preview")), "40 read, 40 used")
	wantStatus(t, postForm(t, h, "/uploads/"+up+"/map", mapForm("save")), http.StatusSeeOther)
	wantStatus(t, do(t, h, "GET", "/uploads/"+odd+"/map", nil, nil), http.StatusGone)
}
