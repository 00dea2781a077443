package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/simulator"
)

// startRunner starts the server's workers for the test's lifetime.
func startRunner(t testing.TB, s *Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.queue.Wait() })
}

// waitFor polls a run until it reaches one of the statuses; the bound is a
// deadline for a background job, not a measurement.
func waitFor(t testing.TB, s *Server, id string, statuses ...string) store.Run {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		run, err := s.store.Run(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range statuses {
			if run.Status == st {
				return run
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s, want %v", id, run.Status, statuses)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var runLocation = regexp.MustCompile(`^/runs/([a-z2-7]{12})$`)

// From an architecture's page: run, watch, read the memo, download.
func TestRunFromTheBrowser(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	startRunner(t, s)
	id := create(t, h, loadExample(t, "single-provider"))
	wantBody(t, do(t, h, "GET", "/architectures/"+id, nil, nil), `action="/architectures/`+id+`/runs"`, "Run the simulation")

	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"60"}})
	wantStatus(t, rec, http.StatusSeeOther)
	m := runLocation.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("Location %q", rec.Header().Get("Location"))
	}
	run := waitFor(t, s, m[1], store.RunDone, store.RunFailed)
	if run.Status != store.RunDone || run.Done != 60 || run.Total != 60 {
		t.Fatalf("run = %+v", run)
	}
	page := do(t, h, "GET", "/runs/"+run.ID, nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "Chosen: direct", "Memo (.md)", "<table>", "Rollout: direct", "sdk.yaml")
	if strings.Contains(page.Body.String(), `http-equiv="refresh"`) || strings.Contains(page.Body.String(), "progress.js") {
		t.Error("a finished run's page should not follow its progress")
	}
	// The answer leads: the decision, the scores chart and the stress
	// tests come before the memo, the other charts and the rollout.
	body := page.Body.String()
	order := []string{`<div class="lead"><p><strong>Chosen: direct</strong>`, "<strong>Triangle scores</strong>", "Stress tests: failed requests a month", `<h2 id="memo-h">`, `<h2 id="charts-h">`, `<h2 id="rollout-h">`}
	for i := 1; i < len(order); i++ {
		a, b := strings.Index(body, order[i-1]), strings.Index(body, order[i])
		if a < 0 || b < 0 || a > b {
			t.Errorf("the page should show %q (at %d) before %q (at %d)", order[i-1], a, order[i], b)
		}
	}
	wantBody(t, page, "<strong>Traffic:</strong> Synthetic traffic from the architecture&#39;s traffic block: 1,998 requests a day as sampled.")
	md := do(t, h, "GET", "/runs/"+run.ID+"/memo.md", nil, nil)
	wantStatus(t, md, http.StatusOK)
	wantBody(t, md, "status: proposed", "**Rollout.**")
	res := do(t, h, "GET", "/runs/"+run.ID+"/result.json", nil, nil)
	var result struct {
		Trials  int `json:"trials"`
		Results []struct {
			Gateway string `json:"gateway"`
		} `json:"results"`
	}
	if err := json.Unmarshal(res.Body.Bytes(), &result); err != nil || result.Trials != 60 || len(result.Results) == 0 {
		t.Errorf("result.json: %v, %+v", err, result)
	}
	// Every option under every scenario, and the CSV for spreadsheets.
	wantBody(t, page, "<caption>baseline</caption>", "<caption>provider-outage</caption>", "Download results (CSV)",
		`<figure class="chart">`, "<svg", "The numbers")
	// The charts and memo carry no script; the page loads only the copy buttons.
	if n := strings.Count(page.Body.String(), "<script"); n != 1 || !regexp.MustCompile(`<script src="/static/[0-9a-f]+/copy.js" defer>`).MatchString(page.Body.String()) {
		t.Errorf("the run page carries %d scripts; want only copy.js", n)
	}
	csvRec := do(t, h, "GET", "/runs/"+run.ID+"/result.csv", nil, nil)
	wantStatus(t, csvRec, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(csvRec.Body.String())).ReadAll()
	if err != nil || len(rows) != 1+len(result.Results) || rows[0][0] != "gateway" || rows[1][0] != result.Results[0].Gateway {
		t.Errorf("result.csv: %v, %d rows for %d results", err, len(rows), len(result.Results))
	}
	list := do(t, h, "GET", "/runs", nil, nil)
	wantStatus(t, list, http.StatusOK)
	wantBody(t, list, `href="/runs/`+run.ID+`"`, "Internal helpdesk bot, one provider", "done", "<td>direct</td>", "<td>synthetic</td>")
	// Bad trials never queue anything.
	wantStatus(t, postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"lots"}}), http.StatusUnprocessableEntity)
	wantStatus(t, postForm(t, h, "/architectures/nope/runs", nil), http.StatusNotFound)
}

func TestRunAPI(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	startRunner(t, s)
	spec := loadExample(t, "single-provider")
	inline, _ := json.Marshal(map[string]any{"architecture": spec, "trials": 40, "scenarios": []string{"baseline"}})
	rec := do(t, h, "POST", "/api/v1/runs", strings.NewReader(string(inline)), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusAccepted)
	var queued apiRun
	if err := json.Unmarshal(rec.Body.Bytes(), &queued); err != nil || queued.Status != store.RunQueued || queued.URL != "/runs/"+queued.ID {
		t.Fatalf("queued = %+v, %v", queued, err)
	}
	waitFor(t, s, queued.ID, store.RunDone)
	rec = do(t, h, "GET", "/api/v1/runs/"+queued.ID, nil, nil)
	var done apiRun
	if err := json.Unmarshal(rec.Body.Bytes(), &done); err != nil || done.Status != store.RunDone || done.Progress.Done != 40 || len(done.Result) == 0 {
		t.Fatalf("done = %+v, %v", done, err)
	}
	wantBody(t, do(t, h, "GET", "/api/v1/runs/"+queued.ID+"/memo.md", nil, nil), "# Gateway decision")
	html := do(t, h, "GET", "/api/v1/runs/"+queued.ID+"/memo.html", nil, nil)
	wantStatus(t, html, http.StatusOK)
	wantBody(t, html, "<h1")
	// The PDF prints on the paper asked for: A4 is 595×842 points, Letter
	// 612×792.
	for _, p := range []struct{ query, box string }{{"", "MediaBox [0 0 595.28 841.89]"}, {"?paper=letter", "MediaBox [0 0 612.00 792.00]"}} {
		pdf := do(t, h, "GET", "/api/v1/runs/"+queued.ID+"/memo.pdf"+p.query, nil, nil)
		wantStatus(t, pdf, http.StatusOK)
		wantBody(t, pdf, p.box)
	}
	badPaper := do(t, h, "GET", "/api/v1/runs/"+queued.ID+"/memo.pdf?paper=legal", nil, nil)
	wantStatus(t, badPaper, http.StatusUnprocessableEntity)
	wantBody(t, badPaper, `"paper"`)
	wantStatus(t, do(t, h, "DELETE", "/api/v1/runs/"+queued.ID, nil, nil), http.StatusConflict)

	bad := []struct {
		body   string
		status int
		field  string
	}{
		{`{"architecture_id": "nope"}`, http.StatusNotFound, ""},
		{`{}`, http.StatusUnprocessableEntity, "architecture_id"},
		{`{"architecture_id": "` + done.ArchitectureID + `", "trials": -1}`, http.StatusUnprocessableEntity, "trials"},
		{`{"architecture_id": "` + done.ArchitectureID + `", "scenarios": ["meteor"]}`, http.StatusUnprocessableEntity, "scenarios"},
		{`{"architecture": {"name": "x"}}`, http.StatusUnprocessableEntity, "architecture.providers"},
		{`{"architecture_id": "x", "trails": 5}`, http.StatusBadRequest, ""},
		{`not json`, http.StatusBadRequest, ""},
	}
	for _, b := range bad {
		rec := do(t, h, "POST", "/api/v1/runs", strings.NewReader(b.body), http.Header{"Content-Type": {"application/json"}})
		if rec.Code != b.status {
			t.Errorf("%s: status %d, want %d: %s", b.body, rec.Code, b.status, rec.Body)
			continue
		}
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || (b.field != "" && e.Error.Fields[b.field] == "") {
			t.Errorf("%s: error %s", b.body, rec.Body)
		}
	}
}

// Without a worker a run waits in the queue; it can be cancelled there and
// restarted, and a server that stops mid-run leaves it interrupted, ready
// to be restarted.
func TestRunCancelRestartInterrupt(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	id := create(t, h, loadExample(t, "multi-region"))
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"100000"}})
	runID := runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1]
	page := do(t, h, "GET", "/runs/"+runID, nil, nil)
	// The page follows the run: live with JavaScript, by refreshing without.
	wantBody(t, page, "queued", "Cancel", `<noscript><meta http-equiv="refresh" content="2"></noscript>`, "progress.js",
		`data-events="/runs/`+runID+`/events"`, "Next in the queue")
	// The event stream says where the run stands, and goes on while it is
	// queued (here until the client leaves).
	ctx, stop := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	events := httptest.NewRecorder()
	h.ServeHTTP(events, httptest.NewRequest("GET", "/runs/"+runID+"/events", nil).WithContext(ctx))
	stop()
	if ct := events.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("events Content-Type = %q", ct)
	}
	wantBody(t, events, "retry: 2000", "event: progress\ndata: {\"status\":\"queued\",\"percent\":0,\"done\":0,\"total\":100000,\"line\":\"0 of 100,000\",\"queue\":\"Next in the queue: it starts when a worker is free.\"}\n\n")
	wantStatus(t, postForm(t, h, "/runs/"+runID+"/cancel", nil), http.StatusSeeOther)
	// Once the run has ended the stream sends its status and closes.
	wantBody(t, do(t, h, "GET", "/runs/"+runID+"/events", nil, nil), `"status":"cancelled"`)
	wantStatus(t, do(t, h, "GET", "/runs/nope/events", nil, nil), http.StatusNotFound)
	if run, _ := s.store.Run(context.Background(), runID); run.Status != store.RunCancelled {
		t.Fatalf("cancelled run = %+v", run)
	}
	wantBody(t, do(t, h, "GET", "/runs/"+runID, nil, nil), "Restart")
	wantStatus(t, do(t, h, "GET", "/runs/"+runID+"/memo.md", nil, nil), http.StatusConflict)
	wantStatus(t, postForm(t, h, "/runs/"+runID+"/restart", nil), http.StatusSeeOther)

	// A hundred thousand trials of the example take half a minute: stop
	// the workers while it runs.
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, runID, store.RunRunning)
	cancel()
	s.queue.Wait()
	run := waitFor(t, s, runID, store.RunInterrupted)
	if !strings.Contains(run.Error, "restart") {
		t.Errorf("interrupted run = %+v", run)
	}
	wantStatus(t, postForm(t, h, "/runs/"+runID+"/restart", nil), http.StatusSeeOther)
	if run, _ := s.store.Run(context.Background(), runID); run.Status != store.RunQueued {
		t.Errorf("restarted run = %+v", run)
	}
	wantStatus(t, postForm(t, h, "/runs/nope/restart", nil), http.StatusNotFound)
}

// The run form's checkboxes narrow the scenarios and options of one run; a
// scenario the file gives parameters to keeps them.
func TestRunChoosesScenariosAndGateways(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	startRunner(t, s)
	id := create(t, h, loadExample(t, "multi-region"))
	page := do(t, h, "GET", "/architectures/"+id, nil, nil)
	wantBody(t, page, `name="choose"`, `<input type="checkbox" name="gateways" value="litellm" checked>`, `name="scenarios" value="rate-limit-storm"`)

	form := url.Values{"trials": {"40"}, "choose": {"1"}, "scenarios": {"baseline", "provider-outage"}, "gateways": {"direct", "litellm"}}
	rec := postForm(t, h, "/architectures/"+id+"/runs", form)
	wantStatus(t, rec, http.StatusSeeOther)
	run := waitFor(t, s, runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1], store.RunDone, store.RunFailed)
	if run.Status != store.RunDone {
		t.Fatalf("run = %+v", run)
	}
	var res struct {
		Results []struct {
			Gateway  string `json:"gateway"`
			Scenario string `json:"scenario"`
		} `json:"results"`
	}
	if err := json.Unmarshal(run.Result, &res); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range res.Results {
		got[r.Gateway+" "+r.Scenario] = true
	}
	want := []string{"direct baseline", "direct provider-outage", "litellm baseline", "litellm provider-outage"}
	if len(got) != len(want) {
		t.Errorf("results for %v, want %v", got, want)
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no result for %s (have %v)", w, got)
		}
	}

	for name, bad := range map[string]url.Values{
		"no scenario": {"choose": {"1"}, "gateways": {"direct"}},
		"no gateway":  {"choose": {"1"}, "scenarios": {"baseline"}},
		"unknown":     {"choose": {"1"}, "scenarios": {"baseline"}, "gateways": {"nginx"}},
		"twice":       {"choose": {"1"}, "scenarios": {"baseline", "baseline"}, "gateways": {"direct"}},
	} {
		rec := postForm(t, h, "/architectures/"+id+"/runs", bad)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", name, rec.Code)
		}
	}
	body := `{"architecture_id": "` + id + `", "gateways": ["kong", "kong"]}`
	rec = do(t, h, "POST", "/api/v1/runs", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `"gateways":"\"kong\" is listed twice"`)
}

// Two outages of one name stay apart: the run form offers each by the label
// results show, ticking one runs that one, and the API's bare name runs
// both with the file's parameters.
func TestRunPicksOneOfTwoOutages(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	startRunner(t, s)
	spec := loadExample(t, "multi-region")
	spec.Scenarios = []simulator.Scenario{{Name: "baseline"}, {Name: "provider-outage", Provider: "openai"},
		{Name: "provider-outage", Provider: "anthropic", DurationHours: 8, ErrorRate: 0.5}}
	id := create(t, h, spec)
	page := do(t, h, "GET", "/architectures/"+id, nil, nil)
	wantBody(t, page, `value="provider-outage (openai)" checked>`, `value="provider-outage (anthropic, 8 h, 50 % of requests fail)" checked>`,
		`value="region-outage">`, "provider-outage (anthropic, 8 h, 50 % of requests fail)")

	scenariosOf := func(runID string) []string {
		t.Helper()
		run := waitFor(t, s, runID, store.RunDone, store.RunFailed)
		var res struct {
			Results []struct {
				Scenario string `json:"scenario"`
			} `json:"results"`
		}
		if err := json.Unmarshal(run.Result, &res); err != nil {
			t.Fatalf("run %+v: %v", run, err)
		}
		var out []string
		for _, r := range res.Results {
			if !slices.Contains(out, r.Scenario) {
				out = append(out, r.Scenario)
			}
		}
		return out
	}
	form := url.Values{"trials": {"20"}, "choose": {"1"}, "scenarios": {"provider-outage (anthropic, 8 h, 50 % of requests fail)"}, "gateways": {"direct"}}
	rec := postForm(t, h, "/architectures/"+id+"/runs", form)
	wantStatus(t, rec, http.StatusSeeOther)
	if got := scenariosOf(runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1]); !slices.Equal(got, []string{"provider-outage (anthropic, 8 h, 50 % of requests fail)"}) {
		t.Errorf("the ticked label ran %q", got)
	}

	body := `{"architecture_id": "` + id + `", "trials": 20, "gateways": ["direct"], "scenarios": ["provider-outage"]}`
	rec = do(t, h, "POST", "/api/v1/runs", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusAccepted)
	var queued struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &queued); err != nil {
		t.Fatal(err)
	}
	if got := scenariosOf(queued.ID); !slices.Equal(got, []string{"provider-outage (openai)", "provider-outage (anthropic, 8 h, 50 % of requests fail)"}) {
		t.Errorf("the bare name ran %q", got)
	}

	body = `{"architecture_id": "` + id + `", "scenarios": ["provider-outage (mistral)"]}`
	rec = do(t, h, "POST", "/api/v1/runs", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `is not a scenario: use one of baseline, provider-outage (openai), provider-outage (anthropic, 8 h, 50 % of requests fail), provider-outage, region-outage`)
}

// A run's time grows with its trials, so the server caps
// trials (--max-trials), including the architecture file's own default.
func TestRunTrialsAreCapped(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatewise.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test", MaxTrials: 500}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	id := create(t, h, loadExample(t, "single-provider")) // its file asks for 10,000 trials
	for _, body := range []string{`{"architecture_id": "` + id + `", "trials": 501}`, `{"architecture_id": "` + id + `"}`} {
		rec := do(t, h, "POST", "/api/v1/runs", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		wantBody(t, rec, `"trials":"must be between 1 and 500 on this server (--max-trials)`)
	}
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"501"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "Trials must be a whole number from 1 to 500 on this server.")
	wantStatus(t, do(t, h, "POST", "/api/v1/runs", strings.NewReader(`{"architecture_id": "`+id+`", "trials": 500}`), http.Header{"Content-Type": {"application/json"}}), http.StatusAccepted)
}

// The rollout bundle of any option the run simulated can be fetched by
// name, but not of one a hard constraint rules out, nor of one it never
// simulated.
func TestRolloutBundleByGateway(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	startRunner(t, s)
	spec := loadExample(t, "multi-region")
	body, _ := json.Marshal(map[string]any{"architecture": spec, "trials": 20, "scenarios": []string{"baseline"}})
	rec := do(t, h, "POST", "/api/v1/runs", strings.NewReader(string(body)), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, rec, http.StatusAccepted)
	var queued apiRun
	if err := json.Unmarshal(rec.Body.Bytes(), &queued); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, queued.ID, store.RunDone)
	base := "/api/v1/runs/" + queued.ID + "/rollout.zip"
	zip := do(t, h, "GET", base+"?gateway=kong", nil, nil)
	wantStatus(t, zip, http.StatusOK)
	wantBody(t, zip, "kong/kong.yaml")
	// SOC 2 is required and OpenRouter's report is not verified.
	excluded := do(t, h, "GET", base+"?gateway=openrouter", nil, nil)
	wantStatus(t, excluded, http.StatusUnprocessableEntity)
	wantBody(t, excluded, "openrouter cannot be shipped for this architecture: SOC 2 is required")
	wantStatus(t, do(t, h, "GET", base+"?gateway=nope", nil, nil), http.StatusNotFound)
}
