package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
)

// Live progress: the run page opens /runs/{id}/events (server-sent events)
// from static/progress.js and updates its bar in place; without JavaScript
// the page refreshes itself instead.
const (
	progressEvery     = time.Second      // how often the stream looks at the run
	progressKeepAlive = 15 * time.Second // a comment line keeps proxies from closing a quiet stream
	progressStreamFor = 10 * time.Minute // then the browser reconnects on its own
)

// Progress is where a queued or running run stands, in the words its page
// uses; the page renders it and the event stream sends it as JSON.
type Progress struct {
	Status  string `json:"status"`
	Percent int    `json:"percent"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
	// Line says trials done and time left; Queue says the place in the
	// queue, empty when running.
	Line  string `json:"line"`
	Queue string `json:"queue"`
}

// Live reports whether the run is still to finish.
func (p Progress) Live() bool { return p.Status == store.RunQueued || p.Status == store.RunRunning }

// progressOf works out a run's progress as of now.
func (s *Server) progressOf(ctx context.Context, run store.Run) (Progress, error) {
	p := Progress{Status: run.Status, Done: run.Done, Total: run.Total}
	if run.Total > 0 {
		p.Percent = run.Done * 100 / run.Total
	}
	p.Line = number(run.Done) + " of " + number(run.Total)
	if d, ok := timeLeft(run, time.Now()); ok {
		p.Line += " · " + humanDuration(d) + " left"
	}
	pos, err := s.store.QueuePosition(ctx, run)
	if err != nil {
		return p, err
	}
	switch {
	case pos == 1:
		p.Queue = "Next in the queue: it starts when a worker is free."
	case pos > 1:
		runs := "runs start"
		if pos-1 == 1 {
			runs = "run starts"
		}
		p.Queue = fmt.Sprintf("Number %d in the queue: %d %s before it.", pos, pos-1, runs)
	}
	return p, nil
}

// runEvents streams a run's progress as server-sent events until it
// finishes, the client leaves, or the stream has gone on for a while.
func (s *Server) runEvents(c *gin.Context) {
	ctx := c.Request.Context()
	run, err := s.store.Run(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	// The server's write timeout is for ordinary pages; a stream extends its
	// own deadline before each write.
	send := func(chunk string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(progressKeepAlive + 5*time.Second))
		if _, err := c.Writer.WriteString(chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 2000\n\n") {
		return
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	end := time.Now().Add(progressStreamFor)
	var last string
	lastWrite := time.Now()
	for {
		p, err := s.progressOf(ctx, run)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("run progress", "run", run.ID, "error", err)
			}
			return
		}
		data, _ := json.Marshal(p)
		if string(data) != last {
			if !send("event: progress\ndata: " + string(data) + "\n\n") {
				return
			}
			last, lastWrite = string(data), time.Now()
		} else if time.Since(lastWrite) >= progressKeepAlive {
			if !send(": still going\n\n") {
				return
			}
			lastWrite = time.Now()
		}
		if !p.Live() || time.Now().After(end) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if run, err = s.store.Run(ctx, run.ID); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("run progress", "run", c.Param("id"), "error", err)
			}
			return
		}
	}
}
