package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gatewise"
	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/simulator"
)

// newTestServer starts the real handler on a fresh SQLite file.
func newTestServer(t testing.TB) (*Server, http.Handler) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatewise.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Version: "test"}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Handler()
}

func do(t testing.TB, h http.Handler, method, target string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	checkOpenAPI(t, req, rec) // every API answer a test gets is one server/openapi.yaml allows
	return rec
}

func postForm(t testing.TB, h http.Handler, target string, v url.Values) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, h, http.MethodPost, target, strings.NewReader(v.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// formValues is what a browser posts for a form: the inverse of readArchitectureForm.
func formValues(f ArchitectureForm) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("name", f.Name)
	set("horizon_days", f.HorizonDays)
	for i, p := range f.Providers {
		pre := fmt.Sprintf("providers[%d].", i)
		v.Set(pre+"id", p.ID)
		v.Set(pre+"regions", p.Regions)
		v.Set(pre+"rate_limits.rpm", p.RPM)
		v.Set(pre+"rate_limits.tpm", p.TPM)
	}
	for i, r := range f.Routes {
		pre := fmt.Sprintf("routes[%d].", i)
		v.Set(pre+"name", r.Name)
		v.Set(pre+"share", r.Share)
		v.Set(pre+"models", r.Models)
		v.Set(pre+"input_tokens", r.InputTokens)
		v.Set(pre+"output_tokens", r.OutputTokens)
		v.Set(pre+"cached_input_share", r.CachedInputShare)
	}
	for i, s := range f.Scenarios {
		pre := fmt.Sprintf("scenarios[%d].", i)
		v.Set(pre+"name", s.Name)
		v.Set(pre+"provider", s.Provider)
		v.Set(pre+"region", s.Region)
		v.Set(pre+"duration_hours", s.DurationHours)
		v.Set(pre+"multiplier", s.Multiplier)
		v.Set(pre+"error_rate", s.ErrorRate)
	}
	set("traffic.requests_per_day", f.RequestsPerDay)
	set("traffic.diurnal_amplitude", f.DiurnalAmplitude)
	set("traffic.logs", f.Logs)
	for j, s := range f.Origin {
		v.Set("traffic.origin."+j, s)
	}
	for j, s := range f.Residency {
		v.Set("compliance.data_residency."+j, s)
	}
	for k, on := range map[string]bool{"compliance.soc2": f.SOC2, "compliance.hipaa": f.HIPAA,
		"compliance.zero_data_retention": f.ZeroDataRetention, "compliance.no_third_party_in_path": f.NoThirdPartyInPath} {
		if on {
			v.Set(k, "true")
		}
	}
	set("priorities.failover", f.PriorityFailover)
	set("priorities.cost", f.PriorityCost)
	set("priorities.observability", f.PriorityObservability)
	set("team.engineers", f.Engineers)
	set("team.ops_hourly_usd", f.OpsHourlyUSD)
	set("team.seats", f.Seats)
	for n, on := range f.Needs {
		if on {
			v.Add("observability_needs", n)
		}
	}
	for g, on := range f.Gateways {
		if on {
			v.Add("gateways", g)
		}
	}
	set("simulation.trials", f.Trials)
	set("simulation.seed", f.Seed)
	set("advanced", f.Advanced)
	return v
}

func loadExample(t testing.TB, name string) simulator.Spec {
	t.Helper()
	data, err := gatewise.Example(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := simulator.Load(data, pricing.Default())
	if err != nil {
		t.Fatalf("example %s: %v", name, err)
	}
	return spec
}

var locationID = regexp.MustCompile(`^/architectures/([a-z0-9]+)$`)

// create saves a spec through the form and returns its id.
func create(t testing.TB, h http.Handler, spec simulator.Spec) string {
	t.Helper()
	rec := postForm(t, h, "/architectures", formValues(formFromSpec(spec)))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: status %d, want 303\n%s", rec.Code, rec.Body)
	}
	m := locationID.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("create: Location %q", rec.Header().Get("Location"))
	}
	return m[1]
}

func wantStatus(t testing.TB, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d\n%.2000s", rec.Code, status, rec.Body)
	}
}

func wantBody(t testing.TB, rec *httptest.ResponseRecorder, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(rec.Body.String(), p) {
			t.Errorf("body lacks %q\n%.3000s", p, rec.Body)
		}
	}
}

func TestHomeOffersBothStarts(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	rec := do(t, h, "GET", "/", nil, nil)
	wantStatus(t, rec, 200)
	wantBody(t, rec, "Start from the example", `href="/architectures/new?example=multi-region"`, "New architecture")
	for _, hdr := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if rec.Header().Get(hdr) == "" {
			t.Errorf("missing header %s", hdr)
		}
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	rec := do(t, h, "GET", "/healthz", nil, nil)
	wantStatus(t, rec, 200)
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"status": "ok", "version": "test", "database": "sqlite"}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("healthz = %v, want %v", body, want)
	}
}

func TestStaticFilesAreHashedAndCached(t *testing.T) {
	t.Parallel()
	s, h := newTestServer(t)
	u := s.assets.url("app.css")
	rec := do(t, h, "GET", u, nil, nil)
	wantStatus(t, rec, 200)
	if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
		t.Errorf("Cache-Control = %q", got)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	etag := rec.Header().Get("ETag")
	wantStatus(t, do(t, h, "GET", u, nil, http.Header{"If-None-Match": {etag}}), http.StatusNotModified)
	for _, bad := range []string{"/static/000000000000/app.css", "/static/x/layout.html", "/static/x/../templates/layout.html", "/static/" + strings.Split(u, "/")[2] + "/static.go"} {
		if rec := do(t, h, "GET", bad, nil, nil); rec.Code != http.StatusNotFound && rec.Code != http.StatusMovedPermanently {
			t.Errorf("GET %s: status %d, want 404", bad, rec.Code)
		}
	}
}

func TestNewFromExampleIsPrefilled(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	rec := do(t, h, "GET", "/architectures/new?example=multi-region", nil, nil)
	wantStatus(t, rec, 200)
	wantBody(t, rec, `value="Support assistant, 5 providers, 3 regions"`, `value="claude-sonnet-4.5, gpt-4.1, gemini-2.5-pro"`,
		`name="providers[4].id" value="mistral"`, `name="traffic.origin.eu" value="0.35"`)
	wantStatus(t, do(t, h, "GET", "/architectures/new?example=nope", nil, nil), 404)
	wantStatus(t, do(t, h, "GET", "/architectures/new", nil, nil), 200)
}

// Every bundled example survives the whole loop: form → save → page →
// download → parse, and comes back as the same architecture.
func TestSaveShowDownloadRoundTrip(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	for _, name := range gatewise.ExampleNames() {
		t.Run(name, func(t *testing.T) {
			spec := loadExample(t, name)
			id := create(t, h, spec)
			rec := do(t, h, "GET", "/architectures/"+id, nil, nil)
			wantStatus(t, rec, 200)
			wantBody(t, rec, spec.Routes[0].Name, "Download as YAML", "Duplicate", "Edit", "Delete")

			rec = do(t, h, "GET", "/architectures/"+id+"/download", nil, nil)
			wantStatus(t, rec, 200)
			if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, `.yaml"`) {
				t.Errorf("Content-Disposition = %q", cd)
			}
			got, err := simulator.Load(rec.Body.Bytes(), pricing.Default())
			if err != nil {
				t.Fatalf("downloaded file does not load: %v\n%s", err, rec.Body)
			}
			// The form lists gateways and needs in the app's order.
			normalize := func(s *simulator.Spec) {
				s.Gateways = ordered(simulator.GatewayIDs(), s.Gateways)
				s.ObservabilityNeeds = ordered(simulator.ObservabilityNeeds(), s.ObservabilityNeeds)
			}
			normalize(&spec)
			normalize(&got)
			if !reflect.DeepEqual(got, spec) {
				t.Errorf("round trip changed the architecture:\n got %+v\nwant %+v", got, spec)
			}
			// Importing the downloaded file gives the same architecture again.
			rec = importFile(t, h, "arch.yaml", rec.Body.Bytes())
			wantStatus(t, rec, http.StatusSeeOther)
		})
	}
}

func ordered(order, set []string) []string {
	in := map[string]bool{}
	for _, s := range set {
		in[s] = true
	}
	var out []string
	for _, s := range order {
		if in[s] {
			out = append(out, s)
		}
	}
	return out
}

func TestSaveBadShareKeepsInputAndShowsMessage(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	f := formFromSpec(loadExample(t, "multi-region"))
	f.Routes[1].Share = "abc"
	f.Routes[2].Share = "-0.5"
	f.Providers[2].ID = "aws-bedrok"
	rec := postForm(t, h, "/architectures", formValues(f))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec,
		`name="routes[1].share" value="abc" inputmode="decimal" class="num" aria-label="Route 2 share" aria-invalid="true"`,
		`must be a number, not &#34;abc&#34;`,
		`value="aws-bedrok"`, `aws-bedrock`, // the suggestion
		`name="routes[0].models" value="claude-sonnet-4.5, gpt-4.1, gemini-2.5-pro"`)
	if strings.Contains(rec.Body.String(), "Route.Share") || strings.Contains(rec.Body.String(), "Spec.") {
		t.Error("Go field names leak into messages")
	}

	// Shares that do not add up to 1 are reported on the routes section.
	f = formFromSpec(loadExample(t, "multi-region"))
	f.Routes[0].Share = "0.5"
	rec = postForm(t, h, "/architectures", formValues(f))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, `<a href="#routes">Routes</a>: route shares add up to 0.9, they must add up to 1`)
}

func TestSaveOutOfRangeNumbers(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	cases := []struct{ field, value string }{
		{"input_tokens", "-5"},
		{"trials", "0"},
		{"trials", "99999999"},
		{"diurnal", "1.5"},
		{"seed", "-1"},
		{"name", ""},
	}
	for _, tc := range cases {
		f := formFromSpec(loadExample(t, "single-provider"))
		field := ""
		switch tc.field {
		case "input_tokens":
			f.Routes[0].InputTokens, field = tc.value, "routes[0].input_tokens"
		case "trials":
			f.Trials, field = tc.value, "simulation.trials"
		case "diurnal":
			f.DiurnalAmplitude, field = tc.value, "traffic.diurnal_amplitude"
		case "seed":
			f.Seed, field = tc.value, "simulation.seed"
		case "name":
			f.Name, field = tc.value, "name"
		}
		rec := postForm(t, h, "/architectures", formValues(f))
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s=%q: status %d, want 422", field, tc.value, rec.Code)
			continue
		}
		if !slices.Contains(summaryAnchors(t, rec.Body.String()), field) {
			t.Errorf("%s=%q: no problem listed for the field", field, tc.value)
		}
	}
	// Nothing was stored by any of them.
	rec := do(t, h, "GET", "/architectures", nil, nil)
	wantBody(t, rec, "Saved (0)")
}

func TestAddAndRemoveRows(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	f := formFromSpec(loadExample(t, "multi-region"))
	v := formValues(f)
	v.Set("action", "add-routes")
	rec := postForm(t, h, "/architectures", v)
	wantStatus(t, rec, 200)
	if n := strings.Count(rec.Body.String(), `class="route-row"`); n != 4 {
		t.Errorf("after add: %d route rows, want 4", n)
	}
	v.Set("action", "remove-routes-0")
	rec = postForm(t, h, "/architectures", v)
	wantStatus(t, rec, 200)
	if n := strings.Count(rec.Body.String(), `class="route-row"`); n != 2 {
		t.Errorf("after remove: %d route rows, want 2", n)
	}
	wantBody(t, rec, `name="routes[0].name" value="summarize"`)
	v.Set("action", "remove-providers-4")
	rec = postForm(t, h, "/architectures", v)
	if n := strings.Count(rec.Body.String(), `class="provider-row"`); n != 4 {
		t.Errorf("after removing a provider: %d rows, want 4", n)
	}
}

func TestEditDuplicateDelete(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	spec := loadExample(t, "single-provider")
	id := create(t, h, spec)

	rec := do(t, h, "GET", "/architectures/"+id+"/edit", nil, nil)
	wantStatus(t, rec, 200)
	wantBody(t, rec, `action="/architectures/`+id+`"`)

	f := formFromSpec(spec)
	f.Name = "Renamed app"
	rec = postForm(t, h, "/architectures/"+id, formValues(f))
	wantStatus(t, rec, http.StatusSeeOther)
	wantBody(t, do(t, h, "GET", "/architectures/"+id, nil, nil), "Renamed app")

	rec = do(t, h, "GET", "/architectures/new?from="+id, nil, nil)
	wantStatus(t, rec, 200)
	wantBody(t, rec, `value="Renamed app (copy)"`, `action="/architectures"`)

	wantStatus(t, do(t, h, "GET", "/architectures/"+id+"/delete", nil, nil), 200)
	rec = postForm(t, h, "/architectures/"+id+"/delete", nil)
	wantStatus(t, rec, http.StatusSeeOther)
	wantStatus(t, do(t, h, "GET", "/architectures/"+id, nil, nil), 404)
	wantStatus(t, postForm(t, h, "/architectures/"+id+"/delete", nil), 404)
	wantStatus(t, postForm(t, h, "/architectures/"+id, formValues(f)), 404)
}

func TestListNewestFirst(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	spec := loadExample(t, "single-provider")
	for _, name := range []string{"first", "second", "third"} {
		spec.Name = name
		create(t, h, spec)
	}
	body := do(t, h, "GET", "/architectures", nil, nil).Body.String()
	i1, i2, i3 := strings.Index(body, ">first<"), strings.Index(body, ">second<"), strings.Index(body, ">third<")
	if i1 < 0 || i2 < 0 || i3 < 0 || i3 > i2 || i2 > i1 {
		t.Errorf("list order: third@%d second@%d first@%d, want newest first", i3, i2, i1)
	}
}

func importFile(t *testing.T, h http.Handler, name string, data []byte) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return do(t, h, "POST", "/architectures/import", &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

func TestImport(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	good, err := gatewise.Example("multi-region")
	if err != nil {
		t.Fatal(err)
	}
	rec := importFile(t, h, "multi-region.yaml", good)
	wantStatus(t, rec, http.StatusSeeOther)

	jsonSpec, _ := json.Marshal(loadExample(t, "eu-regulated"))
	wantStatus(t, importFile(t, h, "eu.json", jsonSpec), http.StatusSeeOther)

	bad := []struct {
		name, file string
		want       []string
	}{
		{"malformed yaml", "name: [unclosed\nproviders: x\n", []string{"line"}},
		{"unknown key", strings.Replace(string(good), "    output_tokens: 250", "    modles: [x]\n    output_tokens: 250", 1), []string{"routes[1].modles", "unknown key"}},
		{"out of range", strings.Replace(string(good), "trials: 10000", "trials: -5", 1), []string{"simulation.trials"}},
		{"json syntax", `{"name": "x",}`, []string{"line 1"}},
		{"empty", "", []string{"empty"}},
		{"path in file name", "name: [", []string{"passwd: The file was not imported"}},
	}
	for _, tc := range bad {
		name := "arch.yaml"
		if tc.name == "path in file name" {
			name = "../../etc/passwd"
		}
		rec := importFile(t, h, name, []byte(tc.file))
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.name, rec.Code)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(rec.Body.String(), w) {
				t.Errorf("%s: body lacks %q\n%.1500s", tc.name, w, rec.Body)
			}
		}
	}
	// No file at all.
	rec = do(t, h, "POST", "/architectures/import", strings.NewReader(""), http.Header{"Content-Type": {"multipart/form-data; boundary=x"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	// Exactly the two good imports were stored.
	wantBody(t, do(t, h, "GET", "/architectures", nil, nil), "Saved (2)")
}

func TestOversizedBodyIs413(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	big := strings.Repeat("a", 3<<20)
	rec := postForm(t, h, "/architectures", url.Values{"name": {big}})
	wantStatus(t, rec, http.StatusRequestEntityTooLarge)
	// Without a declared length, the limit still holds while reading.
	req := httptest.NewRequest("POST", "/architectures", io.MultiReader(strings.NewReader("name="), strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	wantStatus(t, rr, http.StatusRequestEntityTooLarge)
	rec = importFile(t, h, "big.yaml", []byte(big))
	wantStatus(t, rec, http.StatusRequestEntityTooLarge)
}

func TestCrossSitePostIs403(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	v := formValues(formFromSpec(loadExample(t, "single-provider")))
	for _, hdr := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		hdr.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := do(t, h, "POST", "/architectures", strings.NewReader(v.Encode()), hdr)
		wantStatus(t, rec, http.StatusForbidden)
		wantBody(t, rec, "Cross-site requests are refused")
	}
	same := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"application/x-www-form-urlencoded"}}
	wantStatus(t, do(t, h, "POST", "/architectures", strings.NewReader(v.Encode()), same), http.StatusSeeOther)
	// Reads are never refused.
	wantStatus(t, do(t, h, "GET", "/", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}}), 200)
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	wantStatus(t, do(t, h, "GET", "/architectures/doesnotexist", nil, nil), 404)
	wantStatus(t, do(t, h, "GET", "/architectures/doesnotexist/edit", nil, nil), 404)
	wantStatus(t, do(t, h, "GET", "/architectures/doesnotexist/download", nil, nil), 404)
	wantStatus(t, do(t, h, "GET", "/no/such/page", nil, nil), 404)
	wantStatus(t, do(t, h, "DELETE", "/architectures", nil, nil), 405)
	rec := do(t, h, "GET", "/no/such/page", nil, http.Header{"Accept": {"application/json"}})
	wantStatus(t, rec, 404)
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("JSON client got %q", rec.Header().Get("Content-Type"))
	}
}

func TestUserTextIsEscaped(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	spec := loadExample(t, "single-provider")
	spec.Name = `<script>alert("x")</script>`
	spec.Routes[0].Name = `"><img src=x onerror=alert(1)>`
	id := create(t, h, spec)
	for _, u := range []string{"/architectures/" + id, "/architectures/" + id + "/edit", "/architectures", "/"} {
		body := do(t, h, "GET", u, nil, nil).Body.String()
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: user text rendered as HTML", u)
		}
	}
}

// A request that is still arriving when shutdown starts is answered before
// the server stops.
func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "g.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := New(Config{Addr: "127.0.0.1:0"}, st, pricing.Default(), logger)
	if err != nil {
		t.Fatal(err)
	}
	// The handler tells the test when the request has reached it.
	entered := make(chan struct{}, 1)
	h := srv.Handler()
	traced := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		h.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.serve(ctx, ln, traced, func(u string) { ready <- u }) }()
	base := <-ready

	body := formValues(formFromSpec(loadExample(t, "single-provider"))).Encode()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", base+"/architectures", pr)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = int64(len(body))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	respc := make(chan *http.Response, 1)
	errc := make(chan error, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			errc <- err
			return
		}
		respc <- resp
	}()
	half := len(body) / 2
	if _, err := pw.Write([]byte(body[:half])); err != nil {
		t.Fatal(err)
	}
	<-entered // the request is in a handler
	cancel()  // Ctrl-C while the form is still arriving
	if _, err := pw.Write([]byte(body[half:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case resp := <-respc:
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("in-flight request got %d, want 303", resp.StatusCode)
		}
	case err := <-errc:
		t.Fatalf("in-flight request failed: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}
	if n, err := st.CountArchitectures(context.Background()); err != nil || n != 1 {
		t.Errorf("stored %d architectures (%v), want 1", n, err)
	}
}

// An empty form lists its problems in the order of the form, top to bottom.
func TestProblemsFollowFormOrder(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	rec := postForm(t, h, "/architectures", url.Values{"providers[0].id": {""}, "routes[0].share": {"1"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	got := summaryAnchors(t, rec.Body.String())
	want := []string{"name", "providers[0].id", "providers[0].regions", "routes[0].name", "routes[0].models",
		"routes[0].input_tokens", "routes[0].output_tokens", "traffic.requests_per_day", "traffic.origin",
		"priorities.failover", "priorities.cost", "priorities.observability", "team.engineers", "team.ops_hourly_usd", "gateways"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problem order:\n got %v\nwant %v", got, want)
	}
}

// The Advanced box edits outage_model and gateway_settings as YAML; its
// problems come back beside it with their line in the box.
func TestAdvancedOverridesBox(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	f := formFromSpec(loadExample(t, "multi-region"))
	cases := []struct{ box, want string }{
		{"name: sneaky\n", `only outage_model and gateway_settings go here; &#34;name&#34; has its own field`},
		{"outage_model:\n  providers:\n    openai: {incidents_per_month: [8}\n", "line 3"},
		{"gateway_settings:\n  litellm: {retries: 2}\n", "line 2, column 13: gateway_settings.litellm.retries: unknown key"},
		{"outage_model:\n  providers:\n    azure-openai: {incidents_per_month: 1}\n", "outage_model.providers.azure-openai: &#34;azure-openai&#34; is not one of your providers"},
	}
	for _, c := range cases {
		f.Advanced = c.box
		rec := postForm(t, h, "/architectures", formValues(f))
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%q: status %d, want 422", c.box, rec.Code)
			continue
		}
		body := rec.Body.String()
		i := strings.Index(body, `id="advanced"`)
		if i < 0 || !strings.Contains(body[i:], c.want) {
			t.Errorf("%q: no %q beside the box", c.box, c.want)
		}
	}

	f.Advanced = "gateway_settings:\n  litellm: {num_retries: 3, replicas: 2}\n"
	id := create(t, h, mustSpec(t, f))
	show := do(t, h, "GET", "/architectures/"+id, nil, nil)
	wantBody(t, show, `<pre class="yaml">gateway_settings:`, "num_retries: 3")
	edit := do(t, h, "GET", "/architectures/"+id+"/edit", nil, nil)
	wantBody(t, edit, "litellm: {num_retries: 3, replicas: 2}")
}

func mustSpec(t *testing.T, f ArchitectureForm) simulator.Spec {
	t.Helper()
	s, ps := f.spec()
	if len(ps) > 0 {
		t.Fatalf("form problems: %v", ps)
	}
	return s
}

// A form value that is not UTF-8 text (no browser sends one) is refused
// beside its field instead of being saved as bytes no file can hold.
func TestFormRefusesTextThatIsNotUTF8(t *testing.T) {
	t.Parallel()
	_, h := newTestServer(t)
	v := formValues(formFromSpec(loadExample(t, "single-provider")))
	v.Set("name", "helpdesk \xff\xfe")
	rec := postForm(t, h, "/architectures", v)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "is not UTF-8 text")
}
