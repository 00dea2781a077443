package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// showHome says what gatewise does and offers the two ways to start.
func (s *Server) showHome(c *gin.Context) {
	recent, err := s.store.ListArchitectures(c.Request.Context(), 5, 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	page := HomePage{Layout: Layout{Title: "Which AI gateway, if any?", Nav: "home", Version: s.cfg.Version}}
	for _, a := range recent {
		page.Recent = append(page.Recent, s.architectureItem(a))
	}
	s.render(c, http.StatusOK, "home", page)
}
