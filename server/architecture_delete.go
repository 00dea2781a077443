package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// showDeleteArchitecture asks before deleting, so no GET ever deletes.
func (s *Server) showDeleteArchitecture(c *gin.Context) {
	a, err := s.store.Architecture(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "architecture_delete", ArchitectureDeletePage{
		Layout: Layout{Title: "Delete " + a.Name, Nav: "architectures", Version: s.cfg.Version},
		ID:     a.ID,
		Name:   a.Name,
	})
}

// deleteArchitecture deletes and returns to the list.
func (s *Server) deleteArchitecture(c *gin.Context) {
	if err := s.store.DeleteArchitecture(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	s.sweepUploads(c.Request.Context()) // the uploads went with it; their kept logs go too
	c.Redirect(http.StatusSeeOther, "/architectures")
}
