package server

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
	"gatewise/simulator"
)

const architecturesPerPage = 50

// listArchitectures shows saved architectures, newest first.
func (s *Server) listArchitectures(c *gin.Context) {
	page, _ := strconv.Atoi(c.Query("page"))
	if page < 1 || page > 1_000_000 {
		page = 1
	}
	view, err := s.architectureListPage(c, page)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "architecture_list", view)
}

func (s *Server) architectureListPage(c *gin.Context, page int) (ArchitectureListPage, error) {
	ctx := c.Request.Context()
	items, err := s.store.ListArchitectures(ctx, architecturesPerPage, (page-1)*architecturesPerPage)
	if err != nil {
		return ArchitectureListPage{}, err
	}
	total, err := s.store.CountArchitectures(ctx)
	if err != nil {
		return ArchitectureListPage{}, err
	}
	view := ArchitectureListPage{
		Layout:  Layout{Title: "Architectures", Nav: "architectures", Version: s.cfg.Version},
		Total:   total,
		Page:    page,
		HasPrev: page > 1,
		HasNext: int64(page*architecturesPerPage) < total,
	}
	for _, a := range items {
		view.Items = append(view.Items, s.architectureItem(a))
	}
	return view, nil
}

// architectureItem summarises a stored architecture for lists. A spec that
// no longer decodes still lists by name, so it can be opened and deleted.
func (s *Server) architectureItem(a store.Architecture) ArchitectureItem {
	item := ArchitectureItem{ID: a.ID, Name: a.Name, UpdatedAt: a.UpdatedAt}
	var spec simulator.Spec
	if err := json.Unmarshal(a.Spec, &spec); err == nil {
		item.Providers = len(spec.Providers)
		item.Routes = len(spec.Routes)
		item.Requests = spec.Traffic.RequestsPerDay
	}
	return item
}
