package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"gatewise/pricing"
	"gatewise/server/store"
	"gatewise/simulator"
	"gatewise/simulator/traffic"
)

// The API description, loaded once for every test of the package: do
// checks each response the tests get from a described operation against
// it, so a handler that answers what the file does not say fails the test
// that made it answer.
var (
	openAPIOnce   sync.Once
	openAPIDoc    *openapi3.T
	openAPIRouter routers.Router
	openAPIErr    error
)

func loadOpenAPI() (*openapi3.T, routers.Router, error) {
	openAPIOnce.Do(func() {
		// The memo, the bundle and this file are sent as they are; the
		// validator reads such bodies as strings, as their schemas say.
		for _, ct := range []string{"text/markdown", "text/html", "application/pdf", "application/zip", "application/yaml"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openAPI)
		if err != nil {
			openAPIErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			openAPIErr = err
			return
		}
		// The file names the server by its address; the tests' requests go
		// to httptest's example.com, so routes are matched by path alone.
		routed := *doc
		routed.Servers = openapi3.Servers{{URL: "/"}}
		r, err := gorillamux.NewRouter(&routed)
		if err != nil {
			openAPIErr = err
			return
		}
		openAPIDoc, openAPIRouter = doc, r
	})
	return openAPIDoc, openAPIRouter, openAPIErr
}

// checkOpenAPI fails t when a response of a described operation is not one
// the API description gives it: a status the operation does not list, a
// content type it does not list for that status, a body or a header that
// does not match the schema. Requests to pages outside the description
// (the browser's) are left alone.
func checkOpenAPI(t testing.TB, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	if err := openAPIResponseError(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		t.Errorf("%s %s answered %d, which the OpenAPI file does not allow:\n%v\nbody: %.1500s", req.Method, req.URL, rec.Code, err, rec.Body)
	}
}

// openAPIResponseError is checkOpenAPI's judgement: nil for a response the
// description allows, or for a request it does not describe.
func openAPIResponseError(req *http.Request, status int, header http.Header, body []byte) error {
	_, router, err := loadOpenAPI()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil // not an operation of the API: a page, or a path nothing serves
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// The file is a valid OpenAPI 3.1 description, and every operation has an
// operationId, a tag, and an answer for the failures every operation can
// meet.
func TestOpenAPIFileIsValid(t *testing.T) {
	t.Parallel()
	doc, _, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: %s", doc.OpenAPI)
	}
	if doc.Components.SecuritySchemes["bearerAuth"] == nil || doc.Components.SecuritySchemes["bearerAuth"].Value.Scheme != "bearer" {
		t.Error("no Bearer security scheme")
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share the operationId %s", where, prev, op.OperationID)
			}
			ids[op.OperationID] = where
			if len(op.Tags) == 0 {
				t.Errorf("%s has no tag", where)
			}
			for _, code := range []string{"429", "500"} {
				if op.Responses.Value(code) == nil {
					t.Errorf("%s does not say what %s means", where, code)
				}
			}
			if path != "/healthz" && op.Responses.Value("401") == nil {
				t.Errorf("%s needs sign-in but lists no 401", where)
			}
		}
	}
}

// The validator refuses what the file does not allow: without this, a
// validator that passed everything would make every check above pass.
func TestOpenAPICheckRefusesWhatTheFileDoesNotAllow(t *testing.T) {
	t.Parallel()
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	run := `{"id":"p4d8s1vz0m2q","architecture_id":"a","status":"queued","progress":{"done":0,"total":10},"url":"/runs/p4d8s1vz0m2q"}`
	cases := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"a run as the file says", "GET", "/api/v1/runs/p4d8s1vz0m2q", 200, jsonHeader, run, true},
		{"a status no one listed", "GET", "/api/v1/runs/p4d8s1vz0m2q", 418, jsonHeader, run, false},
		{"a status out of its enum", "GET", "/api/v1/runs/p4d8s1vz0m2q", 200, jsonHeader, strings.Replace(run, "queued", "paused", 1), false},
		{"a required field missing", "GET", "/api/v1/runs/p4d8s1vz0m2q", 200, jsonHeader, strings.Replace(run, `"url":"/runs/p4d8s1vz0m2q"`, `"urls":[]`, 1), false},
		{"an error without its message", "GET", "/api/v1/runs/nope", 404, jsonHeader, `{"error":{"fields":{}}}`, false},
		{"an error as the file says", "GET", "/api/v1/runs/nope", 404, jsonHeader, `{"error":{"message":"There is nothing here: it may have been deleted."}}`, true},
		{"a field message that is not text", "POST", "/api/v1/architectures", 422, jsonHeader, `{"error":{"message":"x","fields":{"name":1}}}`, false},
		{"HTML where JSON is said", "GET", "/api/v1/runs/p4d8s1vz0m2q", 200, http.Header{"Content-Type": {"text/html"}}, "<p>", false},
		{"a page outside the API", "GET", "/runs/p4d8s1vz0m2q", 418, nil, "", true},
	}
	for _, c := range cases {
		err := openAPIResponseError(httptest.NewRequest(c.method, c.path, nil), c.status, c.header, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s: error %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// errReader is a request body that breaks off.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// openAPITour drives the API's operations and keeps which answers it got.
type openAPITour struct {
	t   *testing.T
	got map[string]map[int]bool // operationId → statuses seen
}

// call serves req on h, checks the answer against the file, and wants the
// status; it returns the answer.
func (tr *openAPITour) call(h http.Handler, req *http.Request, status int) *httptest.ResponseRecorder {
	tr.t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	checkOpenAPI(tr.t, req, rec)
	if rec.Code != status {
		tr.t.Errorf("%s %s: status %d, want %d\n%.1000s", req.Method, req.URL, rec.Code, status, rec.Body)
	}
	_, router, _ := loadOpenAPI()
	route, _, err := router.FindRoute(req)
	if err != nil {
		tr.t.Fatalf("%s %s is not an operation of the file", req.Method, req.URL)
	}
	if tr.got[route.Operation.OperationID] == nil {
		tr.got[route.Operation.OperationID] = map[int]bool{}
	}
	tr.got[route.Operation.OperationID][rec.Code] = true
	return rec
}

func request(method, target, ctype string, body io.Reader) *http.Request {
	req := httptest.NewRequest(method, target, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req
}

// notDriven are the answers the tour cannot bring about with a request,
// and where they are checked instead. Every other answer the file lists
// for an operation, the tour gets from the server.
var notDriven = map[int]string{
	500: "a fault of the server's own (a panic, a stored row that no longer decodes): no request brings it about",
	503: "the database busy or unreachable: TestSQLiteLockedIs503ThenRecovers and TestPostgresOutageIs503ThenRecovers hold SQLite's write lock or cut PostgreSQL off, and do checks their answers against the file",
	507: "the database's disk full (the upload folder's: TestUploadToAFullDiskIs507, checked by do); the same error path answers for every write",
}

// Every operation gives every answer the file lists for it, and each
// answer it gives matches the file: success, bad input, not found, not
// finished, cross-site, too large, unauthenticated, throttled.
func TestOpenAPIEveryAnswer(t *testing.T) {
	t.Parallel()
	doc, _, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	tr := &openAPITour{t: t, got: map[string]map[int]bool{}}
	const (
		yamlType = "application/yaml"
		jsonType = "application/json"
	)
	example := func(name string) string {
		data, err := os.ReadFile("../testdata/examples/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	idOf := func(rec *httptest.ResponseRecorder) string {
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.ID == "" {
			t.Fatalf("no id in %s", rec.Body)
		}
		return v.ID
	}
	tooLarge := func(method, target, ctype string) *http.Request {
		req := request(method, target, ctype, strings.NewReader("{}"))
		req.ContentLength = 3 << 30 // declared past every limit: refused before the body is read
		return req
	}
	crossSite := func(req *http.Request) *http.Request {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		return req
	}

	// A server with workers, for finished runs.
	s, h := newTestServer(t)
	startRunner(t, s)
	tr.call(h, request("GET", "/healthz", "", nil), 200)
	tr.call(h, request("GET", "/api/openapi.yaml", "", nil), 200)

	arch := idOf(tr.call(h, request("POST", "/api/v1/architectures", yamlType, strings.NewReader(example("single-provider"))), 201))
	tr.call(h, request("POST", "/api/v1/architectures", jsonType, strings.NewReader(`{"name": "x", "providers": [{"id": "openai", "regions": ["us"]}],
		"routes": [{"name": "chat", "share": 1, "models": ["gpt-4.1-mini"], "input_tokens": 100, "output_tokens": 10}],
		"traffic": {"requests_per_day": 1000, "origin": {"us": 1}}}`)), 201)
	tr.call(h, request("POST", "/api/v1/architectures", yamlType, strings.NewReader("name: x\nroutes:\n  - nme: a\n")), 422)
	tr.call(h, request("POST", "/api/v1/architectures", yamlType, errReader{}), 400)
	tr.call(h, tooLarge("POST", "/api/v1/architectures", yamlType), 413)
	tr.call(h, crossSite(request("POST", "/api/v1/architectures", yamlType, strings.NewReader(example("single-provider")))), 403)
	tr.call(h, request("GET", "/api/v1/architectures/"+arch, "", nil), 200)
	tr.call(h, request("GET", "/api/v1/architectures/nope", "", nil), 404)

	body, ctype := multipartBody(t, map[string]string{"architecture_id": arch, "map": logMap}, logCSV())
	uploadID := idOf(tr.call(h, request("POST", "/api/v1/uploads", ctype, body), 201))
	tr.call(h, request("POST", "/api/v1/uploads", jsonType, strings.NewReader(`{"file": "x"}`)), 400)
	body, ctype = multipartBody(t, map[string]string{"architecture_id": "nope", "map": logMap}, logCSV())
	tr.call(h, request("POST", "/api/v1/uploads", ctype, body), 404)
	body, ctype = multipartBody(t, map[string]string{"architecture_id": arch}, "")
	tr.call(h, request("POST", "/api/v1/uploads", ctype, body), 422)
	tr.call(h, tooLarge("POST", "/api/v1/uploads", "multipart/form-data; boundary=x"), 413)
	body, ctype = multipartBody(t, map[string]string{"architecture_id": arch, "map": logMap}, logCSV())
	tr.call(h, crossSite(request("POST", "/api/v1/uploads", ctype, body)), 403)

	// Another log added to the upload (the same rows a second time, so
	// overlapping it, without ids), refused, and chosen for; an upload that
	// waits for its mapping (made in the browser) takes none yet.
	logs := "/api/v1/uploads/" + uploadID + "/logs"
	body, ctype = multipartBody(t, map[string]string{"map": logMap}, logCSV()+"\n")
	tr.call(h, request("POST", logs, ctype, body), 201)
	body, ctype = multipartBody(t, map[string]string{"map": logMap}, logCSV())
	tr.call(h, request("POST", logs, ctype, body), 422)
	tr.call(h, request("POST", logs, jsonType, strings.NewReader(`{"file": "x"}`)), 400)
	body, ctype = multipartBody(t, map[string]string{"map": logMap}, logCSV())
	tr.call(h, request("POST", "/api/v1/uploads/nope/logs", ctype, body), 404)
	tr.call(h, tooLarge("POST", logs, "multipart/form-data; boundary=x"), 413)
	body, ctype = multipartBody(t, nil, logCSV())
	tr.call(h, crossSite(request("POST", logs, ctype, body)), 403)
	body, ctype = multipartBody(t, nil, oddCSV())
	h.ServeHTTP(httptest.NewRecorder(), request("POST", "/architectures/"+arch+"/uploads", ctype, body))
	var waitingUpload string
	if ups, err := s.store.ListUploads(context.Background(), arch); err == nil {
		for _, u := range ups {
			if u.Status == store.UploadMapping {
				waitingUpload = u.ID
			}
		}
	}
	body, ctype = multipartBody(t, nil, logCSV())
	tr.call(h, request("POST", "/api/v1/uploads/"+waitingUpload+"/logs", ctype, body), 409)
	tr.call(h, request("PATCH", logs+"/2", jsonType, strings.NewReader(`{"overlap": "drop"}`)), 200)
	tr.call(h, request("PATCH", logs+"/2", jsonType, strings.NewReader(`{"overlaps": "drop"}`)), 400)
	tr.call(h, request("PATCH", logs+"/1", jsonType, strings.NewReader(`{"overlap": "drop"}`)), 422)
	tr.call(h, request("PATCH", logs+"/9", jsonType, strings.NewReader(`{"overlap": "drop"}`)), 404)
	tr.call(h, request("PATCH", "/api/v1/uploads/"+waitingUpload+"/logs/2", jsonType, strings.NewReader(`{"overlap": "drop"}`)), 409)
	tr.call(h, tooLarge("PATCH", logs+"/2", jsonType), 413)
	tr.call(h, crossSite(request("PATCH", logs+"/2", jsonType, strings.NewReader(`{"overlap": "keep"}`))), 403)
	tr.call(h, request("GET", "/api/v1/uploads/"+uploadID, "", nil), 200)
	tr.call(h, request("GET", "/api/v1/uploads/nope", "", nil), 404)

	// A run of the upload, and one of an architecture a hard constraint
	// narrows: no third party in the path rules OpenRouter out.
	run := func(body string) string {
		return idOf(tr.call(h, request("POST", "/api/v1/runs", jsonType, strings.NewReader(body)), 202))
	}
	done := run(`{"architecture_id": "` + arch + `", "upload_id": "` + uploadID + `", "trials": 30, "seed": 7}`)
	strict := strings.Replace(example("single-provider"), "no_third_party_in_path: false", "no_third_party_in_path: true", 1)
	if strict == example("single-provider") {
		t.Fatal("single-provider.yaml no longer says no_third_party_in_path: false")
	}
	strictSpec, err := simulator.Parse([]byte(strict))
	if err != nil {
		t.Fatal(err)
	}
	inline, _ := json.Marshal(map[string]any{"architecture": strictSpec, "trials": 20, "gateways": []string{"direct", "openrouter"}, "scenarios": []string{"baseline"}})
	excluded := run(string(inline))
	tr.call(h, request("POST", "/api/v1/runs", jsonType, strings.NewReader(`{"architecture_id": "`+arch+`", "trails": 5}`)), 400)
	tr.call(h, request("POST", "/api/v1/runs", jsonType, strings.NewReader(`{"architecture_id": "nope"}`)), 404)
	tr.call(h, request("POST", "/api/v1/runs", jsonType, strings.NewReader(`{"architecture_id": "`+arch+`", "architecture": {}}`)), 422)
	tr.call(h, tooLarge("POST", "/api/v1/runs", jsonType), 413)
	tr.call(h, crossSite(request("POST", "/api/v1/runs", jsonType, strings.NewReader(`{"architecture_id": "`+arch+`"}`))), 403)
	waitFor(t, s, done, store.RunDone)
	waitFor(t, s, excluded, store.RunDone)

	got := tr.call(h, request("GET", "/api/v1/runs/"+done, "", nil), 200)
	var finished apiRun
	if err := json.Unmarshal(got.Body.Bytes(), &finished); err != nil || finished.Status != store.RunDone || len(finished.Result) == 0 {
		t.Fatalf("finished run %s (%v)", got.Body, err)
	}
	tr.call(h, request("GET", "/api/v1/runs/nope", "", nil), 404)
	tr.call(h, request("DELETE", "/api/v1/runs/"+done, "", nil), 409)
	tr.call(h, request("DELETE", "/api/v1/runs/nope", "", nil), 404)
	tr.call(h, crossSite(request("DELETE", "/api/v1/runs/"+done, "", nil)), 403)
	for _, doc := range []string{"memo.md", "memo.html", "memo.pdf", "memo.pdf?paper=letter", "rollout.zip", "rollout.zip?gateway=direct"} {
		tr.call(h, request("GET", "/api/v1/runs/"+done+"/"+doc, "", nil), 200)
		tr.call(h, request("GET", "/api/v1/runs/nope/"+doc, "", nil), 404)
	}
	tr.call(h, request("GET", "/api/v1/runs/"+done+"/memo.pdf?paper=legal", "", nil), 422)
	tr.call(h, request("GET", "/api/v1/runs/"+excluded+"/rollout.zip?gateway=openrouter", "", nil), 422)
	tr.call(h, request("GET", "/api/v1/runs/"+excluded+"/rollout.zip?gateway=litellm", "", nil), 404)

	// A server without workers, where runs wait: cancelled, then ended.
	s2, h2 := newTestServer(t)
	arch2 := idOf(tr.call(h2, request("POST", "/api/v1/architectures", yamlType, strings.NewReader(example("single-provider"))), 201))
	waiting := idOf(tr.call(h2, request("POST", "/api/v1/runs", jsonType, strings.NewReader(`{"architecture_id": "`+arch2+`", "trials": 10}`)), 202))
	queued := tr.call(h2, request("GET", "/api/v1/runs/"+waiting, "", nil), 200)
	if !strings.Contains(queued.Body.String(), `"queue_position":1`) {
		t.Errorf("a waiting run: %s", queued.Body)
	}
	for _, doc := range []string{"memo.md", "memo.html", "memo.pdf", "rollout.zip"} {
		tr.call(h2, request("GET", "/api/v1/runs/"+waiting+"/"+doc, "", nil), 409)
	}
	tr.call(h2, request("DELETE", "/api/v1/runs/"+waiting, "", nil), 200)
	if run, err := s2.store.Run(context.Background(), waiting); err != nil || run.Status != store.RunCancelled {
		t.Errorf("cancelled run: %+v, %v", run, err)
	}

	// A server that asks for sign-in: every operation but the health check
	// wants the token; five wrong tokens hold this address back for a
	// while, the health check included (it reads a token sent to it).
	_, ha := newAuthServer(t, nil)
	attacker := from(ha, "198.51.100.7:1")
	wrong := func(req *http.Request) *http.Request {
		req.Header.Set("Authorization", "Bearer wrong")
		return req
	}
	everyOperation := []struct{ method, target string }{
		{"GET", "/api/openapi.yaml"}, {"POST", "/api/v1/architectures"}, {"GET", "/api/v1/architectures/x"},
		{"POST", "/api/v1/uploads"}, {"GET", "/api/v1/uploads/x"}, {"POST", "/api/v1/uploads/x/logs"}, {"PATCH", "/api/v1/uploads/x/logs/2"},
		{"POST", "/api/v1/runs"}, {"GET", "/api/v1/runs/x"}, {"DELETE", "/api/v1/runs/x"},
		{"GET", "/api/v1/runs/x/memo.md"}, {"GET", "/api/v1/runs/x/memo.html"}, {"GET", "/api/v1/runs/x/memo.pdf"}, {"GET", "/api/v1/runs/x/rollout.zip"},
	}
	for _, op := range everyOperation {
		rec := tr.call(ha, request(op.method, op.target, "", nil), 401)
		if rec.Header().Get("WWW-Authenticate") != `Bearer realm="gatewise"` {
			t.Errorf("%s %s: WWW-Authenticate %q", op.method, op.target, rec.Header().Get("WWW-Authenticate"))
		}
	}
	tr.call(ha, request("GET", "/healthz", "", nil), 200)
	for range 4 {
		tr.call(attacker, wrong(request("GET", "/api/v1/runs/x", "", nil)), 401)
	}
	tr.call(attacker, wrong(request("GET", "/healthz", "", nil)), 401)
	for _, op := range append(everyOperation, struct{ method, target string }{"GET", "/healthz"}) {
		rec := tr.call(attacker, wrong(request(op.method, op.target, "", nil)), 429)
		if rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s %s: 429 without Retry-After", op.method, op.target)
		}
	}

	// Every answer the file lists was given, or cannot be asked for.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s %s lists response %q: give each status on its own", method, path, code)
					continue
				}
				if !tr.got[op.OperationID][status] && notDriven[status] == "" {
					t.Errorf("%s (%s %s) lists %d, which the tour never got", op.OperationID, method, path, status)
				}
			}
		}
	}
}

// schemaValue validates v, marshalled as the server marshals it, against
// the file's schema name.
func schemaValue(name string, v any) error {
	doc, _, err := loadOpenAPI()
	if err != nil {
		return err
	}
	ref := doc.Components.Schemas[name]
	if ref == nil {
		return errors.New("the file has no schema " + name)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var decoded any
	if err := json.Unmarshal(data, &decoded); err != nil {
		return err
	}
	return ref.Value.VisitJSON(decoded, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
}

// The result of `gatewise simulate --json` for each bundled example (the
// multi-region one under every scenario, with an upload-free synthetic
// profile, as the command line runs it) is a Result as the file says;
// eu-regulated's residency excludes options, so excluded reasons and empty
// token splits are checked too.
func TestOpenAPIResultSchemaTakesRealResults(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"multi-region", "single-provider", "eu-regulated"} {
		spec := loadExample(t, name)
		opts := simulator.Options{Trials: 20, Seed: spec.Simulation.Seed, Workers: 1}
		profile, err := traffic.Synthesize(context.Background(), spec.SyntheticParams(), opts.Seed)
		if err != nil {
			t.Fatal(err)
		}
		res, err := simulator.Run(context.Background(), spec, profile, pricing.Default(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Results) == 0 || len(res.Plans) == 0 {
			t.Fatalf("%s: an empty result", name)
		}
		if err := schemaValue("Result", res); err != nil {
			t.Errorf("%s: the result does not match the Result schema:\n%v", name, err)
		}
		// The architecture, as the API answers it, is an Architecture.
		if err := schemaValue("Architecture", spec); err != nil {
			t.Errorf("%s: the architecture does not match the Architecture schema:\n%v", name, err)
		}
	}
	// A value the schema does not allow is refused: a result whose excluded
	// reason is a number.
	bad := map[string]any{"seed": 1, "trials": 1, "catalog_as_of": "x", "results": []any{map[string]any{"excluded": 3}}, "assumptions": nil, "requests_per_day": 1}
	if schemaValue("Result", bad) == nil {
		t.Error("a result with a numeric excluded passed")
	}
}

// The schemas follow the Go types the server marshals: every JSON field of
// the type is a property of the schema and every property is a field, of
// the same kind, down through the nested types. A field added to
// simulator.Result (or the Spec, a run, an upload's summary) without the
// file fails here.
func TestOpenAPISchemasFollowTheGoTypes(t *testing.T) {
	t.Parallel()
	doc, _, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		schema string
		typ    reflect.Type
	}{
		{"Architecture", reflect.TypeFor[simulator.Spec]()},
		{"SavedArchitecture", reflect.TypeFor[apiArchitecture]()},
		{"RunRequest", reflect.TypeFor[apiRunRequest]()},
		{"Run", reflect.TypeFor[apiRun]()},
		{"Result", reflect.TypeFor[simulator.Result]()},
		{"LogSummary", reflect.TypeFor[traffic.Summary]()},
		{"LogFileSummary", reflect.TypeFor[traffic.FileSummary]()},
		{"LogFinding", reflect.TypeFor[traffic.Finding]()},
		{"Error", reflect.TypeFor[apiError]()},
	} {
		ref := doc.Components.Schemas[c.schema]
		if ref == nil {
			t.Errorf("no schema %s", c.schema)
			continue
		}
		compareSchema(t, c.typ, ref.Value, c.schema, map[reflect.Type]bool{})
	}
}

// jsonFields are a struct's fields as encoding/json writes them, embedded
// structs' fields in their place.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func compareSchema(t *testing.T, typ reflect.Type, s *openapi3.Schema, path string, seen map[reflect.Type]bool) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ == reflect.TypeFor[json.RawMessage]() {
		return // stored JSON sent as it is (a run's result): checked on its own
	}
	if typ == reflect.TypeFor[simulator.Scenario]() {
		// A name, or a name with parameters: the object is the struct.
		for _, alt := range s.OneOf {
			if alt.Value.Type.Includes(openapi3.TypeObject) {
				s = alt.Value
			}
		}
	}
	kind := func(want string) {
		if !s.Type.Includes(want) {
			t.Errorf("%s: the Go type is %s, the schema's type is %v", path, typ, s.Type.Slice())
		}
	}
	switch {
	case typ == reflect.TypeFor[time.Time]():
		kind(openapi3.TypeString)
		if s.Format != "date-time" {
			t.Errorf("%s: a time without format date-time", path)
		}
	case typ.Kind() == reflect.Struct:
		kind(openapi3.TypeObject)
		if seen[typ] {
			return
		}
		seen[typ] = true
		fields := jsonFields(typ)
		for name, ft := range fields {
			p := s.Properties[name]
			if p == nil {
				t.Errorf("%s: the Go type has %q, the schema does not", path, name)
				continue
			}
			compareSchema(t, ft, p.Value, path+"."+name, seen)
		}
		for name := range s.Properties {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s: the schema has %q, the Go type %s does not", path, name, typ)
			}
		}
		for _, name := range s.Required {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s: the schema requires %q, which the Go type %s does not have", path, name, typ)
			}
		}
	case typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array:
		kind(openapi3.TypeArray)
		if s.Items != nil {
			compareSchema(t, typ.Elem(), s.Items.Value, path+"[]", seen)
		}
	case typ.Kind() == reflect.Map:
		kind(openapi3.TypeObject)
		if a := s.AdditionalProperties.Schema; a != nil {
			compareSchema(t, typ.Elem(), a.Value, path+".*", seen)
		} else {
			t.Errorf("%s: a map without additionalProperties", path)
		}
	case typ.Kind() == reflect.String:
		kind(openapi3.TypeString)
	case typ.Kind() == reflect.Bool:
		kind(openapi3.TypeBoolean)
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		kind(openapi3.TypeInteger)
	case typ.Kind() == reflect.Float32 || typ.Kind() == reflect.Float64:
		kind(openapi3.TypeNumber)
	default:
		t.Errorf("%s: no rule for the Go type %s", path, typ)
	}
}
