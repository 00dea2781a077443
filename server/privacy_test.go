package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gatewise/pricing"
	"gatewise/server/store"
)

// syncBuffer collects a logger's output from handlers and workers at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// spendLogsWithText is a LiteLLM SpendLogs export with the prompt and
// completion columns LiteLLM writes when it stores messages: marker in
// both, in text CSV has to quote (commas, quotes, line breaks).
func spendLogsWithText() string {
	var b strings.Builder
	b.WriteString("request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,custom_llm_provider,metadata,cache_hit,request_tags,status,messages,response\n")
	for i := range 60 {
		fmt.Fprintf(&b, "req-%d,acompletion,hk1,0.0004,1020,900,120,2026-11-02 09:%02d:00.000+00,2026-11-02 09:%02d:02.500+00,gpt-4.1-mini-2025-04-14,gpt-4.1-mini,openai,{},False,[],success,"+
			`"[{""role"": ""user"", ""content"": ""%s asks, \""why?\""`+"\n"+`line two %d""}]","{""choices"": [{""message"": {""content"": ""%s answers %d""}}]}"`+"\n",
			i, i, i, marker, i, marker, i)
	}
	return b.String()
}

// payloadJSONL is LiteLLM's standard logging payload, one request a line,
// with the messages and the response nested as LiteLLM logs them.
func payloadJSONL() string {
	var b strings.Builder
	for i := range 30 {
		row := map[string]any{
			"id": fmt.Sprintf("c-%d", i), "call_type": "acompletion", "status": "success",
			"startTime": 1793610000 + 60*i, "endTime": 1793610002 + 60*i, "response_time": 2.1, "response_cost": 0.0004,
			"model": "gpt-4.1-mini", "model_group": "gpt-4.1-mini", "prompt_tokens": 900 + i, "completion_tokens": 120,
			"messages": []any{map[string]string{"role": "user", "content": marker + " asks question " + fmt.Sprint(i)}},
			"response": map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": marker + " answers"}}}},
		}
		line, _ := json.Marshal(row)
		b.Write(append(line, '\n'))
	}
	return b.String()
}

// A log whose prompts and completions carry a marker goes through every way
// in (the page's upload, kept and then deleted; the API, as CSV and as
// JSONL; an unknown format refused by the API, then mapped in the page) and
// is simulated; afterwards the marker is in no database file, no file of
// the upload folder, and no line of the server's debug log.
func TestPromptTextIsKeptNowhere(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "gatewise.db")
	uploads := filepath.Join(dir, "uploads")
	if err := os.Mkdir(uploads, 0o755); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := store.Open(context.Background(), db, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test", MaxUploadBytes: 1 << 20, UploadDir: uploads}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	startRunner(t, s)
	arch := create(t, h, loadExample(t, "single-provider"))

	// The page: a known export, its raw log kept, then deleted.
	rec := upload(t, h, "/architectures/"+arch+"/uploads", map[string]string{"keep": "1"}, spendLogsWithText())
	wantStatus(t, rec, http.StatusSeeOther)
	kept := strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	wantBody(t, do(t, h, "GET", "/uploads/"+kept, nil, nil), "Read as <strong>litellm-spendlogs</strong>", "60 read, 60 used", "The raw log is kept on the server")
	wantStatus(t, postForm(t, h, "/uploads/"+kept+"/raw/delete", url.Values{}), http.StatusSeeOther)

	// The API: the same export, and the JSONL payload log.
	ready := []string{kept}
	for _, c := range []struct {
		file, format string
		rows         int64
	}{{spendLogsWithText(), "litellm-spendlogs", 60}, {payloadJSONL(), "litellm-payload", 30}} {
		rec := upload(t, h, "/api/v1/uploads", map[string]string{"architecture_id": arch}, c.file)
		wantStatus(t, rec, http.StatusCreated)
		var up struct {
			ID      string
			Summary struct {
				Format   string `json:"format"`
				RowsUsed int64  `json:"rows_used"`
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil || up.Summary.Format != c.format || up.Summary.RowsUsed != c.rows {
			t.Fatalf("API upload: %v %+v, want %s with %d rows used", err, up, c.format, c.rows)
		}
		ready = append(ready, up.ID)
	}

	// An unknown format: the API refuses it (a debug line in the log), the
	// page keeps it for its mapping, which is previewed and saved.
	rec = upload(t, h, "/api/v1/uploads", map[string]string{"architecture_id": arch}, oddCSV())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	rec = upload(t, h, "/architectures/"+arch+"/uploads", nil, oddCSV())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	m := regexp.MustCompile(`action="/uploads/([a-z2-7]{12})/map"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no mapping page:\n%.1500s", rec.Body)
	}
	wantBody(t, postForm(t, h, "/uploads/"+m[1]+"/map", mapForm("preview")), "40 read, 40 used")
	wantStatus(t, postForm(t, h, "/uploads/"+m[1]+"/map", mapForm("save")), http.StatusSeeOther)
	ready = append(ready, m[1])

	// Each upload's traffic is simulated.
	for _, id := range ready {
		rec := postForm(t, h, "/architectures/"+arch+"/runs", url.Values{"trials": {"20"}, "upload_id": {id}})
		wantStatus(t, rec, http.StatusSeeOther)
		if run := waitFor(t, s, strings.TrimPrefix(rec.Header().Get("Location"), "/runs/"), store.RunDone, store.RunFailed); run.Status != store.RunDone {
			t.Fatalf("run of upload %s: %s %s", id, run.Status, run.Error)
		}
	}

	// The database as it is on disk while the server runs: the file and
	// its write-ahead log, which may hold pages not yet copied back.
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(marker)) {
			t.Errorf("%s holds prompt text", filepath.Base(f))
		}
	}
	var files []string
	filepath.WalkDir(uploads, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, d.Name())
			if data, err := os.ReadFile(path); err == nil && bytes.Contains(data, []byte(marker)) {
				t.Errorf("upload folder: %s holds prompt text", d.Name())
			}
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("the upload folder keeps %v", files)
	}
	out := logs.Bytes()
	if bytes.Contains(out, []byte(marker)) {
		t.Errorf("the server's log holds prompt text:\n%s", out)
	}
	// The log was written at debug level: the API's refusal is there.
	if !bytes.Contains(out, []byte(`level=DEBUG msg="request refused" request.method=POST request.path=/api/v1/uploads status=422`)) {
		t.Errorf("no debug line for the refused upload in the log:\n%s", out)
	}
}
