package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"gatewise"
	"gatewise/server/store"
	"gatewise/simulator"
)

// showNewArchitecture shows the form: blank, pre-filled from a bundled
// example (?example=multi-region), or from a saved architecture to duplicate
// (?from=ID). Nothing is stored until the user saves.
func (s *Server) showNewArchitecture(c *gin.Context) {
	form := blankForm()
	title := "New architecture"
	switch {
	case c.Query("example") != "":
		data, err := gatewise.Example(c.Query("example"))
		if err != nil {
			s.fail(c, newError(http.StatusNotFound, "There is no example by that name.", err))
			return
		}
		spec, err := simulator.Load(data, s.catalog)
		if err != nil {
			s.fail(c, fmt.Errorf("bundled example %q does not load: %w", c.Query("example"), err))
			return
		}
		form = formFromSpec(spec)
		title = "New architecture from the example"
	case c.Query("from") != "":
		_, spec, err := s.loadArchitecture(c.Request.Context(), c.Query("from"))
		if err != nil {
			s.fail(c, err)
			return
		}
		form = formFromSpec(spec)
		form.Name = truncate(spec.Name+" (copy)", 200)
		title = "Duplicate " + spec.Name
	}
	s.render(c, http.StatusOK, "architecture_form", s.formPage(title, "", form, nil))
}

// showEditArchitecture shows the form filled from a saved architecture.
func (s *Server) showEditArchitecture(c *gin.Context) {
	a, spec, err := s.loadArchitecture(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "architecture_form", s.formPage("Edit "+a.Name, a.ID, formFromSpec(spec), nil))
}

// formPage is the form's view. A new architecture (blank, from an example
// or a duplicate) is "New architecture" in the navigation; editing a saved
// one stays under "Architectures". After a failed save the page loads the
// script that moves focus to the error summary.
func (s *Server) formPage(title, editID string, form ArchitectureForm, problems []simulator.Problem) ArchitectureFormPage {
	action, nav := "/architectures", "new"
	if editID != "" {
		action, nav = "/architectures/"+editID, "architectures"
	}
	jurisdictions := originJurisdictions(s.catalog)
	page := ArchitectureFormPage{
		Layout:        Layout{Title: title, Nav: nav, Version: s.cfg.Version},
		Action:        action,
		EditID:        editID,
		Form:          form,
		Errors:        formErrors(problems, form.fieldKeys(jurisdictions)),
		Problems:      problems,
		Examples:      gatewise.ExampleNames(),
		Catalog:       s.catalog,
		Jurisdictions: jurisdictions,
		Gateways:      simulator.GatewayIDs(),
		Needs:         simulator.ObservabilityNeeds(),
		ScenarioNames: simulator.ScenarioNames(),
	}
	if len(problems) > 0 {
		page.Scripts = []string{"form.js"}
	}
	return page
}

// loadArchitecture reads a saved architecture and decodes its spec.
func (s *Server) loadArchitecture(ctx context.Context, id string) (store.Architecture, simulator.Spec, error) {
	a, err := s.store.Architecture(ctx, id)
	if err != nil {
		return a, simulator.Spec{}, err
	}
	var spec simulator.Spec
	if err := json.Unmarshal(a.Spec, &spec); err != nil {
		return a, spec, fmt.Errorf("architecture %s: stored spec does not decode: %w", id, err)
	}
	return a, spec, nil
}
