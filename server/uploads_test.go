package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatewise/pricing"
	"gatewise/server/store"
)

// marker stands for prompt text: it must never reach the database.
const marker = "ZEBRA-MARKER-7731"

// logCSV is a small export with prompt text in it: 60 requests, one a
// minute from 2026-11-02 09:00 UTC, alternating two models.
func logCSV() string {
	var b strings.Builder
	b.WriteString("ts,engine,prompt_tokens,completion_tokens,prompt\n")
	for i := range 60 {
		model := "gpt-4.1-mini"
		if i%2 == 1 {
			model = "gpt-4.1-nano"
		}
		fmt.Fprintf(&b, "2026-11-02T09:%02d:00Z,%s,%d,%d,\"%s asks question %d\"\n", i, model, 1000+i, 100, marker, i)
	}
	return b.String()
}

const logMap = "timestamp=ts,model=engine,input_tokens=prompt_tokens,output_tokens=completion_tokens"

// newUploadServer is a test server whose database path and upload folder
// the test can inspect, with a small upload limit.
func newUploadServer(t *testing.T) (*Server, http.Handler, string, string) {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "gatewise.db")
	uploads := filepath.Join(dir, "uploads")
	if err := os.Mkdir(uploads, 0o755); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), db, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test", MaxUploadBytes: 64 << 10, UploadDir: uploads}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Handler(), db, uploads
}

func multipartBody(t *testing.T, fields map[string]string, file string) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, err := mw.CreateFormFile("file", "../../exports/spend.csv")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(file))
	}
	mw.Close()
	return &body, mw.FormDataContentType()
}

func upload(t *testing.T, h http.Handler, target string, fields map[string]string, file string) *httptest.ResponseRecorder {
	t.Helper()
	body, ctype := multipartBody(t, fields, file)
	return do(t, h, "POST", target, body, http.Header{"Content-Type": {ctype}})
}

func TestUploadReadRunAndForget(t *testing.T) {
	t.Parallel()
	s, h, db, uploads := newUploadServer(t)
	startRunner(t, s)
	id := create(t, h, loadExample(t, "single-provider"))
	wantBody(t, do(t, h, "GET", "/architectures/"+id, nil, nil), `action="/architectures/`+id+`/uploads"`, "Upload and read")

	rec := upload(t, h, "/architectures/"+id+"/uploads", map[string]string{"format": "csv", "map": logMap}, logCSV())
	wantStatus(t, rec, http.StatusSeeOther)
	page := do(t, h, "GET", rec.Header().Get("Location"), nil, nil)
	wantStatus(t, page, http.StatusOK)
	// The summary before anything runs: 60 rows used, both models, the
	// file's base name only.
	wantBody(t, page, "Traffic from spend.csv", "60 read, 60 used", "gpt-4.1-mini", "gpt-4.1-nano", "Run with this traffic")
	upID := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")

	rec = postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"30"}, "upload_id": {upID}})
	wantStatus(t, rec, http.StatusSeeOther)
	run := waitFor(t, s, strings.TrimPrefix(rec.Header().Get("Location"), "/runs/"), store.RunDone, store.RunFailed)
	if run.Status != store.RunDone {
		t.Fatalf("run with the upload: %+v", run)
	}
	var res struct {
		Results []struct {
			CostUSD struct {
				Tokens float64 `json:"tokens"`
			} `json:"cost_usd"`
		} `json:"results"`
	}
	if err := json.Unmarshal(run.Result, &res); err != nil || len(res.Results) == 0 || res.Results[0].CostUSD.Tokens <= 0 {
		t.Errorf("result: %v %+v", err, res)
	}

	// Nothing of the prompts is kept: not in the database, not in the
	// upload folder (the file is deleted once read).
	s.store.Close()
	for _, f := range []string{db, db + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if bytes.Contains(data, []byte(marker)) {
			t.Errorf("%s holds prompt text", filepath.Base(f))
		}
	}
	left, _ := os.ReadDir(uploads)
	if len(left) != 0 {
		t.Errorf("the upload folder keeps %d files", len(left))
	}
}

func TestUploadBadInput(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	cases := []struct {
		name   string
		fields map[string]string
		file   string
		status int
		want   string
	}{
		{"no file", map[string]string{"format": "auto"}, "", 422, "Choose a request log"},
		{"bad mapping", map[string]string{"map": "timestamp"}, logCSV(), 422, "column mapping"},
		{"unknown columns", nil, "a,b\n1,2\n", 422, "match no known format"},
		{"binary", nil, "\x00\x01\x02binary", 422, "binary"},
		{"bad start", map[string]string{"start": "yesterday"}, logCSV(), 422, "start"},
		{"too large", nil, strings.Repeat("x", 70<<10), 413, "too large"},
	}
	for _, c := range cases {
		rec := upload(t, h, "/architectures/"+id+"/uploads", c.fields, c.file)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s: status %d, want %d with %q\n%.600s", c.name, rec.Code, c.status, c.want, rec.Body)
		}
	}
	wantStatus(t, upload(t, h, "/architectures/nope/uploads", nil, logCSV()), http.StatusNotFound)
	// A log that is text but not readable as the form said waits for a
	// mapping (bad mapping, unknown columns, bad start); nothing is ready.
	ups, _ := s.store.ListUploads(context.Background(), id)
	waiting := 0
	for _, u := range ups {
		if u.Status == store.UploadReady {
			t.Errorf("a bad upload was stored ready: %+v", u)
		}
		waiting++
	}
	if waiting != 3 {
		t.Errorf("%d uploads wait for a mapping, want 3", waiting)
	}
}

func TestUploadAPI(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	startRunner(t, s)
	id := create(t, h, loadExample(t, "single-provider"))
	other := create(t, h, loadExample(t, "eu-regulated"))
	rec := upload(t, h, "/api/v1/uploads", map[string]string{"architecture_id": id, "map": logMap}, logCSV())
	wantStatus(t, rec, http.StatusCreated)
	var up struct {
		ID      string `json:"id"`
		Summary struct {
			RowsUsed int64 `json:"rows_used"`
			Requests int64 `json:"requests"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil || up.Summary.RowsUsed != 60 || up.Summary.Requests != 60 {
		t.Fatalf("upload: %v %+v", err, up)
	}
	body := `{"architecture_id": "` + id + `", "upload_id": "` + up.ID + `", "trials": 20}`
	rec = do(t, h, "POST", "/api/v1/runs", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusAccepted)
	var run apiRun
	json.Unmarshal(rec.Body.Bytes(), &run)
	waitFor(t, s, run.ID, store.RunDone)
	// An upload belongs to its architecture.
	body = `{"architecture_id": "` + other + `", "upload_id": "` + up.ID + `"}`
	rec = do(t, h, "POST", "/api/v1/runs", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "upload_id")
	wantStatus(t, upload(t, h, "/api/v1/uploads", map[string]string{"map": logMap}, logCSV()), http.StatusUnprocessableEntity)
	wantStatus(t, upload(t, h, "/api/v1/uploads", map[string]string{"architecture_id": "nope"}, logCSV()), http.StatusNotFound)
}

// Logs are read into profiles a few at a time: with every slot taken an
// upload waits (its file already on disk), gives up when its client does,
// and goes through once a slot is free.
func TestUploadWaitsForAReadSlot(t *testing.T) {
	t.Parallel()
	s, h, _, uploads := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	for range cap(s.reading) {
		s.reading <- struct{}{}
	}
	body, ctype := multipartBody(t, map[string]string{"map": logMap}, logCSV())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest("POST", "/architectures/"+id+"/uploads", body).WithContext(ctx)
	req.Header.Set("Content-Type", ctype)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ups, _ := s.store.ListUploads(context.Background(), id); len(ups) != 0 {
		t.Errorf("an upload whose client left was stored: %+v", ups)
	}
	if left, _ := os.ReadDir(uploads); len(left) != 0 {
		t.Errorf("the upload folder keeps %d files after the client left", len(left))
	}
	for range cap(s.reading) {
		<-s.reading
	}
	wantStatus(t, upload(t, h, "/architectures/"+id+"/uploads", map[string]string{"map": logMap}, logCSV()), http.StatusSeeOther)
}

// Names and types a client gives are not trusted: a path in the file name
// keeps only its base, a part's declared type is ignored for the bytes'
// own, and a body that is not multipart is refused.
func TestUploadHeadersLie(t *testing.T) {
	t.Parallel()
	s, h, _, uploads := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("map", logMap)
	part, err := mw.CreatePart(map[string][]string{
		"Content-Disposition": {`form-data; name="file"; filename="../../etc/passwd"`},
		"Content-Type":        {"image/png"},
	})
	if err != nil {
		t.Fatal(err)
	}
	part.Write([]byte(logCSV()))
	mw.Close()
	rec := do(t, h, "POST", "/architectures/"+id+"/uploads", &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
	wantStatus(t, rec, http.StatusSeeOther)
	up, err := s.store.Upload(context.Background(), strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/"))
	if err != nil || up.Name != "passwd" {
		t.Errorf("upload named %q, %v; want the base name passwd", up.Name, err)
	}
	if left, _ := os.ReadDir(uploads); len(left) != 0 {
		t.Errorf("%d files left in the upload folder", len(left))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(uploads), "etc")); !os.IsNotExist(err) {
		t.Errorf("the file name reached outside the upload folder: %v", err)
	}
	// A body that says JSON but is sent to the upload form.
	rec = do(t, h, "POST", "/api/v1/uploads", strings.NewReader(logCSV()), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusBadRequest)
	wantBody(t, rec, "Send the log as a multipart form with a file field.")
	// A log that says CSV in its name but is gzip inside is read as what it is.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(logCSV()))
	zw.Close()
	rec = upload(t, h, "/api/v1/uploads", map[string]string{"architecture_id": id, "map": logMap}, gz.String())
	wantStatus(t, rec, http.StatusCreated)
	wantBody(t, rec, `"gzip":true`, `"rows_used":60`)
}

// A gzip log may expand to 16 times the upload limit and no more: here the
// limit is 64 KiB, so 1 MiB decompressed.
func TestUploadDecompressedSizeIsBounded(t *testing.T) {
	t.Parallel()
	_, h, _, _ := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	var csv strings.Builder
	csv.WriteString("ts,engine,prompt_tokens,completion_tokens\n")
	for csv.Len() < 2<<20 {
		csv.WriteString("2026-11-02T09:00:00Z,gpt-4.1-mini,1000,100\n")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(csv.String()))
	zw.Close()
	if gz.Len() > 60<<10 {
		t.Fatalf("the compressed log is %d bytes, over the upload limit", gz.Len())
	}
	rec := upload(t, h, "/api/v1/uploads", map[string]string{"architecture_id": id, "map": logMap}, gz.String())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "larger than the limit of 1048576 bytes")
}

// burstGPT is the first 400 rows of BurstGPT_1, whose Timestamp counts
// seconds from zero, read in place from ../shared/data (third-party data is
// never copied into the repository); the test is skipped without it.
func burstGPT(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", "burstgpt", "BurstGPT_1_first400.csv"))
	if err != nil {
		t.Skipf("needs burstgpt/BurstGPT_1_first400.csv in ../shared/data (the shared data folder beside the repository): %v", err)
	}
	return string(data)
}

// TestUploadRelativeClock: BurstGPT used to wait for a mapping; with a start
// typed in, every row was refused ("timestamp before 2000") and the span
// read year 0001. It is read from the default Monday, or the start given,
// and the page, the API and the mapping page say how.
func TestUploadRelativeClock(t *testing.T) {
	t.Parallel()
	_, h, _, _ := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))

	rec := upload(t, h, "/architectures/"+id+"/uploads", nil, burstGPT(t))
	wantStatus(t, rec, http.StatusSeeOther)
	page := do(t, h, "GET", rec.Header().Get("Location"), nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "400 read, 400 used",
		"<dt>Clock</dt><dd>The clock counts from zero; read as seconds from Monday 2026-01-05 00:00 UTC (gatewise&#39;s default start: the log does not say when it began). <span class=\"hint\">Upload the log again with a Start time to set another start.</span></dd>",
		"2026-01-05 00:00 UTC to 2026-01-05 10:21 UTC (10.4 hours) · 926 requests a day")
	if strings.Contains(page.Body.String(), "0001") || strings.Contains(page.Body.String(), "926.0") {
		t.Error("the page shows year 0001 or an unrounded volume")
	}

	rec = upload(t, h, "/architectures/"+id+"/uploads", map[string]string{"start": "2024-01-01"}, burstGPT(t))
	wantStatus(t, rec, http.StatusSeeOther)
	wantBody(t, do(t, h, "GET", rec.Header().Get("Location"), nil, nil), "read as seconds from Monday 2024-01-01 00:00 UTC.", "2024-01-01 00:00 UTC to 2024-01-01 10:21 UTC")

	rec = upload(t, h, "/api/v1/uploads", map[string]string{"architecture_id": id}, burstGPT(t))
	wantStatus(t, rec, http.StatusCreated)
	var got struct {
		Summary struct {
			Clock struct {
				Relative     bool   `json:"relative"`
				Unit         string `json:"unit"`
				Start        string `json:"start"`
				DefaultStart bool   `json:"default_start"`
			} `json:"clock"`
			Notes []string `json:"notes"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Summary.Clock != (struct {
		Relative     bool   `json:"relative"`
		Unit         string `json:"unit"`
		Start        string `json:"start"`
		DefaultStart bool   `json:"default_start"`
	}{true, "offset_s", "2026-01-05T00:00:00Z", true}) {
		t.Errorf("API summary clock: %v %+v", err, got.Summary.Clock)
	}
}

// TestUploadMappedRelativeClock is the browser path of the issue: a
// BurstGPT-shaped log in no known format, the timestamp mapped with its
// unit on auto and a start entered. All rows were refused.
func TestUploadMappedRelativeClock(t *testing.T) {
	t.Parallel()
	_, h, _, _ := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	log := strings.Replace(burstGPT(t), "Timestamp,Model,", "Offset,Model,", 1)
	rec := upload(t, h, "/architectures/"+id+"/uploads", nil, log)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	// The guess fills the fields from the header, not only the model.
	wantBody(t, rec, `<option value="Model" selected>`, `<option value="Request tokens" selected>`, `<option value="Response tokens" selected>`)
	upID := between(rec.Body.String(), `action="/uploads/`, `/map"`)
	form := url.Values{"action": {"preview"}, "format": {"auto"}, "start": {"2025-06-02"},
		"col_timestamp": {"Offset"}, "unit_timestamp": {"auto"}, "col_model": {"Model"},
		"col_input_tokens": {"Request tokens"}, "col_output_tokens": {"Response tokens"}}
	rec = postForm(t, h, "/uploads/"+upID+"/map", form)
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "400 read, 400 used", "read as seconds from Monday 2025-06-02 00:00 UTC.", "The Start time field sets another start.")
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}

// TestUploadSummaryExplains: what the page says of a log beyond its
// counts: requests on no route and what the simulation does with them,
// models the catalog does not price, a log too short for its daily volume,
// the cost it reports, and singular nouns for single things.
func TestUploadSummaryExplains(t *testing.T) {
	t.Parallel()
	_, h, _, _ := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	rec := upload(t, h, "/architectures/"+id+"/uploads", nil, burstGPT(t))
	wantStatus(t, rec, http.StatusSeeOther)
	page := do(t, h, "GET", rec.Header().Get("Location"), nil, nil)
	wantBody(t, page,
		`400 requests (100 %) fit none of the architecture&#39;s routes, so the summary counts them as &#34;other&#34;: no route lists their model (ChatGPT, GPT-4); the simulation serves them as route &#34;answer&#34;, the architecture&#39;s first. Add their models to a route to place them yourself.`,
		`2 models are not in the price catalog (ChatGPT, GPT-4). Their 400 requests are still simulated and priced like any other`,
		`The log covers only 10.4 hours: runs repeat it to fill their horizon, so 926 requests a day assumes every hour of the day is like these`,
		`<dt>Cost reported</dt><dd>none in the log <span class="hint">Simulations price requests from the catalog.</span></dd>`,
		`<td>ChatGPT <span class="tag">not in the price catalog</span></td><td class="num">320</td><td>other</td>`)

	one := "ts,engine,prompt_tokens,completion_tokens,cost\n2026-11-02T09:00:00Z,gpt-4.1-mini,1000,100,0.0012\n"
	rec = upload(t, h, "/architectures/"+id+"/uploads", map[string]string{"format": "csv", "map": logMap + ",cost=cost"}, one)
	wantStatus(t, rec, http.StatusSeeOther)
	page = do(t, h, "GET", rec.Header().Get("Location"), nil, nil)
	wantBody(t, page, "1 request · 1,000 input tokens (0 cached) · 100 output tokens",
		"Only 1 request: a count of n varies by about √n, so 1,440 requests a day is uncertain by about ±100 %; at least 100 requests (±10 %) make a daily volume worth trusting",
		`<dt>Cost reported</dt><dd>$0.0012 on 1 of 1 row`)
	if strings.Contains(page.Body.String(), "1 requests") {
		t.Error(`the page says "1 requests"`)
	}
}

// TestUploadSkippedRowHintSpeaksOfTheForm: the hint beside rows before
// 2000 names the mapping form's unit, not the command line's --map.
func TestUploadSkippedRowHintSpeaksOfTheForm(t *testing.T) {
	t.Parallel()
	_, h, _, _ := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	rec := upload(t, h, "/architectures/"+id+"/uploads", nil, "when,tokens_in\n5,1\n")
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	upID := between(rec.Body.String(), `action="/uploads/`, `/map"`)
	rec = postForm(t, h, "/uploads/"+upID+"/map", url.Values{"action": {"preview"}, "col_timestamp": {"when"}, "unit_timestamp": {"unix_s"}, "col_input_tokens": {"tokens_in"}})
	wantBody(t, rec, "timestamp before 2000: the timestamp&#39;s unit is probably wrong",
		"Choose the unit beside timestamp on the mapping form: unix_ms for epoch milliseconds, offset_s or offset_ms for a clock counting from zero.")
	if strings.Contains(rec.Body.String(), "--map") {
		t.Error("the mapping page speaks of --map")
	}
}

// TestUploadDeleteWaitingFromArchitecture: logs left waiting for a mapping
// are listed on the architecture's page with a Delete button.
func TestUploadDeleteWaitingFromArchitecture(t *testing.T) {
	t.Parallel()
	s, h, _, uploads := newUploadServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	wantStatus(t, upload(t, h, "/architectures/"+id+"/uploads", nil, "a,b\n1,2\n"), http.StatusUnprocessableEntity)
	ups, _ := s.store.ListUploads(context.Background(), id)
	if len(ups) != 1 {
		t.Fatalf("uploads %+v", ups)
	}
	wantBody(t, do(t, h, "GET", "/architectures/"+id, nil, nil),
		`<form method="post" action="/uploads/`+ups[0].ID+`/discard" class="inline-form"><button type="submit" class="danger" aria-label="Delete spend.csv, which waits for its mapping">Delete</button></form>`)
	rec := postForm(t, h, "/uploads/"+ups[0].ID+"/discard", url.Values{})
	wantStatus(t, rec, http.StatusSeeOther)
	if ups, _ := s.store.ListUploads(context.Background(), id); len(ups) != 0 {
		t.Errorf("left %+v", ups)
	}
	if left, _ := os.ReadDir(uploads); len(left) != 0 {
		t.Errorf("the upload folder keeps %d files", len(left))
	}
}
