package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests are not parallel: they count the process's goroutines, and
// Go holds parallel tests back while a sequential one runs.

// inFlight counts the requests a handler is serving, so a test can tell
// when the handler of a request whose client left has returned.
type inFlight struct {
	h      http.Handler
	active atomic.Int64
	served atomic.Int64
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.active.Add(1)
	defer func() { f.active.Add(-1); f.served.Add(1) }()
	f.h.ServeHTTP(w, r)
}

// settle waits until cond holds; the bound is a deadline for the server to
// notice, not a measurement.
func settle(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settleGoroutines waits until no more goroutines run than before, and
// fails with every stack when some stay.
func settleGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines 10 s later, %d before:\n%s", runtime.NumGoroutine(), before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// spendRows is the start of a LiteLLM SpendLogs export, n rows long.
func spendRows(n int) string {
	var b strings.Builder
	b.WriteString("request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,custom_llm_provider,metadata,cache_hit,request_tags,status\n")
	for i := range n {
		fmt.Fprintf(&b, "req-%d,acompletion,hk1,0.0004,1020,900,120,2026-11-02 09:%02d:00.000+00,2026-11-02 09:%02d:02.500+00,gpt-4.1-mini-2025-04-14,gpt-4.1-mini,openai,{},False,\"[\"\"chat\"\"]\",success\n",
			i, i%60, i%60)
	}
	return b.String()
}

// A client that leaves half way through an upload, by closing its
// connection or because its body fails, leaves no file in the upload
// folder, no upload, no handler and no goroutine behind: on the page's
// route and on the API's.
func TestUploadClientGoesAway(t *testing.T) {
	s, h, _, uploads := newUploadServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	srv := &inFlight{h: h}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	before := runtime.NumGoroutine()

	// The first 100 rows are sent of a body that announces more; the
	// server's limit is 64 KiB.
	head := spendRows(100)
	leave := map[string]func(t *testing.T, target string, fields map[string]string){
		"closes the connection": func(t *testing.T, target string, fields map[string]string) {
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			body, ctype := partialMultipart(t, fields, head)
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
				target, ts.Listener.Addr(), ctype, 60<<10, body)
			waitReceiving(t, uploads)
			conn.Close()
		},
		"body fails": func(t *testing.T, target string, fields map[string]string) {
			pr, pw := io.Pipe()
			body, ctype := partialMultipart(t, fields, head)
			req, err := http.NewRequest("POST", ts.URL+target, pr)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ctype)
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			answered := make(chan error, 1)
			go func() {
				res, err := client.Do(req)
				if err == nil {
					res.Body.Close()
					err = fmt.Errorf("the server answered %s to half a body", res.Status)
				}
				answered <- err
			}()
			if _, err := io.WriteString(pw, body); err != nil {
				t.Fatal(err)
			}
			waitReceiving(t, uploads)
			pw.CloseWithError(errors.New("the client gave up"))
			if err := <-answered; !strings.Contains(fmt.Sprint(err), "the client gave up") {
				t.Errorf("client: %v, want its own body error", err)
			}
		},
	}
	routes := map[string]struct {
		target string
		fields map[string]string
	}{
		"page": {"/architectures/" + arch + "/uploads", map[string]string{"format": "litellm-spendlogs"}},
		"api":  {"/api/v1/uploads", map[string]string{"architecture_id": arch}},
	}
	for how, leaveNow := range leave {
		for route, r := range routes {
			t.Run(route+" "+how, func(t *testing.T) {
				served := srv.served.Load()
				leaveNow(t, r.target, r.fields)
				settle(t, "the upload's handler is still serving", func() bool { return srv.active.Load() == 0 && srv.served.Load() == served+1 })
				if left, _ := filepath.Glob(filepath.Join(uploads, "*")); len(left) != 0 {
					t.Errorf("the upload folder keeps %v", left)
				}
				if ups, err := s.store.ListUploads(context.Background(), arch); err != nil || len(ups) != 0 {
					t.Errorf("uploads: %v %+v, want none", err, ups)
				}
			})
		}
	}
	settleGoroutines(t, before)
}

// partialMultipart is the start of a multipart upload: the fields, then the
// file part with content, and no closing boundary.
func partialMultipart(t *testing.T, fields map[string]string, content string) (string, string) {
	t.Helper()
	var b strings.Builder
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", "spendlogs.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, content)
	return b.String(), mw.FormDataContentType()
}

// waitReceiving waits until the server has written part of an upload to
// its temporary file.
func waitReceiving(t *testing.T, dir string) {
	t.Helper()
	settle(t, "no upload is being received", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, tempUploadPattern))
		for _, f := range files {
			if info, err := os.Stat(f); err == nil && info.Size() > 0 {
				return true
			}
		}
		return false
	})
}

// A page following a run over server-sent events releases its handler,
// and the handler's goroutines, when the browser goes away.
func TestRunEventsClientGoesAway(t *testing.T) {
	_, h := newTestServer(t)
	arch := create(t, h, loadExample(t, "single-provider"))
	// No runner is started, so the run stays queued and its stream live.
	rec := do(t, h, "POST", "/api/v1/runs", strings.NewReader(`{"architecture_id": "`+arch+`", "trials": 100000}`), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusAccepted)
	var run apiRun
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatal(err)
	}
	srv := &inFlight{h: h}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	before := runtime.NumGoroutine()

	for _, how := range []string{"closes the tab", "closes the connection"} {
		t.Run(how, func(t *testing.T) {
			served := srv.served.Load()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/runs/"+run.ID+"/events", nil)
			if err != nil {
				t.Fatal(err)
			}
			transport := &http.Transport{}
			defer transport.CloseIdleConnections()
			res, err := (&http.Client{Transport: transport}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || ct != "text/event-stream" {
				t.Fatalf("events: %s, %q", res.Status, ct)
			}
			// The stream's first event says where the run stands.
			r := bufio.NewReader(res.Body)
			var data string
			for data == "" {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if d, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
					data = d
				}
			}
			var p Progress
			if err := json.Unmarshal([]byte(data), &p); err != nil {
				t.Fatal(err)
			}
			want := Progress{Status: "queued", Done: 0, Total: 100_000, Line: "0 of 100,000", Queue: "Next in the queue: it starts when a worker is free."}
			if p != want {
				t.Errorf("first event %+v, want %+v", p, want)
			}
			if srv.active.Load() != 1 {
				t.Fatalf("%d handlers serving while the stream is open, want 1", srv.active.Load())
			}
			if how == "closes the tab" {
				cancel() // what a browser does to an EventSource when its page closes
			} else {
				res.Body.Close()
			}
			settle(t, "the event stream's handler is still serving", func() bool { return srv.active.Load() == 0 && srv.served.Load() == served+1 })
		})
	}
	settleGoroutines(t, before)
}
