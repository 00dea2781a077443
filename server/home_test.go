package server

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatewise/server/store"
)

// The home page offers every bundled example by its own name and lists
// the recent runs, a finished one with what its memo chose.
func TestHomeListsExamplesAndRecentRuns(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)

	empty := do(t, h, "GET", "/", nil, nil)
	wantStatus(t, empty, http.StatusOK)
	wantBody(t, empty,
		`<a href="/architectures/new?example=eu-regulated">Clinical notes assistant, EU only</a> <span class="muted">· azure-openai, aws-bedrock, mistral, google-vertex · 2 routes · 60,000 requests a day</span>`,
		`<a href="/architectures/new?example=multi-region">Support assistant, 5 providers, 3 regions</a> <span class="muted">· openai, anthropic, aws-bedrock, google-vertex, mistral · 3 routes · 400,000 requests a day</span>`,
		`<a href="/architectures/new?example=single-provider">Internal helpdesk bot, one provider</a> <span class="muted">· openai · 2 routes · 2,000 requests a day</span>`,
		`<h2 id="recent-runs">Recent runs</h2>`, `No runs yet: try an example above`)

	startRunner(t, s)
	id := create(t, h, loadExample(t, "single-provider"))
	rec := postForm(t, h, "/architectures/"+id+"/runs", url.Values{"trials": {"60"}})
	wantStatus(t, rec, http.StatusSeeOther)
	m := runLocation.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("Location %q", rec.Header().Get("Location"))
	}
	run := waitFor(t, s, m[1], store.RunDone, store.RunFailed)
	if run.Status != store.RunDone {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}

	page := do(t, h, "GET", "/", nil, nil)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `<li><a href="/runs/`+run.ID+`">Internal helpdesk bot, one provider</a> <span class="muted">· <time datetime="`+
		run.CreatedAt.Format(time.RFC3339)+`">`+run.CreatedAt.Format("2006-01-02 15:04 UTC")+`</time> ·</span> <span class="status-done">done</span> <span class="muted">·</span> chose <strong>direct</strong> <span class="muted">· synthetic traffic</span></li>`,
		`<a href="/runs">All runs</a>`, `<a href="/architectures/`+id+`">Internal helpdesk bot, one provider</a>`)
	if strings.Contains(page.Body.String(), "No runs yet") {
		t.Error("the home page says there are no runs after one finished")
	}
}

// Each user's home page lists only their own runs; a queued one shows no
// choice yet.
func TestHomeRunsAreTheUsers(t *testing.T) {
	t.Parallel()
	_, h := newAuthServer(t, nil)
	alice, bob := signIn(t, h, "alice"), signIn(t, h, "bob")
	arch := create(t, withSession(h, alice), loadExample(t, "single-provider"))
	rec := do(t, h, "POST", "/architectures/"+arch+"/runs", strings.NewReader("trials=20"), as(alice, formHeader))
	wantStatus(t, rec, http.StatusSeeOther)
	run := runLocation.FindStringSubmatch(rec.Header().Get("Location"))[1]

	page := do(t, h, "GET", "/", nil, alice)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `<h2 id="recent-runs">Your recent runs</h2>`,
		`<a href="/runs/`+run+`">Internal helpdesk bot, one provider</a>`, `<span class="status-queued">queued</span></li>`)
	page = do(t, h, "GET", "/", nil, bob)
	wantStatus(t, page, http.StatusOK)
	if strings.Contains(page.Body.String(), run) || strings.Contains(page.Body.String(), "/architectures/"+arch) {
		t.Errorf("bob's home page lists alice's run %s or architecture %s", run, arch)
	}
	wantBody(t, page, "No runs yet")
}

var iconLink = regexp.MustCompile(`<link rel="icon" href="(/static/[0-9a-f]+/favicon\.svg)" type="image/svg\+xml">`)

// Every page links the icon, which answers 200, and /favicon.ico (what
// browsers ask for when a page links none) answers with the same icon,
// so no visit logs a 404 for it.
func TestHomeAndEveryPageLinkAnIcon(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	var icon string
	for _, p := range []string{"/", "/architectures", "/architectures/new", "/architectures/" + id, "/runs", "/catalog", "/catalog/prices", "/no/such/page"} {
		rec := do(t, h, "GET", p, nil, nil)
		m := iconLink.FindStringSubmatch(rec.Body.String())
		if m == nil {
			t.Errorf("GET %s (%d) links no icon", p, rec.Code)
			continue
		}
		icon = m[1]
	}
	if icon == "" {
		t.Fatal("no page links an icon")
	}
	linked := do(t, h, "GET", icon, nil, nil)
	wantStatus(t, linked, http.StatusOK)
	if ct := linked.Header().Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("%s: Content-Type %q", icon, ct)
	}
	wantBody(t, linked, `<svg xmlns="http://www.w3.org/2000/svg"`)
	fav := do(t, h, "GET", "/favicon.ico", nil, nil)
	wantStatus(t, fav, http.StatusOK)
	if fav.Header().Get("Content-Type") != "image/svg+xml" || fav.Body.String() != linked.Body.String() {
		t.Errorf("/favicon.ico: %q, %d bytes; want the linked icon", fav.Header().Get("Content-Type"), fav.Body.Len())
	}
}
