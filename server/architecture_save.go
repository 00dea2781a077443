package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"

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
// a second message for a field already reported as not a number, and a sum's
// message (route shares add up to 0.7) while one of the values it adds
// cannot be read. Any other problem of the section still shows: a route with
// no input tokens must not hide that the shares are wrong, or the user fixes
// one, saves, and only then learns of the other.
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
		if !seen[p.Path] && !hasUnreadSummand(conv, p.Path) {
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

// summands are, per section whose values must add up to 1, the fields it
// adds.
var summands = map[string]*regexp.Regexp{
	"routes":         regexp.MustCompile(`^routes\[\d+\]\.share$`),
	"traffic.origin": regexp.MustCompile(`^traffic\.origin\.`),
	"priorities":     regexp.MustCompile(`^priorities\.(failover|cost|observability)$`),
}

// hasUnreadSummand reports whether section adds up values one of which is
// among the conversion problems, so its sum would be wrong.
func hasUnreadSummand(conv simulator.Problems, section string) bool {
	re, ok := summands[section]
	if !ok {
		return false
	}
	return slices.ContainsFunc(conv, func(p simulator.Problem) bool { return re.MatchString(p.Path) })
}
