package server

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// downloadArchitecture sends the architecture file; importing it or passing
// it to `gatewise check` gives back the same architecture.
func (s *Server) downloadArchitecture(c *gin.Context) {
	a, spec, err := s.loadArchitecture(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	data, err := spec.YAML()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+slug(a.Name)+`.yaml"`)
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", data)
}

// slug makes a safe file name from an architecture's name.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "architecture"
	}
	return out
}
