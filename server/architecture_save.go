package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
	"gatewise/simulator"
)

// createArchitecture saves a new architecture from the form.
func (s *Server) createArchitecture(c *gin.Context) { s.saveArchitecture(c, "") }

// updateArchitecture saves the form over a saved architecture.
func (s *Server) updateArchitecture(c *gin.Context) {
	if _, err := s.store.Architecture(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	s.saveArchitecture(c, c.Param("id"))
}

// saveArchitecture reads the form, then either changes its rows (add or
// remove buttons), shows it again with every problem next to its field, or
// stores the architecture and redirects to its page.
func (s *Server) saveArchitecture(c *gin.Context, id string) {
	if err := c.Request.ParseForm(); err != nil {
		s.fail(c, formReadError(err))
		return
	}
	form := readArchitectureForm(c.Request.PostForm)
	title := "New architecture"
	if id != "" {
		title = "Edit " + form.Name
	}
	if form.apply(parseFormAction(c.Request.PostForm.Get("action"))) {
		s.render(c, http.StatusOK, "architecture_form", s.formPage(title, id, form, nil))
		return
	}

	spec, problems := form.spec()
	problems = mergeProblems(problems, spec.Validate(s.catalog))
	if len(problems) > 0 {
		s.render(c, http.StatusUnprocessableEntity, "architecture_form", s.formPage(title, id, form, problems))
		return
	}
	a, err := s.storeSpec(c, id, spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/architectures/"+a.ID)
}

// storeSpec creates (id == "") or updates the stored architecture.
func (s *Server) storeSpec(c *gin.Context, id string, spec simulator.Spec) (store.Architecture, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return store.Architecture{}, err
	}
	a := store.Architecture{ID: id, Name: spec.Name, Spec: data}
	if id == "" {
		err = s.store.CreateArchitecture(c.Request.Context(), &a)
	} else {
		err = s.store.UpdateArchitecture(c.Request.Context(), &a)
	}
	return a, err
}

// mergeProblems adds validation problems to conversion problems, leaving out
// a second message for a field already reported as not a number, and a
// section's message (shares add up to 0.7) while one of its values cannot be
// read at all.
func mergeProblems(conv simulator.Problems, err error) []simulator.Problem {
	out := append(simulator.Problems(nil), conv...)
	var vp simulator.Problems
	if !errors.As(err, &vp) {
		if err != nil {
			out = append(out, simulator.Problem{Message: err.Error()})
		}
		return out
	}
	seen := map[string]bool{}
	for _, p := range conv {
		seen[p.Path] = true
	}
	for _, p := range vp {
		if !seen[p.Path] && !hasChildProblem(conv, p.Path) {
			out = append(out, p)
		}
	}
	out.Sort()
	return out
}

func formReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return newError(http.StatusBadRequest, "The form could not be read; please submit it again.", err)
}

func hasChildProblem(ps simulator.Problems, parent string) bool {
	if parent == "" {
		return false
	}
	for _, p := range ps {
		if strings.HasPrefix(p.Path, parent+"[") || strings.HasPrefix(p.Path, parent+".") {
			return true
		}
	}
	return false
}
