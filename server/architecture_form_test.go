package server

import (
	"bytes"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gatewise/simulator"
)

var (
	summaryBlock = regexp.MustCompile(`(?s)<div class="problems" role="alert" id="problems"[^>]*>.*?</div>`)
	summaryLink  = regexp.MustCompile(`^<li><a href="#([^"]*)">([^<]*)</a>: ([^<]*)</li>$`)
	summaryLine  = regexp.MustCompile(`<li>(.*?)</li>`)
	elementID    = regexp.MustCompile(`\sid="([^"]*)"`)
	fieldError   = regexp.MustCompile(`<p class="field-error" id="([^"]*)">(.*?)</p>`)
)

// summaryOf returns the error summary's lines as label and message, and fails
// the test for a link whose fragment is no element's id on the page, as a
// browser would resolve it (the fragment percent-decoded).
func summaryOf(t *testing.T, body string) (lines [][2]string) {
	t.Helper()
	block := summaryBlock.FindString(body)
	if block == "" {
		t.Fatalf("no error summary\n%.3000s", body)
	}
	ids := map[string]bool{}
	for _, m := range elementID.FindAllStringSubmatch(body, -1) {
		ids[html.UnescapeString(m[1])] = true
	}
	for _, li := range summaryLine.FindAllStringSubmatch(block, -1) {
		m := summaryLink.FindStringSubmatch(li[0])
		if m == nil { // a problem of the whole file, named by no field
			if strings.Contains(li[1], "<") {
				t.Errorf("summary line %s has markup but no link", li[0])
			}
			lines = append(lines, [2]string{"", html.UnescapeString(li[1])})
			continue
		}
		frag, err := url.PathUnescape(html.UnescapeString(m[1]))
		if err != nil {
			t.Errorf("link %q: %v", m[1], err)
		}
		if !ids[frag] {
			t.Errorf("summary link #%s (%s) goes nowhere: no element has that id", frag, m[2])
		}
		lines = append(lines, [2]string{html.UnescapeString(m[2]), html.UnescapeString(m[3])})
	}
	return lines
}

// summaryAnchors lists the fields the error summary links to, in its order,
// as element ids.
func summaryAnchors(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`<li><a href="#([^"]*)">`).FindAllStringSubmatch(summaryBlock.FindString(body), -1) {
		id, err := url.PathUnescape(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func hasLine(lines [][2]string, label, message string) bool {
	return slices.Contains(lines, [2]string{label, message})
}

// The summary names each field as the form labels it and links to the
// element its message sits beside; nothing in it is a file path.
func TestFormSummaryNamesFieldsAndLinksToThem(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	f := formFromSpec(loadExample(t, "multi-region"))
	f.Providers[2].Regions = "us-east-1, eu-centrl-1"
	f.Routes[0].Models = "claude-sonnet-4.5, gpt-4.1, gemini-2.5-pr"
	f.Routes[2].Name = "chat"
	f.Routes[1].Share = "abc"
	f.Scenarios[1].Provider = "openia"
	f.Origin["ap"] = ""
	f.Residency["ap"] = "eu"
	f.Gateways = map[string]bool{}
	f.Advanced = "gateway_settings:\n  portkey: {num_retries: 9}\n"
	rec := postForm(t, h, "/architectures", formValues(f))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	lines := summaryOf(t, rec.Body.String())
	for _, want := range [][2]string{
		{"Provider 3, region 2", `aws-bedrock has no region "eu-centrl-1" (did you mean "eu-central-1"?)`},
		{"Route 1, model 3", `unknown model "gemini-2.5-pr" (did you mean "gemini-2.5-pro"?)`},
		{"Route 2, share", `must be a number, not "abc"`},
		{"Route 3", `"chat" is already the name of route 1`},
		{"Origin shares", "origin shares add up to 0.9, they must add up to 1"},
		{"Where traffic from ap must be served", `"ap" is not an origin with a share of requests`},
		{"Scenario 2, provider", `"openia" is not one of your providers (did you mean "openai"?)`},
		{"Options to compare", "choose at least one option to compare"},
		{"Advanced overrides", "gateway_settings.portkey.num_retries: Portkey allows at most 5 retry attempts"},
	} {
		if !hasLine(lines, want[0], want[1]) {
			t.Errorf("summary lacks %q: %q\ngot %q", want[0], want[1], lines)
		}
	}
	for _, l := range lines {
		if strings.ContainsAny(l[0], "[]_") || strings.Contains(l[1], "routes[") || strings.Contains(l[1], "providers[") {
			t.Errorf("summary line %q shows a file path", l)
		}
	}
}

// Every problem the form can be given lands beside an element of the page
// (or, for a problem of the whole file, in the summary alone), so no
// summary link is dead and no message is only in the summary by accident.
func TestFormEveryProblemPathHasAPlace(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	form := formFromSpec(loadExample(t, "multi-region"))
	paths := []string{
		"name", "horizon_days", "providers", "providers[0]", "providers[0].id", "providers[1].regions", "providers[4].regions[0]",
		"providers[0].rate_limits", "providers[0].rate_limits.tpm", "providers[9].id", "routes", "routes[1]", "routes[2].models[1]",
		"routes[0].cached_input_share", "traffic", "traffic.requests_per_day", "traffic.logs", "traffic.origin", "traffic.origin.eu",
		"traffic.origin.mars", "compliance.data_residency", "compliance.data_residency.eu", "compliance.data_residency.mars",
		"compliance.hipaa", "priorities", "priorities.cost", "team", "team.seats", "observability_needs", "observability_needs[3]",
		"gateways[2]", "scenarios", "scenarios[0]", "scenarios[1].region", "simulation", "simulation.seed", "advanced",
		"outage_model.providers.openai.incidents_per_month", "gateway_settings.kong", "",
	}
	var problems []simulator.Problem
	for i, p := range paths {
		problems = append(problems, simulator.Problem{Path: p, Message: "problem " + strconv.Itoa(i)})
	}
	page := s.formPage("Edit", "abc", form, problems)
	var buf bytes.Buffer
	if err := s.views.pages["architecture_form"].Execute(&buf, page); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	lines := summaryOf(t, body)
	if len(lines) != len(paths) || lines[len(lines)-1] != [2]string{"", "problem " + strconv.Itoa(len(paths)-1)} {
		t.Errorf("%d summary lines for %d problems, the last %q unlinked", len(lines), len(paths), lines[len(lines)-1])
	}
	beside := map[string]bool{}
	for _, m := range fieldError.FindAllStringSubmatch(body, -1) {
		for _, msg := range strings.Split(m[2], "<br>") {
			beside[html.UnescapeString(msg)] = true
		}
	}
	for i, p := range paths[:len(paths)-1] {
		msg := "problem " + strconv.Itoa(i)
		if strings.HasPrefix(p, "outage_model") || strings.HasPrefix(p, "gateway_settings") {
			msg = p + ": " + msg
		}
		if !beside[msg] {
			t.Errorf("%s: %q is not beside any field", p, msg)
		}
	}
	for path, want := range map[string]string{
		"providers[0].regions[1]":        "Provider 1, region 2",
		"providers[0].rate_limits.rpm":   "Provider 1, requests per minute",
		"routes[2].models[0]":            "Route 3, model 1",
		"routes[0].cached_input_share":   "Route 1, cached input share",
		"scenarios[1].duration_hours":    "Scenario 2, duration",
		"traffic.origin.eu":              "Share of requests from eu",
		"compliance.data_residency.eu":   "Where traffic from eu must be served",
		"gateways[2]":                    "Option 3",
		"outage_model.gateways.portkey":  "Advanced overrides",
		"traffic.requests_per_day":       "Requests per day",
		"something.the.form.never.shows": "something.the.form.never.shows",
	} {
		if got := fieldLabel(path); got != want {
			t.Errorf("fieldLabel(%q) = %q, want %q", path, got, want)
		}
	}
}

// A route with no input tokens used to hide that the route shares do not
// add up to 1 (every route problem silenced the section's sum), so the user
// fixed one, saved, and only then met the other. Both come back at once;
// only a share that cannot be read still holds the sum back, since the sum
// would be wrong.
func TestFormReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	f := formFromSpec(loadExample(t, "multi-region"))
	f.Routes[0].Share = "0.5"
	f.Routes[1].InputTokens = ""
	f.PriorityCost = "0.5"
	f.Origin["ap"] = "x"
	rec := postForm(t, h, "/architectures", formValues(f))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	got := summaryOf(t, rec.Body.String())
	want := [][2]string{
		{"Routes", "route shares add up to 0.9, they must add up to 1"},
		{"Route 2, input tokens", "is required"},
		{"Share of requests from ap", `must be a number, not "x"`},
		{"Priorities", "the weights add up to 1.2, they must add up to 1"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("summary:\n got %q\nwant %q", got, want)
	}

	f.Routes[1].Share = "abc"
	rec = postForm(t, h, "/architectures", formValues(f))
	got = summaryOf(t, rec.Body.String())
	if hasLine(got, "Routes", "route shares add up to 0.6, they must add up to 1") || !hasLine(got, "Route 2, share", `must be a number, not "abc"`) {
		t.Errorf("with a share that cannot be read, the summary is %q", got)
	}
}

// After a failed save the summary is the one live region, takes focus
// (form.js, tabindex=-1) and each field's message is tied to its input by
// aria-describedby.
func TestFormFailedSaveAnnouncesOnlyTheSummary(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	f := formFromSpec(loadExample(t, "multi-region"))
	f.Routes[1].Share = "abc"
	f.Providers[0].RPM = "many"
	f.Trials = "0"
	rec := postForm(t, h, "/architectures", formValues(f))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	body := rec.Body.String()
	if n := strings.Count(body, `role="alert"`); n != 1 {
		t.Errorf("%d role=alert on the page, want 1 (the summary)", n)
	}
	wantBody(t, rec, `<div class="problems" role="alert" id="problems" tabindex="-1"`, `/form.js" defer></script>`)
	for _, c := range []struct{ field, message string }{
		{"routes[1].share", `must be a number, not &#34;abc&#34;`},
		{"providers[0].rate_limits.rpm", `must be a whole number, not &#34;many&#34;`},
		{"simulation.trials", `must be at least 1`},
	} {
		input := regexp.MustCompile(`<input id="` + regexp.QuoteMeta(c.field) + `"[^>]*>`).FindString(body)
		m := regexp.MustCompile(`aria-describedby="([^"]*)"`).FindStringSubmatch(input)
		if m == nil || !strings.Contains(input, `aria-invalid="true"`) {
			t.Errorf("%s: input %s is not marked invalid and described", c.field, input)
			continue
		}
		found := false
		for _, id := range strings.Fields(m[1]) {
			if strings.Contains(body, `<p class="field-error" id="`+id+`">`+c.message+`</p>`) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: aria-describedby %q names no element with %q", c.field, m[1], c.message)
		}
	}

	// A form without problems announces nothing and loads no script.
	rec = do(t, h, "GET", "/architectures/new", nil, nil)
	if strings.Contains(rec.Body.String(), `role="alert"`) || strings.Contains(rec.Body.String(), "form.js") {
		t.Error("the blank form has a live region or the focus script")
	}
	if rec := do(t, h, "GET", "/static/x/form.js", nil, nil); rec.Code != http.StatusNotFound {
		t.Errorf("an unhashed static path answers %d", rec.Code)
	}
}

// The blank form starts with a volume that validates, so leaving it as is
// never shows a problem the user did not make.
func TestBlankFormHasAValidVolume(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	f := blankForm()
	if f.RequestsPerDay != "100000" {
		t.Errorf("blank requests per day = %q, want 100000", f.RequestsPerDay)
	}
	f.Name = "Helpdesk"
	f.Providers = []ProviderRow{{ID: "openai", Regions: "us"}}
	f.Routes = []RouteRow{{Name: "answer", Share: "1", Models: "gpt-4.1-mini", InputTokens: "1200", OutputTokens: "300"}}
	rec := postForm(t, h, "/architectures", formValues(f))
	wantStatus(t, rec, http.StatusSeeOther)
	id := locationID.FindStringSubmatch(rec.Header().Get("Location"))[1]
	wantBody(t, do(t, h, "GET", "/architectures/"+id, nil, nil), "100,000 requests a day")

	rec = do(t, h, "GET", "/architectures/new", nil, nil)
	wantBody(t, rec, `name="traffic.requests_per_day" value="100000"`)
}

func TestNavMarksTheCurrentPage(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	id := create(t, h, loadExample(t, "single-provider"))
	const (
		archCurrent = `<a href="/architectures" aria-current="page">Architectures</a>`
		newCurrent  = `<a href="/architectures/new" aria-current="page">New architecture</a>`
	)
	for target, want := range map[string]string{
		"/architectures/new":                         newCurrent,
		"/architectures/new?example=multi-region":    newCurrent,
		"/architectures/new?from=" + id:              newCurrent,
		"/architectures/" + id + "/edit":             archCurrent,
		"/architectures":                             archCurrent,
		"/architectures/" + id:                       archCurrent,
		"/architectures/new?example=eu-regulated&x=": newCurrent,
	} {
		body := do(t, h, "GET", target, nil, nil).Body.String()
		if !strings.Contains(body, want) || strings.Count(body, `aria-current="page"`) != 1 {
			t.Errorf("%s: want only %s current", target, want)
		}
	}
	// A failed save of a new architecture is still the new-architecture page.
	rec := postForm(t, h, "/architectures", url.Values{"name": {"x"}})
	wantBody(t, rec, newCurrent)
}

var (
	formInput    = regexp.MustCompile(`<input ([^>]*)>`)
	formSelect   = regexp.MustCompile(`(?s)<select id="[^"]*" name="([^"]*)"[^>]*>(.*?)</select>`)
	formTextarea = regexp.MustCompile(`(?s)<textarea id="[^"]*" name="([^"]*)"[^>]*>(.*?)</textarea>`)
	formAttr     = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
	formOption   = regexp.MustCompile(`<option value="([^"]*)"( selected)?>`)
)

// submitted is what a browser posts for a rendered form left as it is:
// every named input, ticked checkboxes, each select's chosen option and the
// textareas, and the save button.
func submitted(t *testing.T, page string) url.Values {
	t.Helper()
	start := strings.Index(page, `<form method="post" action="/architectures`)
	end := strings.Index(page[start:], "</form>")
	form := page[start : start+end]
	v := url.Values{"action": {"save"}}
	for _, m := range formInput.FindAllStringSubmatch(form, -1) {
		attrs := map[string]string{}
		for _, a := range formAttr.FindAllStringSubmatch(m[1], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		if _, checked := attrs["checked"]; attrs["name"] == "" || attrs["type"] == "checkbox" && !checked {
			continue
		}
		v.Add(attrs["name"], attrs["value"])
	}
	for _, m := range formSelect.FindAllStringSubmatch(form, -1) {
		opts := formOption.FindAllStringSubmatch(m[2], -1)
		chosen := opts[0][1]
		for _, o := range opts {
			if o[2] != "" {
				chosen = o[1]
			}
		}
		v.Add(m[1], html.UnescapeString(chosen))
	}
	for _, m := range formTextarea.FindAllStringSubmatch(form, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// The form has no input for a log path (web runs take an uploaded log), but
// a file that names one keeps it through edit and save, as it keeps its
// console seats.
func TestFormKeepsTheFilesLogPath(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	data := loadExample(t, "single-provider")
	data.Traffic.Logs = "exports/spend-logs.csv"
	data.Team.Seats = 3
	yaml, err := data.YAML()
	if err != nil {
		t.Fatal(err)
	}
	rec := importFile(t, h, "helpdesk.yaml", yaml)
	wantStatus(t, rec, http.StatusSeeOther)
	id := locationID.FindStringSubmatch(rec.Header().Get("Location"))[1]

	show := do(t, h, "GET", "/architectures/"+id, nil, nil)
	wantBody(t, show, `The file names the request log <code>exports/spend-logs.csv</code> for <code>gatewise simulate</code>`, "3 console seats")

	edit := do(t, h, "GET", "/architectures/"+id+"/edit", nil, nil).Body.String()
	if strings.Contains(edit, `<input id="traffic.logs"`) {
		t.Error("the edit form still has a log path input")
	}
	if !strings.Contains(edit, `<input type="hidden" name="traffic.logs" value="exports/spend-logs.csv">`) {
		t.Error("the edit form does not carry the file's log path")
	}
	rec = postForm(t, h, "/architectures/"+id, submitted(t, edit))
	wantStatus(t, rec, http.StatusSeeOther)
	file := do(t, h, "GET", "/architectures/"+id+"/download", nil, nil).Body.String()
	for _, want := range []string{"  logs: exports/spend-logs.csv\n", "seats: 3}\n"} {
		if !strings.Contains(file, want) {
			t.Errorf("after edit and save the file lacks %q:\n%s", want, file)
		}
	}

	// A blank form posts no log path and shows no word of one.
	blank := do(t, h, "GET", "/architectures/new", nil, nil).Body.String()
	if strings.Contains(blank, "traffic.logs") {
		t.Error("the blank form mentions a log path")
	}
	if got := submitted(t, blank).Get("traffic.requests_per_day"); got != "100000" {
		t.Errorf("the blank form posts requests per day %q", got)
	}
}

// Each term of the form and the architecture page carries what it means.
func TestFormAndPageExplainTheirTerms(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	form := do(t, h, "GET", "/architectures/new?example=multi-region", nil, nil).Body.String()
	for _, need := range simulator.ObservabilityNeeds() {
		want := `<code>` + need + `</code></label> <span class="hint">` + html.EscapeString(needMeanings[need]) + `</span>`
		if needMeanings[need] == "" || !strings.Contains(form, want) {
			t.Errorf("the form does not explain %s", need)
		}
	}
	for _, g := range simulator.GatewayIDs() {
		if gatewayMeanings[g] == "" || !strings.Contains(form, `<code>`+g+`</code></label> <span class="hint">`+html.EscapeString(gatewayMeanings[g])) {
			t.Errorf("the form does not say what %s is", g)
		}
	}
	for _, sc := range simulator.ScenarioNames() {
		if scenarioMeanings[sc] == "" || !strings.Contains(form, `<dt><code>`+sc+`</code></dt><dd>`+html.EscapeString(scenarioMeanings[sc])+`</dd>`) {
			t.Errorf("the form does not say what %s does", sc)
		}
	}
	wantText(t, form, "three corners of a triangle: <dfn>failover</dfn>", "<dfn>cached input share</dfn>", "<dfn>Data residency</dfn>",
		"at 0.5 the busiest hour has 1.5 times the average", "governance (who may change what")

	id := create(t, h, loadExample(t, "multi-region"))
	page := do(t, h, "GET", "/architectures/"+id, nil, nil).Body.String()
	for _, need := range loadExample(t, "multi-region").ObservabilityNeeds {
		if !strings.Contains(page, `<li><code>`+need+`</code> <span class="hint">`+html.EscapeString(needMeanings[need])+`</span></li>`) {
			t.Errorf("the architecture page does not explain %s", need)
		}
	}
	wantText(t, page, "How much each corner of the triangle counts", html.EscapeString(scenarioMeanings["rate-limit-storm"]),
		"Served: data residency.", "Cached input is the share of input tokens")
}

func wantText(t *testing.T, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("page lacks %q", p)
		}
	}
}

// In Chromium: a failed save puts focus on the error summary, the summary is
// the page's one live region, and every summary link lands on an element.
// Then a file with a log path goes through edit and save and keeps it.
func TestBrowserFailedSaveFocusesTheSummary(t *testing.T) {
	ctx, base, shot := browserTest(t)
	share := chromedp.CSS(`input[name="routes[1].share"]`)
	steps(t, ctx,
		chromedp.Navigate(base+"/architectures/new?example=multi-region"),
		chromedp.WaitVisible(share),
		chromedp.SetValue(share, "0.1"),
		chromedp.Clear(chromedp.CSS(`input[name="routes[0].input_tokens"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name="providers[2].regions"]`), "us-east-1, eu-centrl-1"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("problems")),
	)
	shot("failed-save")
	if id := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "problems" {
		t.Errorf("focus is on #%s after a failed save, want the summary", id)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[role=alert]').length`)); n != 1 {
		t.Errorf("%d role=alert elements, want 1", n)
	}
	links := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#problems a')).map(a =>
		a.textContent + (document.getElementById(decodeURIComponent(a.hash.slice(1))) ? "" : " (goes nowhere)"))`))
	want := []string{"Provider 3, region 2", "Routes", "Route 1, input tokens"}
	if !slices.Equal(links, want) {
		t.Errorf("summary links %q, want %q", links, want)
	}
	// Following a link scrolls its field into view.
	steps(t, ctx, chromedp.Click(chromedp.CSS(`#problems a[href*="input_tokens"]`)))
	if !run(t, ctx, chromedp.Evaluate[bool](`(function () {
		var r = document.getElementById("routes[0].input_tokens").getBoundingClientRect();
		return r.top > -1 && r.bottom <= window.innerHeight; })()`)) {
		t.Error("after following the link the field is not in view")
	}
	described := run(t, ctx, chromedp.Evaluate[string](`(function () {
		var i = document.getElementById("routes[0].input_tokens");
		return document.getElementById(i.getAttribute("aria-describedby")).textContent; })()`))
	if described != "is required" {
		t.Errorf("the input is described by %q", described)
	}

	spec := loadExample(t, "single-provider")
	spec.Traffic.Logs = "exports/spend-logs.csv"
	data, err := spec.YAML()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "helpdesk.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx,
		chromedp.Navigate(base+"/architectures"),
		chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{file}),
		chromedp.Click(chromedp.CSS(`form[action="/architectures/import"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/edit"]`)),
		chromedp.Click(chromedp.CSS(`a[href$="/edit"]`)),
		chromedp.WaitVisible(chromedp.ID("save")),
	)
	shot("edit-with-logs")
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name="traffic.logs"]:not([type=hidden])').length`)); n != 0 {
		t.Errorf("%d visible log path inputs on the form", n)
	}
	steps(t, ctx, chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.CSS(`a[href$="/download"]`)))
	got := run(t, ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a[href$="/download"]').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if !strings.Contains(got, "  logs: exports/spend-logs.csv\n") {
		t.Errorf("after edit and save the file is:\n%s", got)
	}
}

// A crafted key that is not UTF-8 is either ignored, like any key the form
// has no field for, or, in the origin and residency tables, refused on the
// table: never a path no file could hold (one such path made sorting the
// problems panic).
func TestFormKeysThatAreNotUTF8(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	v := formValues(formFromSpec(loadExample(t, "single-provider")))
	v.Set("scenarios[0\x80", "x")
	wantStatus(t, postForm(t, h, "/architectures", v), http.StatusSeeOther)

	v.Set("traffic.origin.\xff", "0")
	v.Set("compliance.data_residency.\xfe", "us")
	rec := postForm(t, h, "/architectures", v)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	got := summaryOf(t, rec.Body.String())
	want := [][2]string{{"Data residency", "is not UTF-8 text"}, {"Origin shares", "is not UTF-8 text"}}
	if !slices.Equal(got, want) {
		t.Errorf("summary %q, want %q", got, want)
	}
}
