package server

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
	"gatewise/simulator"
)

// apiArchitecture is an architecture as the JSON API returns it.
type apiArchitecture struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	URL          string         `json:"url"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	Architecture simulator.Spec `json:"architecture"`
}

// apiCreateArchitecture stores an architecture file sent as the body (YAML
// or JSON, as the file format allows) and answers 201 with its id; every
// problem comes back by path, with its line and column.
func (s *Server) apiCreateArchitecture(c *gin.Context) {
	data, err := io.ReadAll(io.LimitReader(c.Request.Body, maxArchitectureFile+1))
	if err != nil {
		s.fail(c, formReadError(err))
		return
	}
	a, spec, err := s.saveArchitectureFile(c, data, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/architectures/"+a.ID)
	c.JSON(http.StatusCreated, apiArchitecture{ID: a.ID, Name: a.Name, URL: "/architectures/" + a.ID, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Architecture: spec})
}

// apiShowArchitecture returns a saved architecture.
func (s *Server) apiShowArchitecture(c *gin.Context) {
	a, spec, err := s.loadArchitecture(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiArchitecture{ID: a.ID, Name: a.Name, URL: "/architectures/" + a.ID, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Architecture: spec})
}

// saveArchitectureFile validates an architecture file and stores it; its
// problems come back as one 422 error with each under its path (prefixed,
// for a file nested in a larger request).
func (s *Server) saveArchitectureFile(c *gin.Context, data []byte, prefix string) (store.Architecture, simulator.Spec, error) {
	spec, err := simulator.Load(data, s.catalog)
	var problems simulator.Problems
	if errors.As(err, &problems) {
		fields := map[string]string{}
		for _, p := range problems {
			key := prefix + p.Path
			if p.Path == "" {
				key = prefix + "file"
			}
			if prev, ok := fields[key]; ok {
				fields[key] = prev + "; " + p.String()
			} else {
				fields[key] = p.String()
			}
		}
		return store.Architecture{}, spec, &Error{Status: http.StatusUnprocessableEntity, Message: "The architecture has problems; each is listed under fields by its path.", Fields: fields}
	}
	if err != nil {
		return store.Architecture{}, spec, err
	}
	a, err := s.storeSpec(c, "", spec)
	return a, spec, err
}
