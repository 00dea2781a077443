package server

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"gatewise/server/store"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// showArchitecture lists a saved architecture's settings.
func (s *Server) showArchitecture(c *gin.Context) {
	a, spec, err := s.loadArchitecture(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	page := ArchitectureShowPage{
		Layout:    Layout{Title: a.Name, Nav: "architectures", Version: s.cfg.Version},
		ID:        a.ID,
		Spec:      spec,
		CreatedAt: a.CreatedAt,
		UpdatedAt: a.UpdatedAt,
		Overrides: advancedYAML(spec),
		Formats:   traffic.FormatNames(),
	}
	// The file's scenarios, ticked, by the labels results will show; then
	// the named scenarios it lacks, with their defaults.
	for i, label := range simulator.ScenarioLabels(spec.Scenarios) {
		ch := Choice{Value: label, Checked: true}
		if p := spec.Scenarios[i].Params(); p != "" && label == spec.Scenarios[i].Name {
			ch.Hint = p
		}
		page.RunScenarios = append(page.RunScenarios, ch)
	}
	for _, name := range simulator.ScenarioNames() {
		if !slices.ContainsFunc(spec.Scenarios, func(sc simulator.Scenario) bool { return sc.Name == name }) {
			page.RunScenarios = append(page.RunScenarios, Choice{Value: name})
		}
	}
	for _, g := range simulator.GatewayIDs() {
		page.RunGateways = append(page.RunGateways, Choice{Value: g, Checked: slices.Contains(spec.Gateways, g)})
	}
	for _, origin := range slices.Sorted(maps.Keys(spec.Traffic.Origin)) {
		served := "anywhere"
		if to, ok := spec.Compliance.DataResidency[origin]; ok {
			served = "only in " + to
		}
		page.Origins = append(page.Origins, OriginRow{Origin: origin, Share: spec.Traffic.Origin[origin], ServedIn: served})
	}
	page.Base = "/architectures/" + a.ID
	if sh, ok := sharedVia(c); ok {
		page.Base, page.ReadOnly = "/s/"+sh.Token, true
		s.render(c, http.StatusOK, "architecture_show", page) // no uploads, runs or price files: those are the owner's
		return
	}
	if page.Shares, err = s.shareViews(c, store.ShareArchitecture, a.ID); err != nil {
		s.fail(c, err)
		return
	}
	uploads, err := s.store.ListUploads(c.Request.Context(), a.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, u := range uploads {
		var sum traffic.Summary
		_ = json.Unmarshal(u.Summary, &sum) // a summary that does not decode lists without its count
		page.Uploads = append(page.Uploads, UploadItem{ID: u.ID, Name: u.Name, Requests: sum.Requests, CreatedAt: u.CreatedAt,
			Waiting: u.Status == store.UploadMapping, RawKept: u.RawBytes > 0})
	}
	if page.PriceFiles, err = s.store.ListPriceFiles(c.Request.Context()); err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "architecture_show", page)
}
