package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"gatewise/server/store"
)

// aliceWorld is everything alice made on a team deployment.
type aliceWorld struct {
	arch, upload, waiting, run, priceFile, runShare, archShare string
}

// makeAliceWorld signs alice in and has her make an architecture, a ready
// upload, an upload waiting for its mapping, a finished run, a kept price
// file, and share links to the run and the architecture.
func makeAliceWorld(t *testing.T, s *Server, h http.Handler, alice http.Header) aliceWorld {
	t.Helper()
	var w aliceWorld
	ah := withSession(h, alice)
	w.arch = create(t, ah, loadExample(t, "single-provider"))

	body, ctype := multipartBody(t, map[string]string{"map": logMap}, logCSV())
	rec := do(t, h, "POST", "/architectures/"+w.arch+"/uploads", body, as(alice, http.Header{"Content-Type": {ctype}}))
	wantStatus(t, rec, http.StatusSeeOther)
	w.upload = strings.TrimPrefix(rec.Header().Get("Location"), "/uploads/")
	body, ctype = multipartBody(t, nil, oddCSV())
	wantStatus(t, do(t, h, "POST", "/architectures/"+w.arch+"/uploads", body, as(alice, http.Header{"Content-Type": {ctype}})), http.StatusUnprocessableEntity)
	ups, _ := s.store.ListUploads(store.AsOwner(t.Context(), "alice"), w.arch)
	for _, u := range ups {
		if u.Status == store.UploadMapping {
			w.waiting = u.ID
		}
	}

	rec = do(t, h, "POST", "/architectures/"+w.arch+"/runs", strings.NewReader("trials=20"), as(alice, formHeader))
	wantStatus(t, rec, http.StatusSeeOther)
	w.run = runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1]
	if run := waitFor(t, s, w.run, store.RunDone, store.RunFailed); run.Status != store.RunDone {
		t.Fatalf("alice's run: %+v", run)
	}

	file := `{"gpt-4.1-mini": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-06, "output_cost_per_token": 1.6e-05}}`
	pb, phdr := priceFileForm(t, "mine.json", []byte(file), "5", true)
	rec = do(t, h, "POST", "/catalog/prices", pb, as(alice, phdr))
	wantStatus(t, rec, http.StatusOK)
	w.priceFile = regexp.MustCompile(`Kept as price file <code>([a-z2-7]{12})</code>`).FindStringSubmatch(rec.Body.String())[1]

	share := regexp.MustCompile(`/s/([A-Za-z0-9_-]{43})`)
	wantStatus(t, do(t, h, "POST", "/runs/"+w.run+"/shares", nil, alice), http.StatusSeeOther)
	w.runShare = share.FindStringSubmatch(do(t, h, "GET", "/runs/"+w.run, nil, alice).Body.String())[1]
	wantStatus(t, do(t, h, "POST", "/architectures/"+w.arch+"/shares", nil, alice), http.StatusSeeOther)
	w.archShare = share.FindStringSubmatch(do(t, h, "GET", "/architectures/"+w.arch, nil, alice).Body.String())[1]
	return w
}

// Another user gets 404 from every endpoint that names one of alice's
// things, and lists none of them; the routes are checked against the table
// so a new endpoint cannot skip it.
func TestEveryEndpointAsAnotherUser(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, nil)
	startRunner(t, s)
	alice, bob := signIn(t, h, "alice"), signIn(t, h, "bob")
	w := makeAliceWorld(t, s, h, alice)
	bobArch := create(t, withSession(h, bob), loadExample(t, "single-provider"))

	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	upBody := func(fields map[string]string) (string, http.Header) {
		b, ctype := multipartBody(t, fields, logCSV())
		return b.String(), http.Header{"Content-Type": {ctype}}
	}
	archUpload, archUploadHdr := upBody(nil)
	apiUpload, apiUploadHdr := upBody(map[string]string{"architecture_id": w.arch, "map": logMap})
	type req struct {
		method, route, path, body string
		header                    http.Header
	}
	reqs := []req{
		{"GET", "/architectures/:id", "/architectures/" + w.arch, "", nil},
		{"POST", "/architectures/:id", "/architectures/" + w.arch, formValues(formFromSpec(loadExample(t, "single-provider"))).Encode(), formHeader},
		{"GET", "/architectures/:id/edit", "/architectures/" + w.arch + "/edit", "", nil},
		{"GET", "/architectures/:id/delete", "/architectures/" + w.arch + "/delete", "", nil},
		{"POST", "/architectures/:id/delete", "/architectures/" + w.arch + "/delete", "", formHeader},
		{"GET", "/architectures/:id/download", "/architectures/" + w.arch + "/download", "", nil},
		{"POST", "/architectures/:id/runs", "/architectures/" + w.arch + "/runs", "trials=10", formHeader},
		{"POST", "/architectures/:id/uploads", "/architectures/" + w.arch + "/uploads", archUpload, archUploadHdr},
		{"POST", "/architectures/:id/shares", "/architectures/" + w.arch + "/shares", "", formHeader},
		{"GET", "/architectures/new", "/architectures/new?from=" + w.arch, "", nil},
		{"GET", "/uploads/:id", "/uploads/" + w.upload, "", nil},
		{"GET", "/uploads/:id/map", "/uploads/" + w.waiting + "/map", "", nil},
		{"POST", "/uploads/:id/map", "/uploads/" + w.waiting + "/map", mapForm("save").Encode(), formHeader},
		{"POST", "/uploads/:id/discard", "/uploads/" + w.waiting + "/discard", "", formHeader},
		{"POST", "/uploads/:id/raw/delete", "/uploads/" + w.upload + "/raw/delete", "", formHeader},
		{"POST", "/uploads/:id/reread", "/uploads/" + w.upload + "/reread", "", formHeader},
		{"GET", "/runs/:id", "/runs/" + w.run, "", nil},
		{"GET", "/runs/:id/events", "/runs/" + w.run + "/events", "", nil},
		{"POST", "/runs/:id/cancel", "/runs/" + w.run + "/cancel", "", formHeader},
		{"POST", "/runs/:id/restart", "/runs/" + w.run + "/restart", "", formHeader},
		{"GET", "/runs/:id/memo.md", "/runs/" + w.run + "/memo.md", "", nil},
		{"GET", "/runs/:id/memo.html", "/runs/" + w.run + "/memo.html", "", nil},
		{"GET", "/runs/:id/memo.pdf", "/runs/" + w.run + "/memo.pdf", "", nil},
		{"GET", "/runs/:id/rollout.zip", "/runs/" + w.run + "/rollout.zip", "", nil},
		{"GET", "/runs/:id/result.json", "/runs/" + w.run + "/result.json", "", nil},
		{"GET", "/runs/:id/result.csv", "/runs/" + w.run + "/result.csv", "", nil},
		{"POST", "/runs/:id/shares", "/runs/" + w.run + "/shares", "", formHeader},
		{"GET", "/runs/compare", "/runs/compare?a=" + w.run + "&b=" + w.run, "", nil},
		{"POST", "/shares/:token/revoke", "/shares/" + w.runShare + "/revoke", "", formHeader},
		{"GET", "/api/v1/architectures/:id", "/api/v1/architectures/" + w.arch, "", nil},
		{"POST", "/api/v1/uploads", "/api/v1/uploads", apiUpload, apiUploadHdr},
		{"POST", "/uploads/:id/logs", "/uploads/" + w.upload + "/logs", archUpload, archUploadHdr},
		{"POST", "/uploads/:id/logs/:n/overlap", "/uploads/" + w.upload + "/logs/2/overlap", "overlap=drop", formHeader},
		{"GET", "/api/v1/uploads/:id", "/api/v1/uploads/" + w.upload, "", nil},
		{"POST", "/api/v1/uploads/:id/logs", "/api/v1/uploads/" + w.upload + "/logs", archUpload, archUploadHdr},
		{"PATCH", "/api/v1/uploads/:id/logs/:n", "/api/v1/uploads/" + w.upload + "/logs/2", `{"overlap": "drop"}`, jsonHdr},
		{"POST", "/api/v1/runs", "/api/v1/runs", `{"architecture_id": "` + w.arch + `"}`, jsonHdr},
		{"GET", "/api/v1/runs/:id", "/api/v1/runs/" + w.run, "", nil},
		{"DELETE", "/api/v1/runs/:id", "/api/v1/runs/" + w.run, "", nil},
		{"GET", "/api/v1/runs/:id/memo.md", "/api/v1/runs/" + w.run + "/memo.md", "", nil},
		{"GET", "/api/v1/runs/:id/memo.html", "/api/v1/runs/" + w.run + "/memo.html", "", nil},
		{"GET", "/api/v1/runs/:id/memo.pdf", "/api/v1/runs/" + w.run + "/memo.pdf", "", nil},
		{"GET", "/api/v1/runs/:id/rollout.zip", "/api/v1/runs/" + w.run + "/rollout.zip", "", nil},
	}
	covered := map[string]bool{}
	for _, r := range reqs {
		covered[r.method+" "+r.route] = true
		rec := do(t, h, r.method, r.path, strings.NewReader(r.body), as(bob, r.header))
		if rec.Code != http.StatusNotFound {
			t.Errorf("bob %s %s: status %d, want 404\n%.300s", r.method, r.path, rec.Code, rec.Body)
		}
	}
	// Bob's own architecture with alice's upload or price file: refused
	// the same as ids that do not exist.
	for _, body := range []string{
		`{"architecture_id": "` + bobArch + `", "upload_id": "` + w.upload + `"}`,
		`{"architecture_id": "` + bobArch + `", "price_file_id": "` + w.priceFile + `"}`,
	} {
		rec := do(t, h, "POST", "/api/v1/runs", strings.NewReader(body), as(bob, jsonHdr))
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("bob runs with %s: %d, want 422", body, rec.Code)
		}
	}
	// Lists show bob only his own.
	for _, path := range []string{"/architectures", "/runs", "/", "/architectures/" + bobArch, "/catalog/prices"} {
		body := do(t, h, "GET", path, nil, bob).Body.String()
		for _, id := range []string{w.arch, w.run, w.upload, w.priceFile, "spend.csv", "mine.json"} {
			if strings.Contains(body, id) {
				t.Errorf("bob's %s shows alice's %s", path, id)
			}
		}
	}
	// Nothing of alice's changed.
	if run, err := s.store.Run(t.Context(), w.run); err != nil || run.Status != store.RunDone {
		t.Errorf("alice's run after bob: %+v, %v", run, err)
	}
	if _, err := s.store.Architecture(t.Context(), w.arch); err != nil {
		t.Errorf("alice's architecture after bob: %v", err)
	}
	if _, err := s.store.Upload(t.Context(), w.waiting); err != nil {
		t.Errorf("alice's waiting upload after bob: %v", err)
	}

	// Every route naming an id or token is in the table above, or public by
	// design (share links are read by anyone with the token).
	public := map[string]bool{"GET /s/:token": true, "GET /s/:token/download": true, "GET /s/:token/memo.md": true,
		"GET /s/:token/memo.html": true, "GET /s/:token/memo.pdf": true, "GET /s/:token/rollout.zip": true,
		"GET /s/:token/result.json": true, "GET /s/:token/result.csv": true, "GET /static/:hash/*file": true}
	for _, r := range s.routes() {
		key := r.Method + " " + r.Path
		if strings.Contains(r.Path, ":") && !covered[key] && !public[key] {
			t.Errorf("%s is not checked as another user", key)
		}
	}
}

// A share link shows its run or architecture, read-only, to anyone with
// it, signed in or not, until its owner revokes it; the owner's own links
// are listed on the page.
func TestShareLinks(t *testing.T) {
	t.Parallel()
	s, h := newAuthServer(t, nil)
	startRunner(t, s)
	alice, bob := signIn(t, h, "alice"), signIn(t, h, "bob")
	w := makeAliceWorld(t, s, h, alice)

	page := do(t, h, "GET", "/runs/"+w.run, nil, alice)
	wantBody(t, page, "Share read-only", "http://example.com/s/"+w.runShare, `action="/shares/`+w.runShare+`/revoke"`)

	for _, who := range []http.Header{nil, bob} {
		rec := do(t, h, "GET", "/s/"+w.runShare, nil, who)
		wantStatus(t, rec, http.StatusOK)
		wantBody(t, rec, "Chosen: ", `href="/s/`+w.runShare+`/memo.md"`)
		for _, hidden := range []string{"/cancel", "/restart", "/runs/compare", "Share read-only", "/architectures/" + w.arch, "/runs/" + w.run + "/"} {
			if strings.Contains(rec.Body.String(), hidden) {
				t.Errorf("the shared run page shows %q", hidden)
			}
		}
		if rec.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("a share page may leak its URL as a referrer")
		}
		md := do(t, h, "GET", "/s/"+w.runShare+"/memo.md", nil, who)
		wantStatus(t, md, http.StatusOK)
		wantBody(t, md, "status: proposed")
		for _, f := range []struct{ path, ctype string }{{"/memo.html", "text/html"}, {"/memo.pdf", "application/pdf"}, {"/rollout.zip", "application/zip"}} {
			rec := do(t, h, "GET", "/s/"+w.runShare+f.path, nil, who)
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), f.ctype) {
				t.Errorf("shared %s: %d %s", f.path, rec.Code, rec.Header().Get("Content-Type"))
			}
		}
		var res struct {
			Trials int `json:"trials"`
		}
		if err := json.Unmarshal(do(t, h, "GET", "/s/"+w.runShare+"/result.json", nil, who).Body.Bytes(), &res); err != nil || res.Trials != 20 {
			t.Errorf("shared result: %v %+v", err, res)
		}
		wantStatus(t, do(t, h, "GET", "/s/"+w.runShare+"/result.csv", nil, who), http.StatusOK)
		// A run link opens no architecture download, and the reverse.
		wantStatus(t, do(t, h, "GET", "/s/"+w.runShare+"/download", nil, who), http.StatusNotFound)
		wantStatus(t, do(t, h, "GET", "/s/"+w.archShare+"/memo.md", nil, who), http.StatusNotFound)

		arch := do(t, h, "GET", "/s/"+w.archShare, nil, who)
		wantStatus(t, arch, http.StatusOK)
		wantBody(t, arch, "Internal helpdesk bot", `href="/s/`+w.archShare+`/download"`)
		for _, hidden := range []string{"/edit", "/delete", "/uploads", "Run the simulation", "spend.csv", "mine.json"} {
			if strings.Contains(arch.Body.String(), hidden) {
				t.Errorf("the shared architecture page shows %q", hidden)
			}
		}
		dl := do(t, h, "GET", "/s/"+w.archShare+"/download", nil, who)
		wantStatus(t, dl, http.StatusOK)
		wantBody(t, dl, "name: Internal helpdesk bot")
	}
	wantStatus(t, do(t, h, "GET", "/s/not-a-token", nil, nil), http.StatusNotFound)

	// Revoked: gone for everyone.
	wantStatus(t, do(t, h, "POST", "/shares/"+w.runShare+"/revoke", nil, alice), http.StatusSeeOther)
	wantStatus(t, do(t, h, "GET", "/s/"+w.runShare, nil, nil), http.StatusNotFound)
	wantStatus(t, do(t, h, "GET", "/s/"+w.runShare+"/memo.md", nil, bob), http.StatusNotFound)
	if strings.Contains(do(t, h, "GET", "/runs/"+w.run, nil, alice).Body.String(), w.runShare) {
		t.Error("a revoked link is still listed")
	}
}
