package server

import (
	"net/http"
	"net/url"
	"testing"

	"gatewise/server/store"
)

// BenchmarkRunPage renders the finished page of the example run (the
// multi-region architecture at its default 10,000 trials): memo HTML, the
// four SVG charts and the per-scenario tables, all server-side. The aim in
// issue 7 is under 50 ms.
func BenchmarkRunPage(b *testing.B) {
	s, h := newTestServer(b)
	startRunner(b, s)
	id := create(b, h, loadExample(b, "multi-region"))
	rec := postForm(b, h, "/architectures/"+id+"/runs", url.Values{})
	wantStatus(b, rec, http.StatusSeeOther)
	run := runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1]
	if r := waitFor(b, s, run, store.RunDone, store.RunFailed); r.Status != store.RunDone {
		b.Fatalf("run = %+v", r)
	}
	for b.Loop() {
		rec := do(b, h, http.MethodGet, "/runs/"+run, nil, nil)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
