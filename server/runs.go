package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/memo"
	"gatewise/server/charts"
	"gatewise/server/store"
	"gatewise/simulator"
)

// queueRun stores a run of architecture id with its job and wakes a worker.
func (s *Server) queueRun(ctx context.Context, id string, opts RunOptions) (store.Run, error) {
	a, spec, err := s.loadArchitecture(ctx, id)
	if err != nil {
		return store.Run{}, err
	}
	if opts.Trials == 0 {
		opts.Trials = spec.Simulation.Trials
	}
	if fields := opts.validate(s.cfg.MaxTrials, spec); len(fields) > 0 {
		return store.Run{}, &Error{Status: http.StatusUnprocessableEntity, Message: "The run's options have problems.", Fields: fields}
	}
	if opts.UploadID != "" {
		up, err := s.store.Upload(ctx, opts.UploadID)
		if err != nil || up.ArchitectureID != id {
			return store.Run{}, &Error{Status: http.StatusUnprocessableEntity, Message: "That upload is not one of this architecture's.", Err: err, Fields: map[string]string{"upload_id": "is not an upload of this architecture"}}
		}
		if up.Status != store.UploadReady {
			return store.Run{}, &Error{Status: http.StatusUnprocessableEntity, Message: "That log waits for its column mapping; map it before running.", Fields: map[string]string{"upload_id": "waits for its column mapping"}}
		}
	}
	if opts.PriceFileID != "" {
		if _, err := s.store.PriceFile(ctx, opts.PriceFileID); err != nil {
			return store.Run{}, &Error{Status: http.StatusUnprocessableEntity, Message: "That price file is not kept in gatewise.", Err: err, Fields: map[string]string{"price_file_id": "is not a kept price file"}}
		}
	}
	if err := s.checkPriceAsOf(ctx, opts); err != nil {
		return store.Run{}, err
	}
	data, err := json.Marshal(opts)
	if err != nil {
		return store.Run{}, err
	}
	// The run keeps the architecture as it is now: a later edit changes
	// neither what a restart simulates nor what a comparison shows.
	run := store.Run{ArchitectureID: id, Options: data, Spec: a.Spec, Total: opts.Trials}
	if err := s.store.CreateRun(ctx, &run, s.queue.Enqueue); err != nil {
		return store.Run{}, err
	}
	s.queue.Notify()
	return run, nil
}

// createRun starts a run from an architecture's page.
func (s *Server) createRun(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.fail(c, formReadError(err))
		return
	}
	opts := RunOptions{UploadID: strings.TrimSpace(c.Request.PostForm.Get("upload_id")),
		PriceFileID: strings.TrimSpace(c.Request.PostForm.Get("price_file_id")), PriceAsOf: strings.TrimSpace(c.Request.PostForm.Get("price_as_of"))}
	if v := strings.TrimSpace(c.Request.PostForm.Get("trials")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.cfg.MaxTrials {
			s.fail(c, &Error{Status: http.StatusUnprocessableEntity, Message: "Trials must be a whole number from 1 to " + number(s.cfg.MaxTrials) + " on this server.", Err: err,
				Fields: map[string]string{"trials": "must be between 1 and " + number(s.cfg.MaxTrials)}})
			return
		}
		opts.Trials = n
	}
	// The page's checkboxes say which scenarios and options to run; it
	// marks that it sent them, since none ticked sends nothing at all.
	if c.Request.PostForm.Get("choose") != "" {
		opts.Scenarios, opts.Gateways = c.Request.PostForm["scenarios"], c.Request.PostForm["gateways"]
		if len(opts.Scenarios) == 0 {
			s.fail(c, &Error{Status: http.StatusUnprocessableEntity, Message: "Tick at least one scenario to run.", Fields: map[string]string{"scenarios": "tick at least one"}})
			return
		}
		if len(opts.Gateways) == 0 {
			s.fail(c, &Error{Status: http.StatusUnprocessableEntity, Message: "Tick at least one option to compare.", Fields: map[string]string{"gateways": "tick at least one"}})
			return
		}
	}
	run, err := s.queueRun(c.Request.Context(), c.Param("id"), opts)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/runs/"+run.ID)
}

// RunPage shows one run: its progress while it goes, the memo when done.
type RunPage struct {
	Layout
	Run          store.Run
	Architecture string
	Edited       bool // the architecture changed after the run was queued
	Live         bool // queued or running: the page follows it
	Progress     Progress
	PriceFile    string        // the kept price file laid over the catalog, if any
	Restartable  bool          // interrupted, failed or cancelled
	Memo         template.HTML // rendered without raw HTML, so safe to embed
	Tables       []ScenarioTable
	Charts       []ChartView
	// Glance is the answer at the top: the decision, the scores and the
	// stress tests; nil when the run cannot be scored any more.
	Glance *Glance
	// Traffic names the traffic the run replayed.
	Traffic TrafficView
	Rollout *RolloutView // the chosen option's bundle, last on the page
	// Base is where the page's links start: /runs/ID, or /s/TOKEN for a
	// read-only share, which also hides everything that changes the run.
	Base     string
	ReadOnly bool
	Shares   []ShareView
}

// ChartView is a server-rendered chart with its text alternative and its
// numbers as a table, so nothing is conveyed by the picture alone.
type ChartView struct {
	Title string
	Alt   string
	SVG   template.HTML // escaped and checked by package charts: no scripts, no links
	Table charts.Table
}

func (s *Server) showRun(c *gin.Context) {
	run, err := s.store.Run(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	page := RunPage{Layout: Layout{Title: "Run " + run.ID, Nav: "runs", Version: s.cfg.Version}, Run: run,
		Live:        run.Status == store.RunQueued || run.Status == store.RunRunning,
		Restartable: run.Status == store.RunInterrupted || run.Status == store.RunFailed || run.Status == store.RunCancelled}
	if a, err := s.store.Architecture(c.Request.Context(), run.ArchitectureID); err == nil {
		page.Architecture = a.Name
		page.Title = "Run of " + a.Name
		page.Edited = len(run.Spec) > 0 && !bytes.Equal(run.Spec, a.Spec)
	}
	if page.Progress, err = s.progressOf(c.Request.Context(), run); err != nil {
		s.fail(c, err)
		return
	}
	var opts RunOptions
	if json.Unmarshal(run.Options, &opts) == nil && opts.PriceFileID != "" {
		page.PriceFile = "a price file gatewise no longer has"
		if pf, err := s.store.PriceFile(c.Request.Context(), opts.PriceFileID); err == nil {
			page.PriceFile = pf.Name + " (" + pf.Format + ")" + priceDayNote(opts)
		}
	}
	if run.Status == store.RunDone {
		html, err := memo.HTML([]byte(run.Memo))
		if err != nil {
			s.fail(c, err)
			return
		}
		page.Memo = template.HTML(html) // goldmark with raw HTML off; user text escaped by memo
		page.Scripts = []string{"copy.js"}
		var res simulator.Result
		if err := json.Unmarshal(run.Result, &res); err != nil {
			s.fail(c, err)
			return
		}
		page.Tables, page.Traffic = resultTables(res), trafficOf(res.Traffic)
		if page.Charts, page.Glance, err = s.runCharts(c.Request.Context(), run, res); err != nil {
			s.fail(c, err)
			return
		}
		// A run simulated before runs kept their plans has no bundle;
		// the page says so rather than failing.
		if b, err := s.runBundle(c.Request.Context(), run, ""); err == nil {
			page.Rollout = &RolloutView{Gateway: b.Gateway}
			for _, f := range b.Files {
				page.Rollout.Files = append(page.Rollout.Files, RolloutFile{Name: f.Name, Content: string(f.Content)})
			}
		}
	}
	page.Base = "/runs/" + run.ID
	if sh, ok := sharedVia(c); ok {
		page.Base, page.ReadOnly = "/s/"+sh.Token, true
		page.Restartable = false
		if page.Live {
			c.Header("Refresh", "5") // no event stream for a link's readers
		}
	} else {
		if page.Live {
			page.Scripts = append(page.Scripts, "progress.js")
			page.RefreshWithoutScript = 2
		}
		if page.Shares, err = s.shareViews(c, store.ShareRun, run.ID); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.render(c, http.StatusOK, "run_show", page)
}

// timeLeft extrapolates a running run's pace so far to the trials it still
// has; trials take about the same time each, so the rate is steady.
func timeLeft(r store.Run, now time.Time) (time.Duration, bool) {
	if r.Status != store.RunRunning || r.Done <= 0 || r.Total <= r.Done || r.StartedAt.IsZero() {
		return 0, false
	}
	elapsed := now.Sub(r.StartedAt)
	if elapsed <= 0 {
		return 0, false
	}
	return time.Duration(float64(elapsed) * float64(r.Total-r.Done) / float64(r.Done)), true
}

// humanDuration rounds an estimate to what a reader can use.
func humanDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return "a few seconds"
	case d < 90*time.Second:
		return fmt.Sprintf("about %d seconds", int(d.Round(5*time.Second).Seconds()))
	case d < 90*time.Minute:
		return fmt.Sprintf("about %d minutes", int(d.Round(time.Minute).Minutes()))
	default:
		return fmt.Sprintf("about %.1f hours", d.Hours())
	}
}

// cancelRun stops a queued or running run.
func (s *Server) cancelRun(c *gin.Context) {
	if err := s.cancel(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/runs/"+c.Param("id"))
}

// cancel stops the run wherever it is worked.
func (s *Server) cancel(ctx context.Context, id string) error {
	if _, err := s.store.Run(ctx, id); err != nil {
		return err
	}
	if err := s.queue.Cancel(ctx, id); errors.Is(err, store.ErrRunEnded) {
		return newError(http.StatusConflict, "The run has already ended.", err)
	} else if err != nil {
		return err
	}
	return nil
}

// restartRun queues an interrupted, failed or cancelled run again.
func (s *Server) restartRun(c *gin.Context) {
	if err := s.store.RequeueRun(c.Request.Context(), c.Param("id"), s.queue.Enqueue); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.fail(c, err)
			return
		}
		s.fail(c, newError(http.StatusConflict, "Only an interrupted, failed or cancelled run can be restarted.", err))
		return
	}
	s.queue.Notify()
	c.Redirect(http.StatusSeeOther, "/runs/"+c.Param("id"))
}

// downloadMemo sends a finished run's memo as Markdown, as a standalone
// HTML page, or as a one-page PDF (?paper=a4, the default, or letter).
func (s *Server) downloadMemo(c *gin.Context) {
	run, ok := s.finishedRun(c)
	if !ok {
		return
	}
	switch {
	case strings.HasSuffix(c.Request.URL.Path, ".html"):
		page, err := memo.Page([]byte(run.Memo))
		if err != nil {
			s.fail(c, err)
			return
		}
		// The standalone memo styles itself with one inline stylesheet,
		// allowed by its hash and nothing else.
		c.Header("Content-Security-Policy", "default-src 'none'; style-src "+memo.PageStyleSource()+"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		c.Data(http.StatusOK, "text/html; charset=utf-8", page)
		return
	case strings.HasSuffix(c.Request.URL.Path, ".pdf"):
		paper, err := memo.ParsePaper(c.Query("paper"))
		if err != nil {
			s.fail(c, &Error{Status: http.StatusUnprocessableEntity, Message: err.Error(), Fields: map[string]string{"paper": err.Error()}})
			return
		}
		pdf, err := memo.PDF([]byte(run.Memo), paper)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="gatewise-memo-`+run.ID+`.pdf"`)
		c.Data(http.StatusOK, "application/pdf", pdf)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="gatewise-memo-`+run.ID+`.md"`)
	c.Data(http.StatusOK, "text/markdown; charset=utf-8", []byte(run.Memo))
}

// downloadResult sends a finished run's result as JSON.
func (s *Server) downloadResult(c *gin.Context) {
	run, ok := s.finishedRun(c)
	if !ok {
		return
	}
	c.Header("Content-Disposition", `attachment; filename="gatewise-result-`+run.ID+`.json"`)
	c.Data(http.StatusOK, "application/json", run.Result)
}

func (s *Server) finishedRun(c *gin.Context) (store.Run, bool) {
	run, err := s.store.Run(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return run, false
	}
	if run.Status != store.RunDone {
		s.fail(c, newError(http.StatusConflict, "The run has not finished: it is "+run.Status+".", nil))
		return run, false
	}
	return run, true
}

// apiRunRequest is the body of POST /api/v1/runs.
type apiRunRequest struct {
	ArchitectureID string          `json:"architecture_id"`
	Architecture   json.RawMessage `json:"architecture"`
	RunOptions
}

// apiRun is a run as the API shows it.
type apiRun struct {
	ID             string          `json:"id"`
	ArchitectureID string          `json:"architecture_id"`
	Status         string          `json:"status"`
	Progress       apiProgress     `json:"progress"`
	URL            string          `json:"url"`
	Error          string          `json:"error,omitempty"`
	Result         json.RawMessage `json:"result,omitempty"`
}

type apiProgress struct {
	Done          int     `json:"done"`
	Total         int     `json:"total"`
	QueuePosition int     `json:"queue_position,omitempty"`
	SecondsLeft   float64 `json:"seconds_left,omitempty"`
}

func toAPIRun(r store.Run) apiRun {
	out := apiRun{ID: r.ID, ArchitectureID: r.ArchitectureID, Status: r.Status, Progress: apiProgress{Done: r.Done, Total: r.Total}, URL: "/runs/" + r.ID, Error: r.Error}
	if r.Status == store.RunDone {
		out.Result = r.Result
	}
	return out
}

// apiCreateRun queues a run of a saved architecture, or of one sent inline
// (which is saved first), and answers 202.
func (s *Server) apiCreateRun(c *gin.Context) {
	var req apiRunRequest
	if err := decodeJSONBody(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	id := req.ArchitectureID
	switch {
	case id != "" && len(req.Architecture) > 0:
		s.fail(c, &Error{Status: http.StatusUnprocessableEntity, Message: "Give architecture_id or architecture, not both.", Fields: map[string]string{"architecture": "leave out with architecture_id"}})
		return
	case id == "" && len(req.Architecture) == 0:
		s.fail(c, &Error{Status: http.StatusUnprocessableEntity, Message: "Give architecture_id or architecture.", Fields: map[string]string{"architecture_id": "is required"}})
		return
	case id == "":
		a, _, err := s.saveArchitectureFile(c, req.Architecture, "architecture.")
		if err != nil {
			s.fail(c, err)
			return
		}
		id = a.ID
	}
	run, err := s.queueRun(c.Request.Context(), id, req.RunOptions)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/runs/"+run.ID)
	c.JSON(http.StatusAccepted, toAPIRun(run))
}

func (s *Server) apiShowRun(c *gin.Context) {
	run, err := s.store.Run(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := toAPIRun(run)
	if out.Progress.QueuePosition, err = s.store.QueuePosition(c.Request.Context(), run); err != nil {
		s.fail(c, err)
		return
	}
	if d, ok := timeLeft(run, time.Now()); ok {
		out.Progress.SecondsLeft = math.Round(d.Seconds())
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) apiCancelRun(c *gin.Context) {
	if err := s.cancel(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	run, err := s.store.Run(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAPIRun(run))
}

// runCharts draws a finished run's charts, with the memo's scores.
func (s *Server) runCharts(ctx context.Context, run store.Run, res simulator.Result) ([]ChartView, *Glance, error) {
	var scores []charts.Scores
	spec, err := runSpec(ctx, s.store, run)
	var d memo.Decision
	scored := false
	if err == nil {
		if d, err = memo.Score(spec, res, s.catalog); err == nil {
			scored = true
			for _, o := range d.Options {
				scores = append(scores, charts.Scores{Gateway: o.Gateway, Failover: o.Failover, Cost: o.Cost, Observability: o.Observability})
			}
		}
	}
	drawn, err := charts.ForRun(res, scores)
	if err != nil {
		return nil, nil, err
	}
	var out []ChartView
	var scoreChart *ChartView
	for _, ch := range drawn {
		v := ChartView{Title: ch.Title, Alt: ch.Alt, SVG: template.HTML(ch.SVG), Table: ch.Table}
		if ch.Title == charts.ScoresTitle && scored {
			scoreChart = &v // at the top, beside the decision
			continue
		}
		out = append(out, v)
	}
	if !scored {
		// A run whose architecture is gone still shows its memo and
		// charts, without the summary that needs its scores.
		return out, nil, nil
	}
	g, err := glanceOf([]byte(run.Memo), spec, res, d, scoreChart)
	if err != nil {
		return nil, nil, err
	}
	return out, &g, nil
}
