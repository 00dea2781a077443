package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

// architectureYAML is the file every user saves: testdata/examples/
// single-provider.yaml, whose two models the generated log uses.
//
//go:embed testdata/architecture.yaml
var architectureYAML string

// user is one simulated person's session against the server.
type user struct {
	n      int
	c      *client
	logMB  float64
	trials int
	reads  int
	poll   time.Duration
}

// userResult is what a user got through.
type userResult struct {
	// RunStatus is the run's last status; empty when no run was queued.
	RunStatus string
	// MaxQueue is the deepest queue_position the run reported.
	MaxQueue int
	// Err is the first failure, which ended the user's session.
	Err error
}

// runJSON is the part of GET /api/v1/runs/{id} a user follows.
type runJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Error    string `json:"error"`
	Progress struct {
		Done          int `json:"done"`
		Total         int `json:"total"`
		QueuePosition int `json:"queue_position"`
	} `json:"progress"`
}

func (s runJSON) finished() bool {
	switch s.Status {
	case "done", "failed", "cancelled", "interrupted":
		return true
	}
	return false
}

// session saves an architecture, uploads a log, runs a simulation, follows
// it to the end, fetches the memo and reads the result pages. It stops at
// the first failure.
func (u *user) session(ctx context.Context) (res userResult) {
	archID, err := u.saveArchitecture(ctx)
	if err != nil {
		return userResult{Err: err}
	}
	uploadID, err := u.upload(ctx, archID)
	if err != nil {
		return userResult{Err: err}
	}
	run, err := u.startRun(ctx, archID, uploadID)
	if err != nil {
		return userResult{Err: err}
	}
	res.RunStatus, res.MaxQueue = run.Status, run.Progress.QueuePosition
	for !run.finished() {
		select {
		case <-ctx.Done():
			res.Err = fmt.Errorf("run %s still %s: %w", run.ID, run.Status, context.Cause(ctx))
			return res
		case <-time.After(u.poll):
		}
		if run, err = u.getRun(ctx, run.ID); err != nil {
			res.Err = err
			return res
		}
		res.RunStatus = run.Status
		res.MaxQueue = max(res.MaxQueue, run.Progress.QueuePosition)
	}
	if run.Status != "done" {
		res.Err = u.c.rec.fail(fmt.Errorf("run %s ended %s: %s", run.ID, run.Status, run.Error))
		return res
	}
	if err := u.memo(ctx, run.ID); err != nil {
		res.Err = err
		return res
	}
	res.Err = u.readResults(ctx, archID, run.ID)
	return res
}

func (u *user) saveArchitecture(ctx context.Context) (string, error) {
	name := fmt.Sprintf("Load user %d", u.n)
	body := strings.Replace(architectureYAML, "name: Internal helpdesk bot, one provider", "name: "+name, 1)
	r := request{method: http.MethodPost, pattern: "/api/v1/architectures", body: strings.NewReader(body),
		contentType: "application/yaml", want: http.StatusCreated}
	data, err := u.c.do(ctx, r)
	if err != nil {
		return "", err
	}
	var saved struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(data, &saved); err != nil || saved.ID == "" || saved.Name != name {
		return "", u.c.invalid(r, "want an id and name %q, got %s", name, snippet(data))
	}
	return saved.ID, nil
}

// upload streams a generated log as a multipart form: the generator writes
// into a pipe as the request reads it.
func (u *user) upload(ctx context.Context, archID string) (string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeUpload(mw, archID, u.n, int64(u.logMB*(1<<20))))
	}()
	r := request{method: http.MethodPost, pattern: "/api/v1/uploads", body: pr,
		contentType: mw.FormDataContentType(), want: http.StatusCreated}
	data, err := u.c.do(ctx, r)
	pr.Close() // ends the writer if the server stopped reading early
	if err != nil {
		return "", err
	}
	var up struct {
		ID      string `json:"id"`
		Summary struct {
			Format   string `json:"format"`
			RowsRead int64  `json:"rows_read"`
			RowsUsed int64  `json:"rows_used"`
			Routes   []struct {
				Name string `json:"name"`
			} `json:"routes"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(data, &up); err != nil || up.ID == "" {
		return "", u.c.invalid(r, "want an id, got %s", snippet(data))
	}
	sum := up.Summary
	if sum.Format != "litellm-spendlogs" || sum.RowsUsed == 0 || sum.RowsUsed != sum.RowsRead {
		return "", u.c.invalid(r, "want every row read as litellm-spendlogs, got format %q, %d of %d rows used", sum.Format, sum.RowsUsed, sum.RowsRead)
	}
	for _, rt := range sum.Routes {
		if rt.Name != "answer" && rt.Name != "summarize-ticket" {
			return "", u.c.invalid(r, "rows went to route %q, not the architecture's", rt.Name)
		}
	}
	return up.ID, nil
}

// writeUpload writes the form: the architecture, then the log.
func writeUpload(mw *multipart.Writer, archID string, n int, size int64) error {
	if err := mw.WriteField("architecture_id", archID); err != nil {
		return err
	}
	fw, err := mw.CreateFormFile("file", fmt.Sprintf("spendlogs-user-%d.csv", n))
	if err != nil {
		return err
	}
	if _, err := io.Copy(fw, newSpendLog(size, n)); err != nil {
		return err
	}
	return mw.Close()
}

func (u *user) startRun(ctx context.Context, archID, uploadID string) (runJSON, error) {
	body, _ := json.Marshal(map[string]any{"architecture_id": archID, "upload_id": uploadID, "trials": u.trials})
	r := request{method: http.MethodPost, pattern: "/api/v1/runs", body: bytes.NewReader(body),
		contentType: "application/json", want: http.StatusAccepted}
	data, err := u.c.do(ctx, r)
	if err != nil {
		return runJSON{}, err
	}
	var run runJSON
	if err := json.Unmarshal(data, &run); err != nil || run.ID == "" || run.Status == "" {
		return runJSON{}, u.c.invalid(r, "want a run with an id and a status, got %s", snippet(data))
	}
	return run, nil
}

func (u *user) getRun(ctx context.Context, id string) (runJSON, error) {
	r := request{method: http.MethodGet, pattern: "/api/v1/runs/{id}", id: id, want: http.StatusOK}
	data, err := u.c.do(ctx, r)
	if err != nil {
		return runJSON{}, err
	}
	var run runJSON
	if err := json.Unmarshal(data, &run); err != nil || run.ID != id {
		return runJSON{}, u.c.invalid(r, "want run %s, got %s", id, snippet(data))
	}
	return run, nil
}

// memo fetches the run's memo and checks it is the memo: Markdown that
// names the chosen option.
func (u *user) memo(ctx context.Context, id string) error {
	r := request{method: http.MethodGet, pattern: "/api/v1/runs/{id}/memo.md", id: id, want: http.StatusOK}
	data, err := u.c.do(ctx, r)
	if err != nil {
		return err
	}
	if !bytes.Contains(data, []byte("\n# ")) || !decided(data) {
		return u.c.invalid(r, "want Markdown with a heading and the decision (\"Chosen:\" or \"No single winner:\"), got %s", snippet(data))
	}
	return nil
}

// decided says a memo states its decision: one option chosen, or a tie.
func decided(memo []byte) bool {
	return bytes.Contains(memo, []byte("Chosen: ")) || bytes.Contains(memo, []byte("No single winner: "))
}

// readResults is the read-heavy part: rounds of the run's page, the runs
// list, the architecture's page and the run's JSON.
func (u *user) readResults(ctx context.Context, archID, runID string) error {
	pages := []struct {
		r    request
		want string // in the body
	}{
		{request{method: http.MethodGet, pattern: "/runs/{id}", id: runID, want: http.StatusOK}, "Gateway decision: "},
		{request{method: http.MethodGet, pattern: "/runs", want: http.StatusOK}, "</html>"},
		{request{method: http.MethodGet, pattern: "/architectures/{id}", id: archID, want: http.StatusOK}, fmt.Sprintf("Load user %d", u.n)},
		{request{method: http.MethodGet, pattern: "/api/v1/runs/{id}", id: runID, want: http.StatusOK}, `"status":"done"`},
	}
	for range u.reads {
		for _, p := range pages {
			data, err := u.c.do(ctx, p.r)
			if err != nil {
				return err
			}
			if !bytes.Contains(data, []byte(p.want)) {
				return u.c.invalid(p.r, "want %q in the answer, got %s", p.want, snippet(data))
			}
		}
	}
	return nil
}
