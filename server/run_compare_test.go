package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatewise/server/store"
	"gatewise/simulator"
)

// runArchitecture starts a run of an architecture from its page and waits for it.
func runArchitecture(t *testing.T, s *Server, h http.Handler, id string) string {
	t.Helper()
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}})
	wantStatus(t, rec, http.StatusSeeOther)
	m := runLocation.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("Location %q", rec.Header().Get("Location"))
	}
	if run := waitFor(t, s, m[1], store.RunDone, store.RunFailed); run.Status != store.RunDone {
		t.Fatalf("run = %+v", run)
	}
	return m[1]
}

// A user doubles the traffic, runs again, and compares the two runs.
func TestCompareRuns(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	startRunner(t, s)
	spec := loadExample(t, "single-provider")
	a := runArchitecture(t, s, h, create(t, h, spec))
	spec.Name += " (double traffic)"
	spec.Traffic.RequestsPerDay *= 2
	b := runArchitecture(t, s, h, create(t, h, spec))

	wantBody(t, do(t, h, "GET", "/runs/"+a, nil, nil), `href="/runs/compare?a=`+a+`"`)

	pick := do(t, h, "GET", "/runs/compare?a="+a, nil, nil)
	wantStatus(t, pick, http.StatusOK)
	wantBody(t, pick, `<option value="`+b+`">`)

	page := do(t, h, "GET", "/runs/compare?a="+a+"&b="+b, nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page,
		"What changed in the inputs", "How the answer moved",
		`<tr class="changed"><td><code>  requests_per_day: 2000</code></td><td><code>  requests_per_day: 4000</code>`,
		"Chosen: direct",
		"&#43;$", // doubling traffic raises every option's cost (html/template escapes +)
	)
}

// The more common way: a user edits the architecture and runs it again.
// Each run keeps the architecture it simulated, so the comparison shows
// the edit, the first run's page says the architecture changed since, and
// a run queued before an edit simulates what was queued.
func TestRunsKeepTheArchitectureTheyRan(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	spec := loadExample(t, "single-provider")
	id := create(t, h, spec)
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}})
	queued := runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1] // no runner yet: it waits

	edited := spec
	edited.Traffic.RequestsPerDay *= 2
	edited.Gateways = []string{"direct", "portkey"}
	wantStatus(t, postForm(t, h, "/architectures/"+id, formValues(formFromSpec(edited))), http.StatusSeeOther)
	startRunner(t, s)
	a := waitFor(t, s, queued, store.RunDone, store.RunFailed)
	if a.Status != store.RunDone {
		t.Fatalf("run = %+v", a)
	}
	var res simulator.Result
	if err := json.Unmarshal(a.Result, &res); err != nil {
		t.Fatal(err)
	}
	gateways := map[string]bool{}
	for _, r := range res.Results {
		gateways[r.Gateway] = true
	}
	if len(gateways) != len(spec.Gateways) {
		t.Errorf("the run queued before the edit compared %d options, want the %d it was queued with", len(gateways), len(spec.Gateways))
	}
	b := runArchitecture(t, s, h, id)

	wantBody(t, do(t, h, "GET", "/runs/"+queued, nil, nil), "edited since this run")
	if page := do(t, h, "GET", "/runs/"+b, nil, nil); strings.Contains(page.Body.String(), "edited since this run") {
		t.Error("the latest run's page says the architecture was edited since")
	}
	page := do(t, h, "GET", "/runs/compare?a="+queued+"&b="+b, nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `<tr class="changed"><td><code>  requests_per_day: 2000</code></td><td><code>  requests_per_day: 4000</code>`)
}

func TestCompareRunsRejects(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"40"}})
	run := runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1] // no runner: stays queued

	for _, c := range []struct {
		target string
		status int
		says   string
	}{
		{"/runs/compare", http.StatusBadRequest, "Name the runs to compare"},
		{"/runs/compare?a=" + run, http.StatusConflict, "has not finished: it is queued"},
		{"/runs/compare?a=aaaaaaaaaaaa", http.StatusNotFound, ""},
	} {
		rec := do(t, h, "GET", c.target, nil, nil)
		wantStatus(t, rec, c.status)
		wantBody(t, rec, c.says)
	}
}
