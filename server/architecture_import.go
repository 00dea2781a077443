package server

import (
	"errors"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"gatewise/simulator"
)

// maxArchitectureFile matches the largest file simulator.Parse accepts.
const maxArchitectureFile = 1 << 20

// importArchitecture stores an uploaded YAML or JSON architecture file, or
// shows the list again with every problem by path, line and column.
func (s *Server) importArchitecture(c *gin.Context) {
	fh, err := c.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(c, err)
			return
		}
		s.importFailed(c, "", "Choose a YAML or JSON architecture file to import.", nil)
		return
	}
	name := path.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
	if fh.Size > maxArchitectureFile {
		s.importFailed(c, name, "The file is larger than 1 MiB; an architecture file is a few kilobytes.", nil)
		return
	}
	f, err := fh.Open()
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxArchitectureFile+1))
	if err != nil {
		s.fail(c, err)
		return
	}
	spec, err := simulator.Load(data, s.catalog)
	if err != nil {
		var problems simulator.Problems
		if !errors.As(err, &problems) {
			s.fail(c, err)
			return
		}
		var lines []string
		for _, p := range problems {
			lines = append(lines, p.String())
		}
		s.importFailed(c, name, "The file was not imported: fix these problems and try again.", lines)
		return
	}
	a, err := s.storeSpec(c, "", spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/architectures/"+a.ID)
}

func (s *Server) importFailed(c *gin.Context, name, msg string, problems []string) {
	view, err := s.architectureListPage(c, 1)
	if err != nil {
		s.fail(c, err)
		return
	}
	view.ImportName = name
	view.ImportError = msg
	view.Problems = problems
	s.render(c, http.StatusUnprocessableEntity, "architecture_list", view)
}
