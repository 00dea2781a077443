package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"gatewise/internal/logtest"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatewise/server/store"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// spendAt is when the test SpendLogs start.
var spendAt = logtest.SpendStart

// spendCSV is a LiteLLM SpendLogs export with prompt text in it: n
// requests, one a minute from spendAt plus offset minutes, with ids
// req-<i> counted from first.
func spendCSV(offset, first, n int) string {
	return logtest.SpendLogsCSV(offset, first, n, marker+" asks")
}

// errorLogsCSV is the same deployment's LiteLLM ErrorLogs: 20 failed
// requests, 429s and 500s, between the SpendLogs' requests.
func errorLogsCSV() string { return logtest.ErrorLogsCSV(marker) }

// sendLog posts a log named name as a multipart form.
func sendLog(t *testing.T, h http.Handler, target, name string, fields map[string]string, file string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(file))
	}
	mw.Close()
	hdr := http.Header{"Content-Type": {mw.FormDataContentType()}}
	for k, v := range header {
		hdr[k] = v
	}
	return do(t, h, "POST", target, &body, hdr)
}

// apiSummary is what the tests read of an upload as the API shows it.
type apiSummary struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Summary struct {
		RowsRead int64            `json:"rows_read"`
		Requests int64            `json:"requests"`
		Errors   map[string]int64 `json:"errors"`
		Files    []struct {
			Name            string `json:"name"`
			Format          string `json:"format"`
			RowsRead        int64  `json:"rows_read"`
			Requests        int64  `json:"requests"`
			DuplicateRows   int64  `json:"duplicate_rows"`
			DroppedRequests int64  `json:"dropped_requests"`
			IDColumn        string `json:"id_column"`
			Overlap         string `json:"overlap"`
		} `json:"files"`
		Findings []struct {
			Kind  string  `json:"kind"`
			Hours float64 `json:"hours"`
			Text  string  `json:"text"`
		} `json:"findings"`
	} `json:"summary"`
}

func decodeUpload(t *testing.T, rec *httptest.ResponseRecorder) apiSummary {
	t.Helper()
	var up apiSummary
	if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	return up
}

func findingTexts(up apiSummary) string {
	var out []string
	for _, f := range up.Summary.Findings {
		out = append(out, f.Text)
	}
	return strings.Join(out, "\n")
}

// TestUploadCombinesLogs follows a team that uploads its LiteLLM SpendLogs,
// adds the deployment's ErrorLogs on the upload's page, then a later
// SpendLogs export through the API, and runs with the upload: the run's
// result names every file.
func TestUploadCombinesLogs(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	startRunner(t, s)
	arch := create(t, h, loadExample(t, "single-provider"))
	spend := spendCSV(0, 0, 120) // 10:00 to 11:59
	rec := sendLog(t, h, "/architectures/"+arch+"/uploads", "spend.csv", nil, spend, nil)
	wantStatus(t, rec, http.StatusSeeOther)
	id := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	wantBody(t, do(t, h, "GET", "/uploads/"+id, nil, nil), "Add another log to this traffic", `action="/uploads/`+id+`/logs"`)

	// The ErrorLogs export is told from its columns (litellm-errorlogs).
	rec = sendLog(t, h, "/uploads/"+id+"/logs", "errors.csv", nil, errorLogsCSV(), nil)
	wantStatus(t, rec, http.StatusSeeOther)
	page := do(t, h, "GET", rec.Header().Get("Location"), nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "Traffic from spend.csv &#43; errors.csv", `id="log-files-table"`, "litellm-spendlogs &#43; litellm-errorlogs", "<code class=\"wrap\">errors.csv</code>",
		"120 read, 120 used", "20 read, 20 used", "140 requests",
		"errors.csv overlaps spend.csv for 1.9 hours (errors.csv has 20 requests in that time, spend.csv 115); their request ids differ, so they are different requests: both kept.",
		"rate limited (429) 15", "server errors (5xx) 5")

	// The same bytes again, under another name.
	rec = sendLog(t, h, "/uploads/"+id+"/logs", "spend-copy.csv", nil, spend, nil)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "spend.csv and spend-copy.csv are the same file (the same bytes): the second was not added.", `id="add-log-problem"`, "Traffic from spend.csv &#43; errors.csv")

	// A later export that repeats the first one's last hour.
	rec = sendLog(t, h, "/api/v1/uploads/"+id+"/logs", "spend-later.csv", nil, spendCSV(60, 60, 120), nil)
	wantStatus(t, rec, http.StatusCreated)
	up := decodeUpload(t, rec)
	if up.Summary.Requests != 200 || up.Summary.RowsRead != 260 || len(up.Summary.Files) != 3 {
		t.Fatalf("after the later export: %+v", up.Summary)
	}
	if f := up.Summary.Files[2]; f.DuplicateRows != 60 || f.Requests != 60 || f.RowsRead != 120 || f.IDColumn != "request_id" {
		t.Errorf("the later export: %+v", f)
	}
	wantText := "spend-later.csv repeats 60 request ids of spend.csv (request_id): those rows were skipped, so each request counts once."
	if !strings.Contains(findingTexts(up), wantText) {
		t.Errorf("findings:\n%s\nwant %s", findingTexts(up), wantText)
	}
	if got := decodeUpload(t, do(t, h, "GET", "/api/v1/uploads/"+id, nil, nil)); got.Summary.Requests != 200 || got.Name != "spend.csv + errors.csv + spend-later.csv" {
		t.Errorf("GET the upload: %s, %d requests", got.Name, got.Summary.Requests)
	}
	logs, err := s.store.UploadLogs(t.Context(), id)
	if err != nil || len(logs) != 3 || len(logs[0].Profile) == 0 || logs[1].SHA256 == "" || len(logs[2].IDs) == 0 {
		t.Fatalf("stored files: %v %+v", err, logs)
	}
	for _, l := range logs {
		if bytes.Contains(l.Summary, []byte(marker)) || strings.Contains(l.Details, marker) {
			t.Errorf("%s: prompt text kept with the file", l.Name)
		}
	}

	rec = postForm(t, h, "/architectures/"+arch+"/runs", url.Values{"trials": {"20"}, "upload_id": {id}})
	wantStatus(t, rec, http.StatusSeeOther)
	run := waitFor(t, s, strings.TrimPrefix(rec.Header().Get("Location"), "/runs/"), store.RunDone, store.RunFailed)
	if run.Status != store.RunDone {
		t.Fatalf("run: %+v", run)
	}
	var res simulator.Result
	if err := json.Unmarshal(run.Result, &res); err != nil {
		t.Fatal(err)
	}
	l := res.Traffic.Log
	if l == nil || l.File != "spend.csv + errors.csv + spend-later.csv" || len(l.Files) != 3 {
		t.Fatalf("the run's log: %+v", l)
	}
	for i, want := range []string{"spend.csv", "errors.csv", "spend-later.csv"} {
		if l.Files[i].File != want {
			t.Errorf("file %d: %q, want %q", i, l.Files[i].File, want)
		}
	}
	if l.Files[1].Format != "litellm-errorlogs" || l.Files[1].RowsRead != 20 || l.Files[2].RowsSkipped != 60 || l.RowsUsed != 200 {
		t.Errorf("the run's files: %+v, rows used %d", l.Files, l.RowsUsed)
	}
	if !l.Start.Equal(spendAt) || !l.End.Equal(spendAt.Add(179*time.Minute+2*time.Second)) && !l.End.Equal(spendAt.Add(179*time.Minute)) {
		t.Errorf("the run's log spans %v to %v", l.Start, l.End)
	}
}

// TestUploadLogOverlapChoice adds a log without request ids that covers
// half an hour of the first one: reported with its span and both files'
// requests, kept, then dropped and kept again by choice.
func TestUploadLogOverlapChoice(t *testing.T) {
	t.Parallel()
	_, h, _, _ := newUploadServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	rec := sendLog(t, h, "/api/v1/uploads", "spend.csv", map[string]string{"architecture_id": arch}, spendCSV(0, 0, 120), nil)
	wantStatus(t, rec, http.StatusCreated)
	id := decodeUpload(t, rec).ID
	var plain strings.Builder
	plain.WriteString("ts,engine,prompt_tokens,completion_tokens\n")
	for i := range 120 { // 11:30 to 13:29
		fmt.Fprintf(&plain, "%s,gpt-4.1-nano,50,5\n", spendAt.Add(90*time.Minute+time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	rec = sendLog(t, h, "/api/v1/uploads/"+id+"/logs", "gateway.csv", map[string]string{"map": logMap}, plain.String(), nil)
	wantStatus(t, rec, http.StatusCreated)
	up := decodeUpload(t, rec)
	if up.Summary.Requests != 240 || up.Summary.Files[1].Overlap != "keep" {
		t.Fatalf("kept: %+v", up.Summary)
	}
	if len(up.Summary.Findings) != 1 || up.Summary.Findings[0].Hours != 0.48 ||
		!strings.HasPrefix(up.Summary.Findings[0].Text, "gateway.csv overlaps spend.csv for 29 minutes (gateway.csv has 30 requests in that time, spend.csv 30). Without request ids") {
		t.Errorf("findings: %+v", up.Summary.Findings)
	}
	page := do(t, h, "GET", "/uploads/"+id, nil, nil)
	wantBody(t, page, `action="/uploads/`+id+`/logs/2/overlap"`, "Drop its requests where it overlaps earlier files")

	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	rec = do(t, h, "PATCH", "/api/v1/uploads/"+id+"/logs/2", strings.NewReader(`{"overlap": "drop"}`), jsonHdr)
	wantStatus(t, rec, http.StatusOK)
	up = decodeUpload(t, rec)
	if up.Summary.Requests != 210 || up.Summary.Files[1].DroppedRequests != 30 || up.Summary.Files[1].Overlap != "drop" {
		t.Errorf("dropped: %+v", up.Summary)
	}
	if !strings.Contains(findingTexts(up), "gateway.csv overlaps spend.csv for 29 minutes: its 30 requests in that time were dropped, as chosen; spend.csv's 30 stand for them.") {
		t.Errorf("dropped: %s", findingTexts(up))
	}
	rec = postForm(t, h, "/uploads/"+id+"/logs/2/overlap", url.Values{"overlap": {"keep"}})
	wantStatus(t, rec, http.StatusSeeOther)
	if up := decodeUpload(t, do(t, h, "GET", "/api/v1/uploads/"+id, nil, nil)); up.Summary.Requests != 240 {
		t.Errorf("kept again: %d requests", up.Summary.Requests)
	}

	for _, c := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/api/v1/uploads/" + id + "/logs/1", `{"overlap": "drop"}`, http.StatusUnprocessableEntity, "the choice is a later file's"},
		{"/api/v1/uploads/" + id + "/logs/3", `{"overlap": "drop"}`, http.StatusNotFound, "no file 3"},
		{"/api/v1/uploads/" + id + "/logs/2", `{"overlap": "maybe"}`, http.StatusUnprocessableEntity, `Overlap \"maybe\" is neither keep nor drop`},
		{"/api/v1/uploads/" + id + "/logs/2", `{"overlaps": "drop"}`, http.StatusBadRequest, "overlaps"},
		{"/api/v1/uploads/nope/logs/2", `{"overlap": "drop"}`, http.StatusNotFound, ""},
	} {
		rec := do(t, h, "PATCH", c.path, strings.NewReader(c.body), jsonHdr)
		wantStatus(t, rec, c.status)
		wantBody(t, rec, c.want)
	}

	// The next day's file of the same custom format, sent without its
	// mapping, is read as the earlier file was.
	var next strings.Builder
	next.WriteString("ts,engine,prompt_tokens,completion_tokens\n")
	for i := range 10 {
		fmt.Fprintf(&next, "%s,gpt-4.1-nano,50,5\n", spendAt.Add(24*time.Hour+time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	rec = sendLog(t, h, "/api/v1/uploads/"+id+"/logs", "gateway-next.csv", nil, next.String(), nil)
	wantStatus(t, rec, http.StatusCreated)
	up = decodeUpload(t, rec)
	if up.Summary.Requests != 250 || up.Summary.Files[2].Format != "csv" {
		t.Errorf("next day: %+v", up.Summary)
	}
	wantBody(t, rec, "read as the earlier files were: the column mapping "+logMap, "No file covers the 20.5 hours between gateway.csv and gateway-next.csv")
}

func TestUploadAddLogBadInput(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	rec := sendLog(t, h, "/api/v1/uploads", "spend.csv", map[string]string{"architecture_id": arch}, spendCSV(0, 0, 30), nil)
	wantStatus(t, rec, http.StatusCreated)
	id := decodeUpload(t, rec).ID
	before, err := s.store.Upload(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, file string
		fields     map[string]string
		status     int
		want       string
	}{
		{"notes.csv", "when,what\nmonday,lunch\n", nil, http.StatusUnprocessableEntity, "notes.csv: the CSV columns match no known format (when, what); name them with --map"},
		{"image.csv", "\x89PNG\r\n\x1a\n\x00\x00", nil, http.StatusUnprocessableEntity, "image.csv: line 3: the file is binary"},
		{"spend-again.csv", spendCSV(0, 0, 30) + "\n", nil, http.StatusUnprocessableEntity, "Every row of spend-again.csv repeats a request id of spend.csv: it adds nothing, so it was not added."},
		{"spend.csv", spendCSV(0, 0, 30), nil, http.StatusUnprocessableEntity, "spend.csv is part of this traffic already (the same bytes): it was not added again."},
		{"later.csv", spendCSV(30, 30, 30), map[string]string{"ids": "trace_id"}, http.StatusUnprocessableEntity, `the log has no column \"trace_id\" to read request ids from`},
		{"later.csv", spendCSV(30, 30, 30), map[string]string{"overlap": "sometimes"}, http.StatusUnprocessableEntity, "neither keep nor drop"},
		{"", "", nil, http.StatusUnprocessableEntity, "Choose a request log to upload."},
	} {
		rec := sendLog(t, h, "/api/v1/uploads/"+id+"/logs", c.name, c.fields, c.file, nil)
		wantStatus(t, rec, c.status)
		wantBody(t, rec, c.want)
	}
	// The page says the same beside its form, and keeps the upload.
	rec = sendLog(t, h, "/uploads/"+id+"/logs", "notes.csv", nil, "when,what\nmonday,lunch\n", nil)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `id="add-log-problem"`, "notes.csv: the CSV columns match no known format (when, what); name them in Column mapping, such as", "Traffic from spend.csv")
	after, err := s.store.Upload(t.Context(), id)
	if err != nil || after.Revision != before.Revision || !bytes.Equal(after.Profile, before.Profile) || after.Name != "spend.csv" {
		t.Errorf("the upload after refused files: %+v, %v", after, err)
	}
	if logs, _ := s.store.UploadLogs(t.Context(), id); len(logs) != 1 {
		t.Errorf("refused files left %d files", len(logs))
	}

	wantStatus(t, sendLog(t, h, "/api/v1/uploads/nope/logs", "x.csv", nil, spendCSV(0, 0, 3), nil), http.StatusNotFound)
	// An upload that waits for its mapping takes no more logs yet.
	rec = upload(t, h, "/architectures/"+arch+"/uploads", nil, oddCSV())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	ups, _ := s.store.ListUploads(t.Context(), arch)
	var waiting string
	for _, u := range ups {
		if u.Status == store.UploadMapping {
			waiting = u.ID
		}
	}
	rec = sendLog(t, h, "/api/v1/uploads/"+waiting+"/logs", "x.csv", nil, spendCSV(0, 0, 3), nil)
	wantStatus(t, rec, http.StatusConflict)
	wantBody(t, rec, "This log waits for its column mapping: map its columns and save it first, then add more logs to it.")
	wantBody(t, sendLog(t, h, "/uploads/"+waiting+"/logs", "x.csv", nil, spendCSV(0, 0, 3), nil), "waits for its column mapping")

	// Mapped and saved, it is an upload of one file that takes more.
	wantStatus(t, postForm(t, h, "/uploads/"+waiting+"/map", mapForm("save")), http.StatusSeeOther)
	if logs, err := s.store.UploadLogs(t.Context(), waiting); err != nil || len(logs) != 1 || logs[0].SHA256 == "" {
		t.Fatalf("a mapped upload's first file: %+v, %v", logs, err)
	}
	rec = sendLog(t, h, "/api/v1/uploads/"+waiting+"/logs", "odd.csv", nil, oddCSV(), nil)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "are the same file")
}

// An upload stored before gatewise kept its files takes more: it counts
// as one file with no checksum or ids, and the findings say so.
func TestUploadAddToAnOlderUpload(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	_, spec, err := s.loadArchitecture(t.Context(), arch)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := readOptionsFor(spec, uploadForm{}, s)
	if err != nil {
		t.Fatal(err)
	}
	profile, sum, err := traffic.Read(t.Context(), strings.NewReader(spendCSV(0, 0, 120)), opts)
	if err != nil {
		t.Fatal(err)
	}
	old := store.Upload{ArchitectureID: arch, Name: "spend.csv"}
	if err := fillUpload(&old, profile, sum, uploadForm{}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateUpload(t.Context(), &old); err != nil { // no Logs: as an earlier gatewise stored it
		t.Fatal(err)
	}
	rec := sendLog(t, h, "/api/v1/uploads/"+old.ID+"/logs", "spend-later.csv", nil, spendCSV(60, 60, 120), nil)
	wantStatus(t, rec, http.StatusCreated)
	up := decodeUpload(t, rec)
	// Without the first file's ids, the later one's repeats are an overlap
	// in time, kept unless the user drops them.
	if up.Summary.Requests != 240 || up.Summary.Files[1].DuplicateRows != 0 || up.Summary.Files[1].Overlap != "keep" {
		t.Errorf("added to an older upload: %+v", up.Summary)
	}
	texts := findingTexts(up)
	for _, want := range []string{
		"spend.csv was read before gatewise kept request ids and checksums with a log: files added after it are checked against it by time, not by id.",
		"spend-later.csv overlaps spend.csv for 59 minutes (spend-later.csv has 60 requests in that time, spend.csv 60). Without request ids in both files (spend.csv has none)",
	} {
		if !strings.Contains(texts, want) {
			t.Errorf("findings lack %q:\n%s", want, texts)
		}
	}
	logs, err := s.store.UploadLogs(t.Context(), old.ID)
	if err != nil || len(logs) != 2 || len(logs[0].Profile) == 0 || logs[0].SHA256 != "" {
		t.Fatalf("files: %+v, %v", logs, err)
	}
	rec = do(t, h, "PATCH", "/api/v1/uploads/"+old.ID+"/logs/2", strings.NewReader(`{"overlap": "drop"}`), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusOK)
	if up := decodeUpload(t, rec); up.Summary.Requests != 180 {
		t.Errorf("dropped: %d requests, want 180", up.Summary.Requests)
	}
}

// heliconeRows is a Helicone JSON Lines export: n requests, one a minute
// from spendAt, with ids h<i> from first.
func heliconeRows(first, n int) []string {
	var out []string
	for i := first; i < first+n; i++ {
		out = append(out, fmt.Sprintf(`{"request_id":"h%d","request_created_at":"%s","model":"gpt-4o","response_status":200,"prompt_tokens":10,"completion_tokens":5}`,
			i, spendAt.Add(time.Duration(i)*time.Minute).Format(time.RFC3339)))
	}
	return out
}

// TestUploadAddedLogKeepsItsContainer adds to an upload a JSON Lines file
// whose first row repeats the upload's and whose next line is damaged (two
// JSON values on one line): the web reads added files as the command line
// does, so with the repeated row left out the damaged line cannot make the
// rest read as a JSON document. The file is refused at that line, and the
// upload stays as it was; a file whose repeats leave a good row first is
// added.
func TestUploadAddedLogKeepsItsContainer(t *testing.T) {
	t.Parallel()
	s, h, _, _ := newUploadServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	rec := sendLog(t, h, "/api/v1/uploads", "a.jsonl", map[string]string{"architecture_id": arch}, strings.Join(heliconeRows(0, 10), "\n")+"\n", nil)
	wantStatus(t, rec, http.StatusCreated)
	id := decodeUpload(t, rec).ID
	before, err := s.store.Upload(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}

	rows := heliconeRows(10, 20)
	damaged := strings.Replace(rows[0], "}", "} "+rows[1], 1)
	rec = sendLog(t, h, "/api/v1/uploads/"+id+"/logs", "b.jsonl", nil, heliconeRows(9, 1)[0]+"\n"+damaged+"\n"+strings.Join(rows[2:], "\n")+"\n", nil)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "b.jsonl: line 2: with the rows before it left out (their request ids are an earlier file's), this line would make the rest read as a JSON document rather than JSON Lines as in the file: correct or remove it, then add the file again")
	if after, err := s.store.Upload(t.Context(), id); err != nil || after.Revision != before.Revision {
		t.Errorf("the upload after a refused file: revision %d, was %d (%v)", after.Revision, before.Revision, err)
	}

	rec = sendLog(t, h, "/api/v1/uploads/"+id+"/logs", "c.jsonl", nil, strings.Join(append(heliconeRows(9, 1), rows...), "\n")+"\n", nil)
	wantStatus(t, rec, http.StatusCreated)
	up := decodeUpload(t, rec)
	if len(up.Summary.Files) != 2 || up.Summary.Requests != 30 {
		t.Fatalf("after c.jsonl: %+v", up.Summary)
	}
	if f := up.Summary.Files[1]; f.Format != "helicone" || f.RowsRead != 21 || f.DuplicateRows != 1 || f.Requests != 20 || f.IDColumn != "request_id" {
		t.Errorf("c.jsonl: %+v", f)
	}
}
