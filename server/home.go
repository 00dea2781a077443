package server

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise"
	"gatewise/server/store"
	"gatewise/simulator"
)

// homeRuns is how many recent runs the home page lists; the runs page has
// the rest.
const homeRuns = 5

// HomePage is the landing page: what gatewise does, the bundled examples to
// try, and the visitor's own recent work.
type HomePage struct {
	Layout
	Examples []HomeExample
	Runs     []HomeRun
	Recent   []ArchitectureItem
}

// HomeExample is one bundled example architecture, described by what it
// holds so a visitor can pick the one closest to their setup.
type HomeExample struct {
	Name      string // file name without .yaml, as ?example= takes it
	Title     string // the architecture's own name
	Providers []string
	Routes    int
	Requests  float64 // a day
}

// HomeRun is one line of the recent runs: which architecture, when, how far,
// and once done what its memo chose.
type HomeRun struct {
	ID           string
	Architecture string
	CreatedAt    time.Time
	Status       string
	Percent      int    // while running
	Chosen       string // the memo's choice (its front matter's), "" until done
	Traffic      string // "synthetic" or "log FILE", once done
}

// showHome says what gatewise does, offers each example, and lists the
// signed-in user's recent runs and architectures (everyone's when sign-in
// is off: the store scopes both to the request's owner).
func (s *Server) showHome(c *gin.Context) {
	ctx := c.Request.Context()
	page := HomePage{Layout: Layout{Title: "Which AI gateway, if any?", Nav: "home", Version: s.cfg.Version}}
	examples, err := homeExamples()
	if err != nil {
		s.fail(c, err)
		return
	}
	page.Examples = examples

	runs, err := s.store.ListRuns(ctx, homeRuns, 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ArchitectureID
	}
	names, err := s.store.ArchitectureNames(ctx, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, r := range runs {
		page.Runs = append(page.Runs, homeRun(r, names[r.ArchitectureID]))
	}

	recent, err := s.store.ListArchitectures(ctx, 5, 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, a := range recent {
		page.Recent = append(page.Recent, s.architectureItem(a))
	}
	s.render(c, http.StatusOK, "home", page)
}

// homeExamples describes the bundled examples, read once: they are part of
// the binary, and what the page says of them needs no catalog.
var homeExamples = sync.OnceValues(func() ([]HomeExample, error) {
	var out []HomeExample
	for _, name := range gatewise.ExampleNames() {
		data, err := gatewise.Example(name)
		if err != nil {
			return nil, err
		}
		spec, err := simulator.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("bundled example %q does not parse: %w", name, err)
		}
		e := HomeExample{Name: name, Title: spec.Name, Routes: len(spec.Routes), Requests: spec.Traffic.RequestsPerDay}
		for _, p := range spec.Providers {
			e.Providers = append(e.Providers, p.ID)
		}
		out = append(out, e)
	}
	return out, nil
})

func homeRun(r store.Run, architecture string) HomeRun {
	h := HomeRun{ID: r.ID, Architecture: architecture, CreatedAt: r.CreatedAt, Status: r.Status, Traffic: r.Traffic}
	if r.Status == store.RunRunning && r.Total > 0 {
		h.Percent = r.Done * 100 / r.Total
	}
	if r.Status == store.RunDone {
		h.Chosen = r.Chosen
	}
	return h
}

// serveFavicon answers the /favicon.ico browsers ask for on pages that link
// no icon (a memo opened as HTML, JSON in a tab) with the app's icon, so
// their visits log no 404. Pages link the hashed copy.
func (s *Server) serveFavicon(c *gin.Context) {
	f, ok := s.assets.files["favicon.svg"]
	if !ok {
		s.fail(c, newError(http.StatusNotFound, "There is no such file.", nil))
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, f.ctype, f.body)
}
